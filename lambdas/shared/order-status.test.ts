import { ConditionalCheckFailedException, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { DependencyUnavailableError } from './errors';
import {
  canTransition,
  markOrderFlag,
  ORDER_TRANSITIONS,
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
const conditionFailed = () => new ConditionalCheckFailedException({ message: 'condition', $metadata: {} });

afterEach(() => {
  dynamoMock.reset();
});

describe('order lifecycle', () => {
  // The contract's order: a status may only move to one that comes later.
  const rank: Record<OrderStatus, number> = {
    ACCEPTED: 0,
    PUBLISHED: 1,
    REJECTED: 2,
    COMPLETED: 2,
    FAILED: 2,
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
    expect(statusesAllowedBefore('COMPLETED')).toEqual(['ACCEPTED', 'PUBLISHED']);
    expect(statusesAllowedBefore('FAILED')).toEqual(['ACCEPTED', 'PUBLISHED']);
    expect(statusesAllowedBefore('REJECTED')).toEqual(['ACCEPTED']);
    expect(statusesAllowedBefore('PUBLISHED')).toEqual(['ACCEPTED']);
    expect(canTransition('COMPLETED', 'FAILED')).toBe(false);
    expect(canTransition('PUBLISHED', 'ACCEPTED')).toBe(false);
  });
});

describe('transitionOrder', () => {
  it('updates the status on the condition that the current status allows the move', async () => {
    // Prepare
    dynamoMock.on(UpdateCommand).resolves({});

    // Act
    const moved = await transitionOrder(table, 'order-1', 'FAILED', NOW);

    // Assess
    expect(moved).toBe(true);
    const input = dynamoMock.commandCalls(UpdateCommand)[0]?.args[0].input;
    expect(input).toMatchObject({
      TableName: 'orders',
      Key: { order_id: 'order-1' },
      ConditionExpression: 'attribute_exists(order_id) AND #status IN (:from0, :from1)',
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
    await expect(transitionOrder(table, 'order-1', 'COMPLETED', NOW)).resolves.toBe(false);
  });

  it('wraps any other failure as DependencyUnavailableError', async () => {
    // Prepare
    dynamoMock.on(UpdateCommand).rejects(new Error('throttled'));

    // Act / Assess
    await expect(transitionOrder(table, 'order-1', 'COMPLETED', NOW)).rejects.toBeInstanceOf(
      DependencyUnavailableError,
    );
  });
});

describe('markOrderFlag', () => {
  it('sets the flag and does not complete while the other flag is missing', async () => {
    // Prepare
    dynamoMock
      .on(UpdateCommand)
      .resolves({ Attributes: { order_id: 'order-1', billed: true, archived: false } });

    // Act
    const completed = await markOrderFlag(table, 'order-1', 'billed', NOW);

    // Assess
    expect(completed).toBe(false);
    const calls = dynamoMock.commandCalls(UpdateCommand);
    expect(calls).toHaveLength(1);
    expect(calls[0]?.args[0].input).toMatchObject({
      UpdateExpression: 'SET #flag = :true, updated_at = :now',
      ConditionExpression: 'attribute_exists(order_id)',
      ExpressionAttributeNames: { '#flag': 'billed' },
      ReturnValues: 'ALL_NEW',
    });
  });

  it('completes the order when both flags are set', async () => {
    // Prepare
    dynamoMock
      .on(UpdateCommand)
      .resolvesOnce({ Attributes: { order_id: 'order-1', billed: true, archived: true } })
      .resolvesOnce({});

    // Act
    const completed = await markOrderFlag(table, 'order-1', 'archived', NOW);

    // Assess
    expect(completed).toBe(true);
    expect(dynamoMock.commandCalls(UpdateCommand)[1]?.args[0].input.ExpressionAttributeValues).toMatchObject({
      ':to': 'COMPLETED',
    });
  });

  it('does not complete an order that is already terminal', async () => {
    // Prepare
    dynamoMock
      .on(UpdateCommand)
      .resolvesOnce({ Attributes: { billed: true, archived: true, status: 'FAILED' } })
      .rejectsOnce(conditionFailed());

    // Act / Assess
    await expect(markOrderFlag(table, 'order-1', 'archived', NOW)).resolves.toBe(false);
  });

  it('fails (for a retry) when the order does not exist', async () => {
    // Prepare
    dynamoMock.on(UpdateCommand).rejects(conditionFailed());

    // Act / Assess
    await expect(markOrderFlag(table, 'order-1', 'billed', NOW)).rejects.toBeInstanceOf(
      DependencyUnavailableError,
    );
  });
});
