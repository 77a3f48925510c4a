/**
 * What every fan-out consumer does around its own work: inject failures on request, parse the
 * OrderPlaced event, count and log a failed record before handing it back to the batch processor
 * (which reports it as a partial batch failure, so SQS retries it and finally dead-letters it).
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { SQSRecord } from 'aws-lambda';
import { InjectedFailureError, MalformedEventError } from './errors';
import { maybeInjectFailure, type RandomSource } from './failure-injection';
import { parseOrderPlacedEvent } from './order-event';
import { METRICS, type OrderPlacedEvent } from './runtime-contract';

/** The parts of a consumer that do not depend on what it does. */
export interface ConsumerRuntime {
  /** FAILURE_INJECTION_RATE, 0..1. */
  failureInjectionRate: number;
  random: RandomSource;
  now: () => Date;
  logger: Logger;
  metrics: Metrics;
}

/** A consumer's own work for one event. */
export type OrderEventProcessor = (event: OrderPlacedEvent, record: SQSRecord) => Promise<void>;

/** Builds the record handler a BatchProcessor calls for each SQS record. */
export function orderEventRecordHandler(
  process: OrderEventProcessor,
  { failureInjectionRate, random, logger, metrics }: ConsumerRuntime,
): (record: SQSRecord) => Promise<void> {
  return async (record) => {
    let orderId: string | undefined;
    try {
      maybeInjectFailure(failureInjectionRate, random);
      const event = parseOrderPlacedEvent(record.body);
      orderId = event.order.order_id;
      await process(event, record);
    } catch (error) {
      // Records run concurrently, so the order id goes on each log line rather than the logger.
      const fields = { message_id: record.messageId, order_id: orderId };
      if (error instanceof InjectedFailureError) {
        metrics.addMetric(METRICS.injectedFailures, MetricUnit.Count, 1);
        logger.warn('injected failure', fields);
      } else if (error instanceof MalformedEventError) {
        logger.error('record is not an OrderPlaced event', { ...fields, problem: error.problem });
      } else {
        logger.error('record failed', { ...fields, error: error as Error });
      }
      metrics.addMetric(METRICS.recordFailures, MetricUnit.Count, 1);
      throw error;
    }
  };
}
