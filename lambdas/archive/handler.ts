/** Archive consumer: SQS batch from the archive queue, partial batch failures reported. */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { requireEnv } from '../shared/config';
import { orderEventConsumer } from '../shared/consumer-handler';
import { DynamoOrderProgress, parseCompletionRules } from '../shared/order-status';
import { tracer } from '../shared/powertools/tracer';
import { ENV } from '../shared/runtime-contract';
import { archiveOrder, S3OrderArchive } from './archive-order';

const config = {
  ordersTable: requireEnv(process.env, ENV.ordersTable),
  archiveBucket: requireEnv(process.env, ENV.archiveBucket),
  completionRules: parseCompletionRules(process.env[ENV.completionRules]),
};

const dynamo = DynamoDBDocumentClient.from(tracer.captureAWSv3Client(new DynamoDBClient({})));
const s3 = tracer.captureAWSv3Client(new S3Client({}));

export const handler = orderEventConsumer('archive', (runtime) =>
  archiveOrder({
    ...runtime,
    archive: new S3OrderArchive(s3, config.archiveBucket),
    progress: new DynamoOrderProgress(
      { client: dynamo, tableName: config.ordersTable },
      config.completionRules,
    ),
  }),
);
