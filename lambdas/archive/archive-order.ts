/** Archive consumer: one JSON object per order in the archive bucket, then the order marked archived. */
import { HeadObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { ConsumerRuntime, OrderEventProcessor } from '../shared/consumer';
import { DependencyUnavailableError, OrderMismatchError } from '../shared/errors';
import { isOperatorRedrive, type OrderProgress } from '../shared/order-status';
import { METRICS, orderKey, type ValidatedOrder } from '../shared/runtime-contract';

/** Object metadata (`x-amz-meta-body-hash`) holding the body hash the object was written for. */
export const BODY_HASH_METADATA = 'body-hash';

/**
 * `orders/YYYY/MM/DD/<client_id>/<order_id>.json`, dated by `created_at` in UTC: order ids are per
 * client, so the client is part of the key and two clients' orders never share an object.
 */
export function archiveKey(order: Pick<ValidatedOrder, 'order_id' | 'client_id' | 'created_at'>): string {
  const created = new Date(order.created_at);
  const year = created.getUTCFullYear().toString().padStart(4, '0');
  const month = (created.getUTCMonth() + 1).toString().padStart(2, '0');
  const day = created.getUTCDate().toString().padStart(2, '0');
  return `orders/${year}/${month}/${day}/${order.client_id}/${order.order_id}.json`;
}

/** The archive bucket. Throws DependencyUnavailableError. */
export interface OrderArchive {
  /**
   * Writes one object unless it exists already; returns false when it did. The bucket is
   * versioned, so an overwrite would leave a second version: a duplicate archive object.
   */
  put(key: string, body: string, bodyHash: string): Promise<boolean>;
  /** The body hash an existing object was written for (its metadata), or undefined. */
  bodyHashOf(key: string): Promise<string | undefined>;
}

/** {@link OrderArchive} on S3. Encryption is the bucket's default (KMS), set by the infrastructure. */
export class S3OrderArchive implements OrderArchive {
  constructor(
    private readonly client: S3Client,
    private readonly bucketName: string,
  ) {}

  async put(key: string, body: string, bodyHash: string): Promise<boolean> {
    try {
      await this.client.send(
        new PutObjectCommand({
          Bucket: this.bucketName,
          Key: key,
          Body: body,
          ContentType: 'application/json',
          Metadata: { [BODY_HASH_METADATA]: bodyHash },
          IfNoneMatch: '*',
        }),
      );
      return true;
    } catch (error) {
      if (isPreconditionFailed(error)) return false;
      throw new DependencyUnavailableError('archive bucket', { cause: error });
    }
  }

  async bodyHashOf(key: string): Promise<string | undefined> {
    try {
      const head = await this.client.send(new HeadObjectCommand({ Bucket: this.bucketName, Key: key }));
      return head.Metadata?.[BODY_HASH_METADATA];
    } catch (error) {
      throw new DependencyUnavailableError('archive bucket', { cause: error });
    }
  }
}

/** S3's answer to a conditional write whose object exists already (HTTP 412). */
function isPreconditionFailed(error: unknown): boolean {
  const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  return status === 412 || (error instanceof Error && error.name === 'PreconditionFailed');
}

/** What archiving needs. */
export interface ArchiveDependencies extends ConsumerRuntime {
  archive: OrderArchive;
  progress: OrderProgress;
}

/**
 * Archives the order of one OrderPlaced event; a redelivery finds the object, checks it was
 * written for the same body, and writes nothing.
 */
export function archiveOrder(deps: ArchiveDependencies): OrderEventProcessor {
  return async ({ order }, message) => {
    const key = archiveKey(order);
    const operatorRedrive = isOperatorRedrive(message);
    const notWanted = (status: string) => {
      deps.metrics.addMetric(METRICS.sideEffectsNotWanted, MetricUnit.Count, 1);
      deps.logger.warn('order not archived: it is not wanted any more', {
        order_id: order.order_id,
        status,
        key,
      });
    };
    // Before the write: no condition can stop an object of a FAILED order once it is written.
    const check = await deps.progress.wanted(order, { operatorRedrive });
    if (check.kind === 'not-wanted') {
      notWanted(check.status);
      return;
    }
    const created = await deps.archive.put(key, JSON.stringify(order), order.body_hash);
    if (!created) {
      const stored = await deps.archive.bodyHashOf(key);
      if (stored !== order.body_hash) {
        throw new OrderMismatchError(
          orderKey(order.client_id, order.order_id),
          `the archive object ${key} was written for another body`,
        );
      }
    }
    if (created) deps.metrics.addMetric(METRICS.ordersArchived, MetricUnit.Count, 1);
    // The order as read picks the write: with every other flag set, archived and COMPLETED in one.
    const outcome = await deps.progress.markFlag(order, 'archived', deps.now(), {
      operatorRedrive,
      seen: check.item,
    });
    if (outcome.kind === 'not-wanted') {
      // It ended between the read and the write: the object stays, the order stays FAILED.
      notWanted(outcome.status);
      return;
    }
    if (outcome.completed) deps.metrics.addMetric(METRICS.ordersCompleted, MetricUnit.Count, 1);
    deps.logger.info(created ? 'order archived' : 'order already archived', {
      order_id: order.order_id,
      key,
      completed: outcome.completed,
    });
  };
}
