import type { Observations, OrderRow, RequestOutcome } from './accounting';
import { buildReport, renderHtml, renderText, type ReportInput } from './report';

const T0 = Date.parse('2026-01-01T00:00:00.000Z');

function outcome(index: number, orderId: string, status: number, latencyMs: number): RequestOutcome {
  return {
    index,
    kind: status === 401 ? 'badSignature' : 'valid',
    orderId,
    startedMs: index * 100,
    latencyMs,
    status,
    ...(status === 202 ? { acceptedOrderId: orderId } : {}),
  };
}

function completed(orderId: string, afterMs: number): [string, OrderRow] {
  return [
    orderId,
    {
      order_id: orderId,
      status: 'COMPLETED',
      created_at: new Date(T0).toISOString(),
      updated_at: new Date(T0 + afterMs).toISOString(),
    },
  ];
}

function input(overrides: Partial<ReportInput> = {}): ReportInput {
  const observations: Observations = {
    orders: new Map([completed('o-0', 1000), completed('o-1', 3000)]),
    billing: [{ order_id: 'o-0' }, { order_id: 'o-1' }],
    archive: [
      { order_id: 'o-0', key: 'orders/2026/01/01/o-0.json', versionId: 'a' },
      { order_id: 'o-1', key: 'orders/2026/01/01/o-1.json', versionId: 'b' },
    ],
    failed: [],
  };
  return {
    runId: 'st-test',
    environment: 'local',
    target: { url: 'http://127.0.0.1:1' },
    startedAt: new Date(T0),
    finishedAt: new Date(T0 + 5000),
    settings: {
      orders: 3,
      concurrency: 1,
      ratePerSecond: 0,
      mix: { valid: 0.5, businessReject: 0, schemaInvalid: 0, badSignature: 0.5, replay: 0 },
      deadlineSeconds: 60,
      seed: 1,
      thresholds: { maxErrorRate: 0.01, maxP95Ms: 500, expectedStatusCodes: [202, 401] },
    },
    outcomes: [outcome(0, 'o-0', 202, 40), outcome(1, 'o-1', 202, 60), outcome(2, 'o-2', 401, 5)],
    observations,
    sendSeconds: 0.5,
    wait: { seconds: 3, deadlineReached: false },
    deadLetterQueues: { Billing: { visible: 0, inFlight: 0 } },
    ...overrides,
  };
}

describe('buildReport', () => {
  it('passes a clean run and measures latency, completion time and throughput', () => {
    // Act
    const report = buildReport(input());
    // Assess
    expect(report.passed).toBe(true);
    expect(report.checks.every((check) => check.passed)).toBe(true);
    expect(report.requests).toMatchObject({
      sent: 3,
      byStatus: { '202': 2, '401': 1 },
      throughputPerSecond: 6,
    });
    expect(report.latency.accept.max).toBe(60);
    expect(report.latency.completion).toMatchObject({ count: 2, max: 3000 });
    expect(report.timeline.bucketSeconds).toBe(1);
    expect(report.timeline.answers.reduce((a, b) => a + b, 0)).toBe(3);
    // o-1 was sent at 100 ms and took 3 s: it lands in the fourth second
    expect(report.timeline.terminal).toEqual([0, 1, 0, 1, 0, 0]);
  });

  it('fails on a lost order, a duplicate, an unexpected code and a slow p95', () => {
    // Prepare
    const base = input();
    const orders = new Map(base.observations.orders);
    orders.delete('o-1');
    // Act
    const report = buildReport({
      ...base,
      outcomes: [...base.outcomes, outcome(3, 'o-3', 503, 900)],
      observations: {
        ...base.observations,
        orders,
        billing: [...base.observations.billing, { order_id: 'o-0' }],
      },
    });
    // Assess
    expect(report.passed).toBe(false);
    const failed = report.checks.filter((check) => !check.passed).map((check) => check.name);
    expect(failed).toEqual([
      'lost orders (accepted, not terminal)',
      'duplicates (>1 billing record or archive version)',
      'unexpected status codes',
      'error rate (answer differs from the kind expected)',
      'accept latency p95',
    ]);
  });
});

describe('rendering', () => {
  it('prints the figures and the verdict as text', () => {
    // Act
    const text = renderText(buildReport(input()));
    // Assess
    expect(text).toMatch(/requests sent\s+3/);
    expect(text).toMatch(/lost \(accepted - terminal\)\s+0/);
    expect(text).toMatch(/duplicates\s+0/);
    expect(text).toMatch(/PASSED$/);
  });

  it('writes one self-contained HTML page with the three charts and escaped text', () => {
    // Act
    const html = renderHtml(buildReport(input({ runId: '<script>x</script>' })));
    // Assess
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).not.toMatch(/<script>/);
    expect(html).not.toMatch(/src=|href=/);
    expect(html.match(/<svg /g)).toHaveLength(2);
    expect(html).toContain('Accept latency histogram');
    expect(html).toContain('answers / s');
    expect(html).toContain('terminal orders / s');
  });
});
