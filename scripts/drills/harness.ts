import { ScanCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { EnvironmentConfig } from '../../environments';
import { OUTPUTS } from '../../infra/stacks/order-pipeline-stack';
import { OrderClient } from '../lib/order-client';
import { startMonitoring, type LocalMonitoring } from '../local/alarms/monitoring';
import { alarmId } from '../local/alarms/definitions';
import type { AlarmTransition } from '../local/alarms/engine';
import type { CfnTemplate } from '../local/cfn-template';
import { deploymentGroups, LocalDeployer, type DeploymentGroupSpec } from '../local/canary/deployments';
import type { LocalFunction } from '../local/lambda-runtime';
import type { SweepResult } from '../../lambdas/reconciler/reconcile';
import type { LocalSchedule } from '../local/scheduler';
import { startLocalStack, type LocalStack, type StackFaultProxies } from '../local/stack';
import type { Accounting, RequestOutcome } from '../stress/accounting';
import type { RequestKind } from '../stress/mix';
import { drillOrderBody, settleOrders, submitOrder } from './orders';

/** What a drill's steps can use. */
export interface DrillContext {
  stack: LocalStack;
  monitoring: LocalMonitoring;
  config: EnvironmentConfig;
  orders: OrderClient;
  /** The local function whose handler folder is `entry` (publisher, billing, ...). */
  fn(entry: string): LocalFunction;
  /** The deployment group that deploys the function of `entry`. */
  deploymentGroup(entry: string): DeploymentGroupSpec;
  deployer: LocalDeployer;
  /** Sends `count` valid orders, `concurrency` at a time; returns the status codes seen. */
  sendOrders(count: number, concurrency?: number): Promise<Record<number, number>>;
  /** Rows in the failed-orders table. */
  failedOrderRows(): Promise<number>;
  /** The stack's fault proxies. @throws Error unless the drill asked for `faultProxy` */
  faults(): StackFaultProxies;
  /** A valid order body with a fresh id. */
  orderBody(): string;
  /** Sends one order and records its answer as the stress tool does (kind `replay` for a resend). */
  submit(body: string, kind?: RequestKind): Promise<RequestOutcome>;
  /** Runs the reconciler's schedule now (after any sweep in flight): what it answered, or its error. */
  sweep(): Promise<{ result?: SweepResult; error?: Error }>;
  /** One period of the reconciler's schedule on the drill's clock, in wall-clock ms. */
  sweepPeriodMs: number;
  /**
   * Waits up to `deadlineMs` for every accepted order of `outcomes` (202s, and ambiguous answers
   * whose order exists) to end, then accounts for each (scripts/stress/accounting).
   */
  settle(outcomes: readonly RequestOutcome[], deadlineMs: number): Promise<Accounting>;
  /** Waits `ms` of wall-clock time. */
  sleep(ms: number): Promise<void>;
  /** A line in the drill's log. */
  note(text: string): void;
  /** Runs `cleanup` when the drill is over (after its alarms were watched). */
  defer(cleanup: () => Promise<void>): void;
}

/** A check a drill makes besides its alarms. */
export interface DrillCheck {
  name: string;
  ok: boolean;
  detail: string;
}

/** One failure drill: what it breaks, and which alarms must fire. */
export interface Drill {
  name: string;
  /** What breaks, in a line. */
  summary: string;
  /** Alarm ids (logical id without the hash) that must fire; regular expressions. */
  expected: RegExp[];
  /** Alarm ids that may fire as a side effect of the fault without failing the drill. */
  tolerated?: RegExp[];
  /** Route the handlers' and the workflow's AWS calls through fault proxies (`context.faults()`). */
  faultProxy?: boolean;
  /** Changes the synthesized templates (a copy) before the stack starts: a shorter execution timeout, say. */
  template?: (templates: Record<string, CfnTemplate>) => void;
  /** Injects the fault and the load; returns checks of what else must hold. */
  run(context: DrillContext): Promise<DrillCheck[]>;
  /** Wall-clock seconds the drill may wait for its expected alarms. @default 30 */
  deadlineSeconds?: number;
}

/** One alarm that fired during a drill. */
export interface FiredAlarm {
  id: string;
  /** Clock seconds from the fault to the ALARM state. */
  secondsToFire: number;
  notified: boolean;
  /** The alarm has ALARM actions (canary alarms have none: the rollback is their action). */
  hasActions: boolean;
  /** Why a notification was not published, if it was not. */
  notDelivered?: string;
}

export interface DrillResult {
  drill: string;
  expected: string[];
  fired: FiredAlarm[];
  missing: string[];
  unexpected: string[];
  checks: DrillCheck[];
  passed: boolean;
  wallSeconds: number;
  log: string[];
}

export interface DrillRunOptions {
  config: EnvironmentConfig;
  templates: Record<string, CfnTemplate>;
  /** Clock speed. */
  speed: number;
  onProgress?: (line: string) => void;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Runs one drill on a fresh local stack: starts it, warms it (an order through every function,
 * so sandbox start-up on a shared machine is not what the alarms see), attaches CloudWatch at
 * `speed`, lets every alarm reach its first state, injects the fault, waits for the expected
 * alarms, then watches a few more periods for unexpected ones.
 */
export async function runDrill(drill: Drill, options: DrillRunOptions): Promise<DrillResult> {
  const started = performance.now();
  const log: string[] = [];
  const note = (text: string) => {
    log.push(text);
    options.onProgress?.(`  ${drill.name}: ${text}`);
  };
  let templates = options.templates;
  if (drill.template) {
    templates = structuredClone(options.templates);
    drill.template(templates);
  }
  const stack = await startLocalStack({
    port: 0,
    writeStateFile: false,
    config: options.config,
    templates,
    emitMetrics: true,
    logLevel: 'SILENT',
    faultProxy: drill.faultProxy ?? false,
    // Sweeps run when a drill runs one (context.sweep), not by the wall clock.
    scheduleSpeed: 0,
  });
  let monitoring: LocalMonitoring | undefined;
  const cleanups: Array<() => Promise<void>> = [];
  try {
    const orders = new OrderClient({
      url: stack.url,
      clientId: stack.client.clientId,
      secret: stack.client.secret,
    });
    const sendOrders = async (count: number, concurrency = 4) => {
      const codes: Record<number, number> = {};
      let next = 0;
      await Promise.all(
        Array.from({ length: Math.min(concurrency, count) }, async () => {
          while (next < count) {
            const index = next++;
            const response = await orders.submit(drillOrderBody(index)).catch(() => ({ status: 0 }));
            codes[response.status] = (codes[response.status] ?? 0) + 1;
          }
        }),
      );
      return codes;
    };
    const fired = new Map<string, AlarmTransition>();
    monitoring = await startMonitoring(stack, {
      speed: options.speed,
      deferAlarms: true,
      onTransition: (transition) => {
        if (transition.to !== 'ALARM') return;
        const id = alarmId(transition.alarm.logicalId);
        if (!fired.has(id)) fired.set(id, transition);
        note(`ALARM ${id}`);
      },
    });
    // Warm-up: four orders at once start the publisher's sandboxes and run every function once;
    // cold starts on a shared machine are not what the alarms should judge.
    const warm = Array.from(
      { length: 4 },
      (_, index) => JSON.parse(drillOrderBody(index)) as { order_id: string },
    );
    await Promise.all(warm.map((order) => orders.submit(JSON.stringify(order)).catch(() => undefined)));
    await Promise.all(
      warm.map((order) =>
        orders.waitForTerminal(order.order_id, { deadlineMs: 30_000 }).catch(() => undefined),
      ),
    );
    monitoring.cloudWatch.store.clear();
    monitoring.alarms.start();
    const { clock } = monitoring;
    const period = Math.max(...monitoring.alarms.alarms.map((alarm) => alarm.periodSeconds)) * 1000;
    // Two periods for every alarm to leave INSUFFICIENT_DATA on the healthy warm-up traffic.
    await clock.sleep(2 * period);
    const groups = deploymentGroups(stack.templates);
    const fn = (entry: string) => {
      const found = stack.functions.find((candidate) => candidate.spec.entry === entry);
      if (!found) throw new Error(`the stack has no ${entry} function`);
      return found;
    };
    const reconcilerSchedule = (): LocalSchedule => {
      const schedule = stack.schedules.find((candidate) => candidate.fn === fn('reconciler'));
      if (!schedule) throw new Error('the template has no schedule for the reconciler');
      return schedule;
    };
    let submitted = 0;
    const context: DrillContext = {
      stack,
      monitoring,
      config: options.config,
      orders,
      fn,
      deploymentGroup: (entry) => {
        const group = groups.find((candidate) => candidate.functionName === fn(entry).spec.name);
        if (!group) throw new Error(`no deployment group deploys ${entry} (is canaryDeployments on?)`);
        return group;
      },
      deployer: new LocalDeployer(clock, (name) => monitoring?.alarms.state(name)),
      sendOrders,
      failedOrderRows: async () => {
        const result = await new DynamoDBClient(stack.aws).send(
          new ScanCommand({ TableName: stack.outputs[OUTPUTS.failedOrdersTable], Select: 'COUNT' }),
        );
        return result.Count ?? 0;
      },
      faults: () => {
        if (!stack.faults) throw new Error(`drill ${drill.name} did not ask for faultProxy`);
        return stack.faults;
      },
      orderBody: () => drillOrderBody(submitted),
      submit: (body, kind = 'valid') => submitOrder(orders, body, kind, submitted++, started),
      sweep: async () => {
        try {
          return { result: (await reconcilerSchedule().runNow()) as SweepResult };
        } catch (error) {
          return { error: error as Error };
        }
      },
      sweepPeriodMs: reconcilerSchedule().periodMs / options.speed,
      settle: (outcomes, deadlineMs) => settleOrders(stack, outcomes, deadlineMs),
      sleep,
      note,
      defer: (cleanup) => cleanups.push(cleanup),
    };
    const faultAt = clock.now();
    const checks = await drill.run(context);
    const deadline = performance.now() + (drill.deadlineSeconds ?? 30) * 1000;
    const matches = (id: string, patterns: RegExp[]) => patterns.some((pattern) => pattern.test(id));
    const missingNow = () =>
      drill.expected.filter((pattern) => ![...fired.keys()].some((id) => pattern.test(id)));
    while (missingNow().length > 0 && performance.now() < deadline) await sleep(250);
    // A few more periods: an alarm the drill should not raise has time to show.
    await clock.sleep(2 * period);
    await monitoring.stop();

    const delivered = new Set(
      monitoring.pager.delivered.filter((n) => n.newState === 'ALARM').map((n) => n.alarmName),
    );
    const firedList: FiredAlarm[] = [...fired.entries()].map(([id, transition]) => {
      const failed = transition.actions.find((action) => !action.published);
      return {
        id,
        secondsToFire: Math.max(0, Math.round((transition.at - faultAt) / 1000)),
        notified: delivered.has(transition.alarm.name),
        hasActions: transition.alarm.alarmActions.length > 0,
        notDelivered:
          failed?.error ?? (transition.actions.length === 0 ? 'the alarm has no ALARM action' : undefined),
      };
    });
    const missing = missingNow().map(String);
    const unexpected = firedList
      .map((alarm) => alarm.id)
      .filter((id) => !matches(id, drill.expected) && !matches(id, drill.tolerated ?? []));
    const undelivered = firedList.filter(
      (alarm) => matches(alarm.id, drill.expected) && alarm.hasActions && !alarm.notified,
    );
    const allChecks = [
      ...checks,
      ...undelivered.map((alarm) => ({
        name: `${alarm.id} paged someone`,
        ok: false,
        detail: alarm.notDelivered ?? 'published, but no notification reached the pager',
      })),
    ];
    return {
      drill: drill.name,
      expected: drill.expected.map((pattern) => pattern.source.replace(/^\^|\$$/g, '')),
      fired: firedList,
      missing,
      unexpected,
      checks: allChecks,
      passed: missing.length === 0 && unexpected.length === 0 && allChecks.every((check) => check.ok),
      wallSeconds: Math.round((performance.now() - started) / 1000),
      log,
    };
  } finally {
    for (const cleanup of cleanups) await cleanup().catch(() => undefined);
    await monitoring?.stop().catch(() => undefined);
    await stack.stop();
  }
}
