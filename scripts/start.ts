import { parseArgs } from 'node:util';
import { signRequest } from '../lambdas/shared/signing';
import { rm } from 'node:fs/promises';
import { alarmId } from './local/alarms/definitions';
import { startMonitoring } from './local/alarms/monitoring';
import { ALARM_STATE_FILE, writeAlarmStates } from './local/alarms/state-file';
import { EmulatorUnavailableError } from './local/moto-server';
import { startLocalStack } from './local/stack';

const HELP = `Usage: npm start -- [--port N] [--log-level LEVEL]

Runs the whole order pipeline on this machine, no AWS account needed: moto_server for
DynamoDB, S3, SQS, SNS and Secrets Manager; the synthesized state machine in-process; the
handlers bundled as they deploy; SQS event sources; and the load balancer on loopback.

Options:
  --port N          port of the local load balancer (default 8080; 0 picks a free one)
  --log-level L     handler log level: DEBUG, INFO, WARN or ERROR (default WARN)
  -h, --help        show this help

Stop with Ctrl-C; the emulator stops with it.`;

// Lambda runs Node 22; on an older local Node the SDK's upgrade notice is noise here.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: '8080' },
      'log-level': { type: 'string', default: 'WARN' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(HELP);
    return;
  }
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new UsageError(`--port must be 0..65535, got ${values.port}`);
  const logLevel = String(values['log-level']).toUpperCase();
  if (!['DEBUG', 'INFO', 'WARN', 'ERROR'].includes(logLevel))
    throw new UsageError(`--log-level must be DEBUG, INFO, WARN or ERROR`);

  const started = performance.now();
  const stack = await startLocalStack({
    port,
    logLevel,
    onProgress: (message) => console.log(`[local] ${message}...`),
    emitMetrics: true,
  });
  // The local CloudWatch: every alarm of the template, evaluated in real time; state changes
  // are printed as they happen and kept in .local/alarms.json for `npm run alarms`.
  const monitoring = await startMonitoring(stack, {
    onTransition: (transition) => {
      const delivery = transition.actions
        .map((action) => (action.published ? 'notified' : `not notified: ${action.error}`))
        .join('; ');
      if (transition.from === 'INSUFFICIENT_DATA' && transition.to === 'OK') return;
      console.log(
        `[alarm] ${alarmId(transition.alarm.logicalId)}: ${transition.from} -> ${transition.to} (${transition.reason})${delivery ? ` [${delivery}]` : ''}`,
      );
      void writeAlarmStates(monitoring.alarms.status());
    },
    onNotification: (notification) =>
      console.log(`[alarm] the pager got: ${notification.subject ?? notification.alarmName}`),
  });
  const stateWriter = setInterval(() => void writeAlarmStates(monitoring.alarms.status()), 5_000);
  await writeAlarmStates(monitoring.alarms.status());
  const seconds = ((performance.now() - started) / 1000).toFixed(1);

  const body =
    '{"customer_id":"cust-1","currency":"USD","market":"us","items":[{"product_id":"sku-1","quantity":2,"unit_price":1999}]}';
  const headers = signRequest({
    secret: stack.client.secret,
    clientId: stack.client.clientId,
    method: 'POST',
    path: '/orders',
    body,
  });
  console.log(`
Order pipeline running locally (ready in ${seconds} s)

  URL        ${stack.url}
  client id  ${stack.client.clientId}
  secret     ${stack.client.secret}
  emulator   ${stack.emulatorEndpoint}

Alarms: state changes print here as [alarm] lines; list them with: npm run alarms

Send an order and follow it to the end:
  npm run order -- --file examples/order.json

Or with curl (signature valid for 300 s):
  curl -s -X POST ${stack.url}/orders -H 'content-type: application/json' \\
    -H 'X-Client-Id: ${headers['X-Client-Id']}' -H 'X-Timestamp: ${headers['X-Timestamp']}' \\
    -H 'X-Signature: ${headers['X-Signature']}' \\
    -d '${body}'

Ctrl-C stops everything.`);

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`\n[local] ${signal}: stopping (waiting for running executions)...`);
    clearInterval(stateWriter);
    void monitoring
      .stop()
      .then(() => rm(ALARM_STATE_FILE, { force: true }))
      .then(() => stack.stop())
      .then(() => {
        console.log('[local] stopped');
        process.exit(0);
      });
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
}

class UsageError extends Error {}

main().catch((error: Error) => {
  if (error instanceof UsageError) console.error(`error: ${error.message}\n\n${HELP}`);
  else if (error instanceof EmulatorUnavailableError) console.error(`error: ${error.message}`);
  else console.error(`error: the local stack did not start: ${error.message}`);
  process.exit(1);
});
