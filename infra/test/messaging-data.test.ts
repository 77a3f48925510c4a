import { Match } from 'aws-cdk-lib/assertions';
import { ENV, TABLE_KEYS } from '../../lambdas/shared/runtime-contract';
import { grantItemActions } from '../constructs/grants';
import { SUBSCRIBERS } from '../stacks/subscribers';
import { logicalIds, show, synth, SYNTH_TIMEOUT_MS, type Synthesized } from './template-helpers';

type Statement = {
  Effect: string;
  Action: string | string[];
  Condition?: Record<string, Record<string, unknown>>;
};
const statementsOf = (s: Synthesized, type: string, target: string, id: string): Statement[] =>
  logicalIds(s.json, type)
    .map((policy) => s.json.Resources[policy]!.Properties!)
    .filter((props) => show(props[target]).includes(id))
    .flatMap((props) => (props.PolicyDocument as { Statement: Statement[] }).Statement);
const denyInsecure = (statements: Statement[]) =>
  statements.some((st) => st.Effect === 'Deny' && st.Condition?.Bool?.['aws:SecureTransport'] === 'false');

describe('fan-out and data (local timings)', () => {
  let s: Synthesized;
  beforeAll(() => {
    s = synth('local');
  }, SYNTH_TIMEOUT_MS);

  it('encrypts every queue with the queue key and makes every queue TLS-only', () => {
    const queues = logicalIds(s.json, 'AWS::SQS::Queue');
    expect(queues).toHaveLength(6);
    for (const id of queues) {
      expect(show(s.json.Resources[id]!.Properties!.KmsMasterKeyId)).toMatch(/^FanOutQueueKey.*\.Arn$/);
      expect(denyInsecure(statementsOf(s, 'AWS::SQS::QueuePolicy', 'Queues', id))).toBe(true);
    }
  });

  it('redrives each work queue to its DLQ after 5 receives with visibility 6 x timeout + window', () => {
    for (const name of ['Billing', 'Archive']) {
      const queue =
        s.json.Resources[
          logicalIds(s.json, 'AWS::SQS::Queue').find((id) => id.startsWith(`FanOut${name}Queue`))!
        ]!;
      expect(queue.Properties!.VisibilityTimeout).toBe(6 * 2 + 0);
      const redrive = queue.Properties!.RedrivePolicy as {
        maxReceiveCount: number;
        deadLetterTargetArn: unknown;
      };
      expect(redrive.maxReceiveCount).toBe(5);
      expect(show(redrive.deadLetterTargetArn)).toMatch(new RegExp(`^FanOut${name}DeadLetterQueue.*\\.Arn$`));
    }
    s.template.hasResourceProperties('AWS::SQS::Queue', { MessageRetentionPeriod: 1_209_600 });
  });

  it('lets only the topic send to the queues (aws:SourceArn) and lets the topic use the queue key', () => {
    const queue = logicalIds(s.json, 'AWS::SQS::Queue').find((id) => id.startsWith('FanOutBillingQueue'))!;
    const allows = statementsOf(s, 'AWS::SQS::QueuePolicy', 'Queues', queue).filter(
      (st) => st.Effect === 'Allow',
    );
    expect(allows).toEqual([
      expect.objectContaining({
        Action: 'sqs:SendMessage',
        Principal: { Service: 'sns.amazonaws.com' },
        Condition: { ArnEquals: { 'aws:SourceArn': { Ref: expect.stringMatching(/^FanOutOrdersTopic/) } } },
      }),
    ]);
    s.template.hasResourceProperties('AWS::KMS::Key', {
      Description: 'Order pipeline subscriber queues and DLQs',
      KeyPolicy: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Principal: { Service: 'sns.amazonaws.com' },
            Action: Match.arrayWith(['kms:Decrypt']),
            Condition: {
              ArnEquals: { 'aws:SourceArn': { Ref: Match.stringLikeRegexp('^FanOutOrdersTopic') } },
            },
          }),
        ]),
      },
    });
  });

  it('subscribes each queue with raw delivery and a subscription DLQ; topic encrypted and TLS-only', () => {
    s.template.resourceCountIs('AWS::SNS::Subscription', 2 + 1);
    s.template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'sqs',
      RawMessageDelivery: true,
      RedrivePolicy: {
        deadLetterTargetArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('SubscriptionDeadLetterQueue'), 'Arn'] },
      },
    });
    const topic = logicalIds(s.json, 'AWS::SNS::Topic').find((id) => id.startsWith('FanOutOrdersTopic'))!;
    expect(show(s.json.Resources[topic]!.Properties!.KmsMasterKeyId)).toMatch(/^FanOutTopicKey.*\.Arn$/);
    for (const id of logicalIds(s.json, 'AWS::SNS::Topic')) {
      expect(denyInsecure(statementsOf(s, 'AWS::SNS::TopicPolicy', 'Topics', id))).toBe(true);
    }
  });

  it('consumes queues with partial batch responses and the configured batch settings; DLQs by the DLQ handler', () => {
    const mappings = logicalIds(s.json, 'AWS::Lambda::EventSourceMapping').map(
      (id) => s.json.Resources[id]!.Properties!,
    );
    expect(mappings).toHaveLength(6);
    for (const mapping of mappings) {
      expect(mapping.FunctionResponseTypes).toEqual(['ReportBatchItemFailures']);
      expect(mapping.BatchSize).toBe(10);
      expect(mapping.MaximumBatchingWindowInSeconds).toBeUndefined();
    }
    const dlqMappings = mappings.filter((m) => show(m.FunctionName).startsWith('DlqFunction'));
    expect(dlqMappings.map((m) => show(m.EventSourceArn).replace(/[0-9A-F]{8}\.Arn$/, '')).sort()).toEqual([
      'FanOutArchiveDeadLetterQueue',
      'FanOutArchiveSubscriptionDeadLetterQueue',
      'FanOutBillingDeadLetterQueue',
      'FanOutBillingSubscriptionDeadLetterQueue',
    ]);
  });

  it('creates the tables per TABLE_KEYS: customer-managed key, PITR, on demand', () => {
    s.template.resourceCountIs('AWS::DynamoDB::Table', 3);
    for (const id of logicalIds(s.json, 'AWS::DynamoDB::Table')) {
      expect(s.json.Resources[id]!.Properties).toMatchObject({
        BillingMode: 'PAY_PER_REQUEST',
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        SSESpecification: { SSEEnabled: true, SSEType: 'KMS' },
      });
    }
    // Every table is keyed by the order key `<client_id>#<order_id>` (order ids are per client).
    expect(TABLE_KEYS.orders.partitionKey).toBe('order_key');
    const keySchema = (prefix: string) =>
      s.json.Resources[logicalIds(s.json, 'AWS::DynamoDB::Table').find((id) => id.startsWith(prefix))!]!
        .Properties!.KeySchema;
    expect(keySchema('DataOrdersTable')).toEqual([
      { AttributeName: TABLE_KEYS.orders.partitionKey, KeyType: 'HASH' },
    ]);
    expect(keySchema('DataBillingTable')).toEqual([
      { AttributeName: TABLE_KEYS.billing.partitionKey, KeyType: 'HASH' },
    ]);
    s.template.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [
        { AttributeName: 'order_key', KeyType: 'HASH' },
        { AttributeName: 'failure_id', KeyType: 'RANGE' },
      ],
      TimeToLiveSpecification: { AttributeName: 'expires_at', Enabled: true },
    });
    for (const id of logicalIds(s.json, 'AWS::DynamoDB::Table'))
      expect(JSON.stringify(s.json.Resources[id]!.Properties)).not.toContain('"AttributeName":"order_id"');
  });

  it('protects the buckets: versioning, no public access, TLS only, KMS on the archive, lifecycle', () => {
    s.template.resourceCountIs('AWS::S3::Bucket', 2);
    for (const id of logicalIds(s.json, 'AWS::S3::Bucket')) {
      expect(s.json.Resources[id]!.Properties).toMatchObject({
        VersioningConfiguration: { Status: 'Enabled' },
        PublicAccessBlockConfiguration: {
          BlockPublicAcls: true,
          BlockPublicPolicy: true,
          IgnorePublicAcls: true,
          RestrictPublicBuckets: true,
        },
      });
      expect(denyInsecure(statementsOf(s, 'AWS::S3::BucketPolicy', 'Bucket', id))).toBe(true);
    }
    s.template.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [
          Match.objectLike({ ServerSideEncryptionByDefault: Match.objectLike({ SSEAlgorithm: 'aws:kms' }) }),
        ],
      },
      LoggingConfiguration: Match.objectLike({ LogFilePrefix: 'archive-bucket/' }),
      LifecycleConfiguration: {
        Rules: [
          Match.objectLike({
            Transitions: Match.arrayWith([Match.objectLike({ StorageClass: 'GLACIER_IR' })]),
          }),
        ],
      },
    });
  });

  it('stores client secrets in Secrets Manager under their own key, generated from a seed', () => {
    // The client secrets, the demo client's seed, the smoke-test client's own secret and the
    // order-id key.
    s.template.resourceCountIs('AWS::SecretsManager::Secret', 4);
    const secrets = logicalIds(s.json, 'AWS::SecretsManager::Secret').map(
      (id) => s.json.Resources[id]!.Properties!,
    );
    const clientSecrets = secrets.find((props) => props.SecretString !== undefined)!;
    expect(show(clientSecrets.SecretString)).toMatch(
      /^\{"clients":\{"demo-client":\["\{\{resolve:secretsmanager:ClientSecretsDemoClientSeed[0-9A-F]{8}:SecretString:::\}\}"\],"smoke-test":\["\{\{resolve:secretsmanager:ClientSecretsSmokeClientSecret[0-9A-F]{8}:SecretString:::\}\}"\]\}\}$/,
    );
    for (const props of secrets) expect(show(props.KmsKeyId)).toMatch(/^ClientSecretsKey.*\.Arn$/);
  });

  it('generates the order-id key as a secret of its own, given to the publisher only, in no client document', () => {
    const keyId = logicalIds(s.json, 'AWS::SecretsManager::Secret').find((id) =>
      id.startsWith('ClientSecretsOrderIdKey'),
    )!;
    expect(keyId).toBeDefined();
    expect(s.json.Resources[keyId]!.Properties).toMatchObject({
      GenerateSecretString: { ExcludePunctuation: true, PasswordLength: 64 },
    });
    expect(s.json.Resources[keyId]!.Properties!.SecretString).toBeUndefined();
    const clientSecrets = logicalIds(s.json, 'AWS::SecretsManager::Secret')
      .map((id) => s.json.Resources[id]!.Properties!)
      .find((props) => props.SecretString !== undefined)!;
    expect(show(clientSecrets.SecretString)).not.toContain(keyId);
    const withKey = logicalIds(s.json, 'AWS::Lambda::Function').filter(
      (id) =>
        (s.json.Resources[id]!.Properties!.Environment as { Variables: Record<string, unknown> }).Variables[
          ENV.orderIdKeySecretId
        ] !== undefined,
    );
    expect(withKey).toEqual([expect.stringMatching(/^PublisherFunction/)]);
    expect(
      show(
        (s.json.Resources[withKey[0]!]!.Properties!.Environment as { Variables: Record<string, unknown> })
          .Variables[ENV.orderIdKeySecretId],
      ),
    ).toBe(keyId);
  });
});

describe('a third subscriber is one entry', () => {
  let s: Synthesized;
  beforeAll(() => {
    s = synth(
      'dev',
      (config) => ({
        ...config,
        consumers: {
          ...config.consumers,
          compliance: { ...config.consumers.billing!, filterPolicy: { market: ['ru'] } },
          archive: { ...config.consumers.archive!, filterPolicy: { currency: ['EUR', 'USD'] } },
        },
      }),
      {
        subscribers: [
          ...SUBSCRIBERS,
          {
            name: 'compliance',
            handler: 'archive',
            flag: 'archived',
            environment: (data) => ({ [ENV.archiveBucket]: data.archiveBucket.bucketName }),
            grant: (fn, data) => grantItemActions(fn.role, data.billingTable, ['GetItem']),
          },
        ],
      },
    );
  }, SYNTH_TIMEOUT_MS);

  it('adds a queue, DLQs, a filtered subscription and a consumer', () => {
    s.template.resourceCountIs('AWS::SQS::Queue', 9);
    s.template.resourceCountIs('AWS::Lambda::Function', 7);
    s.template.hasResourceProperties('AWS::SNS::Subscription', {
      FilterPolicy: { market: ['ru'] },
      Endpoint: { 'Fn::GetAtt': [Match.stringLikeRegexp('^FanOutComplianceQueue'), 'Arn'] },
    });
    s.template.hasResourceProperties('AWS::SNS::Subscription', {
      FilterPolicy: { currency: ['EUR', 'USD'] },
    });
    s.template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ [ENV.consumerName]: 'compliance' }) },
    });
  });

  it("adds the subscriber's flag, with its filter, to every consumer's completion rules", () => {
    const consumers = logicalIds(s.json, 'AWS::Lambda::Function').filter(
      (id) =>
        (s.json.Resources[id]!.Properties!.Environment as { Variables: Record<string, unknown> }).Variables[
          ENV.consumerName
        ] !== undefined,
    );
    expect(consumers).toHaveLength(3);
    for (const id of consumers) {
      const rules = JSON.parse(
        String(
          (s.json.Resources[id]!.Properties!.Environment as { Variables: Record<string, unknown> }).Variables[
            ENV.completionRules
          ],
        ),
      ) as unknown[];
      expect(rules).toHaveLength(3);
      expect(rules[0]).toMatchObject({ flag: 'billed' });
      expect(rules.slice(1)).toEqual([
        { flag: 'archived', filterPolicy: { currency: ['EUR', 'USD'] } },
        { flag: 'archived', filterPolicy: { market: ['ru'] } },
      ]);
    }
  });
});
