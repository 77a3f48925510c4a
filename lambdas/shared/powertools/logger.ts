import { Logger } from '@aws-lambda-powertools/logger';

/**
 * The one Logger of a function. The service name comes from POWERTOOLS_SERVICE_NAME, the level
 * from POWERTOOLS_LOG_LEVEL (both read by Powertools itself).
 */
export const logger = new Logger({
  serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'order-pipeline',
});
