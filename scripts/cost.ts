/**
 * `npm run cost -- --env <env> [--orders-per-month N]`: the cost per million orders and the fixed
 * monthly cost of an environment, from its synthesized template, next to the reference design,
 * and the throughput ceiling at default quotas.
 */
import { parseArgs } from 'node:util';
import { ENVIRONMENT_NAMES, isEnvironmentName, loadEnvironment } from '../environments';
import { synthesizeEnvironment } from '../infra/stacks/synthesize';
import { deployedDesignCost, referenceDesignCost, throughputCeiling, type DesignCost } from './cost/model';
import { PRICE_SOURCES, PRICES_AS_OF } from './cost/prices';
import { templateFacts } from './cost/template-facts';

const USAGE = `Usage: npm run cost -- --env <${ENVIRONMENT_NAMES.join('|')}> [--orders-per-month N]

  --env NAME             environment whose synthesized template is priced (required)
  --orders-per-month N   monthly volume for the totals (default 1000000)
  --help                 this text

Prices: us-east-1 list prices as of ${PRICES_AS_OF} (scripts/cost/prices.ts cites the pages).`;

class UsageError extends Error {}

const usd = (value: number) => `$${value.toFixed(2)}`;

function printDesign(cost: DesignCost): void {
  console.log(`\n${cost.name}: per million orders ${usd(cost.perMillionTotal)}`);
  for (const line of cost.perMillion) console.log(`  ${line.item.padEnd(64)} ${usd(line.usd).padStart(10)}`);
  console.log(`${cost.name}: fixed per month ${usd(cost.fixedMonthlyTotal)}`);
  for (const line of cost.fixedMonthly)
    console.log(`  ${line.item.padEnd(64)} ${usd(line.usd).padStart(10)}`);
}

function main(): void {
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
  const ordersPerMonth = Number(values['orders-per-month'] ?? 1_000_000);
  if (!Number.isFinite(ordersPerMonth) || ordersPerMonth <= 0) {
    throw new UsageError(`--orders-per-month must be a positive number, got "${values['orders-per-month']}"`);
  }

  const config = loadEnvironment(values.env);
  const facts = templateFacts(synthesizeEnvironment(config, { bundling: false }).template);
  const deployed = deployedDesignCost(facts);
  const reference = referenceDesignCost(facts);
  const millions = ordersPerMonth / 1_000_000;

  console.log(
    `Environment ${config.name}: ${facts.workflow.type} workflow, happy path ${facts.workflow.happyPath.join(' -> ')}`,
  );
  console.log(
    `Functions: ${facts.functions.map((fn) => `${fn.handler} ${fn.memoryMb} MB ${fn.architecture}`).join(', ')}`,
  );
  console.log(
    `SQS batch sizes: ${Object.entries(facts.batchSizes)
      .map(([handler, size]) => `${handler} ${size}`)
      .join(', ')}; interface endpoints: ${facts.interfaceEndpoints} x ${facts.endpointAzs} AZ`,
  );
  printDesign(deployed);
  printDesign(reference);

  const ratio = deployed.perMillionTotal / reference.perMillionTotal;
  console.log('\n                         deployed     reference');
  console.log(
    `per million orders   ${usd(deployed.perMillionTotal).padStart(12)}  ${usd(reference.perMillionTotal).padStart(12)}`,
  );
  console.log(
    `fixed per month      ${usd(deployed.fixedMonthlyTotal).padStart(12)}  ${usd(reference.fixedMonthlyTotal).padStart(12)}`,
  );
  console.log(
    `${ordersPerMonth.toLocaleString('en-US')} orders/month ${usd(deployed.fixedMonthlyTotal + millions * deployed.perMillionTotal).padStart(10)}  ${usd(reference.fixedMonthlyTotal + millions * reference.perMillionTotal).padStart(12)}`,
  );
  console.log(
    `\nper million orders: deployed = ${(ratio * 100).toFixed(1)} % of reference (goal <= 6 %): ${ratio <= 0.06 ? 'PASS' : 'MISS'}`,
  );

  const limits = throughputCeiling(facts);
  console.log('\nThroughput ceiling at default quotas (orders/s), binding first:');
  for (const limit of limits)
    console.log(`  ${Math.floor(limit.ordersPerSecond).toString().padStart(8)}  ${limit.quota}`);
  console.log('  (the ALB scales with load; it has no fixed request quota)');
  console.log(
    `\nPrices: us-east-1 list, ${PRICES_AS_OF}; sources: ${Object.values(PRICE_SOURCES).join(' ')}`,
  );
}

try {
  main();
} catch (error) {
  if (error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
    console.error(`${(error as Error).message}\n\n${USAGE}`);
    process.exit(2);
  }
  throw error;
}
