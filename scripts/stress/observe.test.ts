import { BatchGetItemCommand, DynamoDBClient, QueryCommand } from '@aws-sdk/client-dynamodb';
import { ListObjectVersionsCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { PipelineObserver, resourcesFromOutputs } from './observe';

const OUTPUTS = {
  OrdersUrl: 'https://orders.example.com/orders',
  OrdersTableName: 'orders',
  BillingTableName: 'billing',
  FailedOrdersTableName: 'failed',
  ArchiveBucketName: 'archive',
  BillingQueueUrl: 'https://sqs/billing',
  BillingDeadLetterQueueUrl: 'https://sqs/billing-dlq',
  ArchiveDeadLetterQueueUrl: 'https://sqs/archive-dlq',
};

describe('PipelineObserver', () => {
  const dynamodb = mockClient(DynamoDBClient);
  const s3 = mockClient(S3Client);
  const observer = () => new PipelineObserver(resourcesFromOutputs(OUTPUTS), { region: 'eu-west-1' });

  afterEach(() => {
    dynamodb.reset();
    s3.reset();
  });

  it('reads orders in batches of 100 and retries unprocessed keys', async () => {
    // Prepare
    const ids = Array.from({ length: 150 }, (_, i) => `o-${i}`);
    const item = (id: string) => ({ order_id: { S: id }, status: { S: 'COMPLETED' } });
    dynamodb
      .on(BatchGetItemCommand)
      .resolvesOnce({
        Responses: { orders: ids.slice(0, 99).map(item) },
        UnprocessedKeys: { orders: { Keys: [{ order_id: { S: 'o-99' } }] } },
      })
      .resolvesOnce({ Responses: { orders: [item('o-99')] } })
      .resolvesOnce({ Responses: { orders: ids.slice(100, 149).map(item) } });
    // Act
    const orders = await observer().orders(ids);
    // Assess
    const calls = dynamodb.commandCalls(BatchGetItemCommand);
    expect(calls).toHaveLength(3);
    expect(calls[0]?.args[0].input.RequestItems?.orders?.Keys).toHaveLength(100);
    expect(calls[0]?.args[0].input.RequestItems?.orders?.ConsistentRead).toBe(true);
    expect(calls[2]?.args[0].input.RequestItems?.orders?.Keys).toHaveLength(50);
    expect(orders.size).toBe(149);
    expect(orders.has('o-149')).toBe(false);
  });

  it('counts every billing record of an order, across pages', async () => {
    // Prepare
    dynamodb
      .on(QueryCommand)
      .resolvesOnce({ Items: [{ order_id: { S: 'o-1' } }], LastEvaluatedKey: { order_id: { S: 'o-1' } } })
      .resolvesOnce({ Items: [{ order_id: { S: 'o-1' } }] });
    // Act
    const records = await observer().billingRecords(['o-1']);
    // Assess
    expect(records).toEqual([{ order_id: 'o-1' }, { order_id: 'o-1' }]);
    expect(dynamodb.commandCalls(QueryCommand)[0]?.args[0].input.TableName).toBe('billing');
  });

  it("lists archive versions per creation day and keeps only the run's orders", async () => {
    // Prepare
    s3.on(ListObjectVersionsCommand)
      .resolvesOnce({
        Versions: [
          { Key: 'orders/2026/01/01/o-1.json', VersionId: 'v1' },
          { Key: 'orders/2026/01/01/someone-else.json', VersionId: 'v1' },
        ],
        IsTruncated: true,
        NextKeyMarker: 'orders/2026/01/01/o-1.json',
        NextVersionIdMarker: 'v1',
      })
      .resolvesOnce({
        Versions: [{ Key: 'orders/2026/01/01/o-1.json', VersionId: 'v2' }],
        IsTruncated: false,
      });
    // Act
    const versions = await observer().archiveVersions(
      new Map([['o-1', { created_at: '2026-01-01T23:59:59.000Z' }]]),
    );
    // Assess
    expect(versions).toEqual([
      { order_id: 'o-1', key: 'orders/2026/01/01/o-1.json', versionId: 'v1' },
      { order_id: 'o-1', key: 'orders/2026/01/01/o-1.json', versionId: 'v2' },
    ]);
    const calls = s3.commandCalls(ListObjectVersionsCommand);
    expect(calls[0]?.args[0].input).toMatchObject({ Bucket: 'archive', Prefix: 'orders/2026/01/01/' });
    expect(calls[1]?.args[0].input).toMatchObject({
      KeyMarker: 'orders/2026/01/01/o-1.json',
      VersionIdMarker: 'v1',
    });
  });
});
