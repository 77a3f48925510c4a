import type { AwsClientConfig } from '../aws-config';
import type { Clock } from '../metrics/clock';
import type { MetricStore } from '../metrics/metric-store';
import type { AlarmDefinition } from './definitions';
import { evaluateAlarm, type AlarmState } from './evaluate';
import { publishNotification, type TopicPolicyCheck } from './notifier';

/** A state change of one alarm, and what its actions did. */
export interface AlarmTransition {
  alarm: AlarmDefinition;
  from: AlarmState;
  to: AlarmState;
  /** Clock milliseconds. */
  at: number;
  reason: string;
  /** One entry per action of the new state. */
  actions: Array<{ target: string; published: boolean; error?: string }>;
}

/** The current state of one alarm. */
export interface AlarmStatus {
  name: string;
  logicalId: string;
  state: AlarmState;
  reason: string;
  since: number;
}

export interface AlarmEngineOptions {
  alarms: readonly AlarmDefinition[];
  store: MetricStore;
  clock: Clock;
  /** Where notifications go; without it, actions are recorded but not published. */
  aws?: AwsClientConfig;
  policy?: TopicPolicyCheck;
  region: string;
  accountId: string;
}

/**
 * CloudWatch's alarm loop for the local stack: every minute of clock time (or every period, for
 * high-resolution alarms), each alarm is evaluated (see {@link evaluateAlarm}); a state change
 * runs the actions of the new state: an SNS topic gets CloudWatch's notification, published
 * only when the topic's (and its key's) policy lets cloudwatch.amazonaws.com publish.
 */
export class AlarmEngine {
  private readonly states = new Map<string, AlarmStatus>();
  readonly transitions: AlarmTransition[] = [];
  private readonly listeners = new Set<(transition: AlarmTransition) => void>();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> = Promise.resolve();

  constructor(private readonly options: AlarmEngineOptions) {
    for (const alarm of options.alarms) {
      this.states.set(alarm.name, {
        name: alarm.name,
        logicalId: alarm.logicalId,
        state: 'INSUFFICIENT_DATA',
        reason: 'Unchecked: Initial alarm creation',
        since: options.clock.now(),
      });
    }
  }

  get alarms(): readonly AlarmDefinition[] {
    return this.options.alarms;
  }

  onTransition(listener: (transition: AlarmTransition) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Evaluates on a timer until {@link stop}. */
  start(): this {
    const shortest = Math.min(60, ...this.options.alarms.map((alarm) => alarm.periodSeconds));
    this.timer = setInterval(
      () => {
        this.running = this.running
          .then(() => this.evaluate())
          .then(
            () => undefined,
            () => undefined,
          );
      },
      Math.max(50, (shortest * 1000) / this.options.clock.speed),
    );
    return this;
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.running;
  }

  status(): AlarmStatus[] {
    return [...this.states.values()].map((status) => ({ ...status }));
  }

  state(name: string): AlarmState | undefined {
    return this.states.get(name)?.state;
  }

  /** Evaluates every alarm once, now. */
  async evaluate(): Promise<AlarmTransition[]> {
    const now = this.options.clock.now();
    const changed: AlarmTransition[] = [];
    for (const alarm of this.options.alarms) {
      const status = this.states.get(alarm.name);
      if (!status) continue;
      const evaluation = evaluateAlarm(alarm, this.options.store, now, status.state);
      if (evaluation.state === status.state) {
        status.reason = evaluation.reason;
        continue;
      }
      const transition: AlarmTransition = {
        alarm,
        from: status.state,
        to: evaluation.state,
        at: now,
        reason: evaluation.reason,
        actions: [],
      };
      Object.assign(status, { state: evaluation.state, reason: evaluation.reason, since: now });
      await this.runActions(transition);
      this.transitions.push(transition);
      changed.push(transition);
      for (const listener of this.listeners) listener(transition);
    }
    return changed;
  }

  private async runActions(transition: AlarmTransition): Promise<void> {
    const { alarm } = transition;
    if (!alarm.actionsEnabled) return;
    const targets = {
      ALARM: alarm.alarmActions,
      OK: alarm.okActions,
      INSUFFICIENT_DATA: alarm.insufficientDataActions,
    }[transition.to];
    for (const target of targets) {
      if (!target.startsWith('arn:aws:sns:')) {
        transition.actions.push({ target, published: false, error: 'only SNS actions are run locally' });
        continue;
      }
      const permission = this.options.policy
        ? await this.options.policy.check(target, alarm.arn)
        : { allowed: true };
      if (!permission.allowed) {
        transition.actions.push({ target, published: false, error: permission.reason });
        continue;
      }
      if (!this.options.aws) {
        transition.actions.push({ target, published: false, error: 'no emulator to publish to' });
        continue;
      }
      try {
        await publishNotification(
          this.options.aws,
          target,
          `${transition.to}: "${alarm.name}" in ${this.options.region}`,
          this.message(transition),
        );
        transition.actions.push({ target, published: true });
      } catch (error) {
        transition.actions.push({ target, published: false, error: (error as Error).message });
      }
    }
  }

  /** The notification CloudWatch sends to SNS (the fields its JSON message carries). */
  private message(transition: AlarmTransition): Record<string, unknown> {
    const { alarm } = transition;
    return {
      AlarmName: alarm.name,
      AlarmDescription: alarm.description ?? null,
      AWSAccountId: this.options.accountId,
      AlarmConfigurationUpdatedTimestamp: new Date(0).toISOString(),
      NewStateValue: transition.to,
      NewStateReason: transition.reason,
      StateChangeTime: new Date(transition.at).toISOString(),
      Region: this.options.region,
      AlarmArn: alarm.arn,
      OldStateValue: transition.from,
      Trigger: alarm.metric
        ? {
            MetricName: alarm.metric.metricName,
            Namespace: alarm.metric.namespace,
            Statistic: alarm.metric.statistic,
            Dimensions: Object.entries(alarm.metric.dimensions).map(([name, value]) => ({ name, value })),
            Period: alarm.periodSeconds,
            EvaluationPeriods: alarm.evaluationPeriods,
            DatapointsToAlarm: alarm.datapointsToAlarm,
            ComparisonOperator: alarm.comparisonOperator,
            Threshold: alarm.threshold,
            TreatMissingData: alarm.treatMissingData,
          }
        : {
            Metrics: alarm.queries,
            Period: alarm.periodSeconds,
            EvaluationPeriods: alarm.evaluationPeriods,
            ComparisonOperator: alarm.comparisonOperator,
            Threshold: alarm.threshold,
          },
    };
  }
}
