import { CURRENT_SECRET_STAGE } from '../../lambdas/publisher/client-secrets';
import { readFile } from 'node:fs/promises';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { OUTPUTS } from '../../infra/stacks/order-pipeline-stack';
import { localAwsConfig } from '../local/aws-config';
import { STATE_FILE, type LocalStackState } from '../local/stack';

/** Raised when a tool needs the local stack and none is running. */
export class LocalStackNotRunningError extends Error {
  override readonly name = 'LocalStackNotRunningError';
}

/**
 * The running local stack as `npm start` described it (endpoints and outputs, no secret).
 * @throws LocalStackNotRunningError when there is no state file.
 */
export async function readLocalStackState(): Promise<LocalStackState> {
  try {
    return JSON.parse(await readFile(STATE_FILE, 'utf8')) as LocalStackState;
  } catch {
    throw new LocalStackNotRunningError(
      `no local stack is running (no ${STATE_FILE}); start one with: npm start`,
    );
  }
}

/**
 * The running local stack as `npm start` described it, and the demo client's secret read from
 * the emulator's Secrets Manager (the state file holds no secret).
 */
export async function readLocalStack(): Promise<LocalStackState & { secret: string }> {
  const state = await readLocalStackState();
  const secretId = state.outputs[OUTPUTS.clientSecretsId];
  if (!secretId) throw new LocalStackNotRunningError('the local stack state names no client secret');
  try {
    const secrets = new SecretsManagerClient(localAwsConfig(state.emulatorEndpoint));
    const value = await secrets.send(
      new GetSecretValueCommand({ SecretId: secretId, VersionStage: CURRENT_SECRET_STAGE }),
    );
    const clients =
      (JSON.parse(value.SecretString ?? '{}') as { clients?: Record<string, string[]> }).clients ?? {};
    const secret = clients[state.clientId]?.[0];
    if (!secret) throw new Error(`client ${state.clientId} has no secret`);
    return { ...state, secret };
  } catch (error) {
    throw new LocalStackNotRunningError(
      `the local stack in ${STATE_FILE} does not answer (${(error as Error).message}); start one with: npm start`,
    );
  }
}
