import { outputAtLevel, type FunctionUsage } from '../bench/usage';
import type { Measurements } from './measurements';
import { DEFAULT_QUOTAS, HOURS_PER_MONTH, SECONDS_PER_MONTH, type PriceTable } from './prices';
import type { TemplateFacts } from './template-facts';
import { LIFECYCLE, SECRETS_CACHE } from '../../lambdas/shared/runtime-contract';

/**
 * What neither the template nor the local run can say, each with the reason for its figure.
 * Everything else the model prices comes from the template, the bench's measurements or the
 * workflow-log measurement.
 */
export interface WorkloadAssumptions {
  /** Billed duration per invocation, ms (consumers: per batch plus per record). */
  durationMs: {
    publisher: number;
    statusRead: number;
    validate: number;
    consumerBatch: number;
    consumerPerRecord: number;
    /** One reconciler sweep that finds nothing stuck (8 index queries). */
    sweep: number;
  };
  /** Express execution duration, ms (billed in 64 MB memory steps, 100 ms minimum). */
  expressExecutionMs: number;
  /** Bytes through the ALB per request and response (signed POST of a 1 KB order, JSON answer). */
  albBytesPerRequest: number;
  /** Bytes through interface endpoints per order (StartExecution request and answer, X-Ray segments). */
  endpointBytesPerOrder: number;
  /** Share of executions that fail (their error events are what ERROR logs). */
  failedExecutionShare: number;
  /** Event source mapping pollers per queue while it is idle (each long-polls for 20 s). */
  idlePollersPerMapping: number;
  /** Concurrent receivers a batch is split over when messages trickle in. */
  pollersSharingBatches: number;
  /** Time between a poller's receive returning and its next one reaching SQS, ms. */
  receiveGapMs: number;
  /** Warm publisher sandboxes, each reading the client secrets once per cache period. */
  warmPublisherSandboxes: number;
  /** Compressed size of log data in storage relative to what was ingested. */
  logStorageRatio: number;
  /** Archive object size, bytes (the validated order as JSON). */
  archiveObjectBytes: number;
  /** Reference design: billed duration of each one-step Lambda, ms. */
  referenceStepLambdaMs: number;
}

export const DEFAULT_ASSUMPTIONS: WorkloadAssumptions = {
  durationMs: {
    publisher: 40,
    statusRead: 10,
    validate: 5,
    consumerBatch: 60,
    consumerPerRecord: 15,
    sweep: 300,
  },
  expressExecutionMs: 300,
  albBytesPerRequest: 2500,
  endpointBytesPerOrder: 6000,
  failedExecutionShare: 0.001,
  // "Lambda starts long polling with five parallel connections" (Lambda developer guide, SQS scaling).
  idlePollersPerMapping: 5,
  pollersSharingBatches: 5,
  receiveGapMs: 20,
  warmPublisherSandboxes: 2,
  logStorageRatio: 0.15,
  archiveObjectBytes: 400,
  referenceStepLambdaMs: 60,
};

/**
 * What the Lambda logs line says of the platform lines: how many invocations write them, and that
 * the rest keep only events above INFO (a function logging JSON with its system level at WARN).
 */
function platformBasis(withLines: number, invocations: number): string {
  const all = invocations.toFixed(2);
  if (withLines < 0.005) return `no platform lines (system log level WARN) for the ${all} invocations`;
  const lines = `${LAMBDA_PLATFORM_BYTES_PER_INVOCATION} B platform lines x ${withLines.toFixed(2)}`;
  return invocations - withLines < 0.005
    ? `${lines} invocations`
    : `${lines} of ${all} invocations (the rest at system log level WARN)`;
}

/** The platform lines one invocation of a function adds to its log: bytes, events and basis. */
function platformLinesOf(fn: { platformLines: boolean }): { bytes: number; events: number; basis: string } {
  return fn.platformLines
    ? {
        bytes: LAMBDA_PLATFORM_BYTES_PER_INVOCATION,
        events: LAMBDA_PLATFORM_EVENTS_PER_INVOCATION,
        basis: 'platform lines',
      }
    : { bytes: 0, events: 0, basis: 'no platform lines (system logs at WARN)' };
}

/** Lambda's platform lines per invocation (text format): START, END and REPORT with the X-Ray line. */
export const LAMBDA_PLATFORM_BYTES_PER_INVOCATION =
  'START RequestId: 8f5e3c1a-6b2d-4e8f-9a1b-2c3d4e5f6a7b Version: 5\n'.length +
  'END RequestId: 8f5e3c1a-6b2d-4e8f-9a1b-2c3d4e5f6a7b\n'.length +
  'REPORT RequestId: 8f5e3c1a-6b2d-4e8f-9a1b-2c3d4e5f6a7b\tDuration: 41.27 ms\tBilled Duration: 42 ms\tMemory Size: 1024 MB\tMax Memory Used: 98 MB\t\nXRAY TraceId: 1-6750e2a1-4c5d6e7f8a9b0c1d2e3f4a5b\tSegmentId: 6a7b8c9d0e1f2a3b\tSampled: false\t\n'
    .length;
export const LAMBDA_PLATFORM_EVENTS_PER_INVOCATION = 3;
/** CloudWatch Logs counts 26 bytes per log event on top of its message. */
export const LOG_EVENT_OVERHEAD_BYTES = 26;

/** Step Functions log bytes per execution, measured by running the real ASL (workflow-logs.ts). */
export interface WorkflowLogFigures {
  level: string;
  includeExecutionData: boolean;
  /** Valid order, at the configured level. */
  validBytes: number;
  validEvents: number;
  /** Failed execution, at the configured level. */
  failedBytes: number;
  failedEvents: number;
}

/** A priced line: what, why that figure, and its cost (per million orders, or per month). */
export interface CostLine {
  item: string;
  basis: string;
  usd: number;
}

export interface DesignCost {
  name: string;
  /** Cost that scales with orders, per million orders, at the modelled monthly volume. */
  perMillion: CostLine[];
  /** Cost per month whatever the traffic. */
  fixedMonthly: CostLine[];
  /** One status read (GET /orders/{id}), per million reads. */
  statusRead: CostLine[];
  perMillionTotal: number;
  fixedMonthlyTotal: number;
  statusReadPerMillionTotal: number;
  /** Status reads per order the totals below assume (the bench client's polls). */
  statusReadsPerOrder: number;
}

export interface ModelInput {
  facts: TemplateFacts;
  prices: PriceTable;
  ordersPerMonth: number;
  measured: Measurements;
  workflowLogs: WorkflowLogFigures;
  assumptions?: WorkloadAssumptions;
}

const MILLION = 1_000_000;
const GB = 1e9;
const sum = (lines: readonly CostLine[]) => lines.reduce((total, line) => total + line.usd, 0);
const lambdaGbSeconds = (memoryMb: number, ms: number) =>
  (memoryMb / 1024) * (Math.max(1, Math.ceil(ms)) / 1000);
const perOrderToMillion = (usdPerOrder: number) => usdPerOrder * MILLION;

function memoryOf(facts: TemplateFacts, handler: string): TemplateFacts['functions'][number] {
  const fn = facts.functions.find((candidate) => candidate.handler === handler);
  if (!fn) throw new Error(`the template has no ${handler} function`);
  return fn;
}

/**
 * The secrets and the publisher's reads of them: Powertools' getSecret caches each for its maxAge
 * (SECRETS_CACHE), in each warm sandbox.
 */
function secretsMonthly(
  facts: TemplateFacts,
  prices: PriceTable,
  a: WorkloadAssumptions,
  publisherRequestsPerMonth: number,
): CostLine {
  const cacheSeconds =
    memoryOf(facts, 'publisher').secretsCacheSeconds ?? SECRETS_CACHE.clientSecretsDefaultSeconds;
  // At 0 nothing is cached: every request reads the client secrets.
  const clientSecretReads =
    cacheSeconds > 0
      ? a.warmPublisherSandboxes * HOURS_PER_MONTH * (3600 / cacheSeconds)
      : publisherRequestsPerMonth;
  const readsPerMonth =
    clientSecretReads + (a.warmPublisherSandboxes * SECONDS_PER_MONTH) / SECRETS_CACHE.orderIdKeySeconds;
  const every = cacheSeconds > 0 ? `every ${cacheSeconds} s` : 'on every request';
  return {
    item: `Secrets x ${facts.secrets}`,
    basis: `$${prices.secretMonth}/secret-month + GetSecretValue by ${a.warmPublisherSandboxes} warm publisher sandboxes: the client secrets ${every} (CLIENT_SECRETS_CACHE_SECONDS), the order id key daily`,
    usd: facts.secrets * prices.secretMonth + (readsPerMonth / 10_000) * prices.secretsApiPer10k,
  };
}

function design(
  name: string,
  perMillion: CostLine[],
  fixedMonthly: CostLine[],
  statusRead: CostLine[],
  statusReadsPerOrder: number,
): DesignCost {
  return {
    name,
    perMillion,
    fixedMonthly,
    statusRead,
    perMillionTotal: sum(perMillion),
    fixedMonthlyTotal: sum(fixedMonthly),
    statusReadPerMillionTotal: sum(statusRead),
    statusReadsPerOrder,
  };
}

/**
 * Mean SQS batch size of a consumer: what arrives in one batching window, split over the pollers
 * receiving at once, between 1 and the configured batch size. With no window a poller returns as
 * soon as a message is there, so batches are ~1 until the queue backs up.
 */
export function meanBatchSize(
  ordersPerMonth: number,
  batchSize: number,
  windowSeconds: number,
  pollers: number,
): number {
  const perSecond = ordersPerMonth / SECONDS_PER_MONTH;
  return Math.min(batchSize, Math.max(1, (perSecond * windowSeconds) / pollers));
}

/**
 * Messages one SQS receive of a consumer's event source returns. A long poll returns as soon as a
 * message is there ("as soon as they become available", SQS developer guide, long polling), and
 * the event source keeps receiving until its batching window ends or the batch is full ("Lambda
 * continues to poll", Lambda developer guide, batching behavior), so while messages trickle in a
 * receive brings what arrived in the gap before it (at least one), not a batch: the window fills
 * batches (fewer invocations and deletes), not receives. Between 1 and the smaller of 10 (the
 * receive maximum) and the mean batch.
 */
export function messagesPerReceive(
  ordersPerMonth: number,
  meanBatch: number,
  pollers: number,
  receiveGapMs: number,
): number {
  const perPollerPerSecond = ordersPerMonth / SECONDS_PER_MONTH / pollers;
  return Math.max(1, Math.min(10, meanBatch, 1 + (perPollerPerSecond * receiveGapMs) / 1000));
}

/**
 * Receives per second of one poller that end empty after their 20 s wait, when messages arrive
 * at `messagesPerSecond` (Poisson) for it: a receive ends empty with probability e^(-20 x rate),
 * and lasts (1 - e^(-20 x rate)) / rate on average; 1/20 on an idle queue.
 */
export function emptyReceivesPerSecond(messagesPerSecond: number): number {
  const wait = 20;
  if (messagesPerSecond <= 0) return 1 / wait;
  const empty = Math.exp(-wait * messagesPerSecond);
  return (messagesPerSecond * empty) / (1 - empty);
}

/**
 * Traces recorded per second by a sampling rule: the reservoir (per second, shared) first, then
 * `fixedRate` of the rest. https://docs.aws.amazon.com/xray/latest/devguide/xray-console-sampling.html
 */
export function tracedPerSecond(
  requestsPerSecond: number,
  rule: { reservoirPerSecond: number; fixedRate: number },
) {
  const reservoir = Math.min(requestsPerSecond, rule.reservoirPerSecond);
  return reservoir + rule.fixedRate * Math.max(0, requestsPerSecond - reservoir);
}

/** X-Ray's Default rule, used where the stack defines none: 1 request per second and 5 % of the rest. */
export const DEFAULT_SAMPLING_RULE = { reservoirPerSecond: 1, fixedRate: 0.05 };

/**
 * The handlers' output per order, status reads taken out, at each function's level (`levelOf`
 * its handler folder): lines below the level are dropped, EMF and other lines kept. Powertools
 * flushes EMF once per invocation, so where `invocationsOf` gives a function's invocations per
 * order at the modelled volume (a consumer's batches), its EMF lines follow those, not the bench's.
 */
function orderPathOutput(
  input: ModelInput,
  levelOf: (entry: string) => string,
  invocationsOf: (entry: string) => number | undefined = () => undefined,
): { bytes: number; lines: number } {
  const { measured } = input;
  return Object.entries(measured.functions).reduce(
    (total, [entry, measuredUsage]) => {
      const level = levelOf(entry);
      const modelled = invocationsOf(entry);
      const usage = modelled === undefined ? measuredUsage : emfAtInvocations(measuredUsage, modelled);
      const kept = outputAtLevel(usage, level);
      const reads =
        entry === 'publisher' ? outputAtLevel(measured.statusRead.publisher, level) : { bytes: 0, lines: 0 };
      return {
        bytes: total.bytes + kept.bytes - measured.statusReadsPerOrder * reads.bytes,
        lines: total.lines + kept.lines - measured.statusReadsPerOrder * reads.lines,
      };
    },
    { bytes: 0, lines: 0 },
  );
}

/** A function's output with its EMF lines (one flush per invocation) at `invocations` per order. */
function emfAtInvocations(usage: FunctionUsage, invocations: number): FunctionUsage {
  const metrics = usage.byLevel.METRICS;
  if (!metrics || usage.invocations <= 0) return usage;
  const scale = invocations / usage.invocations;
  return {
    ...usage,
    byLevel: { ...usage.byLevel, METRICS: { bytes: metrics.bytes * scale, lines: metrics.lines * scale } },
  };
}

/** Cost of logging `bytes` in `events` events: ingestion plus the first month of storage. */
function logLine(
  item: string,
  basis: string,
  bytesPerOrder: number,
  eventsPerOrder: number,
  prices: PriceTable,
): CostLine {
  const billed = bytesPerOrder + eventsPerOrder * LOG_EVENT_OVERHEAD_BYTES;
  return {
    item,
    basis: `${basis}; ${billed.toFixed(0)} B billed per order incl. ${LOG_EVENT_OVERHEAD_BYTES} B per event, $${prices.logsIngestionPerGb}/GB`,
    usd: perOrderToMillion((billed / GB) * prices.logsIngestionPerGb),
  };
}

interface Shared {
  /** Orders-table writes and their write units, per order. */
  writes: CostLine;
  sns: CostLine;
  s3: CostLine;
  storage: CostLine;
  gsi: CostLine | undefined;
}

/** Costs both designs share: data stores, messaging, archive objects, storage growth. */
function shared(input: ModelInput, a: WorkloadAssumptions): Shared {
  const { facts, prices, measured } = input;
  const orderItem = measured.itemBytes.OrdersTableName ?? 1024;
  const billingItem = measured.itemBytes.BillingTableName ?? 256;
  const unitsFor = (bytes: number) => Math.max(1, Math.ceil(bytes / 1024));
  const puts = measured.byOperation['dynamodb.PutItem'] ?? 0;
  const updates = measured.byOperation['dynamodb.UpdateItem'] ?? 0;
  // Billing's TransactWriteItems: its billing record and the order's flag. A transactional write
  // costs two write units per KB of each item (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/transaction-apis.html#transaction-capacity-handling).
  const transactions = measured.byOperation['dynamodb.TransactWriteItems'] ?? 0;
  // An update costs the larger of the item before and after it, in 1 KB units; the final size bounds both.
  const billingPuts = transactions > 0 ? 0 : Math.min(puts, 1);
  const orderPuts = puts - billingPuts;
  const units =
    orderPuts * unitsFor(orderItem) +
    billingPuts * unitsFor(billingItem) +
    updates * unitsFor(orderItem) +
    transactions * 2 * (unitsFor(billingItem) + unitsFor(orderItem));
  const storageGbPerMillion = (MILLION * (orderItem + billingItem)) / GB;
  const s3GbPerMillion = (MILLION * a.archiveObjectBytes) / GB;
  return {
    writes: {
      item: `DynamoDB writes: ${(orderPuts + billingPuts).toFixed(2)} PutItem + ${updates.toFixed(2)} UpdateItem + ${transactions.toFixed(2)} TransactWriteItems of 2 items = ${units.toFixed(2)} WRU`,
      basis: `calls measured by the bench; order item ${orderItem} B, billing item ${billingItem} B (measured), 1 WRU per started KB of the larger image, 2 per item in a transaction`,
      usd: units * prices.dynamodbWriteRequestUnitPerMillion,
    },
    gsi:
      facts.globalSecondaryIndexes > 0
        ? {
            item: `DynamoDB index writes (${facts.globalSecondaryIndexes} GSI)`,
            basis: '2 index writes per order: the entry the create adds and the terminal update removes',
            usd: 2 * prices.dynamodbWriteRequestUnitPerMillion,
          }
        : undefined,
    sns: {
      item: `SNS publish x ${facts.workflow.snsTasks}`,
      basis: 'one Publish per order from the workflow (deliveries to SQS are free)',
      usd: facts.workflow.snsTasks * prices.snsPublishPerMillion,
    },
    s3: {
      item: 'S3 PUT (archive object)',
      basis: `one PutObject per order, $${prices.s3PutPerThousand} per 1,000`,
      usd: 1000 * prices.s3PutPerThousand,
    },
    storage: {
      item: 'Storage added per month (tables + archive)',
      basis: `${(storageGbPerMillion * 1000).toFixed(0)} MB of table items + ${(s3GbPerMillion * 1000).toFixed(0)} MB of objects per million orders, kept: each month's orders add this to every later month`,
      usd: storageGbPerMillion * prices.dynamodbStorageGbMonth + s3GbPerMillion * prices.s3StandardGbMonth,
    },
  };
}

/** The deployed design: the template's facts, the bench's measurements, the environment's prices. */
export function deployedDesignCost(input: ModelInput): DesignCost {
  const { facts, prices, measured, ordersPerMonth, workflowLogs } = input;
  const a = input.assumptions ?? DEFAULT_ASSUMPTIONS;
  const publisher = memoryOf(facts, 'publisher');
  const validate = memoryOf(facts, 'validate');
  const consumers = Object.entries(facts.batchSizes).map(([handler, batchSize]) => {
    const window = facts.batchWindowsSeconds[handler] ?? 0;
    return {
      handler,
      batchSize,
      window,
      meanBatch: meanBatchSize(ordersPerMonth, batchSize, window, a.pollersSharingBatches),
      fn: memoryOf(facts, handler),
    };
  });
  const perReceive = consumers.map((c) =>
    messagesPerReceive(ordersPerMonth, c.meanBatch, a.pollersSharingBatches, a.receiveGapMs),
  );
  const batchesPerOrder = consumers.reduce((n, c) => n + 1 / c.meanBatch, 0);
  // Each function's invocations per order: the publisher's, validate's per Lambda task, a
  // consumer's per batch.
  const invocations = [
    { fn: publisher, perOrder: 1 },
    { fn: validate, perOrder: facts.workflow.lambdaTasks },
    ...consumers.map((c) => ({ fn: c.fn, perOrder: 1 / c.meanBatch })),
  ];
  const invocationsPerOrder = invocations.reduce((n, i) => n + i.perOrder, 0);
  // Those whose function writes Lambda's START, END and REPORT lines.
  const platformInvocationsPerOrder = invocations.reduce(
    (n, i) => n + (i.fn.platformLines ? i.perOrder : 0),
    0,
  );
  const ordersPerSecond = ordersPerMonth / SECONDS_PER_MONTH;
  const gbs = (fn: { memoryMb: number; architecture: 'arm64' | 'x86_64' }, ms: number) =>
    lambdaGbSeconds(fn.memoryMb, ms) * prices.lambdaGbSecond[fn.architecture];
  const compute =
    gbs(publisher, a.durationMs.publisher) +
    facts.workflow.lambdaTasks * gbs(validate, a.durationMs.validate) +
    consumers.reduce(
      (total, c) =>
        total +
        gbs(c.fn, a.durationMs.consumerBatch + a.durationMs.consumerPerRecord * c.meanBatch) / c.meanBatch,
      0,
    );
  const batching = consumers
    .map((c) => `${c.handler} ${c.meanBatch.toFixed(1)} (max ${c.batchSize}, window ${c.window} s)`)
    .join(', ');

  // Lambda logs: the handlers' own output measured by the bench (status reads taken out), plus
  // Lambda's platform lines for each invocation this volume makes.
  const statusReads = measured.statusReadsPerOrder;
  const app = orderPathOutput(
    input,
    (entry) => memoryOf(facts, entry).logLevel,
    (entry) => {
      const consumer = consumers.find((c) => c.handler === entry);
      return consumer && 1 / consumer.meanBatch;
    },
  );
  const appBytes = app.bytes;
  const appLines = app.lines;
  const levels = [...new Set(facts.functions.map((fn) => fn.logLevel))].join('/');

  const rule = facts.samplingRule ?? DEFAULT_SAMPLING_RULE;
  // Trace roots per second: each order's POST (its workflow and SNS publish join that trace) and
  // each consumer batch.
  const rootsPerSecond = ordersPerSecond * (1 + batchesPerOrder);
  const tracesPerOrder = tracedPerSecond(rootsPerSecond, rule) / ordersPerSecond;

  const express =
    facts.workflow.type === 'EXPRESS'
      ? {
          item: `Step Functions Express (${facts.workflow.happyPath.length} states)`,
          basis: `1 execution + 64 MB x ${Math.max(100, a.expressExecutionMs)} ms (assumed duration)`,
          usd:
            prices.sfnExpressRequestPerMillion +
            MILLION * (64 / 1024) * (Math.max(100, a.expressExecutionMs) / 1000) * prices.sfnExpressGbSecond,
        }
      : {
          item: `Step Functions Standard (${facts.workflow.happyPath.length} transitions)`,
          basis: 'one transition per state on the happy path',
          usd: MILLION * facts.workflow.happyPath.length * prices.sfnStandardTransition,
        };
  // Per queue: the SNS delivery (SendMessage, billed to the queue owner), the receives, and one
  // DeleteMessageBatch per batch.
  const sqsPerOrder = consumers.reduce(
    (n, c, index) => n + 1 + 1 / (perReceive[index] ?? 1) + 1 / c.meanBatch,
    0,
  );
  const s = shared(input, a);
  const kmsPerOrder = facts.kmsBucketsWithoutBucketKey > 0 ? 1 : 0;
  const orderPathReads = Math.max(
    0,
    (measured.byOperation['dynamodb.GetItem'] ?? 0) -
      measured.statusReadsPerOrder * measured.statusRead.callsPerRead,
  );

  const perMillion: CostLine[] = [
    {
      item: `ALB LCU (${facts.loadBalancers} load balancer)`,
      basis: `max of 1 new connection per request (25/s per LCU) and ${a.albBytesPerRequest} B per request (0.4 GB/h per LCU, Lambda targets)`,
      usd: facts.loadBalancers > 0 ? albLcuHoursPerRequest(a) * MILLION * prices.albLcuHour : 0,
    },
    {
      item: 'WAF requests',
      basis: `${facts.webAcls} web ACL: every POST is inspected`,
      usd: facts.webAcls > 0 ? prices.wafRequestPerMillion : 0,
    },
    {
      item: `Lambda requests (${invocationsPerOrder.toFixed(2)} per order)`,
      basis: `publisher 1 + validate ${facts.workflow.lambdaTasks} + consumer batches; mean batch ${batching}`,
      usd: invocationsPerOrder * prices.lambdaRequestPerMillion,
    },
    {
      item: `Lambda compute (${publisher.architecture})`,
      basis: `assumed ${a.durationMs.publisher} ms publisher, ${a.durationMs.validate} ms validate, ${a.durationMs.consumerBatch} ms + ${a.durationMs.consumerPerRecord} ms per record per batch`,
      usd: compute * MILLION,
    },
    express,
    {
      ...logLine(
        `Step Functions logs (${workflowLogs.level}${workflowLogs.includeExecutionData ? ', with execution data' : ', no execution data'})`,
        `${workflowLogs.validEvents} events, ${workflowLogs.validBytes} B per valid order, measured by running the ASL`,
        workflowLogs.validBytes - workflowLogs.validEvents * LOG_EVENT_OVERHEAD_BYTES,
        workflowLogs.validEvents,
        prices,
      ),
    },
    logLine(
      'Step Functions logs, failed executions',
      `${workflowLogs.failedEvents} events, ${workflowLogs.failedBytes} B per failed execution (measured) x ${a.failedExecutionShare * 100} % failing (assumed)`,
      a.failedExecutionShare *
        (workflowLogs.failedBytes - workflowLogs.failedEvents * LOG_EVENT_OVERHEAD_BYTES),
      a.failedExecutionShare * workflowLogs.failedEvents,
      prices,
    ),
    logLine(
      'Lambda logs',
      `handlers' output ${appBytes.toFixed(0)} B in ${appLines.toFixed(1)} lines per order kept at ${levels}, EMF included, a consumer's per batch (lines measured by the bench at ${measured.logLevel}), + ${platformBasis(platformInvocationsPerOrder, invocationsPerOrder)}`,
      appBytes + LAMBDA_PLATFORM_BYTES_PER_INVOCATION * platformInvocationsPerOrder,
      appLines + LAMBDA_PLATFORM_EVENTS_PER_INVOCATION * platformInvocationsPerOrder,
      prices,
    ),
    {
      item: `X-Ray traces (${tracesPerOrder.toFixed(3)} per order)`,
      basis: `${facts.samplingRule ? 'stack' : 'Default'} rule ${rule.reservoirPerSecond}/s + ${rule.fixedRate * 100} % over ${rootsPerSecond.toFixed(2)} trace roots/s (POST + consumer batches) at ${ordersPerSecond.toFixed(2)} orders/s`,
      usd: tracesPerOrder * prices.xrayTracePerMillion,
    },
    {
      item: `SQS requests (${sqsPerOrder.toFixed(2)} per order)`,
      basis: `per consumer queue: the SNS delivery + a receive per ${perReceive.map((n) => n.toFixed(2)).join(' / ')} messages (a long poll returns what arrived, the window fills batches, not receives) + one delete per batch`,
      usd: sqsPerOrder * prices.sqsRequestPerMillion,
    },
    s.writes,
    ...(s.gsi ? [s.gsi] : []),
    {
      item: `DynamoDB reads in the order path (${orderPathReads.toFixed(2)} per order)`,
      basis: 'GetItem calls measured by the bench beyond the status reads, 1 RRU each',
      usd: orderPathReads * prices.dynamodbReadRequestUnitPerMillion,
    },
    s.sns,
    s.s3,
    {
      item: 'KMS requests',
      basis:
        kmsPerOrder > 0
          ? 'the archive bucket has no Bucket Key: one GenerateDataKey per object'
          : 'tables, queues and topic reuse data keys (counted per month); the archive bucket uses a Bucket Key',
      usd: (kmsPerOrder * MILLION * prices.kmsRequestPer10k) / 10_000,
    },
    {
      item: 'VPC interface endpoint data',
      basis: `${a.endpointBytesPerOrder} B per order through the endpoints (assumed)`,
      usd:
        facts.interfaceEndpoints > 0
          ? ((a.endpointBytesPerOrder * MILLION) / GB) * prices.interfaceEndpointPerGb
          : 0,
    },
    {
      ...s.storage,
      usd:
        s.storage.usd +
        (((workflowLogs.validBytes + appBytes) * MILLION) / GB) *
          a.logStorageRatio *
          prices.logsStorageGbMonth,
      basis: `${s.storage.basis}; plus logs at ${a.logStorageRatio} x ingested size`,
    },
  ];

  const endpointHours = facts.interfaceEndpoints * facts.endpointAzs * HOURS_PER_MONTH;
  // The DLQ mappings' pollers are idle all month; the consumers' only between messages (their
  // receives that return a message are counted per order above).
  const consumerQueues = consumers.length;
  const idleMappings = Math.max(0, facts.eventSourceMappings - consumerQueues);
  const consumerEmpty = emptyReceivesPerSecond(ordersPerSecond / a.pollersSharingBatches);
  const idleReceives =
    a.idlePollersPerMapping *
    SECONDS_PER_MONTH *
    (idleMappings * emptyReceivesPerSecond(0) + consumerQueues * consumerEmpty);
  const kmsMonthly = kmsKeyMonthly(facts, prices);
  const fixedMonthly: CostLine[] = [
    {
      item: `ALB hours x ${facts.loadBalancers}`,
      basis: `$${prices.albHour}/h x ${HOURS_PER_MONTH} h`,
      usd: facts.loadBalancers * prices.albHour * HOURS_PER_MONTH,
    },
    {
      item: `VPC interface endpoints: ${facts.interfaceEndpoints} x ${facts.endpointAzs} AZ`,
      basis: `$${prices.interfaceEndpointAzHour} per endpoint-AZ-hour`,
      usd: endpointHours * prices.interfaceEndpointAzHour,
    },
    kmsMonthly,
    {
      item: `KMS requests by services (${facts.queues} queues, ${facts.tables} tables, ${facts.topics} topics)`,
      basis: 'each encrypted queue, table and topic asks for a data key about every 5 minutes',
      usd:
        (((facts.queues + facts.tables + facts.topics) * 12 * HOURS_PER_MONTH) / 10_000) *
        prices.kmsRequestPer10k,
    },
    secretsMonthly(facts, prices, a, ordersPerMonth * (1 + measured.statusReadsPerOrder)),
    {
      item: `CloudWatch: ${facts.alarms} alarms, ${facts.dashboards} dashboard`,
      basis: `$${prices.alarmMonth}/alarm, $${prices.dashboardMonth}/dashboard`,
      usd: facts.alarms * prices.alarmMonth + facts.dashboards * prices.dashboardMonth,
    },
    {
      item: `CloudWatch custom metrics (EMF) x ${measured.customMetrics.length}`,
      basis: 'metric name x dimensions the handlers emit, measured by the bench',
      usd: measured.customMetrics.length * prices.customMetricMonth,
    },
    {
      item: `SQS idle long polls (${facts.eventSourceMappings} event source mappings)`,
      basis: `${a.idlePollersPerMapping} pollers per mapping, a 20 s receive that ends empty: ${idleMappings} idle mappings (the DLQs) all month, the ${consumerQueues} consumer queues ${(consumerEmpty * 20).toFixed(3)} of the time at ${ordersPerSecond.toFixed(2)} messages/s`,
      usd: (idleReceives / MILLION) * prices.sqsRequestPerMillion,
    },
    {
      item: `WAF: ${facts.webAcls} web ACL, ${facts.wafRules} rules`,
      basis: `$${prices.wafWebAclMonth}/ACL, $${prices.wafRuleMonth}/rule`,
      usd: facts.webAcls * prices.wafWebAclMonth + facts.wafRules * prices.wafRuleMonth,
    },
    ...facts.schedules.map((schedule) => scheduledSweeps(schedule, prices, a)),
  ];

  const read = measured.statusRead;
  const readOutput = outputAtLevel(read.publisher, publisher.logLevel);
  const readPlatform = platformLinesOf(publisher);
  const readRootsPerSecond = ordersPerSecond * statusReads;
  const readTraces =
    readRootsPerSecond > 0
      ? (tracedPerSecond(rootsPerSecond + readRootsPerSecond, rule) - tracedPerSecond(rootsPerSecond, rule)) /
        readRootsPerSecond
      : rule.fixedRate;
  const statusRead: CostLine[] = [
    {
      item: 'ALB LCU',
      basis: 'as a POST',
      usd: facts.loadBalancers > 0 ? albLcuHoursPerRequest(a) * MILLION * prices.albLcuHour : 0,
    },
    {
      item: 'WAF request',
      basis: 'every GET is inspected',
      usd: facts.webAcls > 0 ? prices.wafRequestPerMillion : 0,
    },
    { item: 'publisher invocation', basis: '1 Lambda request', usd: prices.lambdaRequestPerMillion },
    {
      item: 'publisher compute',
      basis: `assumed ${a.durationMs.statusRead} ms at ${publisher.memoryMb} MB`,
      usd: gbs(publisher, a.durationMs.statusRead) * MILLION,
    },
    logLine(
      'Lambda logs',
      `${readOutput.bytes.toFixed(0)} B in ${readOutput.lines.toFixed(1)} lines per read at ${publisher.logLevel} (measured) + ${readPlatform.basis}`,
      readOutput.bytes + readPlatform.bytes,
      readOutput.lines + readPlatform.events,
      prices,
    ),
    {
      item: 'DynamoDB read',
      basis: `${read.callsPerRead.toFixed(2)} calls per read (measured): 1 strongly consistent GetItem = 1 RRU`,
      usd: read.callsPerRead * prices.dynamodbReadRequestUnitPerMillion,
    },
    {
      item: 'X-Ray traces',
      basis: `${readTraces.toFixed(3)} per read under the rule at this volume`,
      usd: readTraces * prices.xrayTracePerMillion,
    },
  ];
  return design('deployed', perMillion, fixedMonthly, statusRead, statusReads);
}

/**
 * A scheduled function (the reconciler): a request, its compute, one query per pending-index shard
 * (eventually consistent, 0.5 RRU each at least) and its platform log lines, every period. Scheduler
 * invocations are free up to 14 million a month.
 */
function scheduledSweeps(
  schedule: TemplateFacts['schedules'][number],
  prices: PriceTable,
  a: WorkloadAssumptions,
): CostLine {
  const sweeps = (HOURS_PER_MONTH * 60) / schedule.periodMinutes;
  const queries = sweeps * LIFECYCLE.pendingShards * 0.5;
  const compute =
    sweeps * (schedule.memoryMb / 1024) * (a.durationMs.sweep / 1000) * prices.lambdaGbSecond.arm64;
  const platform = platformLinesOf(schedule);
  const logs = ((sweeps * platform.bytes) / GB) * prices.logsIngestionPerGb;
  return {
    item: `${schedule.handler} sweeps (${sweeps.toFixed(0)} a month)`,
    basis: `every ${schedule.periodMinutes} min: 1 request, ${a.durationMs.sweep} ms at ${schedule.memoryMb} MB (assumed), ${LIFECYCLE.pendingShards} index queries, ${platform.basis}`,
    usd:
      (sweeps / MILLION) * prices.lambdaRequestPerMillion +
      compute +
      (queries / MILLION) * prices.dynamodbReadRequestUnitPerMillion +
      logs,
  };
}

/** Customer managed keys: $1 a month each, and each of the first two rotations adds $1 (then no more). */
function kmsKeyMonthly(facts: TemplateFacts, prices: PriceTable): CostLine {
  const plain = facts.kmsKeys - facts.rotatedKmsKeys;
  return {
    item: `KMS keys x ${facts.kmsKeys} (${facts.rotatedKmsKeys} rotated yearly)`,
    basis: `$${prices.kmsKeyMonth}/key-month; a rotated key adds $${prices.kmsKeyMonth} at each of its first 2 rotations: $${3 * prices.kmsKeyMonth} from year 3 on (priced here)`,
    usd: plain * prices.kmsKeyMonth + facts.rotatedKmsKeys * 3 * prices.kmsKeyMonth,
  };
}

/** ALB LCU-hours per request: the largest dimension (new connections at 25/s, or bytes at 0.4 GB/h for Lambda targets). */
export function albLcuHoursPerRequest(a: WorkloadAssumptions): number {
  return Math.max(1 / (25 * 3600), a.albBytesPerRequest / GB / 0.4);
}

/**
 * The reference design of the seed projects, on the same job: API Gateway REST, a Standard
 * workflow logging ALL with execution data and a Lambda per task, x86, SQS batch size 1, X-Ray's
 * Default rule; no VPC (no endpoints, no ALB, no WAF). Its workflow logs are the same ASL's at ALL.
 */
export function referenceDesignCost(
  input: ModelInput & { referenceWorkflowLogs: WorkflowLogFigures },
): DesignCost {
  const { facts, prices, measured, ordersPerMonth } = input;
  const a = input.assumptions ?? DEFAULT_ASSUMPTIONS;
  const publisher = memoryOf(facts, 'publisher');
  const step = memoryOf(facts, 'validate');
  const tasks = facts.workflow.lambdaTasks + facts.workflow.dynamodbTasks + facts.workflow.snsTasks;
  const consumers = Object.keys(facts.batchSizes);
  const invocations = 1 + tasks + consumers.length;
  const gbSeconds =
    lambdaGbSeconds(publisher.memoryMb, a.durationMs.publisher) +
    facts.workflow.lambdaTasks * lambdaGbSeconds(step.memoryMb, a.durationMs.validate) +
    (tasks - facts.workflow.lambdaTasks) * lambdaGbSeconds(step.memoryMb, a.referenceStepLambdaMs) +
    consumers.reduce(
      (total, handler) =>
        total +
        lambdaGbSeconds(
          memoryOf(facts, handler).memoryMb,
          a.durationMs.consumerBatch + a.durationMs.consumerPerRecord,
        ),
      0,
    );
  const ordersPerSecond = ordersPerMonth / SECONDS_PER_MONTH;
  const rootsPerSecond = ordersPerSecond * (1 + consumers.length);
  const tracesPerOrder = tracedPerSecond(rootsPerSecond, DEFAULT_SAMPLING_RULE) / ordersPerSecond;
  // The seed projects log at INFO: the handlers' output at INFO, and a validate-sized output per step
  // Lambda; their consumers take batches of 1, an invocation per message.
  const atInfo = orderPathOutput(
    input,
    () => 'INFO',
    (entry) => (consumers.includes(entry) ? 1 : undefined),
  );
  const validate = measured.functions.validate;
  const perStep =
    validate && validate.invocations > 0 ? outputAtLevel(validate, 'INFO').bytes / validate.invocations : 0;
  const appBytes = atInfo.bytes + (tasks - facts.workflow.lambdaTasks) * perStep;
  const ref = input.referenceWorkflowLogs;
  const s = shared(input, a);
  const perMillion: CostLine[] = [
    { item: 'API Gateway REST', basis: 'one request per order', usd: prices.apiGatewayRestPerMillion },
    {
      item: `Lambda requests (${invocations} per order)`,
      basis: `publisher + a Lambda per task (${tasks}) + a consumer invocation per message`,
      usd: invocations * prices.lambdaRequestPerMillion,
    },
    {
      item: 'Lambda compute (x86_64)',
      basis: `as deployed, plus ${a.referenceStepLambdaMs} ms per step Lambda`,
      usd: gbSeconds * MILLION * prices.lambdaGbSecond.x86_64,
    },
    {
      item: `Step Functions Standard (${facts.workflow.happyPath.length} transitions)`,
      basis: 'one transition per state on the happy path',
      usd: MILLION * facts.workflow.happyPath.length * prices.sfnStandardTransition,
    },
    logLine(
      'Step Functions logs (ALL, with execution data)',
      `${ref.validEvents} events, ${ref.validBytes} B per order (the same ASL, measured at ALL)`,
      ref.validBytes - ref.validEvents * LOG_EVENT_OVERHEAD_BYTES,
      ref.validEvents,
      prices,
    ),
    logLine(
      'Lambda logs',
      `the deployed handlers' measured output, a validate-sized output per step Lambda, + platform lines x ${invocations}`,
      appBytes + LAMBDA_PLATFORM_BYTES_PER_INVOCATION * invocations,
      LAMBDA_PLATFORM_EVENTS_PER_INVOCATION * invocations + invocations,
      prices,
    ),
    {
      item: `X-Ray traces (${tracesPerOrder.toFixed(3)} per order)`,
      basis: `Default rule 1/s + 5 % over ${rootsPerSecond.toFixed(2)} roots/s`,
      usd: tracesPerOrder * prices.xrayTracePerMillion,
    },
    {
      item: `SQS requests (${consumers.length * 3} per order)`,
      basis: 'batch size 1: delivery, receive and delete per message',
      usd: consumers.length * 3 * prices.sqsRequestPerMillion,
    },
    s.writes,
    ...(s.gsi ? [s.gsi] : []),
    s.sns,
    s.s3,
    s.storage,
  ];
  const fixedMonthly: CostLine[] = [
    kmsKeyMonthly(facts, prices),
    secretsMonthly(facts, prices, a, ordersPerMonth * (1 + measured.statusReadsPerOrder)),
    {
      item: `CloudWatch: ${facts.alarms} alarms, ${facts.dashboards} dashboard`,
      basis: 'as deployed',
      usd: facts.alarms * prices.alarmMonth + facts.dashboards * prices.dashboardMonth,
    },
  ];
  const statusRead: CostLine[] = [
    { item: 'API Gateway REST', basis: 'one request per read', usd: prices.apiGatewayRestPerMillion },
    { item: 'Lambda request', basis: '1 per read', usd: prices.lambdaRequestPerMillion },
    {
      item: 'DynamoDB read',
      basis: '1 RRU',
      usd: prices.dynamodbReadRequestUnitPerMillion,
    },
  ];
  return design('reference', perMillion, fixedMonthly, statusRead, measured.statusReadsPerOrder);
}

/**
 * The floor of this job: what any design must pay per order. One archive object, two write units
 * (create, terminal status), one SNS publish, one Express execution at its minimum (100 ms at
 * 64 MB), each consumer's SQS delivery with full batches of 10, and the publisher's request.
 */
export function floorPerMillion(facts: TemplateFacts, prices: PriceTable): CostLine[] {
  const consumers = Object.keys(facts.batchSizes).length;
  return [
    { item: 'S3 PUT', basis: 'the archive object', usd: 1000 * prices.s3PutPerThousand },
    { item: '2 WRU', basis: 'create + terminal status', usd: 2 * prices.dynamodbWriteRequestUnitPerMillion },
    { item: 'SNS publish', basis: 'one event', usd: prices.snsPublishPerMillion },
    {
      item: 'Express minimum',
      basis: '1 execution, 64 MB x 100 ms',
      usd: prices.sfnExpressRequestPerMillion + MILLION * (64 / 1024) * 0.1 * prices.sfnExpressGbSecond,
    },
    {
      item: `SQS (${consumers} consumers)`,
      basis: 'delivery + receive and delete per batch of 10',
      usd: consumers * (1 + 2 / 10) * prices.sqsRequestPerMillion,
    },
    {
      item: 'Lambda requests',
      basis: 'publisher + consumers in batches of 10',
      usd: (1 + consumers / 10) * prices.lambdaRequestPerMillion,
    },
  ];
}

export interface ThroughputLimit {
  quota: string;
  ordersPerSecond: number;
}

/** Orders per second each default quota allows, lowest (the one that binds first) first. */
export function throughputCeiling(input: ModelInput): ThroughputLimit[] {
  const { facts, measured } = input;
  const a = input.assumptions ?? DEFAULT_ASSUMPTIONS;
  const consumers = Object.entries(facts.batchSizes);
  const concurrencySecondsPerOrder =
    a.durationMs.publisher / 1000 +
    (facts.workflow.lambdaTasks * a.durationMs.validate) / 1000 +
    consumers.reduce(
      (total, [, batch]) =>
        total + (a.durationMs.consumerBatch + a.durationMs.consumerPerRecord * batch) / 1000 / batch,
      0,
    );
  const orderItem = measured.itemBytes.OrdersTableName ?? 1024;
  const ordersTableUnits =
    ((measured.byOperation['dynamodb.PutItem'] ?? 1) -
      1 +
      (measured.byOperation['dynamodb.UpdateItem'] ?? 0)) *
    Math.max(1, Math.ceil(orderItem / 1024));
  const limits: ThroughputLimit[] = [
    {
      quota: `Lambda concurrency ${DEFAULT_QUOTAS.lambdaConcurrency} (account)`,
      ordersPerSecond: DEFAULT_QUOTAS.lambdaConcurrency / concurrencySecondsPerOrder,
    },
    {
      quota: `DynamoDB on-demand orders table, ${DEFAULT_QUOTAS.dynamodbOnDemandWritesPerSecond} WRU/s before it adapts (${ordersTableUnits.toFixed(1)} WRU per order)`,
      ordersPerSecond: DEFAULT_QUOTAS.dynamodbOnDemandWritesPerSecond / Math.max(1, ordersTableUnits),
    },
    facts.workflow.type === 'EXPRESS'
      ? {
          quota: `Step Functions Express StartExecution ${DEFAULT_QUOTAS.sfnExpressStartPerSecond}/s`,
          ordersPerSecond: DEFAULT_QUOTAS.sfnExpressStartPerSecond,
        }
      : {
          quota: `Step Functions Standard StartExecution ${DEFAULT_QUOTAS.sfnStandardStartPerSecond}/s`,
          ordersPerSecond: Math.min(
            DEFAULT_QUOTAS.sfnStandardStartPerSecond,
            DEFAULT_QUOTAS.sfnStandardTransitionsPerSecond / facts.workflow.happyPath.length,
          ),
        },
    {
      quota: `SNS Publish ${DEFAULT_QUOTAS.snsPublishPerSecond}/s`,
      ordersPerSecond: DEFAULT_QUOTAS.snsPublishPerSecond / Math.max(1, facts.workflow.snsTasks),
    },
  ];
  const publisher = facts.functions.find((fn) => fn.handler === 'publisher');
  if (publisher?.reservedConcurrency !== undefined) {
    limits.push({
      quota: `publisher reserved concurrency ${publisher.reservedConcurrency}`,
      ordersPerSecond: publisher.reservedConcurrency / (a.durationMs.publisher / 1000),
    });
  }
  return limits.sort((x, y) => x.ordersPerSecond - y.ordersPerSecond);
}
