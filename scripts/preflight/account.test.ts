import { GetRoleCommand, IAMClient, NoSuchEntityException } from '@aws-sdk/client-iam';
import { GetAccountSettingsCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { GetParameterCommand, ParameterNotFound, SSMClient } from '@aws-sdk/client-ssm';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import {
  bootstrapRoleName,
  checkBootstrapTrust,
  checkBootstrapVersion,
  checkCredentials,
  checkLambdaConcurrency,
  trustsAccount,
} from './account';
import { TARGET, testClients } from './testing';

const sts = mockClient(STSClient);
const ssm = mockClient(SSMClient);
const iam = mockClient(IAMClient);
const lambda = mockClient(LambdaClient);
const clients = testClients();
const ACCOUNT = '222222222222';
const TOOLING = '444444444444';
const deployed = { status: 'UPDATE_COMPLETE', outputs: {} };

afterEach(() => {
  sts.reset();
  ssm.reset();
  iam.reset();
  lambda.reset();
});

/** A trust policy as IAM returns it: URL-encoded JSON. */
function trustPolicy(...principals: string[]): string {
  return encodeURIComponent(
    JSON.stringify({
      Version: '2012-10-17',
      Statement: [
        { Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` }, Action: 'sts:AssumeRole' },
        ...principals.map((principal) => ({
          Effect: 'Allow',
          Principal: { AWS: principal },
          Action: ['sts:AssumeRole'],
          Condition: { Null: { 'sts:ExternalId': 'true' } },
        })),
      ],
    }),
  );
}

describe('checkCredentials', () => {
  it('passes for the environment account and names it', async () => {
    sts.on(GetCallerIdentityCommand).resolves({ Account: ACCOUNT });
    const { result, account } = await checkCredentials(clients, TARGET);
    expect(result.status).toBe('pass');
    expect(account).toBe(ACCOUNT);
  });

  it('fails for credentials of another account, naming both', async () => {
    sts.on(GetCallerIdentityCommand).resolves({ Account: '999999999999' });
    const { result } = await checkCredentials(clients, TARGET);
    expect(result.status).toBe('fail');
    expect(result.summary).toContain('999999999999');
    expect(result.summary).toContain(ACCOUNT);
    expect(result.fix).toMatch(/--profile/);
  });

  it('checks whichever account the credentials are for when the environment names none', async () => {
    sts.on(GetCallerIdentityCommand).resolves({ Account: '999999999999' });
    const { result, account } = await checkCredentials(clients, { ...TARGET, account: undefined });
    expect(result.status).toBe('pass');
    expect(account).toBe('999999999999');
  });

  it('says how to pass credentials when there are none', async () => {
    sts.on(GetCallerIdentityCommand).rejects(
      Object.assign(new Error('Could not load credentials from any providers'), {
        name: 'CredentialsProviderError',
      }),
    );
    const { result, account } = await checkCredentials(clients, TARGET);
    expect(result.status).toBe('fail');
    expect(account).toBeUndefined();
    expect(result.fix).toMatch(/--profile/);
  });
});

describe('checkBootstrapVersion', () => {
  it('passes when the version parameter is at least the required version', async () => {
    ssm
      .on(GetParameterCommand, { Name: '/cdk-bootstrap/hnb659fds/version' })
      .resolves({ Parameter: { Value: '30' } });
    const result = await checkBootstrapVersion(clients, TARGET, ACCOUNT);
    expect(result).toMatchObject({ status: 'pass' });
    expect(result.summary).toContain('30');
  });

  it('fails on an account that was never bootstrapped, with the bootstrap command trusting the tooling account', async () => {
    ssm.on(GetParameterCommand).rejects(new ParameterNotFound({ message: 'not found', $metadata: {} }));
    const result = await checkBootstrapVersion(clients, TARGET, ACCOUNT);
    expect(result.status).toBe('fail');
    expect(result.fix).toContain(`npx cdk bootstrap aws://${ACCOUNT}/eu-west-1 --trust ${TOOLING}`);
  });

  it('fails on a bootstrap older than the template requires', async () => {
    ssm.on(GetParameterCommand).resolves({ Parameter: { Value: '5' } });
    const result = await checkBootstrapVersion(clients, TARGET, ACCOUNT);
    expect(result.status).toBe('fail');
    expect(result.summary).toMatch(/5 is older than the 6/);
  });

  it('names the permission when the call is refused', async () => {
    ssm.on(GetParameterCommand).rejects(Object.assign(new Error('no'), { name: 'AccessDeniedException' }));
    const result = await checkBootstrapVersion(clients, TARGET, ACCOUNT);
    expect(result.status).toBe('fail');
    expect(result.summary).toContain('ssm:GetParameter was refused');
  });
});

describe('checkBootstrapTrust', () => {
  const roleName = (kind: 'deploy' | 'file-publishing' | 'lookup') =>
    bootstrapRoleName(kind, 'hnb659fds', ACCOUNT, 'eu-west-1');

  it('passes when the deploy, file-publishing and lookup roles trust the tooling account', async () => {
    iam.on(GetRoleCommand).resolves({
      Role: { AssumeRolePolicyDocument: trustPolicy(TOOLING) } as never,
    });
    const result = await checkBootstrapTrust(clients, TARGET, ACCOUNT);
    expect(result.status).toBe('pass');
    expect(iam.commandCalls(GetRoleCommand).map((call) => call.args[0].input.RoleName)).toEqual([
      roleName('deploy'),
      roleName('file-publishing'),
      roleName('lookup'),
    ]);
  });

  it('fails naming each role that trusts only its own account, and the one missing', async () => {
    iam
      .on(GetRoleCommand)
      .resolves({ Role: { AssumeRolePolicyDocument: trustPolicy(`arn:aws:iam::${TOOLING}:root`) } as never })
      .on(GetRoleCommand, { RoleName: roleName('deploy') })
      .resolves({ Role: { AssumeRolePolicyDocument: trustPolicy() } as never })
      .on(GetRoleCommand, { RoleName: roleName('lookup') })
      .rejects(new NoSuchEntityException({ message: 'no role', $metadata: {} }));
    const result = await checkBootstrapTrust(clients, TARGET, ACCOUNT);
    expect(result.status).toBe('fail');
    expect(result.summary).toContain(roleName('deploy'));
    expect(result.summary).toContain(`${roleName('lookup')} (missing)`);
    expect(result.summary).not.toContain(roleName('file-publishing'));
    expect(result.fix).toContain(`--trust ${TOOLING}`);
  });

  it('skips an environment no pipeline deploys', async () => {
    const result = await checkBootstrapTrust(clients, { ...TARGET, delivery: undefined }, ACCOUNT);
    expect(result.status).toBe('skip');
    expect(iam.commandCalls(GetRoleCommand)).toHaveLength(0);
  });
});

describe('trustsAccount', () => {
  it('reads account ids and root ARNs, in strings and lists', () => {
    expect(trustsAccount(trustPolicy(TOOLING), TOOLING)).toBe(true);
    expect(trustsAccount(trustPolicy(`arn:aws-cn:iam::${TOOLING}:root`), TOOLING)).toBe(true);
    expect(trustsAccount(trustPolicy(), TOOLING)).toBe(false);
  });

  it('does not count a user of the account, a Deny, or another action', () => {
    const policy = (statement: object) => encodeURIComponent(JSON.stringify({ Statement: statement }));
    expect(
      trustsAccount(
        policy({
          Effect: 'Allow',
          Principal: { AWS: `arn:aws:iam::${TOOLING}:user/x` },
          Action: 'sts:AssumeRole',
        }),
        TOOLING,
      ),
    ).toBe(false);
    expect(
      trustsAccount(
        policy({ Effect: 'Deny', Principal: { AWS: TOOLING }, Action: 'sts:AssumeRole' }),
        TOOLING,
      ),
    ).toBe(false);
    expect(
      trustsAccount(
        policy({ Effect: 'Allow', Principal: { AWS: TOOLING }, Action: 'sts:TagSession' }),
        TOOLING,
      ),
    ).toBe(false);
    expect(
      trustsAccount(policy({ Effect: 'Allow', Principal: { AWS: [TOOLING] }, Action: 'sts:*' }), TOOLING),
    ).toBe(true);
  });
});

describe('checkLambdaConcurrency', () => {
  const settings = (quota: number, unreserved: number) =>
    lambda.on(GetAccountSettingsCommand).resolves({
      AccountLimit: { ConcurrentExecutions: quota, UnreservedConcurrentExecutions: unreserved },
    });

  it('passes when the quota covers the reservations + 100', async () => {
    settings(1000, 1000);
    const result = await checkLambdaConcurrency(clients, TARGET, undefined);
    expect(result.status).toBe('pass');
    expect(result.summary).toContain('70 reserved (publisher 50, billing 20) + 100');
  });

  it('fails on a new account with a quota of 10, saying what to request', async () => {
    settings(10, 10);
    const result = await checkLambdaConcurrency(clients, TARGET, undefined);
    expect(result.status).toBe('fail');
    expect(result.summary).toBe(
      'account quota 10 < 70 reserved (publisher 50, billing 20) + 100 unreserved = 170',
    );
    expect(result.fix).toMatch(/L-B99A9384.*at least 170/);
  });

  it('fails at exactly one below the reservations + 100', async () => {
    const undeclared = { ...TARGET, concurrency: { ...TARGET.concurrency, declaredQuota: undefined } };
    settings(169, 169);
    expect((await checkLambdaConcurrency(clients, undeclared, undefined)).status).toBe('fail');
    settings(170, 170);
    expect((await checkLambdaConcurrency(clients, undeclared, undefined)).status).toBe('pass');
  });

  it('fails when the account has less than the configuration declares', async () => {
    settings(500, 500);
    const result = await checkLambdaConcurrency(clients, TARGET, undefined);
    expect(result.status).toBe('fail');
    expect(result.summary).toContain('declares an account quota of 1000');
  });

  it('before the first deploy, counts what other functions of the account already reserve', async () => {
    settings(1000, 150);
    const result = await checkLambdaConcurrency(clients, TARGET, undefined);
    expect(result.status).toBe('fail');
    expect(result.summary).toContain('other functions already reserve 850');
  });

  it('after a deploy, the unreserved figure already holds this stack, so only the quota counts', async () => {
    settings(1000, 150);
    expect((await checkLambdaConcurrency(clients, TARGET, deployed)).status).toBe('pass');
  });
});
