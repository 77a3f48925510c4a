/**
 * The stress report: assembled from plain data, checked against the profile's thresholds, and
 * rendered as a text table (stdout), JSON and a self-contained HTML page with inline SVG charts.
 */
import type { StressProfile } from '../../environments';
import { account, acceptedOrders, requestStats, type Accounting, type Observations } from './accounting';
import type { RequestOutcome, RequestStats } from './accounting';
import type { Mix } from './mix';
import {
  latencyHistogram,
  perInterval,
  summarizeLatencies,
  timelineBucketSeconds,
  type HistogramBucket,
  type LatencySummary,
} from './stats';

/** The settings a run used, after defaults and overrides. */
export interface StressSettings {
  orders: number;
  concurrency: number;
  /** Requests per second; 0 = as fast as the concurrency allows. */
  ratePerSecond: number;
  /** Shares per kind, adding up to 1. */
  mix: Mix;
  deadlineSeconds: number;
  seed: number;
  thresholds: StressProfile['thresholds'];
}

/** One pass/fail line of the report. */
export interface Check {
  name: string;
  passed: boolean;
  actual: string;
  limit: string;
}

/** Depth of a dead-letter queue when the run ended. */
export interface QueueDepth {
  visible: number;
  inFlight: number;
}

/** Everything a run measured, as written to report.json. */
export interface StressReport {
  version: 1;
  runId: string;
  environment: string;
  target: { url: string; stack?: string };
  startedAt: string;
  finishedAt: string;
  settings: StressSettings;
  requests: RequestStats & { sendSeconds: number; throughputPerSecond: number };
  latency: {
    /** POST /orders, every answer. */
    accept: LatencySummary;
    /** Accepted to COMPLETED: the order's `updated_at - created_at` (both the server's clock). */
    completion: LatencySummary;
    acceptHistogram: HistogramBucket[];
  };
  accounting: Accounting;
  /** How long the run waited for terminal statuses after sending, and whether the deadline cut it short. */
  wait: { seconds: number; deadlineReached: boolean };
  deadLetterQueues: Record<string, QueueDepth>;
  /** Per-bucket counts from the run's start: answers received, orders accepted, orders terminal. */
  timeline: { bucketSeconds: number; answers: number[]; accepted: number[]; terminal: number[] };
  checks: Check[];
  passed: boolean;
}

/** What {@link buildReport} needs: the run's facts, nothing read from anywhere. */
export interface ReportInput {
  runId: string;
  environment: string;
  target: { url: string; stack?: string };
  startedAt: Date;
  finishedAt: Date;
  settings: StressSettings;
  outcomes: readonly RequestOutcome[];
  observations: Observations;
  sendSeconds: number;
  wait: { seconds: number; deadlineReached: boolean };
  deadLetterQueues: Record<string, QueueDepth>;
}

function durationMs(from: string | undefined, to: string | undefined): number | undefined {
  const start = Date.parse(from ?? '');
  const end = Date.parse(to ?? '');
  return Number.isFinite(start) && Number.isFinite(end) && end >= start ? end - start : undefined;
}

/** Assembles the report and runs its checks. */
export function buildReport(input: ReportInput): StressReport {
  const { outcomes, observations, settings } = input;
  const requests = requestStats(outcomes, settings.thresholds.expectedStatusCodes);
  const accounting = account(outcomes, observations);

  const accepted = acceptedOrders(outcomes, observations.orders);
  const firstSent = new Map<string, number>();
  for (const outcome of outcomes) {
    const orderId = outcome.acceptedOrderId ?? outcome.orderId;
    if (accepted.has(orderId) && !firstSent.has(orderId)) firstSent.set(orderId, outcome.startedMs);
  }
  const completionMs: number[] = [];
  const terminalAtMs: number[] = [];
  for (const orderId of accepted.keys()) {
    const row = observations.orders.get(orderId);
    const elapsed = durationMs(row?.created_at, row?.updated_at);
    if (!row || elapsed === undefined || !['COMPLETED', 'REJECTED', 'FAILED'].includes(row.status)) continue;
    if (row.status === 'COMPLETED') completionMs.push(elapsed);
    // On the client's timeline: sent at, plus the server's accepted-to-terminal time.
    terminalAtMs.push((firstSent.get(orderId) ?? 0) + elapsed);
  }

  const answeredAtMs = outcomes.map((outcome) => outcome.startedMs + outcome.latencyMs);
  const acceptedAtMs = outcomes
    .filter((outcome) => outcome.status === 202)
    .map((outcome) => outcome.startedMs + outcome.latencyMs);
  const runSeconds = (input.finishedAt.getTime() - input.startedAt.getTime()) / 1000;
  const bucketSeconds = timelineBucketSeconds(runSeconds);
  const latencies = outcomes.filter((outcome) => outcome.status !== 0).map((outcome) => outcome.latencyMs);

  const report: StressReport = {
    version: 1,
    runId: input.runId,
    environment: input.environment,
    target: input.target,
    startedAt: input.startedAt.toISOString(),
    finishedAt: input.finishedAt.toISOString(),
    settings,
    requests: {
      ...requests,
      sendSeconds: round(input.sendSeconds),
      throughputPerSecond: input.sendSeconds > 0 ? round(outcomes.length / input.sendSeconds) : 0,
    },
    latency: {
      accept: summarizeLatencies(latencies),
      completion: summarizeLatencies(completionMs),
      acceptHistogram: latencyHistogram(latencies),
    },
    accounting,
    wait: { seconds: round(input.wait.seconds), deadlineReached: input.wait.deadlineReached },
    deadLetterQueues: input.deadLetterQueues,
    timeline: {
      bucketSeconds,
      answers: perInterval(answeredAtMs, bucketSeconds, runSeconds),
      accepted: perInterval(acceptedAtMs, bucketSeconds, runSeconds),
      terminal: perInterval(terminalAtMs, bucketSeconds, runSeconds),
    },
    checks: [],
    passed: false,
  };
  report.checks = evaluateChecks(report);
  report.passed = report.checks.every((check) => check.passed);
  return report;
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}

/** The thresholds of the profile plus the accounting's zero-tolerance rules. */
export function evaluateChecks(
  report: Pick<StressReport, 'accounting' | 'requests' | 'latency' | 'settings'>,
): Check[] {
  const { accounting, requests, latency, settings } = report;
  const zero = (name: string, count: number): Check => ({
    name,
    passed: count === 0,
    actual: String(count),
    limit: '0',
  });
  const unexpectedCodes = Object.entries(requests.unexpectedStatusCodes);
  return [
    zero('lost orders (accepted, not terminal)', accounting.lost),
    zero('duplicates (>1 billing record or archive version)', accounting.duplicates),
    zero('FAILED without a failed-orders row', accounting.failedWithoutRecord.length),
    zero('COMPLETED without billing record or archive object', accounting.completedWithoutSideEffects.length),
    zero('outcome does not fit the request kind', accounting.unexpectedOutcomes.length),
    zero('refused request left an order behind', accounting.refusedButStored.length),
    zero(
      "an order's stores disagree (flags vs records, another body, side effects of a REJECTED or FAILED order)",
      accounting.inconsistentOrders.length,
    ),
    {
      name: 'unexpected status codes',
      passed: unexpectedCodes.length === 0,
      actual:
        unexpectedCodes.length === 0
          ? 'none'
          : unexpectedCodes.map(([code, n]) => `${code} x${n}`).join(', '),
      limit: `only ${settings.thresholds.expectedStatusCodes.join(', ')}`,
    },
    {
      name: 'error rate (answer differs from the kind expected)',
      passed: requests.errorRate <= settings.thresholds.maxErrorRate,
      actual: percent(requests.errorRate),
      limit: `<= ${percent(settings.thresholds.maxErrorRate)}`,
    },
    {
      name: 'accept latency p95',
      passed: latency.accept.p95 <= settings.thresholds.maxP95Ms,
      actual: `${latency.accept.p95} ms`,
      limit: `<= ${settings.thresholds.maxP95Ms} ms`,
    },
  ];
}

function percent(share: number): string {
  return `${(share * 100).toFixed(2)}%`;
}

/** Columns padded to a width; the first is left-aligned, the others right-aligned unless `leftAligned`. */
function table(rows: ReadonlyArray<readonly string[]>, leftAligned = false): string {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows
    .map((row) =>
      row
        .map((cell, i) =>
          i === 0 || leftAligned ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0),
        )
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

function latencyRow(name: string, summary: LatencySummary): string[] {
  return [name, String(summary.count), ...[summary.p50, summary.p95, summary.p99, summary.max].map(String)];
}

/** A few ids of a problem list, for the console. */
function sample(ids: readonly string[], limit = 5): string {
  return ids.length <= limit
    ? ids.join(', ')
    : `${ids.slice(0, limit).join(', ')} (+${ids.length - limit} more)`;
}

/** The request figures both the console table and the HTML page show. */
function requestRows(report: StressReport): string[][] {
  const { requests } = report;
  return [
    ['requests sent', String(requests.sent)],
    [
      'by kind',
      Object.entries(requests.byKind)
        .map(([kind, n]) => `${kind} ${n}`)
        .join(', '),
    ],
    [
      'answers',
      Object.entries(requests.byStatus)
        .map(([code, n]) => `${code === '0' ? 'none' : code} x${n}`)
        .join(', '),
    ],
    ['errors', `${requests.errors} (${percent(requests.errorRate)})`],
    ['send time / throughput', `${requests.sendSeconds} s / ${requests.throughputPerSecond} req/s`],
    [
      'waited for terminal',
      `${report.wait.seconds} s${report.wait.deadlineReached ? ' (deadline reached)' : ''}`,
    ],
  ];
}

/** The accounting figures both the console table and the HTML page show. */
function accountingRows({ accounting }: StressReport): string[][] {
  const { ambiguous } = accounting;
  return [
    ['accepted', String(accounting.accepted)],
    [
      'ambiguous answers (none or 5xx), looked up',
      `${ambiguous.answers}: ${ambiguous.accepted} of ${ambiguous.orders} orders found (accepted), ${ambiguous.notAccepted} not`,
    ],
    ['COMPLETED', String(accounting.completed)],
    ['REJECTED', String(accounting.rejected)],
    ['FAILED (with failed-orders row)', `${accounting.failed} (${accounting.failedRecorded})`],
    ['lost (accepted - terminal)', String(accounting.lost)],
    ['duplicates', String(accounting.duplicates)],
  ];
}

/** The report as the console shows it. */
export function renderText(report: StressReport): string {
  const { accounting, latency } = report;
  const lines: string[] = [];
  lines.push(
    `Stress run ${report.runId} on ${report.environment} (${report.target.url}), ${report.startedAt}`,
    '',
    table(requestRows(report), true),
    '',
    table([
      ['latency (ms)', 'n', 'p50', 'p95', 'p99', 'max'],
      latencyRow('accept (POST /orders)', latency.accept),
      latencyRow('accepted -> COMPLETED', latency.completion),
    ]),
    '',
    table([['accounting', 'orders'], ...accountingRows(report)]),
  );
  const dlqs = Object.entries(report.deadLetterQueues);
  if (dlqs.length > 0) {
    lines.push(
      '',
      table([
        ['dead-letter queue', 'visible', 'in flight'],
        ...dlqs.map(([name, depth]) => [name, String(depth.visible), String(depth.inFlight)]),
      ]),
    );
  }
  const problems: Array<[string, string[]]> = [
    ['lost', accounting.lostOrders.map((order) => `${order.orderId} (${order.status})`)],
    ['duplicate', accounting.duplicateOrders.map(describeSideEffects)],
    ['FAILED without row', accounting.failedWithoutRecord],
    ['COMPLETED without side effect', accounting.completedWithoutSideEffects.map(describeSideEffects)],
    [
      'unexpected outcome',
      accounting.unexpectedOutcomes.map((o) => `${o.orderId} (${o.kind} -> ${o.status})`),
    ],
    ['refused but stored', accounting.refusedButStored],
    [
      'stores disagree',
      accounting.inconsistentOrders.map((o) => `${o.orderId} (${o.status}: ${o.problems.join('; ')})`),
    ],
  ];
  for (const [name, ids] of problems) if (ids.length > 0) lines.push(`${name}: ${sample(ids)}`);
  lines.push(
    '',
    table([
      ['check', 'actual', 'limit', ''],
      ...report.checks.map((check) => [check.name, check.actual, check.limit, check.passed ? 'ok' : 'FAIL']),
    ]),
    '',
    report.passed
      ? 'PASSED'
      : `FAILED: ${report.checks.filter((check) => !check.passed).length} check(s) missed`,
  );
  return lines.join('\n');
}

function describeSideEffects(effects: {
  orderId: string;
  billingRecords: number;
  archiveVersions: number;
}): string {
  return `${effects.orderId} (billing ${effects.billingRecords}, archive ${effects.archiveVersions})`;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const CHART = { width: 720, height: 240, left: 48, right: 12, top: 12, bottom: 40 };

function axes(maxY: number, xLabel: string, yLabel: string): string {
  const { width, height, left, right, top, bottom } = CHART;
  const plotHeight = height - top - bottom;
  const ticks = [0, 0.5, 1].map((share) => {
    const y = top + plotHeight * (1 - share);
    const value = Math.round(maxY * share * 10) / 10;
    return `<line x1="${left}" x2="${width - right}" y1="${y}" y2="${y}" stroke="#e5e7eb"/><text x="${left - 6}" y="${y + 4}" text-anchor="end">${value}</text>`;
  });
  return [
    ...ticks,
    `<line x1="${left}" x2="${left}" y1="${top}" y2="${height - bottom}" stroke="#9ca3af"/>`,
    `<line x1="${left}" x2="${width - right}" y1="${height - bottom}" y2="${height - bottom}" stroke="#9ca3af"/>`,
    `<text x="${(left + width - right) / 2}" y="${height - 4}" text-anchor="middle">${escapeHtml(xLabel)}</text>`,
    `<text x="12" y="${top + plotHeight / 2}" text-anchor="middle" transform="rotate(-90 12 ${top + plotHeight / 2})">${escapeHtml(yLabel)}</text>`,
  ].join('');
}

function svg(title: string, body: string): string {
  return `<figure><figcaption>${escapeHtml(title)}</figcaption><svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${CHART.width} ${CHART.height}" role="img" aria-label="${escapeHtml(title)}">${body}</svg></figure>`;
}

/** A bar chart: one bar per label. */
export function barChart(
  title: string,
  labels: readonly string[],
  values: readonly number[],
  xLabel: string,
  yLabel: string,
): string {
  const { width, height, left, right, top, bottom } = CHART;
  const maxY = Math.max(1, ...values);
  const slot = (width - left - right) / Math.max(1, values.length);
  const plotHeight = height - top - bottom;
  const labelEvery = Math.ceil(values.length / 12);
  const bars = values.map((value, i) => {
    const barHeight = (value / maxY) * plotHeight;
    const x = left + i * slot;
    const label =
      i % labelEvery === 0
        ? `<text x="${x + slot / 2}" y="${height - bottom + 14}" text-anchor="middle">${escapeHtml(labels[i] ?? '')}</text>`
        : '';
    return `<rect x="${x + slot * 0.1}" y="${top + plotHeight - barHeight}" width="${slot * 0.8}" height="${barHeight}" fill="#2563eb"><title>${escapeHtml(labels[i] ?? '')}: ${value}</title></rect>${label}`;
  });
  return svg(title, axes(maxY, xLabel, yLabel) + bars.join(''));
}

/** A line chart of several series over the same buckets. */
export function lineChart(
  title: string,
  bucketSeconds: number,
  series: ReadonlyArray<{ name: string; color: string; values: readonly number[] }>,
  yLabel: string,
): string {
  const { width, height, left, right, top, bottom } = CHART;
  const length = Math.max(1, ...series.map((s) => s.values.length));
  const maxY = Math.max(1, ...series.flatMap((s) => s.values)) / bucketSeconds;
  const plotHeight = height - top - bottom;
  const step = (width - left - right) / Math.max(1, length - 1);
  const labelEvery = Math.ceil(length / 12);
  const xLabels = Array.from({ length }, (_, i) =>
    i % labelEvery === 0
      ? `<text x="${left + i * step}" y="${height - bottom + 14}" text-anchor="middle">${i * bucketSeconds}</text>`
      : '',
  ).join('');
  const lines = series.map((s, n) => {
    const points = s.values
      .map(
        (value, i) =>
          `${(left + i * step).toFixed(1)},${(top + plotHeight * (1 - value / bucketSeconds / maxY)).toFixed(1)}`,
      )
      .join(' ');
    return `<polyline points="${points}" fill="none" stroke="${s.color}" stroke-width="2"/><rect x="${width - right - 180}" y="${top + n * 16}" width="10" height="10" fill="${s.color}"/><text x="${width - right - 165}" y="${top + 9 + n * 16}">${escapeHtml(s.name)}</text>`;
  });
  return svg(title, axes(maxY, 'seconds since the run started', yLabel) + xLabels + lines.join(''));
}

function htmlTable(header: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  const head = `<tr>${header.map((cell) => `<th>${escapeHtml(cell)}</th>`).join('')}</tr>`;
  const body = rows
    .map((row) => `<tr>${row.map((cell) => `<td>${escapeHtml(cell)}</td>`).join('')}</tr>`)
    .join('');
  return `<table>${head}${body}</table>`;
}

/** The report as one HTML page: no scripts, no external assets. */
export function renderHtml(report: StressReport): string {
  const { requests, accounting, latency, timeline } = report;
  const histogram = latency.acceptHistogram;
  const problems: Array<[string, string[]]> = [
    ['Lost orders', accounting.lostOrders.map((order) => `${order.orderId} (${order.status})`)],
    ['Duplicates', accounting.duplicateOrders.map(describeSideEffects)],
    ['FAILED without a failed-orders row', accounting.failedWithoutRecord],
    [
      'COMPLETED without billing record or archive object',
      accounting.completedWithoutSideEffects.map(describeSideEffects),
    ],
    [
      'Outcome does not fit the request kind',
      accounting.unexpectedOutcomes.map((o) => `${o.orderId} (${o.kind} -> ${o.status})`),
    ],
    ['Refused but stored', accounting.refusedButStored],
    [
      "An order's stores disagree",
      accounting.inconsistentOrders.map((o) => `${o.orderId} (${o.status}: ${o.problems.join('; ')})`),
    ],
  ];
  const problemHtml = problems
    .filter(([, ids]) => ids.length > 0)
    .map(
      ([name, ids]) =>
        `<h3>${escapeHtml(name)} (${ids.length})</h3><ul>${ids
          .slice(0, 200)
          .map((id) => `<li><code>${escapeHtml(id)}</code></li>`)
          .join('')}</ul>`,
    )
    .join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Stress ${escapeHtml(report.environment)} ${escapeHtml(report.runId)}</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:24px auto;max-width:760px;color:#111827}
table{border-collapse:collapse;margin:8px 0 16px}th,td{border:1px solid #d1d5db;padding:3px 8px;text-align:right}
th:first-child,td:first-child{text-align:left}figure{margin:16px 0}figcaption{font-weight:600;margin-bottom:4px}
svg{width:100%;height:auto;font-size:11px;fill:#374151}.ok{color:#15803d}.fail{color:#b91c1c;font-weight:600}
</style></head><body>
<h1>Stress run <code>${escapeHtml(report.runId)}</code></h1>
<p>Environment <b>${escapeHtml(report.environment)}</b>, ${escapeHtml(report.target.url)}${report.target.stack ? `, stack ${escapeHtml(report.target.stack)}` : ''}; ${escapeHtml(report.startedAt)} to ${escapeHtml(report.finishedAt)}.
Result: <span class="${report.passed ? 'ok' : 'fail'}">${report.passed ? 'PASSED' : 'FAILED'}</span></p>
<h2>Checks</h2>
${htmlTable(
  ['check', 'actual', 'limit', 'result'],
  report.checks.map((check) => [check.name, check.actual, check.limit, check.passed ? 'ok' : 'FAIL']),
)}
<h2>Requests</h2>
${htmlTable(
  ['', 'value'],
  [
    ['sent', String(requests.sent)],
    [
      'orders / concurrency / rate',
      `${report.settings.orders} / ${report.settings.concurrency} / ${report.settings.ratePerSecond || 'unlimited'}`,
    ],
    [
      'mix',
      Object.entries(report.settings.mix)
        .map(([kind, share]) => `${kind} ${percent(share)}`)
        .join(', '),
    ],
    ...requestRows(report).slice(1),
  ],
)}
<h2>Latency (ms)</h2>
${htmlTable(
  ['', 'n', 'p50', 'p90', 'p95', 'p99', 'max'],
  [
    [
      'accept (POST /orders)',
      ...[
        latency.accept.count,
        latency.accept.p50,
        latency.accept.p90,
        latency.accept.p95,
        latency.accept.p99,
        latency.accept.max,
      ].map(String),
    ],
    [
      'accepted -> COMPLETED',
      ...[
        latency.completion.count,
        latency.completion.p50,
        latency.completion.p90,
        latency.completion.p95,
        latency.completion.p99,
        latency.completion.max,
      ].map(String),
    ],
  ],
)}
${barChart(
  'Accept latency histogram',
  histogram.map((bucket) => `<${bucket.toMs}`),
  histogram.map((bucket) => bucket.count),
  'milliseconds (upper bound of the bucket)',
  'requests',
)}
${lineChart(
  'Throughput and completions over time',
  timeline.bucketSeconds,
  [
    { name: 'answers / s', color: '#2563eb', values: timeline.answers },
    { name: 'accepted / s', color: '#16a34a', values: timeline.accepted },
    { name: 'terminal orders / s', color: '#dc2626', values: timeline.terminal },
  ],
  'per second',
)}
<h2>Accounting</h2>
${htmlTable(
  ['', 'orders'],
  [
    ...accountingRows(report),
    [
      'statuses in the orders table',
      Object.entries(accounting.statuses)
        .map(([status, n]) => `${status} ${n}`)
        .join(', '),
    ],
  ],
)}
${problemHtml}
<h2>Dead-letter queues at the end</h2>
${htmlTable(
  ['queue', 'visible', 'in flight'],
  Object.entries(report.deadLetterQueues).map(([name, depth]) => [
    name,
    String(depth.visible),
    String(depth.inFlight),
  ]),
)}
</body></html>
`;
}
