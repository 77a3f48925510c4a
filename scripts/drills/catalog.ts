import { LIVE_ALIAS } from '../../infra/constructs/order-pipeline-function';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { OUTPUTS } from '../../infra/stacks/order-pipeline-stack';
import { ENV, orderKey } from '../../lambdas/shared/runtime-contract';
import type { CfnTemplate } from '../local/cfn-template';
import { INTERNAL_ERROR, THROTTLING } from '../local/fault-proxy';
import { TEMPLATE_VERSION } from '../local/stack';
import type { RequestOutcome } from '../stress/accounting';
import { normalizeMix } from '../stress/mix';
import { runStress } from '../stress/run';
import type { Drill, DrillCheck, DrillContext } from './harness';
import { orderChecks, orderIdOf, orderItem, writeAcceptedOrder } from './orders';
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
      "every AWS call of the publisher takes 1.1 s more: its two calls per order put p99 response time over its 2 s threshold; the consumers' calls take longer than their timeout: they time out",
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
      // Every publisher request makes two calls, PutItem and StartExecution (three when its
      // secrets cache refreshes): slowing both past half the p99 threshold puts every answer over
      // it, whatever the cache does, and even a cold sandbox's three stay within its timeout.
      const publisher = context.fn('publisher');
      const sfn = new URL(publisher.spec.environment.AWS_ENDPOINT_URL_SFN ?? '');
      const publisherDelayMs = 1100;
      const publisherLink = new SlowLink(target, publisherDelayMs);
      const publisherSfnLink = new SlowLink({ host: sfn.hostname, port: Number(sfn.port) }, publisherDelayMs);
      const consumerLink = new SlowLink(target, longest * 1000 + 500);
      const publisherEndpoint = await publisherLink.listen();
      const publisherSfnEndpoint = await publisherSfnLink.listen();
      const consumerEndpoint = await consumerLink.listen();
      for (const link of [publisherLink, publisherSfnLink, consumerLink]) context.defer(() => link.close());
      publisher.updateEnvironment({
        AWS_ENDPOINT_URL: publisherEndpoint,
        AWS_ENDPOINT_URL_SFN: publisherSfnEndpoint,
      });
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
  ...faultDrills(),
];

/**
 * Reconciler deadlines short enough for a drill's sweep to find what its fault left behind: an
 * ACCEPTED order whose last start is over a second old (the drills sweep only once the runs they
 * broke are over, so no live run is restarted), a PUBLISHED one after 30 s (its consumers may
 * still be at work), or after a second where the drill knows no event of its orders went out.
 */
function reconcileSoon(context: DrillContext, { noEventsOut = false } = {}): void {
  context.fn('reconciler').updateEnvironment({
    [ENV.acceptedDeadlineSeconds]: String(DRILL_ACCEPTED_DEADLINE_MS / 1000),
    [ENV.publishedDeadlineSeconds]: noEventsOut ? String(DRILL_ACCEPTED_DEADLINE_MS / 1000) : '30',
  });
}

/** The drills' ACCEPTED deadline ({@link reconcileSoon}). */
const DRILL_ACCEPTED_DEADLINE_MS = 1_000;

/** Waits until orders started now are past the drills' ACCEPTED deadline. */
const pastAcceptedDeadline = (context: DrillContext) => context.sleep(DRILL_ACCEPTED_DEADLINE_MS + 100);

/** Waits until no workflow execution runs any more. */
async function workflowIdle(context: DrillContext, ms = 30_000): Promise<void> {
  await waitFor(
    context,
    ms,
    async () => context.stack.stepFunctions.inFlight,
    (running) => running === 0,
  );
}

/** The orders' statuses as stored, e.g. `ACCEPTED x3`. */
async function storedStatuses(context: DrillContext, orderIds: readonly string[]): Promise<string[]> {
  return Promise.all(
    orderIds.map(async (orderId) => String((await orderItem(context.stack, orderId))?.status ?? 'MISSING')),
  );
}

const tally = (values: readonly (string | number)[]) =>
  [...new Set(values)]
    .map((value) => `${value} x${values.filter((other) => other === value).length}`)
    .join(', ');

/**
 * One sweep, then every order of `outcomes` must end within one period of the reconciler's
 * schedule on the drill clock; returns the sweep's checks and the orders' accounting checks.
 */
async function sweepAndSettle(
  context: DrillContext,
  outcomes: readonly RequestOutcome[],
  expected: { restarted: number },
): Promise<DrillCheck[]> {
  // A run that failed fast may have ended within the deadline of its start.
  await pastAcceptedDeadline(context);
  const sweep = await context.sweep();
  const restarted = sweep.result?.restarted.length ?? 0;
  context.note(
    sweep.error
      ? `sweep failed: ${sweep.error.message}`
      : `sweep: examined ${sweep.result?.examined}, restarted ${restarted}, failed ${sweep.result?.failed.length}`,
  );
  const accounting = await context.settle(outcomes, context.sweepPeriodMs);
  context.note(`orders: ${JSON.stringify(accounting.statuses)}`);
  return [
    check(
      `the sweep restarted ${expected.restarted} order(s)`,
      sweep.error === undefined && restarted === expected.restarted,
      sweep.error?.message ?? JSON.stringify(sweep.result),
    ),
    ...orderChecks(
      accounting,
      `within one reconciler period (${Math.round(context.sweepPeriodMs / 1000)} s wall at the drill's clock)`,
    ),
  ];
}

/**
 * Sets every state machine's execution timeout (the definition's top-level `TimeoutSeconds`).
 * @throws Error when a definition has none: the drill would not time anything out
 */
function withExecutionTimeout(seconds: number): (templates: Record<string, CfnTemplate>) => void {
  return (templates) => {
    for (const template of Object.values(templates)) {
      for (const resource of Object.values(template.Resources)) {
        if (resource.Type !== 'AWS::StepFunctions::StateMachine') continue;
        const definition = resource.Properties?.DefinitionString as { 'Fn::Join'?: [string, unknown[]] };
        const parts = definition['Fn::Join']?.[1] ?? [];
        const last = parts.length - 1;
        const text = parts[last];
        // The top-level field closes the definition: `..., "TimeoutSeconds":120}`.
        if (typeof text !== 'string' || !/"TimeoutSeconds":\d+}$/.test(text))
          throw new Error('the state machine definition has no top-level TimeoutSeconds to shorten');
        parts[last] = text.replace(/"TimeoutSeconds":\d+}$/, `"TimeoutSeconds":${seconds}}`);
      }
    }
  };
}

/**
 * Issue #16 item 6: faults in the publisher's Step Functions calls and in the workflow's own
 * DynamoDB writes, each drill checking that every order it sent ends terminal within one
 * reconciler period, agreeing with its billing record and archive object, 0 lost, 0 duplicates.
 */
function faultDrills(): Drill[] {
  return [
    {
      name: 'StartExecution throttled while a retry races it',
      summary:
        "Step Functions throttles the publisher's StartExecution while the client resends the order: the resend answers 202 and starts nothing (the first request holds the claim), the first gives up with 503 and releases it; the order sits ACCEPTED with no run until the reconciler's sweep restarts it",
      expected: [
        /StuckOrders$/,
        /AlbTarget5xx$/,
        /PublisherCanaryTarget5xx$/,
        /PublisherCanaryDependencyFailures$/,
      ],
      // The first requests spend seconds in the SDK's backoff on throttles before their 503, on
      // AWS too: the response time p99 crosses its threshold with a handful of requests.
      tolerated: [/AlbTargetResponseTimeP99$/],
      faultProxy: true,
      async run(context) {
        reconcileSoon(context);
        const outcomes: RequestOutcome[] = [];
        const races: string[] = [];
        for (let pair = 0; pair < 2; pair++) {
          const body = context.orderBody();
          const orderId = orderIdOf(body);
          let open: () => void = () => undefined;
          const gate = new Promise<void>((resolve) => (open = resolve));
          // Every StartExecution of this order is throttled; the first waits at the gate, so the
          // resend arrives while the request that claimed the start is still trying.
          const throttle = context.faults().stepFunctions.inject({
            action: 'StartExecution',
            when: (request) => request.body.includes(orderId),
            effect: THROTTLING,
            holdUntil: gate,
          });
          const first = context.submit(body);
          await Promise.race([throttle.taken(), first]);
          const resend = await context.submit(body, 'replay');
          open();
          outcomes.push(await first, resend);
          races.push(`${(await first).status} then ${resend.status} ${resend.acceptedStatus ?? ''}`.trim());
          throttle.remove();
        }
        context.note(`first request, resend: ${races.join('; ')}`);
        const ids = [...new Set(outcomes.map((outcome) => outcome.orderId))];
        const before = await storedStatuses(context, ids);
        return [
          check(
            'each first request answered 503 and its racing resend 202 ACCEPTED',
            races.every((race) => race === '503 then 202 ACCEPTED'),
            races.join('; '),
          ),
          check(
            'the orders waited ACCEPTED, with no run',
            before.every((status) => status === 'ACCEPTED'),
            tally(before),
          ),
          ...(await sweepAndSettle(context, outcomes, { restarted: ids.length })),
        ];
      },
    },
    {
      name: 'StartExecution answer lost',
      summary:
        "Step Functions starts the publisher's runs but every answer is lost on its way back: the publisher answers 503 and releases its claim while the runs go on (one per SDK attempt); the 503s are ambiguous, the orders end COMPLETED once each, a replay's 202 reports COMPLETED, and the sweep has nothing to heal",
      expected: [/AlbTarget5xx$/, /PublisherCanaryTarget5xx$/, /PublisherCanaryDependencyFailures$/],
      faultProxy: true,
      async run(context) {
        reconcileSoon(context);
        const lost = context
          .faults()
          .stepFunctions.inject({ action: 'StartExecution', effect: 'lose-answer' });
        const bodies = Array.from({ length: 3 }, () => context.orderBody());
        const outcomes = await Promise.all(bodies.map((body) => context.submit(body)));
        lost.remove();
        const runs = lost.hits;
        await workflowIdle(context);
        const settled = await context.settle(outcomes, 20_000);
        context.note(
          `answers ${tally(outcomes.map((o) => o.status))}, ${runs} runs started: ${JSON.stringify(settled.statuses)}`,
        );
        const replays = await Promise.all(bodies.map((body) => context.submit(body, 'replay')));
        const sweep = await context.sweep();
        const accounting = await context.settle([...outcomes, ...replays], context.sweepPeriodMs);
        return [
          check(
            'the publisher answered 503 while each order started at least one run',
            outcomes.every((o) => o.status === 503) && runs >= bodies.length,
            `${tally(outcomes.map((o) => o.status))}; ${runs} StartExecution calls reached Step Functions`,
          ),
          check(
            'every 503 was looked up and its order found: accepted',
            settled.ambiguous.orders === bodies.length && settled.ambiguous.accepted === bodies.length,
            `before the replays: ${JSON.stringify(settled.ambiguous)}`,
          ),
          check(
            "each replay's 202 reports the order's current status, COMPLETED",
            replays.every((o) => o.status === 202 && o.acceptedStatus === 'COMPLETED'),
            tally(replays.map((o) => `${o.status} ${o.acceptedStatus ?? ''}`.trim())),
          ),
          check(
            'the sweep had nothing to heal',
            sweep.error === undefined &&
              sweep.result?.restarted.length === 0 &&
              sweep.result.failed.length === 0,
            sweep.error?.message ?? JSON.stringify(sweep.result),
          ),
          ...orderChecks(accounting, 'by themselves'),
        ];
      },
    },
    {
      name: 'publisher dies after its write',
      summary:
        "StartExecution never answers: the publisher times out after writing the order (its sandbox is killed, its claim never released) and the load balancer answers 502; the client's resend finds the claim fresh and starts nothing; the reconciler's sweep restarts the orders",
      expected: [/StuckOrders$/, /AlbElb5xx$/, /PublisherErrors$/, /PublisherCanaryErrors$/],
      faultProxy: true,
      async run(context) {
        reconcileSoon(context);
        const hang = context.faults().stepFunctions.inject({ action: 'StartExecution', effect: 'hang' });
        const bodies = Array.from({ length: 3 }, () => context.orderBody());
        const firsts = await Promise.all(bodies.map((body) => context.submit(body)));
        hang.remove();
        const resends = await Promise.all(bodies.map((body) => context.submit(body, 'replay')));
        context.note(
          `answers ${tally(firsts.map((o) => o.status))}, resends ${tally(resends.map((o) => o.status))}`,
        );
        const before = await storedStatuses(context, bodies.map(orderIdOf));
        return [
          check(
            'the dying publisher left no answer (502) and the resends 202 ACCEPTED',
            firsts.every((o) => o.status === 502) &&
              resends.every((o) => o.status === 202 && o.acceptedStatus === 'ACCEPTED'),
            `${tally(firsts.map((o) => o.status))}; ${tally(resends.map((o) => `${o.status} ${o.acceptedStatus ?? ''}`))}`,
          ),
          check(
            'the orders waited ACCEPTED, with no run',
            before.every((status) => status === 'ACCEPTED'),
            tally(before),
          ),
          ...(await sweepAndSettle(context, [...firsts, ...resends], { restarted: bodies.length })),
        ];
      },
    },
    {
      name: 'workflow run timing out',
      summary:
        "the workflow's StoreOrder write takes 6 s, past an execution timeout shortened to 4 s: the runs time out, the writes land after them and leave the orders PUBLISHED with no run and no event; the reconciler's sweep restarts them",
      // A run past TimeoutSeconds ends TIMED_OUT (States.Timeout), counted as ExecutionsTimedOut
      // and not as ExecutionsFailed, as on AWS.
      expected: [/StuckOrders$/, /WorkflowExecutionsTimedOut$/],
      template: withExecutionTimeout(4),
      faultProxy: true,
      async run(context) {
        // No run got past StoreOrder to PublishOrder: no consumer has anything in flight.
        reconcileSoon(context, { noEventsOut: true });
        const slow = context.faults().workflow.inject({
          action: 'UpdateItem',
          // StoreOrder: the one write that sets the order's total.
          when: (request) => request.body.includes('total_amount'),
          effect: 'pass',
          delayMs: 6_000,
        });
        const bodies = Array.from({ length: 3 }, () => context.orderBody());
        const outcomes = await Promise.all(bodies.map((body) => context.submit(body)));
        const ids = bodies.map(orderIdOf);
        await workflowIdle(context);
        // The held writes land after their runs timed out.
        const before = await waitFor(
          context,
          15_000,
          () => storedStatuses(context, ids),
          (statuses) => slow.held === 0 && statuses.every((status) => status === 'PUBLISHED'),
        );
        slow.remove();
        context.note(`answers ${tally(outcomes.map((o) => o.status))}; after the timeouts: ${tally(before)}`);
        return [
          check(
            'the orders were accepted',
            outcomes.every((o) => o.status === 202),
            tally(outcomes.map((o) => o.status)),
          ),
          check(
            "each run's StoreOrder write landed after the run timed out: PUBLISHED, no run",
            slow.hits >= ids.length && before.every((status) => status === 'PUBLISHED'),
            `${slow.hits} StoreOrder writes held; ${tally(before)}`,
          ),
          ...(await sweepAndSettle(context, outcomes, { restarted: ids.length })),
        ];
      },
    },
    {
      name: 'workflow failure path failing',
      summary:
        "the validate step fails at init and the workflow's RecordFailure and MarkFailed writes are refused: the runs fail with nothing recorded and the orders stay ACCEPTED; once the writes work again the reconciler's sweep restarts them, and the failure path records and fails each",
      expected: [
        /StuckOrders$/,
        /WorkflowExecutionsFailed$/,
        /ValidateErrors$/,
        /ValidateCanaryErrors$/,
        /ValidateCanaryWorkflowFailures$/,
      ],
      faultProxy: true,
      async run(context) {
        reconcileSoon(context);
        context.fn('validate').updateEnvironment({ [ENV.orderTotalLimit]: 'not-a-number' });
        const failedOrdersTable = context.stack.outputs[OUTPUTS.failedOrdersTable] ?? '';
        const failurePath = context.faults().workflow.inject({
          when: (request) =>
            (request.action === 'PutItem' && request.body.includes(`"${failedOrdersTable}"`)) ||
            (request.action === 'UpdateItem' && request.body.includes('":failed"')),
          effect: 'refuse',
        });
        const bodies = Array.from({ length: 3 }, () => context.orderBody());
        const outcomes = await Promise.all(bodies.map((body) => context.submit(body)));
        const ids = bodies.map(orderIdOf);
        await workflowIdle(context);
        failurePath.remove();
        const before = await storedStatuses(context, ids);
        const rowsBefore = await context.failedOrderRows();
        context.note(
          `answers ${tally(outcomes.map((o) => o.status))}; after the runs: ${tally(before)}, ${rowsBefore} failed-orders rows`,
        );
        const checks = await sweepAndSettle(context, outcomes, { restarted: ids.length });
        const accounting = await context.settle(outcomes, 0);
        return [
          check(
            'the failing failure path left the orders ACCEPTED with nothing recorded',
            failurePath.hits >= ids.length &&
              before.every((status) => status === 'ACCEPTED') &&
              rowsBefore === 0,
            `${failurePath.hits} writes refused; ${tally(before)}; ${rowsBefore} rows`,
          ),
          check(
            'after the sweep, each order FAILED with its failed-orders row',
            accounting.failed === ids.length && accounting.failedRecorded === ids.length,
            JSON.stringify(accounting.statuses),
          ),
          ...checks,
        ];
      },
    },
    {
      name: 'reconciler sweeps failing',
      summary:
        'two orders left ACCEPTED by a publisher that died before answering meet a throttled reconciler, then a sweep whose restart of one of them fails (the other is restarted; the sweep fails at its end), then a sweep that cannot read the pending index; the next sweep restarts the last one',
      expected: [
        /StuckOrders$/,
        /ReconcilerThrottles$/,
        /ReconcilerErrors$/,
        /ReconcilerCanaryErrors$/,
        /ReconcilerCanaryDependencyFailures$/,
      ],
      faultProxy: true,
      async run(context) {
        reconcileSoon(context);
        const bodies = [context.orderBody(), context.orderBody()];
        const [blocked = '', free = ''] = bodies.map(orderIdOf);
        for (const body of bodies) await writeAcceptedOrder(context.stack, body);
        // The client got no answer: ambiguous, for the accounting to look up.
        const outcomes: RequestOutcome[] = bodies.map((body, index) => ({
          index,
          kind: 'valid',
          orderId: orderIdOf(body),
          startedMs: 0,
          latencyMs: 0,
          status: 0,
          error: 'the publisher died before answering',
        }));
        await pastAcceptedDeadline(context);
        const spec = context.fn('reconciler').spec;
        Object.assign(spec, { maxConcurrency: 0, throttleWhenBusy: true });
        const throttled = await context.sweep();
        Object.assign(spec, { maxConcurrency: undefined, throttleWhenBusy: false });
        const startFails = context.faults().stepFunctions.inject({
          action: 'StartExecution',
          when: (request) => request.body.includes(blocked),
          effect: INTERNAL_ERROR,
        });
        const partial = await context.sweep();
        startFails.remove();
        const unreadable = context.faults().aws.inject({ action: 'Query', effect: 'refuse' });
        const blind = await context.sweep();
        unreadable.remove();
        // The order restarted by the partial sweep finishes first: the last sweep must find only
        // the one it could not restart (a run still going would look stuck to a 1 s deadline).
        const freeEnd = await waitFor(
          context,
          20_000,
          () => storedStatuses(context, [free]),
          ([status]) => ['COMPLETED', 'FAILED', 'REJECTED'].includes(status ?? ''),
        );
        await pastAcceptedDeadline(context);
        context.note(
          [throttled, partial, blind]
            .map((sweep) => sweep.error?.message.split('\n')[0] ?? JSON.stringify(sweep.result))
            .join(' | '),
        );
        context.note(`the order restarted by the partial sweep ended ${freeEnd.join('')}`);
        const key = (orderId: string) => orderKey(context.stack.client.clientId, orderId);
        return [
          check(
            'the throttled sweep was refused',
            /Rate Exceeded/.test(throttled.error?.message ?? ''),
            String(throttled.error?.message),
          ),
          check(
            'the sweep whose restart failed restarted the other order and failed at its end',
            partial.error !== undefined && /1 of 2 orders/.test(partial.error.message),
            String(partial.error?.message),
          ),
          check(
            'the sweep that could not read the pending index failed',
            blind.error !== undefined,
            String(blind.error?.message),
          ),
          ...(await sweepAndSettle(context, outcomes, { restarted: 1 })).map((entry) =>
            entry.name.startsWith('the sweep restarted')
              ? {
                  ...entry,
                  detail: `${entry.detail} (expected ${key(blocked)}; ${key(free)} was restarted before)`,
                }
              : entry,
          ),
        ];
      },
    },
  ];
}
