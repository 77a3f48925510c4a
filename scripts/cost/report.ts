import type { EnvironmentConfig } from '../../environments';
import type { CfnTemplate } from '../../infra/stacks/synthesize';
import { LOG_LEVELS } from '../bench/usage';
import { readMeasurements, type Measurements } from './measurements';
import {
  deployedDesignCost,
  floorPerMillion,
  referenceDesignCost,
  throughputCeiling,
  type CostLine,
  type DesignCost,
  type WorkflowLogFigures,
} from './model';
import { PRICE_SOURCES, PRICES_AS_OF, pricesFor, SECONDS_PER_MONTH } from './prices';
import { templateFacts } from './template-facts';
import { measureWorkflowLogs, type WorkflowLogLevel } from './workflow-logs';

/** The goals of issue 14, printed next to the figures. */
export const GOALS = {
  /** All-in deployed cost per million orders at the reference volume (status reads apart). */
  perMillionOrders: 12,
  referenceOrdersPerMonth: 10_000_000,
  /** Fixed cost per month by environment. */
  fixedMonthly: { prod: 90, dev: 50 } as Partial<Record<string, number>>,
} as const;

export interface CostReport {
  text: string;
  deployed: DesignCost;
  reference: DesignCost;
  floor: CostLine[];
  floorTotal: number;
}

const usd = (value: number) => `$${value.toFixed(2)}`;
const verdict = (ok: boolean) => (ok ? 'PASS' : 'MISS');

async function workflowLogFigures(
  template: CfnTemplate,
  config: EnvironmentConfig,
  level: WorkflowLogLevel,
  includeExecutionData: boolean,
): Promise<WorkflowLogFigures> {
  const run = (path: 'valid' | 'failed') =>
    measureWorkflowLogs(template, config, { level, includeExecutionData, path });
  const [valid, failed] = [await run('valid'), await run('failed')];
  return {
    level,
    includeExecutionData,
    validBytes: valid.billedBytes,
    validEvents: valid.events.length,
    failedBytes: failed.billedBytes,
    failedEvents: failed.events.length,
  };
}

function lines(list: readonly CostLine[]): string[] {
  return list.map((line) => `  ${line.item.padEnd(58)} ${usd(line.usd).padStart(8)}  ${line.basis}`);
}

/** Prices the environment and renders the report `npm run cost` prints. */
export async function costReport(options: {
  config: EnvironmentConfig;
  template: CfnTemplate;
  ordersPerMonth: number;
  measured?: Measurements;
}): Promise<CostReport> {
  const { config, template, ordersPerMonth } = options;
  const facts = templateFacts(template);
  const prices = pricesFor(config.region);
  const measured = options.measured ?? readMeasurements();
  const workflowLogs = await workflowLogFigures(
    template,
    config,
    facts.workflow.logLevel,
    facts.workflow.includeExecutionData,
  );
  const referenceWorkflowLogs = await workflowLogFigures(template, config, 'ALL', true);
  const input = { facts, prices, ordersPerMonth, measured, workflowLogs };
  const deployed = deployedDesignCost(input);
  const reference = referenceDesignCost({ ...input, referenceWorkflowLogs });
  const floor = floorPerMillion(facts, prices);
  const floorTotal = floor.reduce((n, line) => n + line.usd, 0);
  const millions = ordersPerMonth / 1_000_000;
  const reads = deployed.statusReadsPerOrder;
  const withReads = (cost: DesignCost) => cost.perMillionTotal + reads * cost.statusReadPerMillionTotal;

  const out: string[] = [];
  out.push(
    `Environment ${config.name} (${config.region}), ${ordersPerMonth.toLocaleString('en-US')} orders/month = ${(ordersPerMonth / SECONDS_PER_MONTH).toFixed(2)} orders/s`,
  );
  out.push(
    `deployed: per million orders ${usd(deployed.perMillionTotal)} all-in, status reads apart = ${((100 * deployed.perMillionTotal) / reference.perMillionTotal).toFixed(1)} % of reference, ${(deployed.perMillionTotal / floorTotal).toFixed(2)} x floor`,
  );
  if (ordersPerMonth === GOALS.referenceOrdersPerMonth && config.name === 'prod') {
    out.push(
      `goal: <= ${usd(GOALS.perMillionOrders)} per million orders at ${GOALS.referenceOrdersPerMonth.toLocaleString('en-US')} orders/month: ${verdict(deployed.perMillionTotal <= GOALS.perMillionOrders)}`,
    );
  }
  out.push(...lines(deployed.perMillion));
  out.push(
    `status reads: ${usd(deployed.statusReadPerMillionTotal)} per million reads; at the bench's ${reads.toFixed(2)} reads per order: +${usd(reads * deployed.statusReadPerMillionTotal)} per million orders, ${usd(withReads(deployed))} with them`,
  );
  out.push(...lines(deployed.statusRead));
  const fixedGoal = GOALS.fixedMonthly[config.name];
  out.push(
    `deployed: fixed per month ${usd(deployed.fixedMonthlyTotal)}${fixedGoal === undefined ? '' : ` (goal <= ${usd(fixedGoal)}: ${verdict(deployed.fixedMonthlyTotal <= fixedGoal)})`}`,
  );
  out.push(...lines(deployed.fixedMonthly));

  out.push('');
  out.push(`reference: per million orders ${usd(reference.perMillionTotal)} (status reads apart)`);
  out.push(...lines(reference.perMillion));
  out.push(`reference status reads: ${usd(reference.statusReadPerMillionTotal)} per million reads`);
  out.push(...lines(reference.statusRead));
  out.push(`reference: fixed per month ${usd(reference.fixedMonthlyTotal)}`);
  out.push(...lines(reference.fixedMonthly));

  out.push('');
  out.push(`floor: per million orders ${usd(floorTotal)} (what any design of this job pays)`);
  out.push(...lines(floor));

  out.push('');
  out.push('                                      deployed     reference');
  const row = (label: string, a: number, b: number) =>
    out.push(`${label.padEnd(34)} ${usd(a).padStart(12)}  ${usd(b).padStart(12)}`);
  row('per million orders', deployed.perMillionTotal, reference.perMillionTotal);
  row('  with status reads', withReads(deployed), withReads(reference));
  row('per million status reads', deployed.statusReadPerMillionTotal, reference.statusReadPerMillionTotal);
  row('fixed per month', deployed.fixedMonthlyTotal, reference.fixedMonthlyTotal);
  row(
    `${ordersPerMonth.toLocaleString('en-US')} orders/month, reads incl.`,
    deployed.fixedMonthlyTotal + millions * withReads(deployed),
    reference.fixedMonthlyTotal + millions * withReads(reference),
  );

  out.push('');
  out.push('Throughput ceiling at default quotas (orders/s), binding first:');
  for (const limit of throughputCeiling(input))
    out.push(`  ${Math.floor(limit.ordersPerSecond).toString().padStart(8)}  ${limit.quota}`);
  out.push('  (the ALB scales with load; it has no fixed request quota)');

  const levels = [...new Set(facts.functions.map((fn) => fn.logLevel))];
  out.push('');
  out.push(
    `Measured: ${measured.command} at ${measured.measuredAt} (${measured.orders} orders, handlers at ${measured.logLevel})`,
  );
  // The bench logs at DEBUG and the model keeps the lines at each function's level; a measurement
  // at a quieter level than a function's cannot show the lines that function would keep.
  const rank = (level: string) => LOG_LEVELS.indexOf(level as (typeof LOG_LEVELS)[number]);
  if (levels.some((level) => rank(level) < rank(measured.logLevel))) {
    out.push(
      `WARNING: the template's functions log at ${levels.join(', ')} but the measurements are at ${measured.logLevel} only: re-run \`npm run bench\``,
    );
  }
  out.push(
    `Prices: ${config.region} list, ${PRICES_AS_OF}; sources: ${Object.values(PRICE_SOURCES).join(' ')}`,
  );
  return { text: out.join('\n'), deployed, reference, floor, floorTotal };
}
