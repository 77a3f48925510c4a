/**
 * Latency percentiles (an HDR histogram, so p99 of a long run costs constant memory and keeps 3
 * significant digits), the latency histogram and the per-second timelines of the charts.
 */
import * as hdr from 'hdr-histogram-js';

/** Percentiles of a set of durations, in milliseconds. */
export interface LatencySummary {
  count: number;
  min: number;
  mean: number;
  p50: number;
  p90: number;
  p95: number;
  p99: number;
  max: number;
}

// Values go into the histogram in microseconds: whole milliseconds would flatten a fast local run.
const MICROS = 1000;

/** Summarizes durations (ms); all zeros for an empty set. */
export function summarizeLatencies(valuesMs: readonly number[]): LatencySummary {
  if (valuesMs.length === 0) return { count: 0, min: 0, mean: 0, p50: 0, p90: 0, p95: 0, p99: 0, max: 0 };
  const histogram = hdr.build({ lowestDiscernibleValue: 1, numberOfSignificantValueDigits: 3 });
  try {
    for (const value of valuesMs) histogram.recordValue(Math.max(1, Math.round(value * MICROS)));
    const max = maximum(valuesMs);
    // HDR reports the top of a value's bucket, which may lie a hair above the largest sample.
    const at = (percentile: number) =>
      round(Math.min(max, histogram.getValueAtPercentile(percentile) / MICROS));
    return {
      count: histogram.totalCount,
      min: round(minimum(valuesMs)),
      mean: round(histogram.mean / MICROS),
      p50: at(50),
      p90: at(90),
      p95: at(95),
      p99: at(99),
      max: round(max),
    };
  } finally {
    histogram.destroy();
  }
}

// Spreading a long array into Math.min/max overflows the stack; a loop does not.
function minimum(values: readonly number[]): number {
  return values.reduce((low, value) => (value < low ? value : low), Infinity);
}

function maximum(values: readonly number[]): number {
  return values.reduce((high, value) => (value > high ? value : high), -Infinity);
}

function round(value: number): number {
  return Math.round(value * 10) / 10;
}

/** One bar of the latency histogram: durations in [fromMs, toMs). */
export interface HistogramBucket {
  fromMs: number;
  toMs: number;
  count: number;
}

/**
 * Buckets with bounds 1-2-5 per decade (1, 2, 5, 10, 20, 50 ms ...), from the decade of the
 * smallest value to the one past the largest: readable on a log axis from 1 ms to minutes.
 */
export function latencyHistogram(valuesMs: readonly number[]): HistogramBucket[] {
  if (valuesMs.length === 0) return [];
  const bounds: number[] = [];
  const low = minimum(valuesMs);
  const high = maximum(valuesMs);
  for (let decade = 10 ** Math.floor(Math.log10(Math.max(low, 0.1))); ; decade *= 10) {
    for (const step of [1, 2, 5]) bounds.push(decade * step);
    if (decade * 10 > high) break;
  }
  bounds.push((bounds.at(-1) ?? 1) * 2);
  const buckets: HistogramBucket[] = [];
  for (let i = 0; i + 1 < bounds.length; i++) {
    const fromMs = bounds[i] ?? 0;
    const toMs = bounds[i + 1] ?? 0;
    buckets.push({ fromMs, toMs, count: 0 });
  }
  for (const value of valuesMs) {
    const bucket = buckets.find((candidate) => value < candidate.toMs) ?? buckets.at(-1);
    if (bucket) bucket.count++;
  }
  // Leading and trailing empty bars carry no information.
  while (buckets.length > 1 && buckets[0]?.count === 0) buckets.shift();
  while (buckets.length > 1 && buckets.at(-1)?.count === 0) buckets.pop();
  return buckets;
}

/** Counts events per bucket of `bucketSeconds`, from 0 to the last event (or `untilSeconds`). */
export function perInterval(timesMs: readonly number[], bucketSeconds: number, untilSeconds = 0): number[] {
  const width = bucketSeconds * 1000;
  const last = Math.max(untilSeconds * 1000, maximum(timesMs), 0);
  const counts = new Array<number>(Math.floor(last / width) + 1).fill(0);
  for (const time of timesMs) {
    const index = Math.floor(Math.max(0, time) / width);
    counts[index] = (counts[index] ?? 0) + 1;
  }
  return counts;
}

/** A bucket width that keeps a timeline at about 120 bars or fewer. */
export function timelineBucketSeconds(durationSeconds: number): number {
  for (const width of [1, 2, 5, 10, 15, 30, 60, 120, 300]) if (durationSeconds / width <= 120) return width;
  return 600;
}
