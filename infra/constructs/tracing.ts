import * as xray from 'aws-cdk-lib/aws-xray';
import { Construct } from 'constructs';

export interface TraceSamplingProps {
  /** Environment name; the rule is named after it (rule names are unique per account and region). */
  readonly environment: string;
  /** Requests traced each second whatever the rate, shared by every instance matching the rule. */
  readonly reservoirPerSecond: number;
  /** Share (0..1) of the requests beyond the reservoir that are traced. */
  readonly fixedRate: number;
}

/**
 * The environment's X-Ray sampling rule. Services that make a sampling decision (Lambda with
 * active tracing when no sampled caller precedes it, Step Functions) ask X-Ray for one and get
 * this rule, which outranks the account's Default rule (priority 10000). Each environment has
 * its own account, so the rule matches every service of it.
 * https://docs.aws.amazon.com/xray/latest/devguide/xray-console-sampling.html
 */
export class TraceSampling extends Construct {
  public readonly rule: xray.CfnSamplingRule;

  constructor(scope: Construct, id: string, props: TraceSamplingProps) {
    super(scope, id);
    if (props.fixedRate < 0 || props.fixedRate > 1) throw new Error('fixedRate must be between 0 and 1');
    this.rule = new xray.CfnSamplingRule(this, 'Rule', {
      samplingRule: {
        ruleName: `order-pipeline-${props.environment}`.slice(0, 32),
        priority: 100,
        reservoirSize: props.reservoirPerSecond,
        fixedRate: props.fixedRate,
        serviceName: '*',
        serviceType: '*',
        host: '*',
        httpMethod: '*',
        urlPath: '*',
        resourceArn: '*',
        version: 1,
      },
    });
  }
}
