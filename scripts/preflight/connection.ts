import { GetConnectionCommand, ResourceNotFoundException } from '@aws-sdk/client-codestar-connections';
import { failedCall } from './aws-errors';
import type { CheckResult, PreflightClients, PreflightTarget } from './types';

/**
 * The pipeline's CodeConnections connection is AVAILABLE. One made by the console, the CLI or
 * CloudFormation stays PENDING until someone completes the handshake with the provider in the
 * console, and every Source action fails until then.
 * The codestar-connections API serves `arn:aws:codeconnections:` ARNs as well: its ConnectionArn
 * pattern takes any service prefix.
 * https://docs.aws.amazon.com/codestar-connections/latest/APIReference/API_Connection.html
 */
export async function checkConnection(
  clients: Pick<PreflightClients, 'connections'>,
  target: PreflightTarget,
): Promise<CheckResult> {
  const check = 'connection';
  if (!target.delivery) {
    return {
      check,
      status: 'skip',
      summary: `no pipeline deploys ${target.environment}: no connection to check`,
    };
  }
  const arn = target.delivery.connectionArn;
  const consolePath = `Developer Tools > Settings > Connections in the tooling account ${target.delivery.toolingAccount}`;
  let connection;
  try {
    connection = (await clients.connections.send(new GetConnectionCommand({ ConnectionArn: arn })))
      .Connection;
  } catch (error) {
    if (error instanceof ResourceNotFoundException) {
      return {
        check,
        status: 'fail',
        summary: `no connection ${arn}`,
        fix: `create a connection to the repository's host in ${consolePath}, authorize it, and put its ARN in environments/delivery`,
      };
    }
    return failedCall(check, 'codeconnections:GetConnection (tooling account, --tooling-profile)', error);
  }
  const status = connection?.ConnectionStatus ?? 'UNKNOWN';
  if (status !== 'AVAILABLE') {
    return {
      check,
      status: 'fail',
      summary: `connection ${connection?.ConnectionName ?? arn} is ${status}, not AVAILABLE: the pipeline's Source stage fails`,
      fix:
        status === 'PENDING'
          ? `open ${consolePath}, choose the connection, "Update pending connection" and authorize the app`
          : `recreate the connection in ${consolePath} and put its ARN in environments/delivery`,
    };
  }
  return {
    check,
    status: 'pass',
    summary: `connection ${connection?.ConnectionName ?? arn} (${connection?.ProviderType ?? 'provider'}) is AVAILABLE`,
  };
}
