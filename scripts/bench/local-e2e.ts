import { randomUUID } from 'node:crypto';
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { OrderClient } from '../lib/order-client';
import { localAwsConfig } from '../local/aws-config';
import { startLocalStack } from '../local/stack';
import { CountingProxy } from './counting-proxy';

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
  const stack = await startLocalStack({
    port: 0,
    writeStateFile: false,
    interceptEndpoint: async (endpoint) => {
      const proxy = await CountingProxy.start(endpoint, tally);
      proxies.push(proxy);
      return proxy;
    },
  });
  try {
    const client = new OrderClient({ url: stack.url, ...stack.client });
    const run = randomUUID().slice(0, 8);
    // Warm every function once so the run measures steady state, then count from zero.
    await submitAndWait(client, `warmup-${run}`, options);
    tally.clear();

    let next = 0;
    let completed = 0;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < total) {
          next += 1;
          if ((await submitAndWait(client, `bench-${run}-${next}`, options)) === 'COMPLETED') completed += 1;
        }
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    const counted = new Map(tally);
    const apiCalls = [...counted.values()].reduce((sum, n) => sum + n, 0);

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
    };
  } finally {
    await stack.stop();
  }
}

async function submitAndWait(
  client: OrderClient,
  customerId: string,
  options: EndToEndOptions,
): Promise<string | undefined> {
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
  return final?.status;
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
          new GetItemCommand({ TableName: table, Key: { order_id: { S: 'raw-rate-probe' } } }),
        );
        requests += 1;
      }
    }),
  );
  dynamodb.destroy();
  return requests / ((performance.now() - started) / 1000);
}
