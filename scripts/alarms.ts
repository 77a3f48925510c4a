import { parseArgs } from 'node:util';
import { NoAlarmStatesError, readAlarmStates } from './local/alarms/state-file';

const HELP = `Usage: npm run alarms -- [--json] [--state STATE]

Lists the alarms of the local stack that \`npm start\` runs, with their current state (OK, ALARM,
INSUFFICIENT_DATA), since when, and CloudWatch's reason. The states come from the local
CloudWatch inside \`npm start\`, which evaluates every alarm of the synthesized template.

Options:
  --state S   only alarms in state S (OK, ALARM or INSUFFICIENT_DATA)
  --json      print the states as JSON
  -h, --help  show this help`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      json: { type: 'boolean', default: false },
      state: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(HELP);
    return;
  }
  const wanted = values.state?.toUpperCase();
  if (wanted && !['OK', 'ALARM', 'INSUFFICIENT_DATA'].includes(wanted))
    throw new UsageError(`--state must be OK, ALARM or INSUFFICIENT_DATA, got ${values.state}`);
  const snapshot = await readAlarmStates();
  const alarms = snapshot.alarms.filter((alarm) => !wanted || alarm.state === wanted);
  if (values.json) {
    console.log(JSON.stringify(alarms, null, 2));
    return;
  }
  const width = Math.max(...alarms.map((alarm) => alarm.logicalId.length), 5);
  console.log(`${'alarm'.padEnd(width)}  ${'state'.padEnd(17)}  since                     reason`);
  for (const alarm of alarms) {
    console.log(
      `${alarm.logicalId.padEnd(width)}  ${alarm.state.padEnd(17)}  ${new Date(alarm.since).toISOString()}  ${alarm.reason}`,
    );
  }
  const inAlarm = snapshot.alarms.filter((alarm) => alarm.state === 'ALARM').length;
  console.log(`\n${snapshot.alarms.length} alarms, ${inAlarm} in ALARM (as of ${snapshot.writtenAt})`);
}

class UsageError extends Error {}

main().catch((error: Error) => {
  if (error instanceof UsageError) console.error(`error: ${error.message}\n\n${HELP}`);
  else if (error instanceof NoAlarmStatesError) console.error(`error: ${error.message}`);
  else console.error(`error: ${error.message}`);
  process.exit(1);
});
