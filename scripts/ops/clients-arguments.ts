/** The command line of `npm run clients`: help text and parsing, apart from any AWS call. */
import { parseArgs } from 'node:util';
import { TARGET_HELP, TARGET_OPTIONS, target, usage } from './arguments';
import { CLIENT_ID_PATTERN } from '../../lambdas/shared/signing';
import { UsageError } from './cli';
import type { ClientChange } from './clients';
import { MAX_SECRETS_PER_CLIENT, SECRET_VALUE_MAX_BYTES, clientsThatFit } from './clients';
import type { TargetOptions } from './stack-target';

export const CLIENTS_HELP = `Usage: npm run clients -- <command> [options]

Manages the clients allowed to sign requests: the JSON secret
{"clients": {"<id>": ["<secret>", ...]}} in Secrets Manager.

Commands:
  list            every client id and how many secrets it has (never a secret value)
  add ID          a new client; prints its secret once, on a line "secret <value>"
  rotate ID       a new secret for ID, printed once; the old one stays valid until retire
  retire ID       drop ID's old secret after a rotation (only the newest stays valid)
  remove ID       the client can no longer sign

Each change reads the secret, changes it and writes it back only if nobody else wrote in
between (optimistic concurrency on the secret's AWSCURRENT version); a concurrent change is
reported, nothing is lost, and the command can be run again. The publisher caches the secrets:
the command prints how long until a change (a revocation too) takes effect.

Limits: one secret holds at most ${SECRET_VALUE_MAX_BYTES} bytes, about ${clientsThatFit(64, 1)} clients with 64-character ids
(${clientsThatFit(64, MAX_SECRETS_PER_CLIENT)} if all rotate at once); a change that would pass it is refused. Secrets Manager
advises at most one change per 10 minutes sustained (each change is a new version).

Options:
  -h, --help        show this help

${TARGET_HELP}

Exit codes: 0 done, 1 failed (including a concurrent change), 2 usage error.`;

/** `clients` as parsed. */
export type ClientsCommand =
  | { kind: 'help' }
  | { kind: 'list'; target: TargetOptions }
  | { kind: 'change'; change: ClientChange; target: TargetOptions };

const CHANGES = ['add', 'rotate', 'retire', 'remove'] as const;

/** Parses the arguments after `npm run clients --`. @throws UsageError */
export function parseClientsArgs(argv: string[]): ClientsCommand {
  const { values, positionals } = usage(() =>
    parseArgs({ args: argv, options: TARGET_OPTIONS, allowPositionals: true, strict: true }),
  );
  if (values.help) return { kind: 'help' };
  const [command, ...rest] = positionals;
  const stack = target(values);
  if (command === undefined) throw new UsageError(`give a command: list, ${CHANGES.join(', ')}`);
  if (command === 'list') {
    if (rest.length > 0) throw new UsageError(`unexpected argument ${rest[0]}`);
    return { kind: 'list', target: stack };
  }
  const kind = CHANGES.find((name) => name === command);
  if (kind === undefined) {
    throw new UsageError(`unknown command ${command}; use list, ${CHANGES.join(', ')}`);
  }
  const [clientId, ...extra] = rest;
  if (clientId === undefined) throw new UsageError(`${kind} needs a client id`);
  if (extra.length > 0) throw new UsageError(`unexpected argument ${extra[0]}`);
  if (!CLIENT_ID_PATTERN.test(clientId)) {
    throw new UsageError(`a client id is 1-64 characters of [A-Za-z0-9._-], got ${JSON.stringify(clientId)}`);
  }
  return { kind: 'change', change: { kind, clientId }, target: stack };
}
