import { resolveNs } from 'node:dns/promises';
import { parseArgs } from 'node:util';
import { ENVIRONMENT_NAMES, isEnvironmentName, loadEnvironment } from '../environments';
import { loadDelivery } from '../environments/delivery';
import { deliveryFilePath, findPlaceholders, loadDeliveryFile } from '../environments/delivery-file';
import { synthesizeEnvironment } from '../infra/stacks/synthesize';
import { LocalStackNotRunningError, readLocalStack } from './lib/local-state';
import { preflightClients } from './preflight/clients';
import { localPreflight } from './preflight/local';
import { PREFLIGHT_HELP } from './preflight/help';
import { CHECKS, formatResult, formatTotals, runPreflight, type PreflightOptions } from './preflight/run';
import { preflightTarget } from './preflight/target';
import type { CheckResult, PreflightClients } from './preflight/types';

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
        skip: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }).values;
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (values.help) {
    console.log(PREFLIGHT_HELP);
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

  const skip = (values.skip ?? '')
    .split(',')
    .map((id) => id.trim())
    .filter(Boolean);
  const skippable = CHECKS.filter((check) => check.run).map((check) => check.id);
  const unknown = skip.filter((id) => !skippable.includes(id));
  if (unknown.length > 0) {
    throw new UsageError(`--skip takes ${skippable.join(', ')}; not ${unknown.join(', ')}`);
  }

  const deliveryFile = deliveryFilePath();
  const content = loadDeliveryFile(deliveryFile);
  const delivery = loadDelivery(content);
  const base = loadEnvironment(values.env, content);
  const config = { ...base, region: values.region ?? base.region };
  console.error(`[preflight] synthesizing ${config.name} to read its reservations and bootstrap rule...`);
  const synthesized = synthesizeEnvironment(config);
  const target = preflightTarget({
    config,
    delivery,
    template: synthesized.template,
    stackName: values.stack ?? synthesized.stackName,
    deliveryFile: { path: deliveryFile, placeholders: findPlaceholders(content) },
  });

  const onResult = (result: CheckResult) => console.log(formatResult(result));
  let clients: PreflightClients;
  let options: PreflightOptions;
  let where: string;
  if (target.platform === 'local') {
    const local = localPreflight(await readLocalStack());
    clients = local.clients;
    options = { readStack: local.readStack, onResult, skip };
    where = 'the emulator of npm start';
  } else {
    clients = preflightClients({
      region: target.region,
      profile: values.profile,
      toolingProfile: values['tooling-profile'],
      toolingRegion: delivery.region,
    });
    options = { lookupNameServers: resolveNs, onResult, skip };
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
