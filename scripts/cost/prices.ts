/**
 * On-demand list prices in USD, without free tiers, per region, as published on the pages below
 * on `PRICES_AS_OF`. Prices change: check the pages and update the date with them. A region
 * missing here is refused by the cost tool rather than priced with another region's figures.
 */
export const PRICES_AS_OF = '2026-12-01';

/** Where each group of prices comes from (the region is chosen on each page). */
export const PRICE_SOURCES = {
  lambda: 'https://aws.amazon.com/lambda/pricing/',
  stepFunctions: 'https://aws.amazon.com/step-functions/pricing/',
  apiGateway: 'https://aws.amazon.com/api-gateway/pricing/',
  alb: 'https://aws.amazon.com/elasticloadbalancing/pricing/',
  sns: 'https://aws.amazon.com/sns/pricing/',
  sqs: 'https://aws.amazon.com/sqs/pricing/',
  dynamodb: 'https://aws.amazon.com/dynamodb/pricing/on-demand/',
  s3: 'https://aws.amazon.com/s3/pricing/',
  cloudwatch: 'https://aws.amazon.com/cloudwatch/pricing/',
  xray: 'https://aws.amazon.com/xray/pricing/',
  privatelink: 'https://aws.amazon.com/privatelink/pricing/',
  kms: 'https://aws.amazon.com/kms/pricing/',
  secretsManager: 'https://aws.amazon.com/secrets-manager/pricing/',
  waf: 'https://aws.amazon.com/waf/pricing/',
} as const;

/** USD. "PerMillion" = per 1,000,000 requests; "Hour" = per hour; "Month" = per month. */
export interface PriceTable {
  lambdaRequestPerMillion: number;
  lambdaGbSecond: { arm64: number; x86_64: number };
  /** Standard workflows: per state transition. */
  sfnStandardTransition: number;
  /** Express workflows: per execution, and per GB-second (64 MB steps, 100 ms minimum). */
  sfnExpressRequestPerMillion: number;
  sfnExpressGbSecond: number;
  apiGatewayRestPerMillion: number;
  albHour: number;
  albLcuHour: number;
  snsPublishPerMillion: number;
  /** SNS to SQS deliveries are free (https://aws.amazon.com/sns/pricing/, "Notification deliveries"). */
  sqsRequestPerMillion: number;
  dynamodbWriteRequestUnitPerMillion: number;
  dynamodbReadRequestUnitPerMillion: number;
  dynamodbStorageGbMonth: number;
  s3PutPerThousand: number;
  s3StandardGbMonth: number;
  /** Standard log ingestion, also the first-10-TB tier of vended logs (Step Functions, Lambda). */
  logsIngestionPerGb: number;
  logsStorageGbMonth: number;
  xrayTracePerMillion: number;
  interfaceEndpointAzHour: number;
  interfaceEndpointPerGb: number;
  /** A customer managed key per month; each of its first two rotations adds the same again. */
  kmsKeyMonth: number;
  kmsRequestPer10k: number;
  secretMonth: number;
  secretsApiPer10k: number;
  alarmMonth: number;
  dashboardMonth: number;
  /** Custom metrics (EMF included), first 10,000 metrics. */
  customMetricMonth: number;
  wafWebAclMonth: number;
  wafRuleMonth: number;
  wafRequestPerMillion: number;
}

const US_EAST_1: PriceTable = {
  lambdaRequestPerMillion: 0.2,
  lambdaGbSecond: { arm64: 0.0000133334, x86_64: 0.0000166667 },
  sfnStandardTransition: 0.000025,
  sfnExpressRequestPerMillion: 1.0,
  sfnExpressGbSecond: 0.00001667,
  apiGatewayRestPerMillion: 3.5,
  albHour: 0.0225,
  albLcuHour: 0.008,
  snsPublishPerMillion: 0.5,
  sqsRequestPerMillion: 0.4,
  dynamodbWriteRequestUnitPerMillion: 0.625,
  dynamodbReadRequestUnitPerMillion: 0.125,
  dynamodbStorageGbMonth: 0.25,
  s3PutPerThousand: 0.005,
  s3StandardGbMonth: 0.023,
  logsIngestionPerGb: 0.5,
  logsStorageGbMonth: 0.03,
  xrayTracePerMillion: 5.0,
  interfaceEndpointAzHour: 0.01,
  interfaceEndpointPerGb: 0.01,
  kmsKeyMonth: 1.0,
  kmsRequestPer10k: 0.03,
  secretMonth: 0.4,
  secretsApiPer10k: 0.05,
  alarmMonth: 0.1,
  dashboardMonth: 3.0,
  customMetricMonth: 0.3,
  wafWebAclMonth: 5.0,
  wafRuleMonth: 1.0,
  wafRequestPerMillion: 0.6,
};

/** eu-west-1 (Ireland): where the pages list a different figure than us-east-1. */
const EU_WEST_1: PriceTable = {
  ...US_EAST_1,
  albHour: 0.0252,
  dynamodbWriteRequestUnitPerMillion: 0.7063,
  dynamodbReadRequestUnitPerMillion: 0.1413,
  dynamodbStorageGbMonth: 0.283,
  logsIngestionPerGb: 0.57,
  interfaceEndpointAzHour: 0.011,
};

/** Price tables by region. */
export const REGION_PRICES: Readonly<Record<string, PriceTable>> = {
  'us-east-1': US_EAST_1,
  'eu-west-1': EU_WEST_1,
};

/** Thrown for a region without a price table. */
export class UnpricedRegionError extends Error {}

/** The price table of `region`. @throws UnpricedRegionError when the region has none. */
export function pricesFor(region: string): PriceTable {
  const table = REGION_PRICES[region];
  if (!table) {
    throw new UnpricedRegionError(
      `no prices for region ${region} in scripts/cost/prices.ts (priced: ${Object.keys(REGION_PRICES).join(', ')})`,
    );
  }
  return table;
}

export const HOURS_PER_MONTH = 730;
export const SECONDS_PER_MONTH = HOURS_PER_MONTH * 3600;

/** Default quotas the throughput ceiling is computed against. */
export const DEFAULT_QUOTAS = {
  /** Lambda concurrent executions per account and region. */
  lambdaConcurrency: 1000,
  /** Express StartExecution, requests per second (refill rate). */
  sfnExpressStartPerSecond: 6000,
  /** Standard StartExecution, requests per second (refill rate). */
  sfnStandardStartPerSecond: 300,
  /** Standard state transitions per second (refill rate). */
  sfnStandardTransitionsPerSecond: 5000,
  /** SNS Publish, messages per second per account (us-east-1; eu-west-1 is 9,000). */
  snsPublishPerSecond: 9000,
  /** DynamoDB on-demand: a new table serves up to 4,000 write units per second before it adapts. */
  dynamodbOnDemandWritesPerSecond: 4000,
  /** API Gateway account-level throttle, requests per second. */
  apiGatewayRequestsPerSecond: 10000,
} as const;
