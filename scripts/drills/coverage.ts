import type { CfnTemplate } from '../local/cfn-template';
import { alarmId } from '../local/alarms/definitions';
import type { DrillResult } from './harness';

/**
 * Alarms no local drill can fire, with the reason: what the one-machine stack cannot produce.
 * Keyed by alarm id (logical id without its hash).
 */
export const NOT_DRILLABLE: ReadonlyArray<{ pattern: RegExp; reason: string }> = [
  {
    pattern: /TableThrottles$/,
    reason:
      'DynamoDB throttling: the emulator never throttles an on-demand table, so AWS/DynamoDB ReadThrottleEvents / WriteThrottleEvents have no local source',
  },
  {
    pattern: /WorkflowExecutionsThrottled$/,
    reason:
      'Step Functions StartExecution quota: the local state machine has no API rate limit, so ExecutionThrottled has no local source',
  },
  {
    pattern: /PublisherCanaryUnhandledErrors$/,
    reason:
      'only a code defect produces UnhandledErrors (every AWS failure is a DependencyUnavailableError); the drills change configuration and dependencies, not code',
  },
  {
    pattern: /SubscriptionDeadLetterQueue/,
    reason:
      'SNS delivery to SQS never fails in the emulator (moto delivers in-process and does not implement subscription redrive), so nothing reaches a subscription DLQ',
  },
];

/** One alarm of a template and what covers it. */
export interface CoverageRow {
  id: string;
  /** Drills in which it fired. */
  firedBy: string[];
  reason?: string;
}

/** Every alarm of `templates`, with the drills that fired it or why none can. */
export function alarmCoverage(
  templates: Record<string, CfnTemplate>,
  results: readonly DrillResult[],
): CoverageRow[] {
  const ids = Object.values(templates).flatMap((template) =>
    Object.entries(template.Resources)
      .filter(([, resource]) => resource.Type === 'AWS::CloudWatch::Alarm')
      .map(([logicalId]) => alarmId(logicalId)),
  );
  return ids.map((id) => ({
    id,
    firedBy: results
      .filter((result) => result.fired.some((alarm) => alarm.id === id))
      .map((result) => result.drill),
    reason: NOT_DRILLABLE.find((entry) => entry.pattern.test(id))?.reason,
  }));
}
