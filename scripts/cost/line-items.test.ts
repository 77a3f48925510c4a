import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadEnvironment } from '../../environments';
import { synthesizeEnvironment } from '../../infra/stacks/synthesize';
import type { CostLine } from './model';
import { costReport, type CostReport } from './report';

/**
 * The line items of the prod cost report and what each is based on, checked in. A line that
 * disappears, appears or changes its basis fails here until the list is updated on purpose:
 * `UPDATE_COST_LINE_ITEMS=1 npx jest scripts/cost/line-items.test.ts`. Figures are masked (#):
 * a new measurement or price moves numbers, not bases.
 */
const LINE_ITEMS_FILE = join(__dirname, 'line-items.json');
const SYNTH_TIMEOUT_MS = 120_000;

const mask = (text: string) => text.replace(/\d+(?:[.,]\d+)*/g, '#');
const shape = (lines: readonly CostLine[]) =>
  lines.map((line) => ({ item: mask(line.item), basis: mask(line.basis) }));

function lineItems(report: CostReport) {
  return {
    deployed: {
      perMillion: shape(report.deployed.perMillion),
      statusRead: shape(report.deployed.statusRead),
      fixedMonthly: shape(report.deployed.fixedMonthly),
    },
    reference: {
      perMillion: shape(report.reference.perMillion),
      statusRead: shape(report.reference.statusRead),
      fixedMonthly: shape(report.reference.fixedMonthly),
    },
    floor: shape(report.floor),
  };
}

describe('cost line items (prod)', () => {
  let report: CostReport;
  beforeAll(async () => {
    const config = loadEnvironment('prod');
    const { template } = synthesizeEnvironment(config, { bundling: false });
    report = await costReport({ config, template, ordersPerMonth: 10_000_000 });
  }, SYNTH_TIMEOUT_MS);

  it('has exactly the checked-in line items, each with its basis', () => {
    const actual = lineItems(report);
    if (process.env.UPDATE_COST_LINE_ITEMS === '1')
      writeFileSync(LINE_ITEMS_FILE, `${JSON.stringify(actual, null, 2)}\n`);
    const expected = JSON.parse(readFileSync(LINE_ITEMS_FILE, 'utf8')) as unknown;
    expect(actual).toEqual(expected);
  });

  it('counts the items the audit found missing, each on a line of its own', () => {
    const items = report.deployed.perMillion.map((line) => line.item).join('\n');
    for (const expected of [
      /^Step Functions logs \(/m,
      /^Lambda logs$/m,
      /^X-Ray traces/m,
      /^Storage added per month/m,
    ])
      expect(items).toMatch(expected);
    const fixed = report.deployed.fixedMonthly.map((line) => line.item).join('\n');
    expect(fixed).toMatch(/KMS keys x \d+ \(\d+ rotated yearly\)/);
    expect(fixed).toMatch(/CloudWatch custom metrics \(EMF\)/);
    expect(report.deployed.statusRead.length).toBeGreaterThanOrEqual(5);
  });

  it("prints the deployed all-in figure on the report's first per-million line, with % of reference and x floor", () => {
    const first = report.text.split('\n').find((line) => line.includes('per million orders'));
    expect(first).toMatch(
      /^deployed: per million orders \$\d+\.\d\d all-in, .* % of reference, \d+\.\d\d x floor$/,
    );
    expect(first).toContain(`$${report.deployed.perMillionTotal.toFixed(2)}`);
  });
});
