/**
 * The client lifecycle on the client-secrets secret of CONTRACT.md
 * (`{"clients": {"<id>": ["<newest secret>", "<older secret still accepted>"]}}`): add, rotate,
 * retire, remove, each one read-modify-write of the whole document with optimistic concurrency.
 *
 * Secrets Manager has no conditional PutSecretValue, so a write is two steps:
 * 1. PutSecretValue of the new document with a fresh ClientRequestToken (the new VersionId) and
 *    only the AWSPENDING label: the publisher, which reads AWSCURRENT, does not see it yet. A
 *    retry of this call with the same token creates nothing new (idempotent).
 * 2. UpdateSecretVersionStage moving AWSCURRENT to the new version, removing it from the version
 *    this command read. "If the label is attached and you either do not specify this parameter,
 *    or the version ID does not match, then the operation fails"
 *    (https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_UpdateSecretVersionStage.html),
 *    so a change made by someone else in between makes this step fail instead of being lost.
 *    Moving AWSCURRENT moves AWSPREVIOUS to the version it left (same page).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import {
  DescribeSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  UpdateSecretVersionStageCommand,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { CURRENT_SECRET_STAGE, parseClientSecrets } from '../../lambdas/publisher/client-secrets';
import { CLIENT_ID_PATTERN } from '../../lambdas/shared/signing';

/**
 * Largest SecretString Secrets Manager stores, in bytes (UTF-8)
 * (https://docs.aws.amazon.com/secretsmanager/latest/userguide/reference_limits.html).
 */
export const SECRET_VALUE_MAX_BYTES = 65_536;

/** Secrets a client holds at most: the current one and, during a rotation, the one before it. */
export const MAX_SECRETS_PER_CLIENT = 2;

/** Bytes of randomness in a generated client secret (256 bits, like the HMAC-SHA256 key size). */
const SECRET_BYTES = 32;

/** Length of a generated secret: 32 bytes in base64url. */
export const GENERATED_SECRET_LENGTH = Math.ceil((SECRET_BYTES * 4) / 3);

const CURRENT = CURRENT_SECRET_STAGE;
const PENDING = 'AWSPENDING';

/** The secret's document: `clients` plus whatever else the document holds (kept as it is). */
export interface ClientsDocument {
  clients: Record<string, string[]>;
  [key: string]: unknown;
}

/** A document and the version it was read from. */
export interface ClientsVersion {
  versionId: string;
  document: ClientsDocument;
}

/** One lifecycle step. */
export type ClientChange =
  | { kind: 'add'; clientId: string }
  | { kind: 'rotate'; clientId: string }
  | { kind: 'retire'; clientId: string }
  | { kind: 'remove'; clientId: string };

/** A change that makes no sense for the document as it is (unknown client, nothing to retire...). */
export class ClientChangeRefusedError extends Error {
  override readonly name = 'ClientChangeRefusedError';
}

/** The new document would pass Secrets Manager's size limit; nothing was written. */
export class SecretTooLargeError extends Error {
  override readonly name = 'SecretTooLargeError';
  constructor(
    readonly bytes: number,
    readonly clientsThatFit: number,
  ) {
    super(
      `the client secrets would be ${bytes} bytes, over Secrets Manager's ${SECRET_VALUE_MAX_BYTES}-byte ` +
        `limit; about ${clientsThatFit} clients (64-character ids, rotating) fit in one secret. ` +
        'Remove unused clients, or see README "Clients" for the way past one secret',
    );
  }
}

/** Someone else changed the secret between this command's read and its write; nothing was lost. */
export class ConcurrentChangeError extends Error {
  override readonly name = 'ConcurrentChangeError';
  constructor(
    readonly readVersionId: string,
    readonly currentVersionId: string | undefined,
  ) {
    super(
      `the client secrets changed while this command ran (read version ${readVersionId}, current is now ` +
        `${currentVersionId ?? 'unknown'}); this change was not applied and the other one is kept. ` +
        'Run the command again',
    );
  }
}

/** A new client secret: 256 random bits, base64url (no character that needs quoting anywhere). */
export function generateClientSecret(): string {
  return randomBytes(SECRET_BYTES).toString('base64url');
}

/** Size of a document as it is stored: UTF-8 bytes of its JSON. */
export function documentBytes(document: ClientsDocument): number {
  return Buffer.byteLength(JSON.stringify(document), 'utf8');
}

const EMPTY_DOCUMENT_BYTES = '{"clients":{}}'.length;

/** Bytes of one `"<id>":["<secret>",...]` entry with generated secrets. */
function entryBytes(idLength: number, secretsPerClient: number): number {
  const secrets = Array.from({ length: secretsPerClient }, () => 's'.repeat(GENERATED_SECRET_LENGTH));
  return JSON.stringify({ ['x'.repeat(idLength)]: secrets }).length - 2;
}

/**
 * How many clients fit in one secret when each has an id of `idLength` characters and
 * `secretsPerClient` generated secrets (entries are joined by a comma).
 */
export function clientsThatFit(idLength = 64, secretsPerClient = MAX_SECRETS_PER_CLIENT): number {
  return Math.floor(
    (SECRET_VALUE_MAX_BYTES - EMPTY_DOCUMENT_BYTES + 1) / (entryBytes(idLength, secretsPerClient) + 1),
  );
}

function requireClientId(clientId: string): void {
  if (!CLIENT_ID_PATTERN.test(clientId)) {
    throw new ClientChangeRefusedError(`a client id is 1-64 characters of [A-Za-z0-9._-], got ${clientId}`);
  }
}

/**
 * The document after one change, and the new secret for `add` and `rotate`. The input is not
 * modified. `rotate` puts the new secret first and keeps the old one valid until `retire`.
 * @throws ClientChangeRefusedError when the change does not fit the document.
 */
export function applyClientChange(
  document: ClientsDocument,
  change: ClientChange,
  newSecret: () => string = generateClientSecret,
): { document: ClientsDocument; secret?: string } {
  requireClientId(change.clientId);
  const clients = { ...document.clients };
  const existing = Object.hasOwn(clients, change.clientId) ? clients[change.clientId] : undefined;
  const next = (updated: Record<string, string[]>) => ({ ...document, clients: updated });
  if (change.kind === 'add') {
    if (existing !== undefined) {
      throw new ClientChangeRefusedError(`client ${change.clientId} exists; use rotate for a new secret`);
    }
    const secret = newSecret();
    return { document: next({ ...clients, [change.clientId]: [secret] }), secret };
  }
  if (existing === undefined) throw new ClientChangeRefusedError(`no client ${change.clientId}`);
  switch (change.kind) {
    case 'rotate': {
      if (existing.length >= MAX_SECRETS_PER_CLIENT) {
        throw new ClientChangeRefusedError(
          `client ${change.clientId} is mid-rotation (${existing.length} active secrets); ` +
            'retire the old secret first',
        );
      }
      const secret = newSecret();
      return { document: next({ ...clients, [change.clientId]: [secret, ...existing] }), secret };
    }
    case 'retire': {
      const [newest] = existing;
      if (newest === undefined || existing.length < 2) {
        throw new ClientChangeRefusedError(`client ${change.clientId} has one secret; nothing to retire`);
      }
      return { document: next({ ...clients, [change.clientId]: [newest] }) };
    }
    case 'remove': {
      delete clients[change.clientId];
      return { document: next(clients) };
    }
  }
}

/**
 * Reads the current (AWSCURRENT) document and its version.
 * @throws Error when the secret is not a clients document (the message names paths, no values).
 */
export async function readClients(
  secrets: Pick<SecretsManagerClient, 'send'>,
  secretId: string,
): Promise<ClientsVersion> {
  const value = await secrets.send(new GetSecretValueCommand({ SecretId: secretId, VersionStage: CURRENT }));
  if (value.VersionId === undefined || value.SecretString === undefined) {
    throw new Error(`secret ${secretId} has no current string value`);
  }
  // The publisher's own parser: what it would refuse, this refuses to build on.
  const parsed = parseClientSecrets(value.SecretString);
  const raw = JSON.parse(value.SecretString) as Record<string, unknown>;
  const clients = Object.fromEntries([...parsed].map(([id, list]) => [id, [...list]]));
  return { versionId: value.VersionId, document: { ...raw, clients } };
}

function currentVersionOf(stages: Record<string, string[]> | undefined): string | undefined {
  return Object.entries(stages ?? {}).find(([, labels]) => labels.includes(CURRENT))?.[0];
}

/**
 * Writes `document` as the new current version, only if `base` is still the current one.
 * @returns the new version id.
 * @throws SecretTooLargeError before any call when the document is over the limit.
 * @throws ConcurrentChangeError when another writer moved AWSCURRENT after `base` was read.
 */
export async function writeClients(
  secrets: Pick<SecretsManagerClient, 'send'>,
  secretId: string,
  base: ClientsVersion,
  document: ClientsDocument,
  token: string = randomUUID(),
): Promise<string> {
  const bytes = documentBytes(document);
  if (bytes > SECRET_VALUE_MAX_BYTES) throw new SecretTooLargeError(bytes, clientsThatFit());
  await secrets.send(
    new PutSecretValueCommand({
      SecretId: secretId,
      ClientRequestToken: token,
      SecretString: JSON.stringify(document),
      VersionStages: [PENDING],
    }),
  );
  try {
    await secrets.send(
      new UpdateSecretVersionStageCommand({
        SecretId: secretId,
        VersionStage: CURRENT,
        MoveToVersionId: token,
        RemoveFromVersionId: base.versionId,
      }),
    );
  } catch (error) {
    // The stage move may have happened with its answer lost (a retry then fails because the
    // label is no longer on `base`), or another writer got there first: the stages tell which.
    const described = await secrets.send(new DescribeSecretCommand({ SecretId: secretId }));
    const current = currentVersionOf(described.VersionIdsToStages);
    if (current !== token) {
      if (current !== base.versionId) throw new ConcurrentChangeError(base.versionId, current);
      throw error;
    }
  }
  // The new version now carries AWSCURRENT; AWSPENDING on it would only confuse a reader. Best
  // effort: a concurrent writer's PutSecretValue may already have moved the label elsewhere.
  try {
    await secrets.send(
      new UpdateSecretVersionStageCommand({
        SecretId: secretId,
        VersionStage: PENDING,
        RemoveFromVersionId: token,
      }),
    );
  } catch {
    // Nothing depends on it.
  }
  return token;
}

/** What {@link changeClient} did. `secret` is set for `add` and `rotate`: show it once. */
export interface ClientChangeResult {
  versionId: string;
  document: ClientsDocument;
  bytes: number;
  secret?: string;
}

/** One lifecycle step: read, change, write with optimistic concurrency. */
export async function changeClient(
  secrets: Pick<SecretsManagerClient, 'send'>,
  secretId: string,
  change: ClientChange,
  newSecret?: () => string,
): Promise<ClientChangeResult> {
  const base = await readClients(secrets, secretId);
  const { document, secret } = applyClientChange(base.document, change, newSecret);
  const versionId = await writeClients(secrets, secretId, base, document);
  return { versionId, document, bytes: documentBytes(document), secret };
}

/** `list`: one line per client (id and how many active secrets, never a value) and the size. */
export function describeClients(document: ClientsDocument): string[] {
  const ids = Object.keys(document.clients).sort();
  const width = Math.max(9, ...ids.map((id) => id.length));
  const lines = [`${'client_id'.padEnd(width)}  secrets`];
  for (const id of ids) {
    const count = document.clients[id]?.length ?? 0;
    lines.push(
      `${id.padEnd(width)}  ${count}${count > 1 ? ' (rotating: retire the old one when done)' : ''}`,
    );
  }
  lines.push(`${ids.length} client(s)`);
  lines.push(sizeLine(documentBytes(document)));
  return lines;
}

/** The size of the document against the limit, and how many more clients fit. */
export function sizeLine(bytes: number): string {
  const more = Math.max(0, Math.floor((SECRET_VALUE_MAX_BYTES - bytes) / (entryBytes(64, 1) + 1)));
  return (
    `document size ${bytes} of ${SECRET_VALUE_MAX_BYTES} bytes: room for about ${more} more client(s) ` +
    `(64-character ids, one secret each; ${clientsThatFit()} in all if every client rotates at once)`
  );
}

/**
 * When the publisher acts on a change: its client-secrets cache time (the stack output
 * `ClientSecretsCacheSeconds`, the value the publisher is configured with).
 */
export function cacheNotice(kind: ClientChange['kind'] | 'list', cacheSeconds: string | undefined): string {
  const within =
    cacheSeconds === undefined
      ? 'within its client-secrets cache time (unknown: the stack has no ClientSecretsCacheSeconds output)'
      : `within ${cacheSeconds} s (its client-secrets cache time)`;
  switch (kind) {
    case 'add':
      return `The publisher accepts the new client ${within}.`;
    case 'rotate':
      return `The publisher accepts the new secret ${within}; the old one stays valid until retire.`;
    case 'retire':
      return `The publisher refuses the old secret ${within}.`;
    case 'remove':
      return `The publisher refuses the client ${within}.`;
    case 'list':
      return `The publisher sees a change ${within}.`;
  }
}
