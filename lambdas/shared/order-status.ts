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
 * be stored (PUBLISHED), rejected or failed: once PUBLISHED, the event may be out, so only the
 * consumers (COMPLETED) or a dead letter (FAILED) decide.
 */
export const ORDER_TRANSITIONS: Readonly<Record<OrderStatus, readonly OrderStatus[]>> = {
  ACCEPTED: ['PUBLISHED', 'REJECTED', 'FAILED'],
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
 * The status in which a consumer may record its side effect: the event is out. FAILED and
 * REJECTED orders are never billed or archived, except by an operator redrive that says so.
 */
export const SIDE_EFFECT_STATUS: OrderStatus = 'PUBLISHED';

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
  /**
   * The order is FAILED or REJECTED: its side effects are not wanted (nothing was written).
   * `flagSet`: the refused write found the flag set already (recorded before the order ended).
   */
  | { kind: 'not-wanted'; status: OrderStatus; flagSet?: true };

/**
 * How a flag is written (issue 14: the flag and COMPLETED in one write). `set`: the flag alone,
 * on the condition that some other flag the order needs is still missing; `complete`: the flag,
 * COMPLETED and the removal from the pending index together, on the condition that every other
 * flag it needs is set. Flags are only ever set, so of two consumers the one that writes second
 * finds the first one's flag: its `set` fails its condition and it completes the order. No read
 * after the write is needed, and no second write.
 */
export type FlagWriteMode = 'set' | 'complete';

/** What a consumer's flag write is for. */
export interface FlagWrite {
  order: EventOrder;
  flag: CompletionFlag;
  /** The other flags the order needs before it is COMPLETED ({@link requiredFlags}). */
  others: readonly CompletionFlag[];
  mode: FlagWriteMode;
  now: Date;
  /** An operator's redrive of a FAILED order (OPERATOR_REDRIVE): the flag only, it stays FAILED. */
  operatorRedrive?: boolean;
}

/**
 * The update that writes a flag ({@link FlagWriteMode}), on the condition that the order exists
 * with this body and is PUBLISHED (or, for an operator's redrive, FAILED: flag only). Also the
 * order part of billing's transaction.
 */
export function flagUpdate(tableName: string, write: FlagWrite) {
  const { order, flag, others, mode, now, operatorRedrive = false } = write;
  const names: Record<string, string> = { '#flag': flag, '#status': 'status' };
  others.forEach((other, index) => (names[`#other${index}`] = other));
  const otherNames = others.map((_, index) => `#other${index}`);
  // DynamoDB refuses a name or value the expressions do not use (ValidationException): each mode
  // adds only its own.
  const values: Record<string, unknown> = { ':now': now.toISOString(), ':hash': order.body_hash };
  // Without attribute_exists an update would create a stub order out of nothing.
  const sameOrder = 'attribute_exists(order_key) AND body_hash = :hash';
  if (mode === 'complete') {
    names['#shard'] = LIFECYCLE.pendingShard;
    const othersSet = otherNames.map((name) => ` AND ${name} = :true`).join('');
    return {
      TableName: tableName,
      Key: { order_key: orderKey(order.client_id, order.order_id) },
      // Terminal: out of the reconciler's pending index in the same write.
      UpdateExpression: 'SET #flag = :true, #status = :completed, updated_at = :now REMOVE #shard',
      ConditionExpression: `${sameOrder} AND #status = :published${othersSet}`,
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: {
        ...values,
        ':true': true,
        ':completed': 'COMPLETED',
        ':published': SIDE_EFFECT_STATUS,
      },
    };
  }
  // Some other flag still missing: the consumer that sets it completes the order. With no other
  // flag needed, a PUBLISHED order is always completed by this one (mode `complete`).
  // The publisher creates the flags false, so "missing" is "not true" (NOT binds looser than =).
  // AND binds tighter than OR, and = tighter than NOT: parentheses only around the AND under NOT
  // (DynamoDB refuses some redundant ones with a ValidationException).
  const othersTrue = otherNames.map((name) => `${name} = :true`);
  const someMissing =
    othersTrue.length > 0
      ? `#status = :published AND NOT ${othersTrue.length > 1 ? `(${othersTrue.join(' AND ')})` : othersTrue[0]}`
      : undefined;
  const redrive = operatorRedrive ? '#status = :failed' : undefined;
  let statusCondition: string;
  if (someMissing && redrive) statusCondition = `(${redrive} OR ${someMissing})`;
  else if (someMissing ?? redrive) statusCondition = (someMissing ?? redrive) as string;
  else throw new Error(`flag ${flag}: mode set needs another flag to wait for, or an operator's redrive`);
  return {
    TableName: tableName,
    Key: { order_key: orderKey(order.client_id, order.order_id) },
    UpdateExpression: 'SET #flag = :true, updated_at = :now',
    ConditionExpression: `${sameOrder} AND ${statusCondition}`,
    ExpressionAttributeNames: names,
    ExpressionAttributeValues: {
      ...values,
      ':true': true,
      ...(someMissing ? { ':published': SIDE_EFFECT_STATUS } : {}),
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

/** What to do next about a flag, given the order as it is: write it (in a mode), or an outcome. */
export type FlagStep = { kind: 'write'; mode: FlagWriteMode } | FlagOutcome;

/**
 * The next step of a flag write, from the item as it is (`undefined`: no such order): the mode
 * for a PUBLISHED order, not-wanted for a FAILED or REJECTED one, recorded when it is COMPLETED.
 * @throws OrderMismatchError when the stored order is another body, or is missing
 * @throws DependencyUnavailableError when the order is not published yet (retry later)
 */
export function nextFlagStep(
  item: Record<string, unknown> | undefined,
  order: EventOrder,
  others: readonly CompletionFlag[],
  { operatorRedrive = false } = {},
): FlagStep {
  const key = orderKey(order.client_id, order.order_id);
  const status = statusOfSameOrder(item, order);
  if (status === 'FAILED' && operatorRedrive) return { kind: 'write', mode: 'set' };
  if (status === 'FAILED' || status === 'REJECTED') return { kind: 'not-wanted', status };
  // COMPLETED: with this flag, a redelivery; without it, an order that did not need it (completion
  // rules changed between versions): nothing to record either way, and nothing to retry.
  if (status === 'COMPLETED') return { kind: 'recorded', completed: false };
  if (status === SIDE_EFFECT_STATUS) {
    const othersSet = others.every((other) => item?.[other] === true);
    return { kind: 'write', mode: othersSet ? 'complete' : 'set' };
  }
  throw new DependencyUnavailableError(`order ${key} is ${String(status)}, not published yet`);
}

/** The flags other than `flag` that `order` needs before it is COMPLETED. */
export function otherRequiredFlags(
  rules: readonly CompletionRule[],
  order: EventOrder,
  flag: CompletionFlag,
): CompletionFlag[] {
  return requiredFlags(rules, order).filter((needed) => needed !== flag);
}

/**
 * The mode a flag write starts in (nothing is read first): complete when the order needs no
 * other flag; otherwise `likely`, the mode this consumer's last write settled in (a consumer that
 * usually finishes second usually completes), or the flag alone. A wrong guess costs one refused
 * write, whose returned item picks the right mode.
 */
export function firstFlagMode(
  others: readonly CompletionFlag[],
  operatorRedrive = false,
  likely?: FlagWriteMode,
): FlagWriteMode {
  if (operatorRedrive) return 'set';
  if (others.length === 0) return 'complete';
  return likely ?? 'set';
}

/**
 * Most flag writes one delivery makes: a condition fails only when another writer moved the
 * order on in between, and each such move is forward (a flag set, a status later), so a few
 * rounds always settle; more means the table is misbehaving.
 */
export const MAX_FLAG_WRITES = 4;

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
): Promise<boolean> {
  const allowed = statusesAllowedBefore(to);
  const placeholders = allowed.map((_, index) => `:from${index}`);
  const terminal = ORDER_TRANSITIONS[to].length === 0;
  try {
    await client.send(
      new UpdateCommand({
        TableName: tableName,
        Key: { order_key: key },
        // A terminal order leaves the reconciler's pending index.
        UpdateExpression: `SET #status = :to, updated_at = :now${terminal ? ' REMOVE #shard' : ''}`,
        ConditionExpression: `attribute_exists(order_key) AND #status IN (${placeholders.join(', ')})`,
        ExpressionAttributeNames: {
          '#status': 'status',
          ...(terminal ? { '#shard': LIFECYCLE.pendingShard } : {}),
        },
        ExpressionAttributeValues: {
          ':to': to,
          ':now': now.toISOString(),
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
 * Records a consumer's side effect on the order (`SET billed = true` or `archived`), and moves the
 * order to COMPLETED in the same write when every other flag it needs is set ({@link FlagWriteMode}).
 * `likely`: the mode to try first ({@link firstFlagMode}).
 * @throws DependencyUnavailableError when the table fails, OrderMismatchError when the order is not
 * the event's.
 */
export async function markOrderFlag(
  table: OrdersTable,
  order: EventOrder,
  flag: CompletionFlag,
  now: Date,
  rules: readonly CompletionRule[] = DEFAULT_COMPLETION_RULES,
  { operatorRedrive = false, likely }: { operatorRedrive?: boolean; likely?: FlagWriteMode } = {},
): Promise<FlagOutcome> {
  const others = otherRequiredFlags(rules, order, flag);
  let step: FlagStep = { kind: 'write', mode: firstFlagMode(others, operatorRedrive, likely) };
  for (let attempt = 0; attempt < MAX_FLAG_WRITES && step.kind === 'write'; attempt++) {
    const { mode } = step;
    try {
      await table.client.send(
        new UpdateCommand({
          ...flagUpdate(table.tableName, { order, flag, others, mode, now, operatorRedrive }),
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return { kind: 'recorded', completed: mode === 'complete' };
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) {
        throw new DependencyUnavailableError('orders table', { cause: error });
      }
      // The item as it was (ReturnValuesOnConditionCheckFailure ALL_OLD; the document client does
      // not unmarshall errors); none when there is no such item.
      const item = error.Item ? unmarshall(error.Item) : undefined;
      step = nextFlagStep(item, order, others, { operatorRedrive });
      if (step.kind === 'not-wanted' && item?.[flag] === true) step = { ...step, flagSet: true };
    }
  }
  if (step.kind === 'write') {
    throw new DependencyUnavailableError(
      `orders table (flag ${flag} not settled in ${MAX_FLAG_WRITES} writes)`,
    );
  }
  return step;
}

/**
 * Whether the stored order is the event's (same body) and has `flag` set, read strongly
 * consistent. @throws DependencyUnavailableError
 */
export async function orderHasFlag(
  table: OrdersTable,
  order: EventOrder,
  flag: CompletionFlag,
): Promise<boolean> {
  const item = await readOrder(table, order);
  return item?.body_hash === order.body_hash && item?.[flag] === true;
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

/** How consumers and the DLQ handler move an order along. The methods throw DependencyUnavailableError. */
export interface OrderProgress {
  /**
   * Sets a completion flag, and completes the order in the same write when it was the last one
   * missing; says whether it was recorded and whether this call completed the order.
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
  /** Whether the order (this body) has `flag` set now, read strongly consistent ({@link orderHasFlag}). */
  hasFlag(order: EventOrder, flag: CompletionFlag): Promise<boolean>;
}

/**
 * {@link OrderProgress} on the DynamoDB orders table. One per consumer process: it remembers the
 * mode each flag's last write settled in, and tries that one first ({@link firstFlagMode}).
 */
export class DynamoOrderProgress implements OrderProgress {
  private readonly settled = new Map<CompletionFlag, FlagWriteMode>();

  constructor(
    private readonly table: OrdersTable,
    private readonly rules: readonly CompletionRule[] = DEFAULT_COMPLETION_RULES,
  ) {}

  async markFlag(
    order: EventOrder,
    flag: CompletionFlag,
    now: Date,
    { operatorRedrive = false }: { operatorRedrive?: boolean } = {},
  ): Promise<FlagOutcome> {
    const outcome = await markOrderFlag(this.table, order, flag, now, this.rules, {
      operatorRedrive,
      likely: this.settled.get(flag),
    });
    if (outcome.kind === 'recorded' && !operatorRedrive) {
      this.settled.set(flag, outcome.completed ? 'complete' : 'set');
    }
    return outcome;
  }

  markFailed(key: string, now: Date): Promise<boolean> {
    return transitionOrder(this.table, key, 'FAILED', now);
  }

  hasFlag(order: EventOrder, flag: CompletionFlag): Promise<boolean> {
    return orderHasFlag(this.table, order, flag);
  }
}
