/**
 * The publisher's core: routes a plain HTTP request, enforces CONTRACT.md and answers. Every
 * dependency comes in as an argument; nothing here throws (every error becomes a response).
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { jsonResponse, mediaType, type HttpRequest, type HttpResponse } from '../shared/alb';
import {
  ConflictError,
  DependencyUnavailableError,
  InvalidRequestError,
  MethodNotAllowedError,
  NotFoundError,
  PayloadTooLargeError,
  QueryStringRefusedError,
  UnauthorizedError,
  UnsupportedMediaTypeError,
} from '../shared/errors';
import {
  MAX_ORDER_BODY_BYTES,
  ORDER_ID_PATTERN,
  parseOrderBody,
  type OrderRequest,
} from '../shared/order-schema';
import { METRICS, orderKey, type OrderStatus, type SubmittedOrder } from '../shared/runtime-contract';
import { sha256Hex, verifySignature } from '../shared/signing';
import type { ClientSecretsSource } from './client-secrets';
import { deriveOrderId } from './order-id';
import type { OrderRepository } from './order-store';
import type { WorkflowStarter } from '../shared/workflow-starter';

/** What the publisher needs from the world. */
export interface PublisherDependencies {
  clientSecrets: ClientSecretsSource;
  /** The key of derived order ids (a secret of its own; cached for the sandbox's life). */
  orderIdKey: () => Promise<string>;
  /**
   * How long a request's claim on starting an order's run holds (RESTART_AFTER_SECONDS): at least
   * the publisher's timeout, so a replay restarts a run only once the request that claimed it is
   * over, and concurrent replays start one run, not one each.
   */
  restartAfterMs: number;
  orders: OrderRepository;
  workflow: WorkflowStarter;
  now: () => Date;
  logger: Logger;
  metrics: Metrics;
}

const ORDER_PATH = /^\/orders\/([^/]+)$/;

/** Answers one request. Never throws: unexpected errors become a 503 and an error log. */
export async function handleRequest(
  request: HttpRequest,
  deps: PublisherDependencies,
): Promise<HttpResponse> {
  try {
    return await route(request, deps);
  } catch (error) {
    return errorResponse(error, deps);
  }
}

async function route(request: HttpRequest, deps: PublisherDependencies): Promise<HttpResponse> {
  const { method, path } = request;
  const queryParameters = Object.keys(request.query).length;
  if (queryParameters > 0) throw new QueryStringRefusedError(queryParameters);
  if (path === '/health') {
    if (method !== 'GET') throw new MethodNotAllowedError(['GET']);
    return jsonResponse(200, { status: 'ok' });
  }
  if (path === '/orders') {
    if (method !== 'POST') throw new MethodNotAllowedError(['POST']);
    return submitOrder(request, deps);
  }
  const orderPath = ORDER_PATH.exec(path);
  if (orderPath?.[1] !== undefined) {
    if (method !== 'GET') throw new MethodNotAllowedError(['GET']);
    return readOrder(request, orderPath[1], deps);
  }
  throw new NotFoundError(`path ${path}`);
}

async function authenticate(request: HttpRequest, deps: PublisherDependencies): Promise<string> {
  let secrets;
  try {
    secrets = await deps.clientSecrets();
  } catch (error) {
    throw new DependencyUnavailableError('client secrets', { cause: error });
  }
  const result = verifySignature({
    headers: request.headers,
    method: request.method,
    path: request.path,
    body: request.body,
    secretsFor: (clientId) => secrets.get(clientId),
    nowSeconds: Math.floor(deps.now().getTime() / 1000),
  });
  if (!result.ok) throw new UnauthorizedError(result.reason, result.clientId);
  deps.logger.appendKeys({ client_id: result.clientId });
  return result.clientId;
}

/** The workflow input's order, with a fixed key order so a re-start sends identical input. */
export function submittedOrder(
  body: OrderRequest,
  orderId: string,
  clientId: string,
  createdAt: string,
  bodyHash: string,
): SubmittedOrder {
  return {
    order_id: orderId,
    client_id: clientId,
    customer_id: body.customer_id,
    market: body.market,
    currency: body.currency,
    items: body.items.map(({ product_id, quantity, unit_price }) => ({ product_id, quantity, unit_price })),
    created_at: createdAt,
    body_hash: bodyHash,
  };
}

function accepted(orderId: string, status: OrderStatus): HttpResponse {
  return jsonResponse(202, { order_id: orderId, status }, { location: `/orders/${orderId}` });
}

async function derivedOrderId(clientId: string, bodyHash: string, deps: PublisherDependencies) {
  let idKey;
  try {
    idKey = await deps.orderIdKey();
  } catch (error) {
    throw new DependencyUnavailableError('order id key', { cause: error });
  }
  return deriveOrderId(idKey, clientId, bodyHash);
}

/**
 * Starts the order's run under a claim made at `claimedAt`. When the start fails, the order stays
 * (never deleted: a concurrent replay may already have answered 202 for it) and the claim is
 * released, so the client's retry, or the reconciler, starts it again. Released back by the
 * claim's length, not to 0: a start whose answer was lost did start the run, and the reconciler,
 * which counts from `started_at`, must still wait that run's lifetime.
 */
async function startRun(
  order: SubmittedOrder,
  key: string,
  claimedAt: number,
  deps: PublisherDependencies,
): Promise<void> {
  try {
    await deps.workflow.start(order);
  } catch (error) {
    await deps.orders
      .releaseStart(key, claimedAt, claimedAt - deps.restartAfterMs - 1)
      .catch((releaseError: unknown) => {
        deps.logger.error('could not release the start claim after the workflow failed to start', {
          order_id: order.order_id,
          error: releaseError as Error,
        });
      });
    throw error;
  }
}

async function submitOrder(request: HttpRequest, deps: PublisherDependencies): Promise<HttpResponse> {
  const contentType = request.headers['content-type'];
  if (mediaType(contentType) !== 'application/json') throw new UnsupportedMediaTypeError(contentType);
  // Before any HMAC work: an oversized body costs the attacker more than it costs us.
  if (request.body.length > MAX_ORDER_BODY_BYTES) {
    throw new PayloadTooLargeError(request.body.length, MAX_ORDER_BODY_BYTES);
  }
  const clientId = await authenticate(request, deps);
  const parsed = parseOrderBody(request.body);
  if (!parsed.success) throw new InvalidRequestError(parsed.details, parsed.detailCount);

  const bodyHash = sha256Hex(request.body);
  const orderId = parsed.order.order_id ?? (await derivedOrderId(clientId, bodyHash, deps));
  const key = orderKey(clientId, orderId);
  deps.logger.setCorrelationId(orderId);
  const now = deps.now();
  const createdAt = now.toISOString();
  const claimedAt = now.getTime();

  const order = submittedOrder(parsed.order, orderId, clientId, createdAt, bodyHash);
  if (
    await deps.orders.createAccepted({
      order_key: key,
      order_id: orderId,
      client_id: clientId,
      body_hash: bodyHash,
      created_at: createdAt,
      started_at: claimedAt,
      submitted_json: JSON.stringify(order),
    })
  ) {
    await startRun(order, key, claimedAt, deps);
    deps.metrics.addMetric(METRICS.ordersAccepted, MetricUnit.Count, 1);
    deps.logger.info('order accepted', { order_id: orderId });
    return accepted(orderId, 'ACCEPTED');
  }

  const existing = await deps.orders.get(key);
  // Orders are never deleted: a conditional failure with nothing to read is the table misbehaving.
  if (existing === undefined) throw new DependencyUnavailableError('orders table (order not readable)');
  if (existing.body_hash !== bodyHash) throw new ConflictError(orderId);
  if (
    existing.status === 'ACCEPTED' &&
    (await deps.orders.claimStart(key, bodyHash, claimedAt, claimedAt - deps.restartAfterMs))
  ) {
    // The request that claimed the last start is over and the order is not stored yet: it died
    // between its write and its start, or its start failed. (A PUBLISHED order is left to the
    // reconciler: its consumers may be at work, and a replay would publish it again each time.) Start the run again (every step
    // is idempotent); a replay while that request may still be starting it starts nothing.
    await startRun(
      submittedOrder(parsed.order, orderId, clientId, existing.created_at, bodyHash),
      key,
      claimedAt,
      deps,
    );
  }
  deps.metrics.addMetric(METRICS.ordersReplayed, MetricUnit.Count, 1);
  deps.logger.info('order replayed', { order_id: orderId, status: existing.status });
  return accepted(orderId, existing.status);
}

async function readOrder(
  request: HttpRequest,
  orderId: string,
  deps: PublisherDependencies,
): Promise<HttpResponse> {
  const clientId = await authenticate(request, deps);
  if (!ORDER_ID_PATTERN.test(orderId)) throw new NotFoundError(`order ${orderId}`);
  deps.logger.setCorrelationId(orderId);
  // Order ids are per client: another client's order has another key, so it reads as missing.
  const order = await deps.orders.get(orderKey(clientId, orderId));
  if (order === undefined) throw new NotFoundError(`order ${orderId}`);
  return jsonResponse(200, {
    order_id: order.order_id,
    status: order.status,
    billed: order.billed,
    archived: order.archived,
    reasons: order.reasons,
    created_at: order.created_at,
    updated_at: order.updated_at,
  });
}

function errorResponse(error: unknown, { logger, metrics }: PublisherDependencies): HttpResponse {
  if (error instanceof UnsupportedMediaTypeError)
    return jsonResponse(415, { error: 'unsupported_media_type' });
  if (error instanceof PayloadTooLargeError) return jsonResponse(413, { error: 'payload_too_large' });
  if (error instanceof UnauthorizedError) {
    metrics.addMetric(METRICS.authFailures, MetricUnit.Count, 1);
    logger.warn('request refused', { reason: error.reason, client_id: error.clientId });
    return jsonResponse(401, { error: 'unauthorized' });
  }
  if (error instanceof QueryStringRefusedError) {
    metrics.addMetric(METRICS.invalidRequests, MetricUnit.Count, 1);
    logger.info('query string refused', { query_parameters: error.parameterCount });
    return jsonResponse(400, { error: 'invalid_request' });
  }
  if (error instanceof InvalidRequestError) {
    metrics.addMetric(METRICS.invalidRequests, MetricUnit.Count, 1);
    logger.info('invalid request', { detail_count: error.detailCount, details: error.details });
    return jsonResponse(400, { error: 'invalid_request', details: error.details });
  }
  if (error instanceof ConflictError) {
    metrics.addMetric(METRICS.orderConflicts, MetricUnit.Count, 1);
    logger.info('order id conflict', { order_id: error.orderId });
    return jsonResponse(409, { error: 'conflict' });
  }
  if (error instanceof NotFoundError) return jsonResponse(404, { error: 'not_found' });
  if (error instanceof MethodNotAllowedError) {
    return jsonResponse(405, { error: 'method_not_allowed' }, { allow: error.allowed.join(', ') });
  }
  if (error instanceof DependencyUnavailableError) {
    metrics.addMetric(METRICS.dependencyFailures, MetricUnit.Count, 1);
    logger.error(`dependency failed: ${error.dependency}`, error);
  } else {
    metrics.addMetric(METRICS.unhandledErrors, MetricUnit.Count, 1);
    logger.error('unexpected error', error as Error);
  }
  return jsonResponse(503, { error: 'service_unavailable' }, { 'retry-after': '1' });
}
