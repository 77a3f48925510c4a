/**
 * The preflight against moto's real API answers (not mocks): the local variant's table on an
 * emulator that holds what the local stack holds, and the certificate and hosted-zone checks on
 * the wire shapes of ACM and Route 53. Only moto_server is started, not the whole local stack.
 */
import { ACMClient, RequestCertificateCommand } from '@aws-sdk/client-acm';
import { CreateHostedZoneCommand, Route53Client } from '@aws-sdk/client-route-53';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { CreateTopicCommand, SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import { localAwsConfig, LOCAL_ACCOUNT_ID, type AwsClientConfig } from '../../scripts/local/aws-config';
import { startEmulator, type Emulator } from '../../scripts/local/moto-server';
import { checkCertificate, checkHostedZone } from '../../scripts/preflight/domain';
import { localPreflight } from '../../scripts/preflight/local';
import { CHECKS, runPreflight } from '../../scripts/preflight/run';
import { TARGET } from '../../scripts/preflight/testing';
import type { PreflightTarget } from '../../scripts/preflight/types';

jest.setTimeout(60_000);

const LOCAL: PreflightTarget = {
  ...TARGET,
  environment: 'local',
  region: 'us-east-1',
  account: LOCAL_ACCOUNT_ID,
  stackName: 'Local-OrderPipeline',
  platform: 'local',
  domain: undefined,
  delivery: undefined,
  alarmEmail: 'orders-local@example.com',
  concurrency: { reservations: [] },
  stress: { ...TARGET.stress, orders: 200, concurrency: 8, ratePerSecond: 0, waf: undefined },
};

describe('preflight against moto', () => {
  let emulator: Emulator;
  let aws: AwsClientConfig;
  let topicArn: string;
  let smokeSecretArn: string;

  beforeAll(async () => {
    // moto issues a requested certificate after this many seconds (default 60).
    process.env.MOTO_ACM_VALIDATION_WAIT = '0';
    emulator = await startEmulator();
    aws = localAwsConfig(emulator.endpoint);
    const sns = new SNSClient(aws);
    topicArn = (await sns.send(new CreateTopicCommand({ Name: 'alarms' }))).TopicArn ?? '';
    smokeSecretArn =
      (
        await new SecretsManagerClient(aws).send(
          new CreateSecretCommand({
            Name: 'smoke-client',
            SecretString: '{"clientId":"smoke","secret":"s"}',
          }),
        )
      ).ARN ?? '';
  }, 60_000);

  afterAll(async () => {
    await emulator?.stop();
  });

  const state = (outputs: Record<string, string>) => ({
    url: 'http://127.0.0.1:1',
    emulatorEndpoint: emulator.endpoint,
    region: 'us-east-1',
    clientId: 'local-demo',
    outputs,
    pid: process.pid,
  });

  it('prints the local table: real answers where moto serves the API, a reason where it does not', async () => {
    // Prepare
    const outputs = { AlarmTopicArn: topicArn, SmokeClientSecretArn: smokeSecretArn };
    const local = localPreflight(state(outputs));
    // Act: before the alarm email is subscribed
    const unsubscribed = await runPreflight(local.clients, LOCAL, { readStack: local.readStack });
    await new SNSClient(aws).send(
      new SubscribeCommand({ TopicArn: topicArn, Protocol: 'email', Endpoint: LOCAL.alarmEmail }),
    );
    const subscribed = await runPreflight(local.clients, LOCAL, { readStack: local.readStack });
    // Assess
    const status = (results: typeof subscribed) =>
      Object.fromEntries(results.map((result) => [result.check, result.status]));
    expect(status(unsubscribed)['alarm-email']).toBe('fail');
    expect(status(subscribed)).toEqual({
      // The local environment reads no value of the delivery file: nothing to fill in.
      placeholders: 'pass',
      credentials: 'pass',
      stack: 'pass',
      'bootstrap.version': 'skip',
      'bootstrap.trust': 'skip',
      'lambda.concurrency': 'skip',
      certificate: 'skip',
      'hosted-zone': 'skip',
      connection: 'skip',
      'alarm-email': 'skip',
      'smoke-client': 'pass',
      'stress.concurrency': 'skip',
      'stress.workflow-rate': 'pass',
      'stress.waf': 'skip',
    });
    const skipped = subscribed.filter((result) => result.status === 'skip');
    expect(skipped.every((result) => result.summary.length > 20)).toBe(true);
    expect(subscribed.map((result) => result.check)).toEqual(CHECKS.map((check) => check.id));
  });

  it('fails the credentials check when the local stack is taken for another account', async () => {
    const local = localPreflight(state({}));
    const [credentials] = await runPreflight(
      local.clients,
      { ...LOCAL, account: '111111111111' },
      {
        readStack: local.readStack,
      },
    );
    expect(credentials).toMatchObject({ check: 'credentials', status: 'fail' });
    expect(credentials?.summary).toContain(LOCAL_ACCOUNT_ID);
  });

  it('reads ACM and Route 53 answers: a wildcard of the parent fails, one of the zone passes', async () => {
    // Prepare
    const acm = new ACMClient(aws);
    const request = async (domain: string) =>
      (await acm.send(new RequestCertificateCommand({ DomainName: domain, ValidationMethod: 'DNS' })))
        .CertificateArn ?? '';
    const parentWildcard = await request('*.example.com');
    const zoneWildcard = await request('*.local.example.com');
    const route53 = new Route53Client(aws);
    const zone = await route53.send(
      new CreateHostedZoneCommand({ Name: 'local.example.com', CallerReference: `preflight-${Date.now()}` }),
    );
    // moto moves a requested certificate to ISSUED once MOTO_ACM_VALIDATION_WAIT whole seconds have passed.
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const clients = { acm, route53 };
    const target = (certificateArn: string): PreflightTarget => ({
      ...LOCAL,
      platform: 'aws',
      domain: { name: 'orders.local.example.com', hostedZoneId: zone.HostedZone?.Id, certificateArn },
    });
    // Act
    const covered = await checkCertificate(clients, target(zoneWildcard));
    const uncovered = await checkCertificate(clients, target(parentWildcard));
    const byId = await checkHostedZone(clients, target(zoneWildcard), undefined);
    const byName = await checkHostedZone(
      clients,
      {
        ...target(zoneWildcard),
        domain: { name: 'orders.local.example.com', hostedZoneName: 'local.example.com' },
      },
      undefined,
    );
    const outside = await checkHostedZone(
      clients,
      { ...target(zoneWildcard), domain: { name: 'orders.example.org', hostedZoneId: zone.HostedZone?.Id } },
      undefined,
    );
    // Assess
    expect(covered).toMatchObject({ status: 'pass' });
    expect(uncovered).toMatchObject({ status: 'fail' });
    expect(uncovered.summary).toContain('none covers orders.local.example.com');
    expect(byId.status).toBe('pass');
    expect(byName.status).toBe('pass');
    expect(outside.status).toBe('fail');
  });
});
