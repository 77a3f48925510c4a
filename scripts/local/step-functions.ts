import './node22-polyfill';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  DynamoDBClient,
  DeleteItemCommand,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { StateMachine, type RunOptions } from 'aws-local-stepfunctions';
import type { AwsClientConfig } from './aws-config';
import { FunctionError, type LocalFunction } from './lambda-runtime';

/** A state machine of the template, with its resolved definition. */
export interface LocalStateMachineSpec {
  arn: string;
  name: string;
  type: 'STANDARD' | 'EXPRESS';
  definition: AslDefinition;
}

interface AslState {
  Type: string;
  Resource?: string;
  Parameters?: Record<string, unknown>;
  Branches?: AslDefinition[];
  ItemProcessor?: AslDefinition;
  Iterator?: AslDefinition;
}

export interface AslDefinition {
  StartAt: string;
  States: Record<string, AslState>;
}

/** One finished or running execution, as DescribeExecution reports it. */
export interface ExecutionRecord {
  executionArn: string;
  stateMachineArn: string;
  name: string;
  input: string;
  status: 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT';
  startDate: Date;
  stopDate?: Date;
  output?: string;
  error?: string;
  cause?: string;
}

/** Sees executions start and end; set by the local CloudWatch. */
export interface ExecutionObserver {
  started(record: ExecutionRecord): void;
  finished(record: ExecutionRecord): void;
}

/** An error raised by a service integration, named as Step Functions names it (`DynamoDB.X`). */
class ServiceIntegrationError extends Error {
  constructor(name: string, message: string) {
    super(message);
    this.name = name;
  }
}

type TaskHandlers = NonNullable<NonNullable<RunOptions['overrides']>['taskResourceLocalHandlers']>;
type JSONValue = Awaited<ReturnType<TaskHandlers[string]>>;
type TaskHandler = (input: JSONValue) => Promise<JSONValue>;

/**
 * Runs the synthesized state machine in-process with aws-local-stepfunctions: Lambda tasks call
 * the local functions, DynamoDB and SNS integrations call the SDK against the emulator, and SDK
 * failures carry Step Functions' error names so that Retry and Catch behave as on AWS.
 */
export class LocalStepFunctions {
  private readonly machines = new Map<string, { spec: LocalStateMachineSpec; machine: StateMachine }>();
  private readonly executions = new Map<string, ExecutionRecord>();
  private readonly running = new Set<Promise<void>>();
  private readonly dynamodb: DynamoDBClient;
  private readonly sns: SNSClient;
  private server: Server | undefined;
  /** Sees executions start and end; set by the local CloudWatch. */
  observer: ExecutionObserver | undefined;

  constructor(
    specs: LocalStateMachineSpec[],
    private readonly functionsByArn: Map<string, LocalFunction>,
    aws: AwsClientConfig,
    private readonly onExecutionFailed: (record: ExecutionRecord) => void = () => undefined,
    /** Told of each Lambda task's invocation (the call recorder). */
    private readonly onInvoke: (functionArnOrName: string) => void = () => undefined,
  ) {
    this.dynamodb = new DynamoDBClient(aws);
    this.sns = new SNSClient(aws);
    for (const spec of specs) {
      const machine = new StateMachine(
        spec.definition as unknown as ConstructorParameters<typeof StateMachine>[0],
        {
          validationOptions: { checkArn: false, checkPaths: false },
        },
      );
      this.machines.set(spec.arn, { spec, machine });
    }
  }

  /** Starts an execution; STANDARD machines deduplicate by name as AWS does, EXPRESS do not. */
  startExecution(stateMachineArn: string, name: string, input: string): ExecutionRecord {
    const entry = this.machines.get(stateMachineArn);
    if (!entry)
      throw new ApiError(
        400,
        'StateMachineDoesNotExist',
        `State Machine Does Not Exist: '${stateMachineArn}'`,
      );
    const { spec, machine } = entry;
    const executionArn = `${stateMachineArn.replace(':stateMachine:', spec.type === 'EXPRESS' ? ':express:' : ':execution:')}:${name}${spec.type === 'EXPRESS' ? `:${crypto.randomUUID()}` : ''}`;
    const existing = this.executions.get(executionArn);
    if (existing) {
      // AWS answers a repeated StartExecution idempotently only while that execution runs.
      if (existing.input === input && existing.status === 'RUNNING') return existing;
      throw new ApiError(400, 'ExecutionAlreadyExists', `Execution Already Exists: '${executionArn}'`);
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(input);
    } catch {
      throw new ApiError(400, 'InvalidExecutionInput', 'Invalid State Machine Execution Input');
    }
    const record: ExecutionRecord = {
      executionArn,
      stateMachineArn,
      name,
      input,
      status: 'RUNNING',
      startDate: new Date(),
    };
    this.executions.set(executionArn, record);
    this.observer?.started(record);
    const execution = machine.run(parsed as JSONValue, {
      overrides: { taskResourceLocalHandlers: this.taskHandlers(spec.definition) },
      context: {
        Execution: { Id: executionArn, Name: name, Input: parsed, StartTime: record.startDate.toISOString() },
        StateMachine: { Id: stateMachineArn, Name: spec.name },
        // aws-local-stepfunctions keeps no per-state context; a getter gives each state the
        // time it reads it, which is when the state runs.
        State: {
          get EnteredTime() {
            return new Date().toISOString();
          },
          RetryCount: 0,
        },
      } as unknown as Record<string, unknown>,
    });
    const done = execution.result
      .then((output) => {
        record.status = 'SUCCEEDED';
        record.output = JSON.stringify(output);
      })
      .catch((error: Error) => {
        // Past the definition's TimeoutSeconds the library stops the run; AWS reports that as
        // TIMED_OUT with the error States.Timeout (and counts ExecutionsTimedOut, not Failed).
        const timedOut = error.name === 'ExecutionTimeoutError';
        record.status = timedOut ? 'TIMED_OUT' : 'FAILED';
        record.error = timedOut ? 'States.Timeout' : error.name;
        record.cause = error.message;
        this.onExecutionFailed(record);
      })
      .finally(() => {
        record.stopDate = new Date();
        this.running.delete(done);
        this.observer?.finished(record);
      });
    this.running.add(done);
    return record;
  }

  describeExecution(executionArn: string): ExecutionRecord | undefined {
    return this.executions.get(executionArn);
  }

  /** Executions still running. */
  get inFlight(): number {
    return this.running.size;
  }

  /** Waits for running executions to finish. */
  async drain(): Promise<void> {
    await Promise.allSettled([...this.running]);
  }

  /**
   * Serves the part of the Step Functions API the handlers call (StartExecution,
   * DescribeExecution) on a loopback port, for `AWS_ENDPOINT_URL_SFN`.
   */
  async listen(): Promise<string> {
    this.server = createServer((request, response) => {
      void readBody(request).then((body) => {
        const target = String(request.headers['x-amz-target'] ?? '').replace('AWSStepFunctions.', '');
        const reply = (status: number, payload: unknown) => {
          response.writeHead(status, { 'content-type': 'application/x-amz-json-1.0' });
          response.end(JSON.stringify(payload));
        };
        try {
          const params = JSON.parse(body || '{}') as Record<string, string>;
          if (target === 'StartExecution') {
            const record = this.startExecution(
              params.stateMachineArn ?? '',
              params.name ?? crypto.randomUUID(),
              params.input ?? '{}',
            );
            reply(200, { executionArn: record.executionArn, startDate: record.startDate.getTime() / 1000 });
          } else if (target === 'DescribeExecution') {
            const record = this.describeExecution(params.executionArn ?? '');
            if (!record) throw new ApiError(400, 'ExecutionDoesNotExist', 'Execution Does Not Exist');
            reply(200, {
              ...record,
              startDate: record.startDate.getTime() / 1000,
              stopDate: record.stopDate ? record.stopDate.getTime() / 1000 : undefined,
            });
          } else {
            throw new ApiError(
              400,
              'UnknownOperationException',
              `${target} is not served by the local stack`,
            );
          }
        } catch (error) {
          if (error instanceof ApiError) reply(error.status, { __type: error.code, message: error.message });
          else reply(500, { __type: 'InternalFailure', message: (error as Error).message });
        }
      });
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    await this.drain();
  }

  private taskHandlers(definition: AslDefinition): Record<string, TaskHandler> {
    const handlers: Record<string, TaskHandler> = {};
    for (const [stateName, state] of Object.entries(definition.States)) {
      if (state.Type === 'Task' && state.Resource)
        handlers[stateName] = this.taskHandler(stateName, state.Resource);
    }
    return handlers;
  }

  private taskHandler(stateName: string, resource: string): TaskHandler {
    const dynamodbCommands = { putItem: true, updateItem: true, getItem: true, deleteItem: true } as const;
    const integration = /^arn:aws:states:::(\w+):(\w+)$/.exec(resource);
    if (integration) {
      const [, service, action] = integration;
      if (service === 'dynamodb' && action && action in dynamodbCommands) {
        const command = (input: JSONValue) => {
          switch (action as keyof typeof dynamodbCommands) {
            case 'putItem':
              return new PutItemCommand(input as never);
            case 'updateItem':
              return new UpdateItemCommand(input as never);
            case 'getItem':
              return new GetItemCommand(input as never);
            case 'deleteItem':
              return new DeleteItemCommand(input as never);
          }
        };
        return (input) => this.callService('DynamoDB', () => this.dynamodb.send(command(input) as never));
      }
      if (service === 'sns' && action === 'publish') {
        return (input) => {
          const params = input as Record<string, unknown>;
          const message =
            typeof params.Message === 'string' ? params.Message : JSON.stringify(params.Message);
          return this.callService('SNS', () =>
            this.sns.send(new PublishCommand({ ...(params as object), Message: message } as never)),
          );
        };
      }
      if (service === 'lambda' && action === 'invoke') {
        return async (input) => {
          const params = input as { FunctionName: string; Payload?: unknown };
          const payload = await this.invokeFunction(params.FunctionName, params.Payload ?? {});
          return { StatusCode: 200, Payload: payload } as JSONValue;
        };
      }
      throw new Error(`state ${stateName}: the local stack does not emulate ${resource}`);
    }
    if (resource.startsWith('arn:aws:lambda:') || this.functionsByArn.has(resource)) {
      return (input) => this.invokeFunction(resource, input);
    }
    throw new Error(`state ${stateName}: the local stack does not emulate ${resource}`);
  }

  private async invokeFunction(arnOrName: string, payload: unknown): Promise<JSONValue> {
    this.onInvoke(arnOrName);
    const fn =
      this.functionsByArn.get(arnOrName) ??
      [...this.functionsByArn.values()].find((candidate) => candidate.spec.name === arnOrName);
    if (!fn)
      throw new ServiceIntegrationError(
        'Lambda.ResourceNotFoundException',
        `Function not found: ${arnOrName}`,
      );
    try {
      return (await fn.invoke(payload)) as JSONValue;
    } catch (error) {
      if (error instanceof FunctionError) throw new ServiceIntegrationError(error.errorType, error.message);
      throw new ServiceIntegrationError('Lambda.ServiceException', (error as Error).message);
    }
  }

  private async callService(
    prefix: string,
    call: () => Promise<{ $metadata?: unknown }>,
  ): Promise<JSONValue> {
    try {
      const { $metadata: _metadata, ...output } = await call();
      return JSON.parse(JSON.stringify(output)) as JSONValue;
    } catch (error) {
      const sdkError = error as Error & { $metadata?: { httpStatusCode?: number } };
      // Step Functions names service errors `<Service>.<ExceptionName>`; a failed connection is
      // the SDK client error it would see as a task failure.
      const name = sdkError.$metadata?.httpStatusCode
        ? `${prefix}.${sdkError.name}`
        : `${prefix}.SdkClientException`;
      throw new ServiceIntegrationError(name, sdkError.message);
    }
  }
}

class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    request.on('error', reject);
  });
}
