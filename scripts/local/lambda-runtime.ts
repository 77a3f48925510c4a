import { randomUUID } from 'node:crypto';
import { appendFileSync } from 'node:fs';
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
  /**
   * Lambda's application log filter (`LoggingConfig.ApplicationLogLevel`, JSON log format only):
   * the sandbox gets `AWS_LAMBDA_LOG_FORMAT` and `AWS_LAMBDA_LOG_LEVEL` as Lambda sets them, and a
   * line below the level never reaches CloudWatch Logs, nor its EMF metrics. A line without a
   * valid `level` counts as INFO, as Lambda counts it.
   * https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs-log-level.html
   * @default no filter (text format)
   */
  applicationLogLevel?: string;
  /**
   * Reject an invocation that finds every sandbox busy with `TooManyRequestsException`, as Lambda
   * throttles a function at its reserved concurrency, instead of queueing it. @default false
   */
  throttleWhenBusy?: boolean;
}

/** What an invocation reports to a {@link InvocationObserver}. */
export interface InvocationOutcome {
  /** The version that ran (`$LATEST` unless the function is invoked through an alias). */
  executedVersion: string;
  /** `<function>:<alias>` when invoked through an alias. */
  resource?: string;
  durationMs: number;
  /** The handler's error, or the sandbox's (timeout, crash); undefined on success. */
  error?: FunctionError;
  /** The invocation was refused at the concurrency limit (it did not run). */
  throttled: boolean;
}

/** Sees every invocation and every output line of a function (the local CloudWatch uses it). */
export interface InvocationObserver {
  /** An invocation got a sandbox; `concurrent` counts the sandboxes now running one. */
  started(fn: LocalFunction, concurrent: number, executedVersion: string, resource?: string): void;
  finished(fn: LocalFunction, outcome: InvocationOutcome): void;
  /** A line the handler wrote to stdout; returns true when it consumed the line. */
  output(fn: LocalFunction, line: string): boolean;
}

/** A `live` alias: its version, and optionally a second version taking `weight` of the traffic. */
export interface AliasRouting {
  name: string;
  version: string;
  additionalVersion?: { version: string; weight: number };
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
// The init phase (module load) is not part of an invocation's timeout on Lambda: say when it ends.
loaded.then(() => parentPort.postMessage({ ready: true }), () => parentPort.postMessage({ ready: true }));
parentPort.on('message', async ({ id, event, timeoutMs }) => {
  const deadline = Date.now() + timeoutMs;
  const context = {
    functionName: workerData.name,
    functionVersion: workerData.version,
    invokedFunctionArn: workerData.invokedArn,
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
  version: string;
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
}

/** One execution environment: a worker thread that runs one invocation at a time. */
interface Sandbox {
  worker: Worker;
  /** Environment generation it was started with (see {@link LocalFunction.updateEnvironment}). */
  generation: number;
  /** The function version whose code and environment it runs. */
  version: string;
  /** Resolves when the init phase (loading the handler module) is over. */
  ready: Promise<void>;
  current?: { id: string; invocation: Invocation; timer?: NodeJS.Timeout; startedAt: number };
}

/** Lambda's limit on the init phase of an on-demand function. */
const INIT_TIMEOUT_MS = 10_000;

/** Version name of the unpublished function. */
export const LATEST = '$LATEST';

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
  /** Published versions: environment variables that differ from the function's, and the bundle. */
  private readonly versions = new Map<string, { environment: Record<string, string>; bundle: string }>();
  private routing: AliasRouting | undefined;
  /** Sees invocations and output; set by the local CloudWatch. */
  observer: InvocationObserver | undefined;

  constructor(
    readonly spec: LocalFunctionSpec,
    private readonly bundle: string,
    private readonly random: () => number = Math.random,
  ) {}

  /** Invokes the handler with `event`; rejects with a FunctionError when the handler throws. */
  invoke(event: unknown): Promise<unknown> {
    if (this.stopped) {
      return Promise.reject(new FunctionError('Lambda.ServiceException', `${this.spec.name} is stopped`));
    }
    const version = this.pickVersion();
    if (this.spec.throttleWhenBusy && this.busy()) {
      this.observer?.finished(this, {
        executedVersion: version,
        resource: this.resource,
        durationMs: 0,
        throttled: true,
      });
      return Promise.reject(
        new FunctionError('Lambda.TooManyRequestsException', `Rate Exceeded. (${this.spec.name})`),
      );
    }
    return new Promise((resolve, reject) => {
      this.waiting.push({ event, version, resolve, reject });
      this.dispatch();
    });
  }

  /**
   * Like PublishVersion after an UpdateFunctionConfiguration / UpdateFunctionCode: a new
   * immutable version with `environment` merged over the function's and, optionally, other code.
   * Returns the version number.
   */
  publishVersion(environment: Readonly<Record<string, string>> = {}, bundle = this.bundle): string {
    const version = String(this.versions.size + 1);
    this.versions.set(version, { environment: { ...environment }, bundle });
    return version;
  }

  /**
   * Changes what a published version runs. Lambda versions are immutable; a drill uses this to
   * give the version under deployment (the template's) the defect a bad release would carry.
   */
  reconfigureVersion(version: string, environment: Readonly<Record<string, string>>): void {
    const published = this.versions.get(version);
    if (!published) throw new Error(`${this.spec.name} has no version ${version}`);
    published.environment = { ...published.environment, ...environment };
    for (const sandbox of this.sandboxes)
      if (sandbox.version === version && !sandbox.current) this.discard(sandbox);
  }

  /** Points an alias at a version, optionally sending `weight` (0..1) to a second one, as UpdateAlias does. */
  setAlias(routing: AliasRouting): void {
    for (const version of [routing.version, routing.additionalVersion?.version]) {
      if (version !== undefined && !this.versions.has(version))
        throw new Error(`${this.spec.name} has no version ${version}`);
    }
    const weight = routing.additionalVersion?.weight ?? 0;
    if (weight < 0 || weight >= 1)
      throw new RangeError(`an alias routing weight is in [0, 1), got ${weight}`);
    this.routing = { ...routing };
  }

  /** The alias callers invoke, if any. */
  get alias(): AliasRouting | undefined {
    return this.routing ? { ...this.routing } : undefined;
  }

  /** `<function>:<alias>`: the Resource dimension of alias invocations. */
  get resource(): string | undefined {
    return this.routing ? `${this.spec.name}:${this.routing.name}` : undefined;
  }

  private pickVersion(): string {
    if (!this.routing) return LATEST;
    const extra = this.routing.additionalVersion;
    return extra && this.random() < extra.weight ? extra.version : this.routing.version;
  }

  private busy(): boolean {
    const running = [...this.sandboxes].filter((sandbox) => sandbox.current).length;
    return running + this.waiting.length >= this.concurrency;
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
      const next = this.waiting[0];
      if (!next) return;
      let sandbox = [...this.sandboxes].find(
        (candidate) =>
          !candidate.current &&
          candidate.generation === this.generation &&
          candidate.version === next.version,
      );
      if (!sandbox) {
        // An idle sandbox of another version gives way, as Lambda reclaims idle environments.
        const idle = [...this.sandboxes].find((candidate) => !candidate.current);
        if (this.sandboxes.size >= this.concurrency && idle) this.discard(idle);
        if (this.sandboxes.size >= this.concurrency) return;
        sandbox = this.startSandbox(next.version);
      }
      this.waiting.shift();
      this.run(sandbox, next);
    }
  }

  private run(sandbox: Sandbox, invocation: Invocation): void {
    const id = randomUUID();
    const timeoutMs = this.spec.timeoutSeconds * 1000;
    const timedOut = (error: FunctionError) => {
      // Lambda ends a timed-out sandbox; the next invocation gets a fresh one.
      this.discard(sandbox);
      this.settle(sandbox, { error });
    };
    const current: NonNullable<Sandbox['current']> = {
      id,
      invocation,
      startedAt: performance.now(),
      timer: setTimeout(
        () =>
          timedOut(new FunctionError('Runtime.InitTimeout', `${this.spec.name}: init exceeded 10 seconds`)),
        INIT_TIMEOUT_MS,
      ),
    };
    sandbox.current = current;
    const running = [...this.sandboxes].filter((candidate) => candidate.current).length;
    this.observer?.started(this, running, sandbox.version, this.resource);
    void sandbox.ready.then(() => {
      if (sandbox.current !== current) return;
      // The invocation's timeout and its Duration start once init is over, as on Lambda.
      clearTimeout(current.timer);
      current.startedAt = performance.now();
      current.timer = setTimeout(
        () =>
          timedOut(
            new FunctionError('Sandbox.Timedout', `Task timed out after ${this.spec.timeoutSeconds} seconds`),
          ),
        timeoutMs + 50,
      );
      sandbox.worker.postMessage({ id, event: invocation.event, timeoutMs });
    });
  }

  private settle(sandbox: Sandbox, outcome: { result?: unknown; error?: Error }): void {
    const current = sandbox.current;
    if (!current) return;
    sandbox.current = undefined;
    clearTimeout(current.timer);
    this.observer?.finished(this, {
      executedVersion: sandbox.version,
      resource: this.resource,
      durationMs: performance.now() - current.startedAt,
      error: outcome.error instanceof FunctionError ? outcome.error : undefined,
      throttled: false,
    });
    if (outcome.error) current.invocation.reject(outcome.error);
    else current.invocation.resolve(outcome.result);
    if (sandbox.generation !== this.generation) this.discard(sandbox);
    this.dispatch();
  }

  private discard(sandbox: Sandbox): void {
    this.sandboxes.delete(sandbox);
    void sandbox.worker.terminate();
  }

  private startSandbox(version: string): Sandbox {
    const published = this.versions.get(version);
    const worker = new Worker(WORKER_BOOTSTRAP, {
      eval: true,
      env: {
        ...this.spec.environment,
        ...published?.environment,
        ...(this.spec.applicationLogLevel
          ? { AWS_LAMBDA_LOG_FORMAT: 'JSON', AWS_LAMBDA_LOG_LEVEL: this.spec.applicationLogLevel }
          : {}),
        AWS_LAMBDA_FUNCTION_VERSION: version,
      },
      stdout: true,
      // Captured too (Powertools writes WARN and ERROR there): else it lands in Jest's report.
      stderr: true,
      workerData: {
        bundle: published?.bundle ?? this.bundle,
        name: this.spec.name,
        version,
        invokedArn: this.routing ? `${this.spec.arn}:${this.routing.name}` : this.spec.arn,
        memoryMb: this.spec.memoryMb,
      },
    });
    this.readOutput(worker);
    let initDone = () => undefined as void;
    const ready = new Promise<void>((resolve) => (initDone = resolve));
    const sandbox: Sandbox = { worker, generation: this.generation, version, ready };
    worker.on(
      'message',
      (message: {
        id: string;
        ready?: boolean;
        result?: unknown;
        error?: { errorType: string; errorMessage: string };
      }) => {
        if (message.ready) initDone();
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

  /**
   * Hands each stdout line to the observer; what it does not consume, and stderr, go to
   * `onOutput` or else {@link writeHandlerLine}.
   */
  private readOutput(worker: Worker): void {
    const onOutput = this.spec.onOutput;
    const level = this.spec.applicationLogLevel;
    if (level !== undefined) {
      // Lambda filters stderr by level too: line by line, then as below.
      let partial = '';
      worker.stderr.setEncoding('utf8');
      worker.stderr.on('data', (chunk: string) => {
        const lines = (partial + chunk).split('\n');
        partial = lines.pop() ?? '';
        const kept = lines.filter((line) => passesLogFilter(line, level)).map((line) => `${line}\n`);
        if (kept.length === 0) return;
        if (onOutput) onOutput(Buffer.from(kept.join('')));
        else writeHandlerLine(kept.join(''));
      });
    } else if (onOutput) worker.stderr.on('data', onOutput);
    else {
      worker.stderr.setEncoding('utf8');
      worker.stderr.on('data', (chunk: string) => writeHandlerLine(chunk));
    }
    let pending = '';
    worker.stdout.setEncoding('utf8');
    worker.stdout.on('data', (chunk: string) => {
      pending += chunk;
      let newline = pending.indexOf('\n');
      while (newline >= 0) {
        const line = pending.slice(0, newline);
        pending = pending.slice(newline + 1);
        newline = pending.indexOf('\n');
        if (!passesLogFilter(line, this.spec.applicationLogLevel)) continue;
        // Every line, EMF included, is what Lambda would ship to CloudWatch Logs.
        onOutput?.(Buffer.from(`${line}\n`));
        if (!this.observer?.output(this, line) && !onOutput) writeHandlerLine(`${line}\n`);
      }
    });
  }
}

/**
 * The application log level Lambda filters a function's lines at, from its `LoggingConfig`: in the
 * JSON format its ApplicationLogLevel, INFO when unset; none in the text format.
 */
export function applicationLogLevelOf(
  logging: { LogFormat?: unknown; ApplicationLogLevel?: unknown } | undefined,
): string | undefined {
  if (logging?.LogFormat !== 'JSON') return undefined;
  return typeof logging.ApplicationLogLevel === 'string' ? logging.ApplicationLogLevel : 'INFO';
}

/** Lambda's application log levels, most detailed first. */
const APPLICATION_LOG_LEVELS = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'FATAL'];
/** An RFC 3339 date-time, as a line's `timestamp` must be for Lambda to read its `level`. */
const RFC_3339 = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

/**
 * Whether Lambda's application filter at `level` lets a stdout or stderr line through: a JSON
 * line's `level`, when it is one of Lambda's and the line has a valid RFC 3339 `timestamp`; else
 * INFO (an EMF blob, plain text, a level like Powertools' CRITICAL that Lambda does not name).
 */
export function passesLogFilter(line: string, level: string | undefined): boolean {
  if (level === undefined) return true;
  let lineLevel = 'INFO';
  try {
    const parsed = JSON.parse(line) as { level?: unknown; timestamp?: unknown } | null;
    const named = typeof parsed?.level === 'string' ? parsed.level.toUpperCase() : '';
    const stamped = typeof parsed?.timestamp === 'string' && RFC_3339.test(parsed.timestamp);
    if (stamped && APPLICATION_LOG_LEVELS.includes(named)) lineLevel = named;
  } catch {
    // not JSON: INFO
  }
  return APPLICATION_LOG_LEVELS.indexOf(lineLevel) >= APPLICATION_LOG_LEVELS.indexOf(level.toUpperCase());
}

/**
 * Where handler log lines go when nobody consumes them: the terminal, or the file named by
 * `HANDLER_LOG_FILE` (the test setup sets one, so handler logs stay out of Jest's report).
 */
function writeHandlerLine(line: string): void {
  const file = process.env.HANDLER_LOG_FILE;
  if (file) appendFileSync(file, line);
  else process.stdout.write(line);
}
