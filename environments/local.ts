import { EXPECTED_STATUS_CODES, MARKET_CURRENCIES } from './defaults';
import { KNOWN_GATEWAY_PREFIX_LISTS, type EnvironmentInput } from './schema';

/** Settings shared by this environment's fan-out consumers. */
const consumerSettings = {
  failureInjectionRate: 0,
  batchSize: 10,
  maxBatchingWindowSeconds: 0,
  timeoutSeconds: 2,
  maxReceiveCount: 5,
  memoryMb: 256,
  maxConcurrency: 2,
};

/**
 * The one-machine stack (`npm start`). Timings are short so the DLQ path finishes in seconds:
 * a 2 s consumer timeout, no batching window and 5 receives give a 12 s visibility timeout.
 */
export const local: EnvironmentInput = {
  name: 'local',
  region: 'us-east-1',
  azCount: 1,
  gatewayPrefixLists: KNOWN_GATEWAY_PREFIX_LISTS['us-east-1']!,
  // The local stack runs one invocation at a time per function; nothing to reserve.
  lambda: { architecture: 'arm64' },
  functions: {
    publisher: { memoryMb: 256, timeoutSeconds: 5 },
    validate: { memoryMb: 256, timeoutSeconds: 3 },
    dlq: { memoryMb: 256, timeoutSeconds: 2, batchSize: 10, maxConcurrency: 2 },
    // A stuck order is restarted or failed about 90 s after its last start, not minutes (the
    // deadline counts the reconciler's timeout: a restart's StartExecution comes within it).
    reconciler: {
      memoryMb: 256,
      timeoutSeconds: 15,
      everyMinutes: 5,
      maxRestarts: 3,
      sweepLimit: 100,
      deadlineMarginSeconds: 10,
    },
  },
  workflowType: 'EXPRESS',
  // Runs here take seconds; a minute leaves room for the steps' retries under injected faults.
  workflowTimeoutSeconds: 60,
  logRetentionDays: 1,
  // Everything, as in dev: the local stack is for looking at runs.
  lambdaLogLevel: 'INFO',
  workflowLogs: { level: 'ALL', includeExecutionData: true },
  xraySampling: { reservoirPerSecond: 1, fixedRate: 0.05 },
  alarms: {
    email: 'orders-local@example.com',
    periodSeconds: 60,
    evaluationPeriods: 1,
    lambdaErrors: 1,
    lambdaThrottles: 1,
    queueOldestMessageAgeSeconds: 60,
    albElb5xx: 1,
    albTarget5xx: 1,
    albP99LatencyMs: 2000,
    workflowFailures: 1,
    dynamoThrottles: 1,
  },
  allowHttp: true,
  wafEnabled: false,
  wafRateLimit: 10_000,
  wafClientRateLimit: 10_000,
  orderTotalLimit: 1_000_000,
  marketCurrencies: MARKET_CURRENCIES,
  clientSecretsCacheSeconds: 2,
  retainData: false,
  // Billing and archive run with the same settings here.
  consumers: { billing: consumerSettings, archive: consumerSettings },
  stress: {
    orders: 200,
    concurrency: 8,
    ratePerSecond: 0,
    mix: { valid: 80, businessReject: 5, schemaInvalid: 5, badSignature: 5, replay: 5 },
    deadlineSeconds: 60,
    thresholds: { maxErrorRate: 0.01, maxP95Ms: 1500, expectedStatusCodes: EXPECTED_STATUS_CODES },
  },
};
