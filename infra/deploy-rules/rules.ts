import { UNRESERVED_CONCURRENCY_MINIMUM } from '../../environments';
import {
  SOURCE_CONDITION_KEYS,
  actionMatches,
  actionsOf,
  asArray,
  conditionKeys,
  conditionValue,
  refsIn,
  servicePrincipalsOf,
  statementsOf,
  type PolicyStatement,
  type TemplateResource,
  type TemplateView,
} from './template';

/** What a template breaks: AWS refuses it at deploy time, or it deploys and fails at first use. */
export interface Finding {
  readonly rule: string;
  /** Logical id of the resource at fault (or `Outputs.<name>`). */
  readonly resource: string;
  readonly message: string;
}

/** Facts about the target account that a template cannot carry. */
export interface AccountFacts {
  /** The account's Lambda `ConcurrentExecutions` quota; @default 1000 (the default quota) */
  readonly lambdaConcurrencyQuota?: number;
}

/** One rule: an AWS behaviour that cdk-nag, cfn-lint and the local emulator do not see. */
export interface DeployRule {
  readonly id: string;
  /** The AWS behaviour, in a sentence. */
  readonly description: string;
  /** Where AWS documents it. */
  readonly doc: string;
  check(view: TemplateView, account: AccountFacts): Finding[];
}

/** The smallest `MaximumConcurrency` an SQS event source mapping accepts. */
export const SQS_MINIMUM_MAX_CONCURRENCY = 2;
const DEFAULT_CONCURRENCY_QUOTA = 1000;

/** The function a `FunctionName` value designates, through an alias or a version. */
function functionOf(view: TemplateView, functionName: unknown): TemplateResource | undefined {
  const [direct] = view.referenced(functionName, 'AWS::Lambda::Function');
  if (direct) return direct;
  for (const type of ['AWS::Lambda::Alias', 'AWS::Lambda::Version']) {
    const [via] = view.referenced(functionName, type);
    if (via) return functionOf(view, via.properties.FunctionName);
  }
  return undefined;
}

/** Every policy statement of the resource policies attached to `target`. */
function resourcePolicyStatements(
  view: TemplateView,
  policyType: string,
  targetsProperty: string,
  target: TemplateResource,
): PolicyStatement[] {
  return view
    .ofType(policyType)
    .filter((policy) =>
      refsIn(policy.properties[targetsProperty] ?? policy.properties.Bucket).includes(target.id),
    )
    .flatMap((policy) => statementsOf(policy.properties.PolicyDocument));
}

/** Whether some Allow statement lets `service` perform every one of `actions`. */
function allowsService(statements: readonly PolicyStatement[], service: string, actions: readonly string[]) {
  return actions.every((action) =>
    statements.some(
      (statement) =>
        statement.Effect === 'Allow' &&
        servicePrincipalsOf(statement).includes(service) &&
        actionMatches(actionsOf(statement), action),
    ),
  );
}

/** Deny statements without a condition that would stop `service` doing `action`. */
function unconditionalDenies(statements: readonly PolicyStatement[], service: string, action: string) {
  return statements.filter(
    (statement) =>
      statement.Effect === 'Deny' &&
      !statement.Condition &&
      servicePrincipalsOf(statement).some((principal) => principal === '*' || principal === service) &&
      actionMatches(actionsOf(statement), action),
  );
}

/** A KMS key policy lets `service` use the key for an encrypted topic or queue. */
function keyAllows(
  view: TemplateView,
  keyValue: unknown,
  service: string,
): 'yes' | 'no' | 'aws-managed' | 'external' {
  const keyLiteral = view.literal(keyValue);
  if (keyLiteral !== undefined && /alias\/aws\//.test(keyLiteral)) return 'aws-managed';
  const [key] = view.referenced(keyValue, 'AWS::KMS::Key');
  if (!key) return 'external';
  const statements = statementsOf(key.properties.KeyPolicy);
  return allowsService(statements, service, ['kms:Decrypt', 'kms:GenerateDataKey']) ? 'yes' : 'no';
}

const concurrencyBudget: DeployRule = {
  id: 'lambda-concurrency-budget',
  description:
    'Lambda refuses a reserved concurrency that leaves fewer than 100 executions unreserved in the account, ' +
    'so the reservations of one account must add up to at most its quota minus 100.',
  doc: 'https://docs.aws.amazon.com/lambda/latest/dg/configuration-concurrency.html',
  check(view, account) {
    const quota = account.lambdaConcurrencyQuota ?? DEFAULT_CONCURRENCY_QUOTA;
    const reserved = view
      .ofType('AWS::Lambda::Function')
      .map((fn) => ({ fn, value: Number(fn.properties.ReservedConcurrentExecutions ?? 0) }))
      .filter(({ value }) => value > 0);
    const total = reserved.reduce((sum, { value }) => sum + value, 0);
    const budget = quota - UNRESERVED_CONCURRENCY_MINIMUM;
    if (total <= budget) return [];
    return [
      {
        rule: this.id,
        resource: reserved.at(-1)!.fn.id,
        message:
          `reservations add up to ${total} (${reserved.map(({ fn, value }) => `${fn.id} ${value}`).join(', ')}) ` +
          `but an account with a quota of ${quota} can reserve at most ${budget}`,
      },
    ];
  },
};

const sqsMaxConcurrency: DeployRule = {
  id: 'sqs-event-source-max-concurrency',
  description:
    'An SQS event source of a function with reserved concurrency must cap its pollers (MaximumConcurrency, ' +
    'at least 2) within that reservation; otherwise throttled batches return to the queue, use up receives ' +
    'and dead-letter messages that never failed.',
  doc: 'https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-scaling.html',
  check(view) {
    const findings: Finding[] = [];
    const byFunction = new Map<string, { fn: TemplateResource; mappings: TemplateResource[] }>();
    for (const mapping of view.ofType('AWS::Lambda::EventSourceMapping')) {
      if (view.referenced(mapping.properties.EventSourceArn, 'AWS::SQS::Queue').length === 0) continue;
      const fn = functionOf(view, mapping.properties.FunctionName);
      if (!fn) continue;
      const entry = byFunction.get(fn.id) ?? { fn, mappings: [] };
      entry.mappings.push(mapping);
      byFunction.set(fn.id, entry);
    }
    for (const { fn, mappings } of byFunction.values()) {
      const reserved = Number(fn.properties.ReservedConcurrentExecutions ?? 0);
      const caps = mappings.map((mapping) => ({
        mapping,
        cap: (mapping.properties.ScalingConfig as { MaximumConcurrency?: number } | undefined)
          ?.MaximumConcurrency,
      }));
      for (const { mapping, cap } of caps) {
        if (cap !== undefined && cap < SQS_MINIMUM_MAX_CONCURRENCY) {
          findings.push({
            rule: this.id,
            resource: mapping.id,
            message: `MaximumConcurrency ${cap} is below the minimum of ${SQS_MINIMUM_MAX_CONCURRENCY}`,
          });
        }
        if (reserved > 0 && cap === undefined) {
          findings.push({
            rule: this.id,
            resource: mapping.id,
            message: `${fn.id} reserves ${reserved} but this SQS event source sets no MaximumConcurrency`,
          });
        }
      }
      const total = caps.reduce((sum, { cap }) => sum + (cap ?? 0), 0);
      if (reserved > 0 && caps.every(({ cap }) => cap !== undefined) && total > reserved) {
        findings.push({
          rule: this.id,
          resource: fn.id,
          message: `its SQS event sources may run ${total} batches at once but it reserves only ${reserved}`,
        });
      }
    }
    return findings;
  },
};

const alarmTopicAllowsCloudWatch: DeployRule = {
  id: 'alarm-topic-allows-cloudwatch',
  description:
    "A topic policy replaces SNS's default policy: CloudWatch can publish an alarm's notification only if " +
    'the policy allows cloudwatch.amazonaws.com to sns:Publish, and, for an encrypted topic, only if the key ' +
    'policy of a customer-managed key lets it kms:Decrypt and kms:GenerateDataKey (the AWS-managed SNS key ' +
    'cannot be used).',
  doc: 'https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html#compatibility-with-aws-services',
  check(view) {
    const findings: Finding[] = [];
    const topics = new Map<string, TemplateResource>();
    for (const alarm of view.ofType('AWS::CloudWatch::Alarm')) {
      const actions = ['AlarmActions', 'OKActions', 'InsufficientDataActions'].map(
        (name) => alarm.properties[name],
      );
      for (const topic of view.referenced(actions, 'AWS::SNS::Topic')) topics.set(topic.id, topic);
    }
    for (const topic of topics.values()) {
      const statements = resourcePolicyStatements(view, 'AWS::SNS::TopicPolicy', 'Topics', topic);
      if (statements.length > 0 && !allowsService(statements, 'cloudwatch.amazonaws.com', ['sns:Publish'])) {
        findings.push({
          rule: this.id,
          resource: topic.id,
          message:
            'alarms notify this topic but its policy does not allow cloudwatch.amazonaws.com to sns:Publish',
        });
      }
      for (const deny of unconditionalDenies(statements, 'cloudwatch.amazonaws.com', 'sns:Publish')) {
        findings.push({
          rule: this.id,
          resource: topic.id,
          message: `statement ${deny.Sid ?? '(no Sid)'} denies every sns:Publish, CloudWatch's included`,
        });
      }
      const key = topic.properties.KmsMasterKeyId;
      if (key === undefined) continue;
      const allowed = keyAllows(view, key, 'cloudwatch.amazonaws.com');
      if (allowed === 'aws-managed' || allowed === 'no') {
        findings.push({
          rule: this.id,
          resource: topic.id,
          message:
            allowed === 'aws-managed'
              ? 'the topic is encrypted with the AWS-managed key, whose policy CloudWatch cannot use'
              : "the topic's key policy does not let cloudwatch.amazonaws.com kms:Decrypt and kms:GenerateDataKey",
        });
      }
    }
    return findings;
  },
};

const subscriptionQueueAllowsSns: DeployRule = {
  id: 'subscribed-queue-allows-sns',
  description:
    'SNS delivers to a subscribed SQS queue (and to a subscription dead-letter queue) only if the queue policy ' +
    'allows sns.amazonaws.com to sqs:SendMessage for that topic (aws:SourceArn), and, for a queue encrypted ' +
    'with a customer-managed key, only if the key policy lets SNS kms:Decrypt and kms:GenerateDataKey.',
  doc: 'https://docs.aws.amazon.com/sns/latest/dg/subscribe-sqs-queue-to-sns-topic.html',
  check(view) {
    const findings: Finding[] = [];
    for (const subscription of view.ofType('AWS::SNS::Subscription')) {
      if (subscription.properties.Protocol !== 'sqs') continue;
      const topicIds = refsIn(subscription.properties.TopicArn);
      const redrive = subscription.properties.RedrivePolicy as { deadLetterTargetArn?: unknown } | undefined;
      const queues = [
        ...view.referenced(subscription.properties.Endpoint, 'AWS::SQS::Queue'),
        ...view.referenced(redrive?.deadLetterTargetArn, 'AWS::SQS::Queue'),
      ];
      for (const queue of queues) {
        const statements = resourcePolicyStatements(view, 'AWS::SQS::QueuePolicy', 'Queues', queue);
        const allowing = statements.filter(
          (statement) =>
            statement.Effect === 'Allow' &&
            servicePrincipalsOf(statement).includes('sns.amazonaws.com') &&
            actionMatches(actionsOf(statement), 'sqs:SendMessage'),
        );
        if (allowing.length === 0) {
          findings.push({
            rule: this.id,
            resource: queue.id,
            message: `${subscription.id} delivers here but no queue policy allows sns.amazonaws.com to sqs:SendMessage`,
          });
        } else if (
          !allowing.some((statement) =>
            refsIn(conditionValue(statement, 'aws:SourceArn')).some((id) => topicIds.includes(id)),
          )
        ) {
          findings.push({
            rule: this.id,
            resource: queue.id,
            message: `the queue policy lets SNS send but not from the subscribed topic (aws:SourceArn)`,
          });
        }
        const key = queue.properties.KmsMasterKeyId;
        if (key === undefined) continue;
        const allowed = keyAllows(view, key, 'sns.amazonaws.com');
        if (allowed === 'aws-managed' || allowed === 'no') {
          findings.push({
            rule: this.id,
            resource: queue.id,
            message:
              allowed === 'aws-managed'
                ? 'the queue is encrypted with the AWS-managed SQS key, which SNS cannot use'
                : "the queue's key policy does not let sns.amazonaws.com kms:Decrypt and kms:GenerateDataKey",
          });
        }
      }
    }
    return findings;
  },
};

const servicePermissionsPinned: DeployRule = {
  id: 'service-grants-pinned-to-source',
  description:
    'A grant to an AWS service principal (Lambda permission, key policy, topic or queue policy) without ' +
    'aws:SourceArn or aws:SourceAccount lets that service act for any account: for a load balancer, any ' +
    "account's target group could invoke the function and bypass this stack's WAF (confused deputy).",
  doc: 'https://docs.aws.amazon.com/IAM/latest/UserGuide/confused-deputy.html',
  check(view) {
    const findings: Finding[] = [];
    for (const permission of view.ofType('AWS::Lambda::Permission')) {
      const principal = view.literal(permission.properties.Principal) ?? '';
      if (!principal.endsWith('.amazonaws.com')) continue;
      const { SourceArn, SourceAccount } = permission.properties;
      const missing =
        principal === 'elasticloadbalancing.amazonaws.com'
          ? SourceArn === undefined || SourceAccount === undefined
          : SourceArn === undefined && SourceAccount === undefined;
      if (missing) {
        findings.push({
          rule: this.id,
          resource: permission.id,
          message: `lets ${principal} invoke without ${
            principal === 'elasticloadbalancing.amazonaws.com'
              ? 'SourceArn and SourceAccount'
              : 'SourceArn or SourceAccount'
          }`,
        });
      }
    }
    const policies: [string, string][] = [
      ['AWS::KMS::Key', 'KeyPolicy'],
      ['AWS::SNS::TopicPolicy', 'PolicyDocument'],
      ['AWS::SQS::QueuePolicy', 'PolicyDocument'],
    ];
    for (const [type, property] of policies) {
      for (const resource of view.ofType(type)) {
        for (const statement of statementsOf(resource.properties[property])) {
          if (statement.Effect !== 'Allow') continue;
          const services = servicePrincipalsOf(statement).filter((service) =>
            service.endsWith('.amazonaws.com'),
          );
          if (services.length === 0) continue;
          if (conditionKeys(statement).some((key) => SOURCE_CONDITION_KEYS.includes(key))) continue;
          findings.push({
            rule: this.id,
            resource: resource.id,
            message: `allows ${services.join(', ')} (${actionsOf(statement).join(', ')}) with no aws:SourceAccount or aws:SourceArn condition`,
          });
        }
      }
    }
    return findings;
  },
};

/** Identity-policy statements of every role, inline or attached. */
function identityStatements(
  view: TemplateView,
): { policy: TemplateResource; roles: string[]; statement: PolicyStatement }[] {
  const rows: { policy: TemplateResource; roles: string[]; statement: PolicyStatement }[] = [];
  for (const policy of [...view.ofType('AWS::IAM::Policy'), ...view.ofType('AWS::IAM::ManagedPolicy')]) {
    const roles = refsIn(policy.properties.Roles);
    for (const statement of statementsOf(policy.properties.PolicyDocument))
      rows.push({ policy, roles, statement });
  }
  for (const role of view.ofType('AWS::IAM::Role')) {
    for (const inline of asArray(role.properties.Policies as { PolicyDocument?: unknown }[] | undefined)) {
      for (const statement of statementsOf(inline.PolicyDocument))
        rows.push({ policy: role, roles: [role.id], statement });
    }
  }
  return rows;
}

const CONNECTION_ARN =
  /^arn:aws[a-z-]*:(codeconnections|codestar-connections):[a-z0-9-]+:\d{12}:connection\//;

const connectionPrefix: DeployRule = {
  id: 'connection-permission-prefix',
  description:
    'A connection ARN names its service (codeconnections or codestar-connections); IAM grants on it must use ' +
    'the same action prefix, or the source action and the webhook are refused.',
  doc: 'https://docs.aws.amazon.com/service-authorization/latest/reference/list_awscodeconnections.html',
  check(view) {
    const findings: Finding[] = [];
    for (const { policy, statement } of identityStatements(view)) {
      if (statement.Effect !== 'Allow') continue;
      const connectionActions = actionsOf(statement).filter((action) =>
        /^(codeconnections|codestar-connections):/.test(action),
      );
      if (connectionActions.length === 0) continue;
      for (const resource of asArray(statement.Resource as unknown)) {
        const arn = view.literal(resource);
        const service = arn !== undefined ? CONNECTION_ARN.exec(arn)?.[1] : undefined;
        if (!service) continue;
        const wrong = connectionActions.filter((action) => !action.startsWith(`${service}:`));
        if (wrong.length > 0 && !connectionActions.some((action) => action.startsWith(`${service}:`))) {
          findings.push({
            rule: this.id,
            resource: policy.id,
            message: `grants ${wrong.join(', ')} on ${arn}, whose actions are ${service}:*`,
          });
        }
      }
    }
    return findings;
  },
};

const webhookCreationOrder: DeployRule = {
  id: 'webhook-after-connection-grant',
  description:
    'CodeBuild creates a webhook with the project, through the connection and with the project role: the ' +
    "role's connection grant must exist before the project (an inline role policy, or a policy the project " +
    'DependsOn), or the webhook creation fails and rolls the stack back.',
  doc: 'https://docs.aws.amazon.com/codebuild/latest/userguide/connections-github-app.html',
  check(view) {
    const findings: Finding[] = [];
    const statements = identityStatements(view);
    for (const project of view.ofType('AWS::CodeBuild::Project')) {
      const triggers = project.properties.Triggers as { Webhook?: boolean } | undefined;
      const auth = (project.properties.Source as { Auth?: { Type?: string; Resource?: unknown } } | undefined)
        ?.Auth;
      if (!triggers?.Webhook || auth?.Type !== 'CODECONNECTIONS') continue;
      const connection = view.literal(auth.Resource);
      const [role] = view.referenced(project.properties.ServiceRole, 'AWS::IAM::Role');
      if (!role || !connection) continue;
      const granting = statements.filter(
        ({ roles, statement }) =>
          roles.includes(role.id) &&
          statement.Effect === 'Allow' &&
          actionsOf(statement).some((action) =>
            /^(codeconnections|codestar-connections):(useconnection|getconnectiontoken)$/.test(action),
          ) &&
          asArray(statement.Resource as unknown).some((resource) => view.literal(resource) === connection),
      );
      if (granting.length === 0) {
        findings.push({
          rule: this.id,
          resource: project.id,
          message: `its role has no grant to use ${connection}, which the webhook creation needs`,
        });
      } else if (
        !granting.some(({ policy }) => policy.id === role.id || project.dependsOn.includes(policy.id))
      ) {
        findings.push({
          rule: this.id,
          resource: project.id,
          message: `the connection grant (${granting.map(({ policy }) => policy.id).join(', ')}) may be created after the project: add a DependsOn`,
        });
      }
    }
    return findings;
  },
};

/** Name properties and their AWS length limits (each service's API reference). */
const NAME_LIMITS: readonly [type: string, property: string, max: number][] = [
  ['AWS::IAM::Role', 'RoleName', 64],
  ['AWS::IAM::Policy', 'PolicyName', 128],
  ['AWS::IAM::ManagedPolicy', 'ManagedPolicyName', 128],
  ['AWS::Lambda::Function', 'FunctionName', 64],
  ['AWS::Lambda::Alias', 'Name', 128],
  ['AWS::SQS::Queue', 'QueueName', 80],
  ['AWS::SNS::Topic', 'TopicName', 256],
  ['AWS::S3::Bucket', 'BucketName', 63],
  ['AWS::DynamoDB::Table', 'TableName', 255],
  ['AWS::ElasticLoadBalancingV2::LoadBalancer', 'Name', 32],
  ['AWS::ElasticLoadBalancingV2::TargetGroup', 'Name', 32],
  ['AWS::StepFunctions::StateMachine', 'StateMachineName', 80],
  ['AWS::Logs::LogGroup', 'LogGroupName', 512],
  ['AWS::CloudWatch::Alarm', 'AlarmName', 255],
  ['AWS::KMS::Alias', 'AliasName', 256],
  ['AWS::SecretsManager::Secret', 'Name', 512],
  ['AWS::CodeBuild::Project', 'Name', 255],
  ['AWS::CodePipeline::Pipeline', 'Name', 100],
  ['AWS::WAFv2::WebACL', 'Name', 128],
  ['AWS::Scheduler::Schedule', 'Name', 64],
  ['AWS::Events::Rule', 'Name', 64],
];

const nameLengths: DeployRule = {
  id: 'name-length',
  description:
    'Each service limits the length of the names it accepts; a longer physical name fails the deploy.',
  doc: 'https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html',
  check(view) {
    const findings: Finding[] = [];
    for (const [type, property, max] of NAME_LIMITS) {
      for (const resource of view.ofType(type)) {
        const name = view.literal(resource.properties[property]);
        if (name !== undefined && name.length > max) {
          findings.push({
            rule: this.id,
            resource: resource.id,
            message: `${property} "${name}" has ${name.length} characters; ${type} allows ${max}`,
          });
        }
      }
    }
    return findings;
  },
};

/** Whether a certificate name (possibly `*.example.com`) covers `host`: a wildcard covers one label. */
export function certificateCovers(name: string, host: string): boolean {
  const [n, h] = [name.toLowerCase().replace(/\.$/, ''), host.toLowerCase().replace(/\.$/, '')];
  if (!n.startsWith('*.')) return n === h;
  const rest = h.slice(h.indexOf('.') + 1);
  return h.indexOf('.') > 0 && rest === n.slice(2);
}

const httpsNames: DeployRule = {
  id: 'https-url-on-certified-name',
  description:
    'An https:// URL must use a name a certificate can cover and DNS resolves to the load balancer: the load ' +
    "balancer's own *.elb.amazonaws.com name never matches a certificate, so every TLS client refuses it.",
  doc: 'https://docs.aws.amazon.com/elasticloadbalancing/latest/application/https-listener-certificates.html',
  check(view) {
    const findings: Finding[] = [];
    const records = [...view.ofType('AWS::Route53::RecordSet')];
    const certificates = view
      .ofType('AWS::ElasticLoadBalancingV2::Listener')
      .filter((listener) => listener.properties.Protocol === 'HTTPS')
      .flatMap((listener) =>
        view.referenced(listener.properties.Certificates, 'AWS::CertificateManager::Certificate'),
      );
    for (const [name, output] of Object.entries(view.template.Outputs ?? {})) {
      const parts = flattenJoin(output.Value);
      if (parts[0] !== 'https://' && !(typeof parts[0] === 'string' && parts[0].startsWith('https://')))
        continue;
      const resource = `Outputs.${name}`;
      if (view.referenced(parts, 'AWS::ElasticLoadBalancingV2::LoadBalancer').length > 0) {
        findings.push({
          rule: this.id,
          resource,
          message: "is https:// on the load balancer's DNS name, which no certificate can cover",
        });
        continue;
      }
      const recordHost = view.referenced(parts, 'AWS::Route53::RecordSet')[0];
      const text = parts.map((part) => (typeof part === 'string' ? part : '')).join('');
      const host =
        (recordHost && view.literal(recordHost.properties.Name)?.replace(/\.$/, '')) ??
        /^https:\/\/([^/:]+)/.exec(text)?.[1];
      if (!host) continue;
      if (
        !records.some(
          (record) =>
            view.literal(record.properties.Name)?.replace(/\.$/, '').toLowerCase() === host.toLowerCase(),
        )
      ) {
        findings.push({
          rule: this.id,
          resource,
          message: `no Route 53 record in the stack points ${host} anywhere`,
        });
      }
      for (const certificate of certificates) {
        const names = [
          certificate.properties.DomainName,
          ...asArray(certificate.properties.SubjectAlternativeNames as unknown[]),
        ]
          .map((value) => view.literal(value))
          .filter((value): value is string => value !== undefined);
        if (!names.some((certName) => certificateCovers(certName, host))) {
          findings.push({
            rule: this.id,
            resource,
            message: `the listener's certificate ${certificate.id} (${names.join(', ')}) does not cover ${host}`,
          });
        }
      }
    }
    return findings;
  },
};

/** The parts of a (possibly nested) `Fn::Join ['', [...]]`, strings merged where adjacent. */
function flattenJoin(value: unknown): unknown[] {
  const join = (value as { 'Fn::Join'?: [string, unknown[]] } | undefined)?.['Fn::Join'];
  if (!join || join[0] !== '') return [value];
  const parts = join[1].flatMap(flattenJoin);
  return parts.reduce<unknown[]>((merged, part) => {
    const last = merged.at(-1);
    if (typeof part === 'string' && typeof last === 'string') merged[merged.length - 1] = last + part;
    else merged.push(part);
    return merged;
  }, []);
}

/** The metrics an alarm watches (its own, or those of its metric math). */
function alarmMetrics(
  alarm: TemplateResource,
): { namespace?: string; name?: string; dimensions: string[] }[] {
  const p = alarm.properties;
  if (p.MetricName !== undefined) {
    return [
      {
        namespace: p.Namespace as string,
        name: p.MetricName as string,
        dimensions: asArray(p.Dimensions as { Name: string }[]).map((d) => d.Name),
      },
    ];
  }
  return asArray(p.Metrics as { MetricStat?: { Metric?: Record<string, unknown> } }[])
    .map((query) => query.MetricStat?.Metric)
    .filter((metric): metric is Record<string, unknown> => metric !== undefined)
    .map((metric) => ({
      namespace: metric.Namespace as string,
      name: metric.MetricName as string,
      dimensions: asArray(metric.Dimensions as { Name: string }[]).map((d) => d.Name),
    }));
}

const canaryAlarmsSeeBrokenVersion: DeployRule = {
  id: 'canary-alarms-see-broken-version',
  description:
    'A CodeDeploy canary rolls back only on the alarms it watches. Lambda Errors stays 0 when a broken version ' +
    'answers 503 or reports batch item failures, so each group must watch what a broken version produces ' +
    '(target 5XX, dependency and record failures, DLQ arrivals), and its Lambda metrics must be scoped to the ' +
    'alias or the executed version so the old version cannot hide the new one.',
  doc: 'https://docs.aws.amazon.com/lambda/latest/dg/monitoring-metrics-types.html',
  check(view) {
    const findings: Finding[] = [];
    for (const group of view.ofType('AWS::CodeDeploy::DeploymentGroup')) {
      const config = group.properties.AlarmConfiguration as
        { Enabled?: boolean; Alarms?: { Name: unknown }[] } | undefined;
      if (!config?.Enabled) {
        findings.push({
          rule: this.id,
          resource: group.id,
          message: 'watches no alarm: a broken version is never rolled back',
        });
        continue;
      }
      const alarms = asArray(config.Alarms).flatMap((entry) =>
        view.referenced(entry.Name, 'AWS::CloudWatch::Alarm'),
      );
      const metrics = alarms.flatMap((alarm) => alarmMetrics(alarm).map((metric) => ({ alarm, metric })));
      const onlyLambdaHealth = metrics.every(
        ({ metric }) =>
          metric.namespace === 'AWS/Lambda' && ['Errors', 'Throttles'].includes(metric.name ?? ''),
      );
      if (onlyLambdaHealth) {
        findings.push({
          rule: this.id,
          resource: group.id,
          message:
            'watches only AWS/Lambda Errors/Throttles, which a version that answers its failures never raises',
        });
      }
      for (const { alarm, metric } of metrics) {
        if (metric.namespace !== 'AWS/Lambda') continue;
        if (metric.dimensions.includes('ExecutedVersion') || metric.dimensions.includes('Resource')) continue;
        findings.push({
          rule: this.id,
          resource: alarm.id,
          message: `its AWS/Lambda ${metric.name} metric is per function, not per alias or executed version`,
        });
      }
    }
    return findings;
  },
};

/** Queues that some queue's or subscription's redrive policy makes a dead-letter queue, by who feeds them. */
function deadLetterQueues(view: TemplateView): Map<string, 'sqs' | 'sns'> {
  const dlqs = new Map<string, 'sqs' | 'sns'>();
  for (const queue of view.ofType('AWS::SQS::Queue')) {
    const target = (queue.properties.RedrivePolicy as { deadLetterTargetArn?: unknown } | undefined)
      ?.deadLetterTargetArn;
    for (const dlq of view.referenced(target, 'AWS::SQS::Queue')) dlqs.set(dlq.id, 'sqs');
  }
  for (const subscription of view.ofType('AWS::SNS::Subscription')) {
    const target = (subscription.properties.RedrivePolicy as { deadLetterTargetArn?: unknown } | undefined)
      ?.deadLetterTargetArn;
    for (const dlq of view.referenced(target, 'AWS::SQS::Queue'))
      if (!dlqs.has(dlq.id)) dlqs.set(dlq.id, 'sns');
  }
  return dlqs;
}

const dlqAlarmsCountArrivals: DeployRule = {
  id: 'dlq-alarm-counts-arrivals',
  description:
    'Every dead-letter queue needs an alarm that sees a message arrive. A DLQ drained by a Lambda keeps ' +
    'ApproximateNumberOfMessagesVisible near 0, and NumberOfMessagesSent does not count messages that SQS ' +
    'moves there after failed receives; NumberOfMessagesReceived (by its handler) does.',
  doc: 'https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-dead-letter-queues.html',
  check(view) {
    const findings: Finding[] = [];
    const drained = new Set(
      view
        .ofType('AWS::Lambda::EventSourceMapping')
        .flatMap((mapping) => view.referenced(mapping.properties.EventSourceArn, 'AWS::SQS::Queue'))
        .map((queue) => queue.id),
    );
    const sqsAlarms = view.ofType('AWS::CloudWatch::Alarm').flatMap((alarm) =>
      alarm.properties.Namespace === 'AWS/SQS'
        ? [
            {
              alarm,
              metric: alarm.properties.MetricName as string,
              queues: asArray(alarm.properties.Dimensions as { Name: string; Value: unknown }[])
                .filter((d) => d.Name === 'QueueName')
                .flatMap((d) => refsIn(d.Value)),
            },
          ]
        : [],
    );
    for (const [dlq, fedBy] of deadLetterQueues(view)) {
      const counting = drained.has(dlq)
        ? ['NumberOfMessagesReceived', ...(fedBy === 'sns' ? ['NumberOfMessagesSent'] : [])]
        : [
            'NumberOfMessagesReceived',
            'ApproximateNumberOfMessagesVisible',
            'ApproximateAgeOfOldestMessage',
            ...(fedBy === 'sns' ? ['NumberOfMessagesSent'] : []),
          ];
      const watching = sqsAlarms.filter(({ queues }) => queues.includes(dlq));
      for (const { alarm, metric } of watching) {
        if (fedBy === 'sqs' && metric === 'NumberOfMessagesSent') {
          findings.push({
            rule: this.id,
            resource: alarm.id,
            message: `watches NumberOfMessagesSent of ${dlq}, which does not count messages SQS dead-letters`,
          });
        }
      }
      if (!watching.some(({ metric }) => counting.includes(metric))) {
        findings.push({
          rule: this.id,
          resource: dlq,
          message: `no alarm counts arrivals in this dead-letter queue (${counting.join(' or ')})`,
        });
      }
    }
    return findings;
  },
};

const workflowLogGroupName: DeployRule = {
  id: 'workflow-log-group-vended',
  description:
    'Step Functions adds a statement to the account-wide CloudWatch Logs resource policy (5,120 characters) ' +
    'for every log group outside /aws/vendedlogs/; a few stacks later, creating a state machine fails.',
  doc: 'https://docs.aws.amazon.com/step-functions/latest/dg/cw-logs.html',
  check(view) {
    const findings: Finding[] = [];
    for (const machine of view.ofType('AWS::StepFunctions::StateMachine')) {
      const destinations = (machine.properties.LoggingConfiguration as { Destinations?: unknown } | undefined)
        ?.Destinations;
      for (const group of view.referenced(destinations, 'AWS::Logs::LogGroup')) {
        const name = view.literal(group.properties.LogGroupName);
        if (name === undefined || !name.startsWith('/aws/vendedlogs/')) {
          findings.push({
            rule: this.id,
            resource: group.id,
            message: `logs ${machine.id} under ${name ?? 'a generated name'}, not /aws/vendedlogs/states/`,
          });
        }
      }
    }
    return findings;
  },
};

/** Application log levels above INFO: they drop a JSON line whose level Lambda takes as INFO. */
const ABOVE_INFO = ['WARN', 'ERROR', 'FATAL'];

const lambdaLogFilters: DeployRule = {
  id: 'lambda-log-filters-keep-emf',
  description:
    'In the JSON log format Lambda gives a line without a "level" key the level INFO: an application filter ' +
    'above INFO drops every Powertools EMF blob, so the metrics and the alarms made of them go silent ' +
    '(the application lines are kept down by POWERTOOLS_LOG_LEVEL instead, lambdas/shared/powertools/logger.ts).',
  doc: 'https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs-log-level.html',
  check(view) {
    const findings: Finding[] = [];
    for (const fn of view.ofType('AWS::Lambda::Function')) {
      const logging = (fn.properties.LoggingConfig ?? {}) as Record<string, unknown>;
      const application = view.literal(logging.ApplicationLogLevel);
      const variables =
        (fn.properties.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables ?? {};
      // A Powertools function writes EMF (its Metrics falls back to a default namespace).
      const powertools = Object.keys(variables).some((name) => name.startsWith('POWERTOOLS_'));
      if (application && ABOVE_INFO.includes(application) && powertools) {
        findings.push({
          rule: this.id,
          resource: fn.id,
          message: `writes Powertools EMF metrics, which ApplicationLogLevel ${application} drops: keep it at INFO and filter with POWERTOOLS_LOG_LEVEL`,
        });
      }
    }
    return findings;
  },
};

/** Every rule, in the order their findings are reported. */
export const DEPLOY_RULES: readonly DeployRule[] = [
  concurrencyBudget,
  sqsMaxConcurrency,
  alarmTopicAllowsCloudWatch,
  subscriptionQueueAllowsSns,
  servicePermissionsPinned,
  connectionPrefix,
  webhookCreationOrder,
  nameLengths,
  httpsNames,
  canaryAlarmsSeeBrokenVersion,
  dlqAlarmsCountArrivals,
  workflowLogGroupName,
  lambdaLogFilters,
];
