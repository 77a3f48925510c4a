/**
 * List prices, us-east-1, on-demand, without free tiers, as published on the pages below when
 * this table was written. Prices change: check the pages and update `PRICES_AS_OF` with them.
 */
export const PRICES_AS_OF = '2025-06-01';

/** Where each group of prices comes from. */
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
export const PRICES = {
  lambdaRequestPerMillion: 0.2,
  lambdaGbSecond: { arm64: 0.0000133334, x86_64: 0.0000166667 },
  /** Standard workflows: per state transition. */
  sfnStandardTransition: 0.000025,
  /** Express workflows: per execution, and per GB-second (memory billed in 64 MB steps, 100 ms minimum). */
  sfnExpressRequestPerMillion: 1.0,
  sfnExpressGbSecond: 0.00001667,
  apiGatewayRestPerMillion: 3.5,
  albHour: 0.0225,
  albLcuHour: 0.008,
  snsPublishPerMillion: 0.5,
  sqsRequestPerMillion: 0.4,
  dynamodbWriteRequestUnitPerMillion: 0.625,
  dynamodbReadRequestUnitPerMillion: 0.125,
  s3PutPerThousand: 0.005,
  logsIngestionPerGb: 0.5,
  xrayTracePerMillion: 5.0,
  interfaceEndpointAzHour: 0.01,
  interfaceEndpointPerGb: 0.01,
  kmsKeyMonth: 1.0,
  secretMonth: 0.4,
  alarmMonth: 0.1,
  dashboardMonth: 3.0,
  wafWebAclMonth: 5.0,
  wafRuleMonth: 1.0,
  wafRequestPerMillion: 0.6,
} as const;

export const HOURS_PER_MONTH = 730;

/** Default quotas (us-east-1) the throughput ceiling is computed against. */
export const DEFAULT_QUOTAS = {
  /** Lambda concurrent executions per account and region. */
  lambdaConcurrency: 1000,
  /** Express StartExecution, requests per second (refill rate). */
  sfnExpressStartPerSecond: 6000,
  /** Standard StartExecution, requests per second (refill rate). */
  sfnStandardStartPerSecond: 300,
  /** Standard state transitions per second (refill rate). */
  sfnStandardTransitionsPerSecond: 5000,
  /** SNS Publish, messages per second per account (us-east-1). */
  snsPublishPerSecond: 30000,
  /** DynamoDB on-demand: a new table serves up to 4,000 write units per second before it adapts. */
  dynamodbOnDemandWritesPerSecond: 4000,
  /** API Gateway account-level throttle, requests per second. */
  apiGatewayRequestsPerSecond: 10000,
} as const;
