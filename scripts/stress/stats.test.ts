import { latencyHistogram, perInterval, summarizeLatencies, timelineBucketSeconds } from './stats';

describe('summarizeLatencies', () => {
  it('gives the percentiles of 1..1000 ms within the histogram precision', () => {
    // Prepare
    const values = Array.from({ length: 1000 }, (_, i) => i + 1);
    // Act
    const summary = summarizeLatencies(values);
    // Assess
    expect(summary.count).toBe(1000);
    expect(summary.min).toBe(1);
    expect(summary.max).toBe(1000);
    expect(summary.mean).toBeCloseTo(500.5, 0);
    expect(summary.p50).toBeCloseTo(500, -0.5);
    expect(summary.p95).toBeCloseTo(950, -0.5);
    expect(summary.p99).toBeCloseTo(990, -0.5);
  });

  it('keeps sub-millisecond resolution and never reports a percentile above the maximum', () => {
    // Prepare
    const values = [0.4, 0.5, 0.6, 933.7];
    // Act
    const summary = summarizeLatencies(values);
    // Assess
    expect(summary.p50).toBeCloseTo(0.5, 1);
    expect(summary.p99).toBeLessThanOrEqual(summary.max);
    expect(summary.max).toBe(933.7);
  });

  it('is all zeros for no values', () => {
    // Act / Assess
    expect(summarizeLatencies([])).toEqual({
      count: 0,
      min: 0,
      mean: 0,
      p50: 0,
      p90: 0,
      p95: 0,
      p99: 0,
      max: 0,
    });
  });

  it('takes a large set without overflowing the stack', () => {
    // Prepare
    const values = Array.from({ length: 300_000 }, (_, i) => (i % 100) + 1);
    // Act / Assess
    expect(summarizeLatencies(values).max).toBe(100);
  });
});

describe('latencyHistogram', () => {
  it('puts every value in a 1-2-5 bucket and trims the empty ends', () => {
    // Prepare
    const values = [3, 4, 12, 15, 18, 130];
    // Act
    const buckets = latencyHistogram(values);
    // Assess
    expect(buckets.map((bucket) => [bucket.fromMs, bucket.toMs, bucket.count])).toEqual([
      [2, 5, 2],
      [5, 10, 0],
      [10, 20, 3],
      [20, 50, 0],
      [50, 100, 0],
      [100, 200, 1],
    ]);
    expect(buckets.reduce((sum, bucket) => sum + bucket.count, 0)).toBe(values.length);
  });
});

describe('perInterval', () => {
  it('counts events per bucket up to the end of the run', () => {
    // Act / Assess
    expect(perInterval([0, 500, 999, 1000, 2500], 1, 4)).toEqual([3, 1, 1, 0, 0]);
    expect(perInterval([0, 4000], 2)).toEqual([1, 0, 1]);
  });

  it('keeps a timeline at 120 bars or fewer', () => {
    // Act / Assess
    expect(timelineBucketSeconds(60)).toBe(1);
    expect(timelineBucketSeconds(600)).toBe(5);
    expect(timelineBucketSeconds(3600)).toBe(30);
  });
});
