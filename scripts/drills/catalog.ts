import { LIVE_ALIAS } from '../../infra/constructs/order-pipeline-function';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { ENV } from '../../lambdas/shared/runtime-contract';
import { TEMPLATE_VERSION } from '../local/stack';
import { normalizeMix } from '../stress/mix';
import { runStress } from '../stress/run';
import type { Drill, DrillCheck, DrillContext } from './harness';
import { SlowLink } from './slow-link';

/** The release the template replaces (see TEMPLATE_VERSION). */
const PREVIOUS_VERSION = '1';

const check = (name: string, ok: boolean, detail: string): DrillCheck => ({ name, ok, detail });

/** Polls `probe` until it holds or `ms` of wall time pass; returns its last value. */
async function waitFor<T>(
  context: DrillContext,
  ms: number,
  probe: () => Promise<T>,
  done: (value: T) => boolean,
) {
  const deadline = Date.now() + ms;
  let value = await probe();
  while (!done(value) && Date.now() < deadline) {
    await context.sleep(500);
    value = await probe();
  }
  return value;
}

/** Steady traffic until `until` settles: one order every `everyMs`. */
async function trafficDuring<T>(
  context: DrillContext,
  until: Promise<T>,
  everyMs = 150,
): Promise<{ result: T; codes: Record<number, number> }> {
  const codes: Record<number, number> = {};
  let finished = false;
  const sender = (async () => {
    while (!finished) {
      const seen = await context.sendOrders(1, 1);
      for (const [code, count] of Object.entries(seen))
        codes[Number(code)] = (codes[Number(code)] ?? 0) + count;
      await context.sleep(everyMs);
    }
  })();
  const result = await until.finally(() => (finished = true));
  await sender;
  return { result, codes };
}

const codesText = (codes: Record<number, number>) =>
  Object.entries(codes)
    .map(([code, count]) => `${count}x${code}`)
    .join(' ');

/**
 * The failure drills of `npm run drills`. Each names the alarms that must fire (by logical id
 * without its hash) and the ones the same fault may also raise on AWS.
 */
export const DRILLS: Drill[] = [
  {
    name: 'healthy stress run',
    summary:
      'a small stress run of the local mix (valid, rejected, invalid, bad signature, replay): no alarm fires',
    expected: [],
    async run(context) {
      const report = await runStress({
        environment: 'local',
        target: {
          url: context.stack.url,
          clientId: context.stack.client.clientId,
          secret: context.stack.client.secret,
          outputs: context.stack.outputs,
          aws: context.stack.aws,
        },
        settings: {
          orders: 40,
          concurrency: 4,
          ratePerSecond: 0,
          mix: normalizeMix(context.config.stress.mix),
          deadlineSeconds: 60,
          seed: 20_261_201,
          thresholds: context.config.stress.thresholds,
        },
        rules: context.config,
        pollIntervalMs: 500,
      });
      context.note(
        `stress: ${report.requests.sent} requests (${JSON.stringify(report.requests.byStatus)}), p95 ${Math.round(report.latency.accept.p95)} ms`,
      );
      return [
        check(
          'every accepted order reached a terminal status',
          !report.wait.deadlineReached,
          `waited ${report.wait.seconds} s`,
        ),
      ];
    },
  },
  {
    name: 'publisher dependencies unreachable',
    summary:
      'the AWS endpoint the publisher calls refuses connections for 6 s while orders arrive: it answers 503',
    expected: [/AlbTarget5xx$/, /PublisherCanaryTarget5xx$/, /PublisherCanaryDependencyFailures$/],
    faultProxy: true,
    async run(context) {
      context.stack.faultProxy?.interrupt(6_000);
      const codes = await context.sendOrders(12, 3);
      context.note(`answers during the outage: ${codesText(codes)}`);
      return [check('the publisher answered 503', (codes[503] ?? 0) > 0, codesText(codes))];
    },
  },
  {
    name: 'consumer failure injection 1.0',
    summary:
      'billing and archive fail every record: messages reach their DLQs after maxReceiveCount receives and the DLQ handler records them',
    expected: [
      /BillingDeadLetterQueueArrivals$/,
      /ArchiveDeadLetterQueueArrivals$/,
      /BillingCanaryRecordFailures$/,
      /ArchiveCanaryRecordFailures$/,
      /BillingCanaryDeadLetters$/,
      /ArchiveCanaryDeadLetters$/,
    ],
    deadlineSeconds: 120,
    async run(context) {
      for (const entry of ['billing', 'archive'])
        context.fn(entry).updateEnvironment({ [ENV.failureInjectionRate]: '1' });
      const codes = await context.sendOrders(3, 3);
      // Each order's billing and archive messages are dead-lettered and recorded: two rows.
      const rows = await waitFor(
        context,
        110_000,
        () => context.failedOrderRows(),
        (count) => count >= 6,
      );
      context.note(`failed-orders rows: ${rows}`);
      return [
        check(
          'the DLQ handler recorded every dead-lettered message',
          rows >= 2 * (codes[202] ?? 0) && rows > 0,
          `${rows} failed-orders rows for ${codes[202] ?? 0} accepted orders`,
        ),
      ];
    },
  },
  {
    name: 'DLQ handler failing',
    summary:
      'billing fails every record and the DLQ handler fails at init (no FAILED_ORDERS_TABLE_NAME): dead letters stay unrecorded',
    expected: [
      /DlqErrors$/,
      /DlqCanaryErrors$/,
      /DlqCanaryDeadLettersNotRecorded$/,
      /BillingDeadLetterQueueArrivals$/,
      /BillingCanaryRecordFailures$/,
      /BillingCanaryDeadLetters$/,
    ],
    deadlineSeconds: 120,
    async run(context) {
      context.fn('billing').updateEnvironment({ [ENV.failureInjectionRate]: '1' });
      context.fn('dlq').updateEnvironment({ [ENV.failedOrdersTable]: '' });
      await context.sendOrders(2, 2);
      return [];
    },
  },
  {
    name: 'workflow step failing',
    summary:
      'the validate step fails at init (a bad ORDER_TOTAL_LIMIT): executions fail and each order gets a failed-orders row',
    expected: [
      /WorkflowExecutionsFailed$/,
      /ValidateErrors$/,
      /ValidateCanaryErrors$/,
      /ValidateCanaryWorkflowFailures$/,
    ],
    async run(context) {
      context.fn('validate').updateEnvironment({ [ENV.orderTotalLimit]: 'not-a-number' });
      const codes = await context.sendOrders(3, 3);
      const rows = await waitFor(
        context,
        30_000,
        () => context.failedOrderRows(),
        (count) => count >= 3,
      );
      return [
        check(
          'every order got a failed-orders row',
          rows >= (codes[202] ?? 0) && rows > 0,
          `${rows} rows for ${codes[202] ?? 0} accepted orders`,
        ),
      ];
    },
  },
  {
    name: 'throttled functions',
    summary:
      'validate, billing and archive capped at one concurrent execution while 30 orders arrive 8 at a time, then the publisher too; the DLQ handler at zero while a message reaches a DLQ',
    expected: [
      /PublisherThrottles$/,
      /ValidateThrottles$/,
      /BillingThrottles$/,
      /ArchiveThrottles$/,
      /DlqThrottles$/,
      /AlbElb5xx$/,
      /BillingDeadLetterQueueArrivals$/,
      /BillingCanaryDeadLetters$/,
    ],
    // The message the throttled DLQ handler cannot take stays unrecorded past one receive; a
    // validate task throttled past the workflow's retries fails its execution, as on AWS.
    tolerated: [
      /DlqCanaryDeadLettersNotRecorded$/,
      /WorkflowExecutionsFailed$/,
      /ValidateCanaryWorkflowFailures$/,
    ],
    async run(context) {
      for (const entry of ['validate', 'billing', 'archive'])
        Object.assign(context.fn(entry).spec, { maxConcurrency: 1, throttleWhenBusy: true });
      // Reserved concurrency 0: every invocation of the DLQ handler is throttled.
      Object.assign(context.fn('dlq').spec, { maxConcurrency: 0, throttleWhenBusy: true });
      const deadLetterQueue = context.stack.outputs.BillingDeadLetterQueueUrl;
      if (!deadLetterQueue) throw new Error('the stack has no BillingDeadLetterQueueUrl output');
      await new SQSClient(context.stack.aws).send(
        new SendMessageCommand({
          QueueUrl: deadLetterQueue,
          MessageBody: JSON.stringify({ drill: 'throttled DLQ handler' }),
        }),
      );
      // Validate runs for milliseconds, so overlaps are rare: at zero for 1.5 s, its first tasks are
      // throttled, and the workflow's retries (Lambda.TooManyRequestsException) succeed after.
      const validate = context.fn('validate').spec;
      Object.assign(validate, { maxConcurrency: 0 });
      const early = context.sendOrders(4, 4);
      await context.sleep(1_500);
      Object.assign(validate, { maxConcurrency: 1 });
      await early;
      // Then the consumers, with orders getting through an unlimited publisher; then the publisher.
      const through = await context.sendOrders(30, 8);
      Object.assign(context.fn('publisher').spec, { maxConcurrency: 1, throttleWhenBusy: true });
      const codes = await context.sendOrders(16, 8);
      context.note(`answers: ${codesText(through)}, then with the publisher capped: ${codesText(codes)}`);
      return [
        check(
          'some requests were refused at the limit',
          Object.keys(codes).some((code) => Number(code) >= 500),
          codesText(codes),
        ),
      ];
    },
  },
  {
    name: 'slow dependency',
    summary:
      "every AWS call of the publisher takes 0.8 s more: p99 response time crosses its threshold; the consumers' calls take longer than their timeout: they time out",
    expected: [
      /AlbTargetResponseTimeP99$/,
      /BillingErrors$/,
      /ArchiveErrors$/,
      /BillingCanaryErrors$/,
      /ArchiveCanaryErrors$/,
    ],
    async run(context) {
      const emulator = new URL(context.stack.emulatorEndpoint);
      const target = { host: emulator.hostname, port: Number(emulator.port) };
      // The consumers' link holds each call longer than a whole invocation may take, so every
      // invocation times out whatever its batch size or the machine's load (records run
      // concurrently: a delay below the timeout makes timing out a matter of scheduling).
      const consumers = ['billing', 'archive'].map((entry) => context.fn(entry));
      const longest = Math.max(...consumers.map((fn) => fn.spec.timeoutSeconds));
      const publisherLink = new SlowLink(target, 800);
      const consumerLink = new SlowLink(target, longest * 1000 + 500);
      const publisherEndpoint = await publisherLink.listen();
      const consumerEndpoint = await consumerLink.listen();
      for (const link of [publisherLink, consumerLink]) context.defer(() => link.close());
      context.fn('publisher').updateEnvironment({ AWS_ENDPOINT_URL: publisherEndpoint });
      for (const fn of consumers) fn.updateEnvironment({ AWS_ENDPOINT_URL: consumerEndpoint });
      const codes = await context.sendOrders(8, 4);
      context.note(`answers: ${codesText(codes)}`);
      return [check('orders were still accepted', (codes[202] ?? 0) > 0, codesText(codes))];
    },
  },
  {
    name: 'publisher fails at init',
    summary:
      'a configuration without ORDERS_TABLE_NAME: every publisher invocation fails, the load balancer answers 502',
    expected: [/AlbElb5xx$/, /PublisherErrors$/, /PublisherCanaryErrors$/],
    async run(context) {
      context.fn('publisher').updateEnvironment({ [ENV.ordersTable]: '' });
      const codes = await context.sendOrders(6, 3);
      return [check('the load balancer answered 502', (codes[502] ?? 0) > 0, codesText(codes))];
    },
  },
  {
    name: 'stalled consumers',
    summary:
      "the billing and archive event sources are disabled for 70 s: the age of each queue's oldest message crosses 60 s",
    expected: [/BillingQueueOldestMessage$/, /ArchiveQueueOldestMessage$/],
    deadlineSeconds: 20,
    async run(context) {
      const sources = context.stack.eventSources.filter((candidate) =>
        [context.fn('billing'), context.fn('archive')].includes(candidate.fn),
      );
      await Promise.all(sources.map((source) => source.stop()));
      await context.sendOrders(2, 2);
      await context.sleep(70_000);
      for (const source of sources) source.start();
      return [];
    },
  },
  {
    name: 'broken publisher version, canary',
    summary:
      'the publisher version under deployment names a table and a state machine that do not exist: 10 % of the `live` traffic shifts to it, its alarms fire, the alias returns to the previous version',
    expected: [/AlbTarget5xx$/, /PublisherCanaryTarget5xx$/, /PublisherCanaryDependencyFailures$/],
    async run(context) {
      const fn = context.fn('publisher');
      const group = context.deploymentGroup('publisher');
      // The release before runs; the template's version, now carrying a wrong table name, deploys.
      fn.setAlias({ name: LIVE_ALIAS, version: PREVIOUS_VERSION });
      const broken = TEMPLATE_VERSION;
      fn.reconfigureVersion(broken, {
        [ENV.ordersTable]: 'Local-OrderPipeline-NoSuchTable',
        [ENV.stateMachineArn]: 'arn:aws:states:us-east-1:123456789012:stateMachine:NoSuchMachine',
      });
      const { result, codes } = await trafficDuring(
        context,
        context.deployer.deploy(fn, group, broken, (step) => context.note(`alias live: ${step}`)),
      );
      context.note(
        `deployment ${result.status} after ${Math.round(result.durationMs / 1000)} s (clock); traffic ${codesText(codes)}`,
      );
      const alias = fn.alias;
      return [
        check(
          'the deployment rolled back',
          result.status === 'RolledBack',
          `${result.status}; alarms in ALARM: ${result.alarmsInAlarm.join(', ') || 'none'}`,
        ),
        check(
          'the alias serves the previous version alone again',
          alias?.version === '1' && !alias.additionalVersion,
          JSON.stringify(alias),
        ),
        check(
          '10 % of traffic reached the new version first',
          result.steps[0]?.endsWith(`${broken}:10%`) ?? false,
          result.steps.join(' -> '),
        ),
      ];
    },
  },
  {
    name: 'healthy publisher version, canary',
    summary:
      'the publisher version under deployment is the template as synthesized: the canary shift completes and the alias points at it',
    expected: [],
    async run(context) {
      const fn = context.fn('publisher');
      const group = context.deploymentGroup('publisher');
      // The release before runs; the template's version, as synthesized, deploys.
      fn.setAlias({ name: LIVE_ALIAS, version: PREVIOUS_VERSION });
      const next = TEMPLATE_VERSION;
      const { result, codes } = await trafficDuring(
        context,
        context.deployer.deploy(fn, group, next, (step) => context.note(`alias live: ${step}`)),
      );
      context.note(
        `deployment ${result.status} after ${Math.round(result.durationMs / 1000)} s (clock); traffic ${codesText(codes)}`,
      );
      const alias = fn.alias;
      return [
        check('the deployment succeeded', result.status === 'Succeeded', result.status),
        check(
          'the alias serves the new version alone',
          alias?.version === next && !alias.additionalVersion,
          JSON.stringify(alias),
        ),
        check(
          'every request was accepted',
          Object.keys(codes).every((code) => code === '202'),
          codesText(codes),
        ),
      ];
    },
  },
];
