import { Match, Template } from 'aws-cdk-lib/assertions';
import {
  deliveryInput,
  loadDelivery,
  validateDelivery,
  InvalidDeliveryError,
  type DeliveryInput,
} from '../environments/delivery';
import { loadDeliveryFile } from '../environments/delivery-file';
import { SYNTH_TIMEOUT_MS } from '../infra/test/template-helpers';
import { readBuildSpec } from './build-spec';
import type { DeliveryPipelineStack } from './delivery-pipeline-stack';
import { synthesizeDelivery } from './synthesize-delivery';

interface Action {
  Name: string;
  ActionTypeId: { Category: string; Provider: string };
  RunOrder: number;
  Namespace?: string;
  Configuration?: Record<string, unknown>;
  RoleArn?: unknown;
}
interface PipelineStage {
  Name: string;
  Actions: Action[];
}

const delivery = loadDelivery();
let stacks: Record<string, { stack: DeliveryPipelineStack; template: Template }>;

beforeAll(() => {
  const result = synthesizeDelivery();
  stacks = Object.fromEntries(
    result.stacks.map((stack) => [stack.stackName, { stack, template: Template.fromStack(stack) }]),
  );
}, SYNTH_TIMEOUT_MS);

const pipelineOf = (name: string) => {
  const pipelines = stacks[name]!.template.findResources('AWS::CodePipeline::Pipeline');
  expect(Object.keys(pipelines)).toHaveLength(1);
  return Object.values(pipelines)[0]!.Properties as {
    Stages: PipelineStage[];
    ArtifactStore: { Type: string; EncryptionKey: { Type: string; Id: { 'Fn::GetAtt': [string, string] } } };
  };
};
const stageNames = (name: string) => pipelineOf(name).Stages.map((stage) => stage.Name);
const actionsOf = (name: string, stage: string) =>
  pipelineOf(name)
    .Stages.find((candidate) => candidate.Name === stage)!
    .Actions.slice()
    .sort((a, b) => a.RunOrder - b.RunOrder);
const projectOf = (name: string, logicalId: string) =>
  stacks[name]!.template.findResources('AWS::CodeBuild::Project')[logicalId]!.Properties as {
    Source: { BuildSpec?: string; Type: string; Auth?: unknown; Location?: string };
  };
const buildSpecOf = (name: string, action: Action) => {
  const projectRef = (action.Configuration!.ProjectName as { Ref: string }).Ref;
  return JSON.parse(projectOf(name, projectRef).Source.BuildSpec!) as {
    phases: Record<string, { commands?: string[]; 'runtime-versions'?: unknown }>;
    env?: { variables?: Record<string, string> };
  };
};

describe('pipeline stacks', () => {
  it('are the NonProd (develop) and Prod (main) pipelines in the tooling account', () => {
    expect(Object.keys(stacks).sort()).toEqual(['NonProdPipeline', 'ProdPipeline']);
    for (const { stack } of Object.values(stacks)) {
      expect(stack.account).toBe(delivery.toolingAccount);
      expect(stack.region).toBe(delivery.region);
    }
  });

  it.each([
    ['NonProdPipeline', 'develop'],
    ['ProdPipeline', 'main'],
  ])('%s takes %s from the CodeConnections connection', (name, branch) => {
    const [source] = actionsOf(name, 'Source');
    expect(source!.ActionTypeId).toMatchObject({ Category: 'Source', Provider: 'CodeStarSourceConnection' });
    expect(source!.Configuration).toMatchObject({
      ConnectionArn: delivery.connectionArn,
      FullRepositoryId: `${delivery.repository.owner}/${delivery.repository.name}`,
      BranchName: branch,
    });
  });

  it.each(['NonProdPipeline', 'ProdPipeline'])(
    '%s grants the connection with the prefix of its ARN (codeconnections:UseConnection)',
    (name) => {
      const prefix = delivery.connectionArn.split(':')[2];
      expect(prefix).toBe('codeconnections');
      const actions = Object.values(stacks[name]!.template.findResources('AWS::IAM::Policy')).flatMap(
        (policy) =>
          (policy.Properties.PolicyDocument.Statement as { Action: string | string[]; Resource: unknown }[])
            .filter((statement) => JSON.stringify(statement.Resource).includes(delivery.connectionArn))
            .flatMap((statement) => [statement.Action].flat()),
      );
      expect(actions).toContain('codeconnections:UseConnection');
      expect(actions.filter((action) => !action.startsWith(`${prefix}:`))).toEqual([]);
    },
  );

  it('deploys in order: nonprod synth -> self-mutation -> assets -> Dev -> Staging; prod -> Prod', () => {
    expect(stageNames('NonProdPipeline')).toEqual([
      'Source',
      'Build',
      'UpdatePipeline',
      'Assets',
      'Dev',
      'Staging',
    ]);
    expect(stageNames('ProdPipeline')).toEqual(['Source', 'Build', 'UpdatePipeline', 'Assets', 'Prod']);
  });

  it.each(['NonProdPipeline', 'ProdPipeline'])('%s mutates itself before deploying anything', (name) => {
    expect(actionsOf(name, 'UpdatePipeline').map((action) => action.Name)).toEqual(['SelfMutate']);
    expect(stacks[name]!.stack.pipeline.selfMutationEnabled).toBe(true);
    stacks[name]!.template.hasResourceProperties('AWS::CodePipeline::Pipeline', { PipelineType: 'V2' });
  });

  it('asks for a manual approval before prod and nowhere else', () => {
    expect(
      actionsOf('ProdPipeline', 'Prod').map((action) => [action.Name, action.ActionTypeId.Category]),
    ).toEqual([
      ['ApproveProd', 'Approval'],
      ['PreflightProd', 'Build'],
      ['OrderPipeline.Prepare', 'Deploy'],
      ['OrderPipeline.Deploy', 'Deploy'],
      ['SmokeTest', 'Build'],
    ]);
    const approvals = Object.keys(stacks).flatMap((name) =>
      pipelineOf(name).Stages.flatMap((stage) =>
        stage.Actions.filter((action) => action.ActionTypeId.Category === 'Approval').map(() => stage.Name),
      ),
    );
    expect(approvals).toEqual(['Prod']);
  });

  it('encrypts artifacts with a rotated customer-managed key usable across accounts', () => {
    for (const name of Object.keys(stacks)) {
      const { ArtifactStore } = pipelineOf(name);
      expect(ArtifactStore.EncryptionKey.Type).toBe('KMS');
      const keyId = ArtifactStore.EncryptionKey.Id['Fn::GetAtt'][0];
      const key = stacks[name]!.template.findResources('AWS::KMS::Key')[keyId];
      expect(key?.Properties).toMatchObject({ EnableKeyRotation: true });
      stacks[name]!.template.hasResourceProperties('AWS::S3::Bucket', {
        BucketEncryption: {
          ServerSideEncryptionConfiguration: [
            {
              ServerSideEncryptionByDefault: {
                SSEAlgorithm: 'aws:kms',
                KMSMasterKeyID: { 'Fn::GetAtt': [keyId, 'Arn'] },
              },
            },
          ],
        },
        LoggingConfiguration: { LogFilePrefix: 'artifacts/' },
      });
      // Deploy actions run as the target account's bootstrap roles: cross-account ready.
      const deploys = pipelineOf(name)
        .Stages.flatMap((stage) => stage.Actions)
        .filter((action) => action.ActionTypeId.Category === 'Deploy');
      expect(deploys.length).toBeGreaterThan(0);
      for (const deploy of deploys) {
        expect(JSON.stringify(deploy.RoleArn)).toMatch(
          /:iam::(111111111111|222222222222|333333333333):role\/cdk-[a-z0-9]+-deploy-role-/,
        );
      }
    }
  });

  it("runs buildspec.yml's phases in the synth step, and only them", () => {
    const file = readBuildSpec();
    const [synth] = actionsOf('NonProdPipeline', 'Build');
    const spec = buildSpecOf('NonProdPipeline', synth!);
    expect(spec.phases.install).toEqual(file.phases.install);
    expect(spec.phases.build).toEqual(file.phases.build);
    expect(spec.env?.variables).toMatchObject(file.env!.variables);
    expect(Object.keys(spec.phases).sort()).toEqual(Object.keys(file.phases).sort());
  });
});

describe('post-deploy tests', () => {
  it.each([
    ['NonProdPipeline', 'Dev', 'StressTest', 'dev'],
    ['NonProdPipeline', 'Staging', 'StressTest', 'staging'],
    ['ProdPipeline', 'Prod', 'SmokeTest', 'prod'],
  ])('%s %s: %s runs after the deploy with the stage outputs', (name, stage, step, env) => {
    const actions = actionsOf(name, stage);
    const deploy = actions.find((action) => action.Name === 'OrderPipeline.Deploy')!;
    const test = actions.at(-1)!;
    expect(test.Name).toBe(step);
    expect(test.RunOrder).toBeGreaterThan(deploy.RunOrder);
    const variables = JSON.parse(test.Configuration!.EnvironmentVariables as string) as {
      name: string;
      value: string;
    }[];
    expect(variables).toEqual(
      expect.arrayContaining([
        { name: 'ORDERS_URL', type: 'PLAINTEXT', value: `#{${deploy.Namespace}.OrdersUrl}` },
        { name: 'CLIENT_SECRETS_ID', type: 'PLAINTEXT', value: `#{${deploy.Namespace}.ClientSecretsId}` },
        {
          name: 'POST_DEPLOY_ROLE_ARN',
          type: 'PLAINTEXT',
          value: `#{${deploy.Namespace}.PostDeployRoleArn}`,
        },
      ]),
    );
    const spec = buildSpecOf(name, test);
    expect(spec.phases.install).toEqual(readBuildSpec().phases.install);
    expect(spec.phases.build!.commands!.at(-1)).toBe(
      `AWS_PROFILE=post-deploy AWS_REGION="$STAGE_REGION" npm run stress:${env} -- --url "\${ORDERS_URL%/orders}"`,
    );
  });

  it.each([
    ['NonProdPipeline', 'Dev', '111111111111'],
    ['ProdPipeline', 'Prod', '333333333333'],
  ])("%s %s: the step's role may only assume the stage's post-deploy role", (name, stage, account) => {
    const test = actionsOf(name, stage).at(-1)!;
    const projectRef = (test.Configuration!.ProjectName as { Ref: string }).Ref;
    const roleRef = (
      stacks[name]!.template.findResources('AWS::CodeBuild::Project')[projectRef]!.Properties as {
        ServiceRole: { 'Fn::GetAtt': [string, string] };
      }
    ).ServiceRole['Fn::GetAtt'][0];
    const statements = Object.values(stacks[name]!.template.findResources('AWS::IAM::Policy'))
      .filter((policy) => JSON.stringify(policy.Properties.Roles) === JSON.stringify([{ Ref: roleRef }]))
      .flatMap(
        (policy) => policy.Properties.PolicyDocument.Statement as { Action: unknown; Resource: unknown }[],
      );
    const assume = statements.filter((statement) => JSON.stringify(statement.Action).includes('sts:'));
    expect(assume).toEqual([
      expect.objectContaining({
        Action: 'sts:AssumeRole',
        Resource: `arn:aws:iam::${account}:role/${stage}-OrderPipeline-eu-west-1-post-deploy`,
      }),
    ]);
    // Nothing else reaches outside the pipeline: no secrets, no CloudFormation, no data.
    const actions = statements.flatMap((statement) => [statement.Action].flat() as string[]);
    expect(actions.filter((action) => /^(secretsmanager|cloudformation|dynamodb|sqs):/.test(action))).toEqual(
      [],
    );
  });

  it("the stage's post-deploy role trusts the tooling account and reads only its own stage", () => {
    const dev = stacks.NonProdPipeline!.stack.stages[0]!.stage.stack;
    const template = Template.fromStack(dev);
    const role = Object.entries(template.findResources('AWS::IAM::Role')).find(
      ([, resource]) => resource.Properties.RoleName === 'Dev-OrderPipeline-eu-west-1-post-deploy',
    )!;
    expect(JSON.stringify(role[1].Properties.AssumeRolePolicyDocument)).toContain(
      `:iam::${delivery.toolingAccount}:root`,
    );
    // Only the Dev post-deploy step's role of the tooling account, which the pipeline names so.
    expect(role[1].Properties.AssumeRolePolicyDocument.Statement[0].Condition).toEqual({
      ArnEquals: {
        'aws:PrincipalArn': `arn:aws:iam::${delivery.toolingAccount}:role/OrderPipeline-dev-post-deploy-step`,
      },
    });
    stacks.NonProdPipeline!.template.hasResourceProperties('AWS::IAM::Role', {
      RoleName: 'OrderPipeline-dev-post-deploy-step',
    });
    const policy = Object.values(template.findResources('AWS::IAM::Policy')).find(
      (resource) => JSON.stringify(resource.Properties.Roles) === JSON.stringify([{ Ref: role[0] }]),
    )!;
    const sids = (
      policy.Properties.PolicyDocument.Statement as { Sid: string; Action: string | string[] }[]
    ).map((statement) => [statement.Sid, [statement.Action].flat().sort().join(',')]);
    expect(Object.fromEntries(sids)).toEqual({
      DescribeThisStack: 'cloudformation:DescribeStacks',
      ReadSmokeClientSecret: 'secretsmanager:GetSecretValue',
      DecryptSmokeClientSecret: 'kms:Decrypt',
      ReadOrderRecords: 'dynamodb:BatchGetItem,dynamodb:GetItem,dynamodb:Query',
      ListArchive: 's3:ListBucket,s3:ListBucketVersions',
      ReadArchive: 's3:GetObject',
      DecryptOrderData: 'kms:Decrypt',
      ReadDeadLetterDepth: 'sqs:GetQueueAttributes',
    });
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Sid: 'DescribeThisStack', Resource: { Ref: 'AWS::StackId' } }),
        ]),
      },
    });
  });
});

describe('preflight before each deploy', () => {
  it.each([
    ['NonProdPipeline', 'Dev', 'dev', '111111111111'],
    ['NonProdPipeline', 'Staging', 'staging', '222222222222'],
    ['ProdPipeline', 'Prod', 'prod', '333333333333'],
  ])(
    '%s %s: runs npm run preflight through the lookup role before the deploy',
    (name, stage, env, account) => {
      const actions = actionsOf(name, stage);
      const deploy = actions.find(
        (action) => action.Name === 'OrderPipeline.Prepare' || action.Name === 'OrderPipeline.Deploy',
      )!;
      const preflight = actions.find((action) => action.Name === `Preflight${stage}`)!;
      expect(preflight.RunOrder).toBeLessThan(deploy.RunOrder);
      const approval = actions.find((action) => action.Name === `Approve${stage}`);
      if (approval) expect(preflight.RunOrder).toBeGreaterThan(approval.RunOrder);
      const lookupRole = `arn:aws:iam::${account}:role/cdk-hnb659fds-lookup-role-${account}-eu-west-1`;
      const spec = buildSpecOf(name, preflight);
      expect(spec.phases.install).toEqual(readBuildSpec().phases.install);
      expect(spec.phases.build!.commands).toEqual([
        `aws configure set profile.preflight.role_arn ${lookupRole}`,
        'aws configure set profile.preflight.credential_source EcsContainer',
        `npm run preflight -- --env ${env} --profile preflight --skip connection`,
      ]);
      // The step's role may assume that read-only role and nothing else.
      const projectRef = (preflight.Configuration!.ProjectName as { Ref: string }).Ref;
      const roleRef = (
        stacks[name]!.template.findResources('AWS::CodeBuild::Project')[projectRef]!.Properties as {
          ServiceRole: { 'Fn::GetAtt': [string, string] };
        }
      ).ServiceRole['Fn::GetAtt'][0];
      const statements = Object.values(stacks[name]!.template.findResources('AWS::IAM::Policy'))
        .filter((policy) => JSON.stringify(policy.Properties.Roles) === JSON.stringify([{ Ref: roleRef }]))
        .flatMap(
          (policy) => policy.Properties.PolicyDocument.Statement as { Action: unknown; Resource: unknown }[],
        );
      expect(statements.filter((statement) => JSON.stringify(statement.Action).includes('sts:'))).toEqual([
        expect.objectContaining({ Action: 'sts:AssumeRole', Resource: lookupRole }),
      ]);
    },
  );
});

describe('pull-request check', () => {
  const checkOf = () => {
    const projects = stacks.NonProdPipeline!.template.findResources('AWS::CodeBuild::Project', {
      Properties: { Source: { Type: 'GITHUB' } },
    });
    expect(Object.keys(projects)).toHaveLength(1);
    return Object.values(projects)[0]!.Properties;
  };

  it('runs buildspec.yml from the repository through the connection, no token', () => {
    expect(checkOf().Source).toMatchObject({
      Type: 'GITHUB',
      Location: `https://github.com/${delivery.repository.owner}/${delivery.repository.name}.git`,
      BuildSpec: 'buildspec.yml',
      ReportBuildStatus: true,
      Auth: { Type: 'CODECONNECTIONS', Resource: delivery.connectionArn },
    });
    stacks.NonProdPipeline!.template.resourceCountIs('AWS::CodeBuild::SourceCredential', 0);
  });

  it('triggers on pull requests opened, updated or reopened into develop and main only', () => {
    const event = {
      Type: 'EVENT',
      Pattern: 'PULL_REQUEST_CREATED, PULL_REQUEST_UPDATED, PULL_REQUEST_REOPENED',
    };
    expect(checkOf().Triggers).toMatchObject({
      Webhook: true,
      FilterGroups: [
        [event, { Type: 'BASE_REF', Pattern: '^refs/heads/develop$' }],
        [event, { Type: 'BASE_REF', Pattern: '^refs/heads/main$' }],
      ],
      PullRequestBuildPolicy: { RequiresCommentApproval: 'ALL_PULL_REQUESTS' },
    });
  });

  it('is created after the policy holding its connection grants, so its webhook can be created', () => {
    const { template } = stacks.NonProdPipeline!;
    const [projectId, project] = Object.entries(
      template.findResources('AWS::CodeBuild::Project', { Properties: { Source: { Type: 'GITHUB' } } }),
    )[0]!;
    const roleId = (project.Properties.ServiceRole as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
    const policies = Object.entries(template.findResources('AWS::IAM::Policy')).filter(
      ([, policy]) =>
        JSON.stringify(policy.Properties.Roles) === JSON.stringify([{ Ref: roleId }]) &&
        JSON.stringify(policy.Properties.PolicyDocument).includes(delivery.connectionArn),
    );
    expect(policies).toHaveLength(1);
    const [policyId, policy] = policies[0]!;
    expect(policy.Properties.Roles).toEqual([{ Ref: roleId }]);
    expect(project.DependsOn).toEqual(expect.arrayContaining([policyId]));
    // The policy must not refer to the project, or the dependency would be a cycle.
    expect(JSON.stringify(policy.Properties)).not.toContain(projectId);
  });

  it('exists once, in the NonProd pipeline stack', () => {
    const githubProjects = (name: string) =>
      Object.keys(
        stacks[name]!.template.findResources('AWS::CodeBuild::Project', {
          Properties: { Source: { Type: 'GITHUB' } },
        }),
      ).length;
    expect([githubProjects('NonProdPipeline'), githubProjects('ProdPipeline')]).toEqual([1, 0]);
  });
});

describe('canary deployments', () => {
  const stageTemplate = (name: string, stage: number) =>
    Template.fromStack(stacks[name]!.stack.stages[stage]!.stage.stack);

  it('prod deploys every Lambda through a live alias with a 10 % canary that rolls back on its alarms', () => {
    const prod = stageTemplate('ProdPipeline', 0);
    prod.resourceCountIs('AWS::Lambda::Alias', 6);
    prod.resourceCountIs('AWS::CodeDeploy::DeploymentGroup', 6);
    const groups = Object.values(prod.findResources('AWS::CodeDeploy::DeploymentGroup'));
    for (const group of groups) {
      expect(group.Properties).toMatchObject({
        DeploymentConfigName: 'CodeDeployDefault.LambdaCanary10Percent5Minutes',
        AlarmConfiguration: { Enabled: true, Alarms: expect.arrayContaining([{ Name: expect.anything() }]) },
        AutoRollbackConfiguration: {
          Enabled: true,
          Events: expect.arrayContaining(['DEPLOYMENT_FAILURE', 'DEPLOYMENT_STOP_ON_ALARM']),
        },
      });
    }
    const alarms = prod.findResources('AWS::CloudWatch::Alarm');
    // What each group watches is pinned in infra/test/first-deploy.test.ts; here: never Errors alone.
    for (const group of groups) {
      const watched = (group.Properties.AlarmConfiguration.Alarms as { Name: { Ref: string } }[]).map(
        (entry) => alarms[entry.Name.Ref]!.Properties.MetricName ?? 'math',
      );
      expect(watched).toContain('Errors');
      expect(watched.length).toBeGreaterThan(1);
    }
  });

  it('prod event sources, ALB target and workflow invoke the alias', () => {
    const prod = stageTemplate('ProdPipeline', 0);
    const aliases = Object.keys(prod.findResources('AWS::Lambda::Alias'));
    const isAlias = (value: unknown) => aliases.includes((value as { Ref?: string }).Ref ?? '');
    const mappings = Object.values(prod.findResources('AWS::Lambda::EventSourceMapping'));
    expect(mappings.length).toBeGreaterThan(0);
    // `<function name>:live`, the name taken from the alias ARN.
    for (const mapping of mappings) {
      const functionName = JSON.stringify(mapping.Properties.FunctionName);
      expect(functionName).toMatch(new RegExp(`"Ref":"(${aliases.join('|')})"`));
      expect(functionName).toContain(':live');
    }
    const [targetGroup] = Object.values(prod.findResources('AWS::ElasticLoadBalancingV2::TargetGroup'));
    expect(isAlias(targetGroup!.Properties.Targets[0].Id)).toBe(true);
    const [machine] = Object.values(prod.findResources('AWS::StepFunctions::StateMachine'));
    expect(JSON.stringify(machine!.Properties.DefinitionString)).toMatch(
      new RegExp(`"Ref":"(${aliases.join('|')})"`),
    );
    const [schedule] = Object.values(prod.findResources('AWS::Scheduler::Schedule'));
    expect(isAlias(schedule!.Properties.Target.Arn)).toBe(true);
  });

  it.each([
    ['NonProdPipeline', 0],
    ['NonProdPipeline', 1],
  ])('%s stage %d deploys at once: no alias, no CodeDeploy', (name, stage) => {
    const template = stageTemplate(name, stage);
    template.resourceCountIs('AWS::Lambda::Alias', 0);
    template.resourceCountIs('AWS::CodeDeploy::DeploymentGroup', 0);
  });
});

describe('delivery config', () => {
  const broken = (change: (input: DeliveryInput) => void) => {
    const input = deliveryInput(loadDeliveryFile());
    change(input);
    return () => validateDelivery(input);
  };

  it('refuses prod without a manual approval', () => {
    const attempt = broken((input) => {
      input.pipelines[1]!.stages[0]!.manualApproval = false;
    });
    expect(attempt).toThrow(InvalidDeliveryError);
    expect(attempt).toThrow(
      /pipelines\.1\.stages\.0\.manualApproval: prod is only deployed after a manual approval/,
    );
  });

  it('refuses a pipeline environment without an account', () => {
    expect(
      broken((input) => {
        delete input.accounts.staging;
      }),
    ).toThrow(/accounts\.staging: staging is deployed by a pipeline: name its account/);
  });

  it('refuses a token-shaped connection', () => {
    expect(
      broken((input) => {
        input.connectionArn = 'ghp_0123456789abcdef';
      }),
    ).toThrow(/connectionArn: must be a CodeConnections connection ARN/);
  });

  it('refuses an environment deployed by two pipelines', () => {
    expect(
      broken((input) => {
        input.pipelines[1]!.stages.push({
          environment: 'dev',
          manualApproval: true,
          postDeployTest: 'smoke',
        });
      }),
    ).toThrow(/dev is deployed by two stages/);
  });
});
