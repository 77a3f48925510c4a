import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { IAMClient } from '@aws-sdk/client-iam';
import { GetAccountSettingsCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { SSMClient } from '@aws-sdk/client-ssm';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { PREFLIGHT_HELP } from './help';
import { CHECKS, formatResult, formatTotals, runPreflight } from './run';
import { TARGET, testClients } from './testing';

const sts = mockClient(STSClient);
const cloudFormation = mockClient(CloudFormationClient);
const lambda = mockClient(LambdaClient);
const ssm = mockClient(SSMClient);
const iam = mockClient(IAMClient);
const clients = testClients();

afterEach(() => {
  for (const mock of [sts, cloudFormation, lambda, ssm, iam]) mock.reset();
});

describe('runPreflight', () => {
  it('reports every check once, in the documented order', async () => {
    sts.on(GetCallerIdentityCommand).resolves({ Account: '222222222222' });
    cloudFormation.on(DescribeStacksCommand).resolves({ Stacks: [] });
    const results = await runPreflight(clients, TARGET);
    expect(results.map((result) => result.check)).toEqual(CHECKS.map((check) => check.id));
  });

  it('after a failed credentials check, runs only the checks of the configuration', async () => {
    sts.on(GetCallerIdentityCommand).resolves({ Account: '999999999999' });
    const results = await runPreflight(clients, TARGET);
    const byId = Object.fromEntries(results.map((result) => [result.check, result]));
    expect(byId.credentials?.status).toBe('fail');
    expect(byId['bootstrap.version']).toMatchObject({
      status: 'skip',
      summary: 'not run: the credentials check failed',
    });
    expect(byId['stress.workflow-rate']?.status).toBe('pass');
    expect(cloudFormation.commandCalls(DescribeStacksCommand)).toHaveLength(0);
  });

  it('on the emulator, skips with its reason every check moto cannot answer instead of calling it', async () => {
    sts.on(GetCallerIdentityCommand).resolves({ Account: '222222222222' });
    lambda.on(GetAccountSettingsCommand).rejects(new Error('moto has no such API'));
    const readStack = async () => ({
      result: { check: 'stack', status: 'pass' as const, summary: 'local' },
      deployed: { status: 'RUNNING', outputs: {} },
    });
    const results = await runPreflight(clients, { ...TARGET, platform: 'local' }, { readStack });
    for (const check of CHECKS.filter((description) => description.notOnEmulator)) {
      expect(results.find((result) => result.check === check.id)).toEqual({
        check: check.id,
        status: 'skip',
        summary: check.notOnEmulator,
      });
    }
    expect(lambda.commandCalls(GetAccountSettingsCommand)).toHaveLength(0);
    expect(cloudFormation.commandCalls(DescribeStacksCommand)).toHaveLength(0);
  });

  it('reports a check skipped on request without calling it', async () => {
    sts.on(GetCallerIdentityCommand).resolves({ Account: '222222222222' });
    cloudFormation.on(DescribeStacksCommand).resolves({ Stacks: [] });
    const results = await runPreflight(clients, TARGET, { skip: ['lambda.concurrency'] });
    expect(results.find((result) => result.check === 'lambda.concurrency')).toEqual({
      check: 'lambda.concurrency',
      status: 'skip',
      summary: 'skipped on request (--skip)',
    });
    expect(lambda.commandCalls(GetAccountSettingsCommand)).toHaveLength(0);
  });
});

describe('formatting', () => {
  it('marks each line and puts the fix under a failure', () => {
    expect(formatResult({ check: 'stack', status: 'pass', summary: 'ok' }, 6)).toBe('✓ stack  ok');
    expect(formatResult({ check: 'stack', status: 'fail', summary: 'bad', fix: 'do x' }, 6)).toBe(
      '✗ stack  bad\n         fix: do x',
    );
    expect(
      formatTotals([
        { check: 'a', status: 'pass', summary: '' },
        { check: 'b', status: 'fail', summary: '', fix: 'x' },
        { check: 'c', status: 'skip', summary: '' },
      ]),
    ).toBe('1 passed, 1 failed, 1 skipped');
  });
});

describe('--help', () => {
  it('documents every check with its call, and what the emulator skips', () => {
    for (const check of CHECKS) {
      expect(PREFLIGHT_HELP).toContain(`\n  ${check.id}\n`);
      expect(PREFLIGHT_HELP.replace(/\s+/g, ' ')).toContain(check.verifies);
      if (check.notOnEmulator) expect(PREFLIGHT_HELP.replace(/\s+/g, ' ')).toContain(check.notOnEmulator);
    }
    expect(PREFLIGHT_HELP).toMatch(/--env E/);
    expect(PREFLIGHT_HELP).toMatch(/Exit status: 0 no check failed; 1 a check failed/);
    expect(PREFLIGHT_HELP.split('\n').every((line) => line.length <= 100)).toBe(true);
  });
});
