/**
 * The reconciler's sweep: finds orders still not terminal past their deadline, through the sparse
 * pending index (never a table scan), and finishes each: restarts its run (every workflow step is
 * idempotent) or, after `maxRestarts`, marks it FAILED with a failed-orders row. Bounded: one
 * sweep handles at most `sweepLimit` orders; the next sweep takes the rest.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, QueryCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { DependencyUnavailableError } from '../shared/errors';
import { COMPLETION_FLAG_NAMES } from '../shared/order-status';
import { putIfAbsent } from '../shared/put-if-absent';
import {
  LIFECYCLE,
  METRICS,
  type FailedOrderRecord,
  type OrderStatus,
  type SubmittedOrder,
} from '../shared/runtime-contract';

/** How long each kind of pending order may stay so, and how much one sweep does. */
export interface ReconcilerSettings {
  /** ACCEPTED with its last start older than this: no run is alive any more. */
  acceptedDeadlineMs: number;
  /**
   * PUBLISHED with its last start older than this: past every consumer retry and redrive, so its
   * event never arrived (its run died before PublishOrder, or a delivery was lost): publish again.
   */
  publishedDeadlineMs: number;
  /** Restarts per order; the next time it is stuck it is marked FAILED. */
  maxRestarts: number;
  /** Most orders one sweep handles. */
  sweepLimit: number;
}

/** A stuck order, as the reconciler reads it. */
export interface PendingOrder {
  order_key: string;
  order_id: string;
  client_id: string;
  status: OrderStatus;
  started_at: number;
  restart_attempts: number;
  submitted_json?: string;
  /** Whether a consumer has recorded its side effect (billed or archived): its event arrived. */
  side_effects_started?: boolean;
}

/** What the reconciler needs. Every method throws DependencyUnavailableError. */
export interface ReconcilerDependencies {
  /** Order keys of the pending index whose last start is older than `before`, at most `limit`. */
  stale(before: number, limit: number): Promise<string[]>;
  /** The order (strongly consistent), or undefined. */
  read(key: string): Promise<PendingOrder | undefined>;
  /**
   * Claims a restart: `started_at` = now and one more attempt, only if the order is still as read
   * (same status and `started_at`), so a replay's claim or another sweep wins without a second run.
   */
  claimRestart(order: PendingOrder, now: number): Promise<boolean>;
  /** Marks the order FAILED if it is still as read; returns whether it did. */
  markFailed(order: PendingOrder, now: Date): Promise<boolean>;
  recordFailure(failure: FailedOrderRecord): Promise<void>;
  /** Starts a run of the order; `attempt` makes the execution name of a restart its own. */
  start(order: SubmittedOrder, attempt: number): Promise<void>;
  now: () => Date;
  settings: ReconcilerSettings;
  logger: Logger;
  metrics: Metrics;
}

/** What one sweep did, for the log line and tests. */
export interface SweepResult {
  examined: number;
  restarted: string[];
  failed: string[];
}

/** Why a pending order is stuck, or undefined when it is not (yet). */
function stuckReason(order: PendingOrder, now: number, settings: ReconcilerSettings): string | undefined {
  const age = now - order.started_at;
  if (order.status === 'ACCEPTED' && age > settings.acceptedDeadlineMs)
    return `${order.status} with no live run ${Math.round(age / 1000)} s after its last start`;
  if (order.status === 'PUBLISHED' && age > settings.publishedDeadlineMs)
    return `PUBLISHED without its side effects ${Math.round(age / 1000)} s after its last start`;
  return undefined;
}

/** One sweep over the pending index. */
export async function sweep(deps: ReconcilerDependencies): Promise<SweepResult> {
  const { settings } = deps;
  const now = deps.now();
  const nowMs = now.getTime();
  const before = nowMs - Math.min(settings.acceptedDeadlineMs, settings.publishedDeadlineMs);
  const keys = await deps.stale(before, settings.sweepLimit);
  const result: SweepResult = { examined: keys.length, restarted: [], failed: [] };
  const errors: Error[] = [];
  for (const key of keys) {
    try {
      await reconcileOne(deps, key, now, result);
    } catch (error) {
      // One order that cannot be finished now must not hold up the others: count it, go on, and
      // fail the sweep at the end (Lambda Errors); the next sweep tries it again.
      deps.metrics.addMetric(METRICS.dependencyFailures, MetricUnit.Count, 1);
      deps.logger.error('could not reconcile an order', { order_key: key, error: error as Error });
      errors.push(error as Error);
    }
  }
  if (errors.length > 0) {
    throw new DependencyUnavailableError(`reconciler (${errors.length} of ${keys.length} orders)`, {
      cause: errors[0],
    });
  }
  return result;
}

/** Finishes one pending order if it is stuck. */
async function reconcileOne(
  deps: ReconcilerDependencies,
  key: string,
  now: Date,
  result: SweepResult,
): Promise<void> {
  const { settings } = deps;
  const nowMs = now.getTime();
  const order = await deps.read(key);
  const reason = order && stuckReason(order, nowMs, settings);
  if (order === undefined || reason === undefined) return;
  deps.metrics.addMetric(METRICS.stuckOrders, MetricUnit.Count, 1);
  // A PUBLISHED order is restarted too: StoreOrder marks it before PublishOrder, so its run may
  // have died before its event went out; a second event is harmless (the consumers are idempotent).
  // Not once a consumer has recorded its side effect: the event arrived, and the missing consumer
  // is stalled or its delivery lost; another copy would only lengthen a backlog. It fails, as an
  // order past every redrive.
  const restartable =
    order.submitted_json !== undefined && !(order.status === 'PUBLISHED' && order.side_effects_started);
  if (restartable && order.restart_attempts < settings.maxRestarts) {
    if (!(await deps.claimRestart(order, nowMs))) return;
    const attempt = order.restart_attempts + 1;
    await deps.start(JSON.parse(order.submitted_json ?? '{}') as SubmittedOrder, attempt);
    deps.metrics.addMetric(METRICS.ordersRestarted, MetricUnit.Count, 1);
    deps.logger.warn('stuck order restarted', { order_key: key, reason, attempt });
    result.restarted.push(key);
    return;
  }
  const error = restartable ? `${reason}; not finished after ${order.restart_attempts} restart(s)` : reason;
  // The row first: a FAILED order always has its reason recorded (a retry of the sweep redoes both).
  await deps.recordFailure({
    order_key: key,
    order_id: order.order_id,
    client_id: order.client_id,
    failure_id: `reconciler#${order.status}#${order.started_at}`,
    source: 'reconciler',
    receive_count: order.restart_attempts,
    error,
    body: order.submitted_json ?? '',
    failed_at: now.toISOString(),
  });
  if (await deps.markFailed(order, now)) {
    deps.metrics.addMetric(METRICS.ordersFailed, MetricUnit.Count, 1);
    deps.logger.error('stuck order marked FAILED', { order_key: key, reason: error });
    result.failed.push(key);
  }
}

/** The orders table's side of {@link ReconcilerDependencies}, on DynamoDB. */
export class DynamoPendingOrders implements Pick<
  ReconcilerDependencies,
  'stale' | 'read' | 'claimRestart' | 'markFailed' | 'recordFailure'
> {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly ordersTable: string,
    private readonly failedOrdersTable: string,
  ) {}

  async stale(before: number, limit: number): Promise<string[]> {
    const keys: string[] = [];
    // Every shard, oldest first, each up to what is left of the limit.
    for (let shard = 0; shard < LIFECYCLE.pendingShards && keys.length < limit; shard++) {
      const page = await this.send('orders table (pending index)', () =>
        this.client.send(
          new QueryCommand({
            TableName: this.ordersTable,
            IndexName: LIFECYCLE.pendingIndex,
            KeyConditionExpression: '#shard = :shard AND #started < :before',
            ExpressionAttributeNames: { '#shard': LIFECYCLE.pendingShard, '#started': LIFECYCLE.startedAt },
            ExpressionAttributeValues: { ':shard': `p${shard}`, ':before': before },
            Limit: limit - keys.length,
          }),
        ),
      );
      keys.push(...(page.Items ?? []).map((item) => String(item.order_key)));
    }
    return keys;
  }

  async read(key: string): Promise<PendingOrder | undefined> {
    const result = await this.send('orders table', () =>
      this.client.send(
        new GetCommand({ TableName: this.ordersTable, Key: { order_key: key }, ConsistentRead: true }),
      ),
    );
    const item = result.Item;
    if (item === undefined) return undefined;
    return {
      order_key: key,
      order_id: String(item.order_id),
      client_id: String(item.client_id),
      status: item.status as OrderStatus,
      started_at: Number(item[LIFECYCLE.startedAt] ?? 0),
      restart_attempts: Number(item[LIFECYCLE.restartAttempts] ?? 0),
      submitted_json:
        typeof item[LIFECYCLE.submittedJson] === 'string' ? String(item[LIFECYCLE.submittedJson]) : undefined,
      side_effects_started: COMPLETION_FLAG_NAMES.some((flag) => item[flag] === true),
    };
  }

  claimRestart(order: PendingOrder, now: number): Promise<boolean> {
    return this.conditional({
      Key: { order_key: order.order_key },
      UpdateExpression: 'SET #started = :now, #attempts = :attempt',
      ConditionExpression: '#status = :status AND #started = :seen',
      ExpressionAttributeNames: {
        '#status': 'status',
        '#started': LIFECYCLE.startedAt,
        '#attempts': LIFECYCLE.restartAttempts,
      },
      ExpressionAttributeValues: {
        ':now': now,
        ':seen': order.started_at,
        ':status': order.status,
        ':attempt': order.restart_attempts + 1,
      },
    });
  }

  markFailed(order: PendingOrder, now: Date): Promise<boolean> {
    return this.conditional({
      Key: { order_key: order.order_key },
      UpdateExpression: 'SET #status = :failed, updated_at = :now REMOVE #shard',
      ConditionExpression: '#status = :status AND #started = :seen',
      ExpressionAttributeNames: {
        '#status': 'status',
        '#started': LIFECYCLE.startedAt,
        '#shard': LIFECYCLE.pendingShard,
      },
      ExpressionAttributeValues: {
        ':failed': 'FAILED',
        ':now': now.toISOString(),
        ':seen': order.started_at,
        ':status': order.status,
      },
    });
  }

  async recordFailure(failure: FailedOrderRecord): Promise<void> {
    await putIfAbsent(
      this.client,
      this.failedOrdersTable,
      { ...failure },
      'failure_id',
      'failed-orders table',
    );
  }

  private async conditional(
    input: Omit<ConstructorParameters<typeof UpdateCommand>[0], 'TableName'>,
  ): Promise<boolean> {
    try {
      await this.client.send(new UpdateCommand({ TableName: this.ordersTable, ...input }));
      return true;
    } catch (error) {
      // Moved on since it was read (a run finished it, a replay claimed it): not ours any more.
      if (error instanceof ConditionalCheckFailedException) return false;
      throw new DependencyUnavailableError('orders table', { cause: error });
    }
  }

  private async send<T>(what: string, call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (error) {
      throw new DependencyUnavailableError(what, { cause: error });
    }
  }
}
