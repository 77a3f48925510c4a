import * as z from 'zod/mini';
import { CLIENT_ID_PATTERN } from '../shared/signing';

/**
 * The version the publisher reads. AWSCURRENT is GetSecretValue's default on AWS; asking for it by
 * name also holds where a version's labels were moved with UpdateSecretVersionStage (what
 * `npm run clients` does) and the emulator's default version did not follow (moto keeps the last
 * version it made current itself).
 */
export const CURRENT_SECRET_STAGE = 'AWSCURRENT';

/** Active secrets per client id (several during a rotation). */
export type ClientSecrets = ReadonlyMap<string, readonly string[]>;

/** Loads the current client secrets (cached by the implementation). */
export type ClientSecretsSource = () => Promise<ClientSecrets>;

const clientSecretsDocument = z.object({
  clients: z.record(
    z.string().check(z.regex(CLIENT_ID_PATTERN)),
    z.array(z.string().check(z.minLength(1))).check(z.minLength(1)),
  ),
});

/**
 * Reads the Secrets Manager secret of CONTRACT.md: `{"clients": {"<id>": ["<secret>", ...]}}`.
 * Error messages name the offending path only, never a secret value.
 * @throws Error when the document does not have that shape.
 */
export function parseClientSecrets(secretString: string): ClientSecrets {
  let value: unknown;
  try {
    value = JSON.parse(secretString);
  } catch {
    throw new Error('client secrets document is not valid JSON');
  }
  const result = clientSecretsDocument.safeParse(value);
  if (!result.success) {
    const paths = result.error.issues.map((issue) => issue.path.map(String).join('.'));
    throw new Error(`client secrets document has the wrong shape at: ${paths.join(', ')}`);
  }
  return new Map(Object.entries(result.data.clients));
}

/**
 * A {@link ClientSecretsSource} over a fetcher of the raw secret string (the fetcher caches;
 * this only avoids parsing the same string twice).
 * @throws Error when the secret is binary or empty.
 */
export function clientSecretsFrom(
  fetchSecret: () => Promise<string | Uint8Array | undefined>,
): ClientSecretsSource {
  let lastRaw: string | undefined;
  let lastParsed: ClientSecrets | undefined;
  return async () => {
    const raw = await fetchSecret();
    if (typeof raw !== 'string') throw new Error('client secrets document is not a string secret');
    if (raw !== lastRaw || lastParsed === undefined) {
      lastParsed = parseClientSecrets(raw);
      lastRaw = raw;
    }
    return lastParsed;
  };
}
