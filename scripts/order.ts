import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { readLocalStack, LocalStackNotRunningError } from './lib/local-state';
import { OrderClient, TERMINAL_STATUSES } from './lib/order-client';

const HELP = `Usage: npm run order -- --file order.json [--url U --client C --secret S] [--timeout S]

Signs and sends one order (POST /orders), then follows its status to a terminal state
(COMPLETED, REJECTED or FAILED) and prints it. Without --url/--client/--secret it talks to the
local stack started by \`npm start\`.

Options:
  --file F       the order JSON to send, sent byte for byte ('-' reads standard input)
  --url U        base URL of the order API
  --client C     client id (X-Client-Id)
  --secret S     client secret (or the ORDER_CLIENT_SECRET environment variable)
  --timeout S    seconds to wait for a terminal status (default 60)
  -h, --help     show this help

Exit status: 0 when the order ends COMPLETED, 1 otherwise, 2 on a usage error.`;

class UsageError extends Error {}

// Lambda runs Node 22; on an older local Node the SDK's upgrade notice is noise here.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      file: { type: 'string' },
      url: { type: 'string' },
      client: { type: 'string' },
      secret: { type: 'string' },
      timeout: { type: 'string', default: '60' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  if (!values.file) throw new UsageError('--file is required');
  const timeoutSeconds = Number(values.timeout);
  if (!(timeoutSeconds > 0)) throw new UsageError(`--timeout must be a positive number of seconds`);
  const body =
    values.file === '-'
      ? await readStdin()
      : await readFile(values.file, 'utf8').catch(() => {
          throw new UsageError(`cannot read ${values.file}`);
        });

  const secret = values.secret ?? process.env.ORDER_CLIENT_SECRET;
  const target =
    values.url && values.client && secret
      ? { url: values.url, clientId: values.client, secret }
      : await readLocalStack().then((local) => ({
          url: values.url ?? local.url,
          clientId: values.client ?? local.clientId,
          secret: secret ?? local.secret,
        }));
  const client = new OrderClient(target);

  const accepted = await client.submit(body);
  console.log(`POST /orders -> ${accepted.status} ${JSON.stringify(accepted.body)}`);
  if (accepted.status !== 202) return 1;
  const orderId = (accepted.body as { order_id: string }).order_id;
  const final = await client.waitForTerminal(orderId, {
    deadlineMs: timeoutSeconds * 1000,
    onStatus: (status) => console.log(`  ${new Date().toISOString()}  ${orderId}  ${status}`),
  });
  console.log(JSON.stringify(final, null, 2));
  if (!final || !TERMINAL_STATUSES.includes(final.status)) {
    console.error(`error: order ${orderId} did not reach a terminal status within ${timeoutSeconds} s`);
    return 1;
  }
  return final.status === 'COMPLETED' ? 0 : 1;
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

main()
  .then((code) => process.exit(code))
  .catch((error: Error) => {
    if (error instanceof UsageError) {
      console.error(`error: ${error.message}\n\n${HELP}`);
      process.exit(2);
    }
    if (error instanceof LocalStackNotRunningError) console.error(`error: ${error.message}`);
    else console.error(`error: ${error.message}`);
    process.exit(1);
  });
