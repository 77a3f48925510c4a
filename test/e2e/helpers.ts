import { DynamoDBClient, GetItemCommand, QueryCommand } from '@aws-sdk/client-dynamodb';
import { ListObjectVersionsCommand, S3Client } from '@aws-sdk/client-s3';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { LocalStack } from '../../scripts/local/stack';
import { orderKey } from '../../lambdas/shared/runtime-contract';
import { archiveEntries, archiveObjects } from '../../scripts/stress/accounting';

/** Polls `probe` until it returns something other than undefined, or fails at the deadline. */
export async function eventually<T>(
  probe: () => Promise<T | undefined>,
  what: string,
  deadlineMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${deadlineMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** Reads the local stack's tables and bucket, through its stack outputs. */
export class StackInspector {
  private readonly dynamodb: DynamoDBClient;
  private readonly s3: S3Client;

  constructor(private readonly stack: LocalStack) {
    this.dynamodb = new DynamoDBClient(stack.aws);
    this.s3 = new S3Client({ ...stack.aws, forcePathStyle: true });
  }

  output(name: string): string {
    const value = this.stack.outputs[name];
    if (!value)
      throw new Error(`the stack has no output ${name}: ${Object.keys(this.stack.outputs).join(', ')}`);
    return value;
  }

  async order(orderId: string): Promise<Record<string, unknown> | undefined> {
    return this.item('OrdersTableName', orderId);
  }

  async billingRecord(orderId: string): Promise<Record<string, unknown> | undefined> {
    return this.item('BillingTableName', orderId);
  }

  async failedOrderRows(orderId: string): Promise<Array<Record<string, unknown>>> {
    const result = await this.dynamodb.send(
      new QueryCommand({
        TableName: this.output('FailedOrdersTableName'),
        KeyConditionExpression: 'order_key = :key',
        ExpressionAttributeValues: { ':key': { S: this.key(orderId) } },
      }),
    );
    return (result.Items ?? []).map((item) => unmarshall(item));
  }

  /**
   * The order's archive objects as the stress accounting counts them (archiveObjects): 0 when none
   * is current (never written, or taken back under a delete marker), above 1 an overwrite.
   */
  async archiveObjects(orderId: string): Promise<number> {
    const result = await this.s3.send(
      new ListObjectVersionsCommand({ Bucket: this.output('ArchiveBucketName'), Prefix: 'orders/' }),
    );
    const suffix = `/${this.stack.client.clientId}/${orderId}.json`;
    return archiveObjects(archiveEntries(result, (key) => (key.endsWith(suffix) ? orderId : undefined)));
  }

  /** The table key of the stack client's order (order ids are per client). */
  private key(orderId: string): string {
    return orderKey(this.stack.client.clientId, orderId);
  }

  private async item(tableOutput: string, orderId: string): Promise<Record<string, unknown> | undefined> {
    const result = await this.dynamodb.send(
      new GetItemCommand({
        TableName: this.output(tableOutput),
        Key: { order_key: { S: this.key(orderId) } },
        ConsistentRead: true,
      }),
    );
    return result.Item ? unmarshall(result.Item) : undefined;
  }
}

/** A valid order body with a fresh order id. */
export function validOrder(overrides: Record<string, unknown> = {}): string {
  return JSON.stringify({
    order_id: `e2e-${Math.random().toString(36).slice(2, 12)}`,
    customer_id: 'cust-1',
    market: 'us',
    currency: 'USD',
    items: [{ product_id: 'sku-1', quantity: 2, unit_price: 1999 }],
    ...overrides,
  });
}
