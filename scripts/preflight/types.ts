/**
 * What the preflight checks look at and what each of them answers. The target is built from the
 * environment and delivery configuration by one adapter (`target.ts`); the checks never read the
 * configuration themselves, so a change of the configuration's shape touches only the adapter.
 */
import type { ACMClient } from '@aws-sdk/client-acm';
import type { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import type { CodeStarConnectionsClient } from '@aws-sdk/client-codestar-connections';
import type { IAMClient } from '@aws-sdk/client-iam';
import type { LambdaClient } from '@aws-sdk/client-lambda';
import type { Route53Client } from '@aws-sdk/client-route-53';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { SNSClient } from '@aws-sdk/client-sns';
import type { SSMClient } from '@aws-sdk/client-ssm';
import type { STSClient } from '@aws-sdk/client-sts';

/** ✓, ✗, or not checked (with the reason in the summary). */
export type CheckStatus = 'pass' | 'fail' | 'skip';

/** One line of the preflight table: every ✗ carries its fix. */
export type CheckResult =
  | {
      /** Stable id of the check (`bootstrap.version`, `lambda.concurrency`, ...). */
      readonly check: string;
      readonly status: 'fail';
      /** What was found, with the figures compared. */
      readonly summary: string;
      /** What to do about it. */
      readonly fix: string;
    }
  | {
      readonly check: string;
      readonly status: 'pass' | 'skip';
      readonly summary: string;
      readonly fix?: undefined;
    };

/** A Lambda function of the template and the concurrency it reserves. */
export interface FunctionReservation {
  /** The handler folder (`publisher`, `billing`, ...) or the logical id. */
  readonly name: string;
  readonly reserved: number;
}

/** Everything the checks need to know about one environment, independent of the config's shape. */
export interface PreflightTarget {
  readonly environment: string;
  readonly region: string;
  /** The account the environment deploys to; absent for an account-agnostic environment. */
  readonly account?: string;
  /** The CloudFormation stack the environment deploys (`Dev-OrderPipeline`). */
  readonly stackName: string;
  /**
   * `local`: the emulator (`npm start`) stands in for AWS; checks whose rule moto does not model
   * say so instead of passing.
   */
  readonly platform: 'aws' | 'local';
  readonly bootstrap: {
    /** SSM parameter holding the bootstrap version (`/cdk-bootstrap/<qualifier>/version`). */
    readonly versionParameter: string;
    readonly qualifier: string;
    /** The lowest bootstrap version the synthesized template accepts (its `CheckBootstrapVersion` rule). */
    readonly requiredVersion: number;
  };
  readonly concurrency: {
    /** Account concurrency quota the configuration was validated against; absent = not declared. */
    readonly declaredQuota?: number;
    /** Every function of the template that reserves concurrency. */
    readonly reservations: readonly FunctionReservation[];
  };
  /** The HTTPS name; absent where the environment serves plain HTTP on the load balancer's name. */
  readonly domain?: {
    readonly name: string;
    /** The public hosted zone that holds the alias record: by id, by name, or both. */
    readonly hostedZoneId?: string;
    readonly hostedZoneName?: string;
    /** An existing ACM certificate; absent when the stack requests a DNS-validated one itself. */
    readonly certificateArn?: string;
  };
  /** The delivery pipeline that deploys this environment; absent when none does. */
  readonly delivery?: {
    readonly toolingAccount: string;
    readonly connectionArn: string;
  };
  /**
   * The delivery file's fields that reach this environment (or its pipeline) and still hold a
   * placeholder, each as `path (value)`; absent where nothing comes from the file (local).
   */
  readonly placeholders?: {
    readonly file: string;
    readonly fields: readonly string[];
    readonly fix: string;
  };
  /** The address that must confirm the alarm topic's email subscription. */
  readonly alarmEmail: string;
  /** Stack output naming the smoke-test client's secret; absent when the stack has no smoke client. */
  readonly smokeClientOutput?: string;
  /** Stack output naming the alarm topic. */
  readonly alarmTopicOutput: string;
  /** What the environment's stress (or smoke) profile asks of the account. */
  readonly stress: {
    readonly orders: number;
    readonly concurrency: number;
    /** Requests per second; 0 = as fast as the concurrency allows. */
    readonly ratePerSecond: number;
    readonly workflowType: 'EXPRESS' | 'STANDARD';
    /**
     * The WAF's rate limits per 5 minutes, per source IP and per client id (the stress tool sends
     * from one IP as one client); absent when the WAF is off.
     */
    readonly waf?: { readonly perIp: number; readonly perClient: number };
    /** The function that answers each request (its reservation bounds the requests in flight). */
    readonly entryFunction: string;
  };
}

/** What the stack looks like right now: absent before the first deploy. */
export interface DeployedStack {
  readonly status: string;
  readonly outputs: Readonly<Record<string, string>>;
}

/** The SDK clients of the target account (and of the tooling account for the connection). */
export interface PreflightClients {
  readonly sts: STSClient;
  readonly cloudFormation: CloudFormationClient;
  readonly ssm: SSMClient;
  readonly iam: IAMClient;
  readonly lambda: LambdaClient;
  /** In the environment's region: the load balancer can only use a certificate of its own region. */
  readonly acm: ACMClient;
  readonly route53: Route53Client;
  readonly sns: SNSClient;
  readonly secretsManager: SecretsManagerClient;
  /** In the tooling account, where the connection lives. */
  readonly connections: CodeStarConnectionsClient;
}
