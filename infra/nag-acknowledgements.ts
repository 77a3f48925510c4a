import { Validations } from 'aws-cdk-lib';
import * as codebuild from 'aws-cdk-lib/aws-codebuild';
import type { IConstruct } from 'constructs';
import type { DeliveryPipelineStack } from '../pipeline/delivery-pipeline-stack';
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
    stack.observability.alarmTopic,
    'Serverless-SNSRedrivePolicy',
    'An email subscription has nothing to replay a lost notification to; the alarm state itself stays in ' +
      'CloudWatch and on the dashboard, and the OK/ALARM transitions are sent again on the next change.',
  );
}

/**
 * The cdk-nag acknowledgements of a delivery pipeline stack: the grants CDK Pipelines generates for
 * its own roles, and the pull-request check. Made on the pipeline and check constructs, never the
 * stack, so they cannot reach the environment stages nested in it (those get
 * {@link applyNagAcknowledgements}).
 */
export function applyPipelineNagAcknowledgements(stack: DeliveryPipelineStack): void {
  const ack = (scope: IConstruct, id: string, reason: string) =>
    Validations.of(scope).acknowledge({ id, reason });
  const logicalIdOf = (token: string) => {
    const resolved = stack.resolve(token) as { 'Fn::GetAtt'?: [string, string]; Ref?: string };
    const id = resolved['Fn::GetAtt']?.[0] ?? resolved.Ref;
    if (!id) throw new Error(`Cannot find the logical id of ${JSON.stringify(resolved)}`);
    return id;
  };
  const scope = `${stack.partition}:%s:${stack.region}:${stack.account}`;
  const arn = (service: string, rest: string) => `arn:${scope.replace('%s', service)}:${rest}`;

  const pipeline = stack.pipeline.pipeline;
  const bucket = logicalIdOf(pipeline.artifactBucket.bucketArn);
  const artifactAccess =
    "CDK Pipelines' grants on the pipeline's own artifact bucket and its KMS key (grantRead/grantReadWrite): " +
    'every object key is generated per execution, so the bucket and key are the narrowest resources; ' +
    'S3 and KMS action groups (s3:GetObject*, kms:ReEncrypt*...) are how CDK spells those grants.';
  for (const finding of [
    'Action::s3:Abort*',
    'Action::s3:DeleteObject*',
    'Action::s3:GetBucket*',
    'Action::s3:GetObject*',
    'Action::s3:List*',
    `Resource::<${bucket}.Arn>/*`,
    'Action::kms:GenerateDataKey*',
    'Action::kms:ReEncrypt*',
  ]) {
    ack(stack.pipeline, `AwsSolutions-IAM5[${finding}]`, artifactAccess);
  }

  // Every CodeBuild project writes its own log group and report groups, named after the project.
  const projects = stack.node
    .findAll()
    .filter((construct): construct is codebuild.Project => construct instanceof codebuild.Project);
  for (const project of projects) {
    const id = logicalIdOf(project.projectName);
    // A post-deploy step runs as a named role of its own, outside the project's construct.
    const scopes: IConstruct[] =
      project.role && project.role.node.scope !== project ? [project, project.role] : [project];
    for (const target of scopes) {
      if (target !== project) {
        for (const finding of [
          'Action::s3:Abort*',
          'Action::s3:DeleteObject*',
          'Action::s3:GetBucket*',
          'Action::s3:GetObject*',
          'Action::s3:List*',
          `Resource::<${bucket}.Arn>/*`,
          'Action::kms:GenerateDataKey*',
          'Action::kms:ReEncrypt*',
        ]) {
          ack(target, `AwsSolutions-IAM5[${finding}]`, artifactAccess);
        }
      }
      ack(
        target,
        `AwsSolutions-IAM5[Resource::${arn('logs', `log-group:/aws/codebuild/<${id}>:*`)}]`,
        "CodeBuild writes this project's build logs to streams named per build inside /aws/codebuild/<project>; " +
          'the wildcard covers the streams of that one log group.',
      );
      ack(
        target,
        `AwsSolutions-IAM5[Resource::${arn('codebuild', `report-group/<${id}>-*`)}]`,
        'CodeBuild names the report groups of a project <project>-<report>; the wildcard covers only this ' +
          "project's test reports.",
      );
    }
  }

  const selfMutation = stack.pipeline.node.findChild('UpdatePipeline').node.findChild('SelfMutation');
  ack(
    selfMutation,
    `AwsSolutions-IAM5[Resource::arn:*:iam::${stack.account}:role/*]`,
    'Self-mutation runs `cdk deploy` of the pipeline stack, which assumes the CDK bootstrap roles of the ' +
      'tooling account; the statement is conditioned on the aws-cdk:bootstrap-role tag (deploy, ' +
      'file-publishing, image-publishing), whose names carry a qualifier and hash.',
  );
  ack(
    selfMutation,
    'AwsSolutions-IAM5[Resource::*]',
    'cloudformation:DescribeStacks and s3:ListBucket on "*": the CDK CLI looks up the bootstrap stack and ' +
      'bucket by name before deploying; both are read-only.',
  );

  const assets = stack.pipeline.node.findChild('Assets');
  ack(
    assets,
    'AwsSolutions-IAM5[Resource::*]',
    'The asset publishing role is shared by every asset project CDK Pipelines generates, so its ' +
      'codebuild:StartBuild/BatchGetBuilds/StopBuild grant cannot name projects created after it.',
  );
  ack(
    assets,
    `AwsSolutions-IAM5[Resource::${arn('logs', 'log-group:/aws/codebuild/*')}]`,
    'The shared asset publishing role writes the logs of every generated asset project, each in its own ' +
      '/aws/codebuild/<project> group.',
  );
  ack(
    assets,
    `AwsSolutions-IAM5[Resource::${arn('codebuild', 'report-group/*')}]`,
    'The shared asset publishing role may write the reports of every generated asset project; their names ' +
      'are generated by CodeBuild.',
  );

  if (stack.pullRequestCheck) {
    for (const finding of ['Action::kms:GenerateDataKey*', 'Action::kms:ReEncrypt*']) {
      ack(
        stack.pullRequestCheck,
        `AwsSolutions-IAM5[${finding}]`,
        "CodeBuild encrypts the check's build output with the check's own KMS key; CDK grants the key's " +
          'data-key action groups on that one key.',
      );
    }
  }
}
