/** Test doubles and builders shared by the Lambda tests. Not bundled into any function. */
import { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import type { ALBEvent, SQSRecord } from 'aws-lambda';
import type { HttpRequest } from '../shared/alb';
import type { CompletionFlag, EventOrder, FlagOutcome, OrderProgress } from '../shared/order-status';
import {
  orderKey,
  type OrderPlacedEvent,
  type OrderStatus,
  type SubmittedOrder,
  type ValidatedOrder,
} from '../shared/runtime-contract';
import { signRequest } from '../shared/signing';
import type { AcceptedOrder, OrderRecord, OrderRepository } from '../publisher/order-store';
import type { WorkflowStarter } from '../shared/workflow-starter';

/** A logger that prints nothing. */
export function silentLogger(): Logger {
  return new Logger({ serviceName: 'test', logLevel: 'SILENT' });
}

/** A Metrics stand-in that counts what was added, by name. */
export function recordingMetrics(): { metrics: Metrics; count: (name: string) => number } {
  const counts = new Map<string, number>();
  const metrics = {
    addMetric: (name: string, _unit: unknown, value: number) =>
      counts.set(name, (counts.get(name) ?? 0) + value),
  } as unknown as Metrics;
  return { metrics, count: (name) => counts.get(name) ?? 0 };
}

/** A valid POST /orders body object. */
export function orderBody(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    customer_id: 'cust-1',
    market: 'us',
    currency: 'USD',
    items: [{ product_id: 'sku-1', quantity: 2, unit_price: 1999 }],
    ...overrides,
  };
}

export const NOW = new Date('2026-01-02T03:04:05.000Z');
export const NOW_SECONDS = Math.floor(NOW.getTime() / 1000);

/** A request signed the way a client signs it. */
export function signedRequest({
  clientId = 'client-a',
  secret = 'secret-a',
  method = 'POST',
  path = '/orders',
  body = JSON.stringify(orderBody()),
  contentType = 'application/json',
  timestamp = NOW_SECONDS,
}: {
  clientId?: string;
  secret?: string;
  method?: string;
  path?: string;
  body?: string | Buffer;
  /** null sends no content-type header. */
  contentType?: string | null;
  timestamp?: number;
} = {}): HttpRequest {
  const bytes = Buffer.isBuffer(body) ? body : Buffer.from(body, 'utf8');
  const signature = signRequest({ secret, clientId, timestamp, method, path, body: bytes });
  const headers: Record<string, string> = {
    'x-client-id': signature['X-Client-Id'],
    'x-timestamp': signature['X-Timestamp'],
    'x-signature': signature['X-Signature'],
  };
  if (contentType !== null) headers['content-type'] = contentType;
  return { method, path, headers, query: {}, body: bytes };
}

/** An orders table in memory, with switches to make each call fail. */
export class InMemoryOrderRepository implements OrderRepository {
  readonly items = new Map<string, OrderRecord>();
  failOn: { create?: Error; get?: Error; claim?: Error; release?: Error } = {};

  async createAccepted(order: AcceptedOrder): Promise<boolean> {
    if (this.failOn.create) throw this.failOn.create;
    if (this.items.has(order.order_key)) return false;
    this.items.set(order.order_key, {
      ...order,
      status: 'ACCEPTED',
      reasons: [],
      billed: false,
      archived: false,
      updated_at: order.created_at,
    });
    return true;
  }

  async get(key: string): Promise<OrderRecord | undefined> {
    if (this.failOn.get) throw this.failOn.get;
    return this.items.get(key);
  }

  async claimStart(key: string, bodyHash: string, now: number, staleBefore: number): Promise<boolean> {
    if (this.failOn.claim) throw this.failOn.claim;
    const item = this.items.get(key);
    if (!item || item.status !== 'ACCEPTED' || item.body_hash !== bodyHash) return false;
    if (item.started_at >= staleBefore) return false;
    this.items.set(key, { ...item, started_at: now });
    return true;
  }

  async releaseStart(key: string, claimedAt: number, releasedTo: number): Promise<void> {
    if (this.failOn.release) throw this.failOn.release;
    const item = this.items.get(key);
    if (item?.started_at === claimedAt) this.items.set(key, { ...item, started_at: releasedTo });
  }

  /** The item of a client's order. */
  order(clientId: string, orderId: string): OrderRecord | undefined {
    return this.items.get(orderKey(clientId, orderId));
  }

  setStatus(key: string, status: OrderStatus): void {
    const item = this.items.get(key);
    if (item) this.items.set(key, { ...item, status });
  }
}

/** A workflow that records what it was asked to start. */
export class RecordingWorkflow implements WorkflowStarter {
  readonly started: SubmittedOrder[] = [];
  failWith: Error | undefined;

  async start(order: SubmittedOrder): Promise<void> {
    if (this.failWith) throw this.failWith;
    this.started.push(order);
  }
}

/**
 * Order progress in memory: flags and statuses per order key, as the DynamoDB version keeps them
 * (both flags complete an order; a FAILED order's flags are not wanted).
 */
export class InMemoryOrderProgress implements OrderProgress {
  readonly flags = new Map<string, Set<CompletionFlag>>();
  readonly failed: string[] = [];
  failWith: Error | undefined;

  async markFlag(
    order: EventOrder,
    flag: CompletionFlag,
    _now?: Date,
    { operatorRedrive = false } = {},
  ): Promise<FlagOutcome> {
    if (this.failWith) throw this.failWith;
    const key = orderKey(order.client_id, order.order_id);
    const failed = this.failed.includes(key);
    const flags = this.flags.get(key) ?? new Set<CompletionFlag>();
    if (failed && !operatorRedrive)
      return { kind: 'not-wanted', status: 'FAILED', ...(flags.has(flag) ? { flagSet: true as const } : {}) };
    const before = flags.size;
    flags.add(flag);
    this.flags.set(key, flags);
    // An operator's redrive records the side effect; the order stays FAILED.
    return { kind: 'recorded', completed: !failed && before < 2 && flags.size === 2 };
  }

  async markFailed(key: string): Promise<boolean> {
    if (this.failWith) throw this.failWith;
    if (this.failed.includes(key)) return false;
    this.failed.push(key);
    return true;
  }

  async hasFlag(order: EventOrder, flag: CompletionFlag): Promise<boolean> {
    if (this.failWith) throw this.failWith;
    return this.flags.get(orderKey(order.client_id, order.order_id))?.has(flag) ?? false;
  }
}

/** SHA-256 hex of the body of {@link validatedOrder} (any 64 hex digits do for a consumer). */
export const BODY_HASH = 'a'.repeat(64);

/** A validated order as the workflow publishes it. */
export function validatedOrder(overrides: Partial<ValidatedOrder> = {}): ValidatedOrder {
  return {
    order_id: 'order-1',
    client_id: 'client-a',
    customer_id: 'cust-1',
    market: 'us',
    currency: 'USD',
    items: [{ product_id: 'sku-1', quantity: 2, unit_price: 1999 }],
    created_at: '2026-01-02T03:04:05.000Z',
    total_amount: 3998,
    body_hash: BODY_HASH,
    ...overrides,
  };
}

/** The OrderPlaced event body of an order. */
export function orderPlacedBody(order: ValidatedOrder = validatedOrder()): string {
  const event: OrderPlacedEvent = { version: 1, type: 'OrderPlaced', order };
  return JSON.stringify(event);
}

/** An SQS record as Lambda delivers it. */
export function sqsRecord(body: string, overrides: Partial<SQSRecord> = {}): SQSRecord {
  return {
    messageId: 'msg-1',
    receiptHandle: 'receipt-1',
    body,
    attributes: {
      ApproximateReceiveCount: '1',
      SentTimestamp: '1767323045000',
      SenderId: 'AIDAEXAMPLE',
      ApproximateFirstReceiveTimestamp: '1767323045000',
    },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:eu-west-1:123456789012:billing-queue',
    awsRegion: 'eu-west-1',
    ...overrides,
  };
}

/** An ALB target event of a request. */
export function albEvent(request: HttpRequest, { base64 = false, multiValue = false } = {}): ALBEvent {
  const body = base64 ? request.body.toString('base64') : request.body.toString('utf8');
  const common = {
    requestContext: {
      elb: { targetGroupArn: 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/t/1' },
    },
    httpMethod: request.method,
    path: request.path,
    body,
    isBase64Encoded: base64,
  };
  if (multiValue) {
    return {
      ...common,
      multiValueHeaders: Object.fromEntries(Object.entries(request.headers).map(([k, v]) => [k, [v]])),
      multiValueQueryStringParameters: {},
    };
  }
  return { ...common, headers: { ...request.headers }, queryStringParameters: {} };
}

/** A Lambda context good enough for Powertools. */
export const lambdaContext = {
  callbackWaitsForEmptyEventLoop: false,
  functionName: 'test-function',
  functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:test-function',
  memoryLimitInMB: '256',
  awsRequestId: 'request-1',
  logGroupName: '/aws/lambda/test-function',
  logStreamName: 'stream',
  getRemainingTimeInMillis: () => 10_000,
  done: () => undefined,
  fail: () => undefined,
  succeed: () => undefined,
};
