import { randomUUID } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Worker } from 'node:worker_threads';
import { build } from 'esbuild';
import { handlerBuildOptions } from '../../infra/constructs/lambda-bundling';

/** The project root, where `lambdas/<entry>/handler.ts` live. */
export const PROJECT_ROOT = resolve(__dirname, '..', '..');

/** What a function reported as its error, as Lambda reports `errorType` and `errorMessage`. */
export class FunctionError extends Error {
  constructor(
    readonly errorType: string,
    message: string,
  ) {
    super(message);
    this.name = errorType;
  }
}

/** A function of the synthesized template, mapped to its handler module. */
export interface LocalFunctionSpec {
  /** Name used in logs and as the Lambda function name. */
  name: string;
  /** Folder under `lambdas/` that holds `handler.ts`. */
  entry: string;
  arn: string;
  environment: Record<string, string>;
  timeoutSeconds: number;
  memoryMb: number;
  /** Sandboxes that may run at once (the function's concurrency). @default 4 */
  maxConcurrency?: number;
  /** Receives the handler's stdout and stderr (what Lambda ships to CloudWatch Logs); @default the terminal */
  onOutput?: (chunk: Buffer) => void;
}

/**
 * Bundles a handler exactly as `OrderPipelineFunction` deploys it (the shared esbuild settings of
 * infra/constructs/lambda-bundling.ts: ESM, SDK bundled) into `outDir`, so the local stack runs
 * the code that deploys.
 */
export async function bundleHandler(entry: string, outDir: string): Promise<string> {
  await mkdir(outDir, { recursive: true });
  const outfile = join(outDir, `${entry}.mjs`);
  await build({
    ...handlerBuildOptions(join(PROJECT_ROOT, 'lambdas', entry, 'handler.ts')),
    // Source maps inline so local stack traces point at the TypeScript.
    sourcemap: 'inline',
    outfile,
    logLevel: 'silent',
  });
  return outfile;
}

// Runs inside the worker: one Lambda "instance" with its own process.env, like a real sandbox.
const WORKER_BOOTSTRAP = `
const { parentPort, workerData } = require('node:worker_threads');
const { randomUUID } = require('node:crypto');
const { pathToFileURL } = require('node:url');
const loaded = import(pathToFileURL(workerData.bundle).href);
// An init error (a missing variable, say) is reported on each invocation, as Lambda does.
loaded.catch(() => undefined);
parentPort.on('message', async ({ id, event, timeoutMs }) => {
  const deadline = Date.now() + timeoutMs;
  const context = {
    functionName: workerData.name,
    functionVersion: '$LATEST',
    invokedFunctionArn: workerData.arn,
    memoryLimitInMB: String(workerData.memoryMb),
    awsRequestId: randomUUID(),
    logGroupName: '/aws/lambda/' + workerData.name,
    logStreamName: 'local',
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done() {}, fail() {}, succeed() {},
  };
  try {
    const handlerModule = await loaded;
    const result = await handlerModule.handler(event, context);
    parentPort.postMessage({ id, result: result === undefined ? null : result });
  } catch (error) {
    parentPort.postMessage({ id, error: { errorType: (error && error.name) || 'Error', errorMessage: String((error && error.message) || error) } });
  }
});
`;

interface Invocation {
  event: unknown;
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
}

/** One execution environment: a worker thread that runs one invocation at a time. */
interface Sandbox {
  worker: Worker;
  /** Environment generation it was started with (see {@link LocalFunction.updateEnvironment}). */
  generation: number;
  current?: { id: string; invocation: Invocation; timer: NodeJS.Timeout };
}

/** Sandboxes per function when the spec sets no limit: enough for the local stack's pollers. */
const DEFAULT_CONCURRENCY = 4;

/**
 * One function of the stack, running its bundled handler in worker threads with the environment
 * variables the template gives it. As on Lambda, each sandbox runs one invocation at a time
 * (handlers keep per-invocation state at module scope, such as Powertools' BatchProcessor), more
 * sandboxes start up to the function's concurrency, further invocations wait, and a sandbox that
 * crashes or times out is replaced by a fresh one.
 */
export class LocalFunction {
  private readonly sandboxes = new Set<Sandbox>();
  private readonly waiting: Invocation[] = [];
  private generation = 0;
  private stopped = false;

  constructor(
    readonly spec: LocalFunctionSpec,
    private readonly bundle: string,
  ) {}

  /** Invokes the handler with `event`; rejects with a FunctionError when the handler throws. */
  invoke(event: unknown): Promise<unknown> {
    if (this.stopped) {
      return Promise.reject(new FunctionError('Lambda.ServiceException', `${this.spec.name} is stopped`));
    }
    return new Promise((resolve, reject) => {
      this.waiting.push({ event, resolve, reject });
      this.dispatch();
    });
  }

  /**
   * Like Lambda's UpdateFunctionConfiguration: merges `variables` into the environment; new
   * invocations run in fresh sandboxes with it, while invocations already running finish in
   * their old sandbox, which is then retired.
   */
  updateEnvironment(variables: Readonly<Record<string, string>>): void {
    this.spec.environment = { ...this.spec.environment, ...variables };
    this.generation += 1;
    for (const sandbox of this.sandboxes) if (!sandbox.current) this.discard(sandbox);
    this.dispatch();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    const stopped = new FunctionError('Lambda.ServiceException', `${this.spec.name} stopped`);
    for (const invocation of this.waiting.splice(0)) invocation.reject(stopped);
    const sandboxes = [...this.sandboxes];
    this.sandboxes.clear();
    for (const sandbox of sandboxes) this.settle(sandbox, { error: stopped });
    await Promise.all(sandboxes.map((sandbox) => sandbox.worker.terminate()));
  }

  private get concurrency(): number {
    return this.spec.maxConcurrency ?? DEFAULT_CONCURRENCY;
  }

  private dispatch(): void {
    while (!this.stopped && this.waiting.length > 0) {
      let sandbox = [...this.sandboxes].find(
        (candidate) => !candidate.current && candidate.generation === this.generation,
      );
      if (!sandbox) {
        if (this.sandboxes.size >= this.concurrency) return;
        sandbox = this.startSandbox();
      }
      const invocation = this.waiting.shift();
      if (invocation) this.run(sandbox, invocation);
    }
  }

  private run(sandbox: Sandbox, invocation: Invocation): void {
    const id = randomUUID();
    const timeoutMs = this.spec.timeoutSeconds * 1000;
    const timer = setTimeout(() => {
      // Lambda ends a timed-out sandbox; the next invocation gets a fresh one.
      this.discard(sandbox);
      this.settle(sandbox, {
        error: new FunctionError(
          'Sandbox.Timedout',
          `Task timed out after ${this.spec.timeoutSeconds} seconds`,
        ),
      });
    }, timeoutMs + 50);
    sandbox.current = { id, invocation, timer };
    sandbox.worker.postMessage({ id, event: invocation.event, timeoutMs });
  }

  private settle(sandbox: Sandbox, outcome: { result?: unknown; error?: Error }): void {
    const current = sandbox.current;
    if (!current) return;
    sandbox.current = undefined;
    clearTimeout(current.timer);
    if (outcome.error) current.invocation.reject(outcome.error);
    else current.invocation.resolve(outcome.result);
    if (sandbox.generation !== this.generation) this.discard(sandbox);
    this.dispatch();
  }

  private discard(sandbox: Sandbox): void {
    this.sandboxes.delete(sandbox);
    void sandbox.worker.terminate();
  }

  private startSandbox(): Sandbox {
    const onOutput = this.spec.onOutput;
    const worker = new Worker(WORKER_BOOTSTRAP, {
      eval: true,
      stdout: onOutput !== undefined,
      stderr: onOutput !== undefined,
      env: this.spec.environment,
      workerData: {
        bundle: this.bundle,
        name: this.spec.name,
        arn: this.spec.arn,
        memoryMb: this.spec.memoryMb,
      },
    });
    if (onOutput) {
      worker.stdout.on('data', onOutput);
      worker.stderr.on('data', onOutput);
    }
    const sandbox: Sandbox = { worker, generation: this.generation };
    worker.on(
      'message',
      (message: { id: string; result?: unknown; error?: { errorType: string; errorMessage: string } }) => {
        if (message.id !== sandbox.current?.id) return;
        this.settle(
          sandbox,
          message.error
            ? { error: new FunctionError(message.error.errorType, message.error.errorMessage) }
            : { result: message.result },
        );
      },
    );
    const crashed = (error: Error) => {
      if (!this.sandboxes.delete(sandbox)) return;
      this.settle(sandbox, {
        error: new FunctionError('Runtime.ExitError', `${this.spec.name} crashed: ${error.message}`),
      });
    };
    worker.on('error', crashed);
    worker.on('exit', (code) => crashed(new Error(`exit code ${code}`)));
    this.sandboxes.add(sandbox);
    return sandbox;
  }
}
