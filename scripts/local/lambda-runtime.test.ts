import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FunctionError, LocalFunction, type LocalFunctionSpec } from './lambda-runtime';

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
