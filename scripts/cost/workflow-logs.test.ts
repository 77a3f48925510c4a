import { loadEnvironment } from '../../environments';
import { synthesizeEnvironment, type CfnTemplate } from '../../infra/stacks/synthesize';
import { levelWrites, measureWorkflowLogs } from './workflow-logs';

const SYNTH_TIMEOUT_MS = 120_000;

describe('workflow logs, from a run of the synthesized ASL', () => {
  const config = loadEnvironment('prod');
  let template: CfnTemplate;
  beforeAll(() => {
    template = synthesizeEnvironment(config, { bundling: false }).template;
  }, SYNTH_TIMEOUT_MS);

  it('writes every history event of a valid order at ALL, with its input and output', async () => {
    const run = await measureWorkflowLogs(template, config, {
      level: 'ALL',
      includeExecutionData: true,
      path: 'valid',
    });
    expect(run.events.length).toBe(run.historyEvents);
    expect(run.events[0]?.type).toBe('ExecutionStarted');
    expect(run.events.at(-1)?.type).toBe('ExecutionSucceeded');
    expect(run.events.map((e) => e.type)).toEqual(
      expect.arrayContaining(['TaskScheduled', 'LambdaFunctionSucceeded']),
    );
    expect(
      run.events.some((e) => typeof e.details.input === 'string' && e.details.input.includes('cust-1')),
    ).toBe(true);
    // Each event is billed as its JSON plus 26 bytes.
    const bytes = run.events.reduce((n, e) => n + Buffer.byteLength(JSON.stringify(e)) + 26, 0);
    expect(run.billedBytes).toBe(bytes);
  });

  it('leaves the order out without execution data, and writes nothing for a valid order at ERROR', async () => {
    const withData = await measureWorkflowLogs(template, config, {
      level: 'ALL',
      includeExecutionData: true,
      path: 'valid',
    });
    const without = await measureWorkflowLogs(template, config, {
      level: 'ALL',
      includeExecutionData: false,
      path: 'valid',
    });
    expect(without.events.length).toBe(withData.events.length);
    expect(without.billedBytes).toBeLessThan(withData.billedBytes / 2);
    expect(JSON.stringify(without.events)).not.toContain('cust-1');
    const errorsOnly = await measureWorkflowLogs(template, config, {
      level: 'ERROR',
      includeExecutionData: false,
      path: 'valid',
    });
    expect(errorsOnly.events).toEqual([]);
    expect(errorsOnly.billedBytes).toBe(0);
  });

  it('writes the failure events of a failed execution at ERROR and only its end at FATAL', async () => {
    const error = await measureWorkflowLogs(template, config, {
      level: 'ERROR',
      includeExecutionData: false,
      path: 'failed',
    });
    expect(error.events.map((e) => e.type)).toEqual([
      'LambdaFunctionFailed',
      'FailStateEntered',
      'ExecutionFailed',
    ]);
    const fatal = await measureWorkflowLogs(template, config, {
      level: 'FATAL',
      includeExecutionData: false,
      path: 'failed',
    });
    expect(fatal.events.map((e) => e.type)).toEqual(['ExecutionFailed']);
  });

  it('follows the documented level filter', () => {
    expect(levelWrites('ALL', 'TaskStateEntered')).toBe(true);
    expect(levelWrites('ERROR', 'TaskStateEntered')).toBe(false);
    expect(levelWrites('ERROR', 'TaskFailed')).toBe(true);
    expect(levelWrites('FATAL', 'TaskFailed')).toBe(false);
    expect(levelWrites('OFF', 'ExecutionFailed')).toBe(false);
  });
});
