import { Duration, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import { Construct } from 'constructs';

export interface ReconcilerScheduleProps {
  /** What the schedule invokes (the reconciler's `live` alias, when it has one). */
  readonly target: lambda.IFunction;
  /** Minutes between sweeps. */
  readonly every: Duration;
}

/**
 * An EventBridge Scheduler schedule that invokes the reconciler every few minutes, through a role
 * only Scheduler may assume, for schedules of this account (confused-deputy protection,
 * https://docs.aws.amazon.com/scheduler/latest/UserGuide/cross-service-confused-deputy-prevention.html).
 * No retries: a missed sweep is made up by the next one, minutes later.
 */
export class ReconcilerSchedule extends Construct {
  public readonly schedule: scheduler.CfnSchedule;
  public readonly role: iam.Role;

  constructor(scope: Construct, id: string, props: ReconcilerScheduleProps) {
    super(scope, id);
    const { account } = Stack.of(this);
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': account } },
      }),
      description: 'EventBridge Scheduler invokes the order reconciler',
    });
    this.role.addToPolicy(
      new iam.PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: [props.target.functionArn] }),
    );
    this.schedule = new scheduler.CfnSchedule(this, 'Schedule', {
      description: 'Sweeps the orders that are not terminal past their deadline',
      scheduleExpression: `rate(${props.every.toMinutes()} minute${props.every.toMinutes() === 1 ? '' : 's'})`,
      flexibleTimeWindow: { mode: 'OFF' },
      target: {
        arn: props.target.functionArn,
        roleArn: this.role.roleArn,
        retryPolicy: { maximumRetryAttempts: 0, maximumEventAgeInSeconds: 60 },
      },
    });
  }
}
