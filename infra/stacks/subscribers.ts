import type { CompletionFlag } from '../../lambdas/shared/order-status';
import { ENV } from '../../lambdas/shared/runtime-contract';
import type { Data } from '../constructs/data';
import { ARCHIVE_PREFIX } from '../constructs/data';
import { grantItemActions, grantKey } from '../constructs/grants';
import type { HandlerName, OrderPipelineFunction } from '../constructs/order-pipeline-function';
import * as iam from 'aws-cdk-lib/aws-iam';

/**
 * One subscriber of the orders topic, as data. Adding a consumer (for example a compliance
 * consumer that only sees `market = ru`) is one more entry here plus its settings in each
 * environment's `consumers`.
 */
export interface SubscriberDefinition {
  /** Subscriber name: the key of its settings in the environment config and its CONSUMER_NAME. */
  readonly name: string;
  /** Handler folder under lambdas/. */
  readonly handler: HandlerName;
  /** The order's flag the consumer sets; an order completes once every subscriber that sees it set its flag. */
  readonly flag: CompletionFlag;
  /** Default filter policy on message attributes; the environment config may override it. */
  readonly filterPolicy?: Readonly<Record<string, readonly string[]>>;
  /** The consumer's own variables (beyond ORDERS_TABLE_NAME, FAILURE_INJECTION_RATE, CONSUMER_NAME). */
  readonly environment: (data: Data) => Record<string, string>;
  /** The consumer's own grants (beyond UpdateItem on the orders table). */
  readonly grant: (fn: OrderPipelineFunction, data: Data) => void;
}

export const SUBSCRIBERS: readonly SubscriberDefinition[] = [
  {
    name: 'billing',
    handler: 'billing',
    flag: 'billed',
    environment: (data) => ({ [ENV.billingTable]: data.billingTable.tableName }),
    // One TransactWriteItems of a billing PutItem and the order's UpdateItem (IAM authorizes each
    // item's own action). This version reads nothing (a cancelled transaction returns the items as
    // they were, and the flag write completes the order itself), but the billing version before
    // it reads both items after its transaction, and a canary deployment runs it for minutes on
    // this role: GetItem stays until the release after (scripts/iam/unused-grants.ts).
    grant: (fn, data) => {
      grantItemActions(fn.role, data.billingTable, ['PutItem', 'GetItem']);
      grantItemActions(fn.role, data.ordersTable, ['GetItem']);
    },
  },
  {
    name: 'archive',
    handler: 'archive',
    flag: 'archived',
    environment: (data) => ({ [ENV.archiveBucket]: data.archiveBucket.bucketName }),
    grant: (fn, data) => {
      fn.role.addToPolicy(
        new iam.PolicyStatement({
          // HeadObject (is an existing object the same body?) is authorized by s3:GetObject;
          // DeleteObject without a VersionId (an object whose flag write found the order FAILED,
          // taken back under a delete marker) by s3:DeleteObject. Not s3:DeleteObjectVersion: the
          // role can hide an archived version but not erase it at once (the lifecycle keeps
          // noncurrent versions 90 days).
          actions: ['s3:PutObject', 's3:GetObject', 's3:DeleteObject'],
          resources: [data.archiveBucket.arnForObjects(`${ARCHIVE_PREFIX}*`)],
        }),
      );
      grantKey(fn.role, data.key, ['GenerateDataKey']);
      // The order's flag, re-read around taking an object back (and the archive version before
      // this one reads the order before every object, on this role during a canary).
      grantItemActions(fn.role, data.ordersTable, ['GetItem']);
    },
  },
];
