import { Match } from 'aws-cdk-lib/assertions';
import { loadEnvironment } from '../../environments';
import { ENV } from '../../lambdas/shared/runtime-contract';
import { logicalIds, show, synth, SYNTH_TIMEOUT_MS, type Synthesized } from './template-helpers';

const POWERTOOLS = [
  'POWERTOOLS_SERVICE_NAME',
  'POWERTOOLS_METRICS_NAMESPACE',
  'POWERTOOLS_LOG_LEVEL',
  'NODE_OPTIONS',
];
const EXPECTED_ENV: Record<string, string[]> = {
  publisher: [
    ENV.ordersTable,
    ENV.stateMachineArn,
    ENV.clientSecretsId,
    ENV.secretsCacheSeconds,
    ENV.orderIdKeySecretId,
    ENV.restartAfterSeconds,
  ],
  validate: [ENV.orderTotalLimit, ENV.marketCurrencies],
  billing: [
    ENV.ordersTable,
    ENV.billingTable,
    ENV.failureInjectionRate,
    ENV.consumerName,
    ENV.completionRules,
  ],
  archive: [
    ENV.ordersTable,
    ENV.archiveBucket,
    ENV.failureInjectionRate,
    ENV.consumerName,
    ENV.completionRules,
  ],
  dlq: [ENV.ordersTable, ENV.failedOrdersTable],
  reconciler: [
    ENV.ordersTable,
    ENV.failedOrdersTable,
    ENV.stateMachineArn,
    ENV.acceptedDeadlineSeconds,
    ENV.publishedDeadlineSeconds,
    ENV.maxRestarts,
    ENV.sweepLimit,
  ],
};

describe('network and functions', () => {
  let s: Synthesized;
  beforeAll(() => {
    s = synth('staging');
  }, SYNTH_TIMEOUT_MS);

  it('has no NAT gateway and no route from isolated subnets to the internet', () => {
    s.template.resourceCountIs('AWS::EC2::NatGateway', 0);
    for (const id of logicalIds(s.json, 'AWS::EC2::Route')) {
      expect(id).toMatch(/albSubnet/);
    }
  });

  it('has the S3 and DynamoDB gateway endpoints and exactly the interface endpoints the code needs', () => {
    const services = logicalIds(s.json, 'AWS::EC2::VPCEndpoint').map((id) =>
      show(s.json.Resources[id]!.Properties!.ServiceName).replace(/^.*\./, ''),
    );
    // No SNS, KMS or Logs endpoint: no function calls them (issue 14: $0.011 per AZ-hour each).
    expect(services.sort()).toEqual(['dynamodb', 's3', 'secretsmanager', 'states', 'xray']);
    s.template.hasResourceProperties('AWS::EC2::VPCEndpoint', {
      VpcEndpointType: 'Interface',
      PrivateDnsEnabled: true,
    });
  });

  it('locks the Lambda security group to HTTPS towards the endpoints and gateway prefix lists', () => {
    const lambdaSg = logicalIds(s.json, 'AWS::EC2::SecurityGroup').find((id) =>
      id.startsWith('NetworkLambdaSecurityGroup'),
    )!;
    const endpointSg = logicalIds(s.json, 'AWS::EC2::SecurityGroup').find((id) =>
      id.startsWith('NetworkEndpointSecurityGroup'),
    )!;
    const props = s.json.Resources[lambdaSg]!.Properties!;
    expect(props.SecurityGroupIngress).toBeUndefined();
    expect(props.SecurityGroupEgress).toBeUndefined();
    const egress = logicalIds(s.json, 'AWS::EC2::SecurityGroupEgress')
      .map((id) => s.json.Resources[id]!.Properties!)
      .filter((rule) => show(rule.GroupId).startsWith('NetworkLambdaSecurityGroup'));
    expect(egress).toHaveLength(3);
    for (const rule of egress) expect(rule).toMatchObject({ IpProtocol: 'tcp', FromPort: 443, ToPort: 443 });
    expect(
      egress.map((rule) => rule.DestinationPrefixListId ?? show(rule.DestinationSecurityGroupId)).sort(),
    ).toEqual([`${endpointSg}.GroupId`, 'pl-6da54004', 'pl-6fa54006']);
    const ingress = logicalIds(s.json, 'AWS::EC2::SecurityGroupIngress').map(
      (id) => s.json.Resources[id]!.Properties!,
    );
    expect(ingress).toEqual([
      expect.objectContaining({
        GroupId: { 'Fn::GetAtt': [endpointSg, 'GroupId'] },
        SourceSecurityGroupId: { 'Fn::GetAtt': [lambdaSg, 'GroupId'] },
        FromPort: 443,
      }),
    ]);
  });

  it('logs VPC flows', () => {
    s.template.hasResourceProperties('AWS::EC2::FlowLog', {
      TrafficType: 'ALL',
      LogDestinationType: 'cloud-watch-logs',
    });
  });

  it('builds every Lambda the same way: arm64, newest Node, isolated subnets, tracing, own log group', () => {
    const functions = logicalIds(s.json, 'AWS::Lambda::Function');
    expect(functions).toHaveLength(6);
    const isolated = logicalIds(s.json, 'AWS::EC2::Subnet').filter((id) => id.includes('functionsSubnet'));
    for (const id of functions) {
      const fn = s.json.Resources[id]!;
      const props = fn.Properties!;
      expect(props.Architectures).toEqual(['arm64']);
      expect(props.Runtime).toBe('nodejs24.x');
      expect(props.TracingConfig).toEqual({ Mode: 'Active' });
      // Staging, like prod, drops Lambda's INFO events (START/END/REPORT): JSON with a system filter,
      // the application filter at INFO so that the EMF lines (no "level" key: INFO) stay.
      expect(props.LoggingConfig).toEqual({
        LogGroup: { Ref: expect.stringMatching(/LogGroup/) },
        LogFormat: 'JSON',
        SystemLogLevel: 'WARN',
        ApplicationLogLevel: 'INFO',
      });
      expect(typeof props.MemorySize).toBe('number');
      expect(typeof props.Timeout).toBe('number');
      const entry = (fn.Metadata as Record<string, string>)['OrderPipelineEntry']!;
      expect(props.ReservedConcurrentExecutions).toBe(
        loadEnvironment('staging').lambda.reservations[entry]?.concurrency,
      );
      const vpc = props.VpcConfig as { SubnetIds: { Ref: string }[]; SecurityGroupIds: unknown[] };
      for (const subnet of vpc.SubnetIds) expect(isolated).toContain(subnet.Ref);
      expect(show(vpc.SecurityGroupIds)).toMatch(/^NetworkLambdaSecurityGroup/);
      const variables = Object.keys((props.Environment as { Variables: object }).Variables).sort();
      expect(variables).toEqual([...EXPECTED_ENV[entry]!, ...POWERTOOLS].sort());
    }
    const entries = functions.map(
      (id) => (s.json.Resources[id]!.Metadata as Record<string, string>).OrderPipelineEntry,
    );
    expect(entries.sort()).toEqual(['archive', 'billing', 'dlq', 'publisher', 'reconciler', 'validate']);
    s.template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
  });

  it('gives consumers their settings: failure injection, name, timeout', () => {
    s.template.hasResourceProperties('AWS::Lambda::Function', {
      Timeout: 10,
      Environment: {
        Variables: Match.objectLike({ [ENV.consumerName]: 'billing', [ENV.failureInjectionRate]: '0.01' }),
      },
    });
    s.template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          [ENV.marketCurrencies]: Match.stringLikeRegexp('"ru":\\["RUB"\\]'),
          [ENV.orderTotalLimit]: '1000000',
        }),
      },
    });
  });
});
