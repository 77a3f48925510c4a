import type { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import type { Tracer } from '@aws-lambda-powertools/tracer';
import type { Context } from 'aws-lambda';

/** The tools a handler uses; metrics and tracer are optional so tiny functions can skip them. */
export interface Instrumentation {
  logger: Logger;
  metrics?: Metrics;
  tracer?: Tracer;
}

/**
 * Wraps a handler the same way in every function (what Powertools' Middy middlewares do, without
 * Middy): Lambda context in the logs, a cold-start metric and annotation, a handler subsegment,
 * metrics flushed and per-invocation log keys cleared at the end, even when the handler throws.
 */
export function instrumentHandler<TEvent, TResult>(
  handler: (event: TEvent, context: Context) => Promise<TResult>,
  { logger, metrics, tracer }: Instrumentation,
): (event: TEvent, context: Context) => Promise<TResult> {
  return async (event, context) => {
    logger.addContext(context);
    metrics?.captureColdStartMetric();
    const parentSegment = tracer?.isTracingEnabled() ? tracer.getSegment() : undefined;
    const handlerSegment = parentSegment?.addNewSubsegment(`## ${process.env._HANDLER ?? 'handler'}`);
    if (tracer && handlerSegment) {
      tracer.setSegment(handlerSegment);
      tracer.annotateColdStart();
      tracer.addServiceNameAnnotation();
    }
    try {
      return await handler(event, context);
    } catch (error) {
      if (tracer && handlerSegment) tracer.addErrorAsMetadata(error as Error);
      throw error;
    } finally {
      handlerSegment?.close();
      if (tracer && parentSegment) tracer.setSegment(parentSegment);
      // A health check adds no metric; flushing nothing would log a warning per request.
      if (metrics?.hasStoredMetrics()) metrics.publishStoredMetrics();
      logger.resetKeys();
    }
  };
}
