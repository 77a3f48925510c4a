/**
 * One stress run: send the planned requests with the project's signed client, wait until every
 * accepted order is terminal (or the deadline passes), read what the stores hold, and build the
 * report. The CLI (scripts/stress-test.ts) and the e2e test both call {@link runStress}.
 */
import { randomBytes } from 'node:crypto';
import { TERMINAL_STATUSES, OrderClient } from '../lib/order-client';
import {
  acceptedOrders,
  requestOutcome,
  ambiguousOrderIds,
  refusedOrderIds,
  type Observations,
  type OrderRow,
  type RequestOutcome,
} from './accounting';
import { planRequests, seededRandom, type OrderRules, type PlannedRequest } from './mix';
import { PipelineObserver, resourcesFromOutputs, sleep } from './observe';
import { ProgressReporter, type ProgressStream } from './progress';
import { buildReport, type StressReport, type StressSettings } from './report';
import type { StressTarget } from './target';

/** Options of {@link runStress}. */
export interface RunStressOptions {
  /** Environment name, for the report. */
  environment: string;
  target: StressTarget;
  settings: StressSettings;
  /** The environment's business rules, so valid orders are valid and invalid ones invalid. */
  rules: OrderRules;
  /** Where progress goes (stderr in the CLI); none when omitted. */
  progress?: ProgressStream;
  /** Per-request timeout. @default 10000 */
  requestTimeoutMs?: number;
  /** Pause between two reads of the orders table while waiting. @default 1000 */
  pollIntervalMs?: number;
  /** Prefix of the run's order ids. @default st-<UTC time>-<random> */
  runId?: string;
}

/** A run id that sorts by time and fits an order id with room for the request index. */
export function newRunId(now: Date): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').slice(0, 15);
  return `st-${stamp}-${randomBytes(3).toString('hex')}`;
}

const STALE_SECONDS = 3600;

/** Sends, waits, observes and reports. */
export async function runStress(options: RunStressOptions): Promise<StressReport> {
  const { target, settings } = options;
  const startedAt = new Date();
  const t0 = performance.now();
  const elapsedMs = () => performance.now() - t0;
  const runId = options.runId ?? newRunId(startedAt);
  const progress = options.progress ? new ProgressReporter(options.progress) : undefined;

  const plan = planRequests({
    orders: settings.orders,
    mix: settings.mix,
    rules: options.rules,
    runId,
    random: seededRandom(settings.seed),
  });
  const client = new OrderClient({
    url: target.url,
    clientId: target.clientId,
    secret: target.secret,
    timeoutMs: options.requestTimeoutMs ?? 10_000,
  });

  const outcomes = await send(plan, client, settings, target.secret, elapsedMs, progress);
  const sendSeconds = elapsedMs() / 1000;

  const observer = new PipelineObserver(resourcesFromOutputs(target.outputs), target.aws, target.clientId);
  const waitStarted = elapsedMs();
  const { deadlineReached } = await awaitTerminal(observer, outcomes, {
    deadlineMs: settings.deadlineSeconds * 1000 - elapsedMs(),
    pollIntervalMs: options.pollIntervalMs,
    onProgress: (done, total, detail) => progress?.update({ phase: 'waiting', done, total, detail }),
  });
  progress?.finish();
  const wait = { seconds: (elapsedMs() - waitStarted) / 1000, deadlineReached };
  const observations = await observeOutcomes(observer, outcomes);
  const deadLetterQueues = await observer.deadLetterDepths();

  return buildReport({
    runId,
    environment: options.environment,
    target: { url: target.url, ...(target.stack ? { stack: target.stack } : {}) },
    startedAt,
    finishedAt: new Date(),
    settings,
    outcomes,
    observations,
    sendSeconds,
    wait,
    deadLetterQueues,
  });
}

/**
 * Polls the orders table until every accepted order of `outcomes` is terminal or `deadlineMs`
 * passes. The orders behind ambiguous answers are looked up on every read: one that turns up is
 * accepted and waited for like the others (a publisher may write it after the client gave up).
 */
export async function awaitTerminal(
  observer: Pick<PipelineObserver, 'orders'>,
  outcomes: readonly RequestOutcome[],
  options: {
    deadlineMs: number;
    pollIntervalMs?: number;
    onProgress?: (done: number, total: number, detail: string) => void;
  },
): Promise<{ deadlineReached: boolean }> {
  const deadline = performance.now() + options.deadlineMs;
  const orders = new Map<string, OrderRow>();
  const lookedUp = [...new Set([...acceptedOrders(outcomes).keys(), ...ambiguousOrderIds(outcomes)])];
  let unsettled = lookedUp;
  for (;;) {
    const rows = await observer.orders(unsettled);
    for (const [orderId, row] of rows) orders.set(orderId, row);
    const accepted = [...acceptedOrders(outcomes, orders).keys()];
    const pending = accepted.filter((orderId) => !isTerminal(orders.get(orderId)));
    options.onProgress?.(
      accepted.length - pending.length,
      accepted.length,
      countStatuses(accepted.map((orderId) => orders.get(orderId)?.status ?? 'MISSING')),
    );
    if (pending.length === 0 || performance.now() >= deadline) return { deadlineReached: pending.length > 0 };
    unsettled = lookedUp.filter((orderId) => !isTerminal(orders.get(orderId)));
    await sleep(Math.min(options.pollIntervalMs ?? 1000, Math.max(0, deadline - performance.now())));
  }
}

/**
 * What the stores hold for the orders of `outcomes`, read once more at the end: side effects may
 * have landed after a status was seen, and an ambiguous answer's order may have turned up.
 */
export async function observeOutcomes(
  observer: Pick<PipelineObserver, 'orders' | 'billingRecords' | 'archiveVersions' | 'failedOrderRows'>,
  outcomes: readonly RequestOutcome[],
): Promise<Observations> {
  const orders = await observer.orders([
    ...new Set([
      ...acceptedOrders(outcomes).keys(),
      ...ambiguousOrderIds(outcomes),
      ...refusedOrderIds(outcomes),
    ]),
  ]);
  const accepted = [...acceptedOrders(outcomes, orders).keys()];
  const acceptedRows = new Map([...orders].filter(([orderId]) => accepted.includes(orderId)));
  return {
    orders,
    billing: await observer.billingRecords(accepted),
    archive: await observer.archiveVersions(acceptedRows),
    failed: await observer.failedOrderRows(accepted),
  };
}

function isTerminal(row: OrderRow | undefined): boolean {
  return row !== undefined && TERMINAL_STATUSES.includes(row.status);
}

function countStatuses(values: readonly (string | number)[]): string {
  const counts = new Map<string, number>();
  for (const value of values) counts.set(String(value), (counts.get(String(value)) ?? 0) + 1);
  return [...counts]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([value, count]) => `${value}:${count}`)
    .join(' ');
}

/**
 * Sends the plan with `concurrency` workers taking requests in order; with a rate, request i
 * leaves no earlier than i / rate seconds after the start.
 */
async function send(
  plan: readonly PlannedRequest[],
  client: OrderClient,
  settings: StressSettings,
  secret: string,
  elapsedMs: () => number,
  progress: ProgressReporter | undefined,
): Promise<RequestOutcome[]> {
  const outcomes: RequestOutcome[] = [];
  // The signing time of each request, so a replay can resend its original byte for byte.
  const timestamps: number[] = [];
  let next = 0;
  const show = () =>
    progress?.update({
      phase: 'sending',
      done: outcomes.length,
      total: plan.length,
      detail: countStatuses(outcomes.map((outcome) => outcome.status)),
    });

  const worker = async () => {
    while (next < plan.length) {
      const request = plan[next++];
      if (!request) break;
      if (settings.ratePerSecond > 0) {
        const due = (request.index * 1000) / settings.ratePerSecond;
        if (due > elapsedMs()) await sleep(due - elapsedMs());
      }
      const now = Math.floor(Date.now() / 1000);
      const original = request.replayOf === undefined ? undefined : timestamps[request.replayOf];
      timestamps[request.index] =
        original ?? (request.signature === 'stale-timestamp' ? now - STALE_SECONDS : now);
      const overrides = {
        timestamp: timestamps[request.index],
        ...(request.signature === 'wrong-secret' ? { secret: `${secret}-wrong` } : {}),
      };
      const startedMs = elapsedMs();
      const sent = { index: request.index, kind: request.kind, orderId: request.orderId, startedMs };
      const outcome = await client.submit(request.body, overrides).then(
        (response) => requestOutcome(sent, response),
        (error: Error) => requestOutcome(sent, { error, latencyMs: elapsedMs() - startedMs }),
      );
      outcomes.push(outcome);
      show();
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(settings.concurrency, plan.length)) }, worker));
  progress?.finish();
  return outcomes.sort((a, b) => a.index - b.index);
}
