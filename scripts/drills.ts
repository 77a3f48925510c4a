import { parseArgs } from 'node:util';
import { loadEnvironment, validateEnvironment } from '../environments';
import { EmulatorUnavailableError } from './local/moto-server';
import { synthesizeTemplates } from './local/synthesize';
import { DRILLS } from './drills/catalog';
import { alarmCoverage } from './drills/coverage';
import { runDrill, type DrillResult } from './drills/harness';

const HELP = `Usage: npm run drills -- [--only TEXT] [--speed N] [--list]

Runs each failure drill against a fresh local stack (moto, the bundled handlers, the local
CloudWatch and CodeDeploy) and prints a matrix: drill -> alarms expected -> alarms fired -> clock
time to fire -> notification delivered. The local environment runs with canary deployments on,
so its template carries the same alarms and deployment groups as prod. Then every alarm of the
prod template is listed with the drill that fired it, or why no drill can.

Exits 1 when an expected alarm does not fire, an unexpected one does, a drill's own check fails,
or (on a full run) a prod alarm is neither fired nor explained.

Options:
  --only TEXT   run only the drills whose name contains TEXT
  --speed N     CloudWatch clock speed (default 30: a 60 s period passes in 2 s)
  --list        list the drills and exit
  -h, --help    show this help`;

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

class UsageError extends Error {}

function printMatrix(results: readonly DrillResult[], speed: number): void {
  const rows = results.map((result) => [
    result.passed ? 'PASS' : 'FAIL',
    result.drill,
    result.expected.join(', ') || '(none)',
    result.fired.map((alarm) => alarm.id.replace(/^Observability/, '')).join(', ') || '(none)',
    result.fired
      .map((alarm) => `${alarm.secondsToFire}s (${Math.round(alarm.secondsToFire / speed)}s wall)`)
      .join(', ') || '-',
    result.fired
      .map((alarm) =>
        alarm.notified
          ? 'yes'
          : alarm.hasActions
            ? `NO (${alarm.notDelivered ?? 'not received'})`
            : 'no action (canary alarm: the rollback is its action)',
      )
      .join(', ') || '-',
  ]);
  const header = [
    '',
    'drill',
    'alarms expected',
    'alarms fired',
    'time to fire (clock)',
    'notification delivered',
  ];
  console.log('\n' + [header, ...rows].map((row) => row.join(' | ')).join('\n'));
  for (const result of results) {
    const problems = [
      ...result.missing.map((id) => `expected alarm did not fire: ${id}`),
      ...result.unexpected.map((id) => `unexpected alarm fired: ${id}`),
      ...result.checks
        .filter((check) => !check.ok)
        .map((check) => `check failed: ${check.name} (${check.detail})`),
    ];
    for (const problem of problems) console.log(`  ${result.drill}: ${problem}`);
  }
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      only: { type: 'string' },
      speed: { type: 'string', default: '30' },
      list: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  if (values.list) {
    for (const drill of DRILLS) console.log(`${drill.name}: ${drill.summary}`);
    return 0;
  }
  const speed = Number(values.speed);
  if (!(speed >= 1 && speed <= 120)) throw new UsageError(`--speed must be 1..120, got ${values.speed}`);
  const drills = DRILLS.filter((drill) => !values.only || drill.name.includes(values.only));
  if (drills.length === 0) throw new UsageError(`no drill matches "${values.only}" (see --list)`);

  const started = performance.now();
  // The local settings with canary deployments on: the local stack runs the live aliases and
  // CodeDeploy's traffic shifting (scripts/local/canary), so the drills see prod's alarm set.
  const config = validateEnvironment({ ...loadEnvironment('local'), canaryDeployments: true });
  console.log('[drills] synthesizing the local environment with canary deployments');
  const templates = await synthesizeTemplates(config);
  const results: DrillResult[] = [];
  for (const [index, drill] of drills.entries()) {
    console.log(`[drills] ${index + 1}/${drills.length} ${drill.name}: ${drill.summary}`);
    const result = await runDrill(drill, {
      config,
      templates,
      speed,
      onProgress: (line) => console.log(line),
    });
    console.log(`[drills] ${drill.name}: ${result.passed ? 'PASS' : 'FAIL'} in ${result.wallSeconds} s`);
    results.push(result);
  }
  printMatrix(results, speed);

  let coverageOk = true;
  if (!values.only) {
    const prod = await synthesizeTemplates(loadEnvironment('prod'));
    const coverage = alarmCoverage(prod, results);
    console.log(`\nEvery alarm of the prod template (${coverage.length}):`);
    for (const row of coverage) {
      const covered =
        row.firedBy.length > 0
          ? `fired by: ${row.firedBy.join('; ')}`
          : row.reason
            ? `not drillable locally: ${row.reason}`
            : 'NOT COVERED';
      console.log(`  ${row.id.replace(/^Observability/, '')}: ${covered}`);
      if (row.firedBy.length === 0 && !row.reason) coverageOk = false;
    }
  }
  const passed = results.every((result) => result.passed) && coverageOk;
  console.log(
    `\n[drills] ${results.filter((result) => result.passed).length}/${results.length} drills passed in ${Math.round((performance.now() - started) / 1000)} s${coverageOk ? '' : '; some prod alarms are neither drilled nor explained'}`,
  );
  return passed ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error: Error) => {
    if (error instanceof UsageError) console.error(`error: ${error.message}\n\n${HELP}`);
    else if (error instanceof EmulatorUnavailableError) console.error(`error: ${error.message}`);
    else console.error(`error: the drills did not run: ${error.stack ?? error.message}`);
    process.exit(1);
  },
);
