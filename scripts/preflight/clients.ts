import { ACMClient } from '@aws-sdk/client-acm';
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { CodeStarConnectionsClient } from '@aws-sdk/client-codestar-connections';
import { IAMClient } from '@aws-sdk/client-iam';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { Route53Client } from '@aws-sdk/client-route-53';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SNSClient } from '@aws-sdk/client-sns';
import { SSMClient } from '@aws-sdk/client-ssm';
import { STSClient } from '@aws-sdk/client-sts';
import type { AwsClientConfig } from '../local/aws-config';
import type { PreflightClients } from './types';

/** Where the clients point: a named profile (or the default chain) in a region, or the emulator. */
export interface ClientSettings {
  readonly region: string;
  /** Profile of the target account; @default the SDK's default credential chain */
  readonly profile?: string;
  /** Profile of the tooling account, for the connection; @default the SDK's default chain */
  readonly toolingProfile?: string;
  /** Region of the connection (the pipelines' region); @default `region` */
  readonly toolingRegion?: string;
  /** The local emulator instead of AWS. */
  readonly emulator?: AwsClientConfig;
}

/** The preflight's SDK clients for one target. */
export function preflightClients(settings: ClientSettings): PreflightClients {
  const target = settings.emulator ?? { region: settings.region, profile: settings.profile };
  const tooling = settings.emulator ?? {
    region: settings.toolingRegion ?? settings.region,
    profile: settings.toolingProfile,
  };
  return {
    sts: new STSClient(target),
    cloudFormation: new CloudFormationClient(target),
    ssm: new SSMClient(target),
    iam: new IAMClient(target),
    lambda: new LambdaClient(target),
    acm: new ACMClient(target),
    route53: new Route53Client(target),
    sns: new SNSClient(target),
    secretsManager: new SecretsManagerClient(target),
    connections: new CodeStarConnectionsClient(tooling),
  };
}
