import '../testing/handler-env';
import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  DynamoDBDocumentClient,
  GetCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { BODY_HASH, lambdaContext, orderPlacedBody, sqsRecord, validatedOrder } from '../testing/fixtures';
import { handler } from './handler';

const dynamoMock = mockClient(DynamoDBDocumentClient);

afterEach(() => {
  dynamoMock.reset();
});

/**
 * A cancelled transaction, with one reason per item (the record's Put, the order's Update): a code,
 * or a code and the item as it was (ReturnValuesOnConditionCheckFailure ALL_OLD).
 */
const cancelled = (...reasons: Array<string | [string, Record<string, unknown>]>) =>
  new TransactionCanceledException({
    message: 'cancelled',
    $metadata: {},
    CancellationReasons: reasons.map((reason) =>
      typeof reason === 'string' ? { Code: reason } : { Code: reason[0], Item: marshall(reason[1]) },
    ),
  });

describe('billing handler', () => {
  it('bills in one transaction with the order flag, and nothing else while archive is missing', async () => {
    // Prepare
    dynamoMock.on(TransactWriteCommand).resolves({});

    // Act
    const response = await handler({ Records: [sqsRecord(orderPlacedBody())] }, lambdaContext);

    // Assess
    expect(response).toEqual({ batchItemFailures: [] });
    expect(dynamoMock.calls()).toHaveLength(1);
    const [put, update] = dynamoMock.commandCalls(TransactWriteCommand)[0]?.args[0].input.TransactItems ?? [];
    expect(put?.Put).toMatchObject({
      TableName: 'billing-table',
      ConditionExpression: 'attribute_not_exists(order_key)',
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      Item: {
        order_key: 'client-a#order-1',
        order_id: 'order-1',
        amount: 3998,
        currency: 'USD',
        body_hash: BODY_HASH,
      },
    });
    expect(update?.Update).toMatchObject({
      TableName: 'orders-table',
      Key: { order_key: 'client-a#order-1' },
      UpdateExpression: 'SET #flag = :true, updated_at = :now',
      ExpressionAttributeNames: { '#flag': 'billed', '#other0': 'archived' },
      ExpressionAttributeValues: { ':hash': BODY_HASH },
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    });
  });

  it('completes the order in a second transaction when the first finds the order archived', async () => {
    // Prepare
    dynamoMock
      .on(TransactWriteCommand)
      .rejectsOnce(
        cancelled('None', [
          'ConditionalCheckFailed',
          { status: 'PUBLISHED', body_hash: BODY_HASH, archived: true },
        ]),
      )
      .resolvesOnce({});

    // Act
    const response = await handler({ Records: [sqsRecord(orderPlacedBody())] }, lambdaContext);

    // Assess
    expect(response).toEqual({ batchItemFailures: [] });
    expect(dynamoMock.commandCalls(GetCommand)).toHaveLength(0);
    const second = dynamoMock.commandCalls(TransactWriteCommand)[1]?.args[0].input.TransactItems?.[1]?.Update;
    expect(second).toMatchObject({
      UpdateExpression: 'SET #flag = :true, #status = :completed, updated_at = :now REMOVE #shard',
      ExpressionAttributeValues: { ':completed': 'COMPLETED' },
    });
  });

  it('counts an already billed order (same body) as success', async () => {
    // Prepare
    dynamoMock
      .on(TransactWriteCommand)
      .rejects(
        cancelled(
          ['ConditionalCheckFailed', { order_key: 'client-a#order-1', body_hash: BODY_HASH }],
          'None',
        ),
      );

    // Act
    const response = await handler({ Records: [sqsRecord(orderPlacedBody())] }, lambdaContext);

    // Assess
    expect(response).toEqual({ batchItemFailures: [] });
    // The transaction that made the record set the flag; nothing else to write or read.
    expect(dynamoMock.calls()).toHaveLength(1);
  });

  it('completes an order an earlier billing version billed but left PUBLISHED with every flag', async () => {
    // Prepare: the record exists, and the order has both flags (billed by a version that read
    // and completed after its transaction, and died in between)
    dynamoMock
      .on(TransactWriteCommand)
      .rejects(
        cancelled(
          ['ConditionalCheckFailed', { order_key: 'client-a#order-1', body_hash: BODY_HASH }],
          [
            'ConditionalCheckFailed',
            { status: 'PUBLISHED', body_hash: BODY_HASH, billed: true, archived: true },
          ],
        ),
      );
    dynamoMock.on(UpdateCommand).resolves({});

    // Act
    const response = await handler({ Records: [sqsRecord(orderPlacedBody())] }, lambdaContext);

    // Assess
    expect(response).toEqual({ batchItemFailures: [] });
    expect(dynamoMock.commandCalls(UpdateCommand)[0]?.args[0].input.UpdateExpression).toBe(
      'SET #flag = :true, #status = :completed, updated_at = :now REMOVE #shard',
    );
  });

  it('retries a cancellation that is not a failed condition (a validation error), rather than reading it as a missing order', async () => {
    // Prepare
    dynamoMock.on(TransactWriteCommand).rejects(cancelled('None', 'ValidationError'));

    // Act
    const response = await handler(
      { Records: [sqsRecord(orderPlacedBody(), { messageId: 'm1' })] },
      lambdaContext,
    );

    // Assess: retried (a DependencyUnavailableError), not an OrderMismatchError's dead letter
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: 'm1' }]);
    expect(dynamoMock.commandCalls(TransactWriteCommand)).toHaveLength(1);
  });

  it('fails the record when the billing record was made for another body', async () => {
    // Prepare
    dynamoMock
      .on(TransactWriteCommand)
      .rejects(
        cancelled(
          ['ConditionalCheckFailed', { order_key: 'client-a#order-1', body_hash: 'b'.repeat(64) }],
          'None',
        ),
      );

    // Act
    const response = await handler(
      { Records: [sqsRecord(orderPlacedBody(), { messageId: 'm1' })] },
      lambdaContext,
    );

    // Assess
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: 'm1' }]);
  });

  it("bills a FAILED order only when the message is an operator's redrive that says so", async () => {
    // Prepare
    dynamoMock.on(TransactWriteCommand).resolves({});
    dynamoMock.on(GetCommand).resolves({ Item: { billed: true, archived: false, status: 'FAILED' } });
    const redrive = { 'operator-redrive': { stringValue: 'failed-order', dataType: 'String' } };

    // Act
    await handler({ Records: [sqsRecord(orderPlacedBody())] }, lambdaContext);
    await handler({ Records: [sqsRecord(orderPlacedBody(), { messageAttributes: redrive })] }, lambdaContext);

    // Assess
    const conditions = dynamoMock
      .commandCalls(TransactWriteCommand)
      .map((call) => call.args[0].input.TransactItems?.[1]?.Update);
    expect(conditions[0]?.ConditionExpression).not.toContain(':failed');
    expect(conditions[0]?.ExpressionAttributeValues?.[':failed']).toBeUndefined();
    expect(conditions[1]?.ConditionExpression).toContain(
      '(#status = :failed OR #status = :published AND NOT #other0 = :true)',
    );
    expect(conditions[1]?.ExpressionAttributeValues?.[':failed']).toBe('FAILED');
  });

  it('retries a transaction conflict rather than reading it as billed', async () => {
    // Prepare
    dynamoMock.on(TransactWriteCommand).rejects(cancelled('None', 'TransactionConflict'));

    // Act
    const response = await handler(
      { Records: [sqsRecord(orderPlacedBody(), { messageId: 'm1' })] },
      lambdaContext,
    );

    // Assess
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: 'm1' }]);
    expect(dynamoMock.commandCalls(GetCommand)).toHaveLength(0);
  });

  it('reports only the failed records of a batch', async () => {
    // Prepare
    dynamoMock
      .on(TransactWriteCommand)
      .callsFake((input: { TransactItems: Array<{ Put?: { Item: { order_id: string } } }> }) => {
        if (input.TransactItems[0]?.Put?.Item.order_id === 'order-2') throw new Error('throttled');
        return {};
      });
    dynamoMock.on(GetCommand).resolves({ Item: { billed: true } });
    const records = [
      sqsRecord(orderPlacedBody(validatedOrder({ order_id: 'order-1' })), { messageId: 'm1' }),
      sqsRecord(orderPlacedBody(validatedOrder({ order_id: 'order-2' })), { messageId: 'm2' }),
      sqsRecord('not an event', { messageId: 'm3' }),
    ];

    // Act
    const response = await handler({ Records: records }, lambdaContext);

    // Assess
    const failed = response.batchItemFailures.map((failure) => failure.itemIdentifier).sort();
    expect(failed).toEqual(['m2', 'm3']);
  });

  it('reports a fully failed batch per record instead of throwing', async () => {
    // Act
    const response = await handler({ Records: [sqsRecord('x', { messageId: 'm1' })] }, lambdaContext);

    // Assess
    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: 'm1' }] });
  });
});
