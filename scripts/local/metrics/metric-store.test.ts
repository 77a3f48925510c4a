import { ManualClock, ScaledClock } from './clock';
import { parseEmf } from './emf';
import { computeStatistic, MetricStore, UnknownStatisticError } from './metric-store';

describe('computeStatistic', () => {
  it('computes the basic statistics over a period', () => {
    // Prepare
    const values = [4, 1, 3, 2];
    // Act / Assess
    expect(computeStatistic(values, 'SampleCount')).toBe(4);
    expect(computeStatistic(values, 'Sum')).toBe(10);
    expect(computeStatistic(values, 'Average')).toBe(2.5);
    expect(computeStatistic(values, 'Minimum')).toBe(1);
    expect(computeStatistic(values, 'Maximum')).toBe(4);
  });

  it('takes percentiles by nearest rank: p99 of 100 values is the 99th smallest', () => {
    // Prepare
    const values = Array.from({ length: 100 }, (_, index) => 100 - index);
    // Act / Assess
    expect(computeStatistic(values, 'p99')).toBe(99);
    expect(computeStatistic(values, 'p50')).toBe(50);
    expect(computeStatistic(values, 'p99.9')).toBe(100);
    expect(computeStatistic([7], 'p99')).toBe(7);
  });

  it('gives no value for an empty period (missing, not zero) and refuses unknown statistics', () => {
    expect(computeStatistic([], 'Sum')).toBeUndefined();
    expect(() => computeStatistic([1], 'Median')).toThrow(UnknownStatisticError);
  });
});

describe('MetricStore', () => {
  it('keeps each dimension combination a metric of its own', () => {
    // Prepare
    const store = new MetricStore();
    const base = { namespace: 'AWS/Lambda', metricName: 'Errors', timestamp: 1_000, unit: 'Count' };
    store.put({ ...base, dimensions: { FunctionName: 'f' }, value: 1 });
    store.put({ ...base, dimensions: { FunctionName: 'f', Resource: 'f:live' }, value: 1 });
    store.put({ ...base, dimensions: { Resource: 'f:live', FunctionName: 'f' }, value: 1 });
    // Act
    const byFunction = store.statistic({ ...base, dimensions: { FunctionName: 'f' } }, 'Sum', 0, 2_000);
    const byAlias = store.statistic(
      { ...base, dimensions: { FunctionName: 'f', Resource: 'f:live' } },
      'Sum',
      0,
      2_000,
    );
    // Assess
    expect(byFunction).toBe(1);
    expect(byAlias).toBe(2);
    expect(store.statistic({ ...base, dimensions: {} }, 'Sum', 0, 2_000)).toBeUndefined();
  });

  it('reads a period as [start, end)', () => {
    const store = new MetricStore();
    const id = { namespace: 'N', metricName: 'M', dimensions: {} };
    store.put({ ...id, timestamp: 60_000, value: 1 });
    expect(store.values(id, 0, 60_000)).toEqual([]);
    expect(store.values(id, 60_000, 120_000)).toEqual([1]);
  });
});

describe('parseEmf', () => {
  it('extracts one datapoint per metric and dimension set, array values one by one', () => {
    // Prepare
    const line = JSON.stringify({
      _aws: {
        Timestamp: 5_000,
        CloudWatchMetrics: [
          {
            Namespace: 'OrderPipeline',
            Dimensions: [['service'], ['service', 'version']],
            Metrics: [
              { Name: 'OrdersAccepted', Unit: 'Count' },
              { Name: 'Latency', Unit: 'Milliseconds' },
            ],
          },
        ],
      },
      service: 'order-publisher',
      version: '2',
      OrdersAccepted: 1,
      Latency: [10, 20],
    });
    // Act
    const data = parseEmf(line, (timestamp) => (timestamp ?? 0) * 2);
    // Assess
    expect(data).toHaveLength(6);
    expect(data[0]).toEqual({
      namespace: 'OrderPipeline',
      metricName: 'OrdersAccepted',
      dimensions: { service: 'order-publisher' },
      timestamp: 10_000,
      value: 1,
      unit: 'Count',
    });
    expect(data.filter((datum) => datum.metricName === 'Latency').map((datum) => datum.value)).toEqual([
      10, 20, 10, 20,
    ]);
  });

  it('ignores log lines that are not EMF and dimension sets whose member is missing', () => {
    expect(parseEmf('{"level":"ERROR","message":"boom"}', () => 0)).toEqual([]);
    expect(parseEmf('plain text', () => 0)).toEqual([]);
    const line = JSON.stringify({
      _aws: { CloudWatchMetrics: [{ Namespace: 'N', Dimensions: [['absent']], Metrics: [{ Name: 'M' }] }] },
      M: 1,
    });
    expect(parseEmf(line, () => 0)).toEqual([]);
  });
});

describe('clocks', () => {
  it('a scaled clock runs `speed` times faster and maps wall-clock instants onto itself', async () => {
    // Prepare
    const clock = new ScaledClock(50, 0);
    const wallStart = Date.now();
    // Act
    await clock.sleep(1_000);
    // Assess: 1 s of clock time took about 20 ms of wall time
    expect(Date.now() - wallStart).toBeLessThan(500);
    expect(clock.now()).toBeGreaterThanOrEqual(1_000);
    expect(clock.fromWallClock(wallStart + 10)).toBeCloseTo(500, -2);
  });

  it('a manual clock moves only when told', async () => {
    const clock = new ManualClock(100);
    await clock.sleep(50);
    clock.advance(25);
    expect(clock.now()).toBe(175);
  });
});
