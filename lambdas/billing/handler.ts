/** Billing consumer: SQS batch from the billing queue, partial batch failures reported. */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { requireEnv } from '../shared/config';
import { orderEventConsumer } from '../shared/consumer-handler';
import { parseCompletionRules } from '../shared/order-status';
import { tracer } from '../shared/powertools/tracer';
import { ENV } from '../shared/runtime-contract';
import { billOrder, DynamoBillingLedger } from './bill-order';

const config = {
  ordersTable: requireEnv(process.env, ENV.ordersTable),
  billingTable: requireEnv(process.env, ENV.billingTable),
  completionRules: parseCompletionRules(process.env[ENV.completionRules]),
};

const dynamo = DynamoDBDocumentClient.from(tracer.captureAWSv3Client(new DynamoDBClient({})));

export const handler = orderEventConsumer('billing', (runtime) =>
  billOrder({
    ...runtime,
    ledger: new DynamoBillingLedger(
      dynamo,
      config.billingTable,
      { client: dynamo, tableName: config.ordersTable },
      config.completionRules,
    ),
  }),
);
