import '../local/node22-polyfill';
import { StateMachine } from 'aws-local-stepfunctions';
import type { EnvironmentConfig } from '../../environments';
import { executionName } from '../../lambdas/shared/workflow-starter';
import type { SubmittedOrder, WorkflowInput } from '../../lambdas/shared/runtime-contract';
import { orderFromWorkflowInput, validateOrder } from '../../lambdas/validate/business-rules';
import type { CfnTemplate } from '../../infra/stacks/synthesize';

/** Step Functions' log levels (LoggingConfiguration.Level). */
export type WorkflowLogLevel = 'ALL' | 'ERROR' | 'FATAL' | 'OFF';

/**
 * History event types each level writes to CloudWatch Logs: ALL writes every type, ERROR the
 * failures below, FATAL only the end of a failed execution.
 * https://docs.aws.amazon.com/step-functions/latest/dg/cloudwatch-log-level.html
 */
export const ERROR_EVENT_TYPES: readonly string[] = [
  'ExecutionAborted',
  'ExecutionFailed',
  'ExecutionTimedOut',
  'FailStateEntered',
  'LambdaFunctionFailed',
  'LambdaFunctionScheduleFailed',
  'LambdaFunctionStartFailed',
  'LambdaFunctionTimedOut',
  'MapStateAborted',
  'MapStateFailed',
  'MapIterationAborted',
  'MapIterationFailed',
  'ParallelStateAborted',
  'ParallelStateFailed',
  'TaskFailed',
  'TaskStartFailed',
  'TaskStateAborted',
  'TaskSubmitFailed',
  'TaskTimedOut',
  'WaitStateAborted',
];
const FATAL_EVENT_TYPES: readonly string[] = ['ExecutionAborted', 'ExecutionFailed', 'ExecutionTimedOut'];

/** What CloudWatch Logs bills per log event on top of its message (PutLogEvents counts it too). */
export const CLOUDWATCH_EVENT_OVERHEAD_BYTES = 26;

/** One history event as Step Functions writes it to the log group (JSON, one event per line). */
export interface WorkflowLogEvent {
  id: string;
  type: string;
  details: Record<string, unknown>;
  previous_event_id: string;
  event_timestamp: string;
  execution_arn: string;
  redrive_count: string;
}

/** Which run: a valid order, one the business rules reject, or one whose validation fails (an error). */
export type WorkflowPath = 'valid' | 'rejected' | 'failed';

/** The log events one execution writes at a level, and what CloudWatch Logs bills for them. */
export interface WorkflowLogRun {
  path: WorkflowPath;
  level: WorkflowLogLevel;
  includeExecutionData: boolean;
  /** Every history event of the run (what ALL with data would write), in order. */
  historyEvents: number;
  /** The events written at `level`. */
  events: WorkflowLogEvent[];
  /** Billed bytes: each message plus {@link CLOUDWATCH_EVENT_OVERHEAD_BYTES}. */
  billedBytes: number;
}

/** Whether `level` writes an event of `type`. */
export function levelWrites(level: WorkflowLogLevel, type: string): boolean {
  if (level === 'ALL') return true;
  if (level === 'ERROR') return ERROR_EVENT_TYPES.includes(type);
  if (level === 'FATAL') return FATAL_EVENT_TYPES.includes(type);
  return false;
}

/** Step Functions' DynamoDB and SNS integrations return the SDK's HTTP metadata with every result. */
const sdkMetadata = (service: 'dynamodb' | 'sns', requestId: string) => ({
  SdkHttpMetadata: {
    AllHttpHeaders: {
      Server: [service === 'dynamodb' ? 'Server' : 'Server'],
      Connection: ['keep-alive'],
      'x-amzn-RequestId': [requestId],
      ...(service === 'dynamodb' ? { 'x-amz-crc32': ['2745614147'] } : {}),
      'Content-Length': [service === 'dynamodb' ? '2' : '294'],
      Date: ['Tue, 01 Dec 2026 22:00:00 GMT'],
      'Content-Type': [service === 'dynamodb' ? 'application/x-amz-json-1.0' : 'text/xml'],
    },
    HttpHeaders: {
      Connection: 'keep-alive',
      'Content-Length': service === 'dynamodb' ? '2' : '294',
      'Content-Type': service === 'dynamodb' ? 'application/x-amz-json-1.0' : 'text/xml',
      Date: 'Tue, 01 Dec 2026 22:00:00 GMT',
      Server: 'Server',
      ...(service === 'dynamodb' ? { 'x-amz-crc32': '2745614147' } : {}),
      'x-amzn-RequestId': requestId,
    },
    HttpStatusCode: 200,
  },
  SdkResponseMetadata: { RequestId: requestId },
});

type Json = ReturnType<typeof JSON.parse>;
type AslState = { Type: string; Resource?: string; ItemProcessor?: AslDefinition; Iterator?: AslDefinition };
interface AslDefinition {
  StartAt: string;
  States: Record<string, AslState>;
}

type TaskKind = 'lambda' | 'dynamodb' | 'sns';
const kindOf = (resource = ''): TaskKind =>
  resource.includes(':::dynamodb:') ? 'dynamodb' : resource.includes(':::sns:') ? 'sns' : 'lambda';
/** Optimized integrations (`arn:aws:states:::service:action`) log Task* events; a bare function ARN logs LambdaFunction* events. */
const isIntegration = (resource = '') => resource.includes(':states:::');

function statesOf(definition: AslDefinition): Record<string, AslState> {
  const all: Record<string, AslState> = {};
  for (const [name, state] of Object.entries(definition.States)) {
    all[name] = state;
    const nested = state.ItemProcessor ?? state.Iterator;
    if (nested) Object.assign(all, statesOf(nested));
  }
  return all;
}

const REGION_ACCOUNT = { region: 'eu-west-1', account: '123456789012' };

/** An order as the publisher submits it (the body of examples/order.json plus the ids it adds). */
export function sampleOrder(overrides: Partial<SubmittedOrder> = {}): SubmittedOrder {
  return {
    order_id: 'ord_01JDX3Q8ZB7K2M4N6P8R0T2V4W',
    client_id: 'client-prod-1',
    customer_id: 'cust-1',
    market: 'us',
    currency: 'USD',
    items: [{ product_id: 'sku-1', quantity: 2, unit_price: 1999 }],
    created_at: '2026-12-01T22:00:00.000Z',
    body_hash: '5d41402abc4b2a76b9719d911017c592a1f2b6c1c6e8b1d3f4a5b6c7d8e9f0a1',
    ...overrides,
  };
}

/**
 * Runs the environment's synthesized state machine (the real ASL, in aws-local-stepfunctions)
 * for one order and turns its history into the log events Step Functions would write at `level`:
 * the Validate task runs the real business rules; DynamoDB and SNS tasks answer as those
 * integrations do (empty result plus the SDK's HTTP metadata, a MessageId for SNS).
 */
export async function measureWorkflowLogs(
  template: CfnTemplate,
  config: Pick<EnvironmentConfig, 'orderTotalLimit' | 'marketCurrencies'>,
  options: { level: WorkflowLogLevel; includeExecutionData: boolean; path: WorkflowPath },
): Promise<WorkflowLogRun> {
  const machine = Object.entries(template.Resources).find(
    ([, resource]) => resource.Type === 'AWS::StepFunctions::StateMachine',
  );
  if (!machine) throw new Error('the template has no state machine');
  const [logicalId, resource] = machine;
  const definition = JSON.parse(
    resolvedDefinition(template, resource.Properties?.DefinitionString),
  ) as AslDefinition;
  const states = statesOf(definition);
  const rules = { orderTotalLimit: config.orderTotalLimit, marketCurrencies: config.marketCurrencies };

  const parameters = new Map<string, Json[]>();
  let requests = 0;
  const handlers: Record<string, (input: Json) => Promise<Json>> = {};
  for (const [name, state] of Object.entries(states)) {
    if (state.Type !== 'Task') continue;
    const kind = kindOf(state.Resource);
    handlers[name] = async (input) => {
      parameters.set(name, [...(parameters.get(name) ?? []), input]);
      requests += 1;
      const requestId = `${String(requests).padStart(4, '0')}V6KQ8A2RS0C4OFB9QF7B6UJEVVV4KQNSO5AEMVJF66Q9ASUAAJG`;
      if (kind === 'lambda') {
        if (options.path === 'failed')
          throw Object.assign(new Error('validation crashed'), { name: 'Error' });
        const event = (input as { Payload?: unknown }).Payload ?? input;
        return validateOrder(orderFromWorkflowInput(event), rules) as Json;
      }
      if (kind === 'sns')
        return { MessageId: '95df01b4-ee98-5cb9-9903-4c221d41eb5e', ...sdkMetadata('sns', requestId) };
      return sdkMetadata('dynamodb', requestId);
    };
  }

  const order =
    options.path === 'valid'
      ? sampleOrder()
      : sampleOrder({
          items: [{ product_id: 'sku-1', quantity: 1, unit_price: config.orderTotalLimit + 1 }],
        });
  const input: WorkflowInput = { order };
  const name = executionName(order.client_id, order.order_id);
  const stateMachineName = `${logicalId}-Xq3Jm9dLr2Ab`;
  const executionArn = `arn:aws:states:${REGION_ACCOUNT.region}:${REGION_ACCOUNT.account}:express:${stateMachineName}:${name}:0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0`;
  const run = new StateMachine(definition as never, {
    validationOptions: { checkArn: false, checkPaths: false },
  }).run(input as never, {
    overrides: { taskResourceLocalHandlers: handlers as never },
    context: {
      Execution: { Id: executionArn, Name: name, Input: input, StartTime: '2026-12-01T22:00:00.000Z' },
      StateMachine: { Id: executionArn, Name: stateMachineName },
      State: { EnteredTime: '2026-12-01T22:00:00.123Z', RetryCount: 0 },
    } as never,
  });
  await run.result.catch(() => undefined);
  const raw: Array<Record<string, Json>> = [];
  for await (const event of run.eventLogs) raw.push(event as unknown as Record<string, Json>);

  const history = toHistory(raw, states, parameters, executionArn);
  const events = history
    .filter((event) => levelWrites(options.level, event.type))
    .map((event) => (options.includeExecutionData ? event : withoutData(event)));
  return {
    path: options.path,
    level: options.level,
    includeExecutionData: options.includeExecutionData,
    historyEvents: history.length,
    events,
    billedBytes: events.reduce(
      (total, event) => total + Buffer.byteLength(JSON.stringify(event)) + CLOUDWATCH_EVENT_OVERHEAD_BYTES,
      0,
    ),
  };
}

/**
 * The DefinitionString with its tokens replaced by names of the length CloudFormation gives
 * them (`<stack>-<logicalId>-<12 chars>`, ARNs around them), since names appear in each task's
 * parameters and so in the logs.
 */
function resolvedDefinition(template: CfnTemplate, definition: unknown): string {
  if (typeof definition === 'string') return definition;
  const join = (definition as { 'Fn::Join'?: [string, unknown[]] })['Fn::Join'];
  if (!join) throw new Error('unsupported DefinitionString');
  const { region, account } = REGION_ACCOUNT;
  const physical = (logicalId: string) => `OrderPipeline-prod-${logicalId.slice(0, 40)}-1A2B3C4D5E6F`;
  const arnOf = (logicalId: string) => {
    const type = template.Resources[logicalId]?.Type ?? '';
    if (type.startsWith('AWS::Lambda::'))
      return `arn:aws:lambda:${region}:${account}:function:${physical(logicalId)}`;
    if (type === 'AWS::DynamoDB::Table')
      return `arn:aws:dynamodb:${region}:${account}:table/${physical(logicalId)}`;
    if (type === 'AWS::SNS::Topic') return `arn:aws:sns:${region}:${account}:${physical(logicalId)}`;
    return `arn:aws:${region}:${account}:${physical(logicalId)}`;
  };
  const token = (part: Record<string, unknown>): string => {
    if (typeof part.Ref === 'string') {
      if (part.Ref === 'AWS::Partition') return 'aws';
      if (part.Ref === 'AWS::Region') return region;
      if (part.Ref === 'AWS::AccountId') return account;
      if (part.Ref === 'AWS::URLSuffix') return 'amazonaws.com';
      const type = template.Resources[part.Ref]?.Type ?? '';
      return type === 'AWS::SNS::Topic' || type.startsWith('AWS::Lambda::')
        ? arnOf(part.Ref)
        : physical(part.Ref);
    }
    const getAtt = part['Fn::GetAtt'];
    if (Array.isArray(getAtt) && typeof getAtt[0] === 'string') return arnOf(getAtt[0]);
    throw new Error(`unsupported token in the definition: ${JSON.stringify(part)}`);
  };
  return join[1]
    .map((part) => (typeof part === 'string' ? part : token(part as Record<string, unknown>)))
    .join(join[0]);
}

/** Execution data: the inputs, outputs and task parameters; with includeExecutionData false they are left out. */
const DATA_FIELDS = ['input', 'output', 'parameters'];
function withoutData(event: WorkflowLogEvent): WorkflowLogEvent {
  return {
    ...event,
    details: Object.fromEntries(Object.entries(event.details).filter(([key]) => !DATA_FIELDS.includes(key))),
  };
}

/** The library's state events as Step Functions history events (the types CloudWatch Logs receives). */
function toHistory(
  raw: Array<Record<string, Json>>,
  states: Record<string, AslState>,
  parameters: Map<string, Json[]>,
  executionArn: string,
): WorkflowLogEvent[] {
  const history: WorkflowLogEvent[] = [];
  let clock = Date.parse('2026-12-01T22:00:00.000Z');
  const used = new Map<string, number>();
  const push = (type: string, details: Record<string, unknown>) => {
    clock += 7;
    history.push({
      id: String(history.length + 1),
      type,
      details,
      previous_event_id: String(history.length),
      event_timestamp: String(clock),
      execution_arn: executionArn,
      redrive_count: '0',
    });
  };
  const data = (key: 'input' | 'output', value: unknown) => ({
    [key]: JSON.stringify(value),
    [`${key}Details`]: { truncated: false },
  });
  for (const event of raw) {
    const state = event.state as { name: string; type: string; input: unknown; output?: unknown } | undefined;
    const aslState = state ? states[state.name] : undefined;
    const resource = aslState?.Resource ?? '';
    const kind = kindOf(resource);
    const integration = isIntegration(resource);
    const taskEvent = (suffix: string) => (integration ? `Task${suffix}` : `LambdaFunction${suffix}`);
    const taskIds = integration
      ? { resourceType: kind, resource: resource.replace(/^.*:::[a-z]+:/, '') }
      : { resource: '${validate function ARN}' };
    switch (event.type) {
      case 'ExecutionStarted':
        push('ExecutionStarted', {
          ...data('input', event.input),
          roleArn: `arn:aws:iam::${REGION_ACCOUNT.account}:role/OrderPipeline-prod-WorkflowStateMachineRole-AbCdEf123456`,
        });
        break;
      case 'ExecutionSucceeded':
        push('ExecutionSucceeded', data('output', event.output));
        break;
      case 'ExecutionFailed':
        push('ExecutionFailed', { error: event.Error, cause: String(event.Cause ?? '') });
        break;
      case 'StateEntered': {
        if (!state) break;
        push(`${state.type}StateEntered`, { name: state.name, ...data('input', state.input) });
        if (state.type === 'Task') {
          const n = used.get(state.name) ?? 0;
          used.set(state.name, n + 1);
          const params = parameters.get(state.name)?.[n] ?? state.input;
          if (integration) {
            push('TaskScheduled', {
              ...taskIds,
              region: REGION_ACCOUNT.region,
              parameters: JSON.stringify(params),
            });
            push('TaskStarted', taskIds);
          } else {
            push('LambdaFunctionScheduled', { ...taskIds, ...data('input', params) });
            push('LambdaFunctionStarted', {});
          }
        }
        if (state.type === 'Map') push('MapStateStarted', { length: 0 });
        break;
      }
      case 'StateExited':
        if (!state) break;
        if (state.type === 'Task')
          push(taskEvent('Succeeded'), { ...taskIds, ...data('output', state.output) });
        if (state.type === 'Map') push('MapStateSucceeded', {});
        push(`${state.type}StateExited`, { name: state.name, ...data('output', state.output) });
        break;
      // The library reports a caught failure as StateFailed, then StateCaught: the history has
      // one failure event, then the state's exit towards the catcher.
      case 'StateRetried':
      case 'StateFailed':
        if (state?.type === 'Task')
          push(taskEvent('Failed'), { ...taskIds, error: 'States.TaskFailed', cause: '' });
        break;
      case 'StateCaught':
        if (state) push(`${state.type}StateExited`, { name: state.name, ...data('output', state.input) });
        break;
      case 'MapIterationStarted':
      case 'MapIterationSucceeded':
      case 'MapIterationFailed':
        push(String(event.type), { name: (event.parentState as { name: string }).name, index: event.index });
        break;
      default:
        break;
    }
  }
  return history;
}
