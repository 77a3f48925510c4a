import '../testing/handler-env';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { lambdaContext, orderPlacedBody, sqsRecord, validatedOrder } from '../testing/fixtures';
import { handler } from './handler';

const dynamoMock = mockClient(DynamoDBDocumentClient);

afterEach(() => {
  dynamoMock.reset();
});

describe('billing handler', () => {
  it('bills conditionally, marks billed and completes when archived too', async () => {
    // Prepare
    dynamoMock.on(PutCommand).resolves({});
    dynamoMock
      .on(UpdateCommand)
      .resolvesOnce({ Attributes: { billed: true, archived: true } })
      .resolvesOnce({});

    // Act
    const response = await handler({ Records: [sqsRecord(orderPlacedBody())] }, lambdaContext);

    // Assess
    expect(response).toEqual({ batchItemFailures: [] });
    expect(dynamoMock.commandCalls(PutCommand)[0]?.args[0].input).toMatchObject({
      TableName: 'billing-table',
      ConditionExpression: 'attribute_not_exists(order_id)',
      Item: { order_id: 'order-1', amount: 3998, currency: 'USD' },
    });
    const updates = dynamoMock.commandCalls(UpdateCommand).map((call) => call.args[0].input);
    expect(updates[0]).toMatchObject({
      TableName: 'orders-table',
      ExpressionAttributeNames: { '#flag': 'billed' },
    });
    expect(updates[1]?.ExpressionAttributeValues).toMatchObject({ ':to': 'COMPLETED' });
  });

  it('counts an already billed order as success', async () => {
    // Prepare
    dynamoMock
      .on(PutCommand)
      .rejects(new ConditionalCheckFailedException({ message: 'exists', $metadata: {} }));
    dynamoMock.on(UpdateCommand).resolves({ Attributes: { billed: true } });

    // Act
    const response = await handler({ Records: [sqsRecord(orderPlacedBody())] }, lambdaContext);

    // Assess
    expect(response).toEqual({ batchItemFailures: [] });
  });

  it('reports only the failed records of a batch', async () => {
    // Prepare
    dynamoMock.on(PutCommand).callsFake((input: { Item: { order_id: string } }) => {
      if (input.Item.order_id === 'order-2') throw new Error('throttled');
      return {};
    });
    dynamoMock.on(UpdateCommand).resolves({ Attributes: { billed: true } });
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
