/**
 * Request signing of CONTRACT.md, version 1. One implementation for the publisher, the tests,
 * the stress tool and the order CLI; it depends on node:crypto only, so any tool can import it.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/** Header names, lowercase as they arrive from the load balancer. */
export const SIGNATURE_HEADERS = {
  clientId: 'x-client-id',
  timestamp: 'x-timestamp',
  signature: 'x-signature',
} as const;

/** How far (seconds) a request's timestamp may be from the server's clock, either way. */
export const SIGNATURE_TOLERANCE_SECONDS = 300;

/** 1-64 chars of `[A-Za-z0-9._-]`. */
export const CLIENT_ID_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;

const TIMESTAMP_PATTERN = /^\d{1,12}$/;
const SIGNATURE_PATTERN = /^v1=([0-9a-f]{64})$/;

/** Lowercase hex SHA-256 of the raw bytes (a string is taken as UTF-8). */
export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** What a signature covers. `path` is without the query string. */
export interface SignedRequestParts {
  timestamp: number | string;
  method: string;
  path: string;
  body: string | Uint8Array;
}

/** `<timestamp>\n<METHOD>\n<path>\n<sha256 hex of body>`, exactly as CONTRACT.md defines it. */
export function stringToSign({ timestamp, method, path, body }: SignedRequestParts): string {
  return `${timestamp}\n${method.toUpperCase()}\n${path}\n${sha256Hex(body)}`;
}

function hmacHex(secret: string, message: string): string {
  return createHmac('sha256', secret).update(message).digest('hex');
}

/** Input of {@link signRequest}. */
export interface SignRequestInput {
  secret: string;
  clientId: string;
  /** Unix time in whole seconds. @default now */
  timestamp?: number;
  method: string;
  /** Path without query string, e.g. `/orders` or `/orders/abc`. */
  path: string;
  /** The exact bytes that will be sent (empty for a GET). @default '' */
  body?: string | Uint8Array;
}

/** The three headers that authenticate a request. */
export interface SignatureHeaders {
  'X-Client-Id': string;
  'X-Timestamp': string;
  'X-Signature': string;
}

/**
 * Signs a request: returns the headers to send with it.
 * @throws RangeError when `timestamp` is not a non-negative whole number.
 */
export function signRequest({
  secret,
  clientId,
  timestamp = Math.floor(Date.now() / 1000),
  method,
  path,
  body = '',
}: SignRequestInput): SignatureHeaders {
  if (!Number.isSafeInteger(timestamp) || timestamp < 0) {
    throw new RangeError(`timestamp must be whole seconds, got ${timestamp}`);
  }
  const signature = hmacHex(secret, stringToSign({ timestamp, method, path, body }));
  return { 'X-Client-Id': clientId, 'X-Timestamp': String(timestamp), 'X-Signature': `v1=${signature}` };
}

/** Why a signature was refused. For the log only: the client always gets the same 401. */
export type SignatureFailure =
  | 'missing_header'
  | 'malformed_client_id'
  | 'malformed_timestamp'
  | 'malformed_signature'
  | 'timestamp_too_old'
  | 'timestamp_in_future'
  | 'unknown_client'
  | 'bad_signature';

/** Outcome of {@link verifySignature}. `clientId` is set when the header was well-formed. */
export type VerificationResult =
  { ok: true; clientId: string } | { ok: false; reason: SignatureFailure; clientId?: string };

/** Input of {@link verifySignature}. */
export interface VerifySignatureInput {
  /** Request headers; names are matched case-insensitively. */
  headers: Readonly<Record<string, string | undefined>>;
  method: string;
  /** Path without query string. */
  path: string;
  /** The raw body bytes as received. */
  body: string | Uint8Array;
  /** The active secrets of a client (several during a rotation), or undefined if unknown. */
  secretsFor: (clientId: string) => readonly string[] | undefined;
  /** The server's clock, Unix seconds. @default now */
  nowSeconds?: number;
  /** @default SIGNATURE_TOLERANCE_SECONDS */
  toleranceSeconds?: number;
}

function header(headers: Readonly<Record<string, string | undefined>>, name: string): string | undefined {
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() === name) return value;
  }
  return undefined;
}

// Keeps the work of an unknown client's request the same as a known one's, so timing does not
// tell which client ids exist.
const DECOY_SECRET = 'decoy-secret-for-unknown-clients';

/**
 * Verifies a signed request: header formats, the clock window, the client, then the HMAC against
 * each of the client's secrets in constant time.
 */
export function verifySignature({
  headers,
  method,
  path,
  body,
  secretsFor,
  nowSeconds = Math.floor(Date.now() / 1000),
  toleranceSeconds = SIGNATURE_TOLERANCE_SECONDS,
}: VerifySignatureInput): VerificationResult {
  const clientId = header(headers, SIGNATURE_HEADERS.clientId);
  const timestamp = header(headers, SIGNATURE_HEADERS.timestamp);
  const signature = header(headers, SIGNATURE_HEADERS.signature);
  if (clientId === undefined || timestamp === undefined || signature === undefined) {
    return { ok: false, reason: 'missing_header' };
  }
  if (!CLIENT_ID_PATTERN.test(clientId)) return { ok: false, reason: 'malformed_client_id' };
  if (!TIMESTAMP_PATTERN.test(timestamp)) return { ok: false, reason: 'malformed_timestamp', clientId };
  const presented = SIGNATURE_PATTERN.exec(signature)?.[1];
  if (presented === undefined) return { ok: false, reason: 'malformed_signature', clientId };

  const skew = Number(timestamp) - nowSeconds;
  if (skew < -toleranceSeconds) return { ok: false, reason: 'timestamp_too_old', clientId };
  if (skew > toleranceSeconds) return { ok: false, reason: 'timestamp_in_future', clientId };

  const secrets = secretsFor(clientId);
  const known = secrets !== undefined && secrets.length > 0;
  const message = stringToSign({ timestamp, method, path, body });
  const presentedBytes = Buffer.from(presented, 'hex');
  let matched = false;
  for (const secret of known ? secrets : [DECOY_SECRET]) {
    // No early exit: every secret is tried, so timing does not reveal which one matched.
    const expected = Buffer.from(hmacHex(secret, message), 'hex');
    matched = timingSafeEqual(expected, presentedBytes) || matched;
  }
  if (!known) return { ok: false, reason: 'unknown_client', clientId };
  return matched ? { ok: true, clientId } : { ok: false, reason: 'bad_signature', clientId };
}
