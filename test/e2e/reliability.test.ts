/**
 * Reliability against the local stack: faults injected while orders flow, and the operator's
 * tools used the way the Runbook says. Two stacks, one after the other: a "faulty" one (consumers
 * fail 30 % of records, an AWS endpoint that goes away, a client secret rotated) and a "drill"
 * one (billing fails until the redrive drill fixes it; hostile requests over HTTP). Within a
 * stack every scenario starts in beforeAll and runs concurrently; each `it` awaits its own.
 */
import { request as httpRequest } from 'node:http';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { PutSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { GetQueueAttributesCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { loadEnvironment, validateEnvironment, type EnvironmentConfig } from '../../environments';
import { OUTPUTS } from '../../infra/stacks/order-pipeline-stack';
import { ENV, orderKey } from '../../lambdas/shared/runtime-contract';
import { OrderClient, type ApiResponse } from '../../scripts/lib/order-client';
import type { LocalStack } from '../../scripts/local/stack';
import { startLocalStack } from '../../scripts/local/stack';
import { redriveQueue } from '../../scripts/ops/redrive';
import { orderPlacedMessage, replayOrders, selectArchiveKeys } from '../../scripts/ops/replay';
import { subscriberQueues } from '../../scripts/ops/stack-target';
import {
  account,
  requestOutcome,
  type Accounting,
  type RequestOutcome,
} from '../../scripts/stress/accounting';
import { PipelineObserver, resourcesFromOutputs } from '../../scripts/stress/observe';
import { hostileCorpus } from '../hostile/corpus';
import { eventually, StackInspector, validOrder } from './helpers';

jest.setTimeout(420_000);

const LOAD_ORDERS = 200;
const LOAD_CONCURRENCY = 8;
const FAILURE_RATE = 0.3;
const OUTAGE_MS = 4000;
const DRILL_ORDERS = 20;
/** A consumer record can take maxReceiveCount x visibility timeout (5 x 12 s) to settle. */
const SETTLE_DEADLINE_MS = 180_000;
/**
 * Sweeps every 5 s (the 5-minute schedule at 60x). An order the outage left ACCEPTED (its write
 * landed but the answer was lost, so the client's retry found a fresh claim and started nothing)
 * is the reconciler's: local deadlines are a minute or two after its last start.
 */
const SCHEDULE_SPEED = 60;
const RECONCILE_DEADLINE_MS = 240_000;

function withConsumers(
  change: (
    name: string,
    settings: EnvironmentConfig['consumers'][string],
  ) => Partial<EnvironmentConfig['consumers'][string]>,
): EnvironmentConfig {
  const local = loadEnvironment('local');
  return validateEnvironment({
    ...local,
    consumers: Object.fromEntries(
      Object.entries(local.consumers).map(([name, settings]) => [
        name,
        { ...settings, ...change(name, settings) },
      ]),
    ),
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Keeps a scenario's rejection for its own `it` instead of an unhandled rejection now. */
function scenario<T>(run: () => Promise<T>): Promise<T> {
  const promise = run();
  promise.catch(() => undefined);
  return promise;
}

/** Submits like a well-behaved client: a 503 (Retry-After: 1) is retried with the same body. */
async function submitRetrying(
  client: OrderClient,
  body: string,
  counters: { retried503: number },
): Promise<ApiResponse> {
  for (let attempt = 0; ; attempt++) {
    const response = await client.submit(body);
    if (response.status !== 503 || attempt >= 30) return response;
    counters.retried503++;
    await sleep(500);
  }
}

async function mapLimited<T, R>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<R>,
): Promise<R[]> {
  const results: R[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < items.length) {
        const index = next++;
        results[index] = await work(items[index] as T);
      }
    }),
  );
  return results;
}

function outcome(index: number, orderId: string, response: ApiResponse): RequestOutcome {
  return requestOutcome({ index, kind: 'valid', orderId, startedMs: 0 }, response);
}

/** Waits until every queue (DLQs included) is empty with nothing in flight, twice in a row. */
async function quiescent(stack: LocalStack, deadlineMs = SETTLE_DEADLINE_MS): Promise<void> {
  const sqs = new SQSClient(stack.aws);
  let calm = 0;
  await eventually(
    async () => {
      const depths = await Promise.all(
        stack.resources.queues.map(async (queue) => {
          const { Attributes = {} } = await sqs.send(
            new GetQueueAttributesCommand({
              QueueUrl: queue.url,
              AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
            }),
          );
          return (
            Number(Attributes.ApproximateNumberOfMessages) +
            Number(Attributes.ApproximateNumberOfMessagesNotVisible)
          );
        }),
      );
      const idle = depths.every((depth) => depth === 0) && stack.stepFunctions.inFlight === 0;
      calm = idle ? calm + 1 : 0;
      return calm >= 3 ? true : undefined;
    },
    'every queue to drain',
    deadlineMs,
  );
}

/**
 * Waits until every accepted order of `outcomes` is terminal (the consumers and the reconciler
 * finish them) and the queues are quiet again, then accounts; at the deadline, accounts as it is.
 */
async function settledAccounting(
  stack: LocalStack,
  outcomes: readonly RequestOutcome[],
): Promise<Accounting> {
  await quiescent(stack);
  const deadline = Date.now() + RECONCILE_DEADLINE_MS;
  while ((await accountFor(stack, outcomes)).lost > 0 && Date.now() < deadline) await sleep(2000);
  await quiescent(stack);
  return accountFor(stack, outcomes);
}

/** The stress tool's accounting of these requests against what the stores hold. */
async function accountFor(stack: LocalStack, outcomes: readonly RequestOutcome[]): Promise<Accounting> {
  // Order ids are per client: every order of these outcomes is the stack client's.
  const observer = new PipelineObserver(
    resourcesFromOutputs(stack.outputs),
    stack.aws,
    stack.client.clientId,
  );
  const ids = [...new Set(outcomes.map((entry) => entry.acceptedOrderId ?? entry.orderId))];
  const orders = await observer.orders(ids);
  return account(outcomes, {
    orders,
    billing: await observer.billingRecords(ids),
    archive: await observer.archiveVersions(orders),
    failed: await observer.failedOrderRows(ids),
  });
}

function queueStats(stack: LocalStack, entry: string) {
  return stack.eventSources
    .filter((source) => source.fn.spec.entry === entry)
    .reduce((sum, source) => sum + source.stats.failed, 0);
}

const figures: Record<string, number> = {};
const client = (stack: LocalStack) =>
  new OrderClient({ url: stack.url, clientId: stack.client.clientId, secret: stack.client.secret });

afterAll(() => {
  console.log(`reliability figures: ${JSON.stringify(figures)}`);
});

describe('reliability with consumers failing 30 % of records, an endpoint outage and a secret rotation', () => {
  let faulty: LocalStack;
  let load: Promise<{ outcomes: RequestOutcome[]; retried503: number }>;
  let outage: Promise<{
    during: ApiResponse[];
    after: ApiResponse[];
    storedDuringOutage: number;
    retried: ApiResponse[];
    outcomes: RequestOutcome[];
  }>;
  let duplicates: Promise<{ orderIds: string[]; outcomes: RequestOutcome[] }>;
  let rotation: Promise<{ statuses: number[] }>;

  beforeAll(async () => {
    faulty = await startLocalStack({
      port: 0,
      writeStateFile: false,
      faultProxy: true,
      scheduleSpeed: SCHEDULE_SPEED,
      config: withConsumers(() => ({ failureInjectionRate: FAILURE_RATE })),
    });
    // Consumer failure injection at 0.3 across a few hundred orders, clients retrying 503s.
    load = scenario(async () => {
      const counters = { retried503: 0 };
      const bodies = Array.from({ length: LOAD_ORDERS }, (_, index) =>
        validOrder({ order_id: `load-${index}` }),
      );
      const responses = await mapLimited(bodies, LOAD_CONCURRENCY, (body) =>
        submitRetrying(client(faulty), body, counters),
      );
      return {
        outcomes: responses.map((response, index) => outcome(index, `load-${index}`, response)),
        retried503: counters.retried503,
      };
    });

    // The AWS endpoint goes away for a few seconds while the load runs.
    outage = scenario(async () => {
      await sleep(3000);
      const proxy = faulty.faultProxy;
      if (!proxy) throw new Error('the faulty stack has no fault proxy');
      proxy.interrupt(OUTAGE_MS);
      const bodies = Array.from({ length: 10 }, (_, index) => validOrder({ order_id: `outage-${index}` }));
      // Under load a request may only reach the publisher after the endpoint is back: what counts
      // is the answers given while it was down.
      const answered = await Promise.all(
        bodies.map(async (body) => {
          const response = await client(faulty).submit(body);
          return { response, whileDown: proxy.down };
        }),
      );
      const during = answered.filter((entry) => entry.whileDown).map((entry) => entry.response);
      const after = answered.filter((entry) => !entry.whileDown).map((entry) => entry.response);
      await eventually(
        async () => (proxy.down ? undefined : true),
        'the endpoint to come back',
        OUTAGE_MS + 2000,
      );
      const inspect = new StackInspector(faulty);
      let storedDuringOutage = 0;
      for (let index = 0; index < bodies.length; index++) {
        const entry = answered[index];
        if (
          entry?.whileDown &&
          entry.response.status === 503 &&
          (await inspect.order(`outage-${index}`)) !== undefined
        )
          storedDuringOutage++;
      }
      figures.connectionsDropped = proxy.dropped;
      const counters = { retried503: 0 };
      const retried = await Promise.all(bodies.map((body) => submitRetrying(client(faulty), body, counters)));
      return {
        during,
        after,
        storedDuringOutage,
        retried,
        outcomes: retried.map((response, index) => outcome(index, `outage-${index}`, response)),
      };
    });

    // The same SQS message delivered twice and the same event published twice.
    duplicates = scenario(async () => {
      const bodies = Array.from({ length: 3 }, (_, index) => validOrder({ order_id: `dup-${index}` }));
      const counters = { retried503: 0 };
      const responses = await Promise.all(
        bodies.map((body) => submitRetrying(client(faulty), body, counters)),
      );
      const s3 = new S3Client({ ...faulty.aws, forcePathStyle: true });
      const bucket = faulty.outputs[OUTPUTS.archiveBucket] ?? '';
      const orderIds = bodies.map((body) => (JSON.parse(body) as { order_id: string }).order_id);
      // Wait for the archive objects: the event as the workflow published it, rebuilt from them.
      const keys = await eventually(
        async () => {
          const found = await selectArchiveKeys(s3, bucket, {
            orderKeys: orderIds.map((orderId) => orderKey(faulty.client.clientId, orderId)),
          });
          return found.length === orderIds.length ? found : undefined;
        },
        'the archive objects of the duplicate orders',
        SETTLE_DEADLINE_MS,
      );
      const sqs = new SQSClient(faulty.aws);
      const sns = new SNSClient(faulty.aws);
      const queues = subscriberQueues(faulty.outputs, faulty.aws.region);
      for (const key of keys) {
        const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
        const message = orderPlacedMessage((await object.Body?.transformToString()) ?? '');
        for (const queue of queues) {
          for (let copy = 0; copy < 2; copy++) {
            await sqs.send(
              new SendMessageCommand({
                QueueUrl: queue.queueUrl,
                MessageBody: message.body,
                MessageAttributes: message.attributes,
              }),
            );
          }
        }
        for (let copy = 0; copy < 2; copy++) {
          await sns.send(
            new PublishCommand({
              TopicArn: faulty.outputs[OUTPUTS.topicArn],
              Message: message.body,
              MessageAttributes: message.attributes,
            }),
          );
        }
      }
      return {
        orderIds,
        outcomes: responses.map((response, index) => outcome(index, `dup-${index}`, response)),
      };
    });

    // Secret rotation while a client keeps sending: add, switch, remove.
    rotation = scenario(async () => {
      const secrets = new SecretsManagerClient(faulty.aws);
      const secretId = faulty.outputs[OUTPUTS.clientSecretsId];
      const cacheSeconds = faulty.functions.find((fn) => fn.spec.entry === 'publisher')?.spec.environment[
        ENV.secretsCacheSeconds
      ];
      // At least 5 s per step even with the local 2 s cache, so the sender gets enough requests
      // through each phase of the rotation to count.
      const waitForCaches = () => sleep((Math.max(Number(cacheSeconds ?? 30), 5) + 1) * 1000);
      const put = (rotating: string[]) =>
        secrets.send(
          new PutSecretValueCommand({
            SecretId: secretId,
            SecretString: JSON.stringify({
              clients: { [faulty.client.clientId]: [faulty.client.secret], rotating },
            }),
          }),
        );
      await put(['old-secret']);
      await waitForCaches();
      const statuses: number[] = [];
      let secret = 'old-secret';
      let sending = true;
      let sent = 0;
      const sender = (async () => {
        while (sending) {
          const rotatingClient = new OrderClient({ url: faulty.url, clientId: 'rotating', secret });
          const response = await submitRetrying(rotatingClient, validOrder({ order_id: `rot-${sent++}` }), {
            retried503: 0,
          });
          statuses.push(response.status);
          await sleep(100);
        }
      })();
      await sleep(1000);
      await put(['old-secret', 'new-secret']);
      await waitForCaches();
      secret = 'new-secret';
      await sleep(1000);
      await put(['new-secret']);
      await waitForCaches();
      sending = false;
      await sender;
      return { statuses };
    });
  }, 60_000);

  afterAll(async () => {
    await faulty?.stop();
  });

  it('loses nothing and duplicates nothing with consumers failing 30 % of records and the endpoint gone for seconds', async () => {
    // Act
    const { outcomes, retried503 } = await load;
    const outageRun = await outage;
    const { orderIds: duplicateIds, outcomes: duplicateOutcomes } = await duplicates;
    // Assess
    const all = [...outcomes, ...outageRun.outcomes, ...duplicateOutcomes];
    const result = await settledAccounting(faulty, all);
    Object.assign(figures, {
      loadOrders: outcomes.length,
      retried503,
      accepted: result.accepted,
      completed: result.completed,
      failed: result.failed,
      lost: result.lost,
      duplicates: result.duplicates,
      consumerRecordFailures: queueStats(faulty, 'billing') + queueStats(faulty, 'archive'),
      reconcilerRestarts: faulty.schedules
        .flatMap((schedule) => schedule.outcomes)
        .reduce(
          (sum, outcome) => sum + ((outcome.result as { restarted?: unknown[] })?.restarted?.length ?? 0),
          0,
        ),
    });
    expect(outcomes.every((entry) => entry.status === 202)).toBe(true);
    expect(result.accepted).toBe(LOAD_ORDERS + 10 + duplicateIds.length);
    expect(result.lostOrders).toEqual([]);
    expect(result.lost).toBe(0);
    expect(result.duplicates).toBe(0);
    expect(result.failedWithoutRecord).toEqual([]);
    expect(result.completedWithoutSideEffects).toEqual([]);
    // Flags agree with the billing record and the archive object, each for the order's own body.
    expect(result.inconsistentOrders).toEqual([]);
    expect(result.completed + result.failed).toBe(result.accepted);
    // The injection really happened: a 30 % rate over 400+ records fails many of them.
    expect(queueStats(faulty, 'billing') + queueStats(faulty, 'archive')).toBeGreaterThan(50);
  });

  it('answers 503 during the outage with no partial order, and takes the retried orders to the end', async () => {
    // Act
    const { during, after, storedDuringOutage, retried } = await outage;
    // Assess
    figures.outage503 = during.filter((response) => response.status === 503).length;
    expect(during.length).toBeGreaterThanOrEqual(5);
    expect(during.map((response) => response.status)).toEqual(during.map(() => 503));
    expect(after.every((response) => response.status === 202 || response.status === 503)).toBe(true);
    expect(during.every((response) => response.headers.get('retry-after') === '1')).toBe(true);
    expect(storedDuringOutage).toBe(0);
    expect(retried.map((response) => response.status)).toEqual(retried.map(() => 202));
    expect(figures.connectionsDropped).toBeGreaterThan(0);
  });

  it('makes one billing record and one archive object of an event delivered twice by SQS and published twice by SNS', async () => {
    // Act
    const { orderIds } = await duplicates;
    await quiescent(faulty);
    // Assess
    const inspect = new StackInspector(faulty);
    for (const orderId of orderIds) {
      expect(await inspect.billingRecord(orderId)).toMatchObject({ order_id: orderId });
      expect(await inspect.archiveObjects(orderId)).toBe(1);
      expect(['COMPLETED', 'FAILED']).toContain((await inspect.order(orderId))?.status);
    }
  });

  it('rotates a client secret with 0 answers of 401 to correctly signed requests', async () => {
    // Act
    const { statuses } = await rotation;
    // Assess
    figures.rotationRequests = statuses.length;
    figures.rotation401 = statuses.filter((status) => status === 401).length;
    expect(statuses.length).toBeGreaterThan(10);
    expect(statuses.filter((status) => status === 401)).toEqual([]);
    expect(statuses.every((status) => status === 202)).toBe(true);
  });
});

describe('redrive drill, replay and hostile requests over HTTP', () => {
  let drill: LocalStack;
  let redrive: Promise<{ inDlq: number; moved: number; method: string; outcomes: RequestOutcome[] }>;
  let hostile: Promise<{
    results: Array<{ name: string; expected: number; status: number; error?: string }>;
    orderIds: string[];
  }>;

  beforeAll(async () => {
    drill = await startLocalStack({
      port: 0,
      writeStateFile: false,
      config: withConsumers((name) => ({ failureInjectionRate: name === 'billing' ? 1 : 0 })),
    });
    // Redrive drill: billing fails on the drill stack, its DLQ handler mapping is disabled so the
    // messages stay in the DLQ, the failure is fixed, redrive moves them back.
    redrive = scenario(async () => {
      await Promise.all(
        drill.eventSources.filter((source) => source.fn.spec.entry === 'dlq').map((source) => source.stop()),
      );
      const bodies = Array.from({ length: DRILL_ORDERS }, (_, index) =>
        validOrder({ order_id: `drill-${index}` }),
      );
      const responses = await Promise.all(bodies.map((body) => client(drill).submit(body)));
      const [billing] = subscriberQueues(drill.outputs, drill.aws.region).filter(
        (queue) => queue.name === 'billing',
      );
      if (!billing) throw new Error('the drill stack has no billing subscriber');
      const sqs = new SQSClient(drill.aws);
      const depth = async (queueUrl: string) => {
        const { Attributes = {} } = await sqs.send(
          new GetQueueAttributesCommand({
            QueueUrl: queueUrl,
            AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
          }),
        );
        return (
          Number(Attributes.ApproximateNumberOfMessages) +
          Number(Attributes.ApproximateNumberOfMessagesNotVisible)
        );
      };
      // Everything has given up once the source queue is empty and the DLQ holds every order.
      const inDlq = await eventually(
        async () => {
          const [queued, dead] = await Promise.all([
            depth(billing.queueUrl),
            depth(billing.deadLetterQueueUrl),
          ]);
          return queued === 0 && dead >= DRILL_ORDERS ? dead : undefined;
        },
        'the drill orders to pile up in the billing DLQ',
        SETTLE_DEADLINE_MS,
      );
      drill.functions
        .find((fn) => fn.spec.entry === 'billing')
        ?.updateEnvironment({ [ENV.failureInjectionRate]: '0' });
      const result = await redriveQueue({ sqs, subscriber: billing });
      await Promise.all(drill.eventSources.map((source) => source.start()));
      const drillClient = client(drill);
      await Promise.all(
        bodies.map((_, index) =>
          drillClient.waitForTerminal(`drill-${index}`, { deadlineMs: 60_000, intervalMs: 500 }),
        ),
      );
      return {
        inDlq,
        moved: result.moved,
        method: result.method,
        outcomes: responses.map((response, index) => outcome(index, `drill-${index}`, response)),
      };
    });

    // A sample of the hostile corpus over HTTP: what the load balancer can carry as sent.
    hostile = scenario(async () => {
      const corpus = hostileCorpus(drill.client, Math.floor(Date.now() / 1000)).filter(
        (entry) => !entry.inProcessOnly,
      );
      const results = await mapLimited(corpus, 4, async (entry) => ({
        name: entry.name,
        expected: entry.expected,
        ...(await rawRequest(drill.url, entry.method, entry.path, entry.headers, entry.body)),
      }));
      const orderIds = corpus.flatMap((entry) => {
        const id = /"order_id":"(hostile-[0-9]+)"/.exec(entry.body.toString('utf8'))?.[1];
        return id ? [id] : [];
      });
      return { results, orderIds };
    });
  }, 60_000);

  afterAll(async () => {
    await drill?.stop();
  });

  it('redrive drill: DLQ messages moved back once billing is fixed, every order COMPLETED', async () => {
    // Act
    const { inDlq, moved, method, outcomes } = await redrive;
    // Assess
    figures.redriven = moved;
    // At least once: SQS may dead-letter a copy of a message twice; the consumer is idempotent.
    expect(inDlq).toBeGreaterThanOrEqual(DRILL_ORDERS);
    expect(method).toBe('receive-send-delete');
    expect(moved).toBe(inDlq);
    const result = await accountFor(drill, outcomes);
    expect(result.statuses).toEqual({ COMPLETED: DRILL_ORDERS });
    expect(result.duplicates).toBe(0);
    expect(result.completedWithoutSideEffects).toEqual([]);
  });

  it('replays archived orders to the topic with no second side effect (consumers are idempotent)', async () => {
    // Prepare
    const { outcomes } = await redrive;
    const s3 = new S3Client({ ...drill.aws, forcePathStyle: true });
    const bucket = drill.outputs[OUTPUTS.archiveBucket] ?? '';
    const keys = await selectArchiveKeys(s3, bucket, {
      orderKeys: outcomes.map((entry) => orderKey(drill.client.clientId, entry.orderId)),
    });
    // Act
    const result = await replayOrders({
      s3,
      sns: new SNSClient(drill.aws),
      sqs: new SQSClient(drill.aws),
      bucket,
      keys,
      target: { kind: 'topic', topicArn: drill.outputs[OUTPUTS.topicArn] ?? '' },
    });
    await quiescent(drill, 60_000);
    // Assess
    figures.replayed = result.sent;
    expect(result.sent).toBe(DRILL_ORDERS);
    const after = await accountFor(drill, outcomes);
    expect(after.statuses).toEqual({ COMPLETED: DRILL_ORDERS });
    expect(after.duplicates).toBe(0);
  });

  it('answers every hostile request sent over HTTP with its documented 4xx and stores none', async () => {
    // Act
    const { results, orderIds } = await hostile;
    // Assess
    figures.hostileHttp = results.length;
    expect(results.length).toBeGreaterThan(150);
    expect(results.filter((entry) => entry.status !== entry.expected)).toEqual([]);
    // Each answer is the publisher's (or the load balancer's) JSON error, not a transport failure.
    expect(results.filter((entry) => typeof entry.error !== 'string')).toEqual([]);
    const inspect = new StackInspector(drill);
    for (const orderId of orderIds) expect(await inspect.order(orderId)).toBeUndefined();
  });
});

/**
 * Sends exactly these headers (repeats included) and bytes on a fresh connection; returns the
 * status and the `error` of the JSON answer (undefined when the answer is not the publisher's).
 */
function rawRequest(
  url: string,
  method: string,
  path: string,
  headers: Array<[string, string]>,
  body: Buffer,
): Promise<{ status: number; error?: string }> {
  return new Promise((resolve, reject) => {
    // Raw header lists get no Host header of their own, and Node's server requires one.
    const flat = ['host', new URL(url).host, ...headers.flatMap(([name, value]) => [name, value])];
    if (body.length > 0) flat.push('content-length', String(body.length));
    // The path goes out as written: a URL object would resolve `..` segments before sending.
    const { hostname, port } = new URL(url);
    const req = httpRequest(
      { hostname, port, path, method, headers: flat, timeout: 20_000, agent: false },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => {
          let error: string | undefined;
          try {
            error = (JSON.parse(Buffer.concat(chunks).toString('utf8')) as { error?: string }).error;
          } catch {
            error = undefined;
          }
          resolve({ status: response.statusCode ?? 0, error });
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}
