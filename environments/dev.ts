import { EXPECTED_STATUS_CODES, MARKET_CURRENCIES } from './defaults';
import type { EnvironmentInput } from './schema';

/** Settings shared by this environment's fan-out consumers. */
const consumerSettings = {
  failureInjectionRate: 0.05,
  batchSize: 10,
  maxBatchingWindowSeconds: 1,
  timeoutSeconds: 10,
  maxReceiveCount: 5,
  memoryMb: 256,
};

/** Shared development account: one AZ, plain HTTP allowed, a little failure injection. */
export const dev: EnvironmentInput = {
  name: 'dev',
  region: 'eu-west-1',
  azCount: 1,
  gatewayPrefixLists: { s3: 'pl-6da54004', dynamodb: 'pl-6fa54006' },
  lambda: { architecture: 'arm64', reservedConcurrency: 20 },
  functions: {
    publisher: { memoryMb: 512, timeoutSeconds: 10 },
    validate: { memoryMb: 256, timeoutSeconds: 5 },
    dlq: { memoryMb: 256, timeoutSeconds: 10, batchSize: 10 },
  },
  workflowType: 'EXPRESS',
  logRetentionDays: 14,
  alarms: {
    email: 'orders-dev@example.com',
    periodSeconds: 300,
    evaluationPeriods: 1,
    lambdaErrors: 5,
    lambdaThrottles: 5,
    queueOldestMessageAgeSeconds: 600,
    albElb5xx: 5,
    albTarget5xx: 5,
    albP99LatencyMs: 3000,
    workflowFailures: 5,
    dynamoThrottles: 10,
  },
  allowHttp: true,
  wafEnabled: false,
  wafRateLimit: 2000,
  orderTotalLimit: 1_000_000,
  marketCurrencies: MARKET_CURRENCIES,
  clientSecretsCacheSeconds: 30,
  retainData: false,
  // Billing and archive run with the same settings here.
  consumers: { billing: consumerSettings, archive: consumerSettings },
  stress: {
    orders: 500,
    concurrency: 10,
    ratePerSecond: 20,
    mix: { valid: 80, businessReject: 5, schemaInvalid: 5, badSignature: 5, replay: 5 },
    deadlineSeconds: 180,
    thresholds: { maxErrorRate: 0.02, maxP95Ms: 2000, expectedStatusCodes: EXPECTED_STATUS_CODES },
  },
};
