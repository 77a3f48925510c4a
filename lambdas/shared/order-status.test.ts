import { ConditionalCheckFailedException, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { DependencyUnavailableError, OrderMismatchError } from './errors';
import {
  canTransition,
  markOrderFlag,
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
    PUBLISHING: 1,
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
    // COMPLETED only once published (the consumers can finish before MarkPublished).
    expect(statusesAllowedBefore('COMPLETED')).toEqual(['PUBLISHING', 'PUBLISHED']);
    expect(statusesAllowedBefore('FAILED')).toEqual(['ACCEPTED', 'PUBLISHING', 'PUBLISHED']);
    // Once PUBLISHING the event may be out: a rules change in a second run cannot reject it.
    expect(statusesAllowedBefore('REJECTED')).toEqual(['ACCEPTED']);
    expect(statusesAllowedBefore('PUBLISHING')).toEqual(['ACCEPTED']);
    expect(statusesAllowedBefore('PUBLISHED')).toEqual(['PUBLISHING']);
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
      ConditionExpression: 'attribute_exists(order_key) AND #status IN (:from0, :from1, :from2)',
      ExpressionAttributeValues: {
        ':to': 'FAILED',
        ':from0': 'ACCEPTED',
        ':from1': 'PUBLISHING',
        ':from2': 'PUBLISHED',
        ':now': NOW.toISOString(),
      },
    });
  });

  it('conditions COMPLETED on every flag the order needs', async () => {
    // Prepare
    dynamoMock.on(UpdateCommand).resolves({});

    // Act
    await transitionOrder(table, KEY, 'COMPLETED', NOW, ['billed', 'archived']);

    // Assess
    expect(dynamoMock.commandCalls(UpdateCommand)[0]?.args[0].input.ConditionExpression).toBe(
      'attribute_exists(order_key) AND #status IN (:from0, :from1) AND #billed = :true AND #archived = :true',
    );
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

describe('markOrderFlag', () => {
  it('sets the flag only while the order exists with this body and is published, and does not complete while the other flag is missing', async () => {
    // Prepare
    dynamoMock.on(UpdateCommand).resolves({ Attributes: { billed: true, archived: false } });

    // Act
    const outcome = await markOrderFlag(table, ORDER, 'billed', NOW);

    // Assess
    expect(outcome).toEqual({ kind: 'recorded', completed: false });
    const calls = dynamoMock.commandCalls(UpdateCommand);
    expect(calls).toHaveLength(1);
    expect(calls[0]?.args[0].input).toMatchObject({
      Key: { order_key: KEY },
      UpdateExpression: 'SET #flag = :true, updated_at = :now',
      ConditionExpression:
        'attribute_exists(order_key) AND body_hash = :hash AND #status IN (:publishing, :published)',
      ExpressionAttributeNames: { '#flag': 'billed' },
      ExpressionAttributeValues: {
        ':hash': ORDER.body_hash,
        ':publishing': 'PUBLISHING',
        ':published': 'PUBLISHED',
      },
      ReturnValues: 'ALL_NEW',
    });
  });

  it('completes the order when both flags are set', async () => {
    // Prepare
    dynamoMock
      .on(UpdateCommand)
      .resolvesOnce({ Attributes: { billed: true, archived: true } })
      .resolvesOnce({});

    // Act
    const outcome = await markOrderFlag(table, ORDER, 'archived', NOW);

    // Assess
    expect(outcome).toEqual({ kind: 'recorded', completed: true });
    expect(dynamoMock.commandCalls(UpdateCommand)[1]?.args[0].input.ExpressionAttributeValues).toMatchObject({
      ':to': 'COMPLETED',
    });
  });

  it('completes on the archive flag alone when a filter policy keeps billing from seeing the order', async () => {
    // Prepare
    dynamoMock
      .on(UpdateCommand)
      .resolvesOnce({ Attributes: { billed: false, archived: true } })
      .resolvesOnce({});
    const rules = [
      { flag: 'billed' as const, filterPolicy: { market: ['eu'] } },
      { flag: 'archived' as const },
    ];

    // Act
    const outcome = await markOrderFlag(table, ORDER, 'archived', NOW, rules);

    // Assess
    expect(outcome).toEqual({ kind: 'recorded', completed: true });
    expect(requiredFlags(rules, ORDER)).toEqual(['archived']);
    expect(requiredFlags(rules, { ...ORDER, market: 'eu' })).toEqual(['billed', 'archived']);
  });

  it('does not complete an order that is already terminal', async () => {
    // Prepare
    dynamoMock
      .on(UpdateCommand)
      .resolvesOnce({ Attributes: { billed: true, archived: true, status: 'FAILED' } })
      .rejectsOnce(conditionFailed());

    // Act / Assess
    await expect(markOrderFlag(table, ORDER, 'archived', NOW)).resolves.toEqual({
      kind: 'recorded',
      completed: false,
    });
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

  it('fails for a retry when the order is not published yet', async () => {
    // Prepare
    dynamoMock.on(UpdateCommand).rejects(conditionFailed({ status: 'ACCEPTED', body_hash: ORDER.body_hash }));

    // Act / Assess
    await expect(markOrderFlag(table, ORDER, 'billed', NOW)).rejects.toBeInstanceOf(
      DependencyUnavailableError,
    );
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
