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

/** The archive bucket. Throws DependencyUnavailableError. */
export interface OrderArchive {
  /**
   * Writes one object unless it exists already (`If-None-Match: *`); returns false when it did.
   * The bucket is versioned, so an overwrite would leave a second version: a duplicate archive
   * object.
   */
  put(key: string, body: string, bodyHash: string): Promise<boolean>;
  /** The body hash an existing object was written for (its metadata), or undefined. */
  bodyHashOf(key: string): Promise<string | undefined>;
  /**
   * Takes an object back: a delete marker over it. The version stays, noncurrent, until the
   * bucket's lifecycle expires it (90 days): this role can hide an object, not erase one at once.
   */
  withdraw(key: string): Promise<void>;
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
          // Checks the current version only: over a delete marker the write goes ahead.
          // https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-writes.html
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

  async withdraw(key: string): Promise<void> {
    try {
      // Without a VersionId, a versioned bucket adds a delete marker (s3:DeleteObject); deleting a
      // version for good would take s3:DeleteObjectVersion, which this role does not have.
      // https://docs.aws.amazon.com/AmazonS3/latest/userguide/DeletingObjectVersions.html
      await this.client.send(new DeleteObjectCommand({ Bucket: this.bucketName, Key: key }));
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
 * - recorded: it stays (and the order is COMPLETED when archived was its last flag). An
 *   operator's redrive then puts the object again (a 412 when it is still there): a stale
 *   delivery of the FAILED order may have taken it back in between;
 * - the order is FAILED or REJECTED (not wanted): unless the refused write found `archived` set
 *   already (a delivery recorded it before the order failed), the object is taken back, so that
 *   the flag and the bucket agree; read again after that, an `archived` set in between (an
 *   operator's redrive that found the object) gets the object put back;
 * - the stored order is another body, or none: an object this delivery wrote is taken back, and
 *   the record fails (an object it found stays: it may be the archive a restore is replayed from);
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
    const ensure = () => ensureObject(deps.archive, key, body, order);
    const created = await ensure();
    let outcome: FlagOutcome;
    try {
      outcome = await deps.progress.markFlag(order, 'archived', deps.now(), { operatorRedrive });
    } catch (error) {
      if (error instanceof OrderMismatchError && created) await deps.archive.withdraw(key);
      throw error;
    }
    if (outcome.kind === 'not-wanted') {
      deps.metrics.addMetric(METRICS.sideEffectsNotWanted, MetricUnit.Count, 1);
      const fields = { order_id: order.order_id, status: outcome.status, key };
      // As the refused write found it: a flag set in between is caught by the re-read below.
      if (outcome.flagSet) {
        deps.logger.warn('order ended after it was archived: object kept', fields);
        return;
      }
      await deps.archive.withdraw(key);
      if (await deps.progress.hasFlag(order, 'archived')) await ensure();
      deps.logger.warn('order not archived: it is not wanted any more', fields);
      return;
    }
    if (operatorRedrive) await ensure();
    if (created) deps.metrics.addMetric(METRICS.ordersArchived, MetricUnit.Count, 1);
    if (outcome.completed) deps.metrics.addMetric(METRICS.ordersCompleted, MetricUnit.Count, 1);
    deps.logger.info(created ? 'order archived' : 'order already archived', {
      order_id: order.order_id,
      key,
      completed: outcome.completed,
    });
  };
}

/**
 * Writes the order's object, or finds it written for the same body; returns whether it wrote it.
 * @throws OrderMismatchError when an object of another body holds the key
 */
async function ensureObject(
  archive: OrderArchive,
  key: string,
  body: string,
  order: ValidatedOrder,
): Promise<boolean> {
  if (await archive.put(key, body, order.body_hash)) return true;
  const stored = await archive.bodyHashOf(key);
  if (stored !== order.body_hash) {
    throw new OrderMismatchError(
      orderKey(order.client_id, order.order_id),
      `the archive object ${key} was written for another body`,
    );
  }
  return false;
}
