import { computeStatistic, isPercentile, type MetricStore } from '../metrics/metric-store';
import type { AlarmDefinition, ComparisonOperator, MetricStat } from './definitions';
import { evaluateExpression, parseExpression } from './metric-math';

export type AlarmState = 'OK' | 'ALARM' | 'INSUFFICIENT_DATA';

/** What one evaluation of an alarm found. */
export interface Evaluation {
  state: AlarmState;
  reason: string;
  /** The value of each period of the evaluation range, oldest first; undefined = missing. */
  datapoints: Array<number | undefined>;
  /** End (exclusive) of the newest period evaluated, in clock milliseconds. */
  evaluatedUntil: number;
}

const COMPARE: Record<ComparisonOperator, (value: number, threshold: number) => boolean> = {
  GreaterThanOrEqualToThreshold: (value, threshold) => value >= threshold,
  GreaterThanThreshold: (value, threshold) => value > threshold,
  LessThanThreshold: (value, threshold) => value < threshold,
  LessThanOrEqualToThreshold: (value, threshold) => value <= threshold,
};

/**
 * The value of one metric in one period, or undefined when the period has no datapoint or, for
 * a percentile alarm set to `ignore` low sample counts, too few to be statistically significant
 * (fewer than 10 / (1 - percentile) datapoints: 1,000 for p99; see "Percentile-based alarms and
 * low data samples",
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/AlarmThatSendsEmail.html#percentiles-with-low-samples).
 */
function statValue(
  store: MetricStore,
  stat: MetricStat,
  start: number,
  end: number,
  lowSamples: 'evaluate' | 'ignore',
): number | undefined {
  const values = store.values(stat, start, end);
  if (lowSamples === 'ignore' && isPercentile(stat.statistic)) {
    const fraction = Number(stat.statistic.slice(1)) / 100;
    if (fraction < 1 && values.length < 10 / (1 - fraction)) return undefined;
  }
  return computeStatistic(values, stat.statistic);
}

/** The alarm's value over [start, end): its metric's statistic, or its returned expression. */
export function periodValue(
  alarm: AlarmDefinition,
  store: MetricStore,
  start: number,
  end: number,
): number | undefined {
  if (alarm.metric) return statValue(store, alarm.metric, start, end, alarm.evaluateLowSampleCountPercentile);
  const queries = alarm.queries ?? [];
  const byId = new Map(queries.map((query) => [query.id, query]));
  const cache = new Map<string, number | undefined>();
  const valueOf = (id: string): number | undefined => {
    if (cache.has(id)) return cache.get(id);
    const query = byId.get(id);
    let value: number | undefined;
    if (query?.metricStat)
      value = statValue(store, query.metricStat, start, end, alarm.evaluateLowSampleCountPercentile);
    else if (query?.expression) value = evaluateExpression(parseExpression(query.expression), valueOf);
    cache.set(id, value);
    return value;
  };
  const result = queries.find((query) => query.returnData);
  return result ? valueOf(result.id) : undefined;
}

/**
 * Evaluates an alarm at clock time `now`, as CloudWatch does
 * (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/alarm-evaluation.html and
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/alarms-and-missing-data.html):
 *
 * - the metric is aggregated with the alarm's statistic into periods aligned on the period
 *   length; the evaluation range is the `EvaluationPeriods` newest complete periods;
 * - a period breaches when its value compares true against the threshold;
 * - the alarm goes to ALARM when at least `DatapointsToAlarm` periods of the range breach
 *   ("M out of N"), otherwise to OK;
 * - missing periods: `breaching` counts them as breaching, `notBreaching` as not; `missing` and
 *   `ignore` leave them out; when every period of the range is missing, `missing` gives
 *   INSUFFICIENT_DATA, `ignore` keeps the current state, `breaching` ALARM, `notBreaching` OK;
 * - alarms on AWS/DynamoDB metrics ignore missing data whatever the alarm says.
 */
export function evaluateAlarm(
  alarm: AlarmDefinition,
  store: MetricStore,
  now: number,
  current: AlarmState,
): Evaluation {
  const period = alarm.periodSeconds * 1000;
  const evaluatedUntil = Math.floor(now / period) * period;
  const datapoints: Array<number | undefined> = [];
  for (let index = alarm.evaluationPeriods; index >= 1; index -= 1) {
    const end = evaluatedUntil - (index - 1) * period;
    datapoints.push(periodValue(alarm, store, end - period, end));
  }
  const namespaces = alarm.metric
    ? [alarm.metric.namespace]
    : (alarm.queries ?? []).flatMap((query) => (query.metricStat ? [query.metricStat.namespace] : []));
  const treatment = namespaces.includes('AWS/DynamoDB') ? 'ignore' : alarm.treatMissingData;
  const compare = COMPARE[alarm.comparisonOperator];
  const present = datapoints.filter((value): value is number => value !== undefined);
  const describe = (state: AlarmState, why: string): Evaluation => ({
    state,
    reason: why,
    datapoints,
    evaluatedUntil,
  });
  const shown = datapoints
    .map((value) => (value === undefined ? '-' : String(Number(value.toFixed(3)))))
    .join(', ');

  if (present.length === 0) {
    switch (treatment) {
      case 'missing':
        return describe('INSUFFICIENT_DATA', `no datapoint in the last ${alarm.evaluationPeriods} period(s)`);
      case 'ignore':
        return describe(current, `no datapoint in the last ${alarm.evaluationPeriods} period(s); state kept`);
      case 'breaching':
        return describe(
          'ALARM',
          `no datapoint in the last ${alarm.evaluationPeriods} period(s), treated as breaching`,
        );
      case 'notBreaching':
        return describe(
          'OK',
          `no datapoint in the last ${alarm.evaluationPeriods} period(s), treated as not breaching`,
        );
    }
  }
  const missing = datapoints.length - present.length;
  const breaching =
    present.filter((value) => compare(value, alarm.threshold)).length +
    (treatment === 'breaching' ? missing : 0);
  const verb = alarm.comparisonOperator
    .replace('Threshold', '')
    .replace(/([A-Z])/g, ' $1')
    .trim()
    .toLowerCase();
  if (breaching >= alarm.datapointsToAlarm) {
    return describe(
      'ALARM',
      `Threshold Crossed: ${breaching} out of the last ${alarm.evaluationPeriods} datapoints [${shown}] were ${verb} the threshold (${alarm.threshold}) (minimum ${alarm.datapointsToAlarm} datapoint(s) for OK -> ALARM transition).`,
    );
  }
  return describe(
    'OK',
    `Threshold Crossed: ${breaching} out of the last ${alarm.evaluationPeriods} datapoints [${shown}] were ${verb} the threshold (${alarm.threshold}) (minimum ${alarm.datapointsToAlarm} datapoint(s) for OK -> ALARM transition).`,
  );
}
