import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ENVIRONMENT_NAMES, isEnvironmentName, loadEnvironment } from '../environments';
import { LocalStackNotRunningError } from './lib/local-state';
import { InvalidMixError, mixFromProfile, normalizeMix, parseMix } from './stress/mix';
import { MissingOutputError } from './stress/observe';
import { renderHtml, renderText, type StressSettings } from './stress/report';
import { runStress } from './stress/run';
import { defaultStackName, deployedTarget, localTarget, TargetUnavailableError } from './stress/target';

const HELP = `Usage: npm run stress -- --env <${ENVIRONMENT_NAMES.join('|')}> [options]
       npm run stress:local   (likewise stress:dev, stress:staging, stress:prod)

Sends a mix of signed orders to one environment, waits until every accepted order is terminal,
then accounts for each of them in the orders, billing and failed-orders tables and the archive
bucket: nothing lost (accepted - terminal = 0), nothing done twice (one billing record and one
archive object version per order), every FAILED order recorded in the failed-orders table.

Target: --env local talks to the stack \`npm start\` runs (its .local/stack.json); any other
environment is found through its CloudFormation stack outputs and the client secret they name
(AWS credentials from the default chain).

Options (defaults come from the environment's stress profile in environments/):
  --env E            local, dev, staging or prod (required)
  --url U            base URL of the order API (default: from the stack)
  --orders N         requests to send
  --concurrency C    requests in flight at once
  --rate R           requests per second (0 = as fast as the concurrency allows)
  --mix M            weights per kind, e.g. valid=0.8,invalid=0.1,badsig=0.05,duplicate=0.05
                     kinds: valid, invalid (breaks a business rule: ends REJECTED), schema (400),
                     badsig (401), duplicate (verbatim replay of an earlier valid request)
  --deadline S       seconds the whole run may take, fan-out included
  --seed N           seed of the request plan (default: random; the report records it)
  --out DIR          where report.json and report.html go
                     (default reports/stress/<env>-<timestamp>/)
  --client C         client id to sign as (default: the first client of the secret)
  --stack S          CloudFormation stack (default $STACK_NAME if set, else <Env>-OrderPipeline,
                     e.g. ${defaultStackName('dev')})
  --region R         AWS region (default: the environment's)
  --timeout S        per-request timeout in seconds (default 10)
  -h, --help         show this help

Exit status: 0 every check passed; 1 a check missed (lost or duplicate orders, an unrecorded
failure, an unexpected status code, error rate or p95 over the profile's limit); 2 usage
error; 3 the run could not start or finish (no stack, no credentials, an AWS error).`;

class UsageError extends Error {}

// Lambda runs Node 22; on an older local Node the SDK's upgrade notice is noise here.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

function positiveInteger(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 1)
    throw new UsageError(`--${name} must be a whole number >= 1, got "${value}"`);
  return parsed;
}

function nonNegative(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const parsed = Number(value);
  if (value.trim() === '' || !Number.isFinite(parsed) || parsed < 0) {
    throw new UsageError(`--${name} must be a number >= 0, got "${value}"`);
  }
  return parsed;
}

async function main(): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      options: {
        env: { type: 'string' },
        url: { type: 'string' },
        orders: { type: 'string' },
        concurrency: { type: 'string' },
        rate: { type: 'string' },
        mix: { type: 'string' },
        deadline: { type: 'string' },
        seed: { type: 'string' },
        out: { type: 'string' },
        client: { type: 'string' },
        stack: { type: 'string' },
        region: { type: 'string' },
        timeout: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
      allowPositionals: false,
    });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const { values } = parsed;
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  if (!values.env) throw new UsageError('--env is required');
  if (!isEnvironmentName(values.env)) {
    throw new UsageError(`--env must be one of ${ENVIRONMENT_NAMES.join(', ')}, got "${values.env}"`);
  }
  if (values.url !== undefined && !/^https?:\/\/[^/]+/.test(values.url)) {
    throw new UsageError(`--url must be an http(s) URL, got "${values.url}"`);
  }
  const config = loadEnvironment(values.env);
  const profile = config.stress;
  let mix;
  try {
    mix = normalizeMix(values.mix === undefined ? mixFromProfile(profile.mix) : parseMix(values.mix));
  } catch (error) {
    if (error instanceof InvalidMixError) throw new UsageError(`--mix: ${error.message}`);
    throw error;
  }
  const seed = values.seed === undefined ? Math.floor(Math.random() * 2 ** 31) : Number(values.seed);
  if (!Number.isSafeInteger(seed) || seed < 0) throw new UsageError(`--seed must be a whole number >= 0`);
  const settings: StressSettings = {
    orders: positiveInteger('orders', values.orders, profile.orders),
    concurrency: positiveInteger('concurrency', values.concurrency, profile.concurrency),
    ratePerSecond: nonNegative('rate', values.rate, profile.ratePerSecond),
    mix,
    deadlineSeconds: positiveInteger('deadline', values.deadline, profile.deadlineSeconds),
    seed,
    thresholds: profile.thresholds,
  };
  const timeoutSeconds = nonNegative('timeout', values.timeout, 10);
  if (timeoutSeconds === 0) throw new UsageError('--timeout must be above 0');
  const startedAt = new Date();
  const outDir = resolve(
    values.out ?? join('reports', 'stress', `${values.env}-${startedAt.toISOString().replace(/[:.]/g, '-')}`),
  );

  const target =
    values.env === 'local'
      ? await localTarget({ url: values.url })
      : await deployedTarget({
          config,
          // The pipeline's post-deploy step names its stage's stack in STACK_NAME.
          stack: values.stack ?? process.env.STACK_NAME,
          region: values.region,
          clientId: values.client,
          url: values.url,
        });
  console.error(
    `[stress] ${values.env}: ${settings.orders} requests to ${target.url}, concurrency ${settings.concurrency}, ` +
      `rate ${settings.ratePerSecond || 'unlimited'}, deadline ${settings.deadlineSeconds} s, seed ${seed}`,
  );
  const report = await runStress({
    environment: values.env,
    target,
    settings,
    rules: config,
    progress: process.stderr,
    requestTimeoutMs: timeoutSeconds * 1000,
  });

  await mkdir(outDir, { recursive: true });
  await writeFile(join(outDir, 'report.json'), `${JSON.stringify(report, null, 2)}\n`);
  await writeFile(join(outDir, 'report.html'), renderHtml(report));
  console.log(renderText(report));
  console.log(`\nreports: ${join(outDir, 'report.json')}\n         ${join(outDir, 'report.html')}`);
  return report.passed ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error: Error) => {
    if (error instanceof UsageError) {
      console.error(`error: ${error.message}\nRun with --help for the options.`);
      process.exit(2);
    }
    if (
      error instanceof LocalStackNotRunningError ||
      error instanceof TargetUnavailableError ||
      error instanceof MissingOutputError
    ) {
      console.error(`error: ${error.message}`);
    } else {
      console.error(`error: the stress run did not finish: ${error.stack ?? error.message}`);
    }
    process.exit(3);
  },
);
