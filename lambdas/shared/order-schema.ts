/**
 * The POST /orders body of CONTRACT.md as one zod schema: the publisher validates with it and
 * the TypeScript types come from it. `zod/mini` (tree-shakable) rather than `zod`: the classic
 * API is not tree-shaken and put ~440 KB into every handler bundle (see `npm run bench`).
 */
import { en } from 'zod/locales';
import * as z from 'zod/mini';
import type { ValidationDetail } from './errors';

/** 1-64 chars of `[A-Za-z0-9_-]`: client-chosen idempotency key, also used in paths. */
export const ORDER_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

/** Largest accepted body, bytes. */
export const MAX_ORDER_BODY_BYTES = 64 * 1024;

// zod/mini ships no messages by default; the English ones are part of the 400 answer's details.
z.config(en());

/**
 * A C0 or C1 control character (U+0000-U+001F, U+007F-U+009F, Unicode category Cc) or a UTF-16
 * surrogate that is not part of a pair (category Cs matches only lone ones under the `u` flag).
 * CONTRACT.md v1.1: such strings never reach billing, the archive, CSV exports or logs.
 */
const UNSAFE_CHARACTER = /[\p{Cc}\p{Cs}]/u;

/** Most `details` a 400 answer lists; the log line carries the full count. */
export const MAX_VALIDATION_DETAILS = 20;

/** Longest `path` of a detail: an unknown key is echoed, and keys can be as long as the body. */
const MAX_DETAIL_PATH_LENGTH = 100;

/** Whether a string holds a control character or an unpaired surrogate. */
export function hasUnsafeCharacter(value: string): boolean {
  return UNSAFE_CHARACTER.test(value);
}

const strictString = z.string().check(
  z.refine((value) => !hasUnsafeCharacter(value), {
    message: 'must not contain control characters or unpaired surrogates',
    abort: true,
  }),
);

const boundedString = strictString.check(
  z.minLength(1, 'must not be empty'),
  z.maxLength(64, 'must be at most 64 characters'),
);

/** One order line. Unknown fields are rejected here too, so nothing is silently dropped. */
export const orderItemSchema = z.strictObject({
  product_id: boundedString,
  quantity: z.int().check(z.gte(1), z.lte(1000)),
  unit_price: z.int().check(z.gte(0)),
});

/** The request body. Unknown top-level fields are rejected. */
export const orderRequestSchema = z.strictObject({
  order_id: z.optional(
    strictString.check(z.regex(ORDER_ID_PATTERN, 'must be 1-64 characters of [A-Za-z0-9_-]')),
  ),
  customer_id: boundedString,
  market: strictString.check(z.regex(/^[a-z]{2}$/, 'must be two lowercase letters')),
  currency: strictString.check(z.regex(/^[A-Z]{3}$/, 'must be three uppercase letters (ISO 4217)')),
  items: z
    .array(orderItemSchema)
    .check(z.minLength(1, 'must have at least 1 item'), z.maxLength(100, 'must have at most 100 items')),
});

/** A valid POST /orders body. */
export type OrderRequest = z.infer<typeof orderRequestSchema>;

/**
 * Outcome of {@link parseOrderRequest}. A refusal lists at most {@link MAX_VALIDATION_DETAILS}
 * details; `detailCount` is how many problems there were in all.
 */
export type OrderRequestParseResult =
  | { success: true; order: OrderRequest }
  | { success: false; details: ValidationDetail[]; detailCount: number };

// A key is echoed as JSON (escaped), cut short so 60 KB of key does not come back as 60 KB of answer.
function detailPath(path: string): string {
  return path.length > MAX_DETAIL_PATH_LENGTH ? `${path.slice(0, MAX_DETAIL_PATH_LENGTH)}...` : path;
}

function refusal(issues: readonly z.core.$ZodIssue[]): OrderRequestParseResult & { success: false } {
  const details: ValidationDetail[] = [];
  let detailCount = 0;
  const add = (path: string, message: string) => {
    detailCount += 1;
    if (details.length < MAX_VALIDATION_DETAILS) details.push({ path: detailPath(path), message });
  };
  for (const issue of issues) {
    const path = issue.path.map(String).join('.');
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) add(path === '' ? key : `${path}.${key}`, 'unknown field');
    } else {
      add(path, issue.message);
    }
  }
  return { success: false, details, detailCount };
}

/** Checks an already JSON-parsed body against the contract. */
export function parseOrderRequest(value: unknown): OrderRequestParseResult {
  const result = orderRequestSchema.safeParse(value);
  return result.success ? { success: true, order: result.data } : refusal(result.error.issues);
}

/**
 * Parses raw body bytes: JSON first, then the schema. A body that is not JSON yields one detail
 * with an empty path.
 */
export function parseOrderBody(body: Uint8Array | string): OrderRequestParseResult {
  let value: unknown;
  try {
    value = JSON.parse(typeof body === 'string' ? body : Buffer.from(body).toString('utf8'));
  } catch {
    return { success: false, details: [{ path: '', message: 'body is not valid JSON' }], detailCount: 1 };
  }
  return parseOrderRequest(value);
}
