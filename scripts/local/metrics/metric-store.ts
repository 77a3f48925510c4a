/**
 * The local CloudWatch metric store: datapoints as PutMetricData (or EMF, or an AWS service)
 * would record them, and the statistics CloudWatch computes over a period.
 *
 * A metric is identified by namespace, name and the exact set of its dimensions: CloudWatch
 * treats each combination of dimensions as a separate metric, so a datapoint emitted with
 * {FunctionName} is not seen by a query for {FunctionName, Resource}
 * (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/cloudwatch_concepts.html#Dimension).
 */

export type Dimensions = Readonly<Record<string, string>>;

/** One datapoint. */
export interface Datum {
  namespace: string;
  metricName: string;
  dimensions: Dimensions;
  /** Epoch milliseconds (of the local clock). */
  timestamp: number;
  value: number;
  unit?: string;
}

/** Identifies one metric. */
export interface MetricId {
  namespace: string;
  metricName: string;
  dimensions: Dimensions;
}

/** Raised for a statistic CloudWatch does not define. */
export class UnknownStatisticError extends Error {
  override readonly name = 'UnknownStatisticError';
}

const PERCENTILE = /^p(\d{1,2}(?:\.\d+)?|100)$/i;

/**
 * One of CloudWatch's statistics over the values of a period: SampleCount, Sum, Average, Minimum,
 * Maximum or a percentile `pNN` / `pNN.N`. Percentiles use the nearest-rank definition ("p99: 99 %
 * of the datapoints of the period are at or below this value",
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/Statistics-definitions.html).
 * Returns undefined for a period without datapoints (a missing datapoint, not 0).
 */
export function computeStatistic(values: readonly number[], statistic: string): number | undefined {
  if (values.length === 0) return undefined;
  switch (statistic) {
    case 'SampleCount':
      return values.length;
    case 'Sum':
      return values.reduce((sum, value) => sum + value, 0);
    case 'Average':
      return values.reduce((sum, value) => sum + value, 0) / values.length;
    case 'Minimum':
      return Math.min(...values);
    case 'Maximum':
      return Math.max(...values);
  }
  const percentile = PERCENTILE.exec(statistic);
  if (!percentile) throw new UnknownStatisticError(`unknown statistic ${statistic}`);
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((Number(percentile[1]) / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}

/** Whether `statistic` is a percentile (alarms on percentiles treat low sample counts apart). */
export function isPercentile(statistic: string): boolean {
  return PERCENTILE.test(statistic);
}

/** Key of a metric: namespace, name and sorted dimensions. */
export function metricKey(id: MetricId): string {
  const dimensions = Object.entries(id.dimensions)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, value]) => `${name}=${value}`)
    .join(',');
  return `${id.namespace}|${id.metricName}|${dimensions}`;
}

/** Datapoints of every metric, kept in memory for the lifetime of the local stack. */
export class MetricStore {
  private readonly series = new Map<string, { id: MetricId; data: Datum[] }>();
  private readonly listeners = new Set<(datum: Datum) => void>();

  put(datum: Datum): void {
    if (!Number.isFinite(datum.value)) return;
    const key = metricKey(datum);
    let entry = this.series.get(key);
    if (!entry) {
      entry = {
        id: { namespace: datum.namespace, metricName: datum.metricName, dimensions: { ...datum.dimensions } },
        data: [],
      };
      this.series.set(key, entry);
    }
    entry.data.push(datum);
    for (const listener of this.listeners) listener(datum);
  }

  /** Calls `listener` on every new datapoint; returns the function that stops it. */
  onDatum(listener: (datum: Datum) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The values of `id` with timestamps in [start, end). */
  values(id: MetricId, start: number, end: number): number[] {
    const entry = this.series.get(metricKey(id));
    if (!entry) return [];
    return entry.data.filter((d) => d.timestamp >= start && d.timestamp < end).map((d) => d.value);
  }

  /** `statistic` of `id` over [start, end); undefined when the period has no datapoint. */
  statistic(id: MetricId, statistic: string, start: number, end: number): number | undefined {
    return computeStatistic(this.values(id, start, end), statistic);
  }

  /** Forgets every datapoint (a drill's warm-up is not what its alarms should see). */
  clear(): void {
    this.series.clear();
  }

  /** Every metric that has at least one datapoint. */
  metrics(): MetricId[] {
    return [...this.series.values()].map((entry) => entry.id);
  }

  /** Datapoints of `id` (all of them, oldest first). */
  datapoints(id: MetricId): readonly Datum[] {
    return this.series.get(metricKey(id))?.data ?? [];
  }
}
