/**
 * What the CDK app and the handlers must agree on: environment variable names, table keys and
 * attributes, the workflow's input and output, and the fan-out event. Both `infra/` and `lambdas/`
 * import from here, so a name changes in one place.
 */

/** Environment variables the CDK app sets and the handlers read at cold start. */
export const ENV = {
  ordersTable: 'ORDERS_TABLE_NAME',
  billingTable: 'BILLING_TABLE_NAME',
  failedOrdersTable: 'FAILED_ORDERS_TABLE_NAME',
  archiveBucket: 'ARCHIVE_BUCKET_NAME',
  stateMachineArn: 'STATE_MACHINE_ARN',
  clientSecretsId: 'CLIENT_SECRETS_ID',
  secretsCacheSeconds: 'CLIENT_SECRETS_CACHE_SECONDS',
  orderTotalLimit: 'ORDER_TOTAL_LIMIT',
  marketCurrencies: 'MARKET_CURRENCIES',
  failureInjectionRate: 'FAILURE_INJECTION_RATE',
  consumerName: 'CONSUMER_NAME',
  orderIdKeySecretId: 'ORDER_ID_KEY_SECRET_ID',
  restartAfterSeconds: 'RESTART_AFTER_SECONDS',
  completionRules: 'COMPLETION_RULES',
  /** reconciler: an ACCEPTED order whose last start is older is stuck (no run is alive). */
  acceptedDeadlineSeconds: 'ACCEPTED_DEADLINE_SECONDS',
  /**
   * reconciler: a PUBLISHED order whose last start is older has outlived its consumers' retries and
   * redrives: its event never arrived (a run that died between StoreOrder and PublishOrder, a lost
   * delivery), so it is published again.
   */
  publishedDeadlineSeconds: 'PUBLISHED_DEADLINE_SECONDS',
  /** reconciler: restarts per order before it is marked FAILED. */
  maxRestarts: 'MAX_RESTARTS',
  /** reconciler: most orders one sweep handles (bounded work per invocation). */
  sweepLimit: 'SWEEP_LIMIT',
} as const;

/**
 * How long the publisher keeps each secret it reads (Powertools' getSecret maxAge): the client
 * secrets for CLIENT_SECRETS_CACHE_SECONDS, or this default; the order-id key, which never
 * changes (a change would give replays new ids), once per sandbox a day. The cost model prices
 * the reads from these.
 */
export const SECRETS_CACHE = {
  clientSecretsDefaultSeconds: 30,
  orderIdKeySeconds: 24 * 60 * 60,
} as const;

/**
 * The order lifecycle (CONTRACT.md). Status only moves forward. `PUBLISHED` is set by the
 * workflow's one write before it publishes (StoreOrder): "stored, its event is out or going out",
 * so no writer that decides before publishing (MarkRejected, MarkFailed) applies to it any more.
 */
export const ORDER_STATUSES = ['ACCEPTED', 'REJECTED', 'PUBLISHED', 'COMPLETED', 'FAILED'] as const;
export type OrderStatus = (typeof ORDER_STATUSES)[number];

/** Separator of {@link orderKey}: in neither id's alphabet (CONTRACT.md), so the key is unambiguous. */
export const ORDER_KEY_SEPARATOR = '#';

/**
 * The key of an order in every table: `<client_id>#<order_id>`. Order ids are per client
 * (CONTRACT.md v1.1), so two clients' orders with one `order_id` never meet.
 */
export function orderKey(clientId: string, orderId: string): string {
  return `${clientId}${ORDER_KEY_SEPARATOR}${orderId}`;
}

/**
 * Table keys: every table is keyed by {@link orderKey}; items also keep `order_id` and
 * `client_id` as plain attributes.
 */
export const TABLE_KEYS = {
  /** orders table: partition key `order_key` (S). */
  orders: { partitionKey: 'order_key' },
  /** billing table: partition key `order_key` (S); one record per order. */
  billing: { partitionKey: 'order_key' },
  /** failed-orders table: partition key `order_key` (S), sort key `failure_id` (S). */
  failedOrders: { partitionKey: 'order_key', sortKey: 'failure_id' },
} as const;

/** A line of an order, as the client sent it. */
export interface OrderItem {
  product_id: string;
  quantity: number;
  unit_price: number;
}

/** The order as it enters the workflow: the client's body plus what the publisher adds. */
export interface SubmittedOrder {
  order_id: string;
  client_id: string;
  customer_id: string;
  market: string;
  currency: string;
  items: OrderItem[];
  created_at: string;
  /**
   * SHA-256 hex of the request body: the billing record and the archive object keep it, so a
   * record made for another body of the same order id is an error, not "already done".
   */
  body_hash: string;
}

/** The order after business validation: what subscribers receive. */
export interface ValidatedOrder extends SubmittedOrder {
  total_amount: number;
}

/** Input of a workflow execution, built by the publisher. */
export interface WorkflowInput {
  order: SubmittedOrder;
}

/** What the validate task returns (the workflow stores it at `$.validation`). */
export type ValidationResult = { valid: true; order: ValidatedOrder } | { valid: false; reasons: string[] };

/** The SNS message body every subscriber receives (raw delivery). */
export interface OrderPlacedEvent {
  version: 1;
  type: 'OrderPlaced';
  order: ValidatedOrder;
}

/**
 * SQS message attribute the operator's redrive from the failed-orders table sets (value
 * `failed-order`): the one way a FAILED order's side effect is still made (its status stays FAILED).
 * The workflow's events never carry it.
 */
export const OPERATOR_REDRIVE = { attribute: 'operator-redrive', value: 'failed-order' } as const;

/** SNS message attributes set on every OrderPlaced message, for subscription filter policies. */
export const EVENT_ATTRIBUTES = ['type', 'market', 'currency'] as const;

/**
 * Handler entry points (relative to the repository root); each exports `handler`. The consumers
 * are the subscribers of the fan-out.
 */
export const HANDLER_ENTRIES = {
  publisher: 'lambdas/publisher/handler.ts',
  validate: 'lambdas/validate/handler.ts',
  billing: 'lambdas/billing/handler.ts',
  archive: 'lambdas/archive/handler.ts',
  dlq: 'lambdas/dlq/handler.ts',
  reconciler: 'lambdas/reconciler/handler.ts',
} as const;

/** Namespace of the custom metrics when POWERTOOLS_METRICS_NAMESPACE is not set. */
export const DEFAULT_METRICS_NAMESPACE = 'OrderPipeline';

/**
 * Custom EMF metrics (unit Count, dimension `service` = POWERTOOLS_SERVICE_NAME), for alarms and
 * the dashboard.
 */
export const METRICS = {
  /** publisher: a new order was accepted (202, first time). */
  ordersAccepted: 'OrdersAccepted',
  /** publisher: a verbatim replay answered 202 with the existing order. */
  ordersReplayed: 'OrdersReplayed',
  /** publisher: 401. */
  authFailures: 'AuthFailures',
  /** publisher: 400. */
  invalidRequests: 'InvalidRequests',
  /** publisher: 409. */
  orderConflicts: 'OrderConflicts',
  /** any function: an AWS dependency failed (publisher answered 503). */
  dependencyFailures: 'DependencyFailures',
  /** publisher: an unexpected error (a bug) was answered with 503 instead of escaping. */
  unhandledErrors: 'UnhandledErrors',
  /** validate: the order passed the business rules. */
  ordersValidated: 'OrdersValidated',
  /** validate: the order broke a business rule and will be REJECTED. */
  ordersRejected: 'OrdersRejected',
  /** billing consumer: a billing record was written (not counted again on redelivery). */
  ordersBilled: 'OrdersBilled',
  /** archive consumer: the order object was written. */
  ordersArchived: 'OrdersArchived',
  /** consumers: this record's update completed the order. */
  ordersCompleted: 'OrdersCompleted',
  /** consumers: the order is FAILED or REJECTED, so its side effect was not made. */
  sideEffectsNotWanted: 'SideEffectsNotWanted',
  /** consumers: a record failed on purpose (FAILURE_INJECTION_RATE). */
  injectedFailures: 'InjectedFailures',
  /** consumers: a record failed and will be retried (then dead-lettered). */
  recordFailures: 'RecordFailures',
  /** DLQ handler: a dead-lettered message was recorded in the failed-orders table. */
  failuresRecorded: 'FailuresRecorded',
  /** DLQ handler and reconciler: an order was marked FAILED. */
  ordersFailed: 'OrdersFailed',
  /** reconciler: an order found non-terminal past its deadline (restarted or failed). */
  stuckOrders: 'StuckOrders',
  /** reconciler: a stuck order's run was started again. */
  ordersRestarted: 'OrdersRestarted',
} as const;

/**
 * An item of the failed-orders table: one per dead-lettered message or failed workflow run
 * (docs/internals.md). Written by the DLQ handler and the workflow, read by the ops tools.
 */
export interface FailedOrderRecord {
  /** {@link orderKey} of the order, or `#unknown#<message id>` when the body names none. */
  order_key: string;
  /** The order's id and client, when the body names them. */
  order_id?: string;
  client_id?: string;
  /** `<dlq name>#<SQS message id>`, or `workflow#<execution name>`. */
  failure_id: string;
  /** The DLQ the message was read from, or `workflow`. */
  source: string;
  receive_count: number;
  error: string;
  /** The message body (or workflow input) exactly as received. */
  body: string;
  failed_at: string;
}

/**
 * The orders-table attributes of the reconciler (lambdas/reconciler): a sparse index of the orders
 * that are not terminal yet, ordered by their last start, and the publisher's start claim.
 */
export const LIFECYCLE = {
  /** KEYS_ONLY GSI of the orders table: partition `pending_shard`, sort `started_at`. */
  pendingIndex: 'pending-by-start',
  /** (S) `p0` .. `p<pendingShards - 1>` from the order key; REMOVEd by every terminal transition. */
  pendingShard: 'pending_shard',
  /** Shards of the pending index, so its writes and the reconciler's queries spread out. */
  pendingShards: 8,
  /** (N, epoch ms) the last StartExecution claimed for the order: a replay restarts a run only when it is stale. */
  startedAt: 'started_at',
  /** (N) runs the reconciler has restarted; at its limit it marks the order FAILED instead. */
  restartAttempts: 'restart_attempts',
  /** (S) the workflow input's order as JSON, so the reconciler can start a run again. */
  submittedJson: 'submitted_json',
} as const;

/** The pending-index shard of an order key: a stable hash, so an order always lands in one shard. */
export function pendingShard(key: string): string {
  let hash = 0;
  for (let index = 0; index < key.length; index++) hash = (hash * 31 + key.charCodeAt(index)) >>> 0;
  return `p${hash % LIFECYCLE.pendingShards}`;
}
