import '../testing/handler-env';
import { HeadObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { BODY_HASH, lambdaContext, orderPlacedBody, sqsRecord, validatedOrder } from '../testing/fixtures';
import { handler } from './handler';

const dynamoMock = mockClient(DynamoDBDocumentClient);
const s3Mock = mockClient(S3Client);

/** The order as the table holds it when the event arrives. */
const publishedOrder = (status = 'PUBLISHED') => ({ Item: { status, body_hash: BODY_HASH } });

beforeEach(() => {
  dynamoMock.on(GetCommand).resolves(publishedOrder());
});

afterEach(() => {
  dynamoMock.reset();
  s3Mock.reset();
});

describe('archive handler', () => {
  it('puts the order object and marks it archived', async () => {
    // Prepare
    s3Mock.on(PutObjectCommand).resolves({});
    dynamoMock.on(UpdateCommand).resolves({ Attributes: { archived: true } });

    // Act
    const response = await handler({ Records: [sqsRecord(orderPlacedBody())] }, lambdaContext);

    // Assess
    expect(response).toEqual({ batchItemFailures: [] });
    expect(s3Mock.commandCalls(PutObjectCommand)[0]?.args[0].input).toEqual({
      Bucket: 'archive-bucket',
      Key: 'orders/2026/01/02/client-a/order-1.json',
      Body: JSON.stringify(validatedOrder()),
      ContentType: 'application/json',
      Metadata: { 'body-hash': BODY_HASH },
      IfNoneMatch: '*',
    });
    expect(dynamoMock.commandCalls(UpdateCommand)[0]?.args[0].input).toMatchObject({
      TableName: 'orders-table',
      ExpressionAttributeNames: { '#flag': 'archived' },
    });
  });

  it('reads the order first and writes no object of a FAILED order', async () => {
    // Prepare
    dynamoMock.on(GetCommand).resolves(publishedOrder('FAILED'));

    // Act
    const response = await handler({ Records: [sqsRecord(orderPlacedBody())] }, lambdaContext);

    // Assess
    expect(response).toEqual({ batchItemFailures: [] });
    expect(dynamoMock.commandCalls(GetCommand)[0]?.args[0].input).toEqual({
      TableName: 'orders-table',
      Key: { order_key: 'client-a#order-1' },
      ConsistentRead: true,
    });
    expect(s3Mock.commandCalls(PutObjectCommand)).toHaveLength(0);
    expect(dynamoMock.commandCalls(UpdateCommand)).toHaveLength(0);
  });

  const preconditionFailed = () =>
    Object.assign(new Error('At least one of the pre-conditions you specified did not hold'), {
      name: 'PreconditionFailed',
      $metadata: { httpStatusCode: 412 },
    });

  it('fails the record when the existing object (412) was written for another body', async () => {
    // Prepare
    s3Mock.on(PutObjectCommand).rejects(preconditionFailed());
    s3Mock.on(HeadObjectCommand).resolves({ Metadata: { 'body-hash': 'b'.repeat(64) } });

    // Act
    const response = await handler(
      { Records: [sqsRecord(orderPlacedBody(), { messageId: 'm1' })] },
      lambdaContext,
    );

    // Assess
    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: 'm1' }] });
    expect(dynamoMock.commandCalls(UpdateCommand)).toHaveLength(0);
  });

  it('treats an existing object (412) of the same body as archived already: no second version, order still marked', async () => {
    // Prepare
    s3Mock.on(PutObjectCommand).rejects(preconditionFailed());
    s3Mock.on(HeadObjectCommand).resolves({ Metadata: { 'body-hash': BODY_HASH } });
    dynamoMock.on(UpdateCommand).resolves({ Attributes: { archived: true } });

    // Act
    const response = await handler({ Records: [sqsRecord(orderPlacedBody())] }, lambdaContext);

    // Assess
    expect(response).toEqual({ batchItemFailures: [] });
    expect(dynamoMock.commandCalls(UpdateCommand)[0]?.args[0].input).toMatchObject({
      ExpressionAttributeNames: { '#flag': 'archived' },
    });
  });

  it('reports a record whose object cannot be written, and does not mark it archived', async () => {
    // Prepare
    s3Mock.on(PutObjectCommand).rejects(new Error('SlowDown'));

    // Act
    const response = await handler(
      { Records: [sqsRecord(orderPlacedBody(), { messageId: 'm1' })] },
      lambdaContext,
    );

    // Assess
    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: 'm1' }] });
    expect(dynamoMock.commandCalls(UpdateCommand)).toHaveLength(0);
  });
});
