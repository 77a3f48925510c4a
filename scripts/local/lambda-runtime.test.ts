import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FunctionError, LocalFunction, passesLogFilter, type LocalFunctionSpec } from './lambda-runtime';

// A handler that reports its sandbox, how many of its invocations overlapped, and its env.
const HANDLER = `
const sandbox = Math.random().toString(36).slice(2);
let active = 0;
export const handler = async (event) => {
  active += 1;
  const overlapping = active;
  await new Promise((resolve) => setTimeout(resolve, event.sleepMs ?? 20));
  active -= 1;
  if (event.fail) throw Object.assign(new Error('boom'), { name: 'OrderRejected' });
  return { sandbox, overlapping, mode: process.env.MODE };
};
`;

function localFunction(overrides: Partial<LocalFunctionSpec> = {}): LocalFunction {
  const dir = mkdtempSync(join(tmpdir(), 'local-fn-'));
  const bundle = join(dir, 'handler.mjs');
  writeFileSync(bundle, HANDLER);
  return new LocalFunction(
    {
      name: 'probe',
      entry: 'probe',
      arn: 'arn:aws:lambda:us-east-1:123456789012:function:probe',
      environment: { MODE: 'first' },
      timeoutSeconds: 2,
      memoryMb: 128,
      maxConcurrency: 2,
      ...overrides,
    },
    bundle,
  );
}

interface ProbeResult {
  sandbox: string;
  overlapping: number;
  mode: string;
}

describe('LocalFunction', () => {
  let fn: LocalFunction;

  afterEach(async () => {
    await fn?.stop();
  });

  it('runs one invocation at a time per sandbox and no more sandboxes than its concurrency', async () => {
    // Prepare
    fn = localFunction();
    // Act
    const results = (await Promise.all(Array.from({ length: 8 }, () => fn.invoke({})))) as ProbeResult[];
    // Assess
    expect(results.map((result) => result.overlapping)).toEqual(Array(8).fill(1));
    expect(new Set(results.map((result) => result.sandbox)).size).toBe(2);
  });

  it("rejects with the handler's error type, as Lambda reports errorType", async () => {
    // Prepare
    fn = localFunction();
    // Act / Assess
    await expect(fn.invoke({ fail: true })).rejects.toMatchObject({
      errorType: 'OrderRejected',
      message: 'boom',
    });
  });

  it('times an invocation out and replaces its sandbox', async () => {
    // Prepare
    fn = localFunction({ timeoutSeconds: 1, maxConcurrency: 1 });
    const before = (await fn.invoke({})) as ProbeResult;
    // Act
    const timedOut = fn.invoke({ sleepMs: 3000 });
    // Assess
    await expect(timedOut).rejects.toBeInstanceOf(FunctionError);
    await expect(timedOut).rejects.toMatchObject({ errorType: 'Sandbox.Timedout' });
    const after = (await fn.invoke({})) as ProbeResult;
    expect(after.sandbox).not.toBe(before.sandbox);
  });

  it('runs new invocations with an updated environment, like UpdateFunctionConfiguration', async () => {
    // Prepare
    fn = localFunction();
    expect(((await fn.invoke({})) as ProbeResult).mode).toBe('first');
    // Act
    fn.updateEnvironment({ MODE: 'second' });
    // Assess
    expect(((await fn.invoke({})) as ProbeResult).mode).toBe('second');
  });

  it('refuses invocations once stopped', async () => {
    // Prepare
    fn = localFunction();
    await fn.stop();
    // Act / Assess
    await expect(fn.invoke({})).rejects.toMatchObject({ errorType: 'Lambda.ServiceException' });
  });
});

describe('LocalFunction versions and alias', () => {
  let fn: LocalFunction;

  afterEach(async () => {
    await fn?.stop();
  });

  it('routes the weight of the alias to the additional version, each version with its environment', async () => {
    // Prepare: a "random" source that alternates below and above the 0.5 weight
    const draws = [0.2, 0.8, 0.2, 0.8];
    const dir = mkdtempSync(join(tmpdir(), 'local-fn-'));
    const bundle = join(dir, 'handler.mjs');
    writeFileSync(bundle, HANDLER);
    fn = new LocalFunction(
      {
        name: 'probe',
        entry: 'probe',
        arn: 'arn:aws:lambda:us-east-1:123456789012:function:probe',
        environment: { MODE: 'base' },
        timeoutSeconds: 2,
        memoryMb: 128,
        maxConcurrency: 2,
      },
      bundle,
      () => draws.shift() ?? 0.9,
    );
    const one = fn.publishVersion();
    const two = fn.publishVersion({ MODE: 'second' });
    fn.setAlias({ name: 'live', version: one, additionalVersion: { version: two, weight: 0.5 } });
    const seen: string[] = [];
    fn.observer = {
      started: () => undefined,
      finished: (_fn, outcome) => seen.push(`${outcome.resource}@${outcome.executedVersion}`),
      output: () => false,
    };
    // Act
    const modes: string[] = [];
    for (let i = 0; i < 4; i += 1) modes.push(((await fn.invoke({})) as ProbeResult).mode);
    // Assess
    expect(modes).toEqual(['second', 'base', 'second', 'base']);
    expect(seen).toEqual(['probe:live@2', 'probe:live@1', 'probe:live@2', 'probe:live@1']);
  });

  it('throttles at the concurrency limit when told to, without running the handler', async () => {
    // Prepare
    fn = localFunction({ maxConcurrency: 1, throttleWhenBusy: true });
    const throttled: boolean[] = [];
    fn.observer = {
      started: () => undefined,
      finished: (_fn, outcome) => throttled.push(outcome.throttled),
      output: () => false,
    };
    // Act
    const results = await Promise.allSettled([fn.invoke({ sleepMs: 200 }), fn.invoke({})]);
    // Assess
    expect(results[0].status).toBe('fulfilled');
    expect(results[1]).toMatchObject({
      status: 'rejected',
      reason: { errorType: 'Lambda.TooManyRequestsException' },
    });
    expect(throttled.sort()).toEqual([false, true]);
  });

  it("filters output lines at Lambda's application log level, and tells the sandbox the level", async () => {
    // Prepare: an EMF blob (no level), an INFO line, a WARN line and plain text
    const dir = mkdtempSync(join(tmpdir(), 'local-fn-'));
    const bundle = join(dir, 'handler.mjs');
    writeFileSync(
      bundle,
      `export const handler = async () => {
  process.stdout.write('{"_aws":{"CloudWatchMetrics":[]},"Orders":1}\\n');
  process.stdout.write('{"level":"INFO","message":"info","timestamp":"2026-12-08T01:00:00.000Z"}\\n');
  process.stdout.write('{"level":"WARN","message":"warn","timestamp":"2026-12-08T01:00:00.000Z"}\\n');
  process.stderr.write('{"level":"WARN","message":"warn on stderr","timestamp":"2026-12-08T01:00:00.000Z"}\\n');
  process.stderr.write('{"level":"INFO","message":"info on stderr","timestamp":"2026-12-08T01:00:00.000Z"}\\n');
  process.stdout.write('plain text\\n');
  return [process.env.AWS_LAMBDA_LOG_FORMAT, process.env.AWS_LAMBDA_LOG_LEVEL];
};\n`,
    );
    const run = async (applicationLogLevel?: string) => {
      fn = new LocalFunction(
        {
          name: 'logs',
          entry: 'logs',
          arn: 'arn:aws:lambda:us-east-1:123456789012:function:logs',
          environment: {},
          timeoutSeconds: 2,
          memoryMb: 128,
          applicationLogLevel,
          onOutput: (chunk) => stderr.push(String(chunk)),
        },
        bundle,
      );
      const lines: string[] = [];
      const stderr: string[] = [];
      fn.observer = {
        started: () => undefined,
        finished: () => undefined,
        output: (_fn, line) => !!lines.push(line),
      };
      const result = await fn.invoke({});
      await new Promise((resolve) => setTimeout(resolve, 50));
      await fn.stop();
      const errors = stderr
        .join('')
        .split('\n')
        .filter((line) => line.includes('on stderr'));
      return { result, lines, errors };
    };

    // Act
    const atWarn = await run('WARN');
    const atInfo = await run('INFO');
    const text = await run(undefined);

    // Assess: at WARN only the WARN line is left: the EMF blob counts as INFO and is dropped
    expect(atWarn.result).toEqual(['JSON', 'WARN']);
    expect(atWarn.lines).toEqual([
      '{"level":"WARN","message":"warn","timestamp":"2026-12-08T01:00:00.000Z"}',
    ]);
    expect(atWarn.errors).toEqual([
      '{"level":"WARN","message":"warn on stderr","timestamp":"2026-12-08T01:00:00.000Z"}',
    ]);
    expect(atInfo.lines).toHaveLength(4);
    expect(atInfo.errors).toHaveLength(2);
    expect(text.result).toEqual([undefined, undefined]);
    expect(text.lines).toHaveLength(4);
  });

  it('reads a line without a valid level, or without an RFC 3339 timestamp, as INFO', () => {
    const at = '"timestamp":"2026-12-08T01:00:00.000Z"';
    expect(passesLogFilter(`{"level":"DEBUG",${at}}`, 'INFO')).toBe(false);
    expect(passesLogFilter(`{"level":"ERROR",${at}}`, 'WARN')).toBe(true);
    expect(passesLogFilter('{"level":"ERROR"}', 'WARN')).toBe(false);
    expect(passesLogFilter('{"level":"ERROR","timestamp":"yesterday"}', 'WARN')).toBe(false);
    expect(passesLogFilter(`{"level":"nonsense",${at}}`, 'INFO')).toBe(true);
    expect(passesLogFilter(`{"level":"nonsense",${at}}`, 'WARN')).toBe(false);
    expect(passesLogFilter(`{"level":"CRITICAL",${at}}`, 'WARN')).toBe(false);
    expect(passesLogFilter('START RequestId', 'WARN')).toBe(false);
    expect(passesLogFilter('anything', undefined)).toBe(true);
  });

  it('starts the timeout after init, as Lambda does not count the init phase', async () => {
    // Prepare: a module that takes 1.5 s to load, with a 1 s timeout
    const dir = mkdtempSync(join(tmpdir(), 'local-fn-'));
    const bundle = join(dir, 'handler.mjs');
    writeFileSync(
      bundle,
      `await new Promise((r) => setTimeout(r, 1500));\nexport const handler = async () => 'ok';\n`,
    );
    fn = new LocalFunction(
      {
        name: 'slow-init',
        entry: 'slow-init',
        arn: 'arn:aws:lambda:us-east-1:123456789012:function:slow-init',
        environment: {},
        timeoutSeconds: 1,
        memoryMb: 128,
      },
      bundle,
    );
    // Act / Assess
    await expect(fn.invoke({})).resolves.toBe('ok');
  });
});
