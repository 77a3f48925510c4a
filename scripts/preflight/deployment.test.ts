import {
  CloudFormationClient,
  CloudFormationServiceException,
  DescribeStacksCommand,
} from '@aws-sdk/client-cloudformation';
import {
  GetConnectionCommand,
  CodeStarConnectionsClient,
  ResourceNotFoundException as ConnectionNotFound,
} from '@aws-sdk/client-codestar-connections';
import {
  DescribeSecretCommand,
  ResourceNotFoundException as SecretNotFound,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { ListSubscriptionsByTopicCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { checkConnection } from './connection';
import { checkAlarmSubscription, checkSmokeClient, checkStack } from './deployment';
import { TARGET, testClients } from './testing';

const cloudFormation = mockClient(CloudFormationClient);
const sns = mockClient(SNSClient);
const secrets = mockClient(SecretsManagerClient);
const connections = mockClient(CodeStarConnectionsClient);
const clients = testClients();
const TOPIC = 'arn:aws:sns:eu-west-1:222222222222:Staging-OrderPipeline-AlarmTopic';
const SECRET = 'arn:aws:secretsmanager:eu-west-1:222222222222:secret:smoke-AbCdEf';
const deployed = {
  status: 'UPDATE_COMPLETE',
  outputs: { AlarmTopicArn: TOPIC, SmokeClientSecretArn: SECRET },
};

afterEach(() => {
  cloudFormation.reset();
  sns.reset();
  secrets.reset();
  connections.reset();
});

describe('checkStack', () => {
  const stackIs = (status: string) =>
    cloudFormation.on(DescribeStacksCommand, { StackName: 'Staging-OrderPipeline' }).resolves({
      Stacks: [
        {
          StackName: 'Staging-OrderPipeline',
          StackStatus: status as never,
          CreationTime: new Date(),
          Outputs: [{ OutputKey: 'AlarmTopicArn', OutputValue: TOPIC }],
        },
      ],
    });

  it('reads the outputs of a deployed stack', async () => {
    stackIs('UPDATE_COMPLETE');
    const { result, deployed: stack } = await checkStack(clients, TARGET);
    expect(result.status).toBe('pass');
    expect(stack?.outputs).toEqual({ AlarmTopicArn: TOPIC });
  });

  it('skips before the first deploy (DescribeStacks: "does not exist")', async () => {
    cloudFormation.on(DescribeStacksCommand).rejects(
      new CloudFormationServiceException({
        name: 'ValidationError',
        $fault: 'client',
        $metadata: {},
        message: 'Stack with id Staging-OrderPipeline does not exist',
      }),
    );
    const { result, deployed: stack } = await checkStack(clients, TARGET);
    expect(result.status).toBe('skip');
    expect(stack).toBeUndefined();
  });

  it('counts a first deploy that rolled back as not deployed', async () => {
    stackIs('ROLLBACK_COMPLETE');
    const { result, deployed: stack } = await checkStack(clients, TARGET);
    expect(result.status).toBe('skip');
    expect(stack).toBeUndefined();
  });

  it.each(['UPDATE_IN_PROGRESS', 'UPDATE_ROLLBACK_FAILED', 'DELETE_FAILED'])(
    'fails on %s',
    async (status) => {
      stackIs(status);
      const { result } = await checkStack(clients, TARGET);
      expect(result.status).toBe('fail');
      expect(result.fix).toBeDefined();
    },
  );

  it('fails, naming the permission, when DescribeStacks is refused', async () => {
    cloudFormation
      .on(DescribeStacksCommand)
      .rejects(Object.assign(new Error('not authorized'), { name: 'AccessDenied' }));
    const { result } = await checkStack(clients, TARGET);
    expect(result.status).toBe('fail');
    expect(result.summary).toContain('cloudformation:DescribeStacks was refused');
  });
});

describe('checkAlarmSubscription', () => {
  const subscription = (arn: string, endpoint = TARGET.alarmEmail) => ({
    SubscriptionArn: arn,
    Protocol: 'email',
    Endpoint: endpoint,
    TopicArn: TOPIC,
  });

  it('passes when the email is subscribed and confirmed, reading every page', async () => {
    sns
      .on(ListSubscriptionsByTopicCommand, { TopicArn: TOPIC, NextToken: undefined })
      .resolves({
        Subscriptions: [subscription(`${TOPIC}:1`, 'someone-else@example.com')],
        NextToken: 'page-2',
      })
      .on(ListSubscriptionsByTopicCommand, { TopicArn: TOPIC, NextToken: 'page-2' })
      .resolves({ Subscriptions: [subscription(`${TOPIC}:2`, 'Orders-Staging@example.com')] });
    const result = await checkAlarmSubscription(clients, TARGET, deployed);
    expect(result.status).toBe('pass');
    expect(sns.commandCalls(ListSubscriptionsByTopicCommand)).toHaveLength(2);
  });

  it('fails while the subscription is PendingConfirmation', async () => {
    sns
      .on(ListSubscriptionsByTopicCommand)
      .resolves({ Subscriptions: [subscription('PendingConfirmation')] });
    const result = await checkAlarmSubscription(clients, TARGET, deployed);
    expect(result.status).toBe('fail');
    expect(result.summary).toContain('has not confirmed');
    expect(result.fix).toContain(`aws sns subscribe --topic-arn ${TOPIC}`);
  });

  it('fails when the email is not subscribed at all', async () => {
    sns.on(ListSubscriptionsByTopicCommand).resolves({ Subscriptions: [] });
    const result = await checkAlarmSubscription(clients, TARGET, deployed);
    expect(result.status).toBe('fail');
    expect(result.summary).toContain('not subscribed');
  });

  it('skips before the first deploy, with what to do after it', async () => {
    const result = await checkAlarmSubscription(clients, TARGET, undefined);
    expect(result.status).toBe('skip');
    expect(result.summary).toContain('confirm the email');
    expect(sns.commandCalls(ListSubscriptionsByTopicCommand)).toHaveLength(0);
  });

  it('on the emulator, a found subscription is not a pass: moto confirms everything', async () => {
    sns.on(ListSubscriptionsByTopicCommand).resolves({ Subscriptions: [subscription(`${TOPIC}:1`)] });
    const result = await checkAlarmSubscription(clients, { ...TARGET, platform: 'local' }, deployed);
    expect(result.status).toBe('skip');
    expect(result.summary).toContain('moto');
  });
});

describe('checkSmokeClient', () => {
  it('passes for a secret with a current version, without reading its value', async () => {
    secrets.on(DescribeSecretCommand, { SecretId: SECRET }).resolves({
      Name: 'smoke',
      VersionIdsToStages: { v1: ['AWSCURRENT'] },
    });
    const result = await checkSmokeClient(clients, TARGET, deployed);
    expect(result.status).toBe('pass');
  });

  it('fails for a secret without a value', async () => {
    secrets.on(DescribeSecretCommand).resolves({ Name: 'smoke', VersionIdsToStages: {} });
    const result = await checkSmokeClient(clients, TARGET, deployed);
    expect(result.status).toBe('fail');
    expect(result.summary).toContain('no value');
  });

  it('fails for a secret that is gone or scheduled for deletion', async () => {
    secrets.on(DescribeSecretCommand).rejects(new SecretNotFound({ message: 'gone', $metadata: {} }));
    expect((await checkSmokeClient(clients, TARGET, deployed)).status).toBe('fail');
    secrets.on(DescribeSecretCommand).resolves({
      Name: 'smoke',
      DeletedDate: new Date('2026-12-01T00:00:00Z'),
      VersionIdsToStages: { v1: ['AWSCURRENT'] },
    });
    const scheduled = await checkSmokeClient(clients, TARGET, deployed);
    expect(scheduled.status).toBe('fail');
    expect(scheduled.fix).toContain('restore-secret');
  });

  it('skips before the first deploy and where no smoke client is defined', async () => {
    expect((await checkSmokeClient(clients, TARGET, undefined)).status).toBe('skip');
    expect(
      (await checkSmokeClient(clients, { ...TARGET, smokeClientOutput: undefined }, deployed)).status,
    ).toBe('skip');
    expect(secrets.commandCalls(DescribeSecretCommand)).toHaveLength(0);
  });
});

describe('checkConnection', () => {
  const connectionIs = (status: string) =>
    connections.on(GetConnectionCommand, { ConnectionArn: TARGET.delivery?.connectionArn }).resolves({
      Connection: { ConnectionName: 'github', ConnectionStatus: status as never, ProviderType: 'GitHub' },
    });

  it('passes for an AVAILABLE connection, asked with its codeconnections ARN', async () => {
    connectionIs('AVAILABLE');
    const result = await checkConnection(clients, TARGET);
    expect(result.status).toBe('pass');
    expect(connections.commandCalls(GetConnectionCommand)[0]?.args[0].input.ConnectionArn).toMatch(
      /^arn:aws:codeconnections:/,
    );
  });

  it('fails for a PENDING connection, saying where to complete it', async () => {
    connectionIs('PENDING');
    const result = await checkConnection(clients, TARGET);
    expect(result.status).toBe('fail');
    expect(result.fix).toContain('Update pending connection');
  });

  it('fails for a connection in ERROR or one that does not exist', async () => {
    connectionIs('ERROR');
    expect((await checkConnection(clients, TARGET)).status).toBe('fail');
    connections.on(GetConnectionCommand).rejects(new ConnectionNotFound({ message: 'none', $metadata: {} }));
    expect((await checkConnection(clients, TARGET)).status).toBe('fail');
  });

  it('skips an environment no pipeline deploys', async () => {
    expect((await checkConnection(clients, { ...TARGET, delivery: undefined })).status).toBe('skip');
    expect(connections.commandCalls(GetConnectionCommand)).toHaveLength(0);
  });
});
