import fc from 'fast-check';
import type { HttpRequest } from '../shared/alb';
import { DependencyUnavailableError } from '../shared/errors';
import { METRICS, orderKey } from '../shared/runtime-contract';
import { sha256Hex } from '../shared/signing';
import {
  InMemoryOrderRepository,
  NOW,
  NOW_SECONDS,
  orderBody,
  recordingMetrics,
  RecordingWorkflow,
  signedRequest,
  silentLogger,
} from '../testing/fixtures';
import { handleRequest, type PublisherDependencies } from './app';
import { deriveOrderId } from './order-id';

const CLIENTS = new Map([
  ['client-a', ['secret-a', 'secret-a-old']],
  ['client-b', ['secret-b']],
]);

const ORDER_ID_KEY = 'order-id-key-for-tests-0123456789abcdef';
const RESTART_AFTER_MS = 15_000;

function setup() {
  const orders = new InMemoryOrderRepository();
  const workflow = new RecordingWorkflow();
  const { metrics, count } = recordingMetrics();
  const clientSecrets = jest.fn(async () => CLIENTS);
  let now = NOW;
  const deps: PublisherDependencies = {
    clientSecrets,
    orderIdKey: async () => ORDER_ID_KEY,
    restartAfterMs: RESTART_AFTER_MS,
    orders,
    workflow,
    now: () => now,
    logger: silentLogger(),
    metrics,
  };
  const send = (request: HttpRequest) => handleRequest(request, deps);
  /** Moves the clock; requests keep their signature time, so stay within the 300 s skew. */
  const advance = (ms: number) => (now = new Date(now.getTime() + ms));
  return { deps, orders, workflow, count, clientSecrets, send, advance };
}

const KEY_A1 = orderKey('client-a', 'order-1');

const json = (body: string): unknown => JSON.parse(body);

describe('routing', () => {
  it('answers GET /health without a signature', async () => {
    // Prepare
    const { send, clientSecrets } = setup();

    // Act
    const response = await send({
      method: 'GET',
      path: '/health',
      headers: {},
      query: {},
      body: Buffer.alloc(0),
    });

    // Assess
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('application/json');
    expect(json(response.body)).toEqual({ status: 'ok' });
    expect(clientSecrets).not.toHaveBeenCalled();
  });

  it.each(['/', '/order', '/orders/', '/orders/a/b', '/health/x'])('answers 404 for %s', async (path) => {
    // Prepare
    const { send } = setup();

    // Act
    const response = await send(signedRequest({ method: 'GET', path, body: '' }));

    // Assess
    expect(response.statusCode).toBe(404);
    expect(json(response.body)).toEqual({ error: 'not_found' });
  });

  it.each([
    ['POST', '/health', 'GET'],
    ['GET', '/orders', 'POST'],
    ['DELETE', '/orders', 'POST'],
    ['POST', '/orders/abc', 'GET'],
  ])('answers 405 to %s %s with Allow: %s', async (method, path, allow) => {
    // Prepare
    const { send } = setup();

    // Act
    const response = await send(signedRequest({ method, path }));

    // Assess
    expect(response.statusCode).toBe(405);
    expect(response.headers.allow).toBe(allow);
    expect(json(response.body)).toEqual({ error: 'method_not_allowed' });
  });
});

describe('POST /orders', () => {
  it('accepts a signed order: 202, Location, one ACCEPTED item, one workflow run', async () => {
    // Prepare
    const { send, orders, workflow, count } = setup();
    const request = signedRequest({ body: JSON.stringify(orderBody({ order_id: 'order-1' })) });

    // Act
    const response = await send(request);

    // Assess
    expect(response.statusCode).toBe(202);
    expect(response.headers.location).toBe('/orders/order-1');
    expect(json(response.body)).toEqual({ order_id: 'order-1', status: 'ACCEPTED' });
    expect(orders.items.get(KEY_A1)).toMatchObject({
      client_id: 'client-a',
      status: 'ACCEPTED',
      body_hash: sha256Hex(request.body),
      created_at: NOW.toISOString(),
    });
    expect(workflow.started).toEqual([
      {
        order_id: 'order-1',
        client_id: 'client-a',
        customer_id: 'cust-1',
        market: 'us',
        currency: 'USD',
        items: [{ product_id: 'sku-1', quantity: 2, unit_price: 1999 }],
        created_at: NOW.toISOString(),
        body_hash: expect.stringMatching(/^[0-9a-f]{64}$/),
      },
    ]);
    expect(count(METRICS.ordersAccepted)).toBe(1);
  });

  it('derives the order id with the server-side key from client and body hash when the body has none', async () => {
    // Prepare
    const { send } = setup();
    const request = signedRequest();

    // Act
    const response = await send(request);

    // Assess
    const expected = deriveOrderId(ORDER_ID_KEY, 'client-a', sha256Hex(request.body));
    expect(json(response.body)).toEqual({ order_id: expected, status: 'ACCEPTED' });
    expect(expected).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    // Without the key nobody computes it: another key gives another id.
    expect(deriveOrderId('another-key-0123456789abcdef0123', 'client-a', sha256Hex(request.body))).not.toBe(
      expected,
    );
  });

  it('answers 503 and creates nothing when the order id key cannot be read', async () => {
    // Prepare
    const { send, orders, deps } = setup();
    deps.orderIdKey = async () => {
      throw new Error('AccessDenied');
    };

    // Act
    const response = await send(signedRequest());

    // Assess
    expect(response.statusCode).toBe(503);
    expect(orders.items.size).toBe(0);
  });

  it('accepts application/json with parameters', async () => {
    // Prepare
    const { send } = setup();

    // Act
    const response = await send(signedRequest({ contentType: 'Application/JSON; charset=utf-8' }));

    // Assess
    expect(response.statusCode).toBe(202);
  });

  it.each([null, 'text/plain', 'application/x-www-form-urlencoded', 'application/jsonp'])(
    'answers 415 to content type %j',
    async (contentType) => {
      // Prepare
      const { send, orders } = setup();

      // Act
      const response = await send(signedRequest({ contentType }));

      // Assess
      expect(response.statusCode).toBe(415);
      expect(json(response.body)).toEqual({ error: 'unsupported_media_type' });
      expect(orders.items.size).toBe(0);
    },
  );

  it('answers 413 above 64 KiB before looking at secrets or the signature', async () => {
    // Prepare
    const { send, clientSecrets, orders } = setup();
    const request = signedRequest({ body: Buffer.alloc(64 * 1024 + 1, 0x20) });
    const unsigned = { ...request, headers: { 'content-type': 'application/json' } };

    // Act
    const response = await send(unsigned);

    // Assess
    expect(response.statusCode).toBe(413);
    expect(json(response.body)).toEqual({ error: 'payload_too_large' });
    expect(clientSecrets).not.toHaveBeenCalled();
    expect(orders.items.size).toBe(0);
  });

  it('accepts a body of exactly 64 KiB as far as the size check goes', async () => {
    // Prepare: valid JSON padded with whitespace to the limit
    const { send } = setup();
    const text = JSON.stringify(orderBody());
    const request = signedRequest({ body: text + ' '.repeat(64 * 1024 - text.length) });

    // Act
    const response = await send(request);

    // Assess
    expect(request.body.length).toBe(64 * 1024);
    expect(response.statusCode).toBe(202);
  });

  it.each([
    ['a wrong secret', { secret: 'nope' }],
    ['an unknown client', { clientId: 'client-z', secret: 'secret-a' }],
    ['a stale timestamp', { timestamp: NOW_SECONDS - 301 }],
    ['a future timestamp', { timestamp: NOW_SECONDS + 301 }],
  ])('answers 401 to %s, counts it and creates nothing', async (_name, change) => {
    // Prepare
    const { send, orders, workflow, count } = setup();

    // Act
    const response = await send(signedRequest(change));

    // Assess
    expect(response.statusCode).toBe(401);
    expect(json(response.body)).toEqual({ error: 'unauthorized' });
    expect(count(METRICS.authFailures)).toBe(1);
    expect(orders.items.size).toBe(0);
    expect(workflow.started).toHaveLength(0);
  });

  it('answers 401 to an unsigned request', async () => {
    // Prepare
    const { send } = setup();

    // Act
    const response = await send({
      method: 'POST',
      path: '/orders',
      headers: { 'content-type': 'application/json' },
      query: {},
      body: Buffer.from(JSON.stringify(orderBody())),
    });

    // Assess
    expect(response.statusCode).toBe(401);
  });

  it('answers 400 with details to a signed body that breaks the schema', async () => {
    // Prepare
    const { send, orders } = setup();
    const body = JSON.stringify(
      orderBody({ items: [{ product_id: 'a', quantity: 0, unit_price: 1 }], extra: 1 }),
    );

    // Act
    const response = await send(signedRequest({ body }));

    // Assess
    expect(response.statusCode).toBe(400);
    expect(json(response.body)).toEqual({
      error: 'invalid_request',
      details: [
        { path: 'items.0.quantity', message: expect.any(String) },
        { path: 'extra', message: 'unknown field' },
      ],
    });
    expect(orders.items.size).toBe(0);
  });

  it('answers 400 to a signed body that is not JSON', async () => {
    // Prepare
    const { send } = setup();

    // Act
    const response = await send(signedRequest({ body: '{"customer_id":' }));

    // Assess
    expect(response.statusCode).toBe(400);
    expect(json(response.body)).toEqual({
      error: 'invalid_request',
      details: [{ path: '', message: 'body is not valid JSON' }],
    });
  });

  it('answers a verbatim replay with 202 and the same id, and starts no second run while the first request may still be starting it', async () => {
    // Prepare
    const { send, orders, workflow, count, advance } = setup();
    const request = signedRequest();
    const first = await send(request);

    // Act
    advance(RESTART_AFTER_MS - 1);
    const second = await send(request);

    // Assess
    expect(second.statusCode).toBe(202);
    expect(second.body).toBe(first.body);
    expect(orders.items.size).toBe(1);
    expect(workflow.started).toHaveLength(1);
    expect(count(METRICS.ordersAccepted)).toBe(1);
    expect(count(METRICS.ordersReplayed)).toBe(1);
  });

  it('restarts the run of a replayed ACCEPTED order once the claim of the last start is stale, exactly once', async () => {
    // Prepare: the order stays ACCEPTED (its run never stored it)
    const { send, workflow, advance } = setup();
    const request = signedRequest({ body: JSON.stringify(orderBody({ order_id: 'order-1' })) });
    await send(request);
    advance(RESTART_AFTER_MS + 1);

    // Act: 5 concurrent replays, as a client's retries might be
    const answers = await Promise.all(Array.from({ length: 5 }, () => send(request)));

    // Assess
    expect(answers.map((answer) => answer.statusCode)).toEqual([202, 202, 202, 202, 202]);
    expect(answers.map((answer) => json(answer.body))).toEqual(
      Array.from({ length: 5 }, () => ({ order_id: 'order-1', status: 'ACCEPTED' })),
    );
    expect(workflow.started).toHaveLength(2);
    expect(workflow.started[1]).toEqual(workflow.started[0]);
  });

  it('reports the order status as it is to a replay', async () => {
    // Prepare
    const { send, orders, workflow } = setup();
    const request = signedRequest({ body: JSON.stringify(orderBody({ order_id: 'order-1' })) });
    await send(request);
    orders.setStatus(KEY_A1, 'COMPLETED');

    // Act
    const response = await send(request);

    // Assess
    expect(response.statusCode).toBe(202);
    expect(json(response.body)).toEqual({ order_id: 'order-1', status: 'COMPLETED' });
    expect(workflow.started).toHaveLength(1);
  });

  it('does not restart the run of a replayed order that moved on', async () => {
    // PUBLISHED: its consumers may be at work; a stuck one is the reconciler's.
    for (const status of ['PUBLISHED', 'COMPLETED', 'REJECTED', 'FAILED'] as const) {
      // Prepare
      const { send, orders, workflow, advance } = setup();
      const request = signedRequest({ body: JSON.stringify(orderBody({ order_id: 'order-1' })) });
      await send(request);
      orders.setStatus(KEY_A1, status);
      advance(RESTART_AFTER_MS + 1);

      // Act
      const response = await send(request);

      // Assess
      expect(response.statusCode).toBe(202);
      expect(workflow.started).toHaveLength(1);
    }
  });

  it('answers 409 to the same order id with a different body', async () => {
    // Prepare
    const { send, workflow, count } = setup();
    await send(signedRequest({ body: JSON.stringify(orderBody({ order_id: 'order-1' })) }));

    // Act
    const response = await send(
      signedRequest({ body: JSON.stringify(orderBody({ order_id: 'order-1', customer_id: 'x' })) }),
    );

    // Assess
    expect(response.statusCode).toBe(409);
    expect(json(response.body)).toEqual({ error: 'conflict' });
    expect(workflow.started).toHaveLength(1);
    expect(count(METRICS.orderConflicts)).toBe(1);
  });

  it('gives another client using the same order id an independent order (ids are per client)', async () => {
    // Prepare
    const { send, orders, workflow } = setup();
    const body = JSON.stringify(orderBody({ order_id: 'order-1' }));
    await send(signedRequest({ body }));

    // Act
    const response = await send(
      signedRequest({
        body: JSON.stringify(orderBody({ order_id: 'order-1', customer_id: 'x' })),
        clientId: 'client-b',
        secret: 'secret-b',
      }),
    );

    // Assess
    expect(response.statusCode).toBe(202);
    expect(json(response.body)).toEqual({ order_id: 'order-1', status: 'ACCEPTED' });
    expect(orders.order('client-a', 'order-1')?.client_id).toBe('client-a');
    expect(orders.order('client-b', 'order-1')?.client_id).toBe('client-b');
    expect(workflow.started.map((order) => order.client_id)).toEqual(['client-a', 'client-b']);
  });

  it('gives two clients sending the same body without an id two different orders', async () => {
    // Prepare
    const { send } = setup();

    // Act
    const a = await send(signedRequest());
    const b = await send(signedRequest({ clientId: 'client-b', secret: 'secret-b' }));

    // Assess
    expect(a.statusCode).toBe(202);
    expect(b.statusCode).toBe(202);
    expect(json(a.body)).not.toEqual(json(b.body));
  });

  it('answers 503 when the workflow cannot start, keeps the order and releases its claim so the retry starts it', async () => {
    // Prepare
    const { send, orders, workflow, count } = setup();
    const request = signedRequest({ body: JSON.stringify(orderBody({ order_id: 'order-1' })) });
    workflow.failWith = new DependencyUnavailableError('order workflow');

    // Act
    const response = await send(request);
    workflow.failWith = undefined;
    const retry = await send(request);

    // Assess
    expect(response.statusCode).toBe(503);
    expect(json(response.body)).toEqual({ error: 'service_unavailable' });
    expect(count(METRICS.dependencyFailures)).toBe(1);
    // Never deleted: a concurrent replay may have answered 202 for it already.
    expect(retry.statusCode).toBe(202);
    expect(workflow.started).toHaveLength(1);
    expect(orders.items.get(KEY_A1)?.started_at).toBe(NOW.getTime());
  });

  it("releases a failed start's claim back by the claim's length, not to 0: a run its lost answer started still looks alive to the reconciler", async () => {
    // Prepare
    const { send, orders, workflow } = setup();
    workflow.failWith = new DependencyUnavailableError('order workflow');

    // Act
    const response = await send(signedRequest({ body: JSON.stringify(orderBody({ order_id: 'order-1' })) }));

    // Assess: a retry may claim at once (older than the claim's length), while the reconciler's
    // deadline, which counts from started_at, covers a run started at the claim.
    expect(response.statusCode).toBe(503);
    expect(orders.items.get(KEY_A1)?.started_at).toBe(NOW.getTime() - RESTART_AFTER_MS - 1);
  });

  it('still answers 503 when releasing the claim fails too; the order stays for a later replay', async () => {
    // Prepare
    const { send, orders, workflow, advance } = setup();
    const request = signedRequest({ body: JSON.stringify(orderBody({ order_id: 'order-1' })) });
    workflow.failWith = new DependencyUnavailableError('order workflow');
    orders.failOn.release = new DependencyUnavailableError('orders table');

    // Act
    const response = await send(request);
    workflow.failWith = undefined;
    const early = await send(request);
    advance(RESTART_AFTER_MS + 1);
    const late = await send(request);

    // Assess
    expect(response.statusCode).toBe(503);
    expect(orders.items.has(KEY_A1)).toBe(true);
    expect([early.statusCode, late.statusCode]).toEqual([202, 202]);
    expect(workflow.started).toHaveLength(1);
  });

  it.each([
    [
      'the orders table write fails',
      (s: ReturnType<typeof setup>) =>
        (s.orders.failOn.create = new DependencyUnavailableError('orders table')),
    ],
    [
      'the client secrets cannot be read',
      (s: ReturnType<typeof setup>) =>
        s.clientSecrets.mockRejectedValue(new Error('AccessDenied arn:aws:secretsmanager:x')),
    ],
    [
      'a replay cannot read the order',
      (s: ReturnType<typeof setup>) => {
        s.orders.items.set(KEY_A1, {
          order_key: KEY_A1,
          order_id: 'order-1',
          client_id: 'client-a',
          body_hash: 'h',
          status: 'ACCEPTED',
          reasons: [],
          billed: false,
          archived: false,
          created_at: '',
          updated_at: '',
          started_at: 0,
          submitted_json: '',
        });
        s.orders.failOn.get = new DependencyUnavailableError('orders table');
      },
    ],
    [
      'something unexpected throws',
      (s: ReturnType<typeof setup>) => (s.orders.failOn.create = new TypeError('bug')),
    ],
  ])('answers 503 without details when %s', async (_name, breakIt) => {
    // Prepare
    const s = setup();
    breakIt(s);

    // Act
    const response = await s.send(
      signedRequest({ body: JSON.stringify(orderBody({ order_id: 'order-1' })) }),
    );

    // Assess
    expect(response.statusCode).toBe(503);
    expect(response.body).toBe('{"error":"service_unavailable"}');
    expect(response.headers['retry-after']).toBe('1');
  });
});

describe('GET /orders/{id}', () => {
  async function withOrder() {
    const s = setup();
    await s.send(signedRequest({ body: JSON.stringify(orderBody({ order_id: 'order-1' })) }));
    return s;
  }

  it("returns the caller's own order status", async () => {
    // Prepare
    const { send } = await withOrder();

    // Act
    const response = await send(
      signedRequest({ method: 'GET', path: '/orders/order-1', body: '', contentType: null }),
    );

    // Assess
    expect(response.statusCode).toBe(200);
    expect(json(response.body)).toEqual({
      order_id: 'order-1',
      status: 'ACCEPTED',
      billed: false,
      archived: false,
      reasons: [],
      created_at: NOW.toISOString(),
      updated_at: NOW.toISOString(),
    });
  });

  it("answers another client's order exactly like an unknown one", async () => {
    // Prepare
    const { send } = await withOrder();

    // Act
    const other = await send(
      signedRequest({
        method: 'GET',
        path: '/orders/order-1',
        body: '',
        clientId: 'client-b',
        secret: 'secret-b',
      }),
    );
    const unknown = await send(signedRequest({ method: 'GET', path: '/orders/order-2', body: '' }));

    // Assess
    expect(other).toEqual(unknown);
    expect(other.statusCode).toBe(404);
    expect(json(other.body)).toEqual({ error: 'not_found' });
  });

  it('answers 404 for an id that cannot be an order id', async () => {
    // Prepare
    const { send } = await withOrder();

    // Act
    const response = await send(signedRequest({ method: 'GET', path: '/orders/a.b', body: '' }));

    // Assess
    expect(response.statusCode).toBe(404);
  });

  it('requires a signature over the path', async () => {
    // Prepare
    const { send } = await withOrder();
    const signedForOther = signedRequest({ method: 'GET', path: '/orders/order-2', body: '' });

    // Act
    const response = await send({ ...signedForOther, path: '/orders/order-1' });

    // Assess
    expect(response.statusCode).toBe(401);
  });

  it('answers 503 when the table cannot be read', async () => {
    // Prepare
    const s = await withOrder();
    s.orders.failOn.get = new DependencyUnavailableError('orders table');

    // Act
    const response = await s.send(signedRequest({ method: 'GET', path: '/orders/order-1', body: '' }));

    // Assess
    expect(response.statusCode).toBe(503);
  });
});

describe('properties', () => {
  it("answers an unknown client's request byte for byte like a bad signature's (1000 runs)", async () => {
    // Prepare
    const { send } = setup();

    // Act / Assess
    await fc.assert(
      fc.asyncProperty(
        fc.stringMatching(/^[A-Za-z0-9._-]{1,64}$/).filter((id) => !CLIENTS.has(id)),
        fc.string({ maxLength: 200 }),
        fc.constantFrom('/orders', '/orders/order-1'),
        async (unknownClient, body, path) => {
          const method = path === '/orders' ? 'POST' : 'GET';
          const unknown = await send(
            signedRequest({ clientId: unknownClient, secret: 'secret-a', body, path, method }),
          );
          const badSignature = await send(signedRequest({ secret: 'wrong', body, path, method }));
          expect(unknown).toEqual(badSignature);
          expect(unknown.statusCode).toBe(401);
        },
      ),
      { seed: 424242, numRuns: 1000 },
    );
  });

  it('never throws or answers 5xx for any signed body (1000 runs)', async () => {
    // Prepare
    const { send } = setup();
    const body = fc.oneof(
      fc.string({ maxLength: 300 }),
      fc.uint8Array({ maxLength: 300 }).map((bytes) => Buffer.from(bytes)),
      fc.jsonValue().map((value) => JSON.stringify(value)),
      fc
        .record(
          {
            order_id: fc.string({ maxLength: 70 }),
            customer_id: fc.oneof(fc.string({ maxLength: 70 }), fc.integer()),
            market: fc.string({ maxLength: 3 }),
            currency: fc.string({ maxLength: 4 }),
            items: fc.array(
              fc.record(
                { product_id: fc.string(), quantity: fc.double(), unit_price: fc.integer() },
                { requiredKeys: [] },
              ),
              { maxLength: 3 },
            ),
          },
          { requiredKeys: [] },
        )
        .map((value) => JSON.stringify(value)),
      fc.constant(JSON.stringify(orderBody())),
    );

    // Act / Assess
    await fc.assert(
      fc.asyncProperty(body, async (raw) => {
        const response = await send(signedRequest({ body: raw }));
        expect(response.statusCode).toBeLessThan(500);
        expect(() => JSON.parse(response.body)).not.toThrow();
      }),
      { seed: 1337, numRuns: 1000 },
    );
  });
});
