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

interface Pending {
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

/**
 * One function of the stack, running its bundled handler in a worker thread with the
 * environment variables the template gives it. A crashed worker is replaced, as Lambda would
 * start a fresh sandbox.
 */
export class LocalFunction {
  private worker: Worker | undefined;
  private readonly pending = new Map<string, Pending>();
  /** Invocation ids in flight on each worker, so a retired worker can finish its own. */
  private readonly inFlight = new Map<Worker, Set<string>>();
  private readonly retired = new Set<Worker>();
  private stopped = false;

  constructor(
    readonly spec: LocalFunctionSpec,
    private readonly bundle: string,
  ) {}

  /** Invokes the handler with `event`; rejects with a FunctionError when the handler throws. */
  invoke(event: unknown): Promise<unknown> {
    if (this.stopped)
      return Promise.reject(new FunctionError('Lambda.ServiceException', `${this.spec.name} is stopped`));
    const worker = this.ensureWorker();
    const id = randomUUID();
    const timeoutMs = this.spec.timeoutSeconds * 1000;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(
          new FunctionError('Sandbox.Timedout', `Task timed out after ${this.spec.timeoutSeconds} seconds`),
        );
      }, timeoutMs + 50);
      this.pending.set(id, { resolve, reject, timer });
      this.inFlight.get(worker)?.add(id);
      worker.postMessage({ id, event, timeoutMs });
    });
  }

  /**
   * Like Lambda's UpdateFunctionConfiguration: merges `variables` into the environment; the next
   * invocation starts a fresh worker with it, while invocations already running finish on the
   * old worker, which is then retired.
   */
  updateEnvironment(variables: Readonly<Record<string, string>>): void {
    this.spec.environment = { ...this.spec.environment, ...variables };
    const old = this.worker;
    this.worker = undefined;
    if (old) this.retire(old);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.failPending(new FunctionError('Lambda.ServiceException', `${this.spec.name} stopped`));
    await Promise.all([...this.inFlight.keys()].map((worker) => worker.terminate()));
    this.inFlight.clear();
    this.worker = undefined;
  }

  private retire(worker: Worker): void {
    this.retired.add(worker);
    if ((this.inFlight.get(worker)?.size ?? 0) === 0) {
      this.inFlight.delete(worker);
      void worker.terminate();
    }
  }

  private ensureWorker(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(WORKER_BOOTSTRAP, {
      eval: true,
      env: this.spec.environment,
      workerData: {
        bundle: this.bundle,
        name: this.spec.name,
        arn: this.spec.arn,
        memoryMb: this.spec.memoryMb,
      },
    });
    worker.on(
      'message',
      (message: { id: string; result?: unknown; error?: { errorType: string; errorMessage: string } }) => {
        const running = this.inFlight.get(worker);
        running?.delete(message.id);
        if (running?.size === 0 && this.retired.has(worker)) this.retire(worker);
        const pending = this.pending.get(message.id);
        if (!pending) return;
        this.pending.delete(message.id);
        clearTimeout(pending.timer);
        if (message.error)
          pending.reject(new FunctionError(message.error.errorType, message.error.errorMessage));
        else pending.resolve(message.result);
      },
    );
    const replace = (error: Error) => {
      if (this.worker === worker) this.worker = undefined;
      this.failPending(
        new FunctionError('Runtime.ExitError', `${this.spec.name} crashed: ${error.message}`),
        this.inFlight.get(worker),
      );
    };
    worker.on('error', replace);
    worker.on('exit', (code) => {
      const retired = this.retired.delete(worker);
      if (!this.stopped && !retired && code !== 0) replace(new Error(`exit code ${code}`));
      else if (this.worker === worker) this.worker = undefined;
      this.inFlight.delete(worker);
    });
    this.inFlight.set(worker, new Set());
    this.worker = worker;
    return worker;
  }

  /** Fails the invocations `ids` (default: all) are waiting for. */
  private failPending(error: Error, ids?: ReadonlySet<string>): void {
    for (const [id, pending] of this.pending) {
      if (ids !== undefined && !ids.has(id)) continue;
      clearTimeout(pending.timer);
      pending.reject(error);
      this.pending.delete(id);
    }
  }
}
