import { ConditionalCheckFailedException, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { DependencyUnavailableError, OrderMismatchError } from './errors';
import {
  canTransition,
  DynamoOrderProgress,
  firstFlagMode,
  flagUpdate,
  markOrderFlag,
  orderHasFlag,
  ORDER_TRANSITIONS,
  parseCompletionRules,
  requiredFlags,
  statusesAllowedBefore,
  transitionOrder,
} from './order-status';
import { ORDER_STATUSES, type OrderStatus } from './runtime-contract';

const dynamoMock = mockClient(DynamoDBDocumentClient);
const table = {
  client: DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'eu-west-1' })),
  tableName: 'orders',
};
const NOW = new Date('2026-01-02T03:04:05.000Z');
/** A conditional failure carrying the item as it was, marshalled as DynamoDB returns it. */
const conditionFailed = (item?: Record<string, unknown>) =>
  new ConditionalCheckFailedException({
    message: 'condition',
    $metadata: {},
    Item: item === undefined ? undefined : marshall(item),
  });

afterEach(() => {
  dynamoMock.reset();
});

describe('order lifecycle', () => {
  // The contract's order: a status may only move to one that comes later.
  const rank: Record<OrderStatus, number> = {
    ACCEPTED: 0,
    PUBLISHED: 2,
    REJECTED: 3,
    COMPLETED: 3,
    FAILED: 3,
  };

  it('only moves forward, and never out of a terminal status', () => {
    // Act / Assess
    for (const from of ORDER_STATUSES) {
      for (const to of ORDER_STATUSES) {
        if (canTransition(from, to)) expect(rank[to]).toBeGreaterThan(rank[from]);
      }
    }
    expect(ORDER_TRANSITIONS.REJECTED).toEqual([]);
    expect(ORDER_TRANSITIONS.COMPLETED).toEqual([]);
    expect(ORDER_TRANSITIONS.FAILED).toEqual([]);
  });

  it('allows the moves of CONTRACT.md and internals.md', () => {
    // Act / Assess
    // COMPLETED only once published (StoreOrder marks PUBLISHED before the event goes out).
    expect(statusesAllowedBefore('COMPLETED')).toEqual(['PUBLISHED']);
    expect(statusesAllowedBefore('FAILED')).toEqual(['ACCEPTED', 'PUBLISHED']);
    // Once PUBLISHED the event may be out: a rules change in a second run cannot reject it.
    expect(statusesAllowedBefore('REJECTED')).toEqual(['ACCEPTED']);
    expect(statusesAllowedBefore('PUBLISHED')).toEqual(['ACCEPTED']);
    expect(canTransition('COMPLETED', 'FAILED')).toBe(false);
    expect(canTransition('PUBLISHED', 'ACCEPTED')).toBe(false);
  });
});

const ORDER = {
  order_id: 'order-1',
  client_id: 'client-a',
  body_hash: 'h'.repeat(64),
  market: 'us',
  currency: 'USD',
};
const KEY = 'client-a#order-1';

describe('transitionOrder', () => {
  it('updates the status on the condition that the current status allows the move', async () => {
    // Prepare
    dynamoMock.on(UpdateCommand).resolves({});

    // Act
    const moved = await transitionOrder(table, KEY, 'FAILED', NOW);

    // Assess
    expect(moved).toBe(true);
    const input = dynamoMock.commandCalls(UpdateCommand)[0]?.args[0].input;
    expect(input).toMatchObject({
      TableName: 'orders',
      Key: { order_key: KEY },
      ConditionExpression: 'attribute_exists(order_key) AND #status IN (:from0, :from1)',
      ExpressionAttributeValues: {
        ':to': 'FAILED',
        ':from0': 'ACCEPTED',
        ':from1': 'PUBLISHED',
        ':now': NOW.toISOString(),
      },
    });
  });

  it('answers false when the order is already terminal (condition failed)', async () => {
    // Prepare
    dynamoMock.on(UpdateCommand).rejects(conditionFailed());

    // Act / Assess
    await expect(transitionOrder(table, KEY, 'COMPLETED', NOW)).resolves.toBe(false);
  });

  it('wraps any other failure as DependencyUnavailableError', async () => {
    // Prepare
    dynamoMock.on(UpdateCommand).rejects(new Error('throttled'));

    // Act / Assess
    await expect(transitionOrder(table, KEY, 'COMPLETED', NOW)).rejects.toBeInstanceOf(
      DependencyUnavailableError,
    );
  });
});

describe('flagUpdate', () => {
  it.each([
    ['set', ['archived'], false],
    ['set', ['archived'], true],
    ['set', [], true],
    ['set', ['archived', 'billed'], false],
    ['complete', ['archived'], false],
    ['complete', [], false],
    ['complete', ['archived', 'billed'], true],
  ] as const)(
    'mode %s with other flags %j (redrive %s) uses every name and value it sends, as DynamoDB requires',
    (mode, others, operatorRedrive) => {
      // Act
      const update = flagUpdate('orders', {
        order: ORDER,
        flag: 'billed',
        others,
        mode,
        now: NOW,
        operatorRedrive,
      });

      // Assess: DynamoDB refuses unused ones (ValidationException); moto does not check
      // transaction items, so only this catches it for billing's transaction.
      const expressions = `${update.UpdateExpression} ${update.ConditionExpression}`;
      const tokens = new Set(expressions.match(/[:#]\w+/g));
      expect(Object.keys(update.ExpressionAttributeValues).filter((key) => !tokens.has(key))).toEqual([]);
      expect(Object.keys(update.ExpressionAttributeNames).filter((key) => !tokens.has(key))).toEqual([]);
      for (const token of tokens) {
        expect([
          ...Object.keys(update.ExpressionAttributeValues),
          ...Object.keys(update.ExpressionAttributeNames),
        ]).toContain(token);
      }
      expect(expressions).not.toContain('((');
    },
  );

  it('refuses mode set with nothing to wait for and no redrive (the write could never pass)', () => {
    // Act / Assess
    expect(() =>
      flagUpdate('orders', { order: ORDER, flag: 'billed', others: [], mode: 'set', now: NOW }),
    ).toThrow(/mode set needs another flag/);
  });
});

describe('markOrderFlag', () => {
  const SET_CONDITION =
    'attribute_exists(order_key) AND body_hash = :hash AND #status = :published AND NOT #other0 = :true';
  const COMPLETE_CONDITION =
    'attribute_exists(order_key) AND body_hash = :hash AND #status = :published AND #other0 = :true';

  it('sets the flag alone, in one write, while the order is published with this body and another flag is missing', async () => {
    // Prepare
    dynamoMock.on(UpdateCommand).resolves({});

    // Act
    const outcome = await markOrderFlag(table, ORDER, 'billed', NOW);

    // Assess
    expect(outcome).toEqual({ kind: 'recorded', completed: false });
    const calls = dynamoMock.commandCalls(UpdateCommand);
    expect(calls).toHaveLength(1);
    expect(calls[0]?.args[0].input).toMatchObject({
      Key: { order_key: KEY },
      UpdateExpression: 'SET #flag = :true, updated_at = :now',
      ConditionExpression: SET_CONDITION,
      ExpressionAttributeNames: { '#flag': 'billed', '#other0': 'archived' },
      ExpressionAttributeValues: { ':hash': ORDER.body_hash, ':published': 'PUBLISHED' },
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    });
    expect(dynamoMock.commandCalls(GetCommand)).toHaveLength(0);
  });

  it('completes the order in the same write as the last flag: the flag alone fails its condition when the other is set', async () => {
    // Prepare
    dynamoMock
      .on(UpdateCommand)
      .rejectsOnce(conditionFailed({ status: 'PUBLISHED', body_hash: ORDER.body_hash, billed: true }))
      .resolvesOnce({});

    // Act
    const outcome = await markOrderFlag(table, ORDER, 'archived', NOW);

    // Assess
    expect(outcome).toEqual({ kind: 'recorded', completed: true });
    const calls = dynamoMock.commandCalls(UpdateCommand);
    expect(calls).toHaveLength(2);
    expect(calls[1]?.args[0].input).toMatchObject({
      UpdateExpression: 'SET #flag = :true, #status = :completed, updated_at = :now REMOVE #shard',
      ConditionExpression: COMPLETE_CONDITION,
      ExpressionAttributeNames: { '#flag': 'archived', '#other0': 'billed', '#shard': 'pending_shard' },
      ExpressionAttributeValues: { ':completed': 'COMPLETED', ':true': true },
    });
  });

  it('completes in one write when told that completing is likely', async () => {
    // Prepare
    dynamoMock.on(UpdateCommand).resolves({});

    // Act
    const outcome = await markOrderFlag(table, ORDER, 'archived', NOW, undefined, { likely: 'complete' });

    // Assess
    expect(outcome).toEqual({ kind: 'recorded', completed: true });
    expect(dynamoMock.commandCalls(UpdateCommand)).toHaveLength(1);
    expect(dynamoMock.commandCalls(UpdateCommand)[0]?.args[0].input.ConditionExpression).toBe(
      COMPLETE_CONDITION,
    );
  });

  it('falls back to the flag alone when a completing write finds the other flag missing', async () => {
    // Prepare: billing has not written its flag yet
    dynamoMock
      .on(UpdateCommand)
      .rejectsOnce(conditionFailed({ status: 'PUBLISHED', body_hash: ORDER.body_hash, billed: false }))
      .resolvesOnce({});

    // Act
    const outcome = await markOrderFlag(table, ORDER, 'archived', NOW, undefined, { likely: 'complete' });

    // Assess
    expect(outcome).toEqual({ kind: 'recorded', completed: false });
    expect(dynamoMock.commandCalls(UpdateCommand)[1]?.args[0].input.ConditionExpression).toBe(SET_CONDITION);
  });

  it('completes on the archive flag alone when a filter policy keeps billing from seeing the order', async () => {
    // Prepare
    dynamoMock.on(UpdateCommand).resolves({});
    const rules = [
      { flag: 'billed' as const, filterPolicy: { market: ['eu'] } },
      { flag: 'archived' as const },
    ];

    // Act
    const outcome = await markOrderFlag(table, ORDER, 'archived', NOW, rules);

    // Assess
    expect(outcome).toEqual({ kind: 'recorded', completed: true });
    expect(dynamoMock.commandCalls(UpdateCommand)[0]?.args[0].input.ConditionExpression).toBe(
      'attribute_exists(order_key) AND body_hash = :hash AND #status = :published',
    );
    expect(requiredFlags(rules, ORDER)).toEqual(['archived']);
    expect(requiredFlags(rules, { ...ORDER, market: 'eu' })).toEqual(['billed', 'archived']);
  });

  it('records without completing again an order that is already COMPLETED with the flag', async () => {
    // Prepare
    dynamoMock
      .on(UpdateCommand)
      .rejects(
        conditionFailed({ status: 'COMPLETED', body_hash: ORDER.body_hash, billed: true, archived: true }),
      );

    // Act / Assess
    await expect(markOrderFlag(table, ORDER, 'archived', NOW)).resolves.toEqual({
      kind: 'recorded',
      completed: false,
    });
    expect(dynamoMock.commandCalls(UpdateCommand)).toHaveLength(1);
  });

  it('records, without a retry, a late delivery to a COMPLETED order that did not need this flag', async () => {
    // Prepare: completed under other completion rules (a filter policy changed between versions)
    dynamoMock
      .on(UpdateCommand)
      .rejects(conditionFailed({ status: 'COMPLETED', body_hash: ORDER.body_hash, billed: true }));

    // Act / Assess
    await expect(markOrderFlag(table, ORDER, 'archived', NOW)).resolves.toEqual({
      kind: 'recorded',
      completed: false,
    });
  });

  it('records the flag of an operator redrive on a FAILED order, which stays FAILED', async () => {
    // Prepare
    dynamoMock.on(UpdateCommand).resolves({});

    // Act
    const outcome = await markOrderFlag(table, ORDER, 'archived', NOW, undefined, {
      operatorRedrive: true,
      likely: 'complete',
    });

    // Assess
    expect(outcome).toEqual({ kind: 'recorded', completed: false });
    const input = dynamoMock.commandCalls(UpdateCommand)[0]?.args[0].input;
    expect(input?.UpdateExpression).toBe('SET #flag = :true, updated_at = :now');
    expect(input?.ConditionExpression).toBe(
      'attribute_exists(order_key) AND body_hash = :hash AND (#status = :failed OR #status = :published AND NOT #other0 = :true)',
    );
  });

  it.each(['FAILED', 'REJECTED'])(
    'records nothing on a %s order: its side effects are not wanted',
    async (status) => {
      // Prepare
      dynamoMock.on(UpdateCommand).rejects(conditionFailed({ status: status, body_hash: ORDER.body_hash }));

      // Act / Assess
      await expect(markOrderFlag(table, ORDER, 'billed', NOW)).resolves.toEqual({
        kind: 'not-wanted',
        status,
      });
    },
  );

  it('says when the refused write found the flag set already on a FAILED order', async () => {
    // Prepare
    dynamoMock
      .on(UpdateCommand)
      .rejects(conditionFailed({ status: 'FAILED', body_hash: ORDER.body_hash, archived: true }));

    // Act / Assess
    await expect(markOrderFlag(table, ORDER, 'archived', NOW)).resolves.toEqual({
      kind: 'not-wanted',
      status: 'FAILED',
      flagSet: true,
    });
    expect(dynamoMock.commandCalls(GetCommand)).toHaveLength(0);
  });

  it('fails with OrderMismatchError when the order is missing or holds another body', async () => {
    // Prepare
    dynamoMock
      .on(UpdateCommand)
      .rejectsOnce(conditionFailed())
      .rejectsOnce(conditionFailed({ status: 'PUBLISHED', body_hash: 'other' }));
    dynamoMock.on(GetCommand).resolves({});

    // Act / Assess
    await expect(markOrderFlag(table, ORDER, 'billed', NOW)).rejects.toBeInstanceOf(OrderMismatchError);
    await expect(markOrderFlag(table, ORDER, 'billed', NOW)).rejects.toBeInstanceOf(OrderMismatchError);
  });

  it('fails for a retry when the order is not published yet, or the writes never settle', async () => {
    // Prepare
    dynamoMock
      .on(UpdateCommand)
      .rejectsOnce(conditionFailed({ status: 'ACCEPTED', body_hash: ORDER.body_hash }))
      // A table that keeps refusing both modes: the flag is neither set nor settled.
      .rejects(conditionFailed({ status: 'PUBLISHED', body_hash: ORDER.body_hash }));

    // Act / Assess
    await expect(markOrderFlag(table, ORDER, 'billed', NOW)).rejects.toBeInstanceOf(
      DependencyUnavailableError,
    );
    await expect(markOrderFlag(table, ORDER, 'billed', NOW)).rejects.toThrow(/not settled in 4 writes/);
  });
});

describe('first flag mode', () => {
  it('completes when no other flag is needed, sets alone for a redrive, else follows the likely mode', () => {
    // Act / Assess
    expect(firstFlagMode([])).toBe('complete');
    expect(firstFlagMode([], true, 'complete')).toBe('set');
    expect(firstFlagMode(['billed'])).toBe('set');
    expect(firstFlagMode(['billed'], false, 'complete')).toBe('complete');
  });

  it("tries first the mode the consumer's last write settled in: a consumer that finishes second completes in one write", async () => {
    // Prepare: the first order finds billing done (set refused, then complete); the second
    // starts with complete
    const progress = new DynamoOrderProgress(table);
    dynamoMock
      .on(UpdateCommand)
      .rejectsOnce(conditionFailed({ status: 'PUBLISHED', body_hash: ORDER.body_hash, billed: true }))
      .resolves({});

    // Act
    await progress.markFlag(ORDER, 'archived', NOW);
    const second = await progress.markFlag({ ...ORDER, order_id: 'order-2' }, 'archived', NOW);

    // Assess
    const conditions = dynamoMock
      .commandCalls(UpdateCommand)
      .map((call) => call.args[0].input.ConditionExpression);
    expect(conditions).toHaveLength(3);
    expect(conditions[2]).toMatch(/AND #other0 = :true$/);
    expect(second).toEqual({ kind: 'recorded', completed: true });
  });
});

describe('orderHasFlag', () => {
  it.each([
    [{ status: 'FAILED', body_hash: ORDER.body_hash, archived: true }, true],
    [{ status: 'FAILED', body_hash: ORDER.body_hash, archived: false }, false],
    [{ status: 'FAILED', body_hash: 'other', archived: true }, false],
    [undefined, false],
  ])('reads %j strongly consistent as %s', async (item, expected) => {
    // Prepare
    dynamoMock.on(GetCommand).resolves({ Item: item });

    // Act / Assess
    await expect(orderHasFlag(table, ORDER, 'archived')).resolves.toBe(expected);
    expect(dynamoMock.commandCalls(GetCommand)[0]?.args[0].input.ConsistentRead).toBe(true);
  });
});

describe('parseCompletionRules', () => {
  it('reads the rules the stack sets, and defaults to both flags', () => {
    // Act / Assess
    expect(parseCompletionRules(undefined).map((rule) => rule.flag)).toEqual(['billed', 'archived']);
    expect(parseCompletionRules('[{"flag":"billed","filterPolicy":{"market":["us"]}}]')).toEqual([
      { flag: 'billed', filterPolicy: { market: ['us'] } },
    ]);
    expect(() => parseCompletionRules('[{"flag":"shipped"}]')).toThrow('COMPLETION_RULES[0].flag');
  });
});
