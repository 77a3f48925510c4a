/** DLQ handler: SQS batch from any consumer's DLQ, partial batch failures reported. */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { requireEnv } from '../shared/config';
import { DynamoOrderProgress } from '../shared/order-status';
import { instrumentHandler } from '../shared/powertools/instrument';
import { logger } from '../shared/powertools/logger';
import { metrics } from '../shared/powertools/metrics';
import { tracer } from '../shared/powertools/tracer';
import { ENV } from '../shared/runtime-contract';
import { DynamoFailureLog, recordDeadLetter } from './record-failure';

const config = {
  ordersTable: requireEnv(process.env, ENV.ordersTable),
  failedOrdersTable: requireEnv(process.env, ENV.failedOrdersTable),
};

const dynamo = DynamoDBDocumentClient.from(tracer.captureAWSv3Client(new DynamoDBClient({})));
const processor = new BatchProcessor(EventType.SQS);

const recordHandler = recordDeadLetter({
  failures: new DynamoFailureLog(dynamo, config.failedOrdersTable),
  progress: new DynamoOrderProgress({ client: dynamo, tableName: config.ordersTable }),
  now: () => new Date(),
  logger,
  metrics,
});

export const handler = instrumentHandler(
  (event: SQSEvent): Promise<SQSBatchResponse> =>
    processPartialResponse(event, recordHandler, processor, { throwOnFullBatchFailure: false }),
  { logger, metrics, tracer },
);
