import { createHash } from 'node:crypto';
import { loadEnvironment } from '../../environments';
import { loadDelivery } from '../../environments/delivery';
import { synthesizeEnvironment } from '../../infra/stacks/synthesize';
import { TemplateSet, type CfnTemplate } from '../local/cfn-template';
import { refOf } from '../local/calls/derived-calls';
import type { Principal } from '../local/calls/principals';

/** A policy document as IAM reads it. */
export interface PolicyDocument {
  Version?: string;
  Statement: PolicyStatement[];
}

export interface PolicyStatement {
  Sid?: string;
  Effect: 'Allow' | 'Deny';
  Principal?: unknown;
  Action?: string | string[];
  Resource?: string | string[];
  Condition?: Record<string, Record<string, unknown>>;
}

/** A named policy with, for display, each statement's resources as the template writes them. */
export interface NamedPolicy {
  name: string;
  document: PolicyDocument;
  /** Per statement, per resource entry: the template's expression (`${DataOrdersTable3939A33D.Arn}`). */
  display: string[][];
}

/** One deployed environment's template, resolved with names as CloudFormation would give them. */
export interface EnvironmentWorld {
  name: string;
  accountId: string;
  region: string;
  stackName: string;
  template: CfnTemplate;
  templates: TemplateSet;
  /** Identity policies of each role by logical id (the operator under `operator`). */
  identityPolicies: Map<string, NamedPolicy[]>;
  /** Resource policies (queue, topic, bucket, secret, Lambda permission, key) by the logical id they protect. */
  resourcePolicies: Map<string, NamedPolicy>;
  /** Logical id of the post-deploy role and of the operator policy. */
  postDeployRole: string;
  operatorPolicy: string;
}

/** Roles the verification speaks for; others (VPC flow logs, CodeDeploy) are AWS-run plumbing. */
export function isPipelineRole(world: EnvironmentWorld, role: string): boolean {
  const resource = world.template.Resources[role];
  const service = JSON.stringify(resource?.Properties?.AssumeRolePolicyDocument ?? {});
  return role === world.postDeployRole || /lambda\.amazonaws\.com|states\.amazonaws\.com/.test(service);
}

/**
 * Synthesizes `environment` as the delivery pipeline deploys it (post-deploy role trusted by the
 * tooling account) and resolves every intrinsic with CloudFormation-like physical names in the
 * environment's own account and region.
 */
export function environmentWorld(environment: string): EnvironmentWorld {
  const config = loadEnvironment(environment);
  const delivery = loadDelivery();
  const accountId =
    config.account ?? delivery.accounts[environment as keyof typeof delivery.accounts] ?? '000000000000';
  const { region } = config;
  const { stackName, template: synthesized } = synthesizeEnvironment(config, {
    bundling: false,
    postDeployTrustedAccount: delivery.toolingAccount,
  });
  const world = worldFromTemplate(synthesized as unknown as CfnTemplate, {
    name: environment,
    accountId,
    region,
    stackName,
  });
  if (!world.operatorPolicy) throw new Error(`${environment}: the template has no OperatorAccess policy`);
  if (!world.postDeployRole) throw new Error(`${environment}: the template has no post-deploy role`);
  return world;
}

/** Resolves one template as {@link environmentWorld} does (unit tests hand it small templates). */
export function worldFromTemplate(
  template: CfnTemplate,
  {
    name: environment,
    accountId,
    region,
    stackName,
  }: { name: string; accountId: string; region: string; stackName: string },
): EnvironmentWorld {
  const templates = new TemplateSet({ [stackName]: template }, { region, accountId });
  registerPhysicalNames(templates, stackName, template, { region, accountId });

  const resolve = (value: unknown) => templates.resolve(stackName, value);
  // Templates of environments with a fixed account write it literally; acknowledgements are per pipeline.
  const neutral = (text: string) =>
    text
      .split(`:${accountId}:`)
      .join(':${AWS::AccountId}:')
      .split(`/${accountId}/`)
      .join('/${AWS::AccountId}/')
      .split(`:${region}:`)
      .join(':${AWS::Region}:');
  const named = (name: string, raw: unknown): NamedPolicy => {
    const document = resolve(raw) as PolicyDocument;
    const statements = ([] as unknown[]).concat((raw as { Statement: unknown }).Statement);
    return {
      name,
      document: { Version: '2012-10-17', Statement: ([] as PolicyStatement[]).concat(document.Statement) },
      display: statements.map((statement) =>
        ([] as unknown[])
          .concat((statement as { Resource?: unknown }).Resource ?? [])
          .map((resource) => neutral(renderExpression(resource))),
      ),
    };
  };

  const identityPolicies = new Map<string, NamedPolicy[]>();
  const addIdentity = (role: string, policy: NamedPolicy) =>
    identityPolicies.set(role, [...(identityPolicies.get(role) ?? []), policy]);
  let operatorPolicy = '';
  let postDeployRole = '';
  for (const [logicalId, resource] of Object.entries(template.Resources)) {
    const props = resource.Properties ?? {};
    if (resource.Type === 'AWS::IAM::Policy') {
      for (const role of (props.Roles ?? []) as unknown[])
        addIdentity(refOf(role) ?? '', named(logicalId, props.PolicyDocument));
    }
    if (resource.Type === 'AWS::IAM::Role') {
      if (logicalId.startsWith('PostDeployAccessRole')) postDeployRole = logicalId;
      for (const inline of (props.Policies ?? []) as Array<{ PolicyName: string; PolicyDocument: unknown }>)
        addIdentity(logicalId, named(`${logicalId}/${inline.PolicyName}`, inline.PolicyDocument));
      for (const arn of (props.ManagedPolicyArns ?? []) as unknown[]) {
        const local = refOf(arn);
        const managed = local ? template.Resources[local] : undefined;
        if (managed?.Type === 'AWS::IAM::ManagedPolicy')
          addIdentity(logicalId, named(local ?? '', managed.Properties?.PolicyDocument));
      }
    }
    if (resource.Type === 'AWS::IAM::ManagedPolicy' && logicalId.startsWith('OperatorAccessPolicy')) {
      operatorPolicy = logicalId;
      addIdentity('operator', named(logicalId, props.PolicyDocument));
    }
  }
  const resourcePolicies = new Map<string, NamedPolicy>();
  const addResource = (target: string | undefined, name: string, raw: unknown) => {
    if (!target) return;
    const policy = named(name, raw);
    const existing = resourcePolicies.get(target);
    if (!existing) resourcePolicies.set(target, policy);
    else {
      existing.name += `+${name}`;
      existing.document.Statement.push(...policy.document.Statement);
      existing.display.push(...policy.display);
    }
  };
  for (const [logicalId, resource] of Object.entries(template.Resources)) {
    const props = resource.Properties ?? {};
    switch (resource.Type) {
      case 'AWS::SQS::QueuePolicy':
        for (const queue of (props.Queues ?? []) as unknown[])
          addResource(refOf(queue), logicalId, props.PolicyDocument);
        break;
      case 'AWS::SNS::TopicPolicy':
        for (const topic of (props.Topics ?? []) as unknown[])
          addResource(refOf(topic), logicalId, props.PolicyDocument);
        break;
      case 'AWS::S3::BucketPolicy':
        addResource(refOf(props.Bucket), logicalId, props.PolicyDocument);
        break;
      case 'AWS::SecretsManager::ResourcePolicy':
        addResource(refOf(props.SecretId), logicalId, props.ResourcePolicy);
        break;
      case 'AWS::KMS::Key':
        addResource(logicalId, `${logicalId}/KeyPolicy`, props.KeyPolicy);
        break;
      case 'AWS::Lambda::Permission':
        addResource(
          functionOf(template, refOf(props.FunctionName)),
          logicalId,
          lambdaPermissionPolicy(props),
        );
        break;
    }
  }
  return {
    name: environment,
    accountId,
    region,
    stackName,
    template,
    templates,
    identityPolicies,
    resourcePolicies,
    postDeployRole,
    operatorPolicy,
  };
}

/** A principal's ARN (or service name) as the request names it. */
export function principalArn(world: EnvironmentWorld, principal: Principal): string {
  switch (principal.kind) {
    case 'role':
      return world.templates.resolveString(world.stackName, { 'Fn::GetAtt': [principal.role, 'Arn'] });
    case 'post-deploy':
      return world.templates.resolveString(world.stackName, { 'Fn::GetAtt': [world.postDeployRole, 'Arn'] });
    case 'operator':
      // Whoever the operators are (a role of the account with the policy attached).
      return `arn:aws:iam::${world.accountId}:role/${world.stackName}-operator`;
    case 'service':
      return principal.service;
  }
}

/** The identity policies of a principal. */
export function identityPoliciesOf(world: EnvironmentWorld, principal: Principal): NamedPolicy[] {
  switch (principal.kind) {
    case 'role':
      return world.identityPolicies.get(principal.role) ?? [];
    case 'post-deploy':
      return world.identityPolicies.get(world.postDeployRole) ?? [];
    case 'operator':
      return world.identityPolicies.get('operator') ?? [];
    case 'service':
      return [];
  }
}

/**
 * A portable value of a recording in this environment: `${InvokeTarget:F}` becomes F's live alias
 * where the environment has one (what the load balancer and the state machine invoke there), the
 * function otherwise; the rest is Fn::Sub over this template.
 */
export function resolvePortable(world: EnvironmentWorld, value: string): string {
  const withTargets = value.replace(/\$\{InvokeTarget:([A-Za-z0-9]+)\}/g, (_match, fn: string) => {
    const alias = aliasOf(world.template, fn);
    return alias ? `\${${alias}}` : `\${${fn}.Arn}`;
  });
  return world.templates.resolveString(world.stackName, { 'Fn::Sub': withTargets });
}

/** The logical id of the resource whose policy governs a portable resource value. */
export function owningResource(portable: string): string | undefined {
  const target = /^\$\{InvokeTarget:([A-Za-z0-9]+)\}/.exec(portable)?.[1];
  if (target) return target;
  return /^\$\{([A-Za-z0-9]+)(?:\.[A-Za-z]+)?\}/.exec(portable)?.[1];
}

function aliasOf(template: CfnTemplate, fn: string): string | undefined {
  return Object.entries(template.Resources).find(
    ([, resource]) =>
      resource.Type === 'AWS::Lambda::Alias' && refOf(resource.Properties?.FunctionName) === fn,
  )?.[0];
}

function functionOf(template: CfnTemplate, logicalId: string | undefined): string | undefined {
  if (!logicalId) return undefined;
  const resource = template.Resources[logicalId];
  return resource?.Type === 'AWS::Lambda::Alias' ? refOf(resource.Properties?.FunctionName) : logicalId;
}

/**
 * The statement AWS::Lambda::Permission adds to the function's resource policy: SourceArn as
 * ArnLike aws:SourceArn, SourceAccount as StringEquals aws:SourceAccount.
 * https://docs.aws.amazon.com/lambda/latest/dg/access-control-resource-based.html
 */
function lambdaPermissionPolicy(props: Record<string, unknown>): unknown {
  const condition: Record<string, Record<string, unknown>> = {};
  if (props.SourceArn !== undefined) condition.ArnLike = { 'aws:SourceArn': props.SourceArn };
  if (props.SourceAccount !== undefined)
    condition.StringEquals = { 'aws:SourceAccount': props.SourceAccount };
  const principal = String(props.Principal);
  return {
    Statement: [
      {
        Effect: 'Allow',
        Principal: principal.endsWith('.amazonaws.com') ? { Service: principal } : { AWS: principal },
        Action: props.Action,
        Resource: props.FunctionName,
        ...(Object.keys(condition).length > 0 ? { Condition: condition } : {}),
      },
    ],
  };
}

/** A template expression for display: `${X.Arn}/orders/*`. */
export function renderExpression(value: unknown): string {
  if (typeof value === 'string') return value;
  if (!value || typeof value !== 'object') return String(value);
  const record = value as Record<string, unknown>;
  if (typeof record.Ref === 'string') return `\${${record.Ref}}`;
  const getAtt = record['Fn::GetAtt'];
  if (Array.isArray(getAtt)) return `\${${getAtt.join('.')}}`;
  const join = record['Fn::Join'];
  if (Array.isArray(join)) return (join[1] as unknown[]).map(renderExpression).join(String(join[0]));
  const sub = record['Fn::Sub'];
  if (sub !== undefined) return Array.isArray(sub) ? String(sub[0]) : String(sub);
  return JSON.stringify(value);
}

/** Physical names as CloudFormation generates them (`<stack>-<LogicalIdPrefix>-<suffix>`), or the template's. */
function registerPhysicalNames(
  templates: TemplateSet,
  stack: string,
  template: CfnTemplate,
  { region, accountId }: { region: string; accountId: string },
): void {
  const arn = (service: string, rest: string) => `arn:aws:${service}:${region}:${accountId}:${rest}`;
  for (const [logicalId, resource] of Object.entries(template.Resources)) {
    const props = resource.Properties ?? {};
    const suffix = createHash('sha256')
      .update(`${stack}/${logicalId}`)
      .digest('hex')
      .slice(0, 12)
      .toUpperCase();
    const generated = (max: number) =>
      `${stack}-${logicalId}`.slice(0, max - suffix.length - 1) + `-${suffix}`;
    const explicit = (property: string) => {
      const value = props[property];
      return value === undefined ? undefined : templates.resolveString(stack, value);
    };
    const register = (ref: string, attributes: Record<string, string> = {}) =>
      templates.register(stack, logicalId, { ref, attributes });
    switch (resource.Type) {
      case 'AWS::DynamoDB::Table': {
        const name = explicit('TableName') ?? generated(255);
        register(name, {
          Arn: arn('dynamodb', `table/${name}`),
          StreamArn: arn('dynamodb', `table/${name}/stream/x`),
        });
        break;
      }
      case 'AWS::SQS::Queue': {
        const name = explicit('QueueName') ?? generated(80);
        const url = `https://sqs.${region}.amazonaws.com/${accountId}/${name}`;
        register(url, { Arn: arn('sqs', name), QueueName: name, QueueUrl: url });
        break;
      }
      case 'AWS::SNS::Topic': {
        const name = explicit('TopicName') ?? generated(256);
        register(arn('sns', name), { TopicArn: arn('sns', name), TopicName: name });
        break;
      }
      case 'AWS::S3::Bucket': {
        const name = (explicit('BucketName') ?? generated(63)).toLowerCase();
        register(name, {
          Arn: `arn:aws:s3:::${name}`,
          DomainName: `${name}.s3.amazonaws.com`,
          RegionalDomainName: `${name}.s3.${region}.amazonaws.com`,
        });
        break;
      }
      case 'AWS::SecretsManager::Secret': {
        const name = explicit('Name') ?? generated(200);
        register(arn('secretsmanager', `secret:${name}-AbCdEf`), {
          Id: arn('secretsmanager', `secret:${name}-AbCdEf`),
        });
        break;
      }
      case 'AWS::KMS::Key': {
        const id = createHash('sha256').update(logicalId).digest('hex').slice(0, 32);
        register(id, { Arn: arn('kms', `key/${id}`), KeyId: id });
        break;
      }
      case 'AWS::Lambda::Function': {
        const name = explicit('FunctionName') ?? generated(64);
        register(name, { Arn: arn('lambda', `function:${name}`) });
        break;
      }
      case 'AWS::Lambda::Alias': {
        const fn = refOf(props.FunctionName) ?? '';
        const fnName = templates.physicalOf(stack, fn)?.ref ?? generated(64);
        const aliasArn = arn('lambda', `function:${fnName}:${explicit('Name') ?? 'live'}`);
        register(aliasArn, { AliasArn: aliasArn });
        break;
      }
      case 'AWS::Lambda::Version':
        register(arn('lambda', `function:${generated(64)}:1`), { Version: '1' });
        break;
      case 'AWS::IAM::Role': {
        const name = explicit('RoleName') ?? generated(64);
        register(name, { Arn: `arn:aws:iam::${accountId}:role/${name}`, RoleId: `AROA${suffix}` });
        break;
      }
      case 'AWS::IAM::ManagedPolicy': {
        const name = explicit('ManagedPolicyName') ?? generated(128);
        register(`arn:aws:iam::${accountId}:policy/${name}`, {
          PolicyArn: `arn:aws:iam::${accountId}:policy/${name}`,
        });
        break;
      }
      case 'AWS::StepFunctions::StateMachine': {
        const name = explicit('StateMachineName') ?? generated(80);
        register(arn('states', `stateMachine:${name}`), {
          Arn: arn('states', `stateMachine:${name}`),
          Name: name,
        });
        break;
      }
      case 'AWS::Logs::LogGroup': {
        const name = explicit('LogGroupName') ?? generated(512);
        register(name, { Arn: arn('logs', `log-group:${name}:*`) });
        break;
      }
      case 'AWS::CloudWatch::Alarm': {
        const name = explicit('AlarmName') ?? generated(255);
        register(name, { Arn: arn('cloudwatch', `alarm:${name}`) });
        break;
      }
      case 'AWS::ElasticLoadBalancingV2::TargetGroup': {
        const name = explicit('Name') ?? generated(32);
        const groupArn = arn('elasticloadbalancing', `targetgroup/${name}/${suffix.toLowerCase()}`);
        register(groupArn, {
          TargetGroupArn: groupArn,
          TargetGroupName: name,
          TargetGroupFullName: `targetgroup/${name}/${suffix.toLowerCase()}`,
        });
        break;
      }
      case 'AWS::ElasticLoadBalancingV2::LoadBalancer': {
        const name = explicit('Name') ?? generated(32);
        const full = `app/${name}/${suffix.toLowerCase()}`;
        register(arn('elasticloadbalancing', `loadbalancer/${full}`), {
          LoadBalancerFullName: full,
          LoadBalancerName: name,
          DNSName: `${name}.${region}.elb.amazonaws.com`,
          CanonicalHostedZoneID: 'Z00000000000',
        });
        break;
      }
      default:
        break;
    }
  }
}
