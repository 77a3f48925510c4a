/**
 * Re-publishing archived orders (archive bucket, `orders/YYYY/MM/DD/<client_id>/<order_id>.json`) as the
 * OrderPlaced event the workflow published, to the topic (every subscriber whose filter policy
 * matches) or to one subscriber's queue. Safe because every consumer is idempotent: a replayed
 * event finds its billing record and archive object and writes nothing new.
 */
import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { PublishCommand, type MessageAttributeValue, type SNSClient } from '@aws-sdk/client-sns';
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { parseOrderPlacedEvent } from '../../lambdas/shared/order-event';
import { eventAttributes } from '../../lambdas/shared/order-status';
import { EVENT_ATTRIBUTES, orderKey, type OrderPlacedEvent } from '../../lambdas/shared/runtime-contract';

/** Which archived orders to replay: a range of UTC days, orders, or both (orders within the days). */
export interface ReplaySelection {
  from?: Date;
  to?: Date;
  /** `<client>#<order id>` of each order. */
  orderKeys?: readonly string[];
}

/** Where replayed events go. */
export type ReplayTarget =
  { kind: 'topic'; topicArn: string } | { kind: 'queue'; name: string; queueUrl: string };

const ARCHIVE_PREFIX = 'orders/';
const MAX_DAYS = 366;

/** `orders/YYYY/MM/DD/` of every day from `from` to `to`, both included. */
export function dayPrefixes(from: Date, to: Date): string[] {
  if (to.getTime() < from.getTime()) throw new RangeError('the range ends before it starts');
  const prefixes: string[] = [];
  for (let day = from.getTime(); day <= to.getTime(); day += 86_400_000) {
    if (prefixes.length >= MAX_DAYS) throw new RangeError(`a replay covers at most ${MAX_DAYS} days`);
    prefixes.push(`${ARCHIVE_PREFIX}${new Date(day).toISOString().slice(0, 10).replace(/-/g, '/')}/`);
  }
  return prefixes;
}

/** The order key (`<client>#<order id>`) of an archive key, or undefined for a key of another shape. */
export function orderKeyOfArchiveKey(key: string): string | undefined {
  const match = /^orders\/\d{4}\/\d{2}\/\d{2}\/([A-Za-z0-9._-]{1,64})\/([A-Za-z0-9_-]{1,64})\.json$/.exec(
    key,
  );
  return match?.[1] !== undefined && match[2] !== undefined ? orderKey(match[1], match[2]) : undefined;
}

/** The archive keys a selection names. Without a date range the whole archive is listed. */
export async function selectArchiveKeys(
  s3: Pick<S3Client, 'send'>,
  bucket: string,
  selection: ReplaySelection,
): Promise<string[]> {
  const prefixes =
    selection.from !== undefined
      ? dayPrefixes(selection.from, selection.to ?? selection.from)
      : [ARCHIVE_PREFIX];
  const wanted = selection.orderKeys === undefined ? undefined : new Set(selection.orderKeys);
  const keys: string[] = [];
  for (const prefix of prefixes) {
    let token: string | undefined;
    do {
      const page = await s3.send(
        new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
      );
      for (const object of page.Contents ?? []) {
        const key = object.Key === undefined ? undefined : orderKeyOfArchiveKey(object.Key);
        if (key !== undefined && (wanted === undefined || wanted.has(key))) keys.push(object.Key ?? '');
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token !== undefined);
  }
  return keys.sort();
}

/** An OrderPlaced message: the body the workflow publishes and its message attributes. */
export interface OrderPlacedMessage {
  orderId: string;
  body: string;
  attributes: Record<string, MessageAttributeValue>;
}

/**
 * The OrderPlaced event of an archived order. The archived JSON is embedded as stored (the
 * consumers archive what they received), and checked with the consumers' own event parser.
 * @throws Error when the object is not an archived order.
 */
export function orderPlacedMessage(archivedOrderJson: string): OrderPlacedMessage {
  const body = `{"version":1,"type":"OrderPlaced","order":${archivedOrderJson.trim()}}`;
  const event: OrderPlacedEvent = parseOrderPlacedEvent(body);
  const values = eventAttributes(event.order);
  const attributes = Object.fromEntries(
    EVENT_ATTRIBUTES.map((name) => [name, { DataType: 'String', StringValue: values[name] }]),
  );
  return { orderId: event.order.order_id, body, attributes };
}

/** Outcome of {@link replayOrders}. */
export interface ReplayResult {
  selected: number;
  sent: number;
  /** Objects that are not archived orders: key and problem. */
  skipped: Array<{ key: string; problem: string }>;
}

/** Reads each archived order and sends its event to the target (or only reads it, on a dry run). */
export async function replayOrders(options: {
  s3: Pick<S3Client, 'send'>;
  sns: Pick<SNSClient, 'send'>;
  sqs: Pick<SQSClient, 'send'>;
  bucket: string;
  keys: readonly string[];
  target: ReplayTarget;
  dryRun?: boolean;
  onProgress?: (done: number, total: number) => void;
}): Promise<ReplayResult> {
  const result: ReplayResult = { selected: options.keys.length, sent: 0, skipped: [] };
  let done = 0;
  for (const key of options.keys) {
    let body: string;
    try {
      const object = await options.s3.send(new GetObjectCommand({ Bucket: options.bucket, Key: key }));
      body = (await object.Body?.transformToString('utf-8')) ?? '';
    } catch (error) {
      if ((error as Error).name !== 'NoSuchKey') throw error;
      // Taken back since it was listed: archive withdraws the object of an order that ended FAILED
      // or REJECTED without it (docs/internals.md, write 6).
      result.skipped.push({ key, problem: 'no longer there: taken back since it was listed' });
      options.onProgress?.(++done, options.keys.length);
      continue;
    }
    let message: OrderPlacedMessage | undefined;
    try {
      message = orderPlacedMessage(body);
    } catch (error) {
      result.skipped.push({ key, problem: (error as Error).message });
    }
    if (message !== undefined && !options.dryRun) {
      if (options.target.kind === 'topic') {
        await options.sns.send(
          new PublishCommand({
            TopicArn: options.target.topicArn,
            Message: message.body,
            MessageAttributes: message.attributes,
          }),
        );
      } else {
        await options.sqs.send(
          new SendMessageCommand({
            QueueUrl: options.target.queueUrl,
            MessageBody: message.body,
            MessageAttributes: message.attributes,
          }),
        );
      }
      result.sent += 1;
    }
    done += 1;
    options.onProgress?.(done, options.keys.length);
  }
  return result;
}
