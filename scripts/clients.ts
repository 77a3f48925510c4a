import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { OUTPUTS } from '../infra/stacks/order-pipeline-stack';
import { CLIENTS_HELP, parseClientsArgs } from './ops/clients-arguments';
import { EXIT, runCli } from './ops/cli';
import { cacheNotice, changeClient, describeClients, readClients, sizeLine } from './ops/clients';
import { requireOutput, resolveStackTarget } from './ops/stack-target';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

async function main(): Promise<number> {
  const command = parseClientsArgs(process.argv.slice(2));
  if (command.kind === 'help') {
    console.log(CLIENTS_HELP);
    return EXIT.ok;
  }
  const stack = await resolveStackTarget(command.target);
  const secrets = new SecretsManagerClient(stack.clients);
  const secretId = requireOutput(stack.outputs, OUTPUTS.clientSecretsId);
  const cacheSeconds = stack.outputs[OUTPUTS.clientSecretsCacheSeconds];
  if (command.kind === 'list') {
    const { document, versionId } = await readClients(secrets, secretId);
    for (const line of describeClients(document)) console.log(line);
    console.log(`version ${versionId} on ${stack.description}`);
    console.log(cacheNotice(command.kind, cacheSeconds));
    return EXIT.ok;
  }
  const { change } = command;
  const result = await changeClient(secrets, secretId, change);
  console.log(
    `${change.kind} ${change.clientId}: done on ${stack.description} (version ${result.versionId})`,
  );
  // The only place a secret is shown: once, on its own line, for the operator to hand over.
  if (result.secret !== undefined) console.log(`secret ${result.secret}`);
  console.log(cacheNotice(change.kind, cacheSeconds));
  console.log(sizeLine(result.bytes));
  return EXIT.ok;
}

void runCli('clients', main).then((code) => process.exit(code));
