/**
 * Reads what the pipeline left behind for a run's order ids: orders (BatchGetItem of the ids,
 * never a scan), billing records and failed-orders rows (a Query per order, which counts every
 * record of an order whatever the table's sort key), archive object versions (ListObjectVersions
 * per day prefix the orders were created on) and queue depths.
 */
import {
  BatchGetItemCommand,
  DynamoDBClient,
  QueryCommand,
  type AttributeValue,
} from '@aws-sdk/client-dynamodb';
import { ListObjectVersionsCommand, S3Client } from '@aws-sdk/client-s3';
import { GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { OUTPUTS } from '../../infra/stacks/order-pipeline-stack';
import { orderKey, TABLE_KEYS } from '../../lambdas/shared/runtime-contract';
import {
  archiveEntries,
  type ArchiveVersion,
  type BillingRecord,
  type FailedOrderRow,
  type OrderRow,
} from './accounting';
import type { QueueDepth } from './report';

/** The names a run reads, from the stack outputs. */
export interface PipelineResources {
  ordersTable: string;
  billingTable: string;
  failedOrdersTable: string;
  archiveBucket: string;
  /** Dead-letter queue URLs by subscriber name (`Billing`, `Archive`, ...). */
  deadLetterQueues: Record<string, string>;
}

/** A stack output the run needs is missing. */
export class MissingOutputError extends Error {
  override readonly name = 'MissingOutputError';
}

const DLQ_SUFFIX = 'DeadLetterQueueUrl';

/** Picks the run's resources out of the stack outputs (OUTPUTS and `<Name>DeadLetterQueueUrl`). */
export function resourcesFromOutputs(outputs: Readonly<Record<string, string>>): PipelineResources {
  const required = (name: string) => {
    const value = outputs[name];
    if (!value) throw new MissingOutputError(`the stack has no output ${name}`);
    return value;
  };
  return {
    ordersTable: required(OUTPUTS.ordersTable),
    billingTable: required(OUTPUTS.billingTable),
    failedOrdersTable: required(OUTPUTS.failedOrdersTable),
    archiveBucket: required(OUTPUTS.archiveBucket),
    deadLetterQueues: Object.fromEntries(
      Object.entries(outputs)
        .filter(([name]) => name.endsWith(DLQ_SUFFIX))
        .map(([name, url]) => [name.slice(0, -DLQ_SUFFIX.length), url]),
    ),
  };
}

/** SDK settings: the emulator's for local, the default chain and a region for AWS. */
export interface AwsSettings {
  region: string;
  endpoint?: string;
  credentials?: { accessKeyId: string; secretAccessKey: string };
}

// BatchGetItem takes at most 100 keys per call.
const BATCH_GET_LIMIT = 100;
const QUERY_CONCURRENCY = 8;

/** Runs `work` over `items` with at most `limit` in flight. */
async function mapLimited<T, R>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/** The stores of one pipeline, read for a run's order ids. */
export class PipelineObserver {
  private readonly dynamodb: DynamoDBClient;
  private readonly s3: S3Client;
  private readonly sqs: SQSClient;

  /** @param clientId the client the run's orders belong to (order ids are per client) */
  constructor(
    private readonly resources: PipelineResources,
    aws: AwsSettings,
    private readonly clientId: string,
  ) {
    this.dynamodb = new DynamoDBClient(aws);
    // The emulator serves buckets by path, not by virtual host.
    this.s3 = new S3Client({ ...aws, forcePathStyle: aws.endpoint !== undefined });
    this.sqs = new SQSClient(aws);
  }

  /** Orders table items of these ids (absent ids are absent from the map). */
  async orders(orderIds: readonly string[]): Promise<Map<string, OrderRow>> {
    const found = new Map<string, OrderRow>();
    const table = this.resources.ordersTable;
    const key = TABLE_KEYS.orders.partitionKey;
    for (let start = 0; start < orderIds.length; start += BATCH_GET_LIMIT) {
      let keys: Array<Record<string, AttributeValue>> = orderIds
        .slice(start, start + BATCH_GET_LIMIT)
        .map((orderId) => ({ [key]: { S: orderKey(this.clientId, orderId) } }));
      for (let attempt = 0; keys.length > 0; attempt++) {
        if (attempt > 0) await sleep(Math.min(2000, 50 * 2 ** attempt));
        const result = await this.dynamodb.send(
          new BatchGetItemCommand({
            RequestItems: {
              [table]: {
                Keys: keys,
                ConsistentRead: true,
                ProjectionExpression:
                  'order_id, #status, created_at, updated_at, body_hash, billed, archived',
                ExpressionAttributeNames: { '#status': 'status' },
              },
            },
          }),
        );
        for (const item of result.Responses?.[table] ?? []) {
          const row = unmarshall(item) as OrderRow;
          found.set(row.order_id, row);
        }
        keys = result.UnprocessedKeys?.[table]?.Keys ?? [];
      }
    }
    return found;
  }

  /** Every billing record of these orders. */
  async billingRecords(orderIds: readonly string[]): Promise<BillingRecord[]> {
    const rows = await mapLimited(orderIds, QUERY_CONCURRENCY, (orderId) =>
      this.queryByOrder(this.resources.billingTable, TABLE_KEYS.billing.partitionKey, orderId),
    );
    return rows.flat().map((item) => ({
      order_id: String(item.order_id),
      ...(typeof item.body_hash === 'string' ? { body_hash: item.body_hash } : {}),
      ...(typeof item.billed_at === 'string' ? { billed_at: item.billed_at } : {}),
    }));
  }

  /** Every failed-orders row of these orders. */
  async failedOrderRows(orderIds: readonly string[]): Promise<FailedOrderRow[]> {
    const { partitionKey, sortKey } = TABLE_KEYS.failedOrders;
    const rows = await mapLimited(orderIds, QUERY_CONCURRENCY, (orderId) =>
      this.queryByOrder(this.resources.failedOrdersTable, partitionKey, orderId),
    );
    return rows.flat().map((item) => ({
      order_id: String(item.order_id),
      failure_id: String(item[sortKey]),
      source: item.source === undefined ? undefined : String(item.source),
      ...(typeof item.failed_at === 'string' ? { failed_at: item.failed_at } : {}),
    }));
  }

  private async queryByOrder(
    table: string,
    key: string,
    orderId: string,
  ): Promise<Array<Record<string, unknown>>> {
    const items: Array<Record<string, unknown>> = [];
    let startKey: Record<string, AttributeValue> | undefined;
    do {
      const result = await this.dynamodb.send(
        new QueryCommand({
          TableName: table,
          KeyConditionExpression: '#key = :id',
          ExpressionAttributeNames: { '#key': key },
          ExpressionAttributeValues: { ':id': { S: orderKey(this.clientId, orderId) } },
          ConsistentRead: true,
          ExclusiveStartKey: startKey,
        }),
      );
      items.push(...(result.Items ?? []).map((item) => unmarshall(item)));
      startKey = result.LastEvaluatedKey;
    } while (startKey);
    return items;
  }

  /**
   * Every version and delete marker of the archive objects of these orders. Keys are
   * `orders/YYYY/MM/DD/<client>/<id>.json` by the order's `created_at` (UTC), so one listing per
   * creation day covers a run.
   */
  async archiveVersions(
    orders: ReadonlyMap<string, Pick<OrderRow, 'created_at'>>,
  ): Promise<ArchiveVersion[]> {
    const days = new Set<string>();
    for (const order of orders.values()) {
      const created = new Date(order.created_at ?? '');
      if (!Number.isNaN(created.getTime())) days.add(created.toISOString().slice(0, 10).replaceAll('-', '/'));
    }
    const versions: ArchiveVersion[] = [];
    for (const day of [...days].sort()) {
      let keyMarker: string | undefined;
      let versionIdMarker: string | undefined;
      do {
        const page = await this.s3.send(
          new ListObjectVersionsCommand({
            Bucket: this.resources.archiveBucket,
            Prefix: `orders/${day}/${this.clientId}/`,
            KeyMarker: keyMarker,
            VersionIdMarker: versionIdMarker,
          }),
        );
        versions.push(
          ...archiveEntries(page, (key) => {
            const orderId = /\/([^/]+)\.json$/.exec(key)?.[1];
            return orderId !== undefined && orders.has(orderId) ? orderId : undefined;
          }),
        );
        const more = page.IsTruncated === true;
        keyMarker = more ? page.NextKeyMarker : undefined;
        versionIdMarker = more ? page.NextVersionIdMarker : undefined;
      } while (keyMarker !== undefined);
    }
    return versions;
  }

  /** Messages waiting and in flight on each dead-letter queue. */
  async deadLetterDepths(): Promise<Record<string, QueueDepth>> {
    const depths: Record<string, QueueDepth> = {};
    for (const [name, url] of Object.entries(this.resources.deadLetterQueues)) {
      const result = await this.sqs.send(
        new GetQueueAttributesCommand({
          QueueUrl: url,
          AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
        }),
      );
      depths[name] = {
        visible: Number(result.Attributes?.ApproximateNumberOfMessages ?? 0),
        inFlight: Number(result.Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0),
      };
    }
    return depths;
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
