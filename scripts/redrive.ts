import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { OUTPUTS } from '../infra/stacks/order-pipeline-stack';
import { parseRedriveArgs, REDRIVE_HELP } from './ops/arguments';
import { EXIT, progressBar, runCli } from './ops/cli';
import { listFailures } from './ops/failed-orders';
import { redriveQueue, requeueFailures } from './ops/redrive';
import { requireOutput, resolveStackTarget, selectSubscribers, subscriberQueues } from './ops/stack-target';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

async function main(): Promise<number> {
  const command = parseRedriveArgs(process.argv.slice(2));
  if (command.help) {
    console.log(REDRIVE_HELP);
    return EXIT.ok;
  }
  const target = await resolveStackTarget(command.target);
  const region = target.clients.region ?? process.env.AWS_REGION ?? '';
  const subscribers = selectSubscribers(subscriberQueues(target.outputs, region), command.queue);
  const sqs = new SQSClient(target.clients);
  let failed = 0;
  for (const subscriber of subscribers) {
    let bar: ReturnType<typeof progressBar> | undefined;
    const onProgress = (done: number, total: number) => {
      bar ??= progressBar(subscriber.name, total);
      bar.update(done);
    };
    if (command.fromTable) {
      const dynamo = DynamoDBDocumentClient.from(new DynamoDBClient(target.clients));
      const rows = await listFailures(dynamo, requireOutput(target.outputs, OUTPUTS.failedOrdersTable), {
        source: subscriber.deadLetterQueueName,
        orderKeys: command.orderKeys,
      });
      const result = await requeueFailures({
        sqs,
        subscriber,
        rows,
        dryRun: command.dryRun,
        onProgress,
      });
      console.log(
        `${subscriber.name}: ${result.found} failed-orders row(s) of ${subscriber.deadLetterQueueName}; ` +
          `${command.dryRun ? 'dry run, nothing sent' : `${result.sent} sent back to the queue`}`,
      );
      continue;
    }
    const result = await redriveQueue({
      sqs,
      subscriber,
      dryRun: command.dryRun,
      maxMessages: command.maxMessages,
      onProgress,
    });
    bar?.finish(result.moved);
    failed += result.failed;
    console.log(
      `${subscriber.name}: ${result.found} message(s) in ${subscriber.deadLetterQueueName}; ` +
        (command.dryRun
          ? 'dry run, nothing moved'
          : `${result.moved} moved back (${result.method})${result.failed > 0 ? `, ${result.failed} failed to send (still in the DLQ)` : ''}`),
    );
  }
  return failed > 0 ? EXIT.failed : EXIT.ok;
}

void runCli('redrive', main).then((code) => process.exit(code));
