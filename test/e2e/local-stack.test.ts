import { GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { loadEnvironment, validateEnvironment } from '../../environments';
import { OrderClient, type OrderStatusDocument } from '../../scripts/lib/order-client';
import { startLocalStack, type LocalStack } from '../../scripts/local/stack';
import { eventually, StackInspector, validOrder } from './helpers';

jest.setTimeout(180_000);

describe('local stack, default local environment', () => {
  let stack: LocalStack;
  let client: OrderClient;
  let inspect: StackInspector;

  beforeAll(async () => {
    stack = await startLocalStack({ port: 0, writeStateFile: false });
    client = new OrderClient({
      url: stack.url,
      clientId: stack.client.clientId,
      secret: stack.client.secret,
    });
    inspect = new StackInspector(stack);
  }, 180_000);

  afterAll(async () => {
    await stack?.stop();
  });

  it('answers the health probe without a signature', async () => {
    // Act
    const response = await fetch(`${stack.url}/health`);
    // Assess
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'ok' });
  });

  it('takes a valid order to COMPLETED with one billing record and one archive object', async () => {
    // Prepare
    const body = validOrder();
    const orderId = JSON.parse(body).order_id as string;
    // Act
    const accepted = await client.submit(body);
    // Assess
    expect(accepted.status).toBe(202);
    expect(accepted.body).toEqual({ order_id: orderId, status: 'ACCEPTED' });
    expect(accepted.headers.get('location')).toBe(`/orders/${orderId}`);
    const final = await client.waitForTerminal(orderId, { deadlineMs: 30_000 });
    expect(final).toMatchObject({ order_id: orderId, status: 'COMPLETED', billed: true, archived: true });
    expect(await inspect.billingRecord(orderId)).toMatchObject({
      order_id: orderId,
      amount: 3998,
      currency: 'USD',
    });
    expect(await inspect.archiveObjects(orderId)).toBe(1);
  });

  it('refuses a bad signature with 401 and stores nothing anywhere', async () => {
    // Prepare
    const body = validOrder();
    const orderId = JSON.parse(body).order_id as string;
    // Act
    const response = await client.submit(body, { secret: 'not-the-secret' });
    // Assess
    expect(response.status).toBe(401);
    expect(response.body).toEqual({ error: 'unauthorized' });
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(await inspect.order(orderId)).toBeUndefined();
    expect(await inspect.billingRecord(orderId)).toBeUndefined();
    expect(await inspect.archiveObjects(orderId)).toBe(0);
  });

  it('answers a schema-invalid order with 400 and details', async () => {
    // Act
    const response = await client.submit(
      validOrder({ items: [{ product_id: 'sku-1', quantity: 0, unit_price: 1 }] }),
    );
    // Assess
    expect(response.status).toBe(400);
    expect(response.body).toMatchObject({
      error: 'invalid_request',
      details: [expect.objectContaining({ path: 'items.0.quantity' })],
    });
  });

  it('ends a business-invalid order REJECTED with its reasons, and fans nothing out', async () => {
    // Prepare: EUR is not a currency of the us market
    const body = validOrder({ currency: 'EUR' });
    const orderId = JSON.parse(body).order_id as string;
    // Act
    const accepted = await client.submit(body);
    // Assess
    expect(accepted.status).toBe(202);
    const final = await client.waitForTerminal(orderId, { deadlineMs: 30_000 });
    expect(final?.status).toBe('REJECTED');
    expect(final?.reasons.length).toBeGreaterThan(0);
    expect(await inspect.billingRecord(orderId)).toBeUndefined();
  });

  it('makes one order of the same order sent three times', async () => {
    // Prepare
    const body = validOrder();
    const orderId = JSON.parse(body).order_id as string;
    // Act
    const responses = await Promise.all([client.submit(body), client.submit(body), client.submit(body)]);
    // Assess
    expect(responses.map((response) => response.status)).toEqual([202, 202, 202]);
    expect(new Set(responses.map((response) => (response.body as { order_id: string }).order_id))).toEqual(
      new Set([orderId]),
    );
    const final = await client.waitForTerminal(orderId, { deadlineMs: 30_000 });
    expect(final?.status).toBe('COMPLETED');
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(await inspect.billingRecord(orderId)).toBeDefined();
    expect(await inspect.archiveObjects(orderId)).toBe(1);
  });

  it('answers 409 when the same order id comes back with another body', async () => {
    // Prepare
    const body = validOrder();
    const orderId = JSON.parse(body).order_id as string;
    expect((await client.submit(body)).status).toBe(202);
    // Act
    const conflict = await client.submit(validOrder({ order_id: orderId, customer_id: 'cust-2' }));
    // Assess
    expect(conflict.status).toBe(409);
    expect(conflict.body).toEqual({ error: 'conflict' });
  });
});

describe('local stack with a failing billing consumer and an archive filter policy', () => {
  let stack: LocalStack;
  let client: OrderClient;
  let inspect: StackInspector;
  // Sent up front so that the two slow dead-letter paths run at the same time.
  const failing = validOrder({ market: 'eu', currency: 'EUR' });
  const eu = validOrder({ market: 'eu', currency: 'EUR' });
  const us = validOrder({ market: 'us', currency: 'USD' });
  const idOf = (body: string) => JSON.parse(body).order_id as string;

  beforeAll(async () => {
    const local = loadEnvironment('local');
    const config = validateEnvironment({
      ...local,
      consumers: {
        ...local.consumers,
        billing: { ...consumerSettings('billing'), failureInjectionRate: 1 },
        archive: { ...consumerSettings('archive'), filterPolicy: { market: ['eu'] } },
      },
    });
    stack = await startLocalStack({ port: 0, writeStateFile: false, config });
    client = new OrderClient({
      url: stack.url,
      clientId: stack.client.clientId,
      secret: stack.client.secret,
    });
    inspect = new StackInspector(stack);
    const responses = await Promise.all([failing, eu, us].map((body) => client.submit(body)));
    expect(responses.map((response) => response.status)).toEqual([202, 202, 202]);
  }, 180_000);

  afterAll(async () => {
    await stack?.stop();
  });

  it('dead-letters after maxReceiveCount receives, records the failure and marks the order FAILED', async () => {
    // Prepare
    const orderId = idOf(failing);
    const maxReceiveCount = consumerSettings('billing').maxReceiveCount;
    // Act
    const final = await client.waitForTerminal(orderId, { deadlineMs: 150_000 });
    // Assess
    expect(final?.status).toBe<OrderStatusDocument['status']>('FAILED');
    const rows = await eventually(async () => {
      const found = await inspect.failedOrderRows(orderId);
      return found.length > 0 ? found : undefined;
    }, 'a failed-orders row');
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ order_id: orderId });
    expect(String(rows[0]?.source)).toMatch(/dead|dlq/i);
    expect(await inspect.billingRecord(orderId)).toBeUndefined();
    const billingSource = stack.eventSources.find((source) => source.fn.spec.entry === 'billing');
    expect(billingSource?.stats.failed).toBeGreaterThanOrEqual(maxReceiveCount);
  });

  it('delivers to a filtered subscriber only the markets its policy names', async () => {
    // Prepare
    const euId = idOf(eu);
    const usId = idOf(us);
    // Act
    await eventually(
      async () => ((await inspect.archiveObjects(euId)) === 1 ? true : undefined),
      'the eu archive object',
    );
    await eventually(
      async () => ((await inspect.order(usId))?.status === 'FAILED' ? true : undefined),
      'the us order to fail in billing',
      150_000,
    );
    // Assess
    expect(await inspect.archiveObjects(usId)).toBe(0);
    expect((await inspect.order(usId))?.archived).toBeFalsy();
    const sqs = new SQSClient(stack.aws);
    const archiveQueue = stack.resources.queues.find(
      (queue) => /archive/i.test(queue.logicalId) && !/dlq|dead/i.test(queue.logicalId),
    );
    const attributes = await sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: archiveQueue?.url,
        AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
      }),
    );
    expect(Number(attributes.Attributes?.ApproximateNumberOfMessages)).toBe(0);
  });
});

function consumerSettings(name: string) {
  const settings = loadEnvironment('local').consumers[name];
  if (!settings) throw new Error(`the local environment has no consumer ${name}`);
  return settings;
}
