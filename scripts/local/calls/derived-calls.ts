import type { CfnResource, TemplateSet } from '../cfn-template';
import { leadingLogicalId } from './portable';
import type { Principal } from './principals';
import type { RecordedCall } from './recorder';

type Call = Omit<RecordedCall, 'count' | 'scenarios'>;

/**
 * KMS operations AWS performs with the caller's authority (or the service principal's) when a
 * request touches a resource under a customer-managed key, with the encryption context each
 * service passes:
 * - SQS: producers GenerateDataKey + Decrypt, consumers Decrypt; context aws:sqs:arn
 *   (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-key-management.html)
 * - SNS: publishers GenerateDataKey + Decrypt; context aws:sns:topicArn
 *   (https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html)
 * - DynamoDB: Decrypt of the table key on data access; context aws:dynamodb:tableName and
 *   aws:dynamodb:subscriberId (https://docs.aws.amazon.com/kms/latest/developerguide/services-dynamodb.html)
 * - S3 with an S3 Bucket Key: PutObject GenerateDataKey, GetObject Decrypt; context aws:s3:arn is
 *   the bucket ARN, not the object's (https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucket-key.html)
 * - Secrets Manager: GetSecretValue Decrypt; context SecretARN and SecretVersionId
 *   (https://docs.aws.amazon.com/secretsmanager/latest/userguide/security-encryption.html)
 * - Step Functions with a customer-managed key: StartExecution GenerateDataKey, DescribeExecution
 *   Decrypt; context aws:states:stateMachineArn
 *   (https://docs.aws.amazon.com/step-functions/latest/dg/encryption-at-rest.html)
 * A role's request carries kms:ViaService `<service>.<region>.amazonaws.com`; a service principal
 * calls KMS itself, with aws:SourceArn / aws:SourceAccount of its source.
 */
const KMS_OPERATIONS: Record<string, string[]> = {
  'dynamodb:GetItem': ['Decrypt'],
  'dynamodb:PutItem': ['Decrypt'],
  'dynamodb:UpdateItem': ['Decrypt'],
  'dynamodb:DeleteItem': ['Decrypt'],
  'dynamodb:ConditionCheckItem': ['Decrypt'],
  'dynamodb:Query': ['Decrypt'],
  'dynamodb:Scan': ['Decrypt'],
  'dynamodb:BatchGetItem': ['Decrypt'],
  'dynamodb:BatchWriteItem': ['Decrypt'],
  'sqs:SendMessage': ['GenerateDataKey', 'Decrypt'],
  'sqs:ReceiveMessage': ['Decrypt'],
  'sns:Publish': ['GenerateDataKey', 'Decrypt'],
  's3:PutObject': ['GenerateDataKey'],
  's3:GetObject': ['Decrypt'],
  's3:GetObjectVersion': ['Decrypt'],
  'secretsmanager:GetSecretValue': ['Decrypt'],
  'states:StartExecution': ['GenerateDataKey'],
  'states:DescribeExecution': ['Decrypt'],
};

/** What AWS does because of `call`: KMS on the caller's behalf, SNS delivering to subscribed queues. */
export function derivedCalls(call: Call, templates: TemplateSet): Call[] {
  const derived: Call[] = [...kmsCalls(call, templates)];
  if (call.action === 'sns:Publish') {
    for (const delivery of snsDeliveries(call, templates))
      derived.push(delivery, ...kmsCalls(delivery, templates));
  }
  return derived;
}

/**
 * CloudWatch publishing each alarm's notifications to the topics its actions name. The local stack
 * evaluates no alarm, so this is modelled from the template: every alarm of it, as each may fire.
 */
export function alarmNotificationCalls(templates: TemplateSet): Call[] {
  const calls: Call[] = [];
  for (const { logicalId, resource } of templates.resourcesOfType('AWS::CloudWatch::Alarm')) {
    const props = resource.Properties ?? {};
    const topics = new Set(
      ['AlarmActions', 'OKActions', 'InsufficientDataActions']
        .flatMap((name) => (props[name] ?? []) as unknown[])
        .map(refOf)
        .filter((id): id is string => id !== undefined),
    );
    for (const topic of topics) {
      const call: Call = {
        principal: { kind: 'service', service: 'cloudwatch.amazonaws.com' },
        action: 'sns:Publish',
        resource: `\${${topic}}`,
        context: {
          'aws:SourceArn': `\${${logicalId}.Arn}`,
          'aws:SourceAccount': '${AWS::AccountId}',
          'aws:SecureTransport': 'true',
        },
        inVpc: false,
        cause: `alarm ${logicalId}`,
      };
      calls.push(call, ...kmsCalls(call, templates));
    }
  }
  return calls;
}

function snsDeliveries(publish: Call, templates: TemplateSet): Call[] {
  const topic = leadingLogicalId(publish.resource);
  if (!topic) return [];
  return templates
    .resourcesOfType('AWS::SNS::Subscription')
    .filter(
      ({ resource }) =>
        refOf(resource.Properties?.TopicArn) === topic && resource.Properties?.Protocol === 'sqs',
    )
    .map(({ resource }) => ({
      principal: { kind: 'service', service: 'sns.amazonaws.com' } as Principal,
      action: 'sqs:SendMessage',
      resource: `\${${refOf(resource.Properties?.Endpoint) ?? ''}.Arn}`,
      context: {
        'aws:SourceArn': `\${${topic}}`,
        'aws:SourceAccount': '${AWS::AccountId}',
        'aws:SecureTransport': 'true',
      },
      inVpc: false,
      cause: 'sns:Publish',
    }));
}

function kmsCalls(call: Call, templates: TemplateSet): Call[] {
  const operations = KMS_OPERATIONS[call.action];
  const logicalId = leadingLogicalId(call.resource);
  if (!operations || !logicalId) return [];
  const resource = resourceOf(templates, logicalId);
  if (!resource) return [];
  const encryption = encryptionOf(resource, logicalId, call.resource);
  if (!encryption) return [];
  const service = call.action.split(':')[0] ?? '';
  const onBehalf: Record<string, string> =
    call.principal.kind === 'service'
      ? Object.fromEntries(
          Object.entries(call.context).filter(
            ([key]) => key === 'aws:SourceArn' || key === 'aws:SourceAccount',
          ),
        )
      : { 'kms:ViaService': `${service}.\${AWS::Region}.amazonaws.com` };
  return operations.map((operation) => ({
    principal: call.principal,
    action: `kms:${operation}`,
    resource: `\${${encryption.key}.Arn}`,
    context: {
      ...onBehalf,
      'kms:CallerAccount': '${AWS::AccountId}',
      ...Object.fromEntries(
        Object.entries(encryption.context).map(([key, value]) => [`kms:EncryptionContext:${key}`, value]),
      ),
    },
    inVpc: false,
    cause: call.action,
  }));
}

function encryptionOf(
  resource: CfnResource,
  logicalId: string,
  requested: string,
): { key: string; context: Record<string, string> } | undefined {
  const props = resource.Properties ?? {};
  const keyed = (value: unknown, context: Record<string, string>) => {
    const key = refOf(value);
    return key ? { key, context } : undefined;
  };
  switch (resource.Type) {
    case 'AWS::DynamoDB::Table':
      return keyed((props.SSESpecification as { KMSMasterKeyId?: unknown } | undefined)?.KMSMasterKeyId, {
        'aws:dynamodb:tableName': `\${${logicalId}}`,
        'aws:dynamodb:subscriberId': '${AWS::AccountId}',
      });
    case 'AWS::SQS::Queue':
      return keyed(props.KmsMasterKeyId, { 'aws:sqs:arn': `\${${logicalId}.Arn}` });
    case 'AWS::SNS::Topic':
      return keyed(props.KmsMasterKeyId, { 'aws:sns:topicArn': `\${${logicalId}}` });
    case 'AWS::SecretsManager::Secret':
      return keyed(props.KmsKeyId, {
        SecretARN: `\${${logicalId}}`,
        // The version id is random; no policy here conditions on it.
        SecretVersionId: 'local-version',
      });
    case 'AWS::StepFunctions::StateMachine':
      return keyed((props.EncryptionConfiguration as { KmsKeyId?: unknown } | undefined)?.KmsKeyId, {
        'aws:states:stateMachineArn': `\${${logicalId}}`,
      });
    case 'AWS::S3::Bucket': {
      const rule = (
        props.BucketEncryption as
          | {
              ServerSideEncryptionConfiguration?: Array<{
                BucketKeyEnabled?: boolean;
                ServerSideEncryptionByDefault?: { KMSMasterKeyID?: unknown };
              }>;
            }
          | undefined
      )?.ServerSideEncryptionConfiguration?.[0];
      return keyed(rule?.ServerSideEncryptionByDefault?.KMSMasterKeyID, {
        'aws:s3:arn': rule?.BucketKeyEnabled ? `\${${logicalId}.Arn}` : requested,
      });
    }
    default:
      return undefined;
  }
}

function resourceOf(templates: TemplateSet, logicalId: string): CfnResource | undefined {
  for (const template of Object.values(templates.templates)) {
    const resource = template.Resources[logicalId];
    if (resource) return resource;
  }
  return undefined;
}

/** The logical id behind `{Ref: X}` or `{Fn::GetAtt: [X, ...]}`. */
export function refOf(value: unknown): string | undefined {
  if (!value || typeof value !== 'object') return undefined;
  const record = value as Record<string, unknown>;
  if (typeof record.Ref === 'string') return record.Ref;
  const getAtt = record['Fn::GetAtt'];
  if (Array.isArray(getAtt) && typeof getAtt[0] === 'string') return getAtt[0];
  if (typeof getAtt === 'string') return getAtt.split('.')[0];
  return undefined;
}
