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
  const observer = () => new PipelineObserver(resourcesFromOutputs(OUTPUTS), { region: 'eu-west-1' }, 'acme');

  afterEach(() => {
    dynamodb.reset();
    s3.reset();
  });

  it('reads orders in batches of 100 and retries unprocessed keys', async () => {
    // Prepare
    const ids = Array.from({ length: 150 }, (_, i) => `o-${i}`);
    const item = (id: string) => ({
      order_key: { S: `acme#${id}` },
      order_id: { S: id },
      client_id: { S: 'acme' },
      status: { S: 'COMPLETED' },
    });
    dynamodb
      .on(BatchGetItemCommand)
      .resolvesOnce({
        Responses: { orders: ids.slice(0, 99).map(item) },
        UnprocessedKeys: { orders: { Keys: [{ order_key: { S: 'acme#o-99' } }] } },
      })
      .resolvesOnce({ Responses: { orders: [item('o-99')] } })
      .resolvesOnce({ Responses: { orders: ids.slice(100, 149).map(item) } });
    // Act
    const orders = await observer().orders(ids);
    // Assess
    const calls = dynamodb.commandCalls(BatchGetItemCommand);
    expect(calls).toHaveLength(3);
    expect(calls[0]?.args[0].input.RequestItems?.orders?.Keys).toHaveLength(100);
    // Order ids are per client: the run's client names the key.
    expect(calls[0]?.args[0].input.RequestItems?.orders?.Keys?.[0]).toEqual({ order_key: { S: 'acme#o-0' } });
    expect(calls[0]?.args[0].input.RequestItems?.orders?.ProjectionExpression).toContain('order_id');
    expect(calls[0]?.args[0].input.RequestItems?.orders?.ConsistentRead).toBe(true);
    expect(calls[1]?.args[0].input.RequestItems?.orders?.Keys).toEqual([{ order_key: { S: 'acme#o-99' } }]);
    expect(calls[2]?.args[0].input.RequestItems?.orders?.Keys).toHaveLength(50);
    expect(orders.size).toBe(149);
    expect(orders.get('o-99')).toMatchObject({ order_id: 'o-99', status: 'COMPLETED' });
    expect(orders.has('o-149')).toBe(false);
  });

  it('counts every billing record of an order, across pages', async () => {
    // Prepare
    dynamodb
      .on(QueryCommand)
      .resolvesOnce({
        Items: [{ order_key: { S: 'acme#o-1' }, order_id: { S: 'o-1' } }],
        LastEvaluatedKey: { order_key: { S: 'acme#o-1' } },
      })
      .resolvesOnce({ Items: [{ order_key: { S: 'acme#o-1' }, order_id: { S: 'o-1' } }] });
    // Act
    const records = await observer().billingRecords(['o-1']);
    // Assess
    expect(records).toEqual([{ order_id: 'o-1' }, { order_id: 'o-1' }]);
    const calls = dynamodb.commandCalls(QueryCommand);
    expect(calls[0]?.args[0].input).toMatchObject({
      TableName: 'billing',
      ExpressionAttributeNames: { '#key': 'order_key' },
      ExpressionAttributeValues: { ':id': { S: 'acme#o-1' } },
    });
    expect(calls[1]?.args[0].input.ExclusiveStartKey).toEqual({ order_key: { S: 'acme#o-1' } });
  });

  it("reads the failed-orders rows of the run's orders by order key", async () => {
    // Prepare
    dynamodb.on(QueryCommand).resolves({
      Items: [
        {
          order_key: { S: 'acme#o-1' },
          order_id: { S: 'o-1' },
          client_id: { S: 'acme' },
          failure_id: { S: 'billing-dlq#m1' },
          source: { S: 'billing-dlq' },
        },
      ],
    });
    // Act
    const rows = await observer().failedOrderRows(['o-1']);
    // Assess
    expect(rows).toEqual([{ order_id: 'o-1', failure_id: 'billing-dlq#m1', source: 'billing-dlq' }]);
    expect(dynamodb.commandCalls(QueryCommand)[0]?.args[0].input).toMatchObject({
      TableName: 'failed',
      ExpressionAttributeNames: { '#key': 'order_key' },
      ExpressionAttributeValues: { ':id': { S: 'acme#o-1' } },
    });
  });

  it("lists archive versions and delete markers per creation day and keeps only the run's orders", async () => {
    // Prepare
    s3.on(ListObjectVersionsCommand)
      .resolvesOnce({
        Versions: [
          { Key: 'orders/2026/01/01/acme/o-1.json', VersionId: 'v1' },
          { Key: 'orders/2026/01/01/acme/someone-else.json', VersionId: 'v1' },
        ],
        IsTruncated: true,
        NextKeyMarker: 'orders/2026/01/01/acme/o-1.json',
        NextVersionIdMarker: 'v1',
      })
      .resolvesOnce({
        Versions: [{ Key: 'orders/2026/01/01/acme/o-1.json', VersionId: 'v2' }],
        DeleteMarkers: [{ Key: 'orders/2026/01/01/acme/o-1.json', VersionId: 'm1', IsLatest: true }],
        IsTruncated: false,
      });
    // Act
    const versions = await observer().archiveVersions(
      new Map([['o-1', { created_at: '2026-01-01T23:59:59.000Z' }]]),
    );
    // Assess
    expect(versions).toEqual([
      { order_id: 'o-1', key: 'orders/2026/01/01/acme/o-1.json', versionId: 'v1' },
      { order_id: 'o-1', key: 'orders/2026/01/01/acme/o-1.json', versionId: 'v2' },
      // Archive took it back: the accounting counts no object (archiveObjects)
      {
        order_id: 'o-1',
        key: 'orders/2026/01/01/acme/o-1.json',
        versionId: 'm1',
        deleteMarker: true,
        latest: true,
      },
    ]);
    const calls = s3.commandCalls(ListObjectVersionsCommand);
    // Only the run's client's objects: another client's order o-1 is another order.
    expect(calls[0]?.args[0].input).toMatchObject({ Bucket: 'archive', Prefix: 'orders/2026/01/01/acme/' });
    expect(calls[1]?.args[0].input).toMatchObject({
      Prefix: 'orders/2026/01/01/acme/',
      KeyMarker: 'orders/2026/01/01/acme/o-1.json',
      VersionIdMarker: 'v1',
    });
  });
});
