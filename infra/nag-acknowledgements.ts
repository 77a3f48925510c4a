import { Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import type { OrderPipelineStack } from './stacks/order-pipeline-stack';

/**
 * Every cdk-nag acknowledgement of the app, in one place. Each names the exact finding on the exact
 * construct and says why it stays; everything else is fixed in the constructs.
 */
export function applyNagAcknowledgements(stack: OrderPipelineStack): void {
  const ack = (scope: IConstruct, id: string, reason: string) =>
    Validations.of(scope).acknowledge({ id, reason });

  for (const fn of Object.values(stack.functions)) {
    ack(
      fn.role,
      'AwsSolutions-IAM5[Resource::*]',
      'Only the VPC ENI actions (ec2:CreateNetworkInterface, DescribeNetworkInterfaces, DescribeSubnets, ' +
        'DeleteNetworkInterface, Assign/UnassignPrivateIpAddresses) and X-Ray (xray:PutTraceSegments, ' +
        'PutTelemetryRecords) use "*": neither service supports resource-level permissions for these actions.',
    );
    ack(
      fn.function,
      'Serverless-LambdaDLQ',
      'No function is invoked asynchronously (ALB and Step Functions invoke synchronously, SQS through an ' +
        'event source mapping), so a Lambda DLQ would never receive anything; failed SQS messages go to the ' +
        "queues' redrive DLQs and failed workflow steps to the failed-orders table.",
    );
  }
  if (stack.workflow.logging.level !== 'ALL') {
    ack(
      stack.workflow.stateMachine,
      'AwsSolutions-SF1',
      `The environment logs ${stack.workflow.logging.level} events only (workflowLogs): ALL writes ~26 events ` +
        'and ~29 KB per order (about $17 per million orders in eu-west-1, more than the rest of the workflow) ' +
        "and copies each order into the logs. Every order's progress is kept in the orders table and every " +
        'failure in the failed-orders table; failed, retried and caught tasks are still logged.',
    );
  }
  const archive = stack.functions.archive;
  if (archive) {
    const bucketArn = stack.resolve(stack.data.archiveBucket.bucketArn) as { 'Fn::GetAtt': [string, string] };
    ack(
      archive.role,
      `AwsSolutions-IAM5[Resource::<${bucketArn['Fn::GetAtt'][0]}.Arn>/orders/*]`,
      'The archive consumer writes one object per order under orders/YYYY/MM/DD/; object keys are only known ' +
        'at run time, so the orders/ prefix is the narrowest resource S3 offers.',
    );
  }
  if (stack.postDeployAccess) {
    const bucketArn = stack.resolve(stack.data.archiveBucket.bucketArn) as { 'Fn::GetAtt': [string, string] };
    ack(
      stack.postDeployAccess.role,
      `AwsSolutions-IAM5[Resource::<${bucketArn['Fn::GetAtt'][0]}.Arn>/orders/*]`,
      'The post-deploy test reads back the archive object of each order it sent (s3:GetObject only); keys are ' +
        'only known at run time, so the orders/ prefix is the narrowest resource S3 offers.',
    );
  }

  {
    const bucketArn = stack.resolve(stack.data.archiveBucket.bucketArn) as { 'Fn::GetAtt': [string, string] };
    ack(
      stack.operatorAccess.policy,
      `AwsSolutions-IAM5[Resource::<${bucketArn['Fn::GetAtt'][0]}.Arn>/orders/*]`,
      'The replay tool reads archived orders (s3:GetObject only) by keys it lists at run time; the orders/ ' +
        'prefix is the narrowest resource S3 offers.',
    );
  }

  for (const subscriber of stack.fanOut.subscribers) {
    for (const deadLetters of [subscriber.deadLetterQueue, subscriber.subscriptionDeadLetterQueue]) {
      ack(
        deadLetters,
        'Serverless-SQSRedrivePolicy',
        'This queue is itself a dead-letter queue: a message the DLQ handler cannot record stays on it, ' +
          'raises the DLQ alarm and is kept 14 days for a manual redrive.',
      );
    }
    ack(
      subscriber.subscriptionDeadLetterQueue,
      'AwsSolutions-SQS3',
      'This queue is the dead-letter queue of the SNS subscription (its RedrivePolicy), which the rule does not ' +
        'recognise as DLQ use; it is consumed by the DLQ handler and alarmed.',
    );
  }
  for (const fn of Object.values(stack.functions)) {
    ack(
      fn.invokeTarget,
      'Serverless-LambdaEventSourceMappingDestination',
      'SQS event source mappings do not support on-failure destinations (only stream and Kafka sources do); ' +
        "failed messages move to the queue's redrive DLQ after maxReceiveCount receives.",
    );
  }

  const stateMachineRole = stack.workflow.stateMachine.role;
  ack(
    stateMachineRole,
    'AwsSolutions-IAM5[Resource::*]',
    'Step Functions log delivery (logs:CreateLogDelivery, GetLogDelivery, UpdateLogDelivery, ' +
      'DeleteLogDelivery, ListLogDeliveries, PutResourcePolicy, DescribeResourcePolicies, DescribeLogGroups) ' +
      'and X-Ray tracing actions support no resource-level permissions.',
  );
  // Through the `live` alias (canary deployments) the grant is the alias ARN alone, with no wildcard.
  const validateArn = stack.resolve(stack.workflow.validateFunction.functionArn) as {
    'Fn::GetAtt'?: [string, string];
  };
  if (validateArn['Fn::GetAtt']) {
    ack(
      stateMachineRole,
      `AwsSolutions-IAM5[Resource::<${validateArn['Fn::GetAtt'][0]}.Arn>:*]`,
      "CDK's LambdaInvoke task grants lambda:InvokeFunction on the function and its qualified versions; " +
        'the state machine only calls the unqualified ARN, so this covers versions of that one function only.',
    );
  }

  for (const group of Object.values(stack.deploymentGroups)) {
    ack(
      group.role,
      'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSCodeDeployRoleForLambdaLimited]',
      'LambdaDeploymentGroup always attaches this AWS-managed policy to its service role. It is the ' +
        '"Limited" CodeDeploy policy made for Lambda canaries (read/update aliases, read alarms, invoke only ' +
        'CodeDeployHook_* functions); an inline copy would drift from what CodeDeploy needs.',
    );
  }

  ack(
    stack.api.loadBalancer,
    'AwsSolutions-EC23',
    'The internet-facing ALB is the public entry of the order API: it must accept HTTPS (and the HTTP ' +
      'redirect) from any address; requests are authenticated by signature and rate-limited by WAF.',
  );

  for (const secret of [
    stack.secrets.secret,
    stack.secrets.demoClientSeed,
    stack.secrets.smokeClientSecret,
  ]) {
    if (!secret) continue;
    ack(
      secret,
      'AwsSolutions-SMG4',
      'HMAC client secrets are shared with each client, so rotation is a coordinated hand-over: a new secret ' +
        'is added next to the old one (several are accepted at once, CONTRACT.md) and the old one removed ' +
        'once the client has switched. A rotation Lambda cannot tell the client.',
    );
  }
  ack(
    stack.secrets.orderIdKey,
    'AwsSolutions-SMG4',
    'The key of server-made order ids must never change: a new key would give a verbatim replay of a body ' +
      'without an order_id a new id, so it would be accepted as a second order (lambdas/publisher/order-id.ts).',
  );

  ack(
    stack.observability.alarmTopic,
    'Serverless-SNSRedrivePolicy',
    'An email subscription has nothing to replay a lost notification to; the alarm state itself stays in ' +
      'CloudWatch and on the dashboard, and the OK/ALARM transitions are sent again on the next change.',
  );
}
