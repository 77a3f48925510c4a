import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { DEPLOYED_ENVIRONMENTS } from '../../environments/delivery';
import { principalName } from '../../scripts/local/calls/principals';
import type { Recording } from '../../scripts/local/calls/recorder';
import { PROJECT_ROOT } from '../../scripts/local/lambda-runtime';
import { recordScenarios, SCENARIOS } from '../../scripts/iam/scenarios';
import { verifyRecording, type VerifyResult } from '../../scripts/iam/verify';

// The scenarios take about 2.5 minutes (the DLQ path alone is maxReceiveCount x the 12 s visibility
// timeout); evaluating three environments about a minute.
jest.setTimeout(600_000);

describe('least privilege, proven by execution (npm run verify:iam)', () => {
  let recording: Recording;
  let result: VerifyResult;

  beforeAll(async () => {
    recording = await recordScenarios();
    // Saved where `npm run verify:iam` reads it.
    const file = join(PROJECT_ROOT, '.local', 'iam', 'calls.json');
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, `${JSON.stringify(recording, null, 1)}\n`);
    result = await verifyRecording(recording, { environments: DEPLOYED_ENVIRONMENTS });
  }, 600_000);

  it('recorded every scenario and every principal of the issue, and no request it could not authorize', () => {
    // Assess
    expect(recording.scenarios).toEqual(expect.arrayContaining([...SCENARIOS]));
    const principals = new Set(recording.calls.map((call) => principalName(call.principal)));
    for (const expected of [
      'operator',
      'post-deploy',
      'service:sns.amazonaws.com',
      'service:cloudwatch.amazonaws.com',
      'service:elasticloadbalancing.amazonaws.com',
    ])
      expect(principals).toContain(expected);
    // Validate makes no AWS call of its own (the state machine invokes it).
    for (const role of ['Publisher', 'Billing', 'Archive', 'Dlq'])
      expect([...principals].some((name) => name.startsWith(`role:${role}FunctionRole`))).toBe(true);
    expect([...principals].some((name) => name.startsWith('role:WorkflowStateMachineRole'))).toBe(true);
    expect(
      recording.calls.some((call) => call.action.startsWith('kms:') && call.context['kms:ViaService']),
    ).toBe(true);
    expect(recording.unparsed).toEqual([]);
  });

  it('denies no recorded call in dev, staging or prod', () => {
    // Assess
    expect({ denied: result.denied, report: result.denied ? result.lines : [] }).toEqual({
      denied: 0,
      report: [],
    });
  });

  it('leaves no unused grant or endpoint unacknowledged, and no acknowledgement stale', () => {
    // Assess
    expect({ unused: result.unused, stale: result.stale }).toEqual({ unused: [], stale: [] });
  });

  it('bites with --without dynamodb:UpdateItem: the consumers, the DLQ handler and the workflow are denied', async () => {
    // Act
    const without = await verifyRecording(recording, {
      environments: ['dev'],
      without: ['dynamodb:UpdateItem'],
    });
    // Assess
    expect(without.ok).toBe(false);
    // Only the calls the removal denies (not those the policies deny anyway, reported by the test above).
    const key = (verdict: { principal: string; action: string; resource: string }) =>
      `${verdict.principal} ${verdict.action} ${verdict.resource}`;
    const dev = result.evaluations.find((evaluation) => evaluation.environment === 'dev');
    const deniedAnyway = new Set(dev?.verdicts.filter((verdict) => !verdict.allowed).map(key));
    const denied = without.evaluations[0]!.verdicts.filter(
      (verdict) => !verdict.allowed && !deniedAnyway.has(key(verdict)),
    );
    expect(new Set(denied.map((verdict) => verdict.action))).toEqual(new Set(['dynamodb:UpdateItem']));
    expect(without.lines.join('\n')).toMatch(/DENIED/);
    for (const role of ['Billing', 'Archive', 'Dlq'])
      expect(denied.some((verdict) => verdict.principal.startsWith(`role:${role}FunctionRole`))).toBe(true);
    expect(denied.some((verdict) => verdict.principal.startsWith('role:WorkflowStateMachineRole'))).toBe(
      true,
    );
  });
});
