import type { CfnTemplate } from '../../infra/stacks/synthesize';
import { powertoolsLevelUnderLambda } from '../../lambdas/shared/powertools/log-level';
import { ENV } from '../../lambdas/shared/runtime-contract';
import { applicationLogLevelOf } from '../local/lambda-runtime';

/** What the cost model reads from a synthesized template. */
export interface TemplateFacts {
  functions: Array<{
    handler: string;
    memoryMb: number;
    architecture: 'arm64' | 'x86_64';
    reservedConcurrency?: number;
    /**
     * The level the function's Powertools logger logs at: POWERTOOLS_LOG_LEVEL (Powertools' default
     * INFO when unset), or in the JSON log format the stricter of it and ApplicationLogLevel.
     */
    logLevel: string;
    /** The publisher's CLIENT_SECRETS_CACHE_SECONDS, when set. */
    secretsCacheSeconds?: number;
    /**
     * Whether Lambda writes its text START, END and REPORT lines for each invocation: yes unless
     * the function logs in JSON with a system log level above INFO (LoggingConfig).
     */
    platformLines: boolean;
  }>;
  workflow: {
    type: 'EXPRESS' | 'STANDARD';
    /** States entered by an order that is valid and published (first choice taken at each Choice). */
    happyPath: string[];
    lambdaTasks: number;
    dynamodbTasks: number;
    snsTasks: number;
    /** Execution logging level (OFF when the definition logs nothing). */
    logLevel: 'ALL' | 'ERROR' | 'FATAL' | 'OFF';
    includeExecutionData: boolean;
  };
  /** SQS batch size by consumer handler (the handler's folder name). */
  batchSizes: Record<string, number>;
  /** Event source mapping batching window (MaximumBatchingWindowInSeconds) by consumer handler. */
  batchWindowsSeconds: Record<string, number>;
  /** Event source mappings (consumers and DLQ handlers): each keeps long-polling its queue. */
  eventSourceMappings: number;
  queues: number;
  tables: number;
  topics: number;
  /** Customer managed keys with automatic rotation. */
  rotatedKmsKeys: number;
  /** Buckets written with SSE-KMS without an S3 Bucket Key (one KMS call per object write). */
  kmsBucketsWithoutBucketKey: number;
  /** Global secondary indexes of the tables (each write touching an index key writes it too). */
  globalSecondaryIndexes: number;
  /** The X-Ray sampling rule of the stack, if any. */
  samplingRule?: { reservoirPerSecond: number; fixedRate: number };
  interfaceEndpoints: number;
  /** Subnets (= AZs) each interface endpoint sits in. */
  endpointAzs: number;
  loadBalancers: number;
  kmsKeys: number;
  secrets: number;
  alarms: number;
  dashboards: number;
  webAcls: number;
  wafRules: number;
  logRetentionDays: number[];
  /** EventBridge Scheduler schedules: the handler each invokes and its period (the reconciler's sweep). */
  schedules: Array<{ handler: string; periodMinutes: number; memoryMb: number; platformLines: boolean }>;
}

type Resource = CfnTemplate['Resources'][string];
type AslState = {
  Type: string;
  Next?: string;
  End?: boolean;
  Default?: string;
  Choices?: Array<{ Next: string }>;
  Resource?: string;
};

const ofType = (template: CfnTemplate, type: string) =>
  Object.entries(template.Resources).filter(([, resource]) => resource.Type === type);

/** The first logical id referenced (Ref or Fn::GetAtt) anywhere inside an intrinsic. */
const refOf = (value: unknown): string | undefined => {
  if (typeof value !== 'object' || value === null) return undefined;
  const record = value as Record<string, unknown>;
  if (typeof record.Ref === 'string') return record.Ref;
  const getAtt = record['Fn::GetAtt'];
  if (Array.isArray(getAtt) && typeof getAtt[0] === 'string') return getAtt[0];
  for (const nested of Object.values(record).flat()) {
    const found = refOf(nested);
    if (found) return found;
  }
  return undefined;
};

/** A DefinitionString (string or Fn::Join) as JSON text, every token replaced by `${token}`. */
export function definitionText(definition: unknown): string {
  if (typeof definition === 'string') return definition;
  const join = (definition as { 'Fn::Join'?: [string, unknown[]] })['Fn::Join'];
  if (!join) throw new Error('unsupported DefinitionString');
  return join[1].map((part) => (typeof part === 'string' ? part : '${token}')).join(join[0]);
}

/** The states an order passes through when every Choice takes its first branch, from StartAt to the end. */
export function happyPath(definition: { StartAt: string; States: Record<string, AslState> }): string[] {
  const path: string[] = [];
  let current: string | undefined = definition.StartAt;
  while (current !== undefined) {
    if (path.includes(current)) throw new Error(`the happy path loops at ${current}`);
    const state: AslState | undefined = definition.States[current];
    if (!state) throw new Error(`state ${current} is not defined`);
    path.push(current);
    if (state.Type === 'Succeed' || state.Type === 'Fail' || state.End) break;
    current = state.Type === 'Choice' ? (state.Choices?.[0]?.Next ?? state.Default) : state.Next;
  }
  return path;
}

function handlerOfFunction(template: CfnTemplate, logicalId: string | undefined): string | undefined {
  if (!logicalId) return undefined;
  const resource: Resource | undefined = template.Resources[logicalId];
  if (!resource) return undefined;
  if (resource.Type === 'AWS::Lambda::Alias' || resource.Type === 'AWS::Lambda::Version') {
    return handlerOfFunction(template, refOf(resource.Properties?.FunctionName));
  }
  const entry = (resource.Metadata as Record<string, unknown> | undefined)?.OrderPipelineEntry;
  return typeof entry === 'string' ? entry : undefined;
}

/**
 * A logger level as one the bench tallies lines at (DEBUG to ERROR): TRACE as DEBUG, and the
 * levels above ERROR (CRITICAL, FATAL, SILENT) as ERROR, which prices the ERROR lines too.
 */
function pricedLevel(level: string): string {
  const upper = level.toUpperCase();
  if (upper === 'TRACE') return 'DEBUG';
  return ['CRITICAL', 'FATAL', 'SILENT'].includes(upper) ? 'ERROR' : upper;
}

/** Reads the facts the cost model needs from one environment's template. */
export function templateFacts(template: CfnTemplate): TemplateFacts {
  const functions = ofType(template, 'AWS::Lambda::Function').flatMap(([, resource]) => {
    const handler = (resource.Metadata as Record<string, unknown> | undefined)?.OrderPipelineEntry;
    if (typeof handler !== 'string') return [];
    const props = resource.Properties ?? {};
    const architectures = (props.Architectures as string[] | undefined) ?? ['x86_64'];
    const variables =
      (props.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables ?? {};
    const secretsCache = variables[ENV.secretsCacheSeconds];
    const logging = (props.LoggingConfig ?? {}) as {
      LogFormat?: string;
      SystemLogLevel?: string;
      ApplicationLogLevel?: string;
    };
    const platformLines = !(logging.LogFormat === 'JSON' && logging.SystemLogLevel === 'WARN');
    const ownLevel = String(variables.POWERTOOLS_LOG_LEVEL ?? 'INFO');
    return [
      {
        handler,
        memoryMb: Number(props.MemorySize ?? 128),
        architecture: architectures[0] === 'arm64' ? ('arm64' as const) : ('x86_64' as const),
        reservedConcurrency:
          props.ReservedConcurrentExecutions === undefined
            ? undefined
            : Number(props.ReservedConcurrentExecutions),
        // What Powertools logs at: POWERTOOLS_LOG_LEVEL, or under Lambda's application filter (JSON
        // format) the stricter of the two, as the function's logger takes it.
        logLevel: pricedLevel(
          powertoolsLevelUnderLambda({
            AWS_LAMBDA_LOG_LEVEL: applicationLogLevelOf(logging),
            POWERTOOLS_LOG_LEVEL: ownLevel,
          }) ?? ownLevel,
        ),
        ...(secretsCache === undefined ? {} : { secretsCacheSeconds: Number(secretsCache) }),
        platformLines,
      },
    ];
  });

  const [machine] = ofType(template, 'AWS::StepFunctions::StateMachine');
  if (!machine) throw new Error('the template has no state machine');
  const machineProps = machine[1].Properties ?? {};
  const definition = JSON.parse(definitionText(machineProps.DefinitionString)) as {
    StartAt: string;
    States: Record<string, AslState>;
  };
  const path = happyPath(definition);
  const resources = path.map((name) => definition.States[name]!).filter((state) => state.Type === 'Task');
  const kind = (resource = '') =>
    resource.includes(':::dynamodb:')
      ? 'dynamodb'
      : resource.includes(':::sns:')
        ? 'sns'
        : resource.includes(':lambda:') || resource.includes('${token}')
          ? 'lambda'
          : 'other';
  const logging = machineProps.LoggingConfiguration as
    { Level?: TemplateFacts['workflow']['logLevel']; IncludeExecutionData?: boolean } | undefined;

  const batchSizes: Record<string, number> = {};
  const batchWindowsSeconds: Record<string, number> = {};
  const mappings = ofType(template, 'AWS::Lambda::EventSourceMapping');
  for (const [, mapping] of mappings) {
    const handler = handlerOfFunction(template, refOf(mapping.Properties?.FunctionName));
    if (handler && handler !== 'dlq') {
      batchSizes[handler] = Number(mapping.Properties?.BatchSize ?? 10);
      batchWindowsSeconds[handler] = Number(mapping.Properties?.MaximumBatchingWindowInSeconds ?? 0);
    }
  }
  const rule = ofType(template, 'AWS::XRay::SamplingRule')[0]?.[1].Properties?.SamplingRule as
    { ReservoirSize?: number; FixedRate?: number } | undefined;
  const kmsBuckets = ofType(template, 'AWS::S3::Bucket').filter(([, bucket]) => {
    const rules =
      (bucket.Properties?.BucketEncryption as { ServerSideEncryptionConfiguration?: unknown[] } | undefined)
        ?.ServerSideEncryptionConfiguration ?? [];
    return rules.some((entry) => {
      const { ServerSideEncryptionByDefault: byDefault, BucketKeyEnabled } = entry as {
        ServerSideEncryptionByDefault?: { SSEAlgorithm?: string };
        BucketKeyEnabled?: boolean;
      };
      return byDefault?.SSEAlgorithm === 'aws:kms' && BucketKeyEnabled !== true;
    });
  });

  const interfaceEndpoints = ofType(template, 'AWS::EC2::VPCEndpoint').filter(
    ([, endpoint]) => endpoint.Properties?.VpcEndpointType === 'Interface',
  );
  const webAcls = ofType(template, 'AWS::WAFv2::WebACL');
  const schedules = ofType(template, 'AWS::Scheduler::Schedule').map(([id, resource]) => {
    const props = resource.Properties ?? {};
    const rate = /^rate\((\d+) minutes?\)$/.exec(String(props.ScheduleExpression ?? ''));
    if (!rate?.[1]) throw new Error(`schedule ${id}: only rate(N minutes) is modelled`);
    const handler = handlerOfFunction(template, refOf((props.Target as { Arn?: unknown } | undefined)?.Arn));
    if (!handler) throw new Error(`schedule ${id}: its target is not a function of this app`);
    const target = functions.find((fn) => fn.handler === handler);
    return {
      handler,
      periodMinutes: Number(rate[1]),
      memoryMb: target?.memoryMb ?? 128,
      platformLines: target?.platformLines ?? true,
    };
  });

  return {
    schedules,
    functions,
    workflow: {
      type: machineProps.StateMachineType === 'EXPRESS' ? 'EXPRESS' : 'STANDARD',
      happyPath: path,
      lambdaTasks: resources.filter((state) => kind(state.Resource) === 'lambda').length,
      dynamodbTasks: resources.filter((state) => kind(state.Resource) === 'dynamodb').length,
      snsTasks: resources.filter((state) => kind(state.Resource) === 'sns').length,
      logLevel: logging?.Level ?? 'OFF',
      includeExecutionData: logging?.IncludeExecutionData === true,
    },
    batchSizes,
    batchWindowsSeconds,
    eventSourceMappings: mappings.length,
    queues: ofType(template, 'AWS::SQS::Queue').length,
    tables: ofType(template, 'AWS::DynamoDB::Table').length,
    topics: ofType(template, 'AWS::SNS::Topic').length,
    rotatedKmsKeys: ofType(template, 'AWS::KMS::Key').filter(
      ([, key]) => key.Properties?.EnableKeyRotation === true,
    ).length,
    kmsBucketsWithoutBucketKey: kmsBuckets.length,
    globalSecondaryIndexes: ofType(template, 'AWS::DynamoDB::Table').reduce(
      (n, [, table]) =>
        n + ((table.Properties?.GlobalSecondaryIndexes as unknown[] | undefined) ?? []).length,
      0,
    ),
    samplingRule: rule
      ? { reservoirPerSecond: Number(rule.ReservoirSize ?? 0), fixedRate: Number(rule.FixedRate ?? 0) }
      : undefined,
    interfaceEndpoints: interfaceEndpoints.length,
    endpointAzs: Math.max(
      1,
      ...interfaceEndpoints.map(
        ([, endpoint]) => ((endpoint.Properties?.SubnetIds as unknown[]) ?? []).length,
      ),
    ),
    loadBalancers: ofType(template, 'AWS::ElasticLoadBalancingV2::LoadBalancer').length,
    kmsKeys: ofType(template, 'AWS::KMS::Key').length,
    secrets: ofType(template, 'AWS::SecretsManager::Secret').length,
    alarms: ofType(template, 'AWS::CloudWatch::Alarm').length,
    dashboards: ofType(template, 'AWS::CloudWatch::Dashboard').length,
    webAcls: webAcls.length,
    wafRules: webAcls.reduce(
      (sum, [, acl]) => sum + ((acl.Properties?.Rules as unknown[] | undefined) ?? []).length,
      0,
    ),
    logRetentionDays: ofType(template, 'AWS::Logs::LogGroup').map(([, group]) =>
      Number(group.Properties?.RetentionInDays ?? 0),
    ),
  };
}
