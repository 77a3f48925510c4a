import type { TemplateSet } from '../cfn-template';
import type { LocalFunction } from '../lambda-runtime';
import type { Clock } from '../metrics/clock';

/** How a deployment configuration shifts traffic: a first step, then the rest. */
export interface TrafficShift {
  /** Share (0..1) the new version gets first; 1 for all at once. */
  firstStep: number;
  /** Clock milliseconds between steps. */
  intervalMs: number;
  /** Linear configurations add `firstStep` every interval; canaries jump to 100 % after one. */
  linear: boolean;
}

/**
 * The predefined Lambda deployment configurations
 * (https://docs.aws.amazon.com/codedeploy/latest/userguide/deployment-configurations.html#deployment-configuration-lambda):
 * `CodeDeployDefault.LambdaCanary10Percent5Minutes`, `...Linear10PercentEvery1Minute`,
 * `...AllAtOnce`.
 */
export function trafficShiftOf(configName: string): TrafficShift {
  if (configName.endsWith('AllAtOnce')) return { firstStep: 1, intervalMs: 0, linear: false };
  const shape = /Lambda(Canary|Linear)(\d+)Percent(?:Every)?(\d+)Minutes?$/.exec(configName);
  if (!shape) throw new Error(`unknown Lambda deployment configuration ${configName}`);
  return {
    firstStep: Number(shape[2]) / 100,
    intervalMs: Number(shape[3]) * 60_000,
    linear: shape[1] === 'Linear',
  };
}

/** A CodeDeploy deployment group of the template, resolved. */
export interface DeploymentGroupSpec {
  logicalId: string;
  /** The function whose `live` alias the group deploys. */
  functionName: string;
  shift: TrafficShift;
  /** Names of the alarms that stop the deployment. */
  alarmNames: string[];
  rollbackOnAlarm: boolean;
}

/** Reads the template's Lambda deployment groups and the alias each one updates. */
export function deploymentGroups(templates: TemplateSet): DeploymentGroupSpec[] {
  const byGroupName = new Map<string, string>();
  for (const ref of templates.resourcesOfType('AWS::Lambda::Alias')) {
    const policy = (
      ref.resource as { UpdatePolicy?: { CodeDeployLambdaAliasUpdate?: { DeploymentGroupName: unknown } } }
    ).UpdatePolicy?.CodeDeployLambdaAliasUpdate;
    if (!policy) continue;
    const props = templates.resolve(ref.stack, ref.resource.Properties ?? {}) as { FunctionName: string };
    byGroupName.set(String(templates.resolve(ref.stack, policy.DeploymentGroupName)), props.FunctionName);
  }
  return templates.resourcesOfType('AWS::CodeDeploy::DeploymentGroup').map((ref) => {
    const props = templates.resolve(ref.stack, ref.resource.Properties ?? {}) as {
      DeploymentConfigName?: string;
      AlarmConfiguration?: { Enabled?: boolean; Alarms?: Array<{ Name: string }> };
      AutoRollbackConfiguration?: { Enabled?: boolean; Events?: string[] };
    };
    const functionName = byGroupName.get(templates.resolveString(ref.stack, { Ref: ref.logicalId }));
    if (!functionName) throw new Error(`deployment group ${ref.logicalId} updates no alias of the template`);
    const alarms =
      props.AlarmConfiguration?.Enabled === false ? [] : (props.AlarmConfiguration?.Alarms ?? []);
    const rollback = props.AutoRollbackConfiguration;
    return {
      logicalId: ref.logicalId,
      functionName,
      shift: trafficShiftOf(props.DeploymentConfigName ?? 'CodeDeployDefault.LambdaAllAtOnce'),
      alarmNames: alarms.map((alarm) => alarm.Name),
      rollbackOnAlarm: Boolean(rollback?.Enabled && rollback.Events?.includes('DEPLOYMENT_STOP_ON_ALARM')),
    };
  });
}

/** How a deployment ended. */
export interface DeploymentResult {
  status: 'Succeeded' | 'RolledBack' | 'Stopped';
  fromVersion: string;
  toVersion: string;
  /** Alarms found in ALARM, when the deployment stopped. */
  alarmsInAlarm: string[];
  /** The alias routing after each step, for the report: `version:weight`. */
  steps: string[];
  /** Clock milliseconds the deployment took. */
  durationMs: number;
}

/**
 * CodeDeploy for the local stack: shifts a function's `live` alias to a new version with the
 * group's deployment configuration (a canary sends 10 % for 5 minutes, then everything), polls
 * the group's alarms during the shift, and when one is in ALARM stops the deployment and, with
 * automatic rollback on alarms, points the alias back at the old version
 * (https://docs.aws.amazon.com/codedeploy/latest/userguide/deployments-rollback-and-redeploy.html).
 */
export class LocalDeployer {
  constructor(
    private readonly clock: Clock,
    private readonly alarmState: (name: string) => string | undefined,
    /** Clock milliseconds between alarm polls. @default 10 s */
    private readonly pollMs = 10_000,
  ) {}

  async deploy(
    fn: LocalFunction,
    group: DeploymentGroupSpec,
    newVersion: string,
    onStep: (routing: string) => void = () => undefined,
  ): Promise<DeploymentResult> {
    const alias = fn.alias;
    if (!alias) throw new Error(`${fn.spec.name} has no alias to deploy`);
    const fromVersion = alias.version;
    const started = this.clock.now();
    const steps: string[] = [];
    const route = (weight: number) => {
      if (weight >= 1) fn.setAlias({ name: alias.name, version: newVersion });
      else
        fn.setAlias({
          name: alias.name,
          version: fromVersion,
          additionalVersion: { version: newVersion, weight },
        });
      const step =
        weight >= 1
          ? `${newVersion}:100%`
          : `${fromVersion}:${Math.round((1 - weight) * 100)}% ${newVersion}:${Math.round(weight * 100)}%`;
      steps.push(step);
      onStep(step);
    };
    const inAlarm = () => group.alarmNames.filter((name) => this.alarmState(name) === 'ALARM');
    const finish = (status: DeploymentResult['status'], alarmsInAlarm: string[] = []): DeploymentResult => ({
      status,
      fromVersion,
      toVersion: newVersion,
      alarmsInAlarm,
      steps,
      durationMs: this.clock.now() - started,
    });

    // CodeDeploy does not start a deployment while one of the group's alarms is in ALARM.
    const before = inAlarm();
    if (before.length) return finish('Stopped', before);
    let weight = group.shift.firstStep;
    route(weight);
    while (weight < 1) {
      const stepEnds = this.clock.now() + group.shift.intervalMs;
      while (this.clock.now() < stepEnds) {
        await this.clock.sleep(Math.min(this.pollMs, stepEnds - this.clock.now()));
        const alarms = inAlarm();
        if (alarms.length) {
          if (group.rollbackOnAlarm) {
            fn.setAlias({ name: alias.name, version: fromVersion });
            steps.push(`${fromVersion}:100% (rolled back)`);
            onStep(steps[steps.length - 1] ?? '');
            return finish('RolledBack', alarms);
          }
          return finish('Stopped', alarms);
        }
      }
      weight = group.shift.linear ? Math.min(1, weight + group.shift.firstStep) : 1;
      route(weight);
    }
    return finish('Succeeded');
  }
}
