import {
  CreateTableCommand,
  DynamoDBClient,
  type AttributeDefinition,
  type GlobalSecondaryIndex,
  type KeySchemaElement,
} from '@aws-sdk/client-dynamodb';
import { CreateBucketCommand, PutBucketVersioningCommand, S3Client } from '@aws-sdk/client-s3';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { CreateTopicCommand, SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import { CreateQueueCommand, GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { LOCAL_ACCOUNT_ID, type AwsClientConfig } from './aws-config';
import type { ResourceRef, TemplateSet } from './cfn-template';

/** What the local stack created, by kind, with local physical names. */
export interface ProvisionedResources {
  tables: Array<ResourceRef & { name: string }>;
  queues: Array<ResourceRef & { name: string; url: string; arn: string }>;
  topics: Array<ResourceRef & { arn: string }>;
  buckets: Array<ResourceRef & { name: string }>;
  secrets: Array<ResourceRef & { arn: string }>;
}

/** Local physical name for a resource: stable, unique across stacks, within service limits. */
export function localName(ref: ResourceRef, maxLength: number, lowerCase = false): string {
  const base = `${ref.stack}-${ref.logicalId}`.replace(/[^A-Za-z0-9-]/g, '-');
  const hash = Math.abs(hashCode(base)).toString(36);
  const name = base.length <= maxLength ? base : `${base.slice(0, maxLength - hash.length - 1)}-${hash}`;
  return lowerCase ? name.toLowerCase() : name;
}

function hashCode(text: string): number {
  let hash = 0;
  for (const char of text) hash = (Math.imul(31, hash) + char.charCodeAt(0)) | 0;
  return hash;
}

/**
 * Creates in the emulator every table, queue (with its redrive policy), topic, subscription
 * (raw delivery, filter policy), bucket and secret of the synthesized templates, and registers
 * their local identities so that the rest of the template resolves against them.
 */
export async function provisionFromTemplates(
  templates: TemplateSet,
  aws: AwsClientConfig,
  secretValues: (ref: ResourceRef) => string,
): Promise<ProvisionedResources> {
  const { region } = aws;
  const accountId = LOCAL_ACCOUNT_ID;
  const dynamodb = new DynamoDBClient(aws);
  const sqs = new SQSClient(aws);
  const sns = new SNSClient(aws);
  const s3 = new S3Client({ ...aws, forcePathStyle: true });
  const secretsManager = new SecretsManagerClient(aws);
  const result: ProvisionedResources = { tables: [], queues: [], topics: [], buckets: [], secrets: [] };

  for (const ref of templates.resourcesOfType('AWS::DynamoDB::Table')) {
    const name = localName(ref, 255);
    const props = templates.resolve(ref.stack, ref.resource.Properties ?? {}) as {
      KeySchema: KeySchemaElement[];
      AttributeDefinitions: AttributeDefinition[];
      GlobalSecondaryIndexes?: GlobalSecondaryIndex[];
    };
    await dynamodb.send(
      new CreateTableCommand({
        TableName: name,
        KeySchema: props.KeySchema,
        AttributeDefinitions: props.AttributeDefinitions,
        GlobalSecondaryIndexes: props.GlobalSecondaryIndexes?.map((index) => ({
          IndexName: index.IndexName,
          KeySchema: index.KeySchema,
          Projection: index.Projection,
        })),
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
    templates.register(ref.stack, ref.logicalId, {
      ref: name,
      attributes: { Arn: `arn:aws:dynamodb:${region}:${accountId}:table/${name}` },
    });
    result.tables.push({ ...ref, name });
  }

  // Dead-letter queues first: a redrive policy names a queue that must already exist.
  const queues = templates
    .resourcesOfType('AWS::SQS::Queue')
    .sort(
      (a, b) =>
        Number(Boolean(a.resource.Properties?.RedrivePolicy)) -
        Number(Boolean(b.resource.Properties?.RedrivePolicy)),
    );
  for (const ref of queues) {
    const name = localName(ref, 80);
    const props = templates.resolve(ref.stack, ref.resource.Properties ?? {}) as Record<string, unknown>;
    const attributes: Record<string, string> = {};
    for (const attribute of [
      'VisibilityTimeout',
      'MessageRetentionPeriod',
      'DelaySeconds',
      'ReceiveMessageWaitTimeSeconds',
      'MaximumMessageSize',
    ]) {
      if (props[attribute] !== undefined) attributes[attribute] = String(props[attribute]);
    }
    if (props.RedrivePolicy !== undefined) attributes.RedrivePolicy = JSON.stringify(props.RedrivePolicy);
    const created = await sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }));
    const url = created.QueueUrl ?? '';
    const described = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }),
    );
    const arn = described.Attributes?.QueueArn ?? '';
    templates.register(ref.stack, ref.logicalId, {
      ref: url,
      attributes: { Arn: arn, QueueName: name, QueueUrl: url },
    });
    result.queues.push({ ...ref, name, url, arn });
  }

  for (const ref of templates.resourcesOfType('AWS::SNS::Topic')) {
    const name = localName(ref, 256);
    const created = await sns.send(new CreateTopicCommand({ Name: name }));
    const arn = created.TopicArn ?? '';
    templates.register(ref.stack, ref.logicalId, {
      ref: arn,
      attributes: { TopicArn: arn, TopicName: name },
    });
    result.topics.push({ ...ref, arn });
  }

  for (const ref of templates.resourcesOfType('AWS::SNS::Subscription')) {
    const props = templates.resolve(ref.stack, ref.resource.Properties ?? {}) as Record<string, unknown>;
    const attributes: Record<string, string> = {};
    if (props.RawMessageDelivery !== undefined)
      attributes.RawMessageDelivery = String(props.RawMessageDelivery);
    if (props.FilterPolicy !== undefined) attributes.FilterPolicy = JSON.stringify(props.FilterPolicy);
    if (props.FilterPolicyScope !== undefined) attributes.FilterPolicyScope = String(props.FilterPolicyScope);
    const subscribed = await sns.send(
      new SubscribeCommand({
        TopicArn: String(props.TopicArn),
        Protocol: String(props.Protocol),
        Endpoint: String(props.Endpoint),
        Attributes: attributes,
        ReturnSubscriptionArn: true,
      }),
    );
    templates.register(ref.stack, ref.logicalId, { ref: subscribed.SubscriptionArn ?? '', attributes: {} });
  }

  for (const ref of templates.resourcesOfType('AWS::S3::Bucket')) {
    const name = localName(ref, 63, true);
    const props = templates.resolve(ref.stack, ref.resource.Properties ?? {}) as {
      VersioningConfiguration?: { Status?: string };
    };
    await s3.send(new CreateBucketCommand({ Bucket: name }));
    if (props.VersioningConfiguration?.Status === 'Enabled') {
      await s3.send(
        new PutBucketVersioningCommand({ Bucket: name, VersioningConfiguration: { Status: 'Enabled' } }),
      );
    }
    templates.register(ref.stack, ref.logicalId, {
      ref: name,
      attributes: {
        Arn: `arn:aws:s3:::${name}`,
        DomainName: `${name}.s3.amazonaws.com`,
        RegionalDomainName: `${name}.s3.${region}.amazonaws.com`,
      },
    });
    result.buckets.push({ ...ref, name });
  }

  for (const ref of templates.resourcesOfType('AWS::SecretsManager::Secret')) {
    const name = localName(ref, 256);
    const created = await secretsManager.send(
      new CreateSecretCommand({ Name: name, SecretString: secretValues(ref) }),
    );
    const arn = created.ARN ?? '';
    templates.register(ref.stack, ref.logicalId, { ref: arn, attributes: { Id: arn } });
    result.secrets.push({ ...ref, arn });
  }

  return result;
}
