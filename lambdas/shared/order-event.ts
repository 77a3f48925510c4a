/**
 * Reading the OrderPlaced event (CONTRACT.md) on the consumer side. Tolerant of extra fields
 * (a newer publisher may add some), strict on what the consumers use.
 */
import * as z from 'zod/mini';
import type { OrderPlacedEvent } from './runtime-contract';
import { MalformedEventError } from './errors';
import { ORDER_ID_PATTERN } from './order-schema';

const validatedOrderSchema = z.looseObject({
  order_id: z.string().check(z.regex(ORDER_ID_PATTERN)),
  client_id: z.string().check(z.minLength(1)),
  customer_id: z.string().check(z.minLength(1)),
  market: z.string(),
  currency: z.string(),
  items: z.array(z.looseObject({ product_id: z.string(), quantity: z.number(), unit_price: z.number() })),
  total_amount: z.int().check(z.gte(0)),
  created_at: z.iso.datetime(),
  body_hash: z.string().check(z.regex(/^[0-9a-f]{64}$/)),
});

const orderPlacedEventSchema = z.looseObject({
  version: z.literal(1),
  type: z.literal('OrderPlaced'),
  order: validatedOrderSchema,
});

/**
 * Parses an SQS message body (raw SNS delivery: the body is the event JSON).
 * @throws MalformedEventError when the body is not JSON or not an OrderPlaced event.
 */
export function parseOrderPlacedEvent(body: string): OrderPlacedEvent {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    throw new MalformedEventError('body is not valid JSON');
  }
  const result = orderPlacedEventSchema.safeParse(value);
  if (!result.success) {
    const first = result.error.issues[0];
    throw new MalformedEventError(
      `${first?.path.map(String).join('.') ?? ''}: ${first?.message ?? 'invalid'}`,
    );
  }
  // The value as received, not zod's copy: consumers archive it, so key order and extra fields stay.
  return value as OrderPlacedEvent;
}
