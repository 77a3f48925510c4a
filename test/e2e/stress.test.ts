import { loadEnvironment, validateEnvironment } from '../../environments';
import { startLocalStack, type LocalStack } from '../../scripts/local/stack';
import { normalizeMix } from '../../scripts/stress/mix';
import { runStress } from '../../scripts/stress/run';
import type { StressReport } from '../../scripts/stress/report';

// A dead-lettered message takes maxReceiveCount (5) receives x the 12 s visibility timeout of the
// local consumers, about 60 s; the run's deadline leaves room for that plus sending.
const DEADLINE_SECONDS = 120;
jest.setTimeout(180_000);

describe('stress run against a local stack whose billing consumer fails 30% of deliveries', () => {
  let stack: LocalStack;
  let report: StressReport;

  beforeAll(async () => {
    const local = loadEnvironment('local');
    const billing = local.consumers.billing;
    if (!billing) throw new Error('the local environment has no billing consumer');
    const config = validateEnvironment({
      ...local,
      consumers: { ...local.consumers, billing: { ...billing, failureInjectionRate: 0.3 } },
    });
    stack = await startLocalStack({ port: 0, writeStateFile: false, config });
    report = await runStress({
      environment: 'local',
      target: {
        url: stack.url,
        clientId: stack.client.clientId,
        secret: stack.client.secret,
        outputs: stack.outputs,
        aws: stack.aws,
      },
      settings: {
        orders: 100,
        concurrency: 4,
        ratePerSecond: 0,
        mix: normalizeMix(config.stress.mix),
        deadlineSeconds: DEADLINE_SECONDS,
        seed: 20_260_101,
        thresholds: config.stress.thresholds,
      },
      rules: config,
      pollIntervalMs: 500,
    });
  }, 180_000);

  afterAll(async () => {
    await stack?.stop();
  });

  it('injected failures into billing, so retries happened', () => {
    // Assess
    const billing = stack.eventSources.find((source) => source.fn.spec.entry === 'billing');
    expect(billing?.stats.failed).toBeGreaterThan(0);
  });

  it('sent every request and got the answer each kind expects', () => {
    // Assess
    expect(report.requests.sent).toBe(100);
    expect(report.requests.unexpectedStatusCodes).toEqual({});
    expect(report.requests.errors).toBe(0);
    expect(report.accounting.accepted).toBeGreaterThan(50);
  });

  it('loses no accepted order: each one is terminal within the deadline', () => {
    // Assess
    const { accounting } = report;
    expect(accounting.lostOrders).toEqual([]);
    expect(accounting.lost).toBe(0);
    expect(accounting.completed + accounting.rejected + accounting.failed).toBe(accounting.accepted);
    expect(report.wait.deadlineReached).toBe(false);
  });

  it('does nothing twice: one billing record and one archive object version per order', () => {
    // Assess
    expect(report.accounting.duplicateOrders).toEqual([]);
    expect(report.accounting.duplicates).toBe(0);
    expect(report.accounting.completedWithoutSideEffects).toEqual([]);
  });

  it('records every FAILED order in the failed-orders table, and refused requests leave nothing', () => {
    // Assess
    expect(report.accounting.failedWithoutRecord).toEqual([]);
    expect(report.accounting.failedRecorded).toBe(report.accounting.failed);
    expect(report.accounting.refusedButStored).toEqual([]);
    expect(report.accounting.unexpectedOutcomes).toEqual([]);
  });
});
