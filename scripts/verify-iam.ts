import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { DEPLOYED_ENVIRONMENTS } from '../environments/delivery';
import { PROJECT_ROOT } from './local/lambda-runtime';
import type { Recording } from './local/calls/recorder';
import { recordScenarios } from './iam/scenarios';
import { verifyRecording } from './iam/verify';
import { EXIT, runCli, UsageError } from './ops/cli';

/** Where the recording of the last scenario run is kept. */
export const DEFAULT_CALLS_FILE = join(PROJECT_ROOT, '.local', 'iam', 'calls.json');

const HELP = `Usage: npm run verify:iam -- [options]

Evaluates every AWS call the local stack's scenarios make (each with the principal that makes it on
AWS) against the synthesized identity, resource and key policies of each deployed environment, with
@cloud-copilot/iam-simulate. Fails on any denied call, on an unused grant or interface endpoint that
scripts/iam/unused-grants.ts does not acknowledge, and on an acknowledgement that matches nothing.

Options:
  --calls FILE        recording to evaluate (default .local/iam/calls.json; recorded first if missing)
  --record            run the scenarios on a fresh local stack first (about 3 minutes) and save them
  --env NAME[,NAME]   environments to evaluate (default ${DEPLOYED_ENVIRONMENTS.join(',')})
  --without ACTION    remove ACTION (e.g. dynamodb:UpdateItem) from every policy first; repeatable
  --help              this text`;

interface Args {
  calls: string;
  record: boolean;
  environments: string[];
  without: string[];
}

function parseArgs(argv: string[]): Args | undefined {
  const args: Args = {
    calls: DEFAULT_CALLS_FILE,
    record: false,
    environments: [...DEPLOYED_ENVIRONMENTS],
    without: [],
  };
  for (let index = 0; index < argv.length; index += 1) {
    const option = argv[index];
    const value = () => {
      const next = argv[(index += 1)];
      if (next === undefined || next.startsWith('--')) throw new UsageError(`${option} needs a value`);
      return next;
    };
    switch (option) {
      case '--help':
      case '-h':
        return undefined;
      case '--calls':
        args.calls = value();
        break;
      case '--record':
        args.record = true;
        break;
      case '--env':
        args.environments = value().split(',');
        for (const name of args.environments)
          if (!(DEPLOYED_ENVIRONMENTS as readonly string[]).includes(name))
            throw new UsageError(
              `--env: ${name} is not a deployed environment (${DEPLOYED_ENVIRONMENTS.join(', ')})`,
            );
        break;
      case '--without': {
        const action = value();
        if (!/^[a-z0-9-]+:[A-Za-z0-9]+$/.test(action))
          throw new UsageError(`--without: ${action} is not an IAM action such as dynamodb:UpdateItem`);
        args.without.push(action);
        break;
      }
      default:
        throw new UsageError(`unknown option ${option}; see --help`);
    }
  }
  return args;
}

void runCli('verify:iam', async () => {
  const args = parseArgs(process.argv.slice(2));
  if (!args) {
    console.log(HELP);
    return EXIT.ok;
  }
  let recording: Recording;
  if (args.record || !existsSync(args.calls)) {
    console.error(`recording the scenarios on a local stack into ${args.calls}`);
    recording = await recordScenarios({ onProgress: (message) => console.error(`  ${message}`) });
    await mkdir(dirname(args.calls), { recursive: true });
    await writeFile(args.calls, `${JSON.stringify(recording, null, 1)}\n`);
  } else {
    recording = JSON.parse(await readFile(args.calls, 'utf8')) as Recording;
    if (recording.version !== 1) throw new UsageError(`${args.calls} is not a recording of this version`);
  }
  const result = await verifyRecording(recording, {
    environments: args.environments,
    without: args.without,
    onProgress: (message) => console.error(message),
  });
  console.log(result.lines.join('\n'));
  return result.ok ? EXIT.ok : EXIT.failed;
}).then((code) => {
  process.exitCode = code;
});
