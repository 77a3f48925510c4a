import type { Datum } from './metric-store';

/** The `_aws` member of an Embedded Metric Format document. */
interface EmfMetadata {
  Timestamp?: number;
  CloudWatchMetrics?: Array<{
    Namespace?: string;
    Dimensions?: string[][];
    Metrics?: Array<{ Name?: string; Unit?: string }>;
  }>;
}

/**
 * The datapoints CloudWatch Logs extracts from one log line in the Embedded Metric Format
 * (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html):
 * for every directive, every dimension set gives one metric per metric definition, with the
 * dimension values and the metric value(s) read from the document's root members. An array value
 * is one datapoint per element. A line that is not EMF gives nothing.
 */
export function parseEmf(line: string, timestampOf: (emfTimestamp?: number) => number): Datum[] {
  const trimmed = line.trim();
  if (!trimmed.startsWith('{') || !trimmed.includes('"_aws"')) return [];
  let document: Record<string, unknown>;
  try {
    document = JSON.parse(trimmed) as Record<string, unknown>;
  } catch {
    return [];
  }
  const metadata = document._aws as EmfMetadata | undefined;
  if (!metadata || !Array.isArray(metadata.CloudWatchMetrics)) return [];
  const timestamp = timestampOf(typeof metadata.Timestamp === 'number' ? metadata.Timestamp : undefined);
  const data: Datum[] = [];
  for (const directive of metadata.CloudWatchMetrics) {
    if (!directive.Namespace) continue;
    const dimensionSets = directive.Dimensions?.length ? directive.Dimensions : [[]];
    for (const dimensionSet of dimensionSets) {
      const dimensions: Record<string, string> = {};
      // A dimension whose member is missing makes the set invalid; CloudWatch drops it.
      if (!dimensionSet.every((name) => typeof document[name] === 'string')) continue;
      for (const name of dimensionSet) dimensions[name] = document[name] as string;
      for (const metric of directive.Metrics ?? []) {
        if (!metric.Name) continue;
        const raw = document[metric.Name];
        const values = Array.isArray(raw) ? raw : [raw];
        for (const value of values) {
          if (typeof value !== 'number') continue;
          data.push({
            namespace: directive.Namespace,
            metricName: metric.Name,
            dimensions,
            timestamp,
            value,
            unit: metric.Unit,
          });
        }
      }
    }
  }
  return data;
}
