/** A target and clients for the preflight's unit tests (the clients are mocked per test file). */
import { preflightClients } from './clients';
import type { PreflightClients, PreflightTarget } from './types';

/** A pipeline-deployed HTTPS environment in its own account, like staging. */
export const TARGET: PreflightTarget = {
  environment: 'staging',
  region: 'eu-west-1',
  account: '222222222222',
  stackName: 'Staging-OrderPipeline',
  platform: 'aws',
  bootstrap: {
    versionParameter: '/cdk-bootstrap/hnb659fds/version',
    qualifier: 'hnb659fds',
    requiredVersion: 6,
  },
  concurrency: {
    declaredQuota: 1000,
    reservations: [
      { name: 'publisher', reserved: 50 },
      { name: 'billing', reserved: 20 },
    ],
  },
  domain: {
    name: 'orders.staging.example.com',
    hostedZoneId: 'Z0123456789ABCDEFGHIJ',
    certificateArn: 'arn:aws:acm:eu-west-1:222222222222:certificate/11111111-2222-3333-4444-555555555555',
  },
  delivery: {
    toolingAccount: '444444444444',
    connectionArn:
      'arn:aws:codeconnections:eu-west-1:444444444444:connection/00000000-0000-0000-0000-000000000000',
  },
  placeholders: { file: 'delivery.config.yaml', fields: [], fix: 'replace them (README, Deploying)' },
  alarmEmail: 'orders-staging@example.com',
  alarmTopicOutput: 'AlarmTopicArn',
  smokeClientOutput: 'SmokeClientSecretArn',
  stress: {
    orders: 5000,
    concurrency: 50,
    ratePerSecond: 100,
    workflowType: 'EXPRESS',
    waf: { perIp: 20_000, perClient: 20_000 },
    entryFunction: 'publisher',
  },
};

/** Real SDK clients; `mockClient(<Client>)` in a test answers their `send` before any credential is needed. */
export function testClients(): PreflightClients {
  return preflightClients({ region: TARGET.region });
}
