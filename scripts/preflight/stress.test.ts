import { GetAccountSettingsCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import {
  checkStressConcurrency,
  checkStressWaf,
  checkStressWorkflowRate,
  requestsPerWafWindow,
  startExecutionBucket,
} from './stress';
import { TARGET, testClients } from './testing';
import type { PreflightTarget } from './types';

const lambda = mockClient(LambdaClient);
const clients = testClients();

afterEach(() => lambda.reset());

const withStress = (stress: Partial<PreflightTarget['stress']>): PreflightTarget => ({
  ...TARGET,
  stress: { ...TARGET.stress, ...stress },
});

describe('checkStressConcurrency', () => {
  it('passes when the publisher reserves at least the requests in flight', async () => {
    const result = await checkStressConcurrency(clients, TARGET);
    expect(result).toMatchObject({
      status: 'pass',
      summary: 'publisher reserves 50 >= 50 requests in flight',
    });
    expect(lambda.commandCalls(GetAccountSettingsCommand)).toHaveLength(0);
  });

  it('fails when the publisher reserves less than the profile keeps in flight', async () => {
    const result = await checkStressConcurrency(clients, withStress({ concurrency: 51 }));
    expect(result.status).toBe('fail');
    expect(result.summary).toContain('reserves 50, the profile keeps 51');
  });

  it('without a reservation, compares with the pool the reservations leave', async () => {
    const unreserved = {
      ...TARGET,
      concurrency: { reservations: [{ name: 'billing', reserved: 20 }] },
    };
    lambda.on(GetAccountSettingsCommand).resolves({ AccountLimit: { ConcurrentExecutions: 60 } });
    const low = await checkStressConcurrency(clients, unreserved);
    expect(low.status).toBe('fail');
    expect(low.summary).toContain('quota 60 - 20 reserved = 40 < 50');
    lambda.on(GetAccountSettingsCommand).resolves({ AccountLimit: { ConcurrentExecutions: 1000 } });
    expect((await checkStressConcurrency(clients, unreserved)).status).toBe('pass');
  });
});

describe('checkStressWorkflowRate', () => {
  it('uses the documented StartExecution buckets', () => {
    expect(startExecutionBucket('EXPRESS', 'ap-south-2')).toEqual({ size: 6000, refillPerSecond: 6000 });
    expect(startExecutionBucket('STANDARD', 'eu-west-1')).toEqual({ size: 1000, refillPerSecond: 200 });
    expect(startExecutionBucket('STANDARD', 'eu-central-1')).toEqual({ size: 500, refillPerSecond: 25 });
  });

  it('passes a rate under the Express refill', () => {
    expect(checkStressWorkflowRate(TARGET).status).toBe('pass');
  });

  it('fails a rate over the Standard refill of the region', () => {
    const result = checkStressWorkflowRate(withStress({ workflowType: 'STANDARD', ratePerSecond: 300 }));
    expect(result.status).toBe('fail');
    expect(result.fix).toContain('200/s');
  });

  it('without a rate, fails when a plausible request time would exceed the refill', () => {
    // 50 in flight against 25/s: any request quicker than 2 s exceeds it.
    const standard = checkStressWorkflowRate({
      ...withStress({ workflowType: 'STANDARD', ratePerSecond: 0 }),
      region: 'eu-central-1',
    });
    expect(standard.status).toBe('fail');
    expect(standard.summary).toContain('quicker than 2000 ms');
    expect(checkStressWorkflowRate(withStress({ ratePerSecond: 0 })).status).toBe('pass');
  });
});

describe('checkStressWaf', () => {
  it('counts the requests of one run in a 5-minute window', () => {
    expect(requestsPerWafWindow({ orders: 5000, ratePerSecond: 100 })).toBe(5000);
    expect(requestsPerWafWindow({ orders: 50_000, ratePerSecond: 100 })).toBe(30_000);
    expect(requestsPerWafWindow({ orders: 200, ratePerSecond: 0 })).toBe(200);
  });

  it('fails when a rerun right after a run would be blocked (a limit equals one run)', () => {
    const result = checkStressWaf(withStress({ waf: { perIp: 5000, perClient: 20_000 } }));
    expect(result.status).toBe('fail');
    expect(result.summary).toContain('5000 requests');
    expect(result.summary).toContain('per-IP limit 5000');
    expect(result.summary).not.toContain('per-client');
    expect(result.fix).toContain('at least 10000');
    const client = checkStressWaf(withStress({ waf: { perIp: 20_000, perClient: 9_999 } }));
    expect(client.status).toBe('fail');
    expect(client.summary).toContain('per-client limit 9999');
  });

  it('passes when two runs fit both limits, and skips without a WAF', () => {
    expect(checkStressWaf(withStress({ waf: { perIp: 10_000, perClient: 10_000 } })).status).toBe('pass');
    expect(checkStressWaf(withStress({ waf: undefined })).status).toBe('skip');
  });
});
