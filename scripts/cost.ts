/**
 * `npm run cost -- --env <env> [--orders-per-month N]`: what an order costs in an environment,
 * every line with its basis, from its synthesized template, its region's prices, the bench's
 * measurements (scripts/cost/measurements.json) and a run of the real workflow at the configured
 * log level; next to the reference design and the floor of the job.
 */
import { parseArgs } from 'node:util';
import { ENVIRONMENT_NAMES, isEnvironmentName, loadEnvironment } from '../environments';
import { synthesizeEnvironment } from '../infra/stacks/synthesize';
import { costReport } from './cost/report';
import { MissingMeasurementsError } from './cost/measurements';
import { UnpricedRegionError } from './cost/prices';

const USAGE = `Usage: npm run cost -- --env <${ENVIRONMENT_NAMES.join('|')}> [--orders-per-month N]

  --env NAME             environment whose synthesized template is priced, at its region's prices
  --orders-per-month N   monthly volume (default 10000000): batching and X-Ray sampling depend on it
  --help                 this text

Per-order figures the template cannot give (AWS calls, log bytes, item sizes, status reads) come
from scripts/cost/measurements.json, written by \`npm run bench\`.`;

class UsageError extends Error {}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { env: { type: 'string' }, 'orders-per-month': { type: 'string' }, help: { type: 'boolean' } },
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  if (values.env === undefined) throw new UsageError('--env is required');
  if (!isEnvironmentName(values.env)) {
    throw new UsageError(
      `unknown environment "${values.env}"; expected one of ${ENVIRONMENT_NAMES.join(', ')}`,
    );
  }
  const ordersPerMonth = Number(values['orders-per-month'] ?? 10_000_000);
  if (!Number.isFinite(ordersPerMonth) || ordersPerMonth <= 0) {
    throw new UsageError(`--orders-per-month must be a positive number, got "${values['orders-per-month']}"`);
  }
  const config = loadEnvironment(values.env);
  console.error(
    `synthesizing ${config.name} and running its workflow at log level ${config.workflowLogs.level}`,
  );
  const { template } = synthesizeEnvironment(config, { bundling: false });
  const report = await costReport({ config, template, ordersPerMonth });
  console.log(report.text);
}

main().catch((error: unknown) => {
  if (
    error instanceof UsageError ||
    error instanceof UnpricedRegionError ||
    error instanceof MissingMeasurementsError ||
    (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')
  ) {
    console.error(`${(error as Error).message}\n\n${USAGE}`);
    process.exit(2);
  }
  console.error(error);
  process.exit(1);
});
