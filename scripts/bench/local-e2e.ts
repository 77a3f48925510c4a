import { randomUUID } from 'node:crypto';
import { DynamoDBClient, GetItemCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import {
  DEPLOYED_ENVIRONMENTS,
  loadEnvironment,
  validateEnvironment,
  type EnvironmentConfig,
} from '../../environments';
import { TABLE_KEYS } from '../../lambdas/shared/runtime-contract';
import { OrderClient } from '../lib/order-client';
import { localAwsConfig } from '../local/aws-config';
import { startLocalStack } from '../local/stack';
import { CountingProxy, EMPTY_RECEIVE } from './counting-proxy';
import { itemBytes, OutputTally, usageDelta, type FunctionUsage } from './usage';

export type { FunctionUsage } from './usage';

export interface EndToEndOptions {
  /** Orders submitted in the run. @default 200 */
  orders?: number;
  /** Orders in flight at once (submit, then poll to a terminal status). @default 8 */
  concurrency?: number;
  /** Status polling interval per order. @default 250 */
  pollIntervalMs?: number;
  /** Length of the emulator's raw GetItem loop. @default 3000 */
  rawMs?: number;
  /** Deadline of one order. @default 60000 */
  orderDeadlineMs?: number;
}

export interface EndToEndResult {
  orders: number;
  completed: number;
  seconds: number;
  /** Orders that reached COMPLETED per second of the run. */
  ordersPerSecond: number;
  /** AWS API calls seen at the emulator and the local Step Functions during the run. */
  apiCalls: number;
  callsPerOrder: number;
  /** Calls per order by `service.Operation`, largest first. */
  byOperation: Array<[string, number]>;
  /** `GET /orders/{id}` requests the client sent, per order (each is one publisher GetItem). */
  statusReadsPerOrder: number;
  /** AWS calls per order without the status reads' GetItem. */
  callsPerOrderWithoutPolls: number;
  /**
   * Receives that found an idle queue, per order: they depend on the run's duration, not on the
   * orders, so the call counts above leave them out (the cost model prices them per month).
   */
  idleReceivesPerOrder: number;
  /** Powertools log level the handlers ran at. */
  logLevel: string;
  /** Per function (handler folder): invocations and log output during the run. */
  functions: Record<string, FunctionUsage>;
  /** Custom metrics the handlers' EMF lines define (namespace|dimensions|name). */
  customMetrics: string[];
  /** One status read alone (a separate phase after the run): AWS calls and publisher output. */
  statusRead: { reads: number; callsPerRead: number; publisher: FunctionUsage };
  /** Mean item size after the run, bytes, by table output name. */
  itemBytes: Record<string, number>;
  /** DynamoDB GetItem per second straight at moto, same concurrency, right after the run. */
  emulatorRawRequestsPerSecond: number;
}

/**
 * Runs `orders` orders through the local stack (ALB -> publisher -> workflow -> SNS -> SQS ->
 * consumers) and counts every AWS call on the way, status polling and SQS polling included.
 */
export async function runLocalEndToEnd(options: EndToEndOptions = {}): Promise<EndToEndResult> {
  const total = options.orders ?? 200;
  const concurrency = options.concurrency ?? 8;
  const tally = new Map<string, number>();
  const proxies: CountingProxy[] = [];
  const output = new OutputTally();
  const stack = await startLocalStack({
    port: 0,
    config: benchConfig(),
    writeStateFile: false,
    logLevel: DEPLOYED_LOG_LEVEL,
    functionOutput: (entry, chunk) => output.write(entry, chunk),
    interceptEndpoint: async (endpoint) => {
      const proxy = await CountingProxy.start(endpoint, tally);
      proxies.push(proxy);
      return proxy;
    },
  });
  for (const fn of stack.functions) {
    const invoke = fn.invoke.bind(fn);
    fn.invoke = (event) => {
      output.of(fn.spec.entry).invocations += 1;
      return invoke(event);
    };
  }
  try {
    const client = new StatusCountingClient({ url: stack.url, ...stack.client });
    const run = randomUUID().slice(0, 8);
    // Warm every function once so the run measures steady state, then count from zero.
    await submitAndWait(client, `warmup-${run}`, options);
    tally.clear();
    output.reset();
    client.statusReads = 0;

    let next = 0;
    let completed = 0;
    let lastOrderId = '';
    const started = performance.now();
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < total) {
          next += 1;
          const final = await submitAndWait(client, `bench-${run}-${next}`, options);
          lastOrderId = final.orderId;
          if (final.status === 'COMPLETED') completed += 1;
        }
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    const counted = new Map(tally);
    const idleReceives = counted.get(EMPTY_RECEIVE) ?? 0;
    counted.delete(EMPTY_RECEIVE);
    const apiCalls = [...counted.values()].reduce((sum, n) => sum + n, 0);
    const statusReads = client.statusReads;
    const getItems = counted.get('dynamodb.GetItem') ?? 0;
    if (getItems < statusReads) {
      throw new Error(
        `${statusReads} status reads but only ${getItems} GetItem calls: a read no longer costs one`,
      );
    }
    const functions = output.snapshot();
    const statusRead = await measureStatusReads(client, lastOrderId, tally, output);

    const rawTarget = proxies[0]?.target.href ?? stack.emulatorEndpoint;
    const rawRate = await emulatorRawRate(
      rawTarget,
      stack.outputs.OrdersTableName ?? '',
      concurrency,
      options.rawMs ?? 3000,
    );
    return {
      orders: total,
      completed,
      seconds,
      ordersPerSecond: completed / seconds,
      apiCalls,
      callsPerOrder: apiCalls / total,
      byOperation: [...counted.entries()]
        .map(([operation, n]): [string, number] => [operation, n / total])
        .sort((a, b) => b[1] - a[1]),
      emulatorRawRequestsPerSecond: rawRate,
      statusReadsPerOrder: statusReads / total,
      callsPerOrderWithoutPolls: (apiCalls - statusReads) / total,
      idleReceivesPerOrder: idleReceives / total,
      logLevel: DEPLOYED_LOG_LEVEL,
      functions,
      customMetrics: [...output.metrics].sort(),
      statusRead,
      itemBytes: await meanItemBytes(rawTarget, stack.outputs),
    };
  } finally {
    await stack.stop();
  }
}

/**
 * The handlers log at the lowest level during the run; each line is tallied by its level, so the
 * cost model prices what an environment's level keeps.
 */
export const DEPLOYED_LOG_LEVEL = 'DEBUG';

/**
 * The local environment with generous function timeouts: on a loaded machine a slow sandbox
 * would otherwise time out and be retried, and those retries would be counted as the design's calls.
 * The client secrets are cached as long as the deployed environments cache them (the shortest of
 * their caches): the local 2 s, which lets a new local client sign at once, would add a
 * GetSecretValue every 2 s that no deployment makes (the cost model prices the deployed reads).
 */
export function benchConfig(): EnvironmentConfig {
  const local = loadEnvironment('local');
  const deployedCache = Math.min(
    ...DEPLOYED_ENVIRONMENTS.map((name) => loadEnvironment(name).clientSecretsCacheSeconds),
  );
  const slow = (settings: { timeoutSeconds: number }) => ({
    ...settings,
    timeoutSeconds: Math.max(settings.timeoutSeconds, 30),
  });
  return validateEnvironment({
    ...local,
    clientSecretsCacheSeconds: deployedCache,
    functions: {
      publisher: slow(local.functions.publisher),
      validate: slow(local.functions.validate),
      dlq: slow(local.functions.dlq),
    },
    consumers: Object.fromEntries(
      Object.entries(local.consumers).map(([name, settings]) => [name, slow(settings)]),
    ),
  });
}

/** An order client that counts its status reads (the polls). */
class StatusCountingClient extends OrderClient {
  statusReads = 0;

  override status(orderId: string) {
    this.statusReads += 1;
    return super.status(orderId);
  }
}

async function submitAndWait(
  client: OrderClient,
  customerId: string,
  options: EndToEndOptions,
): Promise<{ orderId: string; status: string | undefined }> {
  const body = JSON.stringify({
    customer_id: customerId,
    market: 'us',
    currency: 'USD',
    items: [{ product_id: 'sku-1', quantity: 2, unit_price: 1999 }],
  });
  const response = await client.submit(body);
  if (response.status !== 202)
    throw new Error(`submit answered ${response.status}: ${JSON.stringify(response.body)}`);
  const { order_id: orderId } = response.body as { order_id: string };
  const final = await client.waitForTerminal(orderId, {
    intervalMs: options.pollIntervalMs ?? 250,
    deadlineMs: options.orderDeadlineMs ?? 60_000,
  });
  return { orderId, status: final?.status };
}

/** Status reads of one order alone, after the run: what a read costs, apart from the orders. */
async function measureStatusReads(
  client: OrderClient,
  orderId: string,
  tally: Map<string, number>,
  output: OutputTally,
  reads = 50,
): Promise<EndToEndResult['statusRead']> {
  // The event sources keep polling SQS meanwhile: those receives are not the reads'.
  const calls = () =>
    [...tally].filter(([operation]) => !operation.startsWith('sqs.')).reduce((sum, [, n]) => sum + n, 0);
  const callsBefore = calls();
  const before = output.snapshot().publisher;
  for (let i = 0; i < reads; i += 1) await client.status(orderId);
  const after = output.snapshot().publisher;
  const readCalls = calls() - callsBefore;
  if (!after) throw new Error('the publisher wrote nothing: is its output captured?');
  return { reads, callsPerRead: readCalls / reads, publisher: usageDelta(after, before, reads) };
}

/** Mean item size (DynamoDB's count) of the orders and billing tables after the run. */
async function meanItemBytes(
  endpoint: string,
  outputs: Record<string, string>,
): Promise<Record<string, number>> {
  const dynamodb = new DynamoDBClient(localAwsConfig(endpoint.replace(/\/$/, '')));
  const sizes: Record<string, number> = {};
  for (const output of ['OrdersTableName', 'BillingTableName']) {
    const table = outputs[output];
    if (!table) continue;
    const items = (await dynamodb.send(new ScanCommand({ TableName: table }))).Items ?? [];
    if (items.length > 0) sizes[output] = items.reduce((n, item) => n + itemBytes(item), 0) / items.length;
  }
  dynamodb.destroy();
  return sizes;
}

/** DynamoDB GetItem requests per second that moto answers, `concurrency` at a time, for `ms`. */
async function emulatorRawRate(
  endpoint: string,
  table: string,
  concurrency: number,
  ms: number,
): Promise<number> {
  const dynamodb = new DynamoDBClient(localAwsConfig(endpoint.replace(/\/$/, '')));
  const deadline = performance.now() + ms;
  let requests = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < deadline) {
        await dynamodb.send(
          new GetItemCommand({
            TableName: table,
            Key: { [TABLE_KEYS.orders.partitionKey]: { S: 'raw-rate-probe' } },
          }),
        );
        requests += 1;
      }
    }),
  );
  dynamodb.destroy();
  return requests / ((performance.now() - started) / 1000);
}
