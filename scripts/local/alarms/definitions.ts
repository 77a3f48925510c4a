import type { TemplateSet } from '../cfn-template';
import type { Dimensions } from '../metrics/metric-store';

/** A metric an alarm reads, with the statistic and period it reads it at. */
export interface MetricStat {
  namespace: string;
  metricName: string;
  dimensions: Dimensions;
  statistic: string;
  periodSeconds: number;
}

/** One entry of an alarm's `Metrics`: a metric or a math expression over the others. */
export interface MetricQuery {
  id: string;
  metricStat?: MetricStat;
  expression?: string;
  returnData: boolean;
  periodSeconds?: number;
}

export type ComparisonOperator =
  | 'GreaterThanOrEqualToThreshold'
  | 'GreaterThanThreshold'
  | 'LessThanThreshold'
  | 'LessThanOrEqualToThreshold';

export type TreatMissingData = 'breaching' | 'notBreaching' | 'ignore' | 'missing';

/** An `AWS::CloudWatch::Alarm` of the template, resolved to local names. */
export interface AlarmDefinition {
  /** Logical id in its stack (the same in every environment's template). */
  logicalId: string;
  stack: string;
  /** The alarm's name (Ref of the resource): `<stack>-<logicalId>` unless the template names it. */
  name: string;
  arn: string;
  description?: string;
  /** Either one metric, or metric queries with exactly one returning data. */
  metric?: MetricStat;
  queries?: MetricQuery[];
  periodSeconds: number;
  evaluationPeriods: number;
  datapointsToAlarm: number;
  threshold: number;
  comparisonOperator: ComparisonOperator;
  treatMissingData: TreatMissingData;
  evaluateLowSampleCountPercentile: 'evaluate' | 'ignore';
  actionsEnabled: boolean;
  alarmActions: string[];
  okActions: string[];
  insufficientDataActions: string[];
}

/**
 * An alarm's id across environments: its logical id without CDK's hash
 * (`ObservabilityAlbTarget5xx955AC205` -> `ObservabilityAlbTarget5xx`).
 */
export function alarmId(logicalId: string): string {
  return logicalId.replace(/[0-9A-F]{8}$/, '');
}

/** Raised for an alarm the local evaluator cannot evaluate (anomaly detection, say). */
export class UnsupportedAlarmError extends Error {
  override readonly name = 'UnsupportedAlarmError';
}

interface CfnMetricStat {
  Metric: { Namespace: string; MetricName: string; Dimensions?: Array<{ Name: string; Value: string }> };
  Period: number;
  Stat: string;
}

const dimensionsOf = (list: Array<{ Name: string; Value: unknown }> = []): Dimensions =>
  Object.fromEntries(list.map((dimension) => [dimension.Name, String(dimension.Value)]));

/**
 * Registers every alarm's local name and ARN in `templates` (so that what refers to an alarm,
 * a deployment group's alarm list say, resolves) and returns the alarms, resolved.
 */
export function alarmDefinitions(
  templates: TemplateSet,
  region: string,
  accountId: string,
): AlarmDefinition[] {
  const refs = templates.resourcesOfType('AWS::CloudWatch::Alarm');
  for (const ref of refs) {
    const given = ref.resource.Properties?.AlarmName;
    const name = typeof given === 'string' ? given : `${ref.stack}-${ref.logicalId}`;
    templates.register(ref.stack, ref.logicalId, {
      ref: name,
      attributes: { Arn: `arn:aws:cloudwatch:${region}:${accountId}:alarm:${name}` },
    });
  }
  return refs.map((ref) => {
    const props = templates.resolve(ref.stack, ref.resource.Properties ?? {}) as Record<string, unknown>;
    const name = templates.resolveString(ref.stack, { Ref: ref.logicalId });
    const evaluationPeriods = Number(props.EvaluationPeriods);
    let metric: MetricStat | undefined;
    let queries: MetricQuery[] | undefined;
    let periodSeconds: number;
    if (props.MetricName !== undefined) {
      periodSeconds = Number(props.Period);
      metric = {
        namespace: String(props.Namespace),
        metricName: String(props.MetricName),
        dimensions: dimensionsOf(props.Dimensions as Array<{ Name: string; Value: string }>),
        statistic: String(props.ExtendedStatistic ?? props.Statistic),
        periodSeconds,
      };
    } else if (Array.isArray(props.Metrics)) {
      queries = (props.Metrics as Array<Record<string, unknown>>).map((query) => {
        const stat = query.MetricStat as CfnMetricStat | undefined;
        return {
          id: String(query.Id),
          expression: query.Expression === undefined ? undefined : String(query.Expression),
          returnData: query.ReturnData === undefined ? true : Boolean(query.ReturnData),
          periodSeconds: query.Period === undefined ? undefined : Number(query.Period),
          metricStat: stat && {
            namespace: stat.Metric.Namespace,
            metricName: stat.Metric.MetricName,
            dimensions: dimensionsOf(stat.Metric.Dimensions),
            statistic: stat.Stat,
            periodSeconds: Number(stat.Period),
          },
        };
      });
      const returned = queries.filter((query) => query.returnData);
      if (returned.length !== 1)
        throw new UnsupportedAlarmError(`alarm ${ref.logicalId}: exactly one metric query must return data`);
      const [result] = returned;
      periodSeconds =
        result?.periodSeconds ??
        result?.metricStat?.periodSeconds ??
        Math.min(...queries.flatMap((query) => (query.metricStat ? [query.metricStat.periodSeconds] : [])));
    } else {
      throw new UnsupportedAlarmError(`alarm ${ref.logicalId}: neither a metric nor metric queries`);
    }
    if (props.ThresholdMetricId !== undefined)
      throw new UnsupportedAlarmError(`alarm ${ref.logicalId}: anomaly detection is not evaluated locally`);
    const list = (value: unknown) => (Array.isArray(value) ? value.map(String) : []);
    return {
      logicalId: ref.logicalId,
      stack: ref.stack,
      name,
      arn: templates.resolveString(ref.stack, { 'Fn::GetAtt': [ref.logicalId, 'Arn'] }),
      description: props.AlarmDescription === undefined ? undefined : String(props.AlarmDescription),
      metric,
      queries,
      periodSeconds,
      evaluationPeriods,
      datapointsToAlarm: Number(props.DatapointsToAlarm ?? evaluationPeriods),
      threshold: Number(props.Threshold),
      comparisonOperator: String(props.ComparisonOperator) as ComparisonOperator,
      // "If TreatMissingData is omitted, the default behavior of missing is used."
      treatMissingData: String(props.TreatMissingData ?? 'missing') as TreatMissingData,
      evaluateLowSampleCountPercentile:
        props.EvaluateLowSampleCountPercentile === 'ignore' ? 'ignore' : 'evaluate',
      actionsEnabled: props.ActionsEnabled === undefined ? true : Boolean(props.ActionsEnabled),
      alarmActions: list(props.AlarmActions),
      okActions: list(props.OKActions),
      insufficientDataActions: list(props.InsufficientDataActions),
    };
  });
}
