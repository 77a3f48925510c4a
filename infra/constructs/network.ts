import { RemovalPolicy } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';

/**
 * Interface endpoints for the AWS APIs the Lambdas call from isolated subnets, and only those
 * (each costs an hourly fee per AZ). Absent on purpose: SQS (event source mappings poll outside
 * the VPC), SNS (the workflow publishes, from the Step Functions service), KMS (DynamoDB, S3 and
 * Secrets Manager use the keys server-side) and CloudWatch Logs (Lambda ships function output
 * itself). X-Ray stays: the tracing daemon in each sandbox sends segments over the VPC.
 */
export const INTERFACE_ENDPOINTS = {
  StepFunctions: ec2.InterfaceVpcEndpointAwsService.STEP_FUNCTIONS,
  SecretsManager: ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER,
  XRay: ec2.InterfaceVpcEndpointAwsService.XRAY,
} as const;

const HTTPS = ec2.Port.tcp(443);

export interface NetworkProps {
  /** Availability zones the VPC spans (at least 2: an ALB needs two). */
  readonly azCount: number;
  /** How many of them host the Lambdas and interface endpoints (1 saves endpoint cost in dev). */
  readonly functionAzCount: number;
  /** AWS-managed prefix list ids of the S3 and DynamoDB gateway endpoints in this region. */
  readonly gatewayPrefixLists: { readonly s3: string; readonly dynamodb: string };
  /** Retention of the VPC flow log group. */
  readonly flowLogRetention: logs.RetentionDays;
  /** What happens to the flow log group when the stack is deleted. */
  readonly removalPolicy: RemovalPolicy;
}

/**
 * The VPC: public subnets for the ALB only (always two zones), private isolated subnets for every Lambda, no NAT.
 * AWS APIs are reached through gateway endpoints (S3, DynamoDB) and interface endpoints.
 */
export class Network extends Construct {
  public readonly vpc: ec2.Vpc;
  /** Attached to every Lambda: no ingress, HTTPS egress only to the endpoints. */
  public readonly lambdaSecurityGroup: ec2.SecurityGroup;
  /** Attached to the interface endpoints: HTTPS from the Lambda group only. */
  public readonly endpointSecurityGroup: ec2.SecurityGroup;
  public readonly flowLogGroup: logs.LogGroup;
  /** The isolated subnets (of the first functionAzCount zones) every Lambda and endpoint uses. */
  public readonly functionSubnets: ec2.SubnetSelection;
  public readonly interfaceEndpoints: Record<keyof typeof INTERFACE_ENDPOINTS, ec2.InterfaceVpcEndpoint>;

  constructor(scope: Construct, id: string, props: NetworkProps) {
    super(scope, id);
    if (props.azCount < 2) throw new Error('Network needs at least two availability zones: an ALB spans two');
    if (props.functionAzCount < 1 || props.functionAzCount > props.azCount) {
      throw new Error(`functionAzCount must be between 1 and ${props.azCount}`);
    }

    this.flowLogGroup = new logs.LogGroup(this, 'FlowLogs', {
      retention: props.flowLogRetention,
      removalPolicy: props.removalPolicy,
    });
    this.vpc = new ec2.Vpc(this, 'Vpc', {
      ipAddresses: ec2.IpAddresses.cidr('10.40.0.0/16'),
      maxAzs: props.azCount,
      natGateways: 0,
      // Nothing is placed in the default security group; restricting it needs a custom-resource Lambda.
      restrictDefaultSecurityGroup: false,
      subnetConfiguration: [
        { name: 'alb', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24, mapPublicIpOnLaunch: false },
        { name: 'functions', subnetType: ec2.SubnetType.PRIVATE_ISOLATED, cidrMask: 22 },
      ],
      gatewayEndpoints: {
        S3: { service: ec2.GatewayVpcEndpointAwsService.S3 },
        DynamoDB: { service: ec2.GatewayVpcEndpointAwsService.DYNAMODB },
      },
      flowLogs: {
        all: {
          destination: ec2.FlowLogDestination.toCloudWatchLogs(this.flowLogGroup),
          trafficType: ec2.FlowLogTrafficType.ALL,
        },
      },
    });

    this.functionSubnets = { subnets: this.vpc.isolatedSubnets.slice(0, props.functionAzCount) };

    this.lambdaSecurityGroup = new ec2.SecurityGroup(this, 'LambdaSecurityGroup', {
      vpc: this.vpc,
      description: 'Order pipeline Lambdas: no ingress, HTTPS to VPC endpoints only',
      allowAllOutbound: false,
    });
    this.endpointSecurityGroup = new ec2.SecurityGroup(this, 'EndpointSecurityGroup', {
      vpc: this.vpc,
      description: 'Interface VPC endpoints: HTTPS from the order pipeline Lambdas only',
      allowAllOutbound: false,
    });
    this.endpointSecurityGroup.addIngressRule(this.lambdaSecurityGroup, HTTPS, 'HTTPS from the Lambdas');
    this.lambdaSecurityGroup.addEgressRule(this.endpointSecurityGroup, HTTPS, 'HTTPS to interface endpoints');
    this.lambdaSecurityGroup.addEgressRule(
      ec2.Peer.prefixList(props.gatewayPrefixLists.s3),
      HTTPS,
      'HTTPS to the S3 gateway endpoint',
    );
    this.lambdaSecurityGroup.addEgressRule(
      ec2.Peer.prefixList(props.gatewayPrefixLists.dynamodb),
      HTTPS,
      'HTTPS to the DynamoDB gateway endpoint',
    );

    const endpoints = {} as Record<keyof typeof INTERFACE_ENDPOINTS, ec2.InterfaceVpcEndpoint>;
    for (const [name, service] of Object.entries(INTERFACE_ENDPOINTS) as [
      keyof typeof INTERFACE_ENDPOINTS,
      ec2.InterfaceVpcEndpointAwsService,
    ][]) {
      endpoints[name] = this.vpc.addInterfaceEndpoint(name, {
        service,
        privateDnsEnabled: true,
        subnets: this.functionSubnets,
        securityGroups: [this.endpointSecurityGroup],
        open: false,
      });
    }
    this.interfaceEndpoints = endpoints;
  }
}
