import { DEFAULT_QUOTAS, HOURS_PER_MONTH, PRICES } from './prices';
import type { TemplateFacts } from './template-facts';

/**
 * What the template cannot say: durations, item sizes, log volume. Defaults are round figures
 * from the local bench and the handlers' code; override them to model a measured workload.
 */
export interface WorkloadAssumptions {
  /** Billed duration per invocation, ms (the consumer figure is per batch of `batchSize`). */
  durationMs: { publisher: number; validate: number; consumerBatch: number; consumerPerRecord: number };
  /** Express execution duration, ms (billed in 64 MB memory steps). */
  expressExecutionMs: number;
  /** Orders-table item size after StoreOrder, KB (write units per update round up to 1 KB). */
  orderItemKb: number;
  /** DynamoDB writes the handlers make per order outside the workflow, as (table, size KB). */
  handlerWrites: Array<{ what: string; table: 'orders' | 'billing'; kb: number }>;
  /** Status reads per order (GET /orders/{id}, strongly consistent). */
  statusReadsPerOrder: number;
  /** Bytes logged per invocation (platform lines + application JSON + EMF metrics). */
  logBytesPerInvocation: number;
  /** Share of orders traced by X-Ray (default sampling after the reservoir). */
  xraySampledShare: number;
  /** Bytes through the ALB per order (request, response, one status read). */
  albBytesPerOrder: number;
  /** Bytes through interface endpoints per order (StartExecution, logs, SNS). */
  endpointBytesPerOrder: number;
  /** Reference design: billed duration of each one-step Lambda, ms. */
  referenceStepLambdaMs: number;
}

export const DEFAULT_ASSUMPTIONS: WorkloadAssumptions = {
  durationMs: { publisher: 40, validate: 5, consumerBatch: 60, consumerPerRecord: 15 },
  expressExecutionMs: 300,
  orderItemKb: 1.5,
  handlerWrites: [
    { what: 'publisher ACCEPTED PutItem', table: 'orders', kb: 0.3 },
    { what: 'billing record PutItem', table: 'billing', kb: 0.5 },
    { what: 'billed UpdateItem', table: 'orders', kb: 1.5 },
    { what: 'archived UpdateItem', table: 'orders', kb: 1.5 },
    { what: 'COMPLETED UpdateItem', table: 'orders', kb: 1.5 },
  ],
  statusReadsPerOrder: 1,
  logBytesPerInvocation: 1200,
  xraySampledShare: 0.05,
  albBytesPerOrder: 3000,
  endpointBytesPerOrder: 6000,
  referenceStepLambdaMs: 60,
};

/** A priced line, per million orders or per month. */
export interface CostLine {
  item: string;
  usd: number;
}

export interface DesignCost {
  name: string;
  /** Cost that scales with orders, per million orders. */
  perMillion: CostLine[];
  /** Cost per month whatever the traffic. */
  fixedMonthly: CostLine[];
  perMillionTotal: number;
  fixedMonthlyTotal: number;
}

export interface ThroughputLimit {
  quota: string;
  ordersPerSecond: number;
}

const sum = (lines: readonly CostLine[]) => lines.reduce((total, line) => total + line.usd, 0);
const MILLION = 1_000_000;
const writeUnits = (kb: number) => Math.max(1, Math.ceil(kb));
const lambdaGbSeconds = (memoryMb: number, ms: number) =>
  (memoryMb / 1024) * (Math.max(1, Math.ceil(ms)) / 1000);

function design(name: string, perMillion: CostLine[], fixedMonthly: CostLine[]): DesignCost {
  const keep = (lines: CostLine[]) => lines.filter((line) => line.usd > 0);
  return {
    name,
    perMillion: keep(perMillion),
    fixedMonthly: keep(fixedMonthly),
    perMillionTotal: sum(perMillion),
    fixedMonthlyTotal: sum(fixedMonthly),
  };
}

function memoryOf(
  facts: TemplateFacts,
  handler: string,
): { memoryMb: number; architecture: 'arm64' | 'x86_64' } {
  const fn = facts.functions.find((candidate) => candidate.handler === handler);
  if (!fn) throw new Error(`the template has no ${handler} function`);
  return fn;
}

/** Costs both designs share: data stores, messaging, archive objects. */
function sharedPerOrder(facts: TemplateFacts, a: WorkloadAssumptions): CostLine[] {
  const workflowWrites = facts.workflow.dynamodbTasks * writeUnits(a.orderItemKb);
  const handlerWrites = a.handlerWrites.reduce((total, write) => total + writeUnits(write.kb), 0);
  return [
    {
      item: `DynamoDB on-demand: ${workflowWrites + handlerWrites} WRU + ${a.statusReadsPerOrder} RRU`,
      usd:
        (workflowWrites + handlerWrites) * PRICES.dynamodbWriteRequestUnitPerMillion +
        a.statusReadsPerOrder * PRICES.dynamodbReadRequestUnitPerMillion,
    },
    {
      item: `SNS publish x ${facts.workflow.snsTasks}`,
      usd: facts.workflow.snsTasks * PRICES.snsPublishPerMillion,
    },
    { item: 'S3 PUT (archive object)', usd: 1000 * PRICES.s3PutPerThousand },
  ];
}

/** The deployed design, from the template's facts. */
export function deployedDesignCost(
  facts: TemplateFacts,
  a: WorkloadAssumptions = DEFAULT_ASSUMPTIONS,
): DesignCost {
  const publisher = memoryOf(facts, 'publisher');
  const validate = memoryOf(facts, 'validate');
  const consumers = Object.entries(facts.batchSizes);
  const lambdaInvocations =
    1 + facts.workflow.lambdaTasks + consumers.reduce((n, [, batch]) => n + 1 / batch, 0);
  const lambdaCompute =
    lambdaGbSeconds(publisher.memoryMb, a.durationMs.publisher) *
      PRICES.lambdaGbSecond[publisher.architecture] +
    facts.workflow.lambdaTasks *
      lambdaGbSeconds(validate.memoryMb, a.durationMs.validate) *
      PRICES.lambdaGbSecond[validate.architecture] +
    consumers.reduce((total, [handler, batch]) => {
      const fn = memoryOf(facts, handler);
      const batchMs = a.durationMs.consumerBatch + a.durationMs.consumerPerRecord * batch;
      return total + (lambdaGbSeconds(fn.memoryMb, batchMs) / batch) * PRICES.lambdaGbSecond[fn.architecture];
    }, 0);
  // Per consumer queue: the SNS delivery (SendMessage), one receive and one batch delete per batch.
  const sqsRequests = consumers.reduce((n, [, batch]) => n + 1 + 2 / batch, 0);
  const workflow: CostLine =
    facts.workflow.type === 'EXPRESS'
      ? {
          item: `Step Functions Express (${facts.workflow.happyPath.length} states, ${a.expressExecutionMs} ms)`,
          usd:
            PRICES.sfnExpressRequestPerMillion +
            MILLION * (64 / 1024) * (Math.max(100, a.expressExecutionMs) / 1000) * PRICES.sfnExpressGbSecond,
        }
      : {
          item: `Step Functions Standard (${facts.workflow.happyPath.length} transitions)`,
          usd: MILLION * facts.workflow.happyPath.length * PRICES.sfnStandardTransition,
        };
  const perMillion: CostLine[] = [
    {
      item: `ALB LCU (${facts.loadBalancers} load balancer)`,
      usd: facts.loadBalancers > 0 ? albLcuHoursPerOrder(a) * MILLION * PRICES.albLcuHour : 0,
    },
    {
      item: `Lambda requests (${lambdaInvocations.toFixed(2)} per order)`,
      usd: lambdaInvocations * PRICES.lambdaRequestPerMillion,
    },
    { item: `Lambda compute (${publisher.architecture})`, usd: lambdaCompute * MILLION },
    workflow,
    {
      item: `SQS requests (${sqsRequests.toFixed(2)} per order)`,
      usd: sqsRequests * PRICES.sqsRequestPerMillion,
    },
    ...sharedPerOrder(facts, a),
    {
      item: 'CloudWatch Logs ingestion',
      usd: ((lambdaInvocations * a.logBytesPerInvocation * MILLION) / 1e9) * PRICES.logsIngestionPerGb,
    },
    { item: 'X-Ray traces', usd: a.xraySampledShare * PRICES.xrayTracePerMillion },
    {
      item: 'VPC interface endpoint data',
      usd:
        facts.interfaceEndpoints > 0
          ? ((a.endpointBytesPerOrder * MILLION) / 1e9) * PRICES.interfaceEndpointPerGb
          : 0,
    },
    { item: 'WAF requests', usd: facts.webAcls > 0 ? PRICES.wafRequestPerMillion : 0 },
  ];
  const fixedMonthly: CostLine[] = [
    {
      item: `ALB hours x ${facts.loadBalancers}`,
      usd: facts.loadBalancers * PRICES.albHour * HOURS_PER_MONTH,
    },
    {
      item: `VPC interface endpoints: ${facts.interfaceEndpoints} x ${facts.endpointAzs} AZ`,
      usd: facts.interfaceEndpoints * facts.endpointAzs * PRICES.interfaceEndpointAzHour * HOURS_PER_MONTH,
    },
    ...commonFixed(facts),
    {
      item: `WAF: ${facts.webAcls} web ACL, ${facts.wafRules} rules`,
      usd: facts.webAcls * PRICES.wafWebAclMonth + facts.wafRules * PRICES.wafRuleMonth,
    },
  ];
  return design('deployed', perMillion, fixedMonthly);
}

function commonFixed(facts: TemplateFacts): CostLine[] {
  return [
    { item: `KMS keys x ${facts.kmsKeys}`, usd: facts.kmsKeys * PRICES.kmsKeyMonth },
    { item: `Secrets x ${facts.secrets}`, usd: facts.secrets * PRICES.secretMonth },
    {
      item: `CloudWatch: ${facts.alarms} alarms, ${facts.dashboards} dashboard`,
      usd: facts.alarms * PRICES.alarmMonth + facts.dashboards * PRICES.dashboardMonth,
    },
  ];
}

/** ALB LCU-hours per order: the largest dimension (new connections at 25/s, or bytes at 0.4 GB/h for Lambda targets). */
export function albLcuHoursPerOrder(a: WorkloadAssumptions): number {
  return Math.max(1 / (25 * 3600), a.albBytesPerOrder / 1e9 / 0.4);
}

/**
 * The reference design of the seed projects, on the same workflow: API Gateway REST, a Standard
 * workflow with a Lambda per task, x86, SQS batch size 1; no VPC (no endpoints, no ALB).
 */
export function referenceDesignCost(
  facts: TemplateFacts,
  a: WorkloadAssumptions = DEFAULT_ASSUMPTIONS,
): DesignCost {
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
  const perMillion: CostLine[] = [
    { item: 'API Gateway REST', usd: PRICES.apiGatewayRestPerMillion },
    { item: `Lambda requests (${invocations} per order)`, usd: invocations * PRICES.lambdaRequestPerMillion },
    { item: 'Lambda compute (x86_64)', usd: gbSeconds * MILLION * PRICES.lambdaGbSecond.x86_64 },
    {
      item: `Step Functions Standard (${facts.workflow.happyPath.length} transitions)`,
      usd: MILLION * facts.workflow.happyPath.length * PRICES.sfnStandardTransition,
    },
    {
      item: `SQS requests (${consumers.length * 3} per order)`,
      usd: consumers.length * 3 * PRICES.sqsRequestPerMillion,
    },
    ...sharedPerOrder(facts, a),
    {
      item: 'CloudWatch Logs ingestion',
      usd: ((invocations * a.logBytesPerInvocation * MILLION) / 1e9) * PRICES.logsIngestionPerGb,
    },
    { item: 'X-Ray traces', usd: a.xraySampledShare * PRICES.xrayTracePerMillion },
  ];
  return design('reference', perMillion, commonFixed(facts));
}

/**
 * Orders per second each default quota allows, lowest (the one that binds first) first. The
 * orders table takes the workflow's updates and the handlers' orders-table writes.
 */
export function throughputCeiling(
  facts: TemplateFacts,
  a: WorkloadAssumptions = DEFAULT_ASSUMPTIONS,
): ThroughputLimit[] {
  const consumers = Object.entries(facts.batchSizes);
  const concurrencySecondsPerOrder =
    a.durationMs.publisher / 1000 +
    (facts.workflow.lambdaTasks * a.durationMs.validate) / 1000 +
    consumers.reduce(
      (total, [, batch]) =>
        total + (a.durationMs.consumerBatch + a.durationMs.consumerPerRecord * batch) / 1000 / batch,
      0,
    );
  const ordersTableWrites =
    facts.workflow.dynamodbTasks * writeUnits(a.orderItemKb) +
    a.handlerWrites
      .filter((write) => write.table === 'orders')
      .reduce((n, write) => n + writeUnits(write.kb), 0);
  const limits: ThroughputLimit[] = [
    {
      quota: `Lambda concurrency ${DEFAULT_QUOTAS.lambdaConcurrency} (account)`,
      ordersPerSecond: DEFAULT_QUOTAS.lambdaConcurrency / concurrencySecondsPerOrder,
    },
    {
      quota: `DynamoDB on-demand orders table, ${DEFAULT_QUOTAS.dynamodbOnDemandWritesPerSecond} WRU/s before it adapts (${ordersTableWrites} WRU per order)`,
      ordersPerSecond: DEFAULT_QUOTAS.dynamodbOnDemandWritesPerSecond / ordersTableWrites,
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
