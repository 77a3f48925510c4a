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

const boundedString = z
  .string()
  .check(z.minLength(1, 'must not be empty'), z.maxLength(64, 'must be at most 64 characters'));

/** One order line. Unknown fields are rejected here too, so nothing is silently dropped. */
export const orderItemSchema = z.strictObject({
  product_id: boundedString,
  quantity: z.int().check(z.gte(1), z.lte(1000)),
  unit_price: z.int().check(z.gte(0)),
});

/** The request body. Unknown top-level fields are rejected. */
export const orderRequestSchema = z.strictObject({
  order_id: z.optional(
    z.string().check(z.regex(ORDER_ID_PATTERN, 'must be 1-64 characters of [A-Za-z0-9_-]')),
  ),
  customer_id: boundedString,
  market: z.string().check(z.regex(/^[a-z]{2}$/, 'must be two lowercase letters')),
  currency: z.string().check(z.regex(/^[A-Z]{3}$/, 'must be three uppercase letters (ISO 4217)')),
  items: z
    .array(orderItemSchema)
    .check(z.minLength(1, 'must have at least 1 item'), z.maxLength(100, 'must have at most 100 items')),
});

/** A valid POST /orders body. */
export type OrderRequest = z.infer<typeof orderRequestSchema>;

/** Outcome of {@link parseOrderRequest}. */
export type OrderRequestParseResult =
  { success: true; order: OrderRequest } | { success: false; details: ValidationDetail[] };

function toDetails(issues: readonly z.core.$ZodIssue[]): ValidationDetail[] {
  return issues.flatMap((issue) => {
    const path = issue.path.map(String).join('.');
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => ({
        path: path === '' ? key : `${path}.${key}`,
        message: 'unknown field',
      }));
    }
    return [{ path, message: issue.message }];
  });
}

/** Checks an already JSON-parsed body against the contract. */
export function parseOrderRequest(value: unknown): OrderRequestParseResult {
  const result = orderRequestSchema.safeParse(value);
  return result.success
    ? { success: true, order: result.data }
    : { success: false, details: toDetails(result.error.issues) };
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
    return { success: false, details: [{ path: '', message: 'body is not valid JSON' }] };
  }
  return parseOrderRequest(value);
}
