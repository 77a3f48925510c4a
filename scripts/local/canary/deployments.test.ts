import { ManualClock } from '../metrics/clock';
import type { AliasRouting, LocalFunction } from '../lambda-runtime';
import { LocalDeployer, trafficShiftOf, type DeploymentGroupSpec } from './deployments';

/** The part of a LocalFunction a deployment uses: its alias. */
function aliasedFunction(): LocalFunction & { history: AliasRouting[] } {
  const history: AliasRouting[] = [];
  let routing: AliasRouting = { name: 'live', version: '1' };
  return {
    spec: { name: 'publisher' },
    history,
    get alias() {
      return routing;
    },
    setAlias(next: AliasRouting) {
      routing = next;
      history.push(next);
    },
  } as unknown as LocalFunction & { history: AliasRouting[] };
}

const group = (alarmNames: string[]): DeploymentGroupSpec => ({
  logicalId: 'PublisherDeployment',
  functionName: 'publisher',
  shift: trafficShiftOf('CodeDeployDefault.LambdaCanary10Percent5Minutes'),
  alarmNames,
  rollbackOnAlarm: true,
});

describe('trafficShiftOf', () => {
  it('reads the predefined Lambda deployment configurations', () => {
    expect(trafficShiftOf('CodeDeployDefault.LambdaCanary10Percent5Minutes')).toEqual({
      firstStep: 0.1,
      intervalMs: 300_000,
      linear: false,
    });
    expect(trafficShiftOf('CodeDeployDefault.LambdaLinear10PercentEvery1Minute')).toEqual({
      firstStep: 0.1,
      intervalMs: 60_000,
      linear: true,
    });
    expect(trafficShiftOf('CodeDeployDefault.LambdaAllAtOnce').firstStep).toBe(1);
    expect(() => trafficShiftOf('Custom')).toThrow(/unknown/);
  });
});

describe('LocalDeployer', () => {
  it('sends 10 % to the new version, then everything after 5 minutes when no alarm fires', async () => {
    // Prepare
    const clock = new ManualClock(0);
    const fn = aliasedFunction();
    // Act
    const result = await new LocalDeployer(clock, () => 'OK').deploy(fn, group(['a']), '2');
    // Assess
    expect(result.status).toBe('Succeeded');
    expect(fn.history).toEqual([
      { name: 'live', version: '1', additionalVersion: { version: '2', weight: 0.1 } },
      { name: 'live', version: '2' },
    ]);
    expect(result.durationMs).toBe(300_000);
  });

  it('points the alias back at the old version when a group alarm goes to ALARM during the shift', async () => {
    // Prepare
    const clock = new ManualClock(0);
    const fn = aliasedFunction();
    const state = (name: string) => (name === 'b' && clock.now() >= 120_000 ? 'ALARM' : 'OK');
    // Act
    const result = await new LocalDeployer(clock, state).deploy(fn, group(['a', 'b']), '2');
    // Assess
    expect(result).toMatchObject({ status: 'RolledBack', alarmsInAlarm: ['b'] });
    expect(fn.alias).toEqual({ name: 'live', version: '1' });
    expect(result.durationMs).toBe(120_000);
  });

  it('does not start while a group alarm is already in ALARM', async () => {
    const fn = aliasedFunction();
    const result = await new LocalDeployer(new ManualClock(0), () => 'ALARM').deploy(fn, group(['a']), '2');
    expect(result.status).toBe('Stopped');
    expect(fn.history).toEqual([]);
  });
});
