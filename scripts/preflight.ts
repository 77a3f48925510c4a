import { resolveNs } from 'node:dns/promises';
import { parseArgs } from 'node:util';
import { ENVIRONMENT_NAMES, isEnvironmentName, loadEnvironment } from '../environments';
import { loadDelivery } from '../environments/delivery';
import { synthesizeEnvironment } from '../infra/stacks/synthesize';
import { LocalStackNotRunningError, readLocalStack } from './lib/local-state';
import { preflightClients } from './preflight/clients';
import { localPreflight } from './preflight/local';
import { CHECKS, formatResult, formatTotals, runPreflight, type PreflightOptions } from './preflight/run';
import { preflightTarget } from './preflight/target';
import type { CheckResult, PreflightClients } from './preflight/types';

const wrap = (text: string, indent: string) =>
  text
    .split(' ')
    .reduce<string[]>(
      (lines, word) => {
        const last = lines[lines.length - 1] ?? '';
        if (last.length + word.length + 1 > 96 - indent.length) lines.push(word);
        else lines[lines.length - 1] = last ? `${last} ${word}` : word;
        return lines;
      },
      [''],
    )
    .map((line) => `${indent}${line}`)
    .join('\n');

const HELP = `Usage: npm run preflight -- --env <${ENVIRONMENT_NAMES.join('|')}> [options]

Checks, with read-only calls, that an account can take this environment before its first deploy
(and before each deploy of the pipeline). One line per check: ✓ passed, ✗ failed (with the fix
under it), - skipped (with the reason). Exits non-zero on any ✗.

Options:
  --env E              ${ENVIRONMENT_NAMES.join(', ')} (required); local checks the stack \`npm start\` runs
  --profile P          AWS profile of the environment's account (default: the SDK's default chain,
                       AWS_PROFILE or the CodeBuild role)
  --region R           region of the environment (default: the environment's configured region)
  --tooling-profile P  profile of the tooling account, where the connection lives (default: --profile)
  --stack S            CloudFormation stack (default: the one the environment's stage deploys)
  -h, --help           show this help

Checks:
${CHECKS.map(
  (check) =>
    `  ${check.id}\n${wrap(check.verifies, '      ')}${
      check.notOnEmulator ? `\n${wrap(`local: skipped, ${check.notOnEmulator}.`, '      ')}` : ''
    }`,
).join('\n')}

Permissions: every call is a read; the CDK bootstrap's lookup role (ReadOnlyAccess) in the
environment's account allows all of them, plus codeconnections:GetConnection in the tooling account.

Exit status: 0 no check failed; 1 a check failed; 2 usage error; 3 the preflight could not run
(invalid configuration, no local stack).`;

class UsageError extends Error {
  override readonly name = 'UsageError';
}

// Lambda runs Node 22; on an older local Node the SDK's upgrade notice is noise here.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

async function main(): Promise<number> {
  let values;
  try {
    values = parseArgs({
      options: {
        env: { type: 'string' },
        profile: { type: 'string' },
        region: { type: 'string' },
        'tooling-profile': { type: 'string' },
        stack: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }).values;
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  if (!values.env) throw new UsageError(`--env is required (${ENVIRONMENT_NAMES.join(', ')})`);
  if (!isEnvironmentName(values.env)) {
    throw new UsageError(`--env must be one of ${ENVIRONMENT_NAMES.join(', ')}, got "${values.env}"`);
  }
  if (values.region !== undefined && !/^[a-z]{2}(-[a-z]+)+-\d$/.test(values.region)) {
    throw new UsageError(`--region must be an AWS region such as eu-west-1, got "${values.region}"`);
  }
  if (values.env === 'local' && (values.profile || values['tooling-profile'] || values.region)) {
    throw new UsageError(
      '--env local checks the emulator of `npm start`: --profile, --tooling-profile and --region do not apply',
    );
  }

  const delivery = loadDelivery();
  const base = loadEnvironment(values.env);
  const config = { ...base, region: values.region ?? base.region };
  console.error(`[preflight] synthesizing ${config.name} to read its reservations and bootstrap rule...`);
  const synthesized = synthesizeEnvironment(config);
  const target = preflightTarget({
    config,
    delivery,
    template: synthesized.template,
    stackName: values.stack ?? synthesized.stackName,
  });

  const onResult = (result: CheckResult) => console.log(formatResult(result));
  let clients: PreflightClients;
  let options: PreflightOptions;
  let where: string;
  if (target.platform === 'local') {
    const local = localPreflight(await readLocalStack());
    clients = local.clients;
    options = { readStack: local.readStack, onResult };
    where = 'the emulator of npm start';
  } else {
    clients = preflightClients({
      region: target.region,
      profile: values.profile,
      toolingProfile: values['tooling-profile'],
      toolingRegion: delivery.region,
    });
    options = { lookupNameServers: resolveNs, onResult };
    where = `account ${target.account ?? "(the credentials')"} in ${target.region}`;
  }
  console.log(`Preflight of ${target.environment} (${target.stackName}) against ${where}\n`);
  const results = await runPreflight(clients, target, options);
  console.log(`\n${formatTotals(results)}`);
  return results.some((result) => result.status === 'fail') ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (error instanceof UsageError) {
      console.error(`preflight: ${error.message}\n\nRun with --help for usage.`);
      process.exit(2);
    }
    if (error instanceof LocalStackNotRunningError) {
      console.error(`preflight: ${error.message}`);
      process.exit(3);
    }
    console.error(`preflight: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(3);
  },
);
