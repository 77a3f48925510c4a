/** Archive consumer: one JSON object per order in the archive bucket, then the order marked archived. */
import { DeleteObjectCommand, HeadObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { ConsumerRuntime, OrderEventProcessor } from '../shared/consumer';
import { DependencyUnavailableError, OrderMismatchError } from '../shared/errors';
import { isOperatorRedrive, type FlagOutcome, type OrderProgress } from '../shared/order-status';
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

/** An object as written or found: its version (absent in an unversioned bucket). */
export interface ArchivedObject {
  /** Whether this call wrote it (false: it existed, written for the same body). */
  created: boolean;
  versionId?: string;
}

/** The archive bucket. Throws DependencyUnavailableError. */
export interface OrderArchive {
  /**
   * Writes one object unless it exists already (`If-None-Match: *`); returns undefined when it
   * did. The bucket is versioned, so an overwrite would leave a second version: a duplicate
   * archive object.
   */
  put(key: string, body: string, bodyHash: string): Promise<{ versionId?: string } | undefined>;
  /** The body hash an existing object was written for (its metadata), and its version. */
  stored(key: string): Promise<{ bodyHash?: string; versionId?: string }>;
  /** Deletes one version of an object for good (no delete marker), or the object when no version. */
  remove(key: string, versionId: string | undefined): Promise<void>;
}

/** {@link OrderArchive} on S3. Encryption is the bucket's default (KMS), set by the infrastructure. */
export class S3OrderArchive implements OrderArchive {
  constructor(
    private readonly client: S3Client,
    private readonly bucketName: string,
  ) {}

  async put(key: string, body: string, bodyHash: string): Promise<{ versionId?: string } | undefined> {
    try {
      const result = await this.client.send(
        new PutObjectCommand({
          Bucket: this.bucketName,
          Key: key,
          Body: body,
          ContentType: 'application/json',
          Metadata: { [BODY_HASH_METADATA]: bodyHash },
          IfNoneMatch: '*',
        }),
      );
      return { ...(result.VersionId ? { versionId: result.VersionId } : {}) };
    } catch (error) {
      if (isPreconditionFailed(error)) return undefined;
      throw new DependencyUnavailableError('archive bucket', { cause: error });
    }
  }

  async stored(key: string): Promise<{ bodyHash?: string; versionId?: string }> {
    try {
      const head = await this.client.send(new HeadObjectCommand({ Bucket: this.bucketName, Key: key }));
      return {
        ...(head.Metadata?.[BODY_HASH_METADATA] ? { bodyHash: head.Metadata[BODY_HASH_METADATA] } : {}),
        ...(head.VersionId ? { versionId: head.VersionId } : {}),
      };
    } catch (error) {
      throw new DependencyUnavailableError('archive bucket', { cause: error });
    }
  }

  async remove(key: string, versionId: string | undefined): Promise<void> {
    try {
      // With a VersionId the version is deleted for good (s3:DeleteObjectVersion); without one, a
      // versioned bucket would only add a delete marker.
      // https://docs.aws.amazon.com/AmazonS3/latest/userguide/DeletingObjectVersions.html
      await this.client.send(
        new DeleteObjectCommand({
          Bucket: this.bucketName,
          Key: key,
          ...(versionId ? { VersionId: versionId } : {}),
        }),
      );
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
 * Archives the order of one OrderPlaced event: the object first, then the flag write, and nothing
 * read before (issue 14). The flag write's condition decides whether the object stays:
 *
 * - recorded: it stays (and the order is COMPLETED when archived was its last flag);
 * - the order is FAILED or REJECTED (not wanted): the object is taken back, so that an order's
 *   `archived` flag and its archive object always agree. Unless the order has `archived` set
 *   already (a delivery recorded it before the order failed, or an operator's redrive did), read
 *   again after the delete: then the object is put back;
 * - the stored order is another body, or none: the object is taken back and the record fails;
 * - the table fails, or the order is not published yet: the object stays and the record is
 *   retried (the redelivery finds it, 412, and writes the flag).
 *
 * A redelivery finds the object, checks it was written for the same body, and writes none.
 */
export function archiveOrder(deps: ArchiveDependencies): OrderEventProcessor {
  return async ({ order }, message) => {
    const key = archiveKey(order);
    const operatorRedrive = isOperatorRedrive(message);
    const body = JSON.stringify(order);
    const object = await ensureObject(deps.archive, key, body, order);
    let outcome: FlagOutcome;
    try {
      outcome = await deps.progress.markFlag(order, 'archived', deps.now(), { operatorRedrive });
    } catch (error) {
      if (error instanceof OrderMismatchError) await deps.archive.remove(key, object.versionId);
      throw error;
    }
    if (outcome.kind === 'not-wanted') {
      if (!(await deps.progress.hasFlag(order, 'archived'))) {
        await deps.archive.remove(key, object.versionId);
        // A delivery that found this object (412) and recorded the flag in between (an operator's
        // redrive) needs it back.
        if (await deps.progress.hasFlag(order, 'archived'))
          await ensureObject(deps.archive, key, body, order);
      }
      deps.metrics.addMetric(METRICS.sideEffectsNotWanted, MetricUnit.Count, 1);
      deps.logger.warn('order not archived: it is not wanted any more', {
        order_id: order.order_id,
        status: outcome.status,
        key,
      });
      return;
    }
    // An operator's redrive that recorded the flag on an object it found: a stale delivery of the
    // FAILED order may have taken that object back before its re-read saw this flag. Put it back
    // (a 412 when it is still there).
    if (operatorRedrive && !object.created) await ensureObject(deps.archive, key, body, order);
    if (object.created) deps.metrics.addMetric(METRICS.ordersArchived, MetricUnit.Count, 1);
    if (outcome.completed) deps.metrics.addMetric(METRICS.ordersCompleted, MetricUnit.Count, 1);
    deps.logger.info(object.created ? 'order archived' : 'order already archived', {
      order_id: order.order_id,
      key,
      completed: outcome.completed,
    });
  };
}

/**
 * The order's object, written now or found written for the same body.
 * @throws OrderMismatchError when an object of another body holds the key
 */
async function ensureObject(
  archive: OrderArchive,
  key: string,
  body: string,
  order: ValidatedOrder,
): Promise<ArchivedObject> {
  const written = await archive.put(key, body, order.body_hash);
  if (written) return { created: true, ...written };
  const stored = await archive.stored(key);
  if (stored.bodyHash !== order.body_hash) {
    throw new OrderMismatchError(
      orderKey(order.client_id, order.order_id),
      `the archive object ${key} was written for another body`,
    );
  }
  return { created: false, ...(stored.versionId ? { versionId: stored.versionId } : {}) };
}
