import type { CfnTemplate } from '../../infra/stacks/synthesize';
import { DEFAULT_ASSUMPTIONS, deployedDesignCost, referenceDesignCost, throughputCeiling } from './model';
import { PRICES } from './prices';
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
      Validate: fn('validate', 512),
      Billing: fn('billing', 256),
      BillingAlias: { Type: 'AWS::Lambda::Alias', Properties: { FunctionName: { Ref: 'Billing' } } },
      BillingSource: {
        Type: 'AWS::Lambda::EventSourceMapping',
        Properties: {
          BatchSize: 5,
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

  it('refuses a definition whose happy path loops', () => {
    expect(() =>
      happyPath({ StartAt: 'A', States: { A: { Type: 'Pass', Next: 'B' }, B: { Type: 'Pass', Next: 'A' } } }),
    ).toThrow(/loops at A/);
  });
});

describe('cost model', () => {
  it('prices a Standard workflow per transition and an Express one per execution', () => {
    // Act
    const standard = deployedDesignCost(templateFacts(craftedTemplate('STANDARD')));
    const express = deployedDesignCost(templateFacts(craftedTemplate('EXPRESS')));

    // Assess: 5 states entered per order
    expect(standard.perMillion.find((l) => l.item.startsWith('Step Functions'))?.usd).toBeCloseTo(5 * 25, 6);
    const expressLine = express.perMillion.find((l) => l.item.startsWith('Step Functions'));
    expect(expressLine?.usd).toBeCloseTo(1 + 1e6 * (64 / 1024) * 0.3 * PRICES.sfnExpressGbSecond, 6);
  });

  it('charges interface endpoints per AZ-hour and the ALB per hour as fixed cost', () => {
    const cost = deployedDesignCost(templateFacts(craftedTemplate('EXPRESS')));
    expect(cost.fixedMonthly.find((l) => l.item.startsWith('VPC interface'))?.usd).toBeCloseTo(
      2 * 0.01 * 730,
      6,
    );
    expect(cost.fixedMonthly.find((l) => l.item.startsWith('ALB hours'))?.usd).toBeCloseTo(0.0225 * 730, 6);
  });

  it('amortizes consumer invocations and SQS requests over the batch size', () => {
    const cost = deployedDesignCost(templateFacts(craftedTemplate('EXPRESS')));
    // publisher + validate + billing at batch 5
    expect(cost.perMillion.find((l) => l.item.startsWith('Lambda requests'))?.usd).toBeCloseTo(2.2 * 0.2, 6);
    // SNS delivery + (receive + delete) / 5
    expect(cost.perMillion.find((l) => l.item.startsWith('SQS'))?.usd).toBeCloseTo(1.4 * 0.4, 6);
  });

  it('makes the reference design run every task in a Lambda on a Standard workflow behind API Gateway', () => {
    const reference = referenceDesignCost(templateFacts(craftedTemplate('EXPRESS')));
    expect(reference.perMillion.find((l) => l.item === 'API Gateway REST')?.usd).toBe(3.5);
    // publisher + 3 tasks + 1 consumer at batch size 1
    expect(reference.perMillion.find((l) => l.item.startsWith('Lambda requests'))?.usd).toBeCloseTo(
      5 * 0.2,
      6,
    );
    expect(reference.perMillion.find((l) => l.item.startsWith('Step Functions'))?.usd).toBeCloseTo(125, 6);
    expect(reference.fixedMonthly.some((l) => l.item.startsWith('ALB') || l.item.startsWith('VPC'))).toBe(
      false,
    );
  });
});

describe('throughputCeiling', () => {
  it('names the binding quota first: orders-table write units on a fresh on-demand table', () => {
    const limits = throughputCeiling(templateFacts(craftedTemplate('EXPRESS')));
    const ordersWrites = 2 + 1 + 2 + 2 + 2; // StoreOrder + handlers' orders-table writes
    expect(limits[0]?.quota).toMatch(/DynamoDB/);
    expect(limits[0]?.ordersPerSecond).toBeCloseTo(4000 / ordersWrites, 6);
    expect(limits.map((l) => l.ordersPerSecond)).toEqual(
      [...limits.map((l) => l.ordersPerSecond)].sort((a, b) => a - b),
    );
  });

  it('caps a Standard workflow by its StartExecution rate and the publisher by its reserved concurrency', () => {
    const limits = throughputCeiling(templateFacts(craftedTemplate('STANDARD')));
    expect(limits.find((l) => l.quota.startsWith('Step Functions Standard'))?.ordersPerSecond).toBe(300);
    expect(limits.find((l) => l.quota.startsWith('publisher reserved'))?.ordersPerSecond).toBeCloseTo(
      100 / (DEFAULT_ASSUMPTIONS.durationMs.publisher / 1000),
      6,
    );
  });
});
