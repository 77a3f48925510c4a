/**
 * Which pipeline an operations CLI works on: the local stack that `npm start` runs, or a deployed
 * stack found by its CloudFormation name. Either way the tools read the stack outputs, so no
 * physical name is typed by hand.
 */
import { CloudFormationClient, DescribeStacksCommand, type Stack } from '@aws-sdk/client-cloudformation';
import { OUTPUTS } from '../../infra/stacks/order-pipeline-stack';
import { readLocalStackState } from '../lib/local-state';
import { localAwsConfig } from '../local/aws-config';
import { UsageError } from './cli';

/** SDK client settings: an endpoint and fixed credentials locally, the default chain on AWS. */
export interface ClientSettings {
  region?: string;
  endpoint?: string;
  credentials?: { accessKeyId: string; secretAccessKey: string };
}

/** A pipeline the tools act on. */
export interface StackTarget {
  /** `local` or the CloudFormation stack name. */
  description: string;
  /** Whether it is the local emulator (S3 then needs path-style addressing). */
  local: boolean;
  clients: ClientSettings;
  outputs: Readonly<Record<string, string>>;
}

/** A subscriber's queue and dead-letter queue, from the stack outputs. */
export interface SubscriberQueues {
  /** Subscriber name as in the configuration, e.g. `billing`. */
  name: string;
  queueUrl: string;
  queueArn: string;
  deadLetterQueueUrl: string;
  deadLetterQueueArn: string;
  deadLetterQueueName: string;
}

/** Options `--stack` and `--region` of every CLI. */
export interface TargetOptions {
  stack?: string;
  region?: string;
}

/** The stack outputs of a DescribeStacks answer, by output key. */
export function outputsOf(stack: Pick<Stack, 'Outputs'> | undefined): Record<string, string> {
  const outputs: Record<string, string> = {};
  for (const output of stack?.Outputs ?? []) {
    if (output.OutputKey && output.OutputValue !== undefined) outputs[output.OutputKey] = output.OutputValue;
  }
  return outputs;
}

/** Resolves `--stack` (a deployed stack) or, without it, the running local stack. */
export async function resolveStackTarget({ stack, region }: TargetOptions): Promise<StackTarget> {
  if (stack === undefined) {
    if (region !== undefined) throw new UsageError('--region goes with --stack');
    // The state file, not the demo client's secret: the tools work with any set of clients.
    const local = await readLocalStackState();
    return {
      description: 'local',
      local: true,
      clients: localAwsConfig(local.emulatorEndpoint),
      outputs: local.outputs,
    };
  }
  const clients: ClientSettings = region === undefined ? {} : { region };
  const cloudFormation = new CloudFormationClient(clients);
  const described = await cloudFormation.send(new DescribeStacksCommand({ StackName: stack }));
  const outputs = outputsOf(described.Stacks?.[0]);
  if (outputs[OUTPUTS.ordersTable] === undefined) {
    throw new Error(`stack ${stack} has no ${OUTPUTS.ordersTable} output: is it an order pipeline stack?`);
  }
  return { description: stack, local: false, clients, outputs };
}

/** The value of a stack output. @throws Error naming the output when it is missing. */
export function requireOutput(outputs: Readonly<Record<string, string>>, name: string): string {
  const value = outputs[name];
  if (value === undefined || value === '') throw new Error(`the stack has no output ${name}`);
  return value;
}

/**
 * `arn:aws:sqs:<region>:<account>:<name>` of a queue URL `https://sqs.<region>.amazonaws.com/<account>/<name>`;
 * `region` is used when the host does not name one (the emulator's loopback URLs).
 */
export function queueArnFromUrl(queueUrl: string, region: string): string {
  const url = new URL(queueUrl);
  const [account, name] = url.pathname.split('/').filter(Boolean);
  if (!account || !name) throw new Error(`not a queue URL: ${queueUrl}`);
  const hostRegion = /^sqs\.([a-z0-9-]+)\.amazonaws\.com/.exec(url.hostname)?.[1];
  return `arn:aws:sqs:${hostRegion ?? region}:${account}:${name}`;
}

/**
 * Every subscriber of the stack, from its `<Name>QueueUrl` and `<Name>DeadLetterQueueUrl`
 * outputs (the stack writes one pair per subscriber).
 */
export function subscriberQueues(
  outputs: Readonly<Record<string, string>>,
  region: string,
): SubscriberQueues[] {
  const result: SubscriberQueues[] = [];
  for (const [key, queueUrl] of Object.entries(outputs)) {
    const prefix = /^(.+)QueueUrl$/.exec(key)?.[1];
    if (prefix === undefined || prefix.endsWith('DeadLetter')) continue;
    const deadLetterQueueUrl = outputs[`${prefix}DeadLetterQueueUrl`];
    if (deadLetterQueueUrl === undefined) continue;
    const deadLetterQueueArn = queueArnFromUrl(deadLetterQueueUrl, region);
    result.push({
      name: prefix.charAt(0).toLowerCase() + prefix.slice(1),
      queueUrl,
      queueArn: queueArnFromUrl(queueUrl, region),
      deadLetterQueueUrl,
      deadLetterQueueArn,
      deadLetterQueueName: deadLetterQueueArn.split(':').at(-1) ?? '',
    });
  }
  return result.sort((a, b) => a.name.localeCompare(b.name));
}

/** The subscribers `--queue` names (`all` for every one). @throws UsageError for an unknown name */
export function selectSubscribers(all: SubscriberQueues[], name: string): SubscriberQueues[] {
  if (name === 'all') return all;
  const found = all.find((subscriber) => subscriber.name === name);
  if (!found) {
    throw new UsageError(
      `unknown subscriber ${name}; this stack has: ${all.map((subscriber) => subscriber.name).join(', ')}, all`,
    );
  }
  return [found];
}
