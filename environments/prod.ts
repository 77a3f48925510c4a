import { MARKET_CURRENCIES, RESERVATION_PROTECTS } from './defaults';
import type { EnvironmentSite } from './delivery-file';
import type { EnvironmentInput } from './schema';

/** Settings shared by this environment's fan-out consumers. */
const consumerSettings = {
  failureInjectionRate: 0,
  batchSize: 10,
  // At ~4 orders/s a 1 s window gives batches of ~1 (five pollers share the trickle); 10 s fills
  // ~8 of 10, a tenth of the invocations and SQS calls, for up to 10 s more until COMPLETED.
  maxBatchingWindowSeconds: 10,
  timeoutSeconds: 10,
  maxReceiveCount: 5,
  memoryMb: 512,
  maxConcurrency: 50,
};

/** Production: its own account, HTTPS only, WAF on, data retained, no failure injection. */
export const prod = (site: EnvironmentSite): EnvironmentInput => ({
  name: 'prod',
  // Its own account, named in the stage's env even when deployed directly.
  account: site.account,
  region: site.region,
  azCount: 2,
  gatewayPrefixLists: site.gatewayPrefixLists,
  // 400 reserved of the account's quota (1,000 in the example; Lambda keeps 100 unreserved); every
  // reservation says why.
  // The DLQ handler reserves nothing: a throttled dead letter waits on its DLQ (which has no
  // redrive) and is recorded a visibility timeout later, and a new subscriber adds DLQ mappings.
  lambda: {
    architecture: 'arm64',
    accountConcurrency: site.accountConcurrency,
    reservations: {
      publisher: { concurrency: 200, protects: RESERVATION_PROTECTS.publisher },
      validate: { concurrency: 100, protects: RESERVATION_PROTECTS.validate },
      billing: { concurrency: 50, protects: RESERVATION_PROTECTS.consumer },
      archive: { concurrency: 50, protects: RESERVATION_PROTECTS.consumer },
    },
  },
  functions: {
    publisher: { memoryMb: 1024, timeoutSeconds: 10 },
    validate: { memoryMb: 512, timeoutSeconds: 5 },
    dlq: { memoryMb: 256, timeoutSeconds: 10, batchSize: 10, maxConcurrency: 2 },
  },
  workflowType: 'EXPRESS',
  logRetentionDays: 90,
  // Failures only, without the order data; 1 % of requests traced, no reservoir (a reservoir of 1/s alone is ~2.6 M traces a month).
  // Warnings and errors only: the INFO line per order and step is ~40 % of the Lambda log bytes.
  lambdaLogLevel: 'WARN',
  // Lambda's START/END/REPORT lines were ~55 % of the log bytes an order writes at WARN.
  lambdaSystemLogLevel: 'WARN',
  workflowLogs: { level: 'ERROR', includeExecutionData: false },
  xraySampling: { reservoirPerSecond: 0, fixedRate: 0.01 },
  alarms: {
    email: site.alarmEmail,
    periodSeconds: 60,
    evaluationPeriods: 3,
    lambdaErrors: 1,
    lambdaThrottles: 1,
    queueOldestMessageAgeSeconds: 300,
    albElb5xx: 5,
    albTarget5xx: 5,
    albP99LatencyMs: 1500,
    workflowFailures: 1,
    dynamoThrottles: 5,
  },
  // HTTPS only, so the delivery file must name its domain.
  domain: site.domain,
  allowHttp: false,
  wafEnabled: true,
  wafRateLimit: 2000,
  wafClientRateLimit: 3_000,
  orderTotalLimit: 1_000_000,
  marketCurrencies: MARKET_CURRENCIES,
  clientSecretsCacheSeconds: 30,
  retainData: true,
  canaryDeployments: true,
  // Billing and archive run with the same settings here.
  consumers: { billing: consumerSettings, archive: consumerSettings },
  // The post-deploy smoke test: few orders, only valid ones, no load on customers.
  stress: {
    orders: 20,
    concurrency: 2,
    ratePerSecond: 2,
    mix: { valid: 100, businessReject: 0, schemaInvalid: 0, badSignature: 0, replay: 0 },
    deadlineSeconds: 120,
    thresholds: { maxErrorRate: 0, maxP95Ms: 1500, expectedStatusCodes: [202] },
  },
});
