/**
 * Where a stress run sends and what it reads: the local stack that `npm start` runs, or a deployed
 * environment found through its CloudFormation outputs and its client secret in Secrets Manager.
 */
import { CURRENT_SECRET_STAGE } from '../../lambdas/publisher/client-secrets';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { EnvironmentConfig } from '../../environments';
import { pascal } from '../../infra/constructs/naming';
import { SMOKE_CLIENT_ID } from '../../infra/constructs/secrets';
import { OUTPUTS } from '../../infra/stacks/order-pipeline-stack';
import { STACK_ID } from '../../infra/stacks/order-pipeline-stage';
import { readLocalStack } from '../lib/local-state';
import { localAwsConfig } from '../local/aws-config';
import type { AwsSettings } from './observe';

/** Everything a run needs to reach one pipeline. */
export interface StressTarget {
  /** Base URL of the order API, without `/orders`. */
  url: string;
  clientId: string;
  secret: string;
  /** Stack outputs: table, bucket, queue names. */
  outputs: Record<string, string>;
  aws: AwsSettings;
  /** The CloudFormation stack, for a deployed environment. */
  stack?: string;
}

/** The target cannot be found or read (no stack, no output, no client). */
export class TargetUnavailableError extends Error {
  override readonly name = 'TargetUnavailableError';
}

/** `Dev-OrderPipeline`: the stack a Stage named after the environment deploys (infra/app.ts). */
export function defaultStackName(environment: string): string {
  return `${pascal(environment)}-${STACK_ID}`;
}

/** The API's base URL from the `OrdersUrl` output (`https://host/orders`). */
export function baseUrlOf(ordersUrl: string): string {
  return ordersUrl.replace(/\/orders\/?$/, '');
}

/**
 * The stack `npm start` is running (its state file), the demo client and its secret.
 * @throws LocalStackNotRunningError when none is running
 */
export async function localTarget(overrides: { url?: string } = {}): Promise<StressTarget> {
  const local = await readLocalStack();
  return {
    url: overrides.url ?? local.url,
    clientId: local.clientId,
    secret: local.secret,
    outputs: local.outputs,
    aws: localAwsConfig(local.emulatorEndpoint),
  };
}

/** Picks a client and its newest secret out of `{"clients": {"<id>": ["<secret>", ...]}}`. */
export function clientFromSecret(
  secretString: string,
  clientId?: string,
): { clientId: string; secret: string } {
  let clients: Record<string, unknown>;
  try {
    clients = (JSON.parse(secretString) as { clients?: Record<string, unknown> }).clients ?? {};
  } catch {
    throw new TargetUnavailableError('the client secret is not the JSON document CONTRACT.md describes');
  }
  const id = clientId ?? Object.keys(clients)[0];
  const secrets = id === undefined ? undefined : clients[id];
  if (id === undefined || !Array.isArray(secrets) || typeof secrets[0] !== 'string') {
    throw new TargetUnavailableError(
      clientId
        ? `client ${clientId} is not in the client secret (clients: ${Object.keys(clients).join(', ') || 'none'})`
        : 'the client secret holds no client; add one or pass --client',
    );
  }
  return { clientId: id, secret: secrets[0] };
}

/** A deployed environment: outputs of its stack, and a client from its secret. */
export async function deployedTarget(options: {
  config: EnvironmentConfig;
  stack?: string;
  region?: string;
  clientId?: string;
  url?: string;
}): Promise<StressTarget> {
  const stack = options.stack ?? defaultStackName(options.config.name);
  const aws: AwsSettings = { region: options.region ?? options.config.region };
  let outputs: Record<string, string>;
  try {
    const result = await new CloudFormationClient(aws).send(new DescribeStacksCommand({ StackName: stack }));
    outputs = Object.fromEntries(
      (result.Stacks?.[0]?.Outputs ?? []).map((output) => [output.OutputKey ?? '', output.OutputValue ?? '']),
    );
  } catch (error) {
    throw new TargetUnavailableError(
      `cannot describe stack ${stack} in ${aws.region}: ${(error as Error).message}`,
    );
  }
  const ordersUrl = outputs[OUTPUTS.ordersUrl];
  // Signs as the smoke-test client, whose secret is all the post-deploy role may read, unless
  // another client is asked for (then from the client-secrets document).
  const smokeSecretId = options.clientId ? undefined : outputs[OUTPUTS.smokeClientSecretId];
  const secretId = smokeSecretId ?? outputs[OUTPUTS.clientSecretsId];
  if (!ordersUrl || !secretId) {
    throw new TargetUnavailableError(
      `stack ${stack} has no ${OUTPUTS.ordersUrl} or ${OUTPUTS.clientSecretsId} output`,
    );
  }
  let secretString: string;
  try {
    const value = await new SecretsManagerClient(aws).send(
      new GetSecretValueCommand({ SecretId: secretId, VersionStage: CURRENT_SECRET_STAGE }),
    );
    secretString = value.SecretString ?? '';
  } catch (error) {
    throw new TargetUnavailableError(`cannot read the client secret: ${(error as Error).message}`);
  }
  const client = smokeSecretId
    ? { clientId: SMOKE_CLIENT_ID, secret: secretString }
    : clientFromSecret(secretString, options.clientId);
  return {
    url: options.url ?? baseUrlOf(ordersUrl),
    ...client,
    outputs,
    aws,
    stack,
  };
}
