import { EXPECTED_STATUS_CODES, MARKET_CURRENCIES, RESERVATION_PROTECTS } from './defaults';
import type { EnvironmentSite } from './delivery-file';
import type { EnvironmentInput } from './schema';

/** Settings shared by this environment's fan-out consumers. */
const consumerSettings = {
  failureInjectionRate: 0.05,
  batchSize: 10,
  maxBatchingWindowSeconds: 1,
  timeoutSeconds: 10,
  maxReceiveCount: 5,
  memoryMb: 256,
  maxConcurrency: 10,
};

/** Shared development account: one AZ, plain HTTP allowed, a little failure injection. */
export const dev = (site: EnvironmentSite): EnvironmentInput => ({
  name: 'dev',
  region: site.region,
  azCount: 1,
  gatewayPrefixLists: site.gatewayPrefixLists,
  // 50 reserved of the account's quota (1,000 in the example; Lambda keeps 100 unreserved); every
  // reservation says why.
  lambda: {
    architecture: 'arm64',
    accountConcurrency: site.accountConcurrency,
    reservations: {
      publisher: { concurrency: 20, protects: RESERVATION_PROTECTS.publisher },
      validate: { concurrency: 10, protects: RESERVATION_PROTECTS.validate },
      billing: { concurrency: 10, protects: RESERVATION_PROTECTS.consumer },
      archive: { concurrency: 10, protects: RESERVATION_PROTECTS.consumer },
    },
  },
  functions: {
    publisher: { memoryMb: 512, timeoutSeconds: 10 },
    validate: { memoryMb: 256, timeoutSeconds: 5 },
    dlq: { memoryMb: 256, timeoutSeconds: 10, batchSize: 10, maxConcurrency: 2 },
  },
  workflowType: 'EXPRESS',
  logRetentionDays: 14,
  // Full execution history while developing; a few orders a day cost cents.
  lambdaLogLevel: 'INFO',
  workflowLogs: { level: 'ALL', includeExecutionData: true },
  xraySampling: { reservoirPerSecond: 1, fixedRate: 0.05 },
  alarms: {
    email: site.alarmEmail,
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
  wafClientRateLimit: 2_000,
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
});
