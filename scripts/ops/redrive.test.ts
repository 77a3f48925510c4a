import {
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  ListMessageMoveTasksCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  SQSClient,
  SQSServiceException,
  StartMessageMoveTaskCommand,
} from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import type { FailureRow } from './failed-orders';
import { isUnsupportedOperation, redriveQueue, requeueFailures } from './redrive';
import type { SubscriberQueues } from './stack-target';

const sqsMock = mockClient(SQSClient);
const sqs = new SQSClient({ region: 'us-east-1' });

const billing: SubscriberQueues = {
  name: 'billing',
  queueUrl: 'https://sqs.us-east-1.amazonaws.com/1/billing-q',
  queueArn: 'arn:aws:sqs:us-east-1:1:billing-q',
  deadLetterQueueUrl: 'https://sqs.us-east-1.amazonaws.com/1/billing-dlq',
  deadLetterQueueArn: 'arn:aws:sqs:us-east-1:1:billing-dlq',
  deadLetterQueueName: 'billing-dlq',
};

/** moto's answer to an operation it does not implement: a 500 page, not an API error. */
function notImplemented(): Error {
  return Object.assign(new SyntaxError('Unexpected token \'<\', "<!doctype "... is not valid JSON'), {
    $metadata: { httpStatusCode: 500 },
  });
}

function visible(count: number) {
  sqsMock
    .on(GetQueueAttributesCommand)
    .resolves({ Attributes: { ApproximateNumberOfMessages: String(count) } });
}

const message = (id: string) => ({
  MessageId: id,
  ReceiptHandle: `rh-${id}`,
  Body: `{"id":"${id}"}`,
  MessageAttributes: { market: { DataType: 'String', StringValue: 'us' } },
});

afterEach(() => {
  sqsMock.reset();
});

describe('isUnsupportedOperation', () => {
  it('recognises AWS codes and an emulator page, not a real failure of the operation', () => {
    // Act / Assess
    expect(isUnsupportedOperation(notImplemented())).toBe(true);
    expect(
      isUnsupportedOperation(
        new SQSServiceException({
          name: 'UnsupportedOperation',
          $fault: 'client',
          $metadata: { httpStatusCode: 400 },
        }),
      ),
    ).toBe(true);
    expect(
      isUnsupportedOperation(
        new SQSServiceException({
          name: 'AccessDenied',
          $fault: 'client',
          $metadata: { httpStatusCode: 403 },
        }),
      ),
    ).toBe(false);
    expect(
      isUnsupportedOperation(Object.assign(new Error('internal'), { $metadata: { httpStatusCode: 500 } })),
    ).toBe(false);
  });
});

describe('redriveQueue', () => {
  it('counts and moves nothing on a dry run', async () => {
    // Prepare
    visible(7);
    // Act
    const result = await redriveQueue({ sqs, subscriber: billing, dryRun: true });
    // Assess
    expect(result).toEqual({ subscriber: 'billing', method: 'dry-run', found: 7, moved: 0, failed: 0 });
    expect(sqsMock.commandCalls(StartMessageMoveTaskCommand)).toHaveLength(0);
    expect(sqsMock.commandCalls(ReceiveMessageCommand)).toHaveLength(0);
  });

  it('starts a message move task from the DLQ to the queue and follows it to the end', async () => {
    // Prepare
    visible(3);
    sqsMock.on(StartMessageMoveTaskCommand).resolves({ TaskHandle: 'task-1' });
    sqsMock
      .on(ListMessageMoveTasksCommand)
      .resolvesOnce({
        Results: [{ TaskHandle: 'task-1', Status: 'RUNNING', ApproximateNumberOfMessagesMoved: 1 }],
      })
      .resolves({
        Results: [{ TaskHandle: 'task-1', Status: 'COMPLETED', ApproximateNumberOfMessagesMoved: 3 }],
      });
    const progress: number[] = [];
    // Act
    const result = await redriveQueue({
      sqs,
      subscriber: billing,
      pollIntervalMs: 1,
      onProgress: (moved) => progress.push(moved),
    });
    // Assess
    expect(result).toEqual({ subscriber: 'billing', method: 'move-task', found: 3, moved: 3, failed: 0 });
    expect(sqsMock.commandCalls(StartMessageMoveTaskCommand)[0]?.args[0].input).toEqual({
      SourceArn: billing.deadLetterQueueArn,
      DestinationArn: billing.queueArn,
    });
    expect(progress).toEqual([1, 3]);
  });

  it('reports a move task that failed', async () => {
    // Prepare
    visible(3);
    sqsMock.on(StartMessageMoveTaskCommand).resolves({ TaskHandle: 'task-1' });
    sqsMock
      .on(ListMessageMoveTasksCommand)
      .resolves({ Results: [{ TaskHandle: 'task-1', Status: 'FAILED', FailureReason: 'AccessDenied' }] });
    // Act / Assess
    await expect(redriveQueue({ sqs, subscriber: billing, pollIntervalMs: 1 })).rejects.toThrow(
      'move task failed: AccessDenied',
    );
  });

  it('falls back to receive, send, delete where the move API is missing; deletes only what was sent', async () => {
    // Prepare
    visible(3);
    sqsMock.on(StartMessageMoveTaskCommand).rejects(notImplemented());
    sqsMock
      .on(ReceiveMessageCommand)
      .resolvesOnce({ Messages: [message('m1'), message('m2'), message('m3')] })
      .resolves({ Messages: [] });
    sqsMock.on(SendMessageBatchCommand).resolves({
      Successful: [
        { Id: '0', MessageId: 'n1', MD5OfMessageBody: '' },
        { Id: '2', MessageId: 'n3', MD5OfMessageBody: '' },
      ],
      Failed: [{ Id: '1', Code: 'InternalError', SenderFault: false }],
    });
    sqsMock.on(DeleteMessageBatchCommand).resolves({ Successful: [], Failed: [] });
    // Act
    const result = await redriveQueue({ sqs, subscriber: billing });
    // Assess
    expect(result).toEqual({
      subscriber: 'billing',
      method: 'receive-send-delete',
      found: 3,
      moved: 2,
      failed: 1,
    });
    const sent = sqsMock.commandCalls(SendMessageBatchCommand)[0]?.args[0].input;
    expect(sent?.QueueUrl).toBe(billing.queueUrl);
    expect(sent?.Entries?.[0]).toEqual({
      Id: '0',
      MessageBody: '{"id":"m1"}',
      MessageAttributes: { market: { DataType: 'String', StringValue: 'us' } },
    });
    const deleted = sqsMock.commandCalls(DeleteMessageBatchCommand)[0]?.args[0].input;
    expect(deleted?.QueueUrl).toBe(billing.deadLetterQueueUrl);
    expect(deleted?.Entries?.map((entry) => entry.ReceiptHandle)).toEqual(['rh-m1', 'rh-m3']);
  });

  it('stops at --max messages', async () => {
    // Prepare
    visible(30);
    sqsMock.on(StartMessageMoveTaskCommand).rejects(notImplemented());
    sqsMock.on(ReceiveMessageCommand).callsFake((input: { MaxNumberOfMessages: number }) => ({
      Messages: Array.from({ length: input.MaxNumberOfMessages }, () => message(Math.random().toString(36))),
    }));
    sqsMock.on(SendMessageBatchCommand).callsFake((input: { Entries: Array<{ Id: string }> }) => ({
      Successful: input.Entries.map((entry) => ({ Id: entry.Id, MessageId: 'x', MD5OfMessageBody: '' })),
    }));
    sqsMock.on(DeleteMessageBatchCommand).resolves({});
    // Act
    const result = await redriveQueue({ sqs, subscriber: billing, maxMessages: 13 });
    // Assess
    expect(result.moved).toBe(13);
    expect(
      sqsMock.commandCalls(ReceiveMessageCommand).map((call) => call.args[0].input.MaxNumberOfMessages),
    ).toEqual([10, 3]);
  });

  it('does not try to move an empty DLQ, and passes real errors on', async () => {
    // Prepare
    visible(0);
    // Act / Assess
    expect((await redriveQueue({ sqs, subscriber: billing })).moved).toBe(0);
    expect(sqsMock.commandCalls(StartMessageMoveTaskCommand)).toHaveLength(0);
    visible(1);
    sqsMock.on(StartMessageMoveTaskCommand).rejects(
      new SQSServiceException({
        name: 'AccessDenied',
        message: 'AccessDenied',
        $fault: 'client',
        $metadata: {},
      }),
    );
    await expect(redriveQueue({ sqs, subscriber: billing })).rejects.toThrow('AccessDenied');
  });
});

describe('requeueFailures', () => {
  const row = (orderId: string, source: string): FailureRow => ({
    order_key: `acme#${orderId}`,
    order_id: orderId,
    client_id: 'acme',
    failure_id: `${source}#m-${orderId}`,
    source,
    receive_count: 5,
    error: 'not processed after 5 receive(s)',
    body: `{"order":{"order_id":"${orderId}"}}`,
    failed_at: '2026-01-02T03:04:05.000Z',
  });

  it("sends back the kept body of this subscriber's rows only, marked as an operator's redrive", async () => {
    // Prepare
    sqsMock.on(SendMessageCommand).resolves({});
    // Act
    const result = await requeueFailures({
      sqs,
      subscriber: billing,
      rows: [row('o-1', 'billing-dlq'), row('o-2', 'archive-dlq'), row('o-3', 'billing-dlq')],
    });
    // Assess
    expect(result).toEqual({ subscriber: 'billing', found: 2, sent: 2 });
    // The mark lets the consumer make the side effect of an order the DLQ handler marked FAILED.
    const redrive = { 'operator-redrive': { DataType: 'String', StringValue: 'failed-order' } };
    expect(sqsMock.commandCalls(SendMessageCommand).map((call) => call.args[0].input)).toEqual([
      { QueueUrl: billing.queueUrl, MessageBody: '{"order":{"order_id":"o-1"}}', MessageAttributes: redrive },
      { QueueUrl: billing.queueUrl, MessageBody: '{"order":{"order_id":"o-3"}}', MessageAttributes: redrive },
    ]);
  });

  it('sends nothing on a dry run', async () => {
    const result = await requeueFailures({
      sqs,
      subscriber: billing,
      rows: [row('o-1', 'billing-dlq')],
      dryRun: true,
    });
    expect(result).toEqual({ subscriber: 'billing', found: 1, sent: 0 });
    expect(sqsMock.commandCalls(SendMessageCommand)).toHaveLength(0);
  });
});
