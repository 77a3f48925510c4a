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
} as const;

/** The order lifecycle of CONTRACT.md. Status only moves forward. */
export const ORDER_STATUSES = ['ACCEPTED', 'REJECTED', 'PUBLISHED', 'COMPLETED', 'FAILED'] as const;
export type OrderStatus = (typeof ORDER_STATUSES)[number];

/**
 * Table keys. `order_id` is unique across clients: the publisher's conditional write makes the
 * first client to use an id its owner (another client reusing it gets 409).
 */
export const TABLE_KEYS = {
  /** orders table: partition key `order_id` (S). */
  orders: { partitionKey: 'order_id' },
  /** billing table: partition key `order_id` (S); one record per order. */
  billing: { partitionKey: 'order_id' },
  /** failed-orders table: partition key `order_id` (S), sort key `failure_id` (S). */
  failedOrders: { partitionKey: 'order_id', sortKey: 'failure_id' },
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
export type ValidationResult =
  { valid: true; order: ValidatedOrder; order_json: string } | { valid: false; reasons: string[] };

/** The SNS message body every subscriber receives (raw delivery). */
export interface OrderPlacedEvent {
  version: 1;
  type: 'OrderPlaced';
  order: ValidatedOrder;
}

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
  /** consumers: a record failed on purpose (FAILURE_INJECTION_RATE). */
  injectedFailures: 'InjectedFailures',
  /** consumers: a record failed and will be retried (then dead-lettered). */
  recordFailures: 'RecordFailures',
  /** DLQ handler: a dead-lettered message was recorded in the failed-orders table. */
  failuresRecorded: 'FailuresRecorded',
  /** DLQ handler: an order was marked FAILED. */
  ordersFailed: 'OrdersFailed',
} as const;

/**
 * An item of the failed-orders table: one per dead-lettered message or failed workflow run
 * (docs/internals.md). Written by the DLQ handler and the workflow, read by the ops tools.
 */
export interface FailedOrderRecord {
  /** The order's id, or `unknown#<message id>` when the body names none. */
  order_id: string;
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
 * The order lifecycle and key design agreed for issues #15 (ids per client) and #16 (nothing lost
 * or contradictory). The orders, billing and failed-orders tables move to these keys; the names
 * here are the contract between the publisher, the workflow, the consumers, the DLQ handler and
 * the reconciler. (Being adopted: see docs/internals.md once the migration lands.)
 */
export const LIFECYCLE = {
  /** Partition key of the orders and billing tables, and of the failed-orders table (sort key `failure_id`). */
  orderKey: 'order_key',
  /** `order_key` = `<client_id>#<order_id>`: `#` is in neither id's alphabet (CONTRACT.md), so it is unambiguous. */
  orderKeySeparator: '#',
  /**
   * Stored status meaning "stored, being published": set by StoreOrder, before the event goes
   * out. Clients see it as ACCEPTED. MarkRejected and MarkFailed apply only before it.
   */
  publishingStatus: 'PUBLISHING',
  /** Sparse GSI of the orders table holding only orders that are not terminal yet. */
  pendingIndex: 'pending-by-due-time',
  /** GSI partition key (S): `p0` .. `p<pendingShards - 1>`, from a hash of `order_key`. REMOVEd on every terminal transition. */
  pendingShard: 'pending_shard',
  /** GSI sort key (N, epoch ms): when the reconciler should look at the order if it is still pending. REMOVEd with the shard. */
  dueAt: 'due_at',
  /** Shards of the pending index, so its writes spread over partitions. */
  pendingShards: 8,
  /** (N, epoch ms) the last StartExecution for the order: a replay restarts a run only when it is stale. */
  startedAt: 'started_at',
  /** (N) runs the reconciler has restarted for the order; after a limit it marks the order FAILED. */
  restartAttempts: 'restart_attempts',
} as const;
