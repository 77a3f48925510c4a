import {
  grantsOf,
  logicalIds,
  synth,
  SYNTH_TIMEOUT_MS,
  type Grant,
  type Synthesized,
} from './template-helpers';

/** Drops CDK's 8-hex logical-id suffixes so expectations read `DataOrdersTable.Arn`. */
const stable = (text: string) => text.replace(/[0-9A-F]{8}(?=\.|\/|:|$)/g, '');
const pairs = (grants: Grant[]) => grants.map((g) => `${g.action} ${stable(g.resource)}`).sort();

const LAMBDA_BASE = (name: string) => [
  `logs:CreateLogStream ${name}FunctionLogGroup.Arn`,
  `logs:PutLogEvents ${name}FunctionLogGroup.Arn`,
  'ec2:AssignPrivateIpAddresses *',
  'ec2:CreateNetworkInterface *',
  'ec2:DeleteNetworkInterface *',
  'ec2:DescribeNetworkInterfaces *',
  'ec2:DescribeSubnets *',
  'ec2:UnassignPrivateIpAddresses *',
  'xray:PutTelemetryRecords *',
  'xray:PutTraceSegments *',
];
const DATA_KEY_WRITE = [
  'kms:Decrypt DataKey.Arn',
  'kms:Encrypt DataKey.Arn',
  'kms:GenerateDataKey DataKey.Arn',
];
const consume = (queue: string) =>
  ['ChangeMessageVisibility', 'DeleteMessage', 'GetQueueAttributes', 'GetQueueUrl', 'ReceiveMessage'].map(
    (action) => `sqs:${action} FanOut${queue}.Arn`,
  );

/**
 * Actions for which AWS offers no narrower resource than "*": the Lambda VPC ENI actions, X-Ray,
 * and Step Functions' CloudWatch Logs delivery.
 */
const WILDCARD_RESOURCE_ACTIONS = new Set([
  'ec2:AssignPrivateIpAddresses',
  'ec2:CreateNetworkInterface',
  'ec2:DeleteNetworkInterface',
  'ec2:DescribeNetworkInterfaces',
  'ec2:DescribeSubnets',
  'ec2:UnassignPrivateIpAddresses',
  'xray:PutTelemetryRecords',
  'xray:PutTraceSegments',
  'xray:GetSamplingRules',
  'xray:GetSamplingTargets',
  'logs:CreateLogDelivery',
  'logs:DeleteLogDelivery',
  'logs:DescribeLogGroups',
  'logs:DescribeResourcePolicies',
  'logs:GetLogDelivery',
  'logs:ListLogDeliveries',
  'logs:PutResourcePolicy',
  'logs:UpdateLogDelivery',
]);

describe('IAM: one role per function, exact actions on exact resources', () => {
  let s: Synthesized;
  beforeAll(() => {
    s = synth('dev');
  }, SYNTH_TIMEOUT_MS);

  it('publisher: orders items (never a delete), start the workflow, read the client secrets and the order-id key', () => {
    expect(pairs(grantsOf(s.json, 'PublisherFunctionRole'))).toEqual(
      [
        ...LAMBDA_BASE('Publisher'),
        'dynamodb:GetItem DataOrdersTable.Arn',
        'dynamodb:PutItem DataOrdersTable.Arn',
        'dynamodb:UpdateItem DataOrdersTable.Arn',
        ...DATA_KEY_WRITE,
        'states:StartExecution WorkflowStateMachine',
        'secretsmanager:GetSecretValue ClientSecretsSecret',
        'secretsmanager:GetSecretValue ClientSecretsOrderIdKey',
        'kms:Decrypt ClientSecretsKey.Arn',
      ].sort(),
    );
  });

  it('validate: nothing beyond logs, ENIs and tracing', () => {
    expect(pairs(grantsOf(s.json, 'ValidateFunctionRole'))).toEqual([...LAMBDA_BASE('Validate')].sort());
  });

  it('publisher: decrypts client secrets only through Secrets Manager', () => {
    const statements = Object.values(s.json.Resources)
      .filter((resource) => resource.Type === 'AWS::IAM::Policy')
      .filter((resource) => JSON.stringify(resource.Properties?.Roles).includes('PublisherFunctionRole'))
      .flatMap(
        (resource) =>
          (resource.Properties?.PolicyDocument as { Statement: Record<string, unknown>[] }).Statement,
      )
      .filter((statement) => JSON.stringify(statement.Resource).includes('ClientSecretsKey'));
    expect(statements).toHaveLength(1);
    expect(JSON.stringify(statements[0]?.Condition)).toMatch(/"kms:ViaService":\{?.*secretsmanager\./);
  });

  it('billing: its queue, the transaction items (PutItem on billing, UpdateItem on orders), and GetItem on both for the version before (one release)', () => {
    expect(pairs(grantsOf(s.json, 'BillingFunctionRole'))).toEqual(
      [
        ...LAMBDA_BASE('Billing'),
        'dynamodb:UpdateItem DataOrdersTable.Arn',
        'dynamodb:GetItem DataOrdersTable.Arn',
        'dynamodb:PutItem DataBillingTable.Arn',
        'dynamodb:GetItem DataBillingTable.Arn',
        ...DATA_KEY_WRITE,
        ...consume('BillingQueue'),
        'kms:Decrypt FanOutQueueKey.Arn',
      ].sort(),
    );
  });

  it('archive: its queue, GetItem (the flag, re-read when an object is taken back) and UpdateItem on orders, PutObject, HeadObject (s3:GetObject) and DeleteObject (a delete marker, never s3:DeleteObjectVersion) under orders/', () => {
    expect(pairs(grantsOf(s.json, 'ArchiveFunctionRole'))).toEqual(
      [
        ...LAMBDA_BASE('Archive'),
        'dynamodb:GetItem DataOrdersTable.Arn',
        'dynamodb:UpdateItem DataOrdersTable.Arn',
        ...DATA_KEY_WRITE,
        's3:PutObject DataArchiveBucket.Arn/orders/*',
        's3:GetObject DataArchiveBucket.Arn/orders/*',
        's3:DeleteObject DataArchiveBucket.Arn/orders/*',
        ...consume('ArchiveQueue'),
        'kms:Decrypt FanOutQueueKey.Arn',
      ].sort(),
    );
  });

  it('dlq handler: every DLQ, UpdateItem on orders, PutItem on failed orders', () => {
    expect(pairs(grantsOf(s.json, 'DlqFunctionRole'))).toEqual(
      [
        ...LAMBDA_BASE('Dlq'),
        'dynamodb:UpdateItem DataOrdersTable.Arn',
        'dynamodb:PutItem DataFailedOrdersTable.Arn',
        ...DATA_KEY_WRITE,
        ...consume('BillingDeadLetterQueue'),
        ...consume('BillingSubscriptionDeadLetterQueue'),
        ...consume('ArchiveDeadLetterQueue'),
        ...consume('ArchiveSubscriptionDeadLetterQueue'),
        'kms:Decrypt FanOutQueueKey.Arn',
      ].sort(),
    );
  });

  it('reconciler: query the pending index, read and update orders, record failures, start the workflow', () => {
    expect(pairs(grantsOf(s.json, 'ReconcilerFunctionRole'))).toEqual(
      [
        ...LAMBDA_BASE('Reconciler'),
        'dynamodb:Query DataOrdersTable.Arn/index/pending-by-start',
        'dynamodb:GetItem DataOrdersTable.Arn',
        'dynamodb:UpdateItem DataOrdersTable.Arn',
        'dynamodb:PutItem DataFailedOrdersTable.Arn',
        ...DATA_KEY_WRITE,
        'states:StartExecution WorkflowStateMachine',
      ].sort(),
    );
  });

  it('reconciler schedule: only Scheduler, for this account, may invoke the reconciler', () => {
    expect(pairs(grantsOf(s.json, 'ReconcilerScheduleRole'))).toEqual([
      'lambda:InvokeFunction ReconcilerFunction.Arn',
    ]);
    const role = Object.entries(s.json.Resources).find(
      ([id, resource]) => id.startsWith('ReconcilerScheduleRole') && resource.Type === 'AWS::IAM::Role',
    )?.[1];
    expect(role?.Properties?.AssumeRolePolicyDocument).toMatchObject({
      Statement: [
        {
          Action: 'sts:AssumeRole',
          Principal: { Service: 'scheduler.amazonaws.com' },
          Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
        },
      ],
    });
  });

  it('state machine: invoke validate, the direct integrations, logs and tracing', () => {
    expect(pairs(grantsOf(s.json, 'WorkflowStateMachineRole'))).toEqual(
      [
        'lambda:InvokeFunction ValidateFunction.Arn',
        'lambda:InvokeFunction ValidateFunction.Arn:*',
        'dynamodb:UpdateItem arn:aws:dynamodb:eu-west-1:AWS::AccountId:table/DataOrdersTable',
        'dynamodb:PutItem arn:aws:dynamodb:eu-west-1:AWS::AccountId:table/DataFailedOrdersTable',
        'sns:Publish FanOutOrdersTopic',
        ...DATA_KEY_WRITE,
        'kms:Decrypt FanOutTopicKey.Arn',
        'kms:GenerateDataKey FanOutTopicKey.Arn',
        ...[...WILDCARD_RESOURCE_ACTIONS]
          .filter((action) => action.startsWith('logs:') || action.startsWith('xray:'))
          .map((action) => `${action} *`),
      ].sort(),
    );
  });

  it('has one role per function and no managed policies', () => {
    const roles = logicalIds(s.json, 'AWS::IAM::Role');
    for (const fn of ['Publisher', 'Validate', 'Billing', 'Archive', 'Dlq', 'Reconciler']) {
      expect(roles.filter((id) => id.startsWith(`${fn}FunctionRole`))).toHaveLength(1);
    }
    for (const id of roles) expect(s.json.Resources[id]!.Properties?.ManagedPolicyArns).toBeUndefined();
  });

  it('grants no wildcard action anywhere, and "*" resources only where AWS offers nothing narrower', () => {
    const all = logicalIds(s.json, 'AWS::IAM::Role').flatMap((role) => grantsOf(s.json, role));
    expect(all.length).toBeGreaterThan(50);
    for (const grant of all) {
      expect(grant.action).not.toContain('*');
      if (grant.resource === '*') expect(WILDCARD_RESOURCE_ACTIONS).toContain(grant.action);
    }
  });
});
