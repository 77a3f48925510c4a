/**
 * Moving dead-lettered messages back to the queue they came from, so the consumer tries again
 * once the cause is fixed. On AWS: SQS StartMessageMoveTask. Where that API is missing (the local
 * emulator) a receive / send / delete loop does the same, at least once: a message is deleted from
 * the DLQ only after the source queue has it, so a crash can duplicate but never lose one, and
 * the consumers are idempotent.
 */
import {
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  ListMessageMoveTasksCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  StartMessageMoveTaskCommand,
  type Message,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { OPERATOR_REDRIVE } from '../../lambdas/shared/runtime-contract';
import type { SubscriberQueues } from './stack-target';
import type { FailureRow } from './failed-orders';

/** How a redrive moved the messages. */
export type RedriveMethod = 'move-task' | 'receive-send-delete' | 'dry-run';

/** Outcome of {@link redriveQueue}. */
export interface RedriveResult {
  subscriber: string;
  method: RedriveMethod;
  /** Messages visible in the DLQ when the redrive began. */
  found: number;
  /** Messages now back in the source queue (for a move task: as SQS reports it). */
  moved: number;
  /** Messages whose send failed: still in the DLQ. */
  failed: number;
}

export interface RedriveOptions {
  sqs: Pick<SQSClient, 'send'>;
  subscriber: SubscriberQueues;
  dryRun?: boolean;
  /** Stop after this many messages (receive loop only). */
  maxMessages?: number;
  /** Called with (moved, found) as messages move. */
  onProgress?: (moved: number, found: number) => void;
  /** Poll interval of a running move task, ms. @default 2000 */
  pollIntervalMs?: number;
}

/**
 * Whether an error says the endpoint does not implement the operation, as opposed to a real
 * failure of it: AWS' own codes, or an emulator answering 500/501 with a page that is not an
 * API error at all (moto: "not yet implemented").
 */
export function isUnsupportedOperation(error: unknown): boolean {
  const { name, message } = error as { name?: string; message?: string };
  if (
    ['UnsupportedOperation', 'InvalidAction', 'UnknownOperationException', 'NotImplemented'].includes(
      name ?? '',
    )
  )
    return true;
  const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  const unparseable =
    name === 'SyntaxError' || /Deserialization error|not (yet )?(been )?implemented/i.test(message ?? '');
  return (status === 500 || status === 501) && unparseable;
}

async function visibleMessages(sqs: Pick<SQSClient, 'send'>, queueUrl: string): Promise<number> {
  const attributes = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['ApproximateNumberOfMessages'] }),
  );
  return Number(attributes.Attributes?.ApproximateNumberOfMessages ?? 0);
}

/** Moves every message of a subscriber's DLQ back to its queue (or only counts them). */
export async function redriveQueue(options: RedriveOptions): Promise<RedriveResult> {
  const { sqs, subscriber } = options;
  const found = await visibleMessages(sqs, subscriber.deadLetterQueueUrl);
  const base = { subscriber: subscriber.name, found };
  if (options.dryRun) return { ...base, method: 'dry-run', moved: 0, failed: 0 };
  if (found === 0) return { ...base, method: 'receive-send-delete', moved: 0, failed: 0 };
  try {
    const task = await sqs.send(
      new StartMessageMoveTaskCommand({
        SourceArn: subscriber.deadLetterQueueArn,
        DestinationArn: subscriber.queueArn,
      }),
    );
    const moved = await followMoveTask(options, task.TaskHandle ?? '', found);
    return { ...base, method: 'move-task', moved, failed: 0 };
  } catch (error) {
    if (!isUnsupportedOperation(error)) throw error;
  }
  return { ...base, method: 'receive-send-delete', ...(await receiveSendDelete(options, found)) };
}

async function followMoveTask(options: RedriveOptions, taskHandle: string, found: number): Promise<number> {
  const { sqs, subscriber } = options;
  for (;;) {
    const listed = await sqs.send(
      new ListMessageMoveTasksCommand({ SourceArn: subscriber.deadLetterQueueArn, MaxResults: 10 }),
    );
    const task =
      listed.Results?.find((candidate) => candidate.TaskHandle === taskHandle) ?? listed.Results?.[0];
    const moved = task?.ApproximateNumberOfMessagesMoved ?? 0;
    options.onProgress?.(moved, found);
    if (task?.Status === 'COMPLETED') return moved;
    if (task?.Status === 'FAILED' || task?.Status === 'CANCELLED') {
      throw new Error(`move task ${task.Status.toLowerCase()}: ${task.FailureReason ?? 'no reason given'}`);
    }
    await new Promise((resolve) => setTimeout(resolve, options.pollIntervalMs ?? 2000));
  }
}

async function receiveSendDelete(
  options: RedriveOptions,
  found: number,
): Promise<{ moved: number; failed: number }> {
  const { sqs, subscriber } = options;
  const limit = options.maxMessages ?? Number.POSITIVE_INFINITY;
  let moved = 0;
  let failed = 0;
  let emptyReceives = 0;
  // A message that failed to send comes back after its visibility timeout; don't spin on it.
  const seen = new Set<string>();
  while (moved + failed < limit && emptyReceives < 2) {
    const received = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: subscriber.deadLetterQueueUrl,
        MaxNumberOfMessages: Math.min(10, limit - moved - failed),
        WaitTimeSeconds: 1,
        VisibilityTimeout: 60,
        MessageAttributeNames: ['All'],
      }),
    );
    const messages = (received.Messages ?? []).filter((message) => !seen.has(message.MessageId ?? ''));
    if (messages.length === 0) {
      emptyReceives += 1;
      continue;
    }
    emptyReceives = 0;
    for (const message of messages) seen.add(message.MessageId ?? '');
    const sent = await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: subscriber.queueUrl,
        Entries: messages.map((message, index) => ({
          Id: String(index),
          MessageBody: message.Body ?? '',
          MessageAttributes: message.MessageAttributes,
        })),
      }),
    );
    const delivered: Message[] = (sent.Successful ?? []).flatMap((entry) => {
      const message = messages[Number(entry.Id)];
      return message ? [message] : [];
    });
    failed += messages.length - delivered.length;
    if (delivered.length > 0) {
      await sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: subscriber.deadLetterQueueUrl,
          Entries: delivered.map((message, index) => ({
            Id: String(index),
            ReceiptHandle: message.ReceiptHandle,
          })),
        }),
      );
    }
    moved += delivered.length;
    options.onProgress?.(moved, Math.max(found, moved));
  }
  return { moved, failed };
}

/** Outcome of {@link requeueFailures}. */
export interface RequeueResult {
  subscriber: string;
  /** Failed-orders rows of this subscriber's DLQ that were selected. */
  found: number;
  /** Rows whose body was sent to the source queue. */
  sent: number;
}

/**
 * Redrive for a DLQ that the DLQ handler already drained: sends the body each failed-orders row
 * kept back to the subscriber's queue, marked as an operator's redrive (OPERATOR_REDRIVE): the
 * consumer then makes its side effect (billing record, archive object) once, even though the order
 * is FAILED; the order itself stays FAILED, because FAILED is terminal (CONTRACT.md).
 */
export async function requeueFailures(options: {
  sqs: Pick<SQSClient, 'send'>;
  subscriber: SubscriberQueues;
  rows: readonly FailureRow[];
  dryRun?: boolean;
  onProgress?: (sent: number, found: number) => void;
}): Promise<RequeueResult> {
  const rows = options.rows.filter((row) => row.source === options.subscriber.deadLetterQueueName);
  let sent = 0;
  if (!options.dryRun) {
    for (const row of rows) {
      await options.sqs.send(
        new SendMessageCommand({
          QueueUrl: options.subscriber.queueUrl,
          MessageBody: row.body,
          MessageAttributes: {
            [OPERATOR_REDRIVE.attribute]: { DataType: 'String', StringValue: OPERATOR_REDRIVE.value },
          },
        }),
      );
      sent += 1;
      options.onProgress?.(sent, rows.length);
    }
  }
  return { subscriber: options.subscriber.name, found: rows.length, sent };
}
