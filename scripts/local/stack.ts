import { SMOKE_CLIENT_ID } from '../../infra/constructs/secrets';
import { randomBytes } from 'node:crypto';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { EnvironmentConfig } from '../../environments';
import { loadEnvironment } from '../../environments';
import { ENTRY_METADATA_KEY } from '../../infra/constructs/order-pipeline-function';
import { OUTPUTS } from '../../infra/stacks/order-pipeline-stack';
import {
  awsEnvironment,
  LOCAL_ACCOUNT_ID,
  LOCAL_REGION,
  localAwsConfig,
  type AwsClientConfig,
} from './aws-config';
import { LocalLoadBalancer, type AlbAction, type AlbRule } from './alb';
import { TemplateSet, type CfnTemplate, type ResourceRef } from './cfn-template';
import type { CallRecorder } from './calls/recorder';
import {
  handlerCredentials,
  recordLoadBalancerInvocations,
  roleOf,
  signingAs,
  stateMachineInvokeRecorder,
} from './calls/stack-hooks';
import { applicationLogLevelOf, bundleHandler, LocalFunction, PROJECT_ROOT } from './lambda-runtime';
import { FaultProxy } from './fault-proxy';
import { startEmulator, type Emulator } from './moto-server';
import { localName, provisionFromTemplates, type ProvisionedResources } from './provision';
import { schedulesOf, type LocalSchedule } from './scheduler';
import { SqsEventSource } from './sqs-event-source';
import { LocalStepFunctions, type AslDefinition, type LocalStateMachineSpec } from './step-functions';
import { synthesizeTemplates } from './synthesize';

/** Where the running local stack describes itself for the other tools (order CLI, stress). */
export const STATE_FILE = join(PROJECT_ROOT, '.local', 'stack.json');

export interface LocalStackOptions {
  /** Port of the local load balancer; 0 picks a free one. @default 8080 */
  port?: number;
  /** Environment configuration; @default the validated `local` environment */
  config?: EnvironmentConfig;
  /** Powertools log level inside the handlers. @default 'WARN' */
  logLevel?: string;
  /** Write {@link STATE_FILE} for the other tools. @default true */
  writeStateFile?: boolean;
  /** Progress lines while starting. */
  onProgress?: (message: string) => void;
  /**
   * Route each AWS endpoint a fault can hit through its own {@link FaultProxy}
   * ({@link StackFaultProxies}): the handlers' calls to the emulator, the handlers' Step Functions
   * calls, and the workflow's own DynamoDB and SNS integrations. With no fault set a proxy passes
   * every request through unchanged. The event sources keep the direct endpoint (Lambda's pollers
   * run inside AWS). @default false
   */
  faultProxy?: boolean;
  /**
   * Puts something (a request counter, say) in front of each AWS endpoint of the stack (moto, then
   * the local Step Functions); every caller then uses the returned endpoint.
   */
  interceptEndpoint?: (endpoint: string) => Promise<{ endpoint: string; close(): Promise<void> }>;
  /** Records every AWS call with the principal that would make it on AWS (scripts/local/calls). */
  recorder?: CallRecorder;
  /**
   * Receives each handler's output instead of the terminal, with Powertools metrics on, so it is
   * what Lambda would ship to CloudWatch Logs (the bench measures log bytes per order with it).
   */
  functionOutput?: (entry: string, chunk: Buffer) => void;
  /**
   * Let the handlers write their Powertools EMF metrics to stdout, for a local CloudWatch to read
   * (scripts/local/metrics); without one attached the lines would go to the console. @default false
   */
  emitMetrics?: boolean;
  /** Templates already synthesized from `config` (drills start many stacks of one synthesis). */
  templates?: Record<string, CfnTemplate>;
  /**
   * How much faster than their `rate(...)` the template's schedules fire; 0 = not by themselves
   * (tests call `schedules[i].runNow()`). @default 1
   */
  scheduleSpeed?: number;
}

/** A demo client registered in the local client-secrets secret. */
export interface DemoClient {
  clientId: string;
  secret: string;
}

/** What a running local stack exposes. */
export interface LocalStack {
  url: string;
  emulatorEndpoint: string;
  aws: AwsClientConfig;
  client: DemoClient;
  /** Stack outputs, resolved to local names (OrdersTableName, ArchiveBucketName, ...). */
  outputs: Record<string, string>;
  resources: ProvisionedResources;
  functions: LocalFunction[];
  eventSources: SqsEventSource[];
  /** EventBridge Scheduler schedules (the reconciler's sweep). */
  schedules: LocalSchedule[];
  stepFunctions: LocalStepFunctions;
  loadBalancer: LocalLoadBalancer;
  /** The synthesized templates, resolved against the local names (alarms, dimensions). */
  templates: TemplateSet;
  /** The handlers' emulator endpoint ({@link StackFaultProxies.aws}); present with `faultProxy: true`. */
  faultProxy?: FaultProxy;
  /** Every fault proxy of the stack; present with `faultProxy: true`. */
  faults?: StackFaultProxies;
  stop(): Promise<void>;
}

/** The fault proxies of a stack started with `faultProxy: true`, one per endpoint. */
export interface StackFaultProxies {
  /** The handlers' calls to the emulator: DynamoDB, S3, SQS, SNS, Secrets Manager. */
  aws: FaultProxy;
  /** The handlers' Step Functions calls: the publisher's and the reconciler's StartExecution. */
  stepFunctions: FaultProxy;
  /** The workflow's own service integrations: its DynamoDB writes and its SNS publish. */
  workflow: FaultProxy;
}

/** The description of a running stack that {@link STATE_FILE} holds; no secret in it. */
export interface LocalStackState {
  url: string;
  emulatorEndpoint: string;
  region: string;
  clientId: string;
  outputs: Record<string, string>;
  pid: number;
}

/**
 * Starts the whole pipeline on this machine: synthesizes the environment, creates its resources
 * in moto from the template, runs every function's bundled handler, the state machine, the SQS
 * event sources and the load balancer.
 */
export async function startLocalStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  const progress = options.onProgress ?? (() => undefined);
  const config = options.config ?? loadEnvironment('local');
  const cleanups: Array<() => Promise<void>> = [];
  const stop = async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  };
  const intercept = async (endpoint: string) => {
    let outer = endpoint;
    for (const interceptEndpoint of [
      options.recorder?.intercept.bind(options.recorder),
      options.interceptEndpoint,
    ]) {
      if (!interceptEndpoint) continue;
      const interceptor = await interceptEndpoint(outer);
      cleanups.push(() => interceptor.close());
      outer = interceptor.endpoint;
    }
    return outer;
  };
  try {
    progress('synthesizing the environment');
    const templates = new TemplateSet(
      structuredClone(options.templates ?? (await synthesizeTemplates(config))),
      {
        region: LOCAL_REGION,
        accountId: LOCAL_ACCOUNT_ID,
      },
    );

    progress('starting the AWS emulator (moto_server)');
    const emulator: Emulator = await startEmulator();
    cleanups.push(() => emulator.stop());
    const emulatorEndpoint = await intercept(emulator.endpoint);
    const aws = localAwsConfig(emulatorEndpoint);
    const faultProxyTo = async (endpoint: string) => {
      const proxy = new FaultProxy({ host: '127.0.0.1', port: Number(new URL(endpoint).port) });
      const url = await proxy.listen();
      cleanups.push(() => proxy.close());
      return { proxy, url };
    };
    const handlerAws = options.faultProxy ? await faultProxyTo(emulatorEndpoint) : undefined;
    const workflowAws = options.faultProxy ? await faultProxyTo(emulatorEndpoint) : undefined;
    const handlerEndpoint = handlerAws?.url ?? emulatorEndpoint;

    progress('creating tables, queues, topic, subscriptions, bucket and secret from the template');
    const client: DemoClient = { clientId: 'local-demo', secret: randomBytes(32).toString('hex') };
    // The smoke-test client signs with its own generated secret, as the stack makes it; the client
    // document holds it next to the demo client. Other generated secrets get random values.
    const smokeSecret = randomBytes(32).toString('hex');
    const resources = await provisionFromTemplates(templates, aws, (ref) => {
      if (ref.logicalId.startsWith('ClientSecretsSmokeClientSecret')) return smokeSecret;
      if (ref.resource.Properties?.GenerateSecretString !== undefined) return randomBytes(32).toString('hex');
      return JSON.stringify({
        clients: { [client.clientId]: [client.secret], [SMOKE_CLIENT_ID]: [smokeSecret] },
      });
    });

    const functionRefs = templates
      .resourcesOfType('AWS::Lambda::Function')
      .filter((ref) => entryOf(ref) !== undefined);
    for (const ref of functionRefs) {
      const name = localName(ref, 64);
      templates.register(ref.stack, ref.logicalId, {
        ref: name,
        attributes: { Arn: `arn:aws:lambda:${LOCAL_REGION}:${LOCAL_ACCOUNT_ID}:function:${name}` },
      });
    }
    const aliases = registerAliases(templates);
    const machineSpecs = templates.resourcesOfType('AWS::StepFunctions::StateMachine').map((ref) => {
      // A StateMachineName in the template is the physical name, as CloudFormation makes it.
      const given = ref.resource.Properties?.StateMachineName;
      const name = given === undefined ? localName(ref, 80) : templates.resolveString(ref.stack, given);
      const arn = `arn:aws:states:${LOCAL_REGION}:${LOCAL_ACCOUNT_ID}:stateMachine:${name}`;
      templates.register(ref.stack, ref.logicalId, { ref: arn, attributes: { Arn: arn, Name: name } });
      return { ref, name, arn };
    });

    const functionsByArn = new Map<string, LocalFunction>();
    const functionIds = new Map<LocalFunction, string>();
    const logicalIdOf = (fn: LocalFunction) => functionIds.get(fn) ?? fn.spec.name;
    const machineRole = machineSpecs[0] ? roleOf(machineSpecs[0].ref) : 'NoStateMachine';
    const stepFunctions = new LocalStepFunctions(
      machineSpecs.map(({ ref, name, arn }) => stateMachineSpec(templates, ref, name, arn)),
      functionsByArn,
      signingAs(workflowAws ? localAwsConfig(workflowAws.url) : aws, {
        kind: 'role',
        role: machineRole,
        origin: 'service',
      }),
      (record) =>
        console.error(`[workflow] execution ${record.name} failed: ${record.error}: ${record.cause}`),
      stateMachineInvokeRecorder(options.recorder, machineRole, functionsByArn, logicalIdOf),
    );
    cleanups.push(() => stepFunctions.close());
    const sfnEndpoint = await intercept(await stepFunctions.listen());
    const handlerSfn = options.faultProxy ? await faultProxyTo(sfnEndpoint) : undefined;
    const faults: StackFaultProxies | undefined =
      handlerAws && handlerSfn && workflowAws
        ? { aws: handlerAws.proxy, stepFunctions: handlerSfn.proxy, workflow: workflowAws.proxy }
        : undefined;

    progress(`bundling ${functionRefs.length} handlers with esbuild`);
    const buildDir = join(PROJECT_ROOT, '.local', 'build');
    const functions: LocalFunction[] = [];
    for (const ref of functionRefs) {
      const props = templates.resolve(ref.stack, ref.resource.Properties ?? {}) as {
        Environment?: { Variables?: Record<string, string> };
        Timeout?: number;
        MemorySize?: number;
        LoggingConfig?: { LogFormat?: string; ApplicationLogLevel?: string };
      };
      const physical = templates.physicalOf(ref.stack, ref.logicalId);
      const entry = entryOf(ref) ?? '';
      const bundle = await bundleHandler(entry, buildDir);
      const fn = new LocalFunction(
        {
          name: physical?.ref ?? entry,
          entry,
          arn: physical?.attributes.Arn ?? '',
          timeoutSeconds: props.Timeout ?? 3,
          memoryMb: props.MemorySize ?? 128,
          applicationLogLevel: applicationLogLevelOf(props.LoggingConfig),
          environment: {
            ...Object.fromEntries(
              Object.entries(props.Environment?.Variables ?? {}).map(([k, v]) => [k, String(v)]),
            ),
            ...awsEnvironment(handlerEndpoint, {
              AWS_ENDPOINT_URL_SFN: handlerSfn?.url ?? sfnEndpoint,
              ...handlerCredentials(roleOf(ref)),
            }),
            AWS_LAMBDA_FUNCTION_NAME: physical?.ref ?? entry,
            AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(props.MemorySize ?? 128),
            POWERTOOLS_TRACE_ENABLED: 'false',
            POWERTOOLS_METRICS_DISABLED: options.emitMetrics || options.functionOutput ? 'false' : 'true',
            POWERTOOLS_LOG_LEVEL: options.logLevel ?? 'WARN',
            NODE_NO_WARNINGS: '1',
          },
        },
        bundle,
      );
      const functionOutput = options.functionOutput;
      if (functionOutput) fn.spec.onOutput = (chunk) => functionOutput(entry, chunk);
      functionsByArn.set(fn.spec.arn, fn);
      functionIds.set(fn, ref.logicalId);
      const alias = aliases.get(fn.spec.name);
      if (alias) {
        // Version 1 stands for the release before this template, version 2 is the template's
        // own (what its alarms' ExecutedVersion names); the alias starts with all traffic on 2.
        fn.publishVersion();
        fn.setAlias({ name: alias.name, version: fn.publishVersion() });
        functionsByArn.set(alias.arn, fn);
        // Event source mappings name the alias as `<function>:<alias>`.
        functionsByArn.set(`${fn.spec.name}:${alias.name}`, fn);
      }
      functions.push(fn);
    }
    cleanups.push(async () => {
      await Promise.all(functions.map((fn) => fn.stop()));
    });

    const eventSources = templates.resourcesOfType('AWS::Lambda::EventSourceMapping').map((ref) => {
      const props = templates.resolve(ref.stack, ref.resource.Properties ?? {}) as {
        EventSourceArn: string;
        FunctionName: string;
        BatchSize?: number;
        MaximumBatchingWindowInSeconds?: number;
        FunctionResponseTypes?: string[];
      };
      const queue = resources.queues.find((candidate) => candidate.arn === props.EventSourceArn);
      const fn =
        functionsByArn.get(props.FunctionName) ??
        functions.find((candidate) => candidate.spec.name === props.FunctionName);
      if (!queue || !fn) throw new Error(`event source ${ref.logicalId}: queue or function not found`);
      return new SqsEventSource(
        {
          queueUrl: queue.url,
          queueArn: queue.arn,
          batchSize: props.BatchSize ?? 10,
          maximumBatchingWindowSeconds: props.MaximumBatchingWindowInSeconds ?? 0,
          reportBatchItemFailures: (props.FunctionResponseTypes ?? []).includes('ReportBatchItemFailures'),
          concurrency: 2,
        },
        fn,
        // Lambda polls with the function's execution role.
        signingAs(aws, {
          kind: 'role',
          role: roleOf(functionRefs[functions.indexOf(fn)]!),
          origin: 'service',
        }),
        (error) => {
          if (options.logLevel === 'DEBUG' || options.logLevel === 'INFO')
            console.error(`[${fn.spec.entry}] ${error.message}`);
        },
      );
    });
    for (const source of eventSources) source.start();
    cleanups.push(async () => {
      await Promise.all(eventSources.map((source) => source.stop()));
    });

    const schedules = schedulesOf(templates, functionsByArn, options.recorder, logicalIdOf);
    const scheduleSpeed = options.scheduleSpeed ?? 1;
    if (scheduleSpeed > 0) for (const schedule of schedules) schedule.start(scheduleSpeed);
    cleanups.push(async () => {
      for (const schedule of schedules) schedule.stop();
    });

    const albSpec = loadBalancerSpec(templates, functionsByArn);
    recordLoadBalancerInvocations(
      options.recorder,
      [albSpec.defaultAction, ...albSpec.rules.map((rule) => rule.action)],
      templates,
      logicalIdOf,
    );
    const loadBalancer = new LocalLoadBalancer(albSpec);
    const url = await loadBalancer.listen(options.port ?? 8080);
    cleanups.push(() => loadBalancer.close());

    const outputs = resolveOutputs(templates, url);
    options.recorder?.attach(templates);
    if (options.writeStateFile ?? true) {
      const state: LocalStackState = {
        url,
        emulatorEndpoint,
        region: LOCAL_REGION,
        clientId: client.clientId,
        outputs,
        pid: process.pid,
      };
      await mkdir(join(PROJECT_ROOT, '.local'), { recursive: true });
      await writeFile(STATE_FILE, JSON.stringify(state, null, 2));
      cleanups.push(() => rm(STATE_FILE, { force: true }));
    }
    return {
      url,
      emulatorEndpoint,
      aws,
      client,
      outputs,
      resources,
      functions,
      eventSources,
      schedules,
      stepFunctions,
      loadBalancer,
      templates,
      faultProxy: faults?.aws,
      faults,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** The number the template's `AWS::Lambda::Version` gets locally (version 1 is the release before). */
export const TEMPLATE_VERSION = '2';

/**
 * Registers each `AWS::Lambda::Alias` (and the version it names) under the local function's
 * name, so that callers configured with the alias ARN reach the function; returns them by function.
 */
function registerAliases(templates: TemplateSet): Map<string, { name: string; arn: string }> {
  const aliases = new Map<string, { name: string; arn: string }>();
  for (const ref of templates.resourcesOfType('AWS::Lambda::Version')) {
    const props = templates.resolve(ref.stack, ref.resource.Properties ?? {}) as { FunctionName: string };
    const arn = `arn:aws:lambda:${LOCAL_REGION}:${LOCAL_ACCOUNT_ID}:function:${props.FunctionName}:${TEMPLATE_VERSION}`;
    templates.register(ref.stack, ref.logicalId, { ref: arn, attributes: { Version: TEMPLATE_VERSION } });
  }
  for (const ref of templates.resourcesOfType('AWS::Lambda::Alias')) {
    const props = templates.resolve(ref.stack, ref.resource.Properties ?? {}) as {
      FunctionName: string;
      Name: string;
    };
    const arn = `arn:aws:lambda:${LOCAL_REGION}:${LOCAL_ACCOUNT_ID}:function:${props.FunctionName}:${props.Name}`;
    templates.register(ref.stack, ref.logicalId, { ref: arn, attributes: { AliasArn: arn } });
    aliases.set(props.FunctionName, { name: props.Name, arn });
  }
  return aliases;
}

function entryOf(ref: ResourceRef): string | undefined {
  const entry = ref.resource.Metadata?.[ENTRY_METADATA_KEY];
  return typeof entry === 'string' ? entry : undefined;
}

function stateMachineSpec(
  templates: TemplateSet,
  ref: ResourceRef,
  name: string,
  arn: string,
): LocalStateMachineSpec {
  const props = ref.resource.Properties ?? {};
  let definition: AslDefinition;
  if (props.DefinitionString !== undefined) {
    let text = templates.resolveString(ref.stack, props.DefinitionString);
    const substitutions = templates.resolve(ref.stack, props.DefinitionSubstitutions ?? {}) as Record<
      string,
      unknown
    >;
    for (const [key, value] of Object.entries(substitutions))
      text = text.split(`\${${key}}`).join(String(value));
    definition = JSON.parse(text) as AslDefinition;
  } else {
    definition = templates.resolve(ref.stack, props.Definition) as AslDefinition;
  }
  const type = props.StateMachineType === 'EXPRESS' ? 'EXPRESS' : 'STANDARD';
  return { arn, name, type, definition };
}

function loadBalancerSpec(templates: TemplateSet, functionsByArn: Map<string, LocalFunction>) {
  const targetGroups = new Map<string, LocalFunction>();
  for (const ref of templates.resourcesOfType('AWS::ElasticLoadBalancingV2::TargetGroup')) {
    const props = templates.resolve(ref.stack, ref.resource.Properties ?? {}) as {
      Targets?: Array<{ Id: string }>;
    };
    const fn = functionsByArn.get(props.Targets?.[0]?.Id ?? '');
    if (fn) targetGroups.set(templates.resolveString(ref.stack, { Ref: ref.logicalId }), fn);
  }
  const toAction = (action: Record<string, unknown>): AlbAction => {
    if (action.Type === 'fixed-response') {
      const fixed = action.FixedResponseConfig as {
        StatusCode: string;
        ContentType?: string;
        MessageBody?: string;
      };
      return {
        type: 'fixed-response',
        statusCode: Number(fixed.StatusCode),
        contentType: fixed.ContentType ?? 'text/plain',
        body: fixed.MessageBody ?? '',
      };
    }
    if (action.Type === 'forward') {
      const forward = action.ForwardConfig as
        { TargetGroups?: Array<{ TargetGroupArn: string }> } | undefined;
      const targetGroupArn = String(action.TargetGroupArn ?? forward?.TargetGroups?.[0]?.TargetGroupArn);
      const fn = targetGroups.get(targetGroupArn);
      if (fn) return { type: 'forward', targetGroupArn, fn };
    }
    throw new Error(`the local load balancer does not emulate action ${JSON.stringify(action)}`);
  };

  const listeners = templates.resourcesOfType('AWS::ElasticLoadBalancingV2::Listener').map((ref) => ({
    arn: templates.resolveString(ref.stack, { Ref: ref.logicalId }),
    props: templates.resolve(ref.stack, ref.resource.Properties ?? {}) as {
      DefaultActions: Array<Record<string, unknown>>;
      Protocol?: string;
    },
  }));
  // Serve the listener that carries the traffic: not the one that only redirects HTTP to HTTPS.
  const listener =
    listeners.find((candidate) => candidate.props.DefaultActions[0]?.Type !== 'redirect') ?? listeners[0];
  if (!listener) throw new Error('the template has no load balancer listener');
  const rules: AlbRule[] = templates
    .resourcesOfType('AWS::ElasticLoadBalancingV2::ListenerRule')
    .map(
      (ref) =>
        templates.resolve(ref.stack, ref.resource.Properties ?? {}) as {
          ListenerArn: string;
          Priority: number;
          Conditions: Array<{
            Field: string;
            Values?: string[];
            PathPatternConfig?: { Values: string[] };
            HttpRequestMethodConfig?: { Values: string[] };
          }>;
          Actions: Array<Record<string, unknown>>;
        },
    )
    .filter((rule) => rule.ListenerArn === listener.arn)
    .map((rule) => {
      const path = rule.Conditions.find((condition) => condition.Field === 'path-pattern');
      const method = rule.Conditions.find((condition) => condition.Field === 'http-request-method');
      const [action] = rule.Actions;
      if (!action) throw new Error('a listener rule without an action');
      return {
        priority: Number(rule.Priority),
        pathPatterns: path?.PathPatternConfig?.Values ?? path?.Values ?? ['*'],
        methods: method?.HttpRequestMethodConfig?.Values ?? method?.Values,
        action: toAction(action),
      };
    });
  const [defaultAction] = listener.props.DefaultActions;
  if (!defaultAction) throw new Error('a listener without a default action');
  return { rules, defaultAction: toAction(defaultAction) };
}

function resolveOutputs(templates: TemplateSet, url: string): Record<string, string> {
  const outputs: Record<string, string> = {};
  for (const [stack, template] of Object.entries(templates.templates)) {
    for (const [name, output] of Object.entries(template.Outputs ?? {})) {
      try {
        outputs[name] = String(templates.resolve(stack, output.Value));
      } catch {
        // an output about something the local stack does not run (a dashboard URL, say)
      }
    }
  }
  outputs[OUTPUTS.ordersUrl] = `${url}/orders`;
  return outputs;
}

export type { CfnTemplate };
