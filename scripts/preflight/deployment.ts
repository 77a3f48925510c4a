/**
 * Checks of what a deploy leaves behind: the stack's state, the alarm topic's email subscription
 * and the smoke-test client's secret. Before the first deploy the last two say so and skip.
 */
import { CloudFormationServiceException, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { DescribeSecretCommand, ResourceNotFoundException } from '@aws-sdk/client-secrets-manager';
import { ListSubscriptionsByTopicCommand, NotFoundException, type Subscription } from '@aws-sdk/client-sns';
import { failedCall } from './aws-errors';
import type { CheckResult, DeployedStack, PreflightClients, PreflightTarget } from './types';

/** What SNS shows instead of an ARN until the recipient confirms. */
const PENDING = 'PendingConfirmation';

/**
 * Reads the stack: its status and outputs, or none before the first deploy (and after a first
 * deploy that rolled back, which the next deploy replaces). A stack in the middle of an operation
 * or stuck in a failed rollback cannot be deployed and fails the check.
 */
export async function checkStack(
  clients: Pick<PreflightClients, 'cloudFormation'>,
  target: PreflightTarget,
): Promise<{ result: CheckResult; deployed?: DeployedStack }> {
  const check = 'stack';
  let stack;
  try {
    stack = (await clients.cloudFormation.send(new DescribeStacksCommand({ StackName: target.stackName })))
      .Stacks?.[0];
  } catch (error) {
    // DescribeStacks answers a missing stack with a plain ValidationError; only the text tells.
    if (error instanceof CloudFormationServiceException && /does not exist/.test(error.message)) {
      return {
        result: {
          check,
          status: 'skip',
          summary: `${target.stackName} is not deployed yet: the checks of a deployed stack are skipped`,
        },
      };
    }
    return { result: failedCall(check, 'cloudformation:DescribeStacks', error) };
  }
  const status = stack?.StackStatus ?? 'UNKNOWN';
  if (status === 'ROLLBACK_COMPLETE') {
    return {
      result: {
        check,
        status: 'skip',
        summary: `${target.stackName} is ROLLBACK_COMPLETE (its first deploy failed; see its events): the next deploy replaces it, so it counts as not deployed`,
      },
    };
  }
  if (status.endsWith('_IN_PROGRESS')) {
    return {
      result: {
        check,
        status: 'fail',
        summary: `${target.stackName} is ${status}: a deploy now is refused`,
        fix: 'wait until the current operation ends, then run the preflight again',
      },
    };
  }
  if (status.endsWith('_FAILED')) {
    return {
      result: {
        check,
        status: 'fail',
        summary: `${target.stackName} is ${status}: CloudFormation accepts no update until it is resolved`,
        fix:
          status === 'UPDATE_ROLLBACK_FAILED'
            ? `fix the cause in the stack's events, then: aws cloudformation continue-update-rollback --stack-name ${target.stackName} --region ${target.region}`
            : `see the stack's events for the resource that failed; resolve it in the console`,
      },
    };
  }
  const outputs = Object.fromEntries(
    (stack?.Outputs ?? []).map((output) => [output.OutputKey ?? '', output.OutputValue ?? '']),
  );
  return {
    deployed: { status, outputs },
    result: { check, status: 'pass', summary: `${target.stackName} is ${status}` },
  };
}

async function subscriptionsOf(
  clients: Pick<PreflightClients, 'sns'>,
  topicArn: string,
): Promise<Subscription[]> {
  const subscriptions: Subscription[] = [];
  let nextToken: string | undefined;
  do {
    const page = await clients.sns.send(
      new ListSubscriptionsByTopicCommand({ TopicArn: topicArn, NextToken: nextToken }),
    );
    subscriptions.push(...(page.Subscriptions ?? []));
    nextToken = page.NextToken;
  } while (nextToken);
  return subscriptions;
}

/** The alarm topic has the configured email subscribed and confirmed. */
export async function checkAlarmSubscription(
  clients: Pick<PreflightClients, 'sns'>,
  target: PreflightTarget,
  deployed: DeployedStack | undefined,
): Promise<CheckResult> {
  const check = 'alarm-email';
  if (!deployed) {
    return {
      check,
      status: 'skip',
      summary: `not deployed yet: the first deploy subscribes ${target.alarmEmail} to the alarm topic; confirm the email it gets, then run the preflight again`,
    };
  }
  const topicArn = deployed.outputs[target.alarmTopicOutput];
  if (!topicArn) {
    return {
      check,
      status: 'fail',
      summary: `the stack has no ${target.alarmTopicOutput} output`,
      fix: 'deploy this version of the stack, which names its alarm topic in that output',
    };
  }
  let subscriptions: Subscription[];
  try {
    subscriptions = await subscriptionsOf(clients, topicArn);
  } catch (error) {
    if (error instanceof NotFoundException) {
      return {
        check,
        status: 'fail',
        summary: `the alarm topic ${topicArn} does not exist`,
        fix: 'deploy the stack again; the topic is part of it',
      };
    }
    return failedCall(check, 'sns:ListSubscriptionsByTopic', error);
  }
  const email = target.alarmEmail.toLowerCase();
  const mine = subscriptions.filter(
    (subscription) => subscription.Protocol === 'email' && subscription.Endpoint?.toLowerCase() === email,
  );
  const subscribe = `aws sns subscribe --topic-arn ${topicArn} --protocol email --notification-endpoint ${target.alarmEmail} --region ${target.region}`;
  if (mine.length === 0) {
    return {
      check,
      status: 'fail',
      summary: `${target.alarmEmail} is not subscribed to the alarm topic: no alarm reaches anyone`,
      fix: `subscribe it again and confirm the email it gets: ${subscribe}`,
    };
  }
  if (mine.every((subscription) => subscription.SubscriptionArn === PENDING)) {
    return {
      check,
      status: 'fail',
      summary: `${target.alarmEmail} has not confirmed its subscription (${PENDING}): no alarm reaches it`,
      fix: `open the "AWS Notification - Subscription Confirmation" email and confirm; to send it again: ${subscribe}`,
    };
  }
  if (target.platform === 'local') {
    return {
      check,
      status: 'skip',
      summary: `${target.alarmEmail} is subscribed; moto confirms every subscription at once, so only AWS can say whether it is confirmed`,
    };
  }
  return {
    check,
    status: 'pass',
    summary: `${target.alarmEmail} is subscribed to the alarm topic and confirmed`,
  };
}

/** The smoke-test client's secret, named by a stack output, exists and has a current value. */
export async function checkSmokeClient(
  clients: Pick<PreflightClients, 'secretsManager'>,
  target: PreflightTarget,
  deployed: DeployedStack | undefined,
): Promise<CheckResult> {
  const check = 'smoke-client';
  if (!target.smokeClientOutput) {
    return { check, status: 'skip', summary: `${target.environment} defines no smoke-test client` };
  }
  if (!deployed) {
    return {
      check,
      status: 'skip',
      summary: 'not deployed yet: the first deploy creates the smoke-test client',
    };
  }
  const secretId = deployed.outputs[target.smokeClientOutput];
  if (!secretId) {
    return {
      check,
      status: 'skip',
      summary: `the deployed stack has no ${target.smokeClientOutput} output yet: the next deploy creates the smoke-test client`,
    };
  }
  let secret;
  try {
    secret = await clients.secretsManager.send(new DescribeSecretCommand({ SecretId: secretId }));
  } catch (error) {
    if (error instanceof ResourceNotFoundException) {
      return {
        check,
        status: 'fail',
        summary: `the smoke-test client's secret ${secretId} does not exist`,
        fix: 'deploy the stack again; the secret is part of it',
      };
    }
    return failedCall(check, 'secretsmanager:DescribeSecret', error);
  }
  if (secret.DeletedDate) {
    return {
      check,
      status: 'fail',
      summary: `the smoke-test client's secret is scheduled for deletion (${secret.DeletedDate.toISOString()})`,
      fix: `aws secretsmanager restore-secret --secret-id ${secretId} --region ${target.region}`,
    };
  }
  const current = Object.values(secret.VersionIdsToStages ?? {}).some((stages) =>
    stages.includes('AWSCURRENT'),
  );
  if (!current) {
    return {
      check,
      status: 'fail',
      summary: `the smoke-test client's secret ${secret.Name ?? secretId} has no value (no AWSCURRENT version)`,
      fix: 'deploy the stack again so it generates the value, or rotate the secret',
    };
  }
  return {
    check,
    status: 'pass',
    summary: `smoke-test client secret ${secret.Name ?? secretId} exists and has a value`,
  };
}
