import { EXPECTED_STATUS_CODES, MARKET_CURRENCIES, RESERVATION_PROTECTS } from './defaults';
import type { EnvironmentSite } from './delivery-file';
import type { EnvironmentInput } from './schema';

/** Settings shared by this environment's fan-out consumers. */
const consumerSettings = {
  failureInjectionRate: 0.01,
  batchSize: 10,
  maxBatchingWindowSeconds: 1,
  timeoutSeconds: 10,
  maxReceiveCount: 5,
  memoryMb: 512,
  maxConcurrency: 20,
};

/** Production's twin for the pipeline's stress test: two AZs, HTTPS only, WAF on. */
export const staging = (site: EnvironmentSite): EnvironmentInput => ({
  name: 'staging',
  region: site.region,
  azCount: 2,
  gatewayPrefixLists: site.gatewayPrefixLists,
  // 115 reserved of the account's quota (1,000 in the example; Lambda keeps 100 unreserved); every
  // reservation says why.
  lambda: {
    architecture: 'arm64',
    accountConcurrency: site.accountConcurrency,
    reservations: {
      publisher: { concurrency: 50, protects: RESERVATION_PROTECTS.publisher },
      validate: { concurrency: 25, protects: RESERVATION_PROTECTS.validate },
      billing: { concurrency: 20, protects: RESERVATION_PROTECTS.consumer },
      archive: { concurrency: 20, protects: RESERVATION_PROTECTS.consumer },
    },
  },
  functions: {
    publisher: { memoryMb: 1024, timeoutSeconds: 10 },
    validate: { memoryMb: 512, timeoutSeconds: 5 },
    dlq: { memoryMb: 256, timeoutSeconds: 10, batchSize: 10, maxConcurrency: 2 },
  },
  workflowType: 'EXPRESS',
  logRetentionDays: 30,
  // Prod's logging, so staging runs what prod runs; the default X-Ray sampling.
  lambdaLogLevel: 'WARN',
  // Lambda's START/END/REPORT lines were ~55 % of the log bytes an order writes at WARN.
  lambdaSystemLogLevel: 'WARN',
  workflowLogs: { level: 'ERROR', includeExecutionData: false },
  xraySampling: { reservoirPerSecond: 1, fixedRate: 0.05 },
  alarms: {
    email: site.alarmEmail,
    periodSeconds: 60,
    evaluationPeriods: 3,
    lambdaErrors: 5,
    lambdaThrottles: 5,
    queueOldestMessageAgeSeconds: 300,
    albElb5xx: 5,
    albTarget5xx: 5,
    albP99LatencyMs: 2000,
    workflowFailures: 3,
    dynamoThrottles: 10,
  },
  // HTTPS only, so the delivery file must name its domain.
  domain: site.domain,
  allowHttp: false,
  wafEnabled: true,
  wafRateLimit: 10_000,
  wafClientRateLimit: 10_000,
  orderTotalLimit: 1_000_000,
  marketCurrencies: MARKET_CURRENCIES,
  clientSecretsCacheSeconds: 30,
  retainData: false,
  // Billing and archive run with the same settings here.
  consumers: { billing: consumerSettings, archive: consumerSettings },
  stress: {
    orders: 5000,
    concurrency: 50,
    ratePerSecond: 100,
    mix: { valid: 80, businessReject: 5, schemaInvalid: 5, badSignature: 5, replay: 5 },
    deadlineSeconds: 600,
    thresholds: { maxErrorRate: 0.01, maxP95Ms: 1000, expectedStatusCodes: EXPECTED_STATUS_CODES },
  },
});
