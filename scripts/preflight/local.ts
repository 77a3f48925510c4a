import { localAwsConfig } from '../local/aws-config';
import type { LocalStackState } from '../local/stack';
import { preflightClients } from './clients';
import type { PreflightOptions } from './run';
import type { PreflightClients } from './types';

/**
 * The preflight against the stack `npm start` runs: every client points at its emulator, and the
 * stack is the one its state file describes (the local stack is not a CloudFormation stack).
 */
export function localPreflight(state: LocalStackState): {
  clients: PreflightClients;
  readStack: NonNullable<PreflightOptions['readStack']>;
} {
  const emulator = localAwsConfig(state.emulatorEndpoint);
  return {
    clients: preflightClients({ region: emulator.region, emulator }),
    readStack: () =>
      Promise.resolve({
        result: {
          check: 'stack',
          status: 'pass',
          summary: `the local stack of npm start (pid ${state.pid}) answers on ${state.emulatorEndpoint}`,
        },
        deployed: { status: 'RUNNING', outputs: state.outputs },
      }),
  };
}
