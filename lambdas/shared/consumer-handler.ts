/** The one Lambda entry point of a fan-out consumer, shared by every subscriber's handler. */
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { readRateEnv } from './config';
import { orderEventRecordHandler, type ConsumerRuntime, type OrderEventProcessor } from './consumer';
import { instrumentHandler } from './powertools/instrument';
import { logger } from './powertools/logger';
import { metrics } from './powertools/metrics';
import { tracer } from './powertools/tracer';
import { ENV } from './runtime-contract';

/**
 * Builds a consumer handler at cold start: reads FAILURE_INJECTION_RATE, tags log lines with
 * CONSUMER_NAME (several subscribers may share one handler's code), and runs each SQS batch
 * through Powertools' BatchProcessor with partial batch failures.
 *
 * @param defaultName the consumer's name in logs when CONSUMER_NAME is not set
 * @param processorFor the consumer's own work, given the shared runtime
 */
export function orderEventConsumer(
  defaultName: string,
  processorFor: (runtime: ConsumerRuntime) => OrderEventProcessor,
): (event: SQSEvent, context: Context) => Promise<SQSBatchResponse> {
  logger.appendPersistentKeys({ consumer: process.env[ENV.consumerName] ?? defaultName });
  const runtime: ConsumerRuntime = {
    failureInjectionRate: readRateEnv(process.env, ENV.failureInjectionRate),
    random: Math.random,
    now: () => new Date(),
    logger,
    metrics,
  };
  const recordHandler = orderEventRecordHandler(processorFor(runtime), runtime);
  const processor = new BatchProcessor(EventType.SQS);
  return instrumentHandler(
    (event: SQSEvent): Promise<SQSBatchResponse> =>
      // Every failure, even of the whole batch, is reported per record rather than thrown.
      processPartialResponse(event, recordHandler, processor, { throwOnFullBatchFailure: false }),
    { logger, metrics, tracer },
  );
}
