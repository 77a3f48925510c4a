import { Validations } from 'aws-cdk-lib';
import * as codebuild from 'aws-cdk-lib/aws-codebuild';
import type { IConstruct } from 'constructs';
import type { DeliveryPipelineStack } from './delivery-pipeline-stack';

/**
 * The cdk-nag acknowledgements of a delivery pipeline stack: the grants CDK Pipelines generates for
 * its own roles, and the pull-request check. Made on the pipeline and check constructs, never the
 * stack, so they cannot reach the environment stages nested in it (those get
 * `applyNagAcknowledgements` in infra/nag-acknowledgements.ts).
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
  // The artifact bucket and key grants CDK writes into every role that touches the artifacts.
  const artifactFindings = [
    'Action::s3:Abort*',
    'Action::s3:DeleteObject*',
    'Action::s3:GetBucket*',
    'Action::s3:GetObject*',
    'Action::s3:List*',
    `Resource::<${bucket}.Arn>/*`,
    'Action::kms:GenerateDataKey*',
    'Action::kms:ReEncrypt*',
  ];
  for (const finding of artifactFindings) {
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
        for (const finding of artifactFindings) {
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
