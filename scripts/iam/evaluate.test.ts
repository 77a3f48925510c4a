import type { CfnTemplate } from '../local/cfn-template';
import type { RecordedCall } from '../local/calls/recorder';
import { worldFromTemplate } from './environment';
import { evaluateRecording } from './evaluate';

const ACCOUNT = '111111111111';
const arn = (id: string) => ({ 'Fn::GetAtt': [id, 'Arn'] });

/** One role, two queues, a topic pair and two keys: the smallest template each rule shows on. */
const template: CfnTemplate = {
  Resources: {
    Role: {
      Type: 'AWS::IAM::Role',
      Properties: {
        AssumeRolePolicyDocument: {
          Statement: [
            { Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' },
          ],
        },
      },
    },
    RolePolicy: {
      Type: 'AWS::IAM::Policy',
      Properties: {
        Roles: [{ Ref: 'Role' }],
        PolicyDocument: {
          Statement: [
            { Effect: 'Allow', Action: 'sqs:SendMessage', Resource: [arn('Queue'), arn('OtherQueue')] },
            { Effect: 'Allow', Action: 'kms:Decrypt', Resource: [arn('SharedKey'), arn('LockedKey')] },
          ],
        },
      },
    },
    Topic: { Type: 'AWS::SNS::Topic', Properties: {} },
    OtherTopic: { Type: 'AWS::SNS::Topic', Properties: {} },
    Queue: { Type: 'AWS::SQS::Queue', Properties: {} },
    OtherQueue: { Type: 'AWS::SQS::Queue', Properties: {} },
    QueuePolicy: {
      Type: 'AWS::SQS::QueuePolicy',
      Properties: {
        Queues: [{ Ref: 'Queue' }],
        PolicyDocument: {
          Statement: [
            {
              Sid: 'TlsOnly',
              Effect: 'Deny',
              Principal: { AWS: '*' },
              Action: 'sqs:*',
              Resource: arn('Queue'),
              Condition: { Bool: { 'aws:SecureTransport': 'false' } },
            },
            {
              Effect: 'Allow',
              Principal: { Service: 'sns.amazonaws.com' },
              Action: 'sqs:SendMessage',
              Resource: arn('Queue'),
              Condition: { ArnEquals: { 'aws:SourceArn': { Ref: 'Topic' } } },
            },
          ],
        },
      },
    },
    SharedKey: {
      Type: 'AWS::KMS::Key',
      Properties: {
        KeyPolicy: {
          Statement: [
            {
              Effect: 'Allow',
              Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` },
              Action: 'kms:*',
              Resource: '*',
            },
          ],
        },
      },
    },
    LockedKey: {
      Type: 'AWS::KMS::Key',
      Properties: {
        KeyPolicy: {
          Statement: [
            {
              Effect: 'Allow',
              Principal: { AWS: `arn:aws:iam::${ACCOUNT}:role/someone-else` },
              Action: 'kms:*',
              Resource: '*',
            },
          ],
        },
      },
    },
  },
};

const world = worldFromTemplate(template, {
  name: 'test',
  accountId: ACCOUNT,
  region: 'eu-west-1',
  stackName: 'Test',
});

const role = { kind: 'role', role: 'Role', origin: 'vpc' } as const;
const sns = { kind: 'service', service: 'sns.amazonaws.com' } as const;
const call = (overrides: Partial<RecordedCall>): RecordedCall => ({
  principal: role,
  action: 'sqs:SendMessage',
  resource: '${Queue.Arn}',
  context: { 'aws:SecureTransport': 'true' },
  inVpc: true,
  count: 1,
  scenarios: ['test'],
  ...overrides,
});
const verdictOf = async (recorded: RecordedCall, without?: string[]) =>
  (await evaluateRecording(world, [recorded], { without })).verdicts[0]!;

describe('IAM evaluation wiring (iam-simulate over the resolved template)', () => {
  it('allows a call the identity policy allows', async () => {
    // Act
    const verdict = await verdictOf(call({}));
    // Assess
    expect(verdict.allowed).toBe(true);
    expect(verdict.resource).toBe(
      `arn:aws:sqs:eu-west-1:${ACCOUNT}:${world.templates.physicalOf('Test', 'Queue')?.attributes.QueueName}`,
    );
  });

  it('denies a call the resource policy denies, naming the denying statement', async () => {
    // Act
    const verdict = await verdictOf(call({ context: { 'aws:SecureTransport': 'false' } }));
    // Assess
    expect(verdict.allowed).toBe(false);
    expect(verdict.reasons.join()).toMatch(/denied by resource policy .*TlsOnly/);
  });

  it('allows a service principal that the resource policy allows from its source', async () => {
    // Act
    const verdict = await verdictOf(
      call({ principal: sns, context: { 'aws:SecureTransport': 'true', 'aws:SourceArn': '${Topic}' } }),
    );
    // Assess
    expect(verdict.allowed).toBe(true);
  });

  it('denies that service principal from another source (aws:SourceArn condition)', async () => {
    // Act
    const verdict = await verdictOf(
      call({ principal: sns, context: { 'aws:SecureTransport': 'true', 'aws:SourceArn': '${OtherTopic}' } }),
    );
    // Assess
    expect(verdict.allowed).toBe(false);
    expect(verdict.reasons).toEqual(['no statement of the resource policy allows it (missing)']);
  });

  it('denies a KMS call the identity policy allows when the key policy does not trust the account', async () => {
    // Act
    const shared = await verdictOf(
      call({ action: 'kms:Decrypt', resource: '${SharedKey.Arn}', context: {} }),
    );
    const locked = await verdictOf(
      call({ action: 'kms:Decrypt', resource: '${LockedKey.Arn}', context: {} }),
    );
    // Assess
    expect(shared.allowed).toBe(true);
    expect(locked.allowed).toBe(false);
    expect(locked.reasons.join()).toMatch(/key policy/);
  });

  it('denies a call once --without removes its action from every policy', async () => {
    // Act
    const verdict = await verdictOf(call({}), ['sqs:SendMessage']);
    // Assess
    expect(verdict.allowed).toBe(false);
    expect(verdict.reasons.join()).toMatch(/identity policy .*missing/);
  });

  it('lists the granted pairs no call used, in template terms', async () => {
    // Act
    const evaluation = await evaluateRecording(world, [call({})]);
    // Assess
    const unused = evaluation.unusedGrants.map(
      (grant) => `${grant.principal} ${grant.action} ${grant.resource}`,
    );
    expect(unused).toContain('role:Role sqs:SendMessage ${OtherQueue.Arn}');
    expect(unused).toContain('service:sns.amazonaws.com sqs:SendMessage ${Queue.Arn}');
    expect(unused).not.toContain('role:Role sqs:SendMessage ${Queue.Arn}');
  });
});
