import { Tracer } from '@aws-lambda-powertools/tracer';

/**
 * The one Tracer of a function. Powertools turns tracing off outside Lambda (local stack, tests),
 * so wrapping SDK clients with it is safe everywhere.
 */
export const tracer = new Tracer({
  serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'order-pipeline',
});
