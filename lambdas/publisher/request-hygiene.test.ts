import type { Logger } from '@aws-lambda-powertools/logger';
import type { HttpRequest } from '../shared/alb';
import { MAX_VALIDATION_DETAILS } from '../shared/order-schema';
import {
  InMemoryOrderRepository,
  NOW,
  orderBody,
  recordingMetrics,
  RecordingWorkflow,
  signedRequest,
} from '../testing/fixtures';
import { handleRequest, type PublisherDependencies } from './app';

/** A logger stand-in that keeps what the publisher logged, message and attributes. */
function recordingLogger() {
  const lines: Array<{ level: string; message: string; attributes: Record<string, unknown> }> = [];
  const record =
    (level: string) =>
    (message: string, attributes: Record<string, unknown> = {}) =>
      lines.push({ level, message, attributes });
  const logger = {
    info: record('info'),
    warn: record('warn'),
    error: record('error'),
    appendKeys: () => undefined,
    setCorrelationId: () => undefined,
  } as unknown as Logger;
  return { logger, lines };
}

function setup() {
  const orders = new InMemoryOrderRepository();
  const workflow = new RecordingWorkflow();
  const { logger, lines } = recordingLogger();
  const deps: PublisherDependencies = {
    clientSecrets: async () => new Map([['client-a', ['secret-a']]]),
    orderIdKey: async () => 'order-id-key-for-tests-0123456789abcdef',
    restartAfterMs: 15_000,
    orders,
    workflow,
    now: () => NOW,
    logger,
    metrics: recordingMetrics().metrics,
  };
  const send = (request: HttpRequest) => handleRequest(request, deps);
  return { orders, workflow, lines, send };
}

describe('query strings (the signature does not cover them)', () => {
  it.each([
    ['POST', '/orders', { debug: '1' }],
    ['GET', '/orders/o-1', { order_id: 'other' }],
    ['GET', '/health', { x: '' }],
  ])('refuses %s %s with a query string: 400 invalid_request, no details', async (method, path, query) => {
    // Prepare
    const { send, orders, workflow } = setup();
    const request = { ...signedRequest({ method, path, body: method === 'GET' ? '' : undefined }), query };

    // Act
    const response = await send(request);

    // Assess
    expect(response.statusCode).toBe(400);
    expect(response.body).toBe('{"error":"invalid_request"}');
    expect(orders.items.size).toBe(0);
    expect(workflow.started).toHaveLength(0);
  });

  it('still accepts the same signed order without a query string', async () => {
    // Prepare
    const { send } = setup();

    // Act
    const response = await send(signedRequest());

    // Assess
    expect(response.statusCode).toBe(202);
  });
});

describe('400 answers stay small', () => {
  it('lists at most 20 details of 8,000 unknown keys and logs the full count, not the keys', async () => {
    // Prepare
    const { send, lines } = setup();
    const extra = Object.fromEntries(Array.from({ length: 8000 }, (_, i) => [i.toString(36), 0]));
    const body = JSON.stringify(orderBody(extra));
    expect(body.length).toBeGreaterThan(60_000);

    // Act
    const response = await send(signedRequest({ body }));

    // Assess
    expect(response.statusCode).toBe(400);
    const answer = JSON.parse(response.body) as { details: unknown[] };
    expect(answer.details).toHaveLength(MAX_VALIDATION_DETAILS);
    expect(response.body.length).toBeLessThan(2048);
    const line = lines.find((entry) => entry.message === 'invalid request');
    expect(line?.attributes.detail_count).toBe(8000);
    expect(JSON.stringify(line?.attributes).length).toBeLessThan(2048);
  });

  it('cuts a 30,000-character unknown key short in the answer', async () => {
    // Prepare
    const { send } = setup();
    const body = JSON.stringify(orderBody({ ['k'.repeat(30_000)]: 1 }));

    // Act
    const response = await send(signedRequest({ body }));

    // Assess
    expect(response.statusCode).toBe(400);
    expect(response.body.length).toBeLessThan(300);
  });
});

describe('strict strings', () => {
  it.each([
    ['NUL in customer_id', { customer_id: 'cust\u0000' }, 'customer_id'],
    ['an escape sequence in customer_id', { customer_id: '\u001b[31mred' }, 'customer_id'],
    [
      'a lone surrogate in product_id',
      { items: [{ product_id: 'p\ud800', quantity: 1, unit_price: 1 }] },
      'items.0.product_id',
    ],
  ])('refuses %s with the field path and creates nothing', async (_name, overrides, path) => {
    // Prepare
    const { send, orders, workflow } = setup();

    // Act
    const response = await send(signedRequest({ body: JSON.stringify(orderBody(overrides)) }));

    // Assess
    expect(response.statusCode).toBe(400);
    expect(JSON.parse(response.body)).toEqual({
      error: 'invalid_request',
      details: [{ path, message: 'must not contain control characters or unpaired surrogates' }],
    });
    expect(orders.items.size).toBe(0);
    expect(workflow.started).toHaveLength(0);
  });
});
