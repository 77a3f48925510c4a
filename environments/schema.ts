import { z } from 'zod';

/** The environments this app deploys; `local` runs on one machine against an AWS emulator. */
export const ENVIRONMENT_NAMES = ['local', 'dev', 'staging', 'prod'] as const;
export type EnvironmentName = (typeof ENVIRONMENT_NAMES)[number];

/** Environments deployed to AWS accounts, by a pipeline or directly: every one but `local`. */
export const DEPLOYED_ENVIRONMENTS = ENVIRONMENT_NAMES.filter(
  (name): name is Exclude<EnvironmentName, 'local'> => name !== 'local',
);
export type DeployedEnvironmentName = (typeof DEPLOYED_ENVIRONMENTS)[number];

/** Environments where a plain-HTTP listener that forwards traffic may exist. */
const HTTP_ALLOWED: readonly EnvironmentName[] = ['local', 'dev'];

/** The values CloudWatch Logs accepts for `RetentionInDays`. */
const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
] as const;

const seconds = (max: number) => z.number().int().min(0).max(max);

/**
 * A 12-digit AWS account id, as a string: unquoted in YAML, `012345678901` would be read as a
 * number and lose its leading zero, so a number is refused with that reason.
 */
export const accountIdSchema = z
  .string({
    error: (issue) =>
      typeof issue.input === 'number'
        ? 'write the account id in quotes ("012345678901"): unquoted, YAML reads it as a number'
        : undefined,
  })
  .regex(/^\d{12}$/, 'must be a 12-digit AWS account id');

export const regionSchema = z
  .string()
  .regex(/^[a-z]{2}(-[a-z]+)+-\d$/, 'must be an AWS region such as eu-west-1');

const hostname = z
  .string()
  .regex(
    /^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,}$/,
    'must be a lowercase DNS name such as orders.example.com',
  );

/** The region's AWS-managed prefix lists of the S3 and DynamoDB gateway endpoints. */
export const gatewayPrefixListsSchema = z.strictObject({
  s3: z.string().regex(/^pl-[0-9a-f]+$/, 'must be a prefix list id such as pl-6da54004'),
  dynamodb: z.string().regex(/^pl-[0-9a-f]+$/, 'must be a prefix list id such as pl-6fa54006'),
});

/**
 * The gateway prefix lists of the regions this repository has deployed to (`aws ec2
 * describe-prefix-lists --region <region>`), so a list of one region is not used in another.
 */
export const KNOWN_GATEWAY_PREFIX_LISTS: Readonly<Record<string, z.infer<typeof gatewayPrefixListsSchema>>> =
  {
    'eu-west-1': { s3: 'pl-6da54004', dynamodb: 'pl-6fa54006' },
    'us-east-1': { s3: 'pl-63a5400a', dynamodb: 'pl-02cd2c6b' },
  };

/** An HTTPS name, its public hosted zone and, optionally, an existing certificate for it. */
export const domainSchema = z.strictObject({
  name: hostname,
  hostedZone: z.strictObject({
    id: z.string().regex(/^Z[0-9A-Z]{1,32}$/, 'must be a Route 53 hosted zone id such as Z0123456789ABC'),
    name: hostname,
  }),
  certificateArn: z
    .string()
    .regex(
      /^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate\/[A-Za-z0-9-]+$/,
      'must be an ACM certificate ARN',
    )
    .optional(),
});

/**
 * Why a load balancer in `region` (of `account`, when known) cannot use the certificate, if it
 * cannot: a listener takes certificates of its own region and account only.
 */
export function certificateMismatch(
  certificateArn: string,
  where: { region: string; account?: string },
): string | undefined {
  const [, , , region, account] = certificateArn.split(':');
  if (region !== where.region) return `the certificate must be in ${where.region}, not ${region}`;
  if (where.account && account !== where.account) {
    return `the certificate must belong to the environment's account ${where.account}, not ${account}`;
  }
  return undefined;
}

/**
 * Lambda keeps at least this much of the account's concurrency unreserved: a reservation that
 * would leave less is refused (https://docs.aws.amazon.com/lambda/latest/dg/configuration-concurrency.html).
 */
export const UNRESERVED_CONCURRENCY_MINIMUM = 100;

/** An SQS event source mapping's maximum concurrency: 2 to 1,000 (https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-scaling.html). */
const sqsMaxConcurrency = z.number().int().min(2).max(1000);

/** The functions that are not fan-out consumers, by their config name. */
export const CORE_FUNCTIONS = ['publisher', 'validate', 'dlq'] as const;

/** Dead-letter queues per subscriber, each consumed by the DLQ handler: the queue's and the subscription's. */
export const DEAD_LETTER_QUEUES_PER_SUBSCRIBER = 2;

/** Settings of one fan-out subscriber (queue + consumer Lambda). */
export const consumerSettingsSchema = z.strictObject({
  /** Share of messages the consumer fails on purpose (0..1) to exercise retries and the DLQ path. */
  failureInjectionRate: z.number().min(0).max(1),
  /** SNS filter policy on message attributes (`type`, `market`, `currency`); omitted = every event. */
  filterPolicy: z
    .partialRecord(z.enum(['type', 'market', 'currency']), z.array(z.string().min(1)).min(1))
    .optional(),
  /** SQS messages per Lambda invocation. */
  batchSize: z.number().int().min(1).max(10_000),
  /** How long the event source mapping gathers a batch. */
  maxBatchingWindowSeconds: seconds(300),
  /** Consumer Lambda timeout; the queue's visibility timeout is 6 x this + the batching window. */
  timeoutSeconds: z.number().int().min(1).max(900),
  /** Receives before a message moves to the DLQ; at least 5 so throttling alone never dead-letters. */
  maxReceiveCount: z.number().int().min(5).max(1000),
  memoryMb: z.number().int().min(128).max(10_240),
  /**
   * Most concurrent invocations the queue's event source mapping starts (SQS allows 2 to 1,000).
   * At most the consumer's reserved concurrency, so the mapping is never throttled: a throttled
   * batch goes back to the queue, uses up a receive and finally dead-letters.
   */
  maxConcurrency: sqsMaxConcurrency,
});
export type ConsumerSettings = z.infer<typeof consumerSettingsSchema>;

/** Settings of a Lambda that is not a fan-out consumer. */
const functionSettingsSchema = z.strictObject({
  memoryMb: z.number().int().min(128).max(10_240),
  timeoutSeconds: z.number().int().min(1).max(900),
});

const stressSchema = z.strictObject({
  /** Orders sent in one run. */
  orders: z.number().int().min(1),
  /** Requests in flight at once. */
  concurrency: z.number().int().min(1),
  /** Target requests per second (0 = as fast as concurrency allows). */
  ratePerSecond: z.number().min(0),
  /** Relative weights of the request kinds the stress tool sends. */
  mix: z.strictObject({
    valid: z.number().min(0),
    businessReject: z.number().min(0),
    /** Bodies the publisher must refuse with 400 (not JSON, wrong types, unknown fields). */
    schemaInvalid: z.number().min(0),
    badSignature: z.number().min(0),
    replay: z.number().min(0),
  }),
  /** Time for the whole run, fan-out included, before it counts as failed. */
  deadlineSeconds: z.number().int().min(1),
  thresholds: z.strictObject({
    /** Highest tolerated share of unexpected responses (0..1). */
    maxErrorRate: z.number().min(0).max(1),
    maxP95Ms: z.number().int().min(1),
    /** Status codes that count as expected answers. */
    expectedStatusCodes: z.array(z.number().int().min(100).max(599)).min(1),
  }),
});
export type StressProfile = z.infer<typeof stressSchema>;

const alarmsSchema = z.strictObject({
  /** Where alarm notifications go (email subscription on the alarm topic). */
  email: z.email(),
  /** Alarm period and evaluation periods for every alarm. */
  periodSeconds: z.union([z.literal(60), z.literal(300), z.literal(900), z.literal(3600)]),
  evaluationPeriods: z.number().int().min(1),
  lambdaErrors: z.number().int().min(1),
  lambdaThrottles: z.number().int().min(1),
  queueOldestMessageAgeSeconds: z.number().int().min(1),
  albElb5xx: z.number().int().min(1),
  albTarget5xx: z.number().int().min(1),
  albP99LatencyMs: z.number().int().min(1),
  workflowFailures: z.number().int().min(1),
  dynamoThrottles: z.number().int().min(1),
});

const base = z.strictObject({
  name: z.enum(ENVIRONMENT_NAMES),
  /** AWS account id; required for prod, optional (env-agnostic) elsewhere. */
  account: accountIdSchema.optional(),
  region: regionSchema,
  /** Availability zones used by the VPC; 1 is allowed outside staging and prod. */
  azCount: z.number().int().min(1).max(3),
  /**
   * The region's AWS-managed prefix lists of the S3 and DynamoDB gateway endpoints, so the Lambda
   * security group's egress names them instead of 0.0.0.0/0. CloudFormation cannot look them up;
   * `aws ec2 describe-prefix-lists --region <region>` lists them.
   */
  gatewayPrefixLists: gatewayPrefixListsSchema,
  lambda: z.strictObject({
    architecture: z.literal('arm64'),
    /**
     * The account's Lambda "Concurrent executions" quota in this region (Service Quotas code
     * L-B99A9384). Reservations are a budget within it: together at most this minus
     * {@link UNRESERVED_CONCURRENCY_MINIMUM}. New accounts often start far lower than 1,000; raise
     * the quota before the first deploy (`npm run preflight` checks it).
     */
    accountConcurrency: z.number().int().min(1).default(1000),
    /**
     * Concurrency reserved per function (`publisher`, `validate`, `dlq` or a consumer name), only
     * where a reservation protects something. A reservation both guarantees and caps: `protects`
     * says which one matters here.
     */
    reservations: z
      .record(
        z.string(),
        z.strictObject({
          concurrency: z.number().int().min(1),
          protects: z.string().min(10, 'say what the reservation protects'),
        }),
      )
      .default({}),
  }),
  functions: z.strictObject({
    publisher: functionSettingsSchema,
    validate: functionSettingsSchema,
    dlq: functionSettingsSchema.extend({
      batchSize: z.number().int().min(1).max(10_000),
      /** Maximum concurrency of each DLQ's event source mapping (the handler has one per DLQ). */
      maxConcurrency: sqsMaxConcurrency,
    }),
    /** The scheduled sweep over orders left non-terminal (lambdas/reconciler). */
    reconciler: functionSettingsSchema
      .extend({
        /** Minutes between sweeps (EventBridge Scheduler `rate`). */
        everyMinutes: z.number().int().min(1).max(60),
        /** Restarts of one order before the sweep marks it FAILED. */
        maxRestarts: z.number().int().min(0).max(9),
        /** Most orders one sweep handles; the next sweep takes the rest. */
        sweepLimit: z.number().int().min(1).max(1000),
        /**
         * Slack beyond the longest legitimate wait (a run's timeout, a consumer's last redrive)
         * before an order counts as stuck.
         */
        deadlineMarginSeconds: z.number().int().min(0).max(3600).default(60),
      })
      .default({
        memoryMb: 256,
        timeoutSeconds: 60,
        everyMinutes: 5,
        maxRestarts: 3,
        sweepLimit: 100,
        deadlineMarginSeconds: 60,
      }),
  }),
  /**
   * EXPRESS by default: an order's workflow runs in well under a second and Express costs a
   * fraction of Standard at this volume. Express is at-least-once, which is why every step of the
   * workflow is an idempotent conditional write (docs/internals.md).
   */
  workflowType: z.enum(['EXPRESS', 'STANDARD']).default('EXPRESS'),
  /**
   * The workflow's execution timeout: no run is alive longer, so the reconciler may restart an
   * order whose last start is older. At most 5 minutes, the longest an Express workflow may run
   * (https://docs.aws.amazon.com/step-functions/latest/dg/choosing-workflow-type.html).
   */
  workflowTimeoutSeconds: z.number().int().min(10).max(300).default(120),
  /**
   * The workflow's execution logging (CloudWatch vended logs, billed per GB ingested). ALL writes
   * every history event of every order (26 on the happy path), with its input and output when
   * `includeExecutionData`; ERROR writes only failures (failed tasks, retries, failed executions).
   * https://docs.aws.amazon.com/step-functions/latest/dg/cloudwatch-log-level.html
   */
  /**
   * Powertools log level of every function (POWERTOOLS_LOG_LEVEL). Lambda logs are billed per GB
   * ingested; the EMF metric lines are written whatever the level.
   */
  lambdaLogLevel: z.enum(['DEBUG', 'INFO', 'WARN', 'ERROR']),
  /**
   * Which of Lambda's own (system) log events reach CloudWatch. INFO keeps the text START, END and
   * REPORT lines of every invocation (~350 B a request); WARN drops them, which needs the JSON log
   * format: the AWS/Lambda metrics still give duration, errors and throttles, but no per-invocation
   * memory or init-duration lines.
   * https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs-log-level.html
   */
  lambdaSystemLogLevel: z.enum(['INFO', 'WARN']).default('INFO'),
  workflowLogs: z.strictObject({
    level: z.enum(['ALL', 'ERROR', 'FATAL', 'OFF']),
    includeExecutionData: z.boolean(),
  }),
  /**
   * The environment's X-Ray sampling rule (each environment has its own account): requests traced
   * per second whatever the rate (`reservoirPerSecond`, shared by every instance), then
   * `fixedRate` of the rest. Applies where a trace starts: the publisher (orders and status
   * reads), each consumer batch, a workflow started without a sampled caller.
   * https://docs.aws.amazon.com/xray/latest/devguide/xray-console-sampling.html
   */
  xraySampling: z.strictObject({
    reservoirPerSecond: z.number().int().min(0).max(1000),
    fixedRate: z.number().min(0).max(1),
  }),
  logRetentionDays: z
    .number()
    .int()
    .refine((days) => (LOG_RETENTION_DAYS as readonly number[]).includes(days), {
      message: `must be one of ${LOG_RETENTION_DAYS.join(', ')}`,
    }),
  alarms: alarmsSchema,
  /**
   * The HTTPS name clients use, in a Route 53 public hosted zone the environment's account holds.
   * The stack points an alias record of this name at the load balancer and serves it with the
   * certificate: `certificateArn` (an ACM certificate in the region that covers the name), or,
   * without it, one the stack requests and validates through the hosted zone. Required without
   * `allowHttp`: the load balancer's own DNS name is one no certificate can cover.
   */
  domain: domainSchema.optional(),
  /** Plain-HTTP listener forwarding to the publisher (only local and dev). */
  allowHttp: z.boolean(),
  wafEnabled: z.boolean(),
  /** Requests per source IP per 5 minutes before the WAF blocks it. */
  wafRateLimit: z.number().int().min(10).max(2_000_000_000),
  /**
   * Requests per client id (`X-Client-Id`) per 5 minutes, from any number of IPs, before the WAF
   * answers 429. At least twice a stress run's requests per window (environments test).
   */
  wafClientRateLimit: z.number().int().min(10).max(2_000_000_000),
  /** Highest order total, in minor units (cents). */
  orderTotalLimit: z.number().int().min(1),
  /** Currencies allowed per market: market (2 lowercase letters) -> ISO 4217 codes. */
  marketCurrencies: z.record(
    z.string().regex(/^[a-z]{2}$/, 'market must be two lowercase letters'),
    z.array(z.string().regex(/^[A-Z]{3}$/, 'currency must be three uppercase letters')).min(1),
  ),
  /**
   * How long the publisher caches the client secrets: a new, rotated, retired or removed client
   * takes effect within this time. At most 30 s so a revoked secret stops working quickly (issue 15).
   */
  clientSecretsCacheSeconds: z.number().int().min(0).max(30),
  /**
   * Deploy every Lambda through a `live` alias with a CodeDeploy canary (10 % for 5 minutes) that
   * rolls back when the function's errors alarm fires. Off where a deployment should be immediate.
   */
  canaryDeployments: z.boolean().default(false),
  /** Keep tables, bucket, keys and the ALB when the stack goes away. */
  retainData: z.boolean(),
  /** Settings per fan-out subscriber, keyed by subscriber name. */
  consumers: z.record(z.string().regex(/^[a-z][a-z0-9-]{0,30}$/), consumerSettingsSchema),
  stress: stressSchema,
});

/** Rules that span several fields; each message says what to change. */
export const environmentSchema = base.superRefine((config, ctx) => {
  const issue = (path: (string | number)[], message: string) =>
    ctx.addIssue({ code: 'custom', path, message });
  if (config.name === 'prod') {
    if (!config.account) issue(['account'], 'prod must name its AWS account');
    if (config.allowHttp) issue(['allowHttp'], 'prod must not allow plain HTTP');
    if (!config.domain) issue(['domain'], 'prod needs an HTTPS domain name');
    if (!config.retainData) issue(['retainData'], 'prod must retain its data');
    if (config.workflowLogs.includeExecutionData) {
      // Execution data is the order itself (customer data) and most of the log volume.
      issue(
        ['workflowLogs', 'includeExecutionData'],
        'prod must keep execution data out of the workflow logs',
      );
    }
    for (const [name, consumer] of Object.entries(config.consumers)) {
      if (consumer.failureInjectionRate > 0) {
        issue(['consumers', name, 'failureInjectionRate'], 'failure injection must be 0 in prod');
      }
    }
  }
  if (config.allowHttp && !HTTP_ALLOWED.includes(config.name)) {
    issue(['allowHttp'], `plain HTTP is only allowed in ${HTTP_ALLOWED.join(' and ')}`);
  }
  if (!config.allowHttp && !config.domain) {
    issue(['domain'], 'without allowHttp the ALB needs an HTTPS domain name, or it has no listener');
  }
  if (config.domain) {
    const { name, hostedZone, certificateArn } = config.domain;
    if (name !== hostedZone.name && !name.endsWith(`.${hostedZone.name}`)) {
      issue(['domain', 'name'], `${name} is not in the hosted zone ${hostedZone.name}`);
    }
    const mismatch = certificateArn && certificateMismatch(certificateArn, config);
    if (mismatch) issue(['domain', 'certificateArn'], mismatch);
  }
  if (config.azCount < 2 && (config.name === 'staging' || config.name === 'prod')) {
    issue(['azCount'], `${config.name} must span at least 2 availability zones`);
  }
  checkConcurrencyBudget(config, issue);
  for (const [name, consumer] of Object.entries(config.consumers)) {
    // SQS caps the visibility timeout at 12 hours.
    if (6 * consumer.timeoutSeconds + consumer.maxBatchingWindowSeconds > 43_200) {
      issue(['consumers', name, 'timeoutSeconds'], 'visibility timeout (6 x timeout + window) exceeds 12 h');
    }
  }
});

type BaseConfig = z.output<typeof base>;

/** Concurrency reserved by the environment's functions, in all. */
export function reservedConcurrencyTotal(config: Pick<BaseConfig, 'lambda'>): number {
  return Object.values(config.lambda.reservations).reduce((sum, { concurrency }) => sum + concurrency, 0);
}

/**
 * Reservations are a budget: they must leave Lambda's unreserved minimum of the declared account
 * quota, name functions that exist, and hold every SQS event source of the reserved function
 * (the DLQ handler's mappings together, as each scales on its own).
 */
function checkConcurrencyBudget(
  config: BaseConfig,
  issue: (path: (string | number)[], message: string) => void,
) {
  const { accountConcurrency, reservations } = config.lambda;
  const known = new Set<string>([...CORE_FUNCTIONS, ...Object.keys(config.consumers)]);
  for (const name of Object.keys(reservations)) {
    if (!known.has(name)) issue(['lambda', 'reservations', name], `no function is named ${name}`);
  }
  const total = reservedConcurrencyTotal(config);
  const budget = accountConcurrency - UNRESERVED_CONCURRENCY_MINIMUM;
  if (total > budget) {
    issue(
      ['lambda', 'reservations'],
      `reservations add up to ${total}, more than the account quota ${accountConcurrency} minus Lambda's ` +
        `unreserved minimum ${UNRESERVED_CONCURRENCY_MINIMUM} (${budget}): lower them or raise the quota`,
    );
  }
  for (const [name, consumer] of Object.entries(config.consumers)) {
    const reserved = reservations[name]?.concurrency;
    if (reserved !== undefined && consumer.maxConcurrency > reserved) {
      issue(
        ['consumers', name, 'maxConcurrency'],
        `${consumer.maxConcurrency} is more than ${name}'s reserved concurrency ${reserved}: throttled batches would dead-letter`,
      );
    }
  }
  const dlqReserved = reservations.dlq?.concurrency;
  const dlqMappings = DEAD_LETTER_QUEUES_PER_SUBSCRIBER * Object.keys(config.consumers).length;
  const dlqMax = dlqMappings * config.functions.dlq.maxConcurrency;
  if (dlqReserved !== undefined && dlqMax > dlqReserved) {
    issue(
      ['functions', 'dlq', 'maxConcurrency'],
      `${dlqMappings} DLQ mappings x ${config.functions.dlq.maxConcurrency} = ${dlqMax} is more than the DLQ handler's reserved concurrency ${dlqReserved}`,
    );
  }
}

/** A validated environment configuration. */
export type EnvironmentConfig = z.output<typeof environmentSchema>;
/** What an environment file declares (defaults not yet applied). */
export type EnvironmentInput = z.input<typeof environmentSchema>;

/** Thrown when an environment configuration breaks the schema or a cross-field rule. */
export class InvalidEnvironmentError extends Error {
  constructor(
    readonly environment: string,
    readonly problems: readonly string[],
  ) {
    super(`Invalid environment config "${environment}":\n  - ${problems.join('\n  - ')}`);
    this.name = 'InvalidEnvironmentError';
  }
}

/**
 * Validates an environment configuration and applies its defaults.
 * @throws InvalidEnvironmentError listing every problem with its path.
 */
export function validateEnvironment(input: unknown): EnvironmentConfig {
  const result = environmentSchema.safeParse(input);
  if (result.success) return result.data;
  const name =
    typeof input === 'object' && input !== null && 'name' in input ? String(input.name) : 'unknown';
  const problems = result.error.issues.map(
    (issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`,
  );
  throw new InvalidEnvironmentError(name, problems);
}
