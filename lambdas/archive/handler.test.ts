import '../testing/handler-env';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DeleteObjectCommand, HeadObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { marshall } from '@aws-sdk/util-dynamodb';
import { DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { BODY_HASH, lambdaContext, orderPlacedBody, sqsRecord, validatedOrder } from '../testing/fixtures';
import { handler } from './handler';

const dynamoMock = mockClient(DynamoDBDocumentClient);
const s3Mock = mockClient(S3Client);

/** The order as the table holds it when the event arrives. */
const publishedOrder = (status = 'PUBLISHED') => ({ Item: { status, body_hash: BODY_HASH } });

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

  it('reads nothing first: the flag write finds the order FAILED, and its object is taken back under a delete marker', async () => {
    // Prepare
    s3Mock.on(PutObjectCommand).resolves({ VersionId: 'v1' });
    s3Mock.on(DeleteObjectCommand).resolves({ DeleteMarker: true });
    dynamoMock.on(UpdateCommand).rejects(
      new ConditionalCheckFailedException({
        message: 'condition',
        $metadata: {},
        Item: marshall({ status: 'FAILED', body_hash: BODY_HASH, billed: false, archived: false }),
      }),
    );
    dynamoMock.on(GetCommand).resolves(publishedOrder('FAILED'));

    // Act
    const response = await handler({ Records: [sqsRecord(orderPlacedBody())] }, lambdaContext);

    // Assess
    expect(response).toEqual({ batchItemFailures: [] });
    expect(s3Mock.commandCalls(DeleteObjectCommand)[0]?.args[0].input).toEqual({
      Bucket: 'archive-bucket',
      Key: 'orders/2026/01/02/client-a/order-1.json',
    });
    // The flag write (its refusal says archived is not set), then one re-read after the delete
    // (strongly consistent).
    expect(dynamoMock.commandCalls(UpdateCommand)).toHaveLength(1);
    expect(dynamoMock.commandCalls(GetCommand).map((call) => call.args[0].input)).toEqual([
      { TableName: 'orders-table', Key: { order_key: 'client-a#order-1' }, ConsistentRead: true },
    ]);
    expect(s3Mock.commandCalls(PutObjectCommand)).toHaveLength(1);
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
