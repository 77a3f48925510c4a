import '../testing/handler-env';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { lambdaContext, orderPlacedBody, sqsRecord } from '../testing/fixtures';
import { handler } from './handler';

const dynamoMock = mockClient(DynamoDBDocumentClient);
const conditionFailed = () => new ConditionalCheckFailedException({ message: 'condition', $metadata: {} });
const arn = 'arn:aws:sqs:eu-west-1:123456789012:archive-dlq';

afterEach(() => {
  dynamoMock.reset();
});

describe('dlq handler', () => {
  it('writes the failure conditionally and marks the order FAILED from ACCEPTED or PUBLISHED', async () => {
    // Prepare
    dynamoMock.on(PutCommand).resolves({});
    dynamoMock.on(UpdateCommand).resolves({});

    // Act
    const response = await handler(
      { Records: [sqsRecord(orderPlacedBody(), { eventSourceARN: arn, messageId: 'm1' })] },
      lambdaContext,
    );

    // Assess
    expect(response).toEqual({ batchItemFailures: [] });
    expect(dynamoMock.commandCalls(PutCommand)[0]?.args[0].input).toMatchObject({
      TableName: 'failed-orders-table',
      ConditionExpression: 'attribute_not_exists(failure_id)',
      Item: {
        order_key: 'client-a#order-1',
        order_id: 'order-1',
        client_id: 'client-a',
        failure_id: 'archive-dlq#m1',
        source: 'archive-dlq',
        receive_count: 1,
      },
    });
    expect(dynamoMock.commandCalls(UpdateCommand)[0]?.args[0].input).toMatchObject({
      TableName: 'orders-table',
      Key: { order_key: 'client-a#order-1' },
      ConditionExpression: 'attribute_exists(order_key) AND #status IN (:from0, :from1)',
      ExpressionAttributeValues: {
        ':to': 'FAILED',
        ':from0': 'ACCEPTED',
        ':from1': 'PUBLISHED',
      },
    });
  });

  it('treats an already recorded failure and an already terminal order as done', async () => {
    // Prepare
    dynamoMock.on(PutCommand).rejects(conditionFailed());
    dynamoMock.on(UpdateCommand).rejects(conditionFailed());

    // Act
    const response = await handler(
      { Records: [sqsRecord(orderPlacedBody(), { eventSourceARN: arn })] },
      lambdaContext,
    );

    // Assess
    expect(response).toEqual({ batchItemFailures: [] });
  });

  it('reports the records it could not record instead of swallowing them', async () => {
    // Prepare
    dynamoMock.on(PutCommand).callsFake((input: { Item: { failure_id: string } }) => {
      if (input.Item.failure_id === 'archive-dlq#m2') throw new Error('throttled');
      return {};
    });
    dynamoMock.on(UpdateCommand).resolves({});

    // Act
    const response = await handler(
      {
        Records: [
          sqsRecord(orderPlacedBody(), { eventSourceARN: arn, messageId: 'm1' }),
          sqsRecord('garbage', { eventSourceARN: arn, messageId: 'm2' }),
        ],
      },
      lambdaContext,
    );

    // Assess
    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: 'm2' }] });
  });
});
