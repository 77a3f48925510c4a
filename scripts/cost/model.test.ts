import type { CfnTemplate } from '../../infra/stacks/synthesize';
import type { Measurements } from './measurements';
import {
  DEFAULT_ASSUMPTIONS,
  deployedDesignCost,
  emptyReceivesPerSecond,
  meanBatchSize,
  messagesPerReceive,
  referenceDesignCost,
  throughputCeiling,
  tracedPerSecond,
  type CostLine,
  type ModelInput,
} from './model';
import { pricesFor, SECONDS_PER_MONTH, UnpricedRegionError } from './prices';
import { happyPath, templateFacts } from './template-facts';

const fn = (handler: string, memoryMb: number, extra: Record<string, unknown> = {}) => ({
  Type: 'AWS::Lambda::Function',
  Metadata: { OrderPipelineEntry: handler },
  Properties: { MemorySize: memoryMb, Architectures: ['arm64'], ...extra },
});

/** A small template shaped like the synthesized one: tokens in the definition, an alias in front of a consumer. */
function craftedTemplate(type: 'EXPRESS' | 'STANDARD'): CfnTemplate {
  const definition = {
    StartAt: 'Validate',
    States: {
      Validate: { Type: 'Task', Resource: 'TOKEN', Next: 'IsValid' },
      IsValid: {
        Type: 'Choice',
        Choices: [{ Variable: '$.ok', BooleanEquals: true, Next: 'Store' }],
        Default: 'Rejected',
      },
      Rejected: { Type: 'Succeed' },
      Store: { Type: 'Task', Resource: 'arn:aws:states:::dynamodb:updateItem', Next: 'Publish' },
      Publish: { Type: 'Task', Resource: 'arn:aws:states:::sns:publish', Next: 'Done' },
      Done: { Type: 'Succeed' },
    },
  };
  const [before, after] = JSON.stringify(definition).split('TOKEN');
  return {
    Resources: {
      Publisher: fn('publisher', 1024, { ReservedConcurrentExecutions: 100 }),
      Validate: fn('validate', 512, {
        LoggingConfig: { LogFormat: 'JSON', ApplicationLogLevel: 'INFO', SystemLogLevel: 'INFO' },
      }),
      Billing: fn('billing', 256, { LoggingConfig: { LogFormat: 'JSON', SystemLogLevel: 'WARN' } }),
      BillingAlias: { Type: 'AWS::Lambda::Alias', Properties: { FunctionName: { Ref: 'Billing' } } },
      BillingSource: {
        Type: 'AWS::Lambda::EventSourceMapping',
        Properties: {
          BatchSize: 5,
          MaximumBatchingWindowInSeconds: 1,
          FunctionName: {
            'Fn::Join': [
              '',
              [{ 'Fn::Select': [6, { 'Fn::Split': [':', { Ref: 'BillingAlias' }] }] }, ':live'],
            ],
          },
        },
      },
      Machine: {
        Type: 'AWS::StepFunctions::StateMachine',
        Properties: {
          StateMachineType: type,
          DefinitionString: { 'Fn::Join': ['', [before, { 'Fn::GetAtt': ['Validate', 'Arn'] }, after]] },
        },
      },
      Endpoint: {
        Type: 'AWS::EC2::VPCEndpoint',
        Properties: { VpcEndpointType: 'Interface', SubnetIds: ['a', 'b'] },
      },
      Gateway: { Type: 'AWS::EC2::VPCEndpoint', Properties: { VpcEndpointType: 'Gateway' } },
      Alb: { Type: 'AWS::ElasticLoadBalancingV2::LoadBalancer', Properties: {} },
    },
  };
}

describe('templateFacts', () => {
  it('reads functions, the happy path, batch sizes through an alias, and endpoints', () => {
    // Act
    const facts = templateFacts(craftedTemplate('EXPRESS'));

    // Assess
    expect(facts.workflow).toMatchObject({
      type: 'EXPRESS',
      happyPath: ['Validate', 'IsValid', 'Store', 'Publish', 'Done'],
      lambdaTasks: 1,
      dynamodbTasks: 1,
      snsTasks: 1,
    });
    expect(facts.batchSizes).toEqual({ billing: 5 });
    expect(facts.interfaceEndpoints).toBe(1);
    expect(facts.endpointAzs).toBe(2);
    expect(facts.functions.find((f) => f.handler === 'publisher')).toMatchObject({
      memoryMb: 1024,
      architecture: 'arm64',
      reservedConcurrency: 100,
    });
  });

  it("reads the level a function logs at: POWERTOOLS_LOG_LEVEL, or the stricter of it and Lambda's filter", () => {
    // Prepare
    const level = (extra: Record<string, unknown>) =>
      templateFacts({
        Resources: { ...craftedTemplate('EXPRESS').Resources, Publisher: fn('publisher', 1024, extra) },
      }).functions.find((f) => f.handler === 'publisher')?.logLevel;
    const warn = { Environment: { Variables: { POWERTOOLS_LOG_LEVEL: 'WARN' } } };

    // Act / Assess
    expect(level(warn)).toBe('WARN');
    expect(level({ ...warn, LoggingConfig: { LogFormat: 'JSON', ApplicationLogLevel: 'INFO' } })).toBe(
      'WARN',
    );
    expect(level({ ...warn, LoggingConfig: { LogFormat: 'JSON', ApplicationLogLevel: 'ERROR' } })).toBe(
      'ERROR',
    );
    expect(level({ LoggingConfig: { LogFormat: 'JSON', ApplicationLogLevel: 'WARN' } })).toBe('WARN');
    expect(level({})).toBe('INFO');
    // Levels the bench does not tally are priced at the nearest it does
    expect(level({ LoggingConfig: { LogFormat: 'JSON', ApplicationLogLevel: 'FATAL' } })).toBe('ERROR');
    expect(level({ Environment: { Variables: { POWERTOOLS_LOG_LEVEL: 'TRACE' } } })).toBe('DEBUG');
  });

  it("reads which functions write Lambda's platform lines: all but JSON at system level WARN", () => {
    // Act
    const facts = templateFacts(craftedTemplate('EXPRESS'));

    // Assess: text (no LoggingConfig), JSON at INFO, JSON at WARN
    const platformLines = Object.fromEntries(facts.functions.map((f) => [f.handler, f.platformLines]));
    expect(platformLines).toEqual({ publisher: true, validate: true, billing: false });
  });

  it('refuses a definition whose happy path loops', () => {
    expect(() =>
      happyPath({ StartAt: 'A', States: { A: { Type: 'Pass', Next: 'B' }, B: { Type: 'Pass', Next: 'A' } } }),
    ).toThrow(/loops at A/);
  });
});

function usage(byLevel: Record<string, [number, number]>) {
  const levels = Object.fromEntries(
    Object.entries(byLevel).map(([level, [bytes, lines]]) => [level, { bytes, lines }]),
  );
  const total = (key: 'bytes' | 'lines') => Object.values(levels).reduce((n, figures) => n + figures[key], 0);
  return { invocations: 1, logBytes: total('bytes'), logLines: total('lines'), byLevel: levels };
}

/** Measurements shaped like the bench's, with round figures. */
const MEASURED: Measurements = {
  measuredAt: '2026-12-01T00:00:00.000Z',
  command: 'test',
  orders: 100,
  pollIntervalMs: 250,
  logLevel: 'INFO',
  callsPerOrder: 12,
  callsPerOrderWithoutPolls: 10,
  statusReadsPerOrder: 2,
  idleReceivesPerOrder: 1,
  byOperation: { 'dynamodb.PutItem': 2, 'dynamodb.UpdateItem': 3, 'dynamodb.GetItem': 2 },
  functions: {
    publisher: usage({ INFO: [400, 1], METRICS: [200, 1] }),
    validate: usage({ DEBUG: [1000, 2], INFO: [400, 1], METRICS: [300, 1] }),
  },
  statusRead: { reads: 50, callsPerRead: 1, publisher: usage({ DEBUG: [100, 1] }) },
  customMetrics: ['A|service=x|M1', 'A|service=x|M2'],
  itemBytes: { OrdersTableName: 1500, BillingTableName: 200 },
};
const WORKFLOW_LOGS = {
  level: 'ALL',
  includeExecutionData: true,
  validBytes: 30_000,
  validEvents: 26,
  failedBytes: 5000,
  failedEvents: 10,
};

const inputFor = (type: 'EXPRESS' | 'STANDARD', ordersPerMonth = 10_000_000): ModelInput => ({
  facts: templateFacts(craftedTemplate(type)),
  prices: pricesFor('eu-west-1'),
  ordersPerMonth,
  measured: MEASURED,
  workflowLogs: WORKFLOW_LOGS,
});
const line = (lines: CostLine[], prefix: string) =>
  lines.find((candidate) => candidate.item.startsWith(prefix));
const eu = pricesFor('eu-west-1');

describe('cost model', () => {
  it('prices a Standard workflow per transition and an Express one per execution', () => {
    // Act
    const standard = deployedDesignCost(inputFor('STANDARD'));
    const express = deployedDesignCost(inputFor('EXPRESS'));

    // Assess: 5 states entered per order
    expect(line(standard.perMillion, 'Step Functions Standard')?.usd).toBeCloseTo(5 * 25, 6);
    expect(line(express.perMillion, 'Step Functions Express')?.usd).toBeCloseTo(
      1 + 1e6 * (64 / 1024) * 0.3 * eu.sfnExpressGbSecond,
      6,
    );
  });

  it('prices workflow logs from the measured bytes and events, at the region price', () => {
    const cost = deployedDesignCost(inputFor('EXPRESS'));
    expect(line(cost.perMillion, 'Step Functions logs (ALL')?.usd).toBeCloseTo(
      (30_000 / 1e9) * 0.57 * 1e6,
      6,
    );
  });

  it('charges interface endpoints per AZ-hour, the ALB per hour and rotated keys up to 3 x', () => {
    const cost = deployedDesignCost(inputFor('EXPRESS'));
    expect(line(cost.fixedMonthly, 'VPC interface')?.usd).toBeCloseTo(2 * 0.011 * 730, 6);
    expect(line(cost.fixedMonthly, 'ALB hours')?.usd).toBeCloseTo(0.0252 * 730, 6);
    expect(line(cost.fixedMonthly, 'CloudWatch custom metrics')?.usd).toBeCloseTo(2 * 0.3, 6);
  });

  it("prices the handlers' output each function keeps at its log level, EMF lines always", () => {
    const atInfo = deployedDesignCost(inputFor('EXPRESS'));
    const warn = inputFor('EXPRESS');
    warn.facts = {
      ...warn.facts,
      functions: warn.facts.functions.map((fn) => ({ ...fn, logLevel: 'WARN' })),
    };
    const atWarn = deployedDesignCost(warn);
    // INFO: publisher 400 + 200 and validate 400 + 300 (its DEBUG line dropped); WARN: EMF only.
    expect(line(atInfo.perMillion, 'Lambda logs')?.basis).toMatch(/^handlers' output 1300 B in 4\.0 lines/);
    expect(line(atWarn.perMillion, 'Lambda logs')?.basis).toMatch(/^handlers' output 500 B in 2\.0 lines/);
  });

  it("prices a consumer's EMF lines per invocation at the modelled batch, not the bench's", () => {
    // Prepare: billing measured at 2 orders per invocation, 100 B of EMF per order
    const input = inputFor('EXPRESS');
    const warn = (volume: number): ModelInput => ({
      ...inputFor('EXPRESS', volume),
      facts: { ...input.facts, functions: input.facts.functions.map((f) => ({ ...f, logLevel: 'WARN' })) },
      measured: {
        ...MEASURED,
        functions: {
          ...MEASURED.functions,
          billing: { ...usage({ INFO: [300, 1], METRICS: [100, 0.5] }), invocations: 0.5 },
        },
      },
    });

    // Act
    const trickle = deployedDesignCost(warn(10_000_000));
    const busy = deployedDesignCost(warn(1e9));

    // Assess: publisher 200 + validate 300 of EMF, and billing's 200 B a flush: once per order in
    // batches of 1, once per 5 orders in full batches
    expect(line(trickle.perMillion, 'Lambda logs')?.basis).toMatch(/^handlers' output 700 B in 3\.0 lines/);
    expect(line(busy.perMillion, 'Lambda logs')?.basis).toMatch(/^handlers' output 540 B in 2\.2 lines/);
  });

  it("prices Lambda's platform lines only for the invocations of functions that write them", () => {
    // Prepare: billing (a batch of 1 at this volume) logs JSON at WARN; then the publisher too
    const input = inputFor('EXPRESS');
    const quiet = {
      ...input,
      facts: {
        ...input.facts,
        functions: input.facts.functions.map((f) =>
          f.handler === 'publisher' ? { ...f, platformLines: false } : f,
        ),
      },
    };
    const perInvocation = ((353 + 3 * 26) / 1e9) * 0.57 * 1e6;

    // Act
    const withPublisher = deployedDesignCost(input);
    const withoutPublisher = deployedDesignCost(quiet);

    // Assess: publisher 1 + validate 1 of 3 invocations write them; then validate alone
    expect(line(withPublisher.perMillion, 'Lambda logs')?.basis).toMatch(
      /353 B platform lines x 2\.00 of 3\.00 invocations \(the rest at system log level WARN\)/,
    );
    expect(
      (line(withPublisher.perMillion, 'Lambda logs')?.usd ?? 0) -
        (line(withoutPublisher.perMillion, 'Lambda logs')?.usd ?? 0),
    ).toBeCloseTo(perInvocation, 6);
    const readLogs = (cost: ReturnType<typeof deployedDesignCost>) => line(cost.statusRead, 'Lambda logs');
    expect(readLogs(withoutPublisher)?.basis).toMatch(/no platform lines \(system logs at WARN\)/);
    expect((readLogs(withPublisher)?.usd ?? 0) - (readLogs(withoutPublisher)?.usd ?? 0)).toBeCloseTo(
      perInvocation,
      6,
    );
  });

  it('counts write units from the measured calls and item sizes (an update costs the larger image)', () => {
    const cost = deployedDesignCost(inputFor('EXPRESS'));
    // 1 orders-table put of 1.5 KB (2 WRU) + 1 billing put (1 WRU) + 3 updates of 1.5 KB (6 WRU)
    expect(line(cost.perMillion, 'DynamoDB writes')?.usd).toBeCloseTo(
      9 * eu.dynamodbWriteRequestUnitPerMillion,
      6,
    );
  });

  it('amortizes consumer invocations and SQS requests over the batch the arrival rate fills', () => {
    const busy = deployedDesignCost(inputFor('EXPRESS', 1e9));
    // publisher + validate + billing at its full batch of 5
    expect(line(busy.perMillion, 'Lambda requests')?.usd).toBeCloseTo(2.2 * 0.2, 6);
    // SNS delivery + a receive per 2.52 messages (76 per poller per second, 20 ms apart) + a delete per 5
    const perReceive = 1 + ((1e9 / SECONDS_PER_MONTH / 5) * 20) / 1000;
    expect(line(busy.perMillion, 'SQS')?.usd).toBeCloseTo((1 + 1 / perReceive + 1 / 5) * 0.4, 6);
    // A trickle without a batching window: one message per batch.
    const quiet = deployedDesignCost(inputFor('EXPRESS', 1000));
    expect(line(quiet.perMillion, 'SQS')?.usd).toBeCloseTo(3 * 0.4, 6);
  });

  it("prices the secret reads at the publisher's cache period, in the reference too", () => {
    // Prepare
    const input = inputFor('EXPRESS');
    const withCache = (seconds: number): ModelInput => ({
      ...input,
      facts: {
        ...input.facts,
        functions: input.facts.functions.map((fn) =>
          fn.handler === 'publisher' ? { ...fn, secretsCacheSeconds: seconds } : fn,
        ),
      },
    });

    // Act
    const at30 = line(deployedDesignCost(withCache(30)).fixedMonthly, 'Secrets');
    const at300 = line(deployedDesignCost(withCache(300)).fixedMonthly, 'Secrets');

    // Assess: 2 sandboxes x 730 h x (120 - 12) more reads an hour at 30 s
    expect((at30?.usd ?? 0) - (at300?.usd ?? 0)).toBeCloseTo(
      ((2 * 730 * 108) / 10_000) * eu.secretsApiPer10k,
      6,
    );
    expect(at30?.basis).toMatch(/every 30 s/);
    expect(
      line(
        referenceDesignCost({ ...withCache(30), referenceWorkflowLogs: WORKFLOW_LOGS }).fixedMonthly,
        'Secrets',
      )?.usd,
    ).toBeCloseTo(at30?.usd ?? 0, 6);
  });

  it('prices the client secrets read on every publisher request when nothing is cached', () => {
    // Prepare
    const input = inputFor('EXPRESS');
    const uncached: ModelInput = {
      ...input,
      facts: {
        ...input.facts,
        functions: input.facts.functions.map((fn) =>
          fn.handler === 'publisher' ? { ...fn, secretsCacheSeconds: 0 } : fn,
        ),
      },
    };

    // Act
    const secrets = line(deployedDesignCost(uncached).fixedMonthly, 'Secrets');

    // Assess: 10 M orders and 2 status reads each, plus the daily order id key reads
    expect(secrets?.basis).toMatch(/on every request/);
    expect(secrets?.usd).toBeCloseTo(
      input.facts.secrets * eu.secretMonth + ((30e6 + (2 * 730) / 24) / 10_000) * eu.secretsApiPer10k,
      6,
    );
  });

  it('puts status reads on their own line: ALB, WAF, invocation, logs, a read unit, traces', () => {
    const cost = deployedDesignCost(inputFor('EXPRESS'));
    expect(cost.statusRead.map((l) => l.item)).toEqual([
      'ALB LCU',
      'WAF request',
      'publisher invocation',
      'publisher compute',
      'Lambda logs',
      'DynamoDB read',
      'X-Ray traces',
    ]);
    expect(line(cost.statusRead, 'DynamoDB read')?.usd).toBeCloseTo(eu.dynamodbReadRequestUnitPerMillion, 6);
    expect(cost.perMillion.some((l) => l.item.startsWith('DynamoDB reads in the order path'))).toBe(true);
  });

  it('makes the reference design run every task in a Lambda on a Standard workflow behind API Gateway', () => {
    const reference = referenceDesignCost({ ...inputFor('EXPRESS'), referenceWorkflowLogs: WORKFLOW_LOGS });
    expect(line(reference.perMillion, 'API Gateway REST')?.usd).toBe(3.5);
    // publisher + 3 tasks + 1 consumer at batch size 1
    expect(line(reference.perMillion, 'Lambda requests')?.usd).toBeCloseTo(5 * 0.2, 6);
    expect(line(reference.perMillion, 'Step Functions Standard')?.usd).toBeCloseTo(125, 6);
    expect(reference.fixedMonthly.some((l) => l.item.startsWith('ALB') || l.item.startsWith('VPC'))).toBe(
      false,
    );
  });
});

describe('batching and sampling as functions of volume', () => {
  it('fills batches with the window and the arrival rate, between 1 and the batch size', () => {
    const perMonth = (perSecond: number) => perSecond * SECONDS_PER_MONTH;
    expect(meanBatchSize(perMonth(4), 10, 1, 5)).toBe(1);
    expect(meanBatchSize(perMonth(4), 10, 10, 5)).toBeCloseTo(8, 6);
    expect(meanBatchSize(perMonth(100), 10, 10, 5)).toBe(10);
    expect(meanBatchSize(perMonth(100), 10, 0, 5)).toBe(1);
  });

  it('counts a receive per message while messages trickle in, whatever the window: it fills batches, not receives', () => {
    const perMonth = (perSecond: number) => perSecond * SECONDS_PER_MONTH;
    // prod: 3.8 orders/s over 5 pollers, batches of 7.6 in a 10 s window
    expect(messagesPerReceive(perMonth(3.8), 7.6, 5, 20)).toBeCloseTo(1.0152, 4);
    expect(messagesPerReceive(perMonth(1000), 10, 5, 20)).toBe(5);
    expect(messagesPerReceive(perMonth(10_000), 10, 5, 20)).toBe(10);
    expect(messagesPerReceive(perMonth(10_000), 3, 5, 20)).toBe(3);
    expect(messagesPerReceive(1, 1, 5, 20)).toBe(1);
  });

  it('counts empty long polls on idle queues, and almost none on a queue that gets a message every few seconds', () => {
    expect(emptyReceivesPerSecond(0)).toBe(1 / 20);
    expect(emptyReceivesPerSecond(0.001)).toBeCloseTo(1 / 20, 3);
    expect(emptyReceivesPerSecond(0.76)).toBeLessThan(1e-6);
  });

  it('takes the reservoir first, then the fixed rate of the rest', () => {
    expect(tracedPerSecond(0.5, { reservoirPerSecond: 1, fixedRate: 0.05 })).toBeCloseTo(0.5, 9);
    expect(tracedPerSecond(21, { reservoirPerSecond: 1, fixedRate: 0.05 })).toBeCloseTo(2, 9);
    expect(tracedPerSecond(10, { reservoirPerSecond: 0, fixedRate: 0.01 })).toBeCloseTo(0.1, 9);
  });

  it('refuses a region without prices instead of pricing another one', () => {
    expect(() => pricesFor('ap-south-2')).toThrow(UnpricedRegionError);
  });
});

describe('throughputCeiling', () => {
  it('names the binding quota first: orders-table write units on a fresh on-demand table', () => {
    const limits = throughputCeiling(inputFor('EXPRESS'));
    const ordersWrites = (1 + 3) * 2; // one put and three updates of a 1.5 KB item
    expect(limits[0]?.quota).toMatch(/DynamoDB/);
    expect(limits[0]?.ordersPerSecond).toBeCloseTo(4000 / ordersWrites, 6);
    expect(limits.map((l) => l.ordersPerSecond)).toEqual(
      [...limits.map((l) => l.ordersPerSecond)].sort((a, b) => a - b),
    );
  });

  it('caps a Standard workflow by its StartExecution rate and the publisher by its reserved concurrency', () => {
    const limits = throughputCeiling(inputFor('STANDARD'));
    expect(limits.find((l) => l.quota.startsWith('Step Functions Standard'))?.ordersPerSecond).toBe(300);
    expect(limits.find((l) => l.quota.startsWith('publisher reserved'))?.ordersPerSecond).toBeCloseTo(
      100 / (DEFAULT_ASSUMPTIONS.durationMs.publisher / 1000),
      6,
    );
  });
});
