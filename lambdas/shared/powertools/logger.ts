import { Logger } from '@aws-lambda-powertools/logger';
import { powertoolsLevelUnderLambda } from './log-level';

// Under Lambda's JSON log format, Powertools reads its level from AWS_LAMBDA_LOG_LEVEL first:
// give it the stricter of that and POWERTOOLS_LOG_LEVEL ({@link powertoolsLevelUnderLambda}).
// Lambda's own filter comes from the function's configuration, and the runtime read the variable
// before this module loaded; after it, only Powertools reads it (Logger, and the batch processor's
// debug switch). The level is then a floor: setLogLevel and log sampling cannot go below it.
const underLambda = powertoolsLevelUnderLambda(process.env);
if (underLambda) process.env.AWS_LAMBDA_LOG_LEVEL = underLambda;

/**
 * The one Logger of a function. The service name comes from POWERTOOLS_SERVICE_NAME, the level
 * from POWERTOOLS_LOG_LEVEL (both read by Powertools itself), never more verbose than Lambda's
 * application filter.
 */
export const logger = new Logger({
  serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'order-pipeline',
});
