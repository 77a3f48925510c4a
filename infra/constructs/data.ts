import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { LIFECYCLE, TABLE_KEYS } from '../../lambdas/shared/runtime-contract';

/** Prefix of archived order objects (docs/internals.md: orders/YYYY/MM/DD/<client_id>/<order_id>.json). */
export const ARCHIVE_PREFIX = 'orders/';

export interface DataProps {
  /** RETAIN in prod (tables, bucket, key survive a stack deletion), DESTROY elsewhere. */
  readonly removalPolicy: RemovalPolicy;
}

/**
 * Where orders live: the orders, billing and failed-orders tables, the archive bucket, and the
 * bucket that receives S3 server access logs and ALB access logs.
 */
export class Data extends Construct {
  /** Customer-managed key of the tables and the archive bucket. */
  public readonly key: kms.Key;
  public readonly ordersTable: dynamodb.Table;
  public readonly billingTable: dynamodb.Table;
  public readonly failedOrdersTable: dynamodb.Table;
  public readonly archiveBucket: s3.Bucket;
  /** Server access logs of the archive bucket and ALB access logs (SSE-S3: ALB logs cannot use KMS). */
  public readonly accessLogBucket: s3.Bucket;

  constructor(scope: Construct, id: string, props: DataProps) {
    super(scope, id);
    const removalPolicy = props.removalPolicy;

    this.key = new kms.Key(this, 'Key', {
      description: 'Order pipeline data: DynamoDB tables and the archive bucket',
      enableKeyRotation: true,
      removalPolicy,
    });

    const table = (name: string, partitionKey: string, sortKey?: string) =>
      new dynamodb.Table(this, name, {
        partitionKey: { name: partitionKey, type: dynamodb.AttributeType.STRING },
        sortKey: sortKey ? { name: sortKey, type: dynamodb.AttributeType.STRING } : undefined,
        billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
        encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED,
        encryptionKey: this.key,
        pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
        deletionProtection: removalPolicy === RemovalPolicy.RETAIN,
        removalPolicy,
      });
    this.ordersTable = table('OrdersTable', TABLE_KEYS.orders.partitionKey);
    // The reconciler's sparse index of the orders that are not terminal yet (a terminal transition
    // REMOVEs the shard), oldest start first. KEYS_ONLY: only a change of shard or start writes to it.
    this.ordersTable.addGlobalSecondaryIndex({
      indexName: LIFECYCLE.pendingIndex,
      partitionKey: { name: LIFECYCLE.pendingShard, type: dynamodb.AttributeType.STRING },
      sortKey: { name: LIFECYCLE.startedAt, type: dynamodb.AttributeType.NUMBER },
      projectionType: dynamodb.ProjectionType.KEYS_ONLY,
    });
    this.billingTable = table('BillingTable', TABLE_KEYS.billing.partitionKey);
    this.failedOrdersTable = table(
      'FailedOrdersTable',
      TABLE_KEYS.failedOrders.partitionKey,
      TABLE_KEYS.failedOrders.sortKey,
    );
    // Orders and bills are business records and never expire; a failure record may carry an
    // `expires_at` (epoch seconds) set by whoever resolves it.
    (this.failedOrdersTable.node.defaultChild as dynamodb.CfnTable).timeToLiveSpecification = {
      attributeName: 'expires_at',
      enabled: true,
    };

    this.accessLogBucket = new s3.Bucket(this, 'AccessLogBucket', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      versioned: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      lifecycleRules: [
        {
          id: 'expire-access-logs',
          expiration: Duration.days(365),
          noncurrentVersionExpiration: Duration.days(30),
          transitions: [
            { storageClass: s3.StorageClass.INFREQUENT_ACCESS, transitionAfter: Duration.days(30) },
          ],
        },
      ],
      removalPolicy,
    });

    this.archiveBucket = new s3.Bucket(this, 'ArchiveBucket', {
      encryption: s3.BucketEncryption.KMS,
      encryptionKey: this.key,
      bucketKeyEnabled: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      versioned: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      serverAccessLogsBucket: this.accessLogBucket,
      serverAccessLogsPrefix: 'archive-bucket/',
      lifecycleRules: [
        {
          id: 'archive-to-cheaper-storage',
          transitions: [
            { storageClass: s3.StorageClass.INFREQUENT_ACCESS, transitionAfter: Duration.days(30) },
            { storageClass: s3.StorageClass.GLACIER_INSTANT_RETRIEVAL, transitionAfter: Duration.days(90) },
            { storageClass: s3.StorageClass.DEEP_ARCHIVE, transitionAfter: Duration.days(365) },
          ],
          noncurrentVersionExpiration: Duration.days(90),
        },
      ],
      removalPolicy,
    });
  }
}
