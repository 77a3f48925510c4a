import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SNSClient } from '@aws-sdk/client-sns';
import { GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { loadEnvironment, type EnvironmentConfig } from '../../environments';
import { OUTPUTS } from '../../infra/stacks/order-pipeline-stack';
import { ENV, orderKey } from '../../lambdas/shared/runtime-contract';
import { OrderClient } from '../lib/order-client';
import type { AwsClientConfig } from '../local/aws-config';
import { CallRecorder, type Recording } from '../local/calls/recorder';
import { signingAs } from '../local/calls/stack-hooks';
import { startLocalStack, type LocalStack } from '../local/stack';
import { listFailures } from '../ops/failed-orders';
import { redriveQueue, requeueFailures } from '../ops/redrive';
import { replayOrders, selectArchiveKeys } from '../ops/replay';
import { subscriberQueues } from '../ops/stack-target';
import { normalizeMix } from '../stress/mix';
import { runStress } from '../stress/run';
import { SMOKE_CLIENT_ID } from '../../infra/constructs/secrets';

/** Every scenario the recording runs, in order (the README and the report name them). */
export const SCENARIOS = [
  'happy path',
  'rejection',
  'refused requests (401, 400)',
  'same order sent three times',
  'conflict (409)',
  'DLQ (consumer failing every delivery)',
  'redrive tool (DLQ back to the queue)',
  'failed-orders tool and redrive from failed-orders rows',
  'replay tool (archive to topic)',
  'order without an id, and a start that fails (reconciler)',
  'short stress run (post-deploy role)',
] as const;

export interface RecordOptions {
  onProgress?: (message: string) => void;
  /** Orders of the stress run. @default 20 */
  stressOrders?: number;
}

/**
 * Starts a local stack with the call recorder on and runs the scenarios the e2e suite runs, each
 * caller under its own principal: the handlers, event sources and state machine under their
 * roles, the stress tool under the post-deploy role, the ops tools under the operator policy.
 */
export async function recordScenarios(options: RecordOptions = {}): Promise<Recording> {
  const progress = options.onProgress ?? (() => undefined);
  const recorder = new CallRecorder();
  const stack = await startLocalStack({
    port: 0,
    writeStateFile: false,
    recorder,
    onProgress: progress,
    logLevel: 'ERROR',
  });
  try {
    await runScenarios(stack, recorder, loadEnvironment('local'), options, progress);
    await stack.stepFunctions.drain();
    return recorder.recording();
  } finally {
    await stack.stop();
  }
}

async function runScenarios(
  stack: LocalStack,
  recorder: CallRecorder,
  config: EnvironmentConfig,
  options: RecordOptions,
  progress: (message: string) => void,
): Promise<void> {
  const orders = new OrderClient({
    url: stack.url,
    clientId: stack.client.clientId,
    secret: stack.client.secret,
  });
  // A loaded machine can time a cold publisher out (502): retry as a client would; orders are idempotent.
  const client = {
    waitForTerminal: orders.waitForTerminal.bind(orders),
    async submit(...args: Parameters<OrderClient['submit']>) {
      for (let attempt = 1; ; attempt += 1) {
        const response = await orders.submit(...args);
        if (response.status < 500 || attempt === 4) return response;
        await new Promise((resolve) => setTimeout(resolve, 1000 * attempt));
      }
    },
  };
  const operator = signingAs(stack.aws, { kind: 'operator' });
  const postDeploy = signingAs(stack.aws, { kind: 'post-deploy' });
  const order = (overrides: Record<string, unknown> = {}) => ({
    order_id: `iam-${Math.random().toString(36).slice(2, 12)}`,
    customer_id: 'cust-1',
    market: 'us',
    currency: 'USD',
    items: [{ product_id: 'sku-1', quantity: 2, unit_price: 1999 }],
    ...overrides,
  });
  const step = async (name: (typeof SCENARIOS)[number], run: () => Promise<void>) => {
    progress(`scenario: ${name}`);
    recorder.startScenario(name);
    await run();
  };
  const expectStatus = (what: string, status: number, expected: number) => {
    if (status !== expected) throw new Error(`${what}: expected HTTP ${expected}, got ${status}`);
  };
  const terminal = async (orderId: string, expected: string, deadlineMs = 30_000) => {
    const final = await client.waitForTerminal(orderId, { deadlineMs, intervalMs: 300 });
    if (final?.status !== expected)
      throw new Error(`order ${orderId}: expected ${expected}, got ${final?.status}`);
  };

  const happy = order();
  await step('happy path', async () => {
    expectStatus('valid order', (await client.submit(JSON.stringify(happy))).status, 202);
    await terminal(happy.order_id, 'COMPLETED');
  });
  await step('rejection', async () => {
    const rejected = order({ currency: 'EUR' });
    expectStatus('business-invalid order', (await client.submit(JSON.stringify(rejected))).status, 202);
    await terminal(rejected.order_id, 'REJECTED');
  });
  await step('refused requests (401, 400)', async () => {
    expectStatus(
      'bad signature',
      (await client.submit(JSON.stringify(order()), { secret: 'wrong' })).status,
      401,
    );
    const invalid = order({ items: [{ product_id: 'sku-1', quantity: 0, unit_price: 1 }] });
    expectStatus('schema-invalid order', (await client.submit(JSON.stringify(invalid))).status, 400);
  });
  await step('same order sent three times', async () => {
    const body = JSON.stringify(order());
    const responses = await Promise.all([client.submit(body), client.submit(body), client.submit(body)]);
    for (const response of responses) expectStatus('repeated order', response.status, 202);
    await terminal(JSON.parse(body).order_id as string, 'COMPLETED');
  });
  await step('conflict (409)', async () => {
    const first = order();
    expectStatus('first order', (await client.submit(JSON.stringify(first))).status, 202);
    const conflict = { ...first, customer_id: 'cust-2' };
    expectStatus('conflicting order', (await client.submit(JSON.stringify(conflict))).status, 409);
    await terminal(first.order_id, 'COMPLETED');
  });

  const [billing, archive] = ['billing', 'archive'].map((name) => {
    const queues = subscriberQueues(stack.outputs, stack.aws.region).find((queue) => queue.name === name);
    if (!queues) throw new Error(`the local stack has no ${name} subscriber`);
    return queues;
  }) as [ReturnType<typeof subscriberQueues>[number], ReturnType<typeof subscriberQueues>[number]];
  const consumers = ['billing', 'archive'].map((entry) =>
    stack.functions.find((fn) => fn.spec.entry === entry),
  );
  const failing = order();
  // Billing's DLQ keeps its messages for the redrive tool (its DLQ mapping stopped, as in the
  // reliability drill); archive's DLQ goes through the DLQ handler, which fails the order.
  const billingDlqSource = stack.eventSources.find(
    (source) => source.spec.queueArn === billing.deadLetterQueueArn,
  );
  await step('DLQ (consumer failing every delivery)', async () => {
    await billingDlqSource?.stop();
    for (const fn of consumers) fn?.updateEnvironment({ [ENV.failureInjectionRate]: '1' });
    expectStatus('order to dead-letter', (await client.submit(JSON.stringify(failing))).status, 202);
    await terminal(failing.order_id, 'FAILED', 150_000);
    await waitFor(
      () => depth(stack.aws, billing.deadLetterQueueUrl).then((n) => n > 0),
      'the billing DLQ',
      60_000,
    );
    for (const fn of consumers) fn?.updateEnvironment({ [ENV.failureInjectionRate]: '0' });
  });
  await step('redrive tool (DLQ back to the queue)', async () => {
    const result = await redriveQueue({
      sqs: new SQSClient(operator),
      subscriber: billing,
      pollIntervalMs: 200,
    });
    if (result.moved < 1) throw new Error('the redrive moved nothing');
    billingDlqSource?.start();
    // The order is FAILED (archive's dead letter): billing takes the message and bills nothing.
    await waitFor(
      () => depth(stack.aws, billing.queueUrl).then((n) => n === 0),
      'billing to take the redriven message',
      30_000,
    );
    if (await billingRecord(stack, orderKey(stack.client.clientId, failing.order_id)))
      throw new Error('a FAILED order was billed by a plain redrive');
  });
  await step('failed-orders tool and redrive from failed-orders rows', async () => {
    const documents = DynamoDBDocumentClient.from(new DynamoDBClient(operator));
    const table = stack.outputs[OUTPUTS.failedOrdersTable] ?? '';
    const all = await listFailures(documents, table);
    const rows = await listFailures(documents, table, {
      orderKeys: [orderKey(stack.client.clientId, failing.order_id)],
    });
    if (all.length === 0 || rows.length === 0)
      throw new Error('the failed-orders table holds no row of the DLQ scenario');
    await requeueFailures({ sqs: new SQSClient(operator), subscriber: archive, rows });
  });
  await step('replay tool (archive to topic)', async () => {
    const s3 = new S3Client({ ...operator, forcePathStyle: true });
    const bucket = stack.outputs[OUTPUTS.archiveBucket] ?? '';
    const keys = await selectArchiveKeys(s3, bucket, {
      orderKeys: [orderKey(stack.client.clientId, happy.order_id)],
    });
    const result = await replayOrders({
      s3,
      sns: new SNSClient(operator),
      sqs: new SQSClient(operator),
      bucket,
      keys,
      target: { kind: 'topic', topicArn: stack.outputs[OUTPUTS.topicArn] ?? '' },
    });
    if (result.sent !== 1) throw new Error(`the replay sent ${result.sent} orders, expected 1`);
  });
  await step('order without an id, and a start that fails (reconciler)', async () => {
    // A body without an order_id: the publisher derives its id with the order-id key.
    const { order_id: _none, ...anonymous } = order();
    const derived = await client.submit(JSON.stringify(anonymous));
    expectStatus('order without an id', derived.status, 202);
    await terminal((derived.body as { order_id: string }).order_id, 'COMPLETED');
    // Two orders whose start fails (Step Functions unreachable: a call IAM never sees): 503, the
    // claim released, left ACCEPTED.
    const publisher = stack.functions.find((fn) => fn.spec.entry === 'publisher');
    const reconciler = stack.functions.find((fn) => fn.spec.entry === 'reconciler');
    const schedule = stack.schedules.find((candidate) => candidate.fn === reconciler);
    if (!publisher || !reconciler || !schedule) throw new Error('no publisher, reconciler or schedule');
    const sfnEndpoint = publisher.spec.environment.AWS_ENDPOINT_URL_SFN ?? '';
    publisher.updateEnvironment({ AWS_ENDPOINT_URL_SFN: 'http://127.0.0.1:9' });
    const [toFail, toRestart] = [order(), order()];
    for (const stuck of [toFail, toRestart])
      expectStatus('order whose start fails', (await orders.submit(JSON.stringify(stuck))).status, 503);
    publisher.updateEnvironment({ AWS_ENDPOINT_URL_SFN: sfnEndpoint });
    // One sweep with no restarts left fails both (row + FAILED); then one that restarts.
    reconciler.updateEnvironment({
      [ENV.acceptedDeadlineSeconds]: '0',
      [ENV.publishedDeadlineSeconds]: '0',
      [ENV.maxRestarts]: '0',
      [ENV.sweepLimit]: '1',
    });
    await schedule.runNow();
    reconciler.updateEnvironment({ [ENV.maxRestarts]: '3' });
    await schedule.runNow();
    const statuses = await Promise.all(
      [toFail, toRestart].map((stuck) =>
        client.waitForTerminal(stuck.order_id, { deadlineMs: 30_000, intervalMs: 300 }),
      ),
    );
    const ended = statuses.map((final) => final?.status).sort();
    if (ended.join() !== 'COMPLETED,FAILED')
      throw new Error(`stuck orders: expected one FAILED and one COMPLETED, got ${ended.join()}`);
  });
  await step('short stress run (post-deploy role)', async () => {
    // As deployedTarget does on AWS: it signs as the smoke-test client, whose own secret is all the
    // post-deploy role may read.
    const secret = await new SecretsManagerClient(postDeploy).send(
      new GetSecretValueCommand({ SecretId: stack.outputs[OUTPUTS.smokeClientSecretId] }),
    );
    const signer = { clientId: SMOKE_CLIENT_ID, secret: secret.SecretString ?? '' };
    const report = await runStress({
      environment: 'local',
      target: { url: stack.url, ...signer, outputs: stack.outputs, aws: postDeploy },
      settings: {
        orders: options.stressOrders ?? 20,
        concurrency: 4,
        ratePerSecond: 0,
        mix: normalizeMix(config.stress.mix),
        deadlineSeconds: 60,
        seed: 20_261_201,
        thresholds: config.stress.thresholds,
      },
      rules: config,
      pollIntervalMs: 500,
    });
    // Its figures are stress.test.ts's business; here it has to have run (its calls are recorded).
    const orders = options.stressOrders ?? 20;
    if (report.requests.sent !== orders)
      throw new Error(`the stress run sent ${report.requests.sent} of ${orders}`);
  });
}

async function depth(aws: AwsClientConfig, queueUrl: string): Promise<number> {
  const { Attributes = {} } = await new SQSClient(aws).send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  return (
    Number(Attributes.ApproximateNumberOfMessages) + Number(Attributes.ApproximateNumberOfMessagesNotVisible)
  );
}

async function billingRecord(stack: LocalStack, key: string): Promise<boolean> {
  const { Item } = await new DynamoDBClient(stack.aws).send(
    new GetItemCommand({
      TableName: stack.outputs[OUTPUTS.billingTable],
      Key: { order_key: { S: key } },
      ConsistentRead: true,
    }),
  );
  return Item !== undefined;
}

async function waitFor(probe: () => Promise<boolean>, what: string, deadlineMs: number): Promise<void> {
  const deadline = Date.now() + deadlineMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${deadlineMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
}
