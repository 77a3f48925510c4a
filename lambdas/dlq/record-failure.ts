/**
 * DLQ handler core: every dead-lettered message is written to the failed-orders table (even one
 * that is not an order event, so nothing is lost) and its order, when known, is marked FAILED.
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { SQSRecord } from 'aws-lambda';
import { MalformedEventError } from '../shared/errors';
import { parseOrderPlacedEvent } from '../shared/order-event';
import { ORDER_ID_PATTERN } from '../shared/order-schema';
import { CLIENT_ID_PATTERN } from '../shared/signing';
import type { OrderProgress } from '../shared/order-status';
import { putIfAbsent } from '../shared/put-if-absent';
import { METRICS, orderKey, type FailedOrderRecord } from '../shared/runtime-contract';

/** An item of the failed-orders table. */
export type FailureRecord = FailedOrderRecord;

/** The failed-orders table. Throws DependencyUnavailableError. */
export interface FailureLog {
  /** Writes the record unless it exists; returns whether it was written now. */
  record(failure: FailureRecord): Promise<boolean>;
}

/** {@link FailureLog} on DynamoDB. */
export class DynamoFailureLog implements FailureLog {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  record(failure: FailureRecord): Promise<boolean> {
    // False: the same message was recorded by an earlier delivery.
    return putIfAbsent(this.client, this.tableName, { ...failure }, 'failure_id', 'failed-orders table');
  }
}

/** The queue name of an SQS ARN (`arn:aws:sqs:region:account:name`). */
export function queueNameFromArn(arn: string | undefined): string | undefined {
  const name = arn?.split(':').at(-1);
  return name === undefined || name === '' ? undefined : name;
}

/** The order (client and id) a body names, even when the rest of the event is broken. */
function orderOf(body: string): { order?: { clientId: string; orderId: string }; problem?: string } {
  try {
    const { order } = parseOrderPlacedEvent(body);
    return { order: { clientId: order.client_id, orderId: order.order_id } };
  } catch (error) {
    const problem = error instanceof MalformedEventError ? error.message : String(error);
    try {
      const candidate = (JSON.parse(body) as { order?: { order_id?: unknown; client_id?: unknown } } | null)
        ?.order;
      const { order_id: orderId, client_id: clientId } = candidate ?? {};
      if (
        typeof orderId === 'string' &&
        ORDER_ID_PATTERN.test(orderId) &&
        typeof clientId === 'string' &&
        CLIENT_ID_PATTERN.test(clientId)
      )
        return { order: { clientId, orderId }, problem };
    } catch {
      // Not JSON at all: the problem above says so.
    }
    return { problem };
  }
}

/** The `order_key` of a failure whose message names no order: no order key starts with `#`. */
export function unknownOrderKey(messageId: string): string {
  return `#unknown#${messageId}`;
}

/** Builds the failure record of a dead-lettered message. Pure. */
export function describeDeadLetter(
  record: SQSRecord,
  now: Date,
): { failure: FailureRecord; knownOrder: boolean } {
  const dlqName = queueNameFromArn(record.eventSourceARN) ?? 'unknown-queue';
  const receiveCount = Number.parseInt(record.attributes.ApproximateReceiveCount, 10);
  const origin = queueNameFromArn(record.attributes.DeadLetterQueueSourceArn);
  const { order, problem } = orderOf(record.body);
  const exhausted = `not processed after ${Number.isNaN(receiveCount) ? '?' : receiveCount} receive(s)${origin ? ` from ${origin}` : ''}`;
  return {
    knownOrder: order !== undefined,
    failure: {
      order_key: order ? orderKey(order.clientId, order.orderId) : unknownOrderKey(record.messageId),
      ...(order ? { order_id: order.orderId, client_id: order.clientId } : {}),
      failure_id: `${dlqName}#${record.messageId}`,
      source: dlqName,
      receive_count: Number.isNaN(receiveCount) ? 0 : receiveCount,
      error: problem ?? exhausted,
      body: record.body,
      failed_at: now.toISOString(),
    },
  };
}

/** What the DLQ handler needs. */
export interface DeadLetterDependencies {
  failures: FailureLog;
  progress: OrderProgress;
  now: () => Date;
  logger: Logger;
  metrics: Metrics;
}

/**
 * Records one dead-lettered message and marks its order FAILED. Throws (so the record is reported
 * as a batch item failure and retried) when a write fails; never drops a message silently.
 */
export function recordDeadLetter(deps: DeadLetterDependencies): (record: SQSRecord) => Promise<void> {
  return async (record) => {
    const now = deps.now();
    const { failure, knownOrder } = describeDeadLetter(record, now);
    const fields = {
      order_key: failure.order_key,
      failure_id: failure.failure_id,
      message_id: record.messageId,
    };
    try {
      if (await deps.failures.record(failure))
        deps.metrics.addMetric(METRICS.failuresRecorded, MetricUnit.Count, 1);
      if (knownOrder && (await deps.progress.markFailed(failure.order_key, now))) {
        deps.metrics.addMetric(METRICS.ordersFailed, MetricUnit.Count, 1);
      }
    } catch (error) {
      deps.logger.error('could not record a dead-lettered message', { ...fields, error: error as Error });
      throw error;
    }
    deps.logger.warn('dead-lettered message recorded', { ...fields, error: failure.error });
  };
}
