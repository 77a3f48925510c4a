/**
 * The order lifecycle's forward-only transitions, and the conditional DynamoDB updates the
 * consumers and the DLQ handler make to the orders table (docs/internals.md, writes 5 to 7).
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { SQSRecord } from 'aws-lambda';
import { DependencyUnavailableError, OrderMismatchError } from './errors';
import {
  EVENT_ATTRIBUTES,
  LIFECYCLE,
  OPERATOR_REDRIVE,
  orderKey,
  type OrderStatus,
  type ValidatedOrder,
} from './runtime-contract';

/**
 * For each status, the statuses it may move to. Terminal statuses move nowhere. ACCEPTED may only
 * be stored (PUBLISHING), rejected or failed: once PUBLISHING, the event may be out, so only the
 * consumers (COMPLETED) or a dead letter (FAILED) decide. PUBLISHING may complete directly because
 * the consumers can finish before the workflow's MarkPublished runs.
 */
export const ORDER_TRANSITIONS: Readonly<Record<OrderStatus, readonly OrderStatus[]>> = {
  ACCEPTED: ['PUBLISHING', 'REJECTED', 'FAILED'],
  PUBLISHING: ['PUBLISHED', 'COMPLETED', 'FAILED'],
  PUBLISHED: ['COMPLETED', 'FAILED'],
  REJECTED: [],
  COMPLETED: [],
  FAILED: [],
};

/** Whether `from -> to` is a forward move of the lifecycle. */
export function canTransition(from: OrderStatus, to: OrderStatus): boolean {
  return ORDER_TRANSITIONS[from].includes(to);
}

/** The statuses an order may be in for a move to `to`: the write's condition. */
export function statusesAllowedBefore(to: OrderStatus): OrderStatus[] {
  return (Object.keys(ORDER_TRANSITIONS) as OrderStatus[]).filter((from) => canTransition(from, to));
}

/**
 * The statuses in which a consumer may record its side effect: the event is out. FAILED and
 * REJECTED orders are never billed or archived, except by an operator redrive that says so.
 */
export const SIDE_EFFECT_STATUSES: readonly OrderStatus[] = ['PUBLISHING', 'PUBLISHED'];

/** The side effects the consumers record on the order. */
export type CompletionFlag = 'billed' | 'archived';
export const COMPLETION_FLAG_NAMES: readonly CompletionFlag[] = ['billed', 'archived'];

/**
 * Which subscriber's flag an order needs before it is COMPLETED: the flag of every subscriber
 * whose filter policy lets the order's event through (COMPLETION_RULES, set by the stack from the
 * subscribers), so a filter policy never strands an order short of a flag nobody will set.
 */
export interface CompletionRule {
  flag: CompletionFlag;
  /** SNS filter policy on the event's message attributes (exact values); absent = every event. */
  filterPolicy?: Readonly<Record<string, readonly string[]>>;
}

/** Every subscriber sees every event: the rules when no filter policy is set. */
export const DEFAULT_COMPLETION_RULES: readonly CompletionRule[] = COMPLETION_FLAG_NAMES.map((flag) => ({
  flag,
}));

/** The message attributes the workflow sets on an order's OrderPlaced event (workflow.ts). */
export function eventAttributes(order: Pick<ValidatedOrder, 'market' | 'currency'>): Record<string, string> {
  const attributes: Record<(typeof EVENT_ATTRIBUTES)[number], string> = {
    type: 'OrderPlaced',
    market: order.market,
    currency: order.currency,
  };
  return attributes;
}

/** The flags an order must have to complete, by SNS's filter rule (every key matches one value). */
export function requiredFlags(
  rules: readonly CompletionRule[],
  order: Pick<ValidatedOrder, 'market' | 'currency'>,
): CompletionFlag[] {
  const attributes = eventAttributes(order);
  return rules
    .filter(({ filterPolicy }) =>
      Object.entries(filterPolicy ?? {}).every(([name, values]) => {
        const value = attributes[name];
        return value !== undefined && values.includes(value);
      }),
    )
    .map(({ flag }) => flag);
}

/**
 * Reads COMPLETION_RULES (`[{"flag":"billed","filterPolicy":{...}}, ...]`).
 * @throws Error naming the problem.
 */
export function parseCompletionRules(value: string | undefined): CompletionRule[] {
  if (value === undefined || value === '') return [...DEFAULT_COMPLETION_RULES];
  const parsed = JSON.parse(value) as unknown;
  if (!Array.isArray(parsed)) throw new Error('COMPLETION_RULES must be a JSON array');
  return parsed.map((rule: unknown, index) => {
    const { flag, filterPolicy } = (rule ?? {}) as Partial<CompletionRule>;
    if (!COMPLETION_FLAG_NAMES.includes(flag as CompletionFlag)) {
      throw new Error(`COMPLETION_RULES[${index}].flag must be one of ${COMPLETION_FLAG_NAMES.join(', ')}`);
    }
    return { flag: flag as CompletionFlag, ...(filterPolicy ? { filterPolicy } : {}) };
  });
}

/** The orders table and the client that writes to it. */
export interface OrdersTable {
  client: DynamoDBDocumentClient;
  tableName: string;
}

/** The order an event names, as the consumers check it against the table. */
export type EventOrder = Pick<ValidatedOrder, 'order_id' | 'client_id' | 'body_hash' | 'market' | 'currency'>;

/** What a flag write found. */
export type FlagOutcome =
  /** The flag is set now (or was); `completed` when this call moved the order to COMPLETED. */
  | { kind: 'recorded'; completed: boolean }
  /** The order is FAILED or REJECTED: its side effects are not wanted (nothing was written). */
  | { kind: 'not-wanted'; status: OrderStatus };

/**
 * The update that sets a flag, on the condition that the order exists with this body and is in a
 * status whose side effects are wanted. Also the order part of billing's transaction.
 */
export function flagUpdate(
  tableName: string,
  order: EventOrder,
  flag: CompletionFlag,
  now: Date,
  { operatorRedrive = false } = {},
) {
  return {
    TableName: tableName,
    Key: { order_key: orderKey(order.client_id, order.order_id) },
    UpdateExpression: 'SET #flag = :true, updated_at = :now',
    // Without attribute_exists an update would create a stub order out of nothing. An operator's
    // redrive of a FAILED order (OPERATOR_REDRIVE) may also record its side effect.
    ConditionExpression: `attribute_exists(order_key) AND body_hash = :hash AND #status IN (:publishing, :published${operatorRedrive ? ', :failed' : ''})`,
    ExpressionAttributeNames: { '#flag': flag, '#status': 'status' },
    ExpressionAttributeValues: {
      ':true': true,
      ':now': now.toISOString(),
      ':hash': order.body_hash,
      ':publishing': SIDE_EFFECT_STATUSES[0],
      ':published': SIDE_EFFECT_STATUSES[1],
      ...(operatorRedrive ? { ':failed': 'FAILED' } : {}),
    },
  };
}

/** Whether a consumer's message is an operator's redrive of a FAILED order (OPERATOR_REDRIVE). */
export function isOperatorRedrive(record: Pick<SQSRecord, 'messageAttributes'>): boolean {
  return record.messageAttributes?.[OPERATOR_REDRIVE.attribute]?.stringValue === OPERATOR_REDRIVE.value;
}

/**
 * The stored order's status, once it is known to be the event's order.
 * @throws OrderMismatchError when there is no such order, or it was stored with another body
 */
function statusOfSameOrder(item: Record<string, unknown> | undefined, order: EventOrder): OrderStatus {
  const key = orderKey(order.client_id, order.order_id);
  if (item === undefined) throw new OrderMismatchError(key, 'the order does not exist');
  if (item.body_hash !== order.body_hash) {
    throw new OrderMismatchError(key, 'the stored order has another body hash than the event');
  }
  return item.status as OrderStatus;
}

/** Whether a consumer should make its side effect, read before it makes one. */
export type SideEffectCheck = { kind: 'wanted' } | { kind: 'not-wanted'; status: OrderStatus };

/**
 * Reads the order (strongly consistent) before a side effect that no condition can guard (an
 * archive object): FAILED (unless an operator's redrive) and REJECTED orders want none. An order
 * that dead-letters between this read and the write still gets it; the flag write after it then
 * says not-wanted, and the order stays FAILED.
 * @throws OrderMismatchError when the order is missing or another body
 * @throws DependencyUnavailableError when the table fails or the order is not published yet
 */
export async function sideEffectWanted(
  table: OrdersTable,
  order: EventOrder,
  { operatorRedrive = false } = {},
): Promise<SideEffectCheck> {
  const key = orderKey(order.client_id, order.order_id);
  const status = statusOfSameOrder(await readOrder(table, order), order);
  if (status === 'REJECTED' || (status === 'FAILED' && !operatorRedrive))
    return { kind: 'not-wanted', status };
  if (status === 'ACCEPTED')
    throw new DependencyUnavailableError(`order ${key} is ACCEPTED, not published yet`);
  return { kind: 'wanted' };
}

/**
 * Why a flag write's condition failed, from the item as it was (`undefined`: no such order).
 * @throws OrderMismatchError when the stored order is another body, or is missing
 * @throws DependencyUnavailableError when the order is not published yet (retry later)
 */
export function explainFlagRefusal(
  item: Record<string, unknown> | undefined,
  order: EventOrder,
  flag: CompletionFlag,
): FlagOutcome {
  const key = orderKey(order.client_id, order.order_id);
  const status = statusOfSameOrder(item, order);
  if (status === 'FAILED' || status === 'REJECTED') return { kind: 'not-wanted', status };
  if (status === 'COMPLETED' && item?.[flag] === true) return { kind: 'recorded', completed: false };
  throw new DependencyUnavailableError(`order ${key} is ${String(status)}, not published yet`);
}

/**
 * Moves an order to `to` if the lifecycle allows it from its current status.
 * @returns false when the condition failed (already terminal, or no such order): not an error.
 * @throws DependencyUnavailableError on any other failure.
 */
export async function transitionOrder(
  { client, tableName }: OrdersTable,
  key: string,
  to: OrderStatus,
  now: Date,
  requireFlags: readonly CompletionFlag[] = [],
): Promise<boolean> {
  const allowed = statusesAllowedBefore(to);
  const placeholders = allowed.map((_, index) => `:from${index}`);
  const flagConditions = requireFlags.map((flag) => ` AND #${flag} = :true`);
  const terminal = ORDER_TRANSITIONS[to].length === 0;
  try {
    await client.send(
      new UpdateCommand({
        TableName: tableName,
        Key: { order_key: key },
        // A terminal order leaves the reconciler's pending index.
        UpdateExpression: `SET #status = :to, updated_at = :now${terminal ? ' REMOVE #shard' : ''}`,
        ConditionExpression: `attribute_exists(order_key) AND #status IN (${placeholders.join(', ')})${flagConditions.join('')}`,
        ExpressionAttributeNames: {
          '#status': 'status',
          ...(terminal ? { '#shard': LIFECYCLE.pendingShard } : {}),
          ...Object.fromEntries(requireFlags.map((flag) => [`#${flag}`, flag])),
        },
        ExpressionAttributeValues: {
          ':to': to,
          ':now': now.toISOString(),
          ...(requireFlags.length > 0 ? { ':true': true } : {}),
          ...Object.fromEntries(allowed.map((status, index) => [`:from${index}`, status])),
        },
      }),
    );
    return true;
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) return false;
    throw new DependencyUnavailableError('orders table', { cause: error });
  }
}

/**
 * Moves the order to COMPLETED when `attributes` (the order as it is now) has every flag the
 * order needs; the write's condition checks those flags again, so a stale view never completes.
 */
async function completeIfDone(
  table: OrdersTable,
  order: EventOrder,
  attributes: Record<string, unknown> | undefined,
  rules: readonly CompletionRule[],
  now: Date,
): Promise<boolean> {
  const needed = requiredFlags(rules, order);
  if (!needed.every((name) => attributes?.[name] === true)) return false;
  return transitionOrder(table, orderKey(order.client_id, order.order_id), 'COMPLETED', now, needed);
}

/**
 * Records a consumer's side effect on the order (`SET billed = true` or `archived`) and, when every
 * flag the order needs is then set, moves the order to COMPLETED.
 * @throws DependencyUnavailableError when the table fails, OrderMismatchError when the order is not
 * the event's.
 */
export async function markOrderFlag(
  table: OrdersTable,
  order: EventOrder,
  flag: CompletionFlag,
  now: Date,
  rules: readonly CompletionRule[] = DEFAULT_COMPLETION_RULES,
  { operatorRedrive = false } = {},
): Promise<FlagOutcome> {
  let attributes: Record<string, unknown> | undefined;
  try {
    const result = await table.client.send(
      new UpdateCommand({
        ...flagUpdate(table.tableName, order, flag, now, { operatorRedrive }),
        ReturnValues: 'ALL_NEW',
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      }),
    );
    attributes = result.Attributes;
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) {
      // The item as it was (ReturnValuesOnConditionCheckFailure; the document client does not
      // unmarshall errors); read it where an endpoint does not return it.
      const item = error.Item ? unmarshall(error.Item) : await readOrder(table, order);
      return explainFlagRefusal(item, order, flag);
    }
    throw new DependencyUnavailableError('orders table', { cause: error });
  }
  return { kind: 'recorded', completed: await completeIfDone(table, order, attributes, rules, now) };
}

/**
 * After billing's transaction set the flag (or found it set): reads the order (strongly
 * consistent, so a flag another consumer set before this read is seen) and completes it when done.
 * Of two consumers finishing at once, at least one sees both flags: each reads after its own write.
 */
export async function completeAfterFlag(
  table: OrdersTable,
  order: EventOrder,
  rules: readonly CompletionRule[],
  now: Date,
): Promise<boolean> {
  return completeIfDone(table, order, await readOrder(table, order), rules, now);
}

/** The order's item, strongly consistent, or undefined. @throws DependencyUnavailableError */
async function readOrder(
  table: OrdersTable,
  order: EventOrder,
): Promise<Record<string, unknown> | undefined> {
  try {
    const result = await table.client.send(
      new GetCommand({
        TableName: table.tableName,
        Key: { order_key: orderKey(order.client_id, order.order_id) },
        ConsistentRead: true,
      }),
    );
    return result.Item;
  } catch (error) {
    throw new DependencyUnavailableError('orders table', { cause: error });
  }
}

/** How consumers and the DLQ handler move an order along. Both methods throw DependencyUnavailableError. */
export interface OrderProgress {
  /**
   * Sets a completion flag; says whether it was recorded and whether this call completed the order.
   * `operatorRedrive`: also on a FAILED order (which stays FAILED).
   */
  markFlag(
    order: EventOrder,
    flag: CompletionFlag,
    now: Date,
    options?: { operatorRedrive?: boolean },
  ): Promise<FlagOutcome>;
  /** Moves the order to FAILED; returns false when it was already terminal or does not exist. */
  markFailed(key: string, now: Date): Promise<boolean>;
  /** Whether the order still wants a side effect ({@link sideEffectWanted}). */
  wanted(order: EventOrder, options?: { operatorRedrive?: boolean }): Promise<SideEffectCheck>;
}

/** {@link OrderProgress} on the DynamoDB orders table. */
export class DynamoOrderProgress implements OrderProgress {
  constructor(
    private readonly table: OrdersTable,
    private readonly rules: readonly CompletionRule[] = DEFAULT_COMPLETION_RULES,
  ) {}

  markFlag(
    order: EventOrder,
    flag: CompletionFlag,
    now: Date,
    options: { operatorRedrive?: boolean } = {},
  ): Promise<FlagOutcome> {
    return markOrderFlag(this.table, order, flag, now, this.rules, options);
  }

  markFailed(key: string, now: Date): Promise<boolean> {
    return transitionOrder(this.table, key, 'FAILED', now);
  }

  wanted(order: EventOrder, options: { operatorRedrive?: boolean } = {}): Promise<SideEffectCheck> {
    return sideEffectWanted(this.table, order, options);
  }
}
