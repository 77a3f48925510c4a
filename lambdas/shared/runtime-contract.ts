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
  | { valid: true; order: ValidatedOrder; order_json: string }
  | { valid: false; reasons: string[] };

/** The SNS message body every subscriber receives (raw delivery). */
export interface OrderPlacedEvent {
  version: 1;
  type: 'OrderPlaced';
  order: ValidatedOrder;
}

/** SNS message attributes set on every OrderPlaced message, for subscription filter policies. */
export const EVENT_ATTRIBUTES = ['type', 'market', 'currency'] as const;
