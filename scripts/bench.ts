/**
 * `npm run bench`: bundle sizes and SDK clients, cold init against the SDK-external variant, the
 * publisher's CPU per request, and the local stack end to end, each against its budget. Prints
 * figures; it is not a test (timings on a shared machine are noisy: compare runs, not one number).
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { HANDLER_ENTRIES } from '../lambdas/shared/runtime-contract';
import { bundleForBench, measureColdInit } from './bench/bundles';
import { MEASUREMENTS_FILE, measurementsOf, writeMeasurements } from './cost/measurements';
import {
  BUDGETS,
  bundleRows,
  coldInitRow,
  endToEndRows,
  formatTable,
  publisherCpuRow,
  type BenchRow,
} from './bench/budgets';
import { runLocalEndToEnd } from './bench/local-e2e';
import { benchmarkPublisherCpu } from './bench/publisher-cpu';

const USAGE = `Usage: npm run bench -- [--runs N] [--orders N] [--concurrency N] [--skip-e2e] [--no-record]

  --runs N         fresh Node processes per cold-init median (>= 15; default 15)
  --orders N       orders in the local end-to-end run (default 200)
  --concurrency N  orders in flight in that run (default 8)
  --skip-e2e       skip the local end-to-end run (needs moto_server)
  --e2e-only       only the local end-to-end run (no bundles, cold starts or CPU timing)
  --no-record      do not write the run's per-order figures to scripts/cost/measurements.json
                   (which \`npm run cost\` prices)
  --help           this text`;

/** Status polling interval of the end-to-end run's client. */
const POLL_INTERVAL_MS = 250;

function positiveInt(name: string, value: string | undefined, fallback: number, minimum = 1): number {
  if (value === undefined) return fallback;
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < minimum) {
    throw new UsageError(`--${name} must be an integer >= ${minimum}, got "${value}"`);
  }
  return parsed;
}

class UsageError extends Error {}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      runs: { type: 'string' },
      orders: { type: 'string' },
      concurrency: { type: 'string' },
      'skip-e2e': { type: 'boolean' },
      'e2e-only': { type: 'boolean' },
      'no-record': { type: 'boolean' },
      help: { type: 'boolean' },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const runs = positiveInt('runs', values.runs, 15, 15);
  const orders = positiveInt('orders', values.orders, 200);
  const concurrency = positiveInt('concurrency', values.concurrency, 8);

  const root = path.resolve(__dirname, '..');
  const outDir = path.join(root, 'node_modules', '.cache', 'order-pipeline-bench');
  if (values['skip-e2e'] && values['e2e-only'])
    throw new UsageError('--skip-e2e and --e2e-only exclude each other');
  const rows: BenchRow[] = [];
  for (const [name, entry] of values['e2e-only'] ? [] : Object.entries(HANDLER_ENTRIES)) {
    console.error(`bundling ${name} and timing ${runs} cold starts of each variant`);
    const bundle = await bundleForBench(root, name, entry, outDir);
    rows.push(...bundleRows(name, bundle.bytes, bundle.clients));
    const init = measureColdInit(bundle, runs);
    rows.push(coldInitRow(name, init.medianMs, init.sdkExternalMedianMs, init.runs));
  }

  if (!values['e2e-only']) {
    console.error('timing the publisher CPU per request');
    const cpu = benchmarkPublisherCpu();
    rows.push(publisherCpuRow(cpu.usPerOp, cpu.bodyBytes));
  }

  let breakdown = '';
  if (!values['skip-e2e']) {
    console.error(`running ${orders} orders through the local stack (${concurrency} in flight)`);
    const e2e = await runLocalEndToEnd({ orders, concurrency, pollIntervalMs: POLL_INTERVAL_MS });
    rows.push(...endToEndRows(e2e));
    breakdown =
      `\nAWS API calls per order by operation (${e2e.orders} orders in ${e2e.seconds.toFixed(1)} s):\n` +
      e2e.byOperation
        .map(([operation, perOrder]) => `  ${operation.padEnd(32)} ${perOrder.toFixed(2)}`)
        .join('\n') +
      `\n\nAWS API calls per order, status polls excluded: ${e2e.callsPerOrderWithoutPolls.toFixed(2)} (goal <= ${BUDGETS.apiCallsPerOrder})` +
      `\nAWS API calls per order with polls: ${e2e.callsPerOrder.toFixed(2)} (${e2e.statusReadsPerOrder.toFixed(2)} status reads per order, one GetItem each, every ${POLL_INTERVAL_MS} ms)` +
      `\nNot counted above: ${e2e.idleReceivesPerOrder.toFixed(2)} empty SQS receives per order (idle long polls: they follow the run's duration, not its orders)` +
      `\n\nHandler invocations and log output per order (Powertools level ${e2e.logLevel}, EMF metrics on):\n` +
      Object.entries(e2e.functions)
        .map(
          ([entry, usage]) =>
            `  ${entry.padEnd(10)} ${(usage.invocations / e2e.orders).toFixed(2).padStart(6)} invocations ${(usage.logBytes / e2e.orders).toFixed(0).padStart(6)} B ${(usage.logLines / e2e.orders).toFixed(2).padStart(6)} lines`,
        )
        .join('\n');
    if (!values['no-record']) {
      const command = `npm run bench -- --orders ${orders} --concurrency ${concurrency}`;
      writeMeasurements(measurementsOf(e2e, command, POLL_INTERVAL_MS));
      breakdown += `\n\nPer-order figures written to ${path.relative(root, MEASUREMENTS_FILE)} for \`npm run cost\``;
    }
  }

  console.log(formatTable(rows));
  if (breakdown) console.log(breakdown);
  const missed = rows.filter((row) => row.verdict === 'MISS').length;
  console.log(`\n${rows.filter((row) => row.verdict === 'PASS').length} budgets met, ${missed} missed`);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    if (error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      console.error(`${(error as Error).message}\n\n${USAGE}`);
      process.exit(2);
    }
    console.error(error);
    process.exit(1);
  },
);
