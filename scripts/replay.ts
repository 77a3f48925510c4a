import { S3Client } from '@aws-sdk/client-s3';
import { SNSClient } from '@aws-sdk/client-sns';
import { SQSClient } from '@aws-sdk/client-sqs';
import { OUTPUTS } from '../infra/stacks/order-pipeline-stack';
import { parseReplayArgs, REPLAY_HELP } from './ops/arguments';
import { EXIT, progressBar, runCli } from './ops/cli';
import { replayOrders, selectArchiveKeys, type ReplayTarget } from './ops/replay';
import { requireOutput, resolveStackTarget, selectSubscribers, subscriberQueues } from './ops/stack-target';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

async function main(): Promise<number> {
  const command = parseReplayArgs(process.argv.slice(2));
  if (command.help) {
    console.log(REPLAY_HELP);
    return EXIT.ok;
  }
  const stack = await resolveStackTarget(command.stack);
  const region = stack.clients.region ?? process.env.AWS_REGION ?? '';
  let target: ReplayTarget;
  if (command.target === 'topic') {
    target = { kind: 'topic', topicArn: requireOutput(stack.outputs, OUTPUTS.topicArn) };
  } else {
    const [subscriber] = selectSubscribers(subscriberQueues(stack.outputs, region), command.target);
    if (!subscriber) throw new Error(`no subscriber ${command.target}`);
    target = { kind: 'queue', name: subscriber.name, queueUrl: subscriber.queueUrl };
  }
  const s3 = new S3Client({ ...stack.clients, forcePathStyle: stack.local });
  const bucket = requireOutput(stack.outputs, OUTPUTS.archiveBucket);
  const keys = await selectArchiveKeys(s3, bucket, command.selection);
  const bar = progressBar(command.dryRun ? 'reading' : 'replaying', keys.length);
  const result = await replayOrders({
    s3,
    sns: new SNSClient(stack.clients),
    sqs: new SQSClient(stack.clients),
    bucket,
    keys,
    target,
    dryRun: command.dryRun,
    onProgress: (done) => bar.update(done),
  });
  if (keys.length > 0) bar.finish(keys.length);
  if (command.dryRun) for (const key of keys) console.log(key);
  for (const skipped of result.skipped) console.error(`skipped ${skipped.key}: ${skipped.problem}`);
  const where = target.kind === 'topic' ? 'the orders topic' : `the ${target.name} queue`;
  console.log(
    `${result.selected} archived order(s) selected; ` +
      (command.dryRun ? 'dry run, nothing sent' : `${result.sent} replayed to ${where}`) +
      (result.skipped.length > 0 ? `; ${result.skipped.length} skipped` : ''),
  );
  const wanted = command.selection.orderKeys;
  if (wanted !== undefined && result.selected < wanted.length) {
    console.error(`${wanted.length - result.selected} order(s) not found in the archive`);
    return EXIT.failed;
  }
  return result.skipped.length > 0 ? EXIT.failed : EXIT.ok;
}

void runCli('replay', main).then((code) => process.exit(code));
