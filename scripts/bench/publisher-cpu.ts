import { submittedOrder } from '../../lambdas/publisher/app';
import { deriveOrderId } from '../../lambdas/publisher/order-id';
import { executionName } from '../../lambdas/shared/workflow-starter';
import { parseOrderBody } from '../../lambdas/shared/order-schema';
import { sha256Hex, signRequest, verifySignature } from '../../lambdas/shared/signing';

/** Any 32+ character key: the benchmark measures the HMAC, not the key. */
const BENCH_ORDER_ID_KEY = 'benchmark-order-id-key-0123456789abcdef';

/** A valid order body of about `bytes` bytes (JSON), for the per-request CPU benchmark. */
export function orderBodyOfSize(bytes: number): string {
  const items: Array<{ product_id: string; quantity: number; unit_price: number }> = [];
  const body = () => JSON.stringify({ customer_id: 'bench-customer', market: 'us', currency: 'USD', items });
  for (let i = 0; ; i += 1) {
    const next = { product_id: `sku-${String(i).padStart(6, '0')}`, quantity: 1 + (i % 9), unit_price: 1999 };
    items.push(next);
    if (body().length > bytes) {
      items.pop();
      return body();
    }
  }
}

/**
 * The publisher's CPU work for one accepted order, without I/O: verify the signature, parse the
 * body against the schema, hash it, derive the order id and build the StartExecution input.
 * Returns the input so the work cannot be optimized away.
 */
export function publisherRequestWork(
  body: string,
  headers: Record<string, string>,
  secret: string,
  nowSeconds: number,
): string {
  const verified = verifySignature({
    headers,
    method: 'POST',
    path: '/orders',
    body,
    secretsFor: () => [secret],
    nowSeconds,
  });
  if (!verified.ok) throw new Error(`benchmark request refused: ${verified.reason}`);
  const parsed = parseOrderBody(body);
  if (!parsed.success) throw new Error('benchmark order is invalid');
  const bodyHash = sha256Hex(body);
  const orderId = parsed.order.order_id ?? deriveOrderId(BENCH_ORDER_ID_KEY, verified.clientId, bodyHash);
  const order = submittedOrder(
    parsed.order,
    orderId,
    verified.clientId,
    new Date(nowSeconds * 1000).toISOString(),
    bodyHash,
  );
  return `${executionName(verified.clientId, orderId)}\n${JSON.stringify({ order })}`;
}

export interface MicroBenchmarkResult {
  /** Median over the measured batches, microseconds per operation. */
  usPerOp: number;
  /** Fastest and slowest batch, microseconds per operation. */
  minUsPerOp: number;
  maxUsPerOp: number;
  operations: number;
  bodyBytes: number;
}

/** Median of a non-empty list. */
export function median(values: readonly number[]): number {
  if (values.length === 0) throw new Error('median of no values');
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/**
 * Runs {@link publisherRequestWork} on a 1 KB order: a warm-up (JIT), then timed batches; the
 * median batch is reported so one GC pause or a noisy neighbour does not decide the figure.
 */
export function benchmarkPublisherCpu(
  options: { bodyBytes?: number; warmupOps?: number; batches?: number; opsPerBatch?: number } = {},
): MicroBenchmarkResult {
  const body = orderBodyOfSize(options.bodyBytes ?? 1024);
  const secret = 'bench-secret-0123456789abcdef';
  const nowSeconds = Math.floor(Date.now() / 1000);
  const headers: Record<string, string> = {
    ...signRequest({
      secret,
      clientId: 'bench-client',
      timestamp: nowSeconds,
      method: 'POST',
      path: '/orders',
      body,
    }),
    'content-type': 'application/json',
  };
  let sink = 0;
  for (let i = 0; i < (options.warmupOps ?? 3000); i += 1) {
    sink += publisherRequestWork(body, headers, secret, nowSeconds).length;
  }
  const batches = options.batches ?? 30;
  const opsPerBatch = options.opsPerBatch ?? 500;
  const perOp: number[] = [];
  for (let batch = 0; batch < batches; batch += 1) {
    const started = process.hrtime.bigint();
    for (let i = 0; i < opsPerBatch; i += 1) {
      sink += publisherRequestWork(body, headers, secret, nowSeconds).length;
    }
    perOp.push(Number(process.hrtime.bigint() - started) / 1000 / opsPerBatch);
  }
  if (sink === 0) throw new Error('benchmark produced nothing');
  return {
    usPerOp: median(perOp),
    minUsPerOp: Math.min(...perOp),
    maxUsPerOp: Math.max(...perOp),
    operations: batches * opsPerBatch,
    bodyBytes: body.length,
  };
}
