/** Archive consumer: SQS batch from the archive queue, partial batch failures reported. */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
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
import { archiveOrder, S3OrderArchive } from './archive-order';

const config = {
  ordersTable: requireEnv(process.env, ENV.ordersTable),
  archiveBucket: requireEnv(process.env, ENV.archiveBucket),
  failureInjectionRate: readRateEnv(process.env, ENV.failureInjectionRate),
};

// Several subscribers may share this code; CONSUMER_NAME tells their log lines apart.
logger.appendPersistentKeys({ consumer: process.env[ENV.consumerName] ?? 'archive' });

const dynamo = DynamoDBDocumentClient.from(tracer.captureAWSv3Client(new DynamoDBClient({})));
const s3 = tracer.captureAWSv3Client(new S3Client({}));
const processor = new BatchProcessor(EventType.SQS);

const runtime = {
  failureInjectionRate: config.failureInjectionRate,
  random: Math.random,
  now: () => new Date(),
  logger,
  metrics,
};
const recordHandler = orderEventRecordHandler(
  archiveOrder({
    ...runtime,
    archive: new S3OrderArchive(s3, config.archiveBucket),
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
