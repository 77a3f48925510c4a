/**
 * The command lines of the operations CLIs: help texts and parsing into plain commands, apart
 * from any AWS call so they are tested on their own. Every mistake is a {@link UsageError}.
 */
import { parseArgs } from 'node:util';
import { ORDER_ID_PATTERN } from '../../lambdas/shared/order-schema';
import { orderKey } from '../../lambdas/shared/runtime-contract';
import { CLIENT_ID_PATTERN } from '../../lambdas/shared/signing';
import { parseDay, parsePositiveInteger, UsageError } from './cli';
import type { ReplaySelection } from './replay';
import type { TargetOptions } from './stack-target';

/** The `--stack` / `--region` part of every operations CLI's help. */
export const TARGET_HELP = `Target (default: the local stack that \`npm start\` runs):
  --stack NAME      a deployed stack, by its CloudFormation name (outputs are read from it)
  --region R        its region (default: the AWS SDK's, e.g. AWS_REGION)`;

export const REDRIVE_HELP = `Usage: npm run redrive -- --queue NAME [options]

Moves the messages of a subscriber's dead-letter queue back to its queue, so its consumer tries
them again. Uses SQS StartMessageMoveTask; where the endpoint lacks it (the local emulator), a
receive / send / delete loop that deletes a message only after it is back in the source queue.

Options:
  --queue NAME      the subscriber: billing, archive, ... or all
  --dry-run         count the messages, move nothing
  --from-table      the DLQ is already drained: send the bodies kept in the failed-orders table
                    back instead (orders stay FAILED: FAILED is terminal; side effects happen once)
  --order-id ID     with --from-table: only this order of --client (repeatable)
  --client ID       the client whose order ids --order-id names (ids are per client)
  --max N           move at most N messages (receive loop only)
  -h, --help        show this help

${TARGET_HELP}

Exit codes: 0 done, 1 failed, 2 usage error.`;

export const REPLAY_HELP = `Usage: npm run replay -- (--from DAY [--to DAY] | --order-id ID...) [options]

Re-publishes archived orders (the archive bucket) as the OrderPlaced event the workflow sent.
Safe to repeat: every consumer is idempotent, so a replayed order is billed and archived once.

Options:
  --from YYYY-MM-DD   first day (UTC, by the order's created_at) to replay
  --to YYYY-MM-DD     last day, included (default: --from)
  --order-id ID       replay this order of --client (repeatable; with --from/--to, searched in
                      those days only)
  --client ID         the client whose order ids --order-id names (ids are per client)
  --target T          topic (default: every subscriber whose filter matches) or a subscriber name
                      (billing, archive, ...) to send to that queue only
  --dry-run           list what would be replayed, send nothing
  -h, --help          show this help

${TARGET_HELP}

Exit codes: 0 done, 1 failed (or some objects were not orders), 2 usage error.`;

export const FAILED_ORDERS_HELP = `Usage: npm run failed-orders -- <command> [options]

Commands:
  list                      one line per failure, oldest first
  show --client ID ORDER_ID every failure of one order of that client, with its body
  export --format F         all failures as json or csv (to stdout, or --out FILE)

Options (list and export):
  --source NAME     only failures from this source (a DLQ name, or workflow)
  --since ISO       only failures at or after this time (e.g. 2026-01-01 or 2026-01-01T10:00:00Z)
  --format F        json or csv (export; default json)
  --out FILE        write the export to FILE
  -h, --help        show this help

${TARGET_HELP}

Exit codes: 0 done, 1 failed, 2 usage error.`;

/** The parseArgs options every operations CLI takes. */
export const TARGET_OPTIONS = {
  stack: { type: 'string' },
  region: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** Runs node's parseArgs, turning its errors (unknown option, missing value) into usage errors. */
export function usage<T>(parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

function clientId(value: string | undefined): string | undefined {
  if (value !== undefined && !CLIENT_ID_PATTERN.test(value))
    throw new UsageError(`--client must be 1-64 of [A-Za-z0-9._-], got ${value}`);
  return value;
}

/**
 * The order keys `--client` and `--order-id` name: order ids are per client (CONTRACT.md), so an
 * id alone is ambiguous. @throws UsageError for a bad id, or ids without `--client`
 */
function orderKeys(
  values: { 'order-id'?: string[]; client?: string },
  idName = '--order-id',
): string[] | undefined {
  const ids = values['order-id'];
  for (const id of ids ?? []) {
    if (!ORDER_ID_PATTERN.test(id))
      throw new UsageError(`--order-id must be 1-64 of [A-Za-z0-9_-], got ${id}`);
  }
  const client = clientId(values.client);
  if (ids === undefined || ids.length === 0) {
    if (client !== undefined) throw new UsageError('--client goes with --order-id');
    return undefined;
  }
  if (client === undefined) throw new UsageError(`${idName} needs --client (order ids are per client)`);
  return ids.map((id) => orderKey(client, id));
}

/** `--stack` and `--region` as given. @throws UsageError for `--region` alone */
export function target(values: { stack?: string; region?: string }): TargetOptions {
  if (values.region !== undefined && values.stack === undefined)
    throw new UsageError('--region goes with --stack');
  return { stack: values.stack, region: values.region };
}

/** `redrive` as parsed. */
export interface RedriveCommand {
  help: boolean;
  queue: string;
  dryRun: boolean;
  fromTable: boolean;
  /** `<client>#<order id>` of each `--order-id`. */
  orderKeys?: string[];
  maxMessages?: number;
  target: TargetOptions;
}

export function parseRedriveArgs(argv: string[]): RedriveCommand {
  const { values, positionals } = usage(() =>
    parseArgs({
      args: argv,
      options: {
        ...TARGET_OPTIONS,
        queue: { type: 'string' },
        'dry-run': { type: 'boolean' },
        'from-table': { type: 'boolean' },
        'order-id': { type: 'string', multiple: true },
        client: { type: 'string' },
        max: { type: 'string' },
      },
      allowPositionals: true,
      strict: true,
    }),
  );
  const base = { dryRun: values['dry-run'] === true, fromTable: values['from-table'] === true };
  if (values.help) return { help: true, queue: '', ...base, target: {} };
  if (positionals.length > 0) throw new UsageError(`unexpected argument ${positionals[0]}`);
  if (values.queue === undefined || values.queue === '')
    throw new UsageError('--queue is required (a subscriber name, or all)');
  const keys = orderKeys(values);
  if (keys !== undefined && !base.fromTable) throw new UsageError('--order-id goes with --from-table');
  if (values.max !== undefined && base.fromTable) throw new UsageError('--max does not go with --from-table');
  return {
    help: false,
    queue: values.queue,
    ...base,
    orderKeys: keys,
    maxMessages: values.max === undefined ? undefined : parsePositiveInteger(values.max, '--max'),
    target: target(values),
  };
}

/** `replay` as parsed. */
export interface ReplayCommand {
  help: boolean;
  selection: ReplaySelection;
  /** `topic` or a subscriber name. */
  target: string;
  dryRun: boolean;
  stack: TargetOptions;
}

export function parseReplayArgs(argv: string[]): ReplayCommand {
  const { values, positionals } = usage(() =>
    parseArgs({
      args: argv,
      options: {
        ...TARGET_OPTIONS,
        from: { type: 'string' },
        to: { type: 'string' },
        'order-id': { type: 'string', multiple: true },
        client: { type: 'string' },
        target: { type: 'string' },
        'dry-run': { type: 'boolean' },
      },
      allowPositionals: true,
      strict: true,
    }),
  );
  const dryRun = values['dry-run'] === true;
  if (values.help) return { help: true, selection: {}, target: 'topic', dryRun, stack: {} };
  if (positionals.length > 0) throw new UsageError(`unexpected argument ${positionals[0]}`);
  const keys = orderKeys(values);
  if (values.from === undefined && keys === undefined)
    throw new UsageError('give --from DAY (and --to DAY) or --order-id ID');
  if (values.to !== undefined && values.from === undefined) throw new UsageError('--to goes with --from');
  const from = values.from === undefined ? undefined : parseDay(values.from, '--from');
  const to = values.to === undefined ? from : parseDay(values.to, '--to');
  if (from && to && to < from) throw new UsageError('--to is before --from');
  if (from && to && (to.getTime() - from.getTime()) / 86_400_000 >= 366)
    throw new UsageError('a replay covers at most 366 days');
  if (values.target === '') throw new UsageError('--target must be topic or a subscriber name');
  return {
    help: false,
    selection: { from, to, orderKeys: keys },
    target: values.target ?? 'topic',
    dryRun,
    stack: target(values),
  };
}

/** `failed-orders` as parsed. */
export type FailedOrdersCommand =
  | { kind: 'help' }
  | { kind: 'list'; source?: string; since?: string; target: TargetOptions }
  | { kind: 'show'; orderKey: string; target: TargetOptions }
  | {
      kind: 'export';
      format: 'json' | 'csv';
      out?: string;
      source?: string;
      since?: string;
      target: TargetOptions;
    };

function since(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const time = Date.parse(value);
  if (Number.isNaN(time)) throw new UsageError(`--since must be a date or time (ISO 8601), got ${value}`);
  return new Date(time).toISOString();
}

export function parseFailedOrdersArgs(argv: string[]): FailedOrdersCommand {
  const { values, positionals } = usage(() =>
    parseArgs({
      args: argv,
      options: {
        ...TARGET_OPTIONS,
        source: { type: 'string' },
        since: { type: 'string' },
        format: { type: 'string' },
        out: { type: 'string' },
        client: { type: 'string' },
      },
      allowPositionals: true,
      strict: true,
    }),
  );
  if (values.help) return { kind: 'help' };
  const [command, ...rest] = positionals;
  const stack = target(values);
  const onlyFor = (allowed: string, ...names: Array<keyof typeof values>) => {
    for (const name of names)
      if (values[name] !== undefined) throw new UsageError(`--${name} goes with ${allowed}`);
  };
  switch (command) {
    case 'list':
      if (rest.length > 0) throw new UsageError(`unexpected argument ${rest[0]}`);
      onlyFor('export', 'format', 'out');
      onlyFor('show', 'client');
      return { kind: 'list', source: values.source, since: since(values.since), target: stack };
    case 'show': {
      const [orderId, ...extra] = rest;
      if (orderId === undefined) throw new UsageError('show needs an order id');
      if (extra.length > 0) throw new UsageError(`unexpected argument ${extra[0]}`);
      onlyFor('list or export', 'source', 'since');
      onlyFor('export', 'format', 'out');
      const [key] = orderKeys({ 'order-id': [orderId], client: values.client }, 'show ORDER_ID') ?? [];
      if (key === undefined) throw new UsageError('show needs an order id');
      return { kind: 'show', orderKey: key, target: stack };
    }
    case 'export': {
      if (rest.length > 0) throw new UsageError(`unexpected argument ${rest[0]}`);
      onlyFor('show', 'client');
      const format = values.format ?? 'json';
      if (format !== 'json' && format !== 'csv')
        throw new UsageError(`--format must be json or csv, got ${format}`);
      return {
        kind: 'export',
        format,
        out: values.out,
        source: values.source,
        since: since(values.since),
        target: stack,
      };
    }
    case undefined:
      throw new UsageError('give a command: list, show ORDER_ID or export');
    default:
      throw new UsageError(`unknown command ${command}; use list, show or export`);
  }
}
