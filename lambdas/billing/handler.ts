/** Billing consumer: SQS batch from the billing queue, partial batch failures reported. */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { readRateEnv, requireEnv } from '../shared/config';
import { orderEventRecordHandler } from '../shared/consumer';
import { DynamoOrderProgress } from '../shared/order-status';
import { instrumentHandler } from '../shared/powertools/instrument';
import { logger } from '../shared/powertools/logger';
import { metrics } from '../shared/powertools/metrics';
import { tracer } from '../shared/powertools/tracer';
import { ENV } from '../shared/runtime-contract';
import { billOrder, DynamoBillingLedger } from './bill-order';

const config = {
  ordersTable: requireEnv(process.env, ENV.ordersTable),
  billingTable: requireEnv(process.env, ENV.billingTable),
  failureInjectionRate: readRateEnv(process.env, ENV.failureInjectionRate),
};

// Several subscribers may share this code; CONSUMER_NAME tells their log lines apart.
logger.appendPersistentKeys({ consumer: process.env[ENV.consumerName] ?? 'billing' });

const dynamo = DynamoDBDocumentClient.from(tracer.captureAWSv3Client(new DynamoDBClient({})));
const processor = new BatchProcessor(EventType.SQS);

const runtime = {
  failureInjectionRate: config.failureInjectionRate,
  random: Math.random,
  now: () => new Date(),
  logger,
  metrics,
};
const recordHandler = orderEventRecordHandler(
  billOrder({
    ...runtime,
    ledger: new DynamoBillingLedger(dynamo, config.billingTable),
    progress: new DynamoOrderProgress({ client: dynamo, tableName: config.ordersTable }),
  }),
  runtime,
);

export const handler = instrumentHandler(
  (event: SQSEvent): Promise<SQSBatchResponse> =>
    // Every failure, even of the whole batch, is reported per record rather than thrown.
    processPartialResponse(event, recordHandler, processor, { throwOnFullBatchFailure: false }),
  { logger, metrics, tracer },
);
