import { writeFile } from 'node:fs/promises';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { OUTPUTS } from '../infra/stacks/order-pipeline-stack';
import { FAILED_ORDERS_HELP, parseFailedOrdersArgs } from './ops/arguments';
import { EXIT, runCli } from './ops/cli';
import { listFailures, toCsv, toJson, toTable } from './ops/failed-orders';
import { requireOutput, resolveStackTarget } from './ops/stack-target';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

async function main(): Promise<number> {
  const command = parseFailedOrdersArgs(process.argv.slice(2));
  if (command.kind === 'help') {
    console.log(FAILED_ORDERS_HELP);
    return EXIT.ok;
  }
  const stack = await resolveStackTarget(command.target);
  const dynamo = DynamoDBDocumentClient.from(new DynamoDBClient(stack.clients));
  const table = requireOutput(stack.outputs, OUTPUTS.failedOrdersTable);
  switch (command.kind) {
    case 'list':
      console.log(
        toTable(await listFailures(dynamo, table, { source: command.source, since: command.since })),
      );
      return EXIT.ok;
    case 'show': {
      const rows = await listFailures(dynamo, table, { orderKeys: [command.orderKey] });
      if (rows.length === 0) {
        console.error(`no failure recorded for order ${command.orderKey}`);
        return EXIT.failed;
      }
      process.stdout.write(toJson(rows));
      return EXIT.ok;
    }
    case 'export': {
      const rows = await listFailures(dynamo, table, { source: command.source, since: command.since });
      const text = command.format === 'csv' ? toCsv(rows) : toJson(rows);
      if (command.out === undefined) process.stdout.write(text);
      else {
        await writeFile(command.out, text);
        console.error(`${rows.length} failure(s) written to ${command.out}`);
      }
      return EXIT.ok;
    }
  }
}

void runCli('failed-orders', main).then((code) => process.exit(code));
