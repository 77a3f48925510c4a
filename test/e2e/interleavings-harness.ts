/**
 * The pipeline that test/e2e/interleavings.test.ts steps through its interleavings: the product's
 * own DynamoDB- and S3-backed code (publisher core, repositories, billing ledger, order progress,
 * DLQ handler core) on one moto_server, and the workflow's real ASL, synthesized from the local
 * environment and run by aws-local-stepfunctions with its DynamoDB tasks sent to moto. What the
 * tests control: checkpoints that hold a call until released, SDK clients whose call succeeds but
 * fails for the caller (or never returns: the Lambda died), and a Step Functions client whose
 * StartExecution calls are scripted one by one. Nothing sleeps; no timing decides an outcome.
 */
import {
  CreateTableCommand,
  DynamoDBClient,
  PutItemCommand,
  UpdateItemCommand,
  type AttributeDefinition,
  type GlobalSecondaryIndex,
  type KeySchemaElement,
} from '@aws-sdk/client-dynamodb';
import {
  CreateBucketCommand,
  ListObjectVersionsCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import type {
  SFNClient,
  StartExecutionCommand,
  StartExecutionCommandOutput,
  StartExecutionInput,
} from '@aws-sdk/client-sfn';
import { DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { StateMachine, type RunOptions as EmulatorRunOptions } from 'aws-local-stepfunctions';
import { loadEnvironment, validateEnvironment, type EnvironmentConfig } from '../../environments';
import {
  archiveKey,
  archiveOrder,
  BODY_HASH_METADATA,
  S3OrderArchive,
} from '../../lambdas/archive/archive-order';
import { billOrder, DynamoBillingLedger, type BillingRecord } from '../../lambdas/billing/bill-order';
import { DynamoFailureLog, recordDeadLetter } from '../../lambdas/dlq/record-failure';
import { handleRequest } from '../../lambdas/publisher/app';
import { DynamoOrderRepository } from '../../lambdas/publisher/order-store';
import type { HttpRequest, HttpResponse } from '../../lambdas/shared/alb';
import { orderEventRecordHandler, type ConsumerRuntime } from '../../lambdas/shared/consumer';
import {
  DynamoOrderProgress,
  parseCompletionRules,
  type CompletionRule,
} from '../../lambdas/shared/order-status';
import {
  ENV,
  OPERATOR_REDRIVE,
  type OrderPlacedEvent,
  type SubmittedOrder,
  type ValidatedOrder,
  type ValidationResult,
  type WorkflowInput,
} from '../../lambdas/shared/runtime-contract';
import { StepFunctionsWorkflowStarter } from '../../lambdas/shared/workflow-starter';
import {
  NOW,
  orderPlacedBody,
  recordingMetrics,
  silentLogger,
  sqsRecord,
} from '../../lambdas/testing/fixtures';
import {
  orderFromWorkflowInput,
  parseMarketCurrencies,
  validateOrder,
  type BusinessRules,
} from '../../lambdas/validate/business-rules';
import { LOCAL_ACCOUNT_ID, LOCAL_REGION, localAwsConfig } from '../../scripts/local/aws-config';
import { TemplateSet } from '../../scripts/local/cfn-template';
import { startEmulator, type Emulator } from '../../scripts/local/moto-server';
import { synthesizeTemplates } from '../../scripts/local/synthesize';
import { archiveEntries, archiveObjects } from '../../scripts/stress/accounting';

/** The market billing's filter policy lets through; orders elsewhere need only `archived` (case 7). */
export const BILLED_MARKET = 'us';

/** The client every scenario signs as (lambdas/testing/fixtures.ts signs with secret-a). */
export const CLIENT_ID = 'client-a';
const CLIENT_SECRETS = new Map([[CLIENT_ID, ['secret-a']]]);
const ORDER_ID_KEY = 'order-id-key-for-interleavings-0123456789';

/** A promise that never settles: the call of a Lambda that died before it returned. */
export function never(): Promise<never> {
  return new Promise<never>(() => undefined);
}

/**
 * A point where the code under test stops until the test lets it go on. The code calls `pass()`;
 * the test awaits `reached`, does what the interleaving needs, then calls `release()`.
 */
export class Checkpoint {
  readonly reached: Promise<void>;
  private arrive: () => void = () => undefined;
  private go: () => void = () => undefined;
  private readonly released = new Promise<void>((resolve) => (this.go = resolve));

  constructor() {
    this.reached = new Promise<void>((resolve) => (this.arrive = resolve));
  }

  /** Called by the held code: says it got here, then waits for {@link release}. */
  async pass(): Promise<void> {
    this.arrive();
    await this.released;
  }

  release(): void {
    this.go();
  }
}

/** Resolves once `count` of the promises have settled, whichever they are. */
export function settled(promises: readonly Promise<unknown>[], count: number): Promise<void> {
  let done = 0;
  return new Promise((resolve) => {
    if (count === 0) resolve();
    for (const promise of promises) {
      void promise.then(
        () => ++done === count && resolve(),
        () => ++done === count && resolve(),
      );
    }
  });
}

/** An error of the kind the SDK raises when a reply is lost on the way back (the call did happen). */
export function lostReply(): Error {
  return Object.assign(new Error('socket hang up after the request was sent'), { name: 'TimeoutError' });
}

/** The error Lambda reports for a function that timed out (what a stuck validate gives the workflow). */
export function lambdaTimedOut(): Error {
  return Object.assign(new Error('Task timed out after 3.00 seconds'), { name: 'Sandbox.Timedout' });
}

/** How a test steps in on one SDK call: `send` makes the real call. */
export type Intercept = (command: unknown, send: () => Promise<unknown>) => Promise<unknown>;

/** The client with every `send` going through `intercept` (the product only calls `send`). */
export function intercepted<Client extends { send: (command: never) => Promise<unknown> }>(
  client: Client,
  intercept: Intercept,
): Client {
  return new Proxy(client, {
    get(target, property, receiver) {
      if (property !== 'send') return Reflect.get(target, property, receiver) as unknown;
      return (command: never) => intercept(command, () => target.send(command));
    },
  });
}

/** A clock the test moves; requests keep their signature time, so stay within the 300 s skew. */
export class TestClock {
  private current = NOW;
  now = (): Date => this.current;
  advance(ms: number): void {
    this.current = new Date(this.current.getTime() + ms);
  }
}

// ---------------------------------------------------------------------------------------------
// The workflow: the synthesized ASL, run in-process.

type TaskHandlers = NonNullable<NonNullable<EmulatorRunOptions['overrides']>['taskResourceLocalHandlers']>;
type JSONValue = Awaited<ReturnType<TaskHandlers[string]>>;

interface AslState {
  Type: string;
  Resource?: string;
  Retry?: unknown[];
}
interface AslDefinition {
  StartAt: string;
  States: Record<string, AslState>;
  TimeoutSeconds?: number;
}

/** How one run goes where the test decides it. */
export interface RunOptions {
  /** The Validate task; throw to fail the run. Default: the environment's business rules. */
  validate?: (order: SubmittedOrder) => ValidationResult;
  /** Task states held at a checkpoint until the test releases them (the emulator times a task out at 60 s). */
  pauseBefore?: Readonly<Record<string, Checkpoint>>;
  /** The execution dies (is aborted) on reaching this task, before the task runs. */
  dieBefore?: string;
}

/** How a run ended, and the states it entered, in order. */
export interface RunOutcome {
  status: 'SUCCEEDED' | 'FAILED' | 'DIED';
  states: string[];
}

/** One execution of the workflow. */
export interface WorkflowRun {
  name: string;
  input: WorkflowInput;
  /** The OrderPlaced events its PublishOrder task sent to the topic. */
  published: OrderPlacedEvent[];
  outcome: Promise<RunOutcome>;
}

/** Aborts one execution: the emulator's abort, and a promise the held tasks race against. */
class RunControl {
  isAborted = false;
  readonly aborted: Promise<void>;
  private signal: () => void = () => undefined;
  private emulatorAbort: () => void = () => undefined;

  constructor() {
    this.aborted = new Promise<void>((resolve) => (this.signal = resolve));
  }

  onAbort(abort: () => void): void {
    this.emulatorAbort = abort;
  }

  abort(): void {
    this.isAborted = true;
    this.signal();
    this.emulatorAbort();
  }
}

/** Task errors carry Step Functions' names (`DynamoDB.<Exception>`), so Retry and Catch match as on AWS. */
class TaskError extends Error {
  constructor(name: string, message: string) {
    super(message);
    this.name = name;
  }
}

/** Runs the synthesized state machine: DynamoDB tasks on moto, Validate in-process, PublishOrder recorded. */
export class LocalWorkflow {
  private readonly machine: StateMachine;
  /** The runs not ended yet, so the harness can end the ones a failed test left held. */
  private readonly running = new Set<RunControl>();

  constructor(
    private readonly definition: AslDefinition,
    private readonly dynamodb: DynamoDBClient,
    private readonly rules: BusinessRules,
    private readonly clock: () => Date,
  ) {
    this.machine = new StateMachine(definition as never, {
      validationOptions: { checkArn: false, checkPaths: false },
    });
  }

  /** A validator with some of the environment's rules changed (the rules of a later deployment). */
  validatorWith(change: Partial<BusinessRules>): (order: SubmittedOrder) => ValidationResult {
    return (order) => validateOrder(order, { ...this.rules, ...change });
  }

  start(input: WorkflowInput, name: string, options: RunOptions = {}): WorkflowRun {
    const published: OrderPlacedEvent[] = [];
    const control = new RunControl();
    const handlers: TaskHandlers = {};
    for (const [stateName, state] of Object.entries(this.definition.States)) {
      if (state.Type !== 'Task') continue;
      const task = this.task(stateName, state.Resource ?? '', options, published);
      handlers[stateName] = async (taskInput) => {
        if (options.dieBefore === stateName) {
          control.abort();
        } else {
          await Promise.race([options.pauseBefore?.[stateName]?.pass(), control.aborted]);
        }
        // An aborted execution runs no task. Returning (not hanging) stops the emulator's task
        // timer; its loop ends on the abort before entering another state.
        return control.isAborted ? {} : task(taskInput);
      };
    }
    const retryIntervalOverrides = Object.fromEntries(
      Object.entries(this.definition.States)
        .filter(([, state]) => state.Retry !== undefined)
        .map(([stateName]) => [stateName, 0]),
    );
    const clock = this.clock;
    const execution = this.machine.run(input as unknown as JSONValue, {
      overrides: { taskResourceLocalHandlers: handlers, retryIntervalOverrides },
      noThrowOnAbort: true,
      context: {
        Execution: { Id: `arn:aws:states:::execution:${name}`, Name: name },
        State: {
          get EnteredTime() {
            return clock().toISOString();
          },
          RetryCount: 0,
        },
      } as unknown as Record<string, unknown>,
    });
    control.onAbort(execution.abort);
    this.running.add(control);
    const states: string[] = [];
    const logged = (async () => {
      for await (const event of execution.eventLogs) {
        if (event.type === 'StateEntered') states.push(event.state.name);
      }
    })();
    const outcome = execution.result.then(
      async (): Promise<RunOutcome> => {
        await logged;
        return { status: control.isAborted ? 'DIED' : 'SUCCEEDED', states };
      },
      async (): Promise<RunOutcome> => {
        await logged;
        return { status: 'FAILED', states };
      },
    );
    void outcome.finally(() => this.running.delete(control));
    return { name, input, published, outcome };
  }

  /** Ends every run still held at a checkpoint (a failed test's), so nothing outlives the file. */
  abortAll(): void {
    for (const run of this.running) run.abort();
  }

  private task(
    stateName: string,
    resource: string,
    options: RunOptions,
    published: OrderPlacedEvent[],
  ): (input: JSONValue) => Promise<JSONValue> {
    const integration = /^arn:aws:states:::(\w+):(\w+)$/.exec(resource);
    if (integration?.[1] === 'dynamodb') {
      const action = integration[2];
      if (action !== 'updateItem' && action !== 'putItem') {
        throw new Error(`state ${stateName}: dynamodb:${action} is not emulated`);
      }
      return async (input) => {
        const command =
          action === 'updateItem'
            ? new UpdateItemCommand(input as never)
            : new PutItemCommand(input as never);
        try {
          await this.dynamodb.send(command as never);
          return {};
        } catch (error) {
          const sdkError = error as Error & { $metadata?: { httpStatusCode?: number } };
          const name = sdkError.$metadata?.httpStatusCode
            ? `DynamoDB.${sdkError.name}`
            : 'DynamoDB.SdkClientException';
          throw new TaskError(name, sdkError.message);
        }
      };
    }
    if (integration?.[1] === 'sns' && integration[2] === 'publish') {
      return async (input) => {
        published.push((input as unknown as { Message: OrderPlacedEvent }).Message);
        return { MessageId: `message-${published.length}` };
      };
    }
    if (integration) throw new Error(`state ${stateName}: ${resource} is not emulated`);
    // A bare function ARN: the Validate Lambda, whose payload is the state's input.
    return async (input) => {
      const validate = options.validate ?? ((order: SubmittedOrder) => validateOrder(order, this.rules));
      return validate(orderFromWorkflowInput(input)) as unknown as JSONValue;
    };
  }
}

// ---------------------------------------------------------------------------------------------
// StartExecution, scripted per call.

/** What one StartExecution call does; `start` starts the run it asks for (AWS accepted it). */
export type StartBehaviour = (start: (options?: RunOptions) => WorkflowRun) => Promise<void>;

/** AWS starts the run and the caller hears so. */
export const starts =
  (options?: RunOptions): StartBehaviour =>
  async (start) => {
    start(options);
  };

/** AWS refuses the call (throttled): no run. */
export const throttled = (): StartBehaviour => async () => {
  throw Object.assign(new Error('Rate exceeded'), {
    name: 'ThrottlingException',
    $metadata: { httpStatusCode: 400 },
  });
};

/** AWS starts the run but the reply is lost: the caller sees an error. */
export const startsButReplyLost =
  (options?: RunOptions): StartBehaviour =>
  async (start) => {
    start(options);
    throw lostReply();
  };

/** The call is held at `checkpoint` (a slow StartExecution), then behaves as `then`. */
export const heldAt =
  (checkpoint: Checkpoint, then: StartBehaviour): StartBehaviour =>
  async (start) => {
    await checkpoint.pass();
    await then(start);
  };

/** The publisher dies before the call leaves: no run, and the request never answers. */
export const publisherDies = (): StartBehaviour => () => never();

/** The Step Functions client the real {@link StepFunctionsWorkflowStarter} is given. */
export class FakeStepFunctions {
  /** Every StartExecution call the publisher made, whatever became of it. */
  readonly calls: StartExecutionInput[] = [];
  /** The runs AWS started. */
  readonly runs: WorkflowRun[] = [];
  private readonly script: StartBehaviour[] = [];

  constructor(
    private readonly workflow: LocalWorkflow,
    private readonly stateMachineArn: string,
  ) {}

  /** How the next calls go, in order; every call after them starts its run. */
  next(...behaviours: StartBehaviour[]): void {
    this.script.push(...behaviours);
  }

  async send(command: StartExecutionCommand): Promise<StartExecutionCommandOutput> {
    const { stateMachineArn, name = '', input = '{}' } = command.input;
    if (stateMachineArn !== this.stateMachineArn) throw new Error(`unknown state machine ${stateMachineArn}`);
    this.calls.push(command.input);
    const behaviour = this.script.shift() ?? starts();
    await behaviour((options) => {
      const run = this.workflow.start(JSON.parse(input) as WorkflowInput, name, options);
      this.runs.push(run);
      return run;
    });
    return { executionArn: `${stateMachineArn}:${name}`, startDate: new Date(), $metadata: {} };
  }

  asClient(): SFNClient {
    return this as unknown as SFNClient;
  }
}

// ---------------------------------------------------------------------------------------------
// The pipeline.

/** A fan-out consumer as the test drives it: one SQS record per call, as the batch processor does. */
export interface Consumer {
  /** Rejects as the record handler does, so SQS would retry the record. `operatorRedrive`: the redrive tool's message. */
  deliver(event: OrderPlacedEvent, options?: { operatorRedrive?: boolean }): Promise<void>;
  count(metric: string): number;
}

/** One test's publisher, Step Functions and consumers, on one clock. */
export class Scenario {
  readonly clock = new TestClock();
  readonly stepFunctions: FakeStepFunctions;
  private readonly publisherMetrics = recordingMetrics();

  constructor(private readonly pipeline: Pipeline) {
    this.stepFunctions = new FakeStepFunctions(pipeline.workflow, pipeline.stateMachineArn);
  }

  /** The publisher's core with the real orders repository and Step Functions starter. */
  send(request: HttpRequest): Promise<HttpResponse> {
    return handleRequest(request, {
      clientSecrets: async () => CLIENT_SECRETS,
      orderIdKey: async () => ORDER_ID_KEY,
      restartAfterMs: this.pipeline.restartAfterMs,
      orders: new DynamoOrderRepository(this.pipeline.dynamo, this.pipeline.tables.orders),
      workflow: new StepFunctionsWorkflowStarter(
        this.stepFunctions.asClient(),
        this.pipeline.stateMachineArn,
      ),
      now: this.clock.now,
      logger: silentLogger(),
      metrics: this.publisherMetrics.metrics,
    });
  }

  publisherCount(metric: string): number {
    return this.publisherMetrics.count(metric);
  }

  /** The billing consumer, with the stack's COMPLETION_RULES. */
  billing({ intercept }: { intercept?: Intercept } = {}): Consumer {
    const client = intercept ? intercepted(this.pipeline.dynamo, intercept) : this.pipeline.dynamo;
    const { tables, rules } = this.pipeline;
    return this.consumer((runtime) =>
      billOrder({
        ...runtime,
        ledger: new DynamoBillingLedger(client, tables.billing, { client, tableName: tables.orders }, rules),
      }),
    );
  }

  /** The archive consumer, with the stack's COMPLETION_RULES; `intercept` sees its table and bucket calls. */
  archive({ intercept }: { intercept?: Intercept } = {}): Consumer {
    const client = intercept ? intercepted(this.pipeline.dynamo, intercept) : this.pipeline.dynamo;
    const { tables, rules } = this.pipeline;
    const s3 = intercept ? intercepted(this.pipeline.s3, intercept) : this.pipeline.s3;
    return this.consumer((runtime) =>
      archiveOrder({
        ...runtime,
        archive: new S3OrderArchive(s3, tables.archiveBucket),
        progress: new DynamoOrderProgress({ client, tableName: tables.orders }, rules),
      }),
    );
  }

  /** The DLQ handler core, given an event that `queue` dead-lettered after its last receive. */
  async deadLetter(event: OrderPlacedEvent, queue: string): Promise<void> {
    const { dynamo, tables, rules } = this.pipeline;
    const handle = recordDeadLetter({
      failures: new DynamoFailureLog(dynamo, tables.failedOrders),
      progress: new DynamoOrderProgress({ client: dynamo, tableName: tables.orders }, rules),
      now: this.clock.now,
      logger: silentLogger(),
      metrics: recordingMetrics().metrics,
    });
    await handle(
      sqsRecord(orderPlacedBody(event.order), {
        messageId: `dead-${event.order.order_id}`,
        eventSourceARN: `arn:aws:sqs:${LOCAL_REGION}:${LOCAL_ACCOUNT_ID}:${queue}`,
        attributes: {
          ApproximateReceiveCount: '5',
          SentTimestamp: String(NOW.getTime()),
          SenderId: 'AIDAEXAMPLE',
          ApproximateFirstReceiveTimestamp: String(NOW.getTime()),
        },
      }),
    );
  }

  private consumer(
    processorFor: (runtime: ConsumerRuntime) => Parameters<typeof orderEventRecordHandler>[0],
  ) {
    const { metrics, count } = recordingMetrics();
    const runtime: ConsumerRuntime = {
      failureInjectionRate: 0,
      random: () => 1,
      now: this.clock.now,
      logger: silentLogger(),
      metrics,
    };
    const handle = orderEventRecordHandler(processorFor(runtime), runtime);
    return {
      deliver: (event: OrderPlacedEvent, { operatorRedrive = false } = {}) =>
        handle(
          sqsRecord(JSON.stringify(event), {
            messageAttributes: operatorRedrive
              ? {
                  [OPERATOR_REDRIVE.attribute]: {
                    dataType: 'String',
                    stringValue: OPERATOR_REDRIVE.value,
                    stringListValues: [],
                    binaryListValues: [],
                  },
                }
              : {},
          }),
        ),
      count,
    };
  }
}

/** The three tables and the archive bucket, by their local names. */
export interface PipelineTables {
  orders: string;
  billing: string;
  failedOrders: string;
  archiveBucket: string;
}

/** moto_server with the local environment's tables and bucket, and its synthesized workflow. */
export class Pipeline {
  readonly dynamo: DynamoDBDocumentClient;
  readonly s3: S3Client;
  readonly workflow: LocalWorkflow;

  constructor(
    private readonly emulator: Emulator,
    readonly tables: PipelineTables,
    /** COMPLETION_RULES of the billing function (billing filters on {@link BILLED_MARKET}). */
    readonly rules: readonly CompletionRule[],
    /** RESTART_AFTER_SECONDS of the publisher function, in ms. */
    readonly restartAfterMs: number,
    readonly stateMachineArn: string,
    definition: AslDefinition,
    businessRules: BusinessRules,
    /** FilterPolicy of every topic subscription that has one. */
    readonly filterPolicies: readonly unknown[],
  ) {
    const aws = localAwsConfig(emulator.endpoint);
    const dynamodb = new DynamoDBClient(aws);
    this.dynamo = DynamoDBDocumentClient.from(dynamodb);
    this.s3 = new S3Client({ ...aws, forcePathStyle: true });
    this.workflow = new LocalWorkflow(definition, dynamodb, businessRules, () => new Date());
  }

  scenario(): Scenario {
    return new Scenario(this);
  }

  /** The orders-table item (strongly consistent), or undefined. */
  async order(key: string): Promise<Record<string, unknown> | undefined> {
    return this.item(this.tables.orders, key);
  }

  async billingRecord(key: string): Promise<Record<string, unknown> | undefined> {
    return this.item(this.tables.billing, key);
  }

  async failedOrderRows(key: string): Promise<Array<Record<string, unknown>>> {
    const result = await this.dynamo.send(
      new QueryCommand({
        TableName: this.tables.failedOrders,
        KeyConditionExpression: 'order_key = :key',
        ExpressionAttributeValues: { ':key': key },
        ConsistentRead: true,
      }),
    );
    return result.Items ?? [];
  }

  /** A billing record left by something else than this order's body (an earlier life of the id). */
  async putBillingRecord(record: BillingRecord): Promise<void> {
    await this.dynamo.send(new PutCommand({ TableName: this.tables.billing, Item: { ...record } }));
  }

  /** An archive object at the order's key, written for `bodyHash`. */
  async putArchiveObject(order: ValidatedOrder, bodyHash: string): Promise<void> {
    await this.s3.send(
      new PutObjectCommand({
        Bucket: this.tables.archiveBucket,
        Key: archiveKey(order),
        Body: JSON.stringify({ ...order, body_hash: bodyHash }),
        Metadata: { [BODY_HASH_METADATA]: bodyHash },
      }),
    );
  }

  /**
   * The order's archive objects as the stress accounting counts them (archiveObjects): 0 when none
   * is current (never written, or taken back under a delete marker); above 1, an overwrite (the
   * bucket is versioned).
   */
  async archiveObjects(order: ValidatedOrder): Promise<number> {
    const key = archiveKey(order);
    const result = await this.s3.send(
      new ListObjectVersionsCommand({ Bucket: this.tables.archiveBucket, Prefix: key }),
    );
    return archiveObjects(archiveEntries(result, (listed) => (listed === key ? order.order_id : undefined)));
  }

  async stop(): Promise<void> {
    this.workflow.abortAll();
    await this.emulator.stop();
  }

  private async item(tableName: string, key: string): Promise<Record<string, unknown> | undefined> {
    const result = await this.dynamo.send(
      new GetCommand({ TableName: tableName, Key: { order_key: key }, ConsistentRead: true }),
    );
    return result.Item;
  }
}

/** The local environment, with billing's subscription filtered to {@link BILLED_MARKET} (case 7). */
function environment(): EnvironmentConfig {
  const local = loadEnvironment('local');
  return validateEnvironment({
    ...local,
    consumers: Object.fromEntries(
      Object.entries(local.consumers).map(([name, settings]) => [
        name,
        name === 'billing' ? { ...settings, filterPolicy: { market: [BILLED_MARKET] } } : settings,
      ]),
    ),
  });
}

/** The resolved environment variables of the one function whose (unresolved) variables match. */
function functionVariables(
  templates: TemplateSet,
  matches: (variables: Record<string, unknown>) => boolean,
): Record<string, string> {
  const found = templates.resourcesOfType('AWS::Lambda::Function').filter((ref) => {
    const variables = (ref.resource.Properties?.Environment as { Variables?: Record<string, unknown> })
      ?.Variables;
    return variables !== undefined && matches(variables);
  });
  const [ref] = found;
  if (ref === undefined || found.length > 1)
    throw new Error(`expected one matching function, found ${found.length}`);
  const environmentProps = ref.resource.Properties?.Environment as { Variables: Record<string, unknown> };
  return templates.resolve(ref.stack, environmentProps.Variables) as Record<string, string>;
}

function required(variables: Record<string, string>, name: string): string {
  const value = variables[name];
  if (value === undefined) throw new Error(`the function has no ${name}`);
  return value;
}

/**
 * Synthesizes the local environment (no bundling), starts moto_server and creates the template's
 * tables (key schemas and index as synthesized) and buckets (versioned as synthesized) on it.
 */
export async function startPipeline(): Promise<Pipeline> {
  const templates = new TemplateSet(await synthesizeTemplates(environment()), {
    region: LOCAL_REGION,
    accountId: LOCAL_ACCOUNT_ID,
  });
  const emulator = await startEmulator();
  try {
    const aws = localAwsConfig(emulator.endpoint);
    const dynamodb = new DynamoDBClient(aws);
    const s3 = new S3Client({ ...aws, forcePathStyle: true });
    for (const ref of templates.resourcesOfType('AWS::DynamoDB::Table')) {
      const name = `interleavings-${ref.logicalId}`;
      const props = templates.resolve(ref.stack, ref.resource.Properties ?? {}) as {
        KeySchema: KeySchemaElement[];
        AttributeDefinitions: AttributeDefinition[];
        GlobalSecondaryIndexes?: GlobalSecondaryIndex[];
      };
      await dynamodb.send(
        new CreateTableCommand({
          TableName: name,
          KeySchema: props.KeySchema,
          AttributeDefinitions: props.AttributeDefinitions,
          GlobalSecondaryIndexes: props.GlobalSecondaryIndexes?.map(
            ({ IndexName, KeySchema, Projection }) => ({
              IndexName,
              KeySchema,
              Projection,
            }),
          ),
          BillingMode: 'PAY_PER_REQUEST',
        }),
      );
      templates.register(ref.stack, ref.logicalId, {
        ref: name,
        attributes: { Arn: `arn:aws:dynamodb:${LOCAL_REGION}:${LOCAL_ACCOUNT_ID}:table/${name}` },
      });
    }
    for (const ref of templates.resourcesOfType('AWS::S3::Bucket')) {
      const name = `interleavings-${ref.logicalId.toLowerCase()}`;
      await s3.send(new CreateBucketCommand({ Bucket: name }));
      const versioning = ref.resource.Properties?.VersioningConfiguration as { Status?: string } | undefined;
      if (versioning?.Status === 'Enabled') {
        await s3.send(
          new PutBucketVersioningCommand({ Bucket: name, VersioningConfiguration: { Status: 'Enabled' } }),
        );
      }
      templates.register(ref.stack, ref.logicalId, {
        ref: name,
        attributes: { Arn: `arn:aws:s3:::${name}` },
      });
    }

    const billing = functionVariables(templates, (variables) => variables[ENV.consumerName] === 'billing');
    const archive = functionVariables(templates, (variables) => variables[ENV.consumerName] === 'archive');
    // Both consumers get one COMPLETION_RULES from the stack; the harness gives both the same.
    if (billing[ENV.completionRules] !== archive[ENV.completionRules]) {
      throw new Error('billing and archive have different COMPLETION_RULES');
    }
    const publisher = functionVariables(templates, (variables) => ENV.restartAfterSeconds in variables);
    const validate = functionVariables(templates, (variables) => ENV.orderTotalLimit in variables);
    const dlq = functionVariables(
      templates,
      (variables) => ENV.failedOrdersTable in variables && !(ENV.stateMachineArn in variables),
    );

    const [machine, ...others] = templates.resourcesOfType('AWS::StepFunctions::StateMachine');
    if (machine === undefined || others.length > 0) throw new Error('expected one state machine');
    const props = machine.resource.Properties ?? {};
    let text = templates.resolveString(machine.stack, props.DefinitionString);
    const substitutions = templates.resolve(machine.stack, props.DefinitionSubstitutions ?? {}) as Record<
      string,
      unknown
    >;
    for (const [key, value] of Object.entries(substitutions))
      text = text.split(`\${${key}}`).join(String(value));
    // The emulator enforces TimeoutSeconds with a wall-clock timer that a run the test kills
    // would keep alive; these runs end when the test says, so the timeout plays no part.
    const { TimeoutSeconds: _timeout, ...definition } = JSON.parse(text) as AslDefinition;

    const filterPolicies = templates
      .resourcesOfType('AWS::SNS::Subscription')
      .map((ref) => ref.resource.Properties?.FilterPolicy)
      .filter((policy) => policy !== undefined);

    return new Pipeline(
      emulator,
      {
        orders: required(billing, ENV.ordersTable),
        billing: required(billing, ENV.billingTable),
        failedOrders: required(dlq, ENV.failedOrdersTable),
        archiveBucket: required(archive, ENV.archiveBucket),
      },
      parseCompletionRules(required(billing, ENV.completionRules)),
      Number(required(publisher, ENV.restartAfterSeconds)) * 1000,
      required(publisher, ENV.stateMachineArn),
      definition,
      {
        orderTotalLimit: Number(required(validate, ENV.orderTotalLimit)),
        marketCurrencies: parseMarketCurrencies(JSON.parse(required(validate, ENV.marketCurrencies))),
      },
      filterPolicies,
    );
  } catch (error) {
    await emulator.stop();
    throw error;
  }
}
