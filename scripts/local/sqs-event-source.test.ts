import { DeleteMessageBatchCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { SQSEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { localAwsConfig } from './aws-config';
import type { LocalFunction } from './lambda-runtime';
import { SqsEventSource, type EventSourceMappingSpec } from './sqs-event-source';

const sqsMock = mockClient(SQSClient);

const spec: EventSourceMappingSpec = {
  queueUrl: 'http://127.0.0.1:1/123456789012/billing',
  queueArn: 'arn:aws:sqs:us-east-1:123456789012:billing',
  batchSize: 10,
  maximumBatchingWindowSeconds: 0,
  reportBatchItemFailures: true,
  concurrency: 1,
};

const messages = ['m1', 'm2', 'm3'].map((id) => ({
  MessageId: id,
  ReceiptHandle: `rh-${id}`,
  Body: `{"id":"${id}"}`,
  Attributes: { ApproximateReceiveCount: '2' },
}));

function fakeFunction(invoke: (event: SQSEvent) => Promise<unknown>): LocalFunction & { events: SQSEvent[] } {
  const events: SQSEvent[] = [];
  return {
    events,
    spec: { entry: 'billing' },
    invoke: (event: SQSEvent) => {
      events.push(event);
      return invoke(event);
    },
  } as unknown as LocalFunction & { events: SQSEvent[] };
}

async function deliverOneBatch(fn: LocalFunction, settings = spec): Promise<SqsEventSource> {
  // After the batch, empty long polls that take their time, as SQS's do.
  sqsMock
    .on(ReceiveMessageCommand)
    .resolvesOnce({ Messages: messages })
    .callsFake(async () => {
      await new Promise((resolve) => setTimeout(resolve, 20));
      return { Messages: [] };
    });
  sqsMock.on(DeleteMessageBatchCommand).resolves({});
  const source = new SqsEventSource(settings, fn, localAwsConfig('http://127.0.0.1:1'));
  source.start();
  const deadline = Date.now() + 5000;
  while (
    source.stats.invocations === 0 ||
    (source.stats.succeeded + source.stats.failed < messages.length && Date.now() < deadline)
  ) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  await source.stop();
  return source;
}

afterEach(() => {
  sqsMock.reset();
});

describe('SqsEventSource', () => {
  it('hands the batch to the function as an SQS event and deletes every message on success', async () => {
    // Prepare
    const fn = fakeFunction(async () => ({ batchItemFailures: [] }));
    // Act
    const source = await deliverOneBatch(fn);
    // Assess
    expect(fn.events[0]?.Records.map((record) => [record.messageId, record.eventSourceARN])).toEqual([
      ['m1', spec.queueArn],
      ['m2', spec.queueArn],
      ['m3', spec.queueArn],
    ]);
    expect(fn.events[0]?.Records[0]?.attributes.ApproximateReceiveCount).toBe('2');
    expect(sqsMock.commandCalls(DeleteMessageBatchCommand)[0]?.args[0].input.Entries).toEqual([
      { Id: '0', ReceiptHandle: 'rh-m1' },
      { Id: '1', ReceiptHandle: 'rh-m2' },
      { Id: '2', ReceiptHandle: 'rh-m3' },
    ]);
    expect(source.stats).toMatchObject({ invocations: 1, succeeded: 3, failed: 0 });
  });

  it('leaves the reported failures on the queue and deletes the rest', async () => {
    // Prepare
    const fn = fakeFunction(async () => ({ batchItemFailures: [{ itemIdentifier: 'm2' }] }));
    // Act
    const source = await deliverOneBatch(fn);
    // Assess
    expect(sqsMock.commandCalls(DeleteMessageBatchCommand)[0]?.args[0].input.Entries).toEqual([
      { Id: '0', ReceiptHandle: 'rh-m1' },
      { Id: '1', ReceiptHandle: 'rh-m3' },
    ]);
    expect(source.stats).toMatchObject({ succeeded: 2, failed: 1 });
  });

  it('deletes nothing when the function throws: the whole batch comes back after its visibility timeout', async () => {
    // Prepare
    const fn = fakeFunction(async () => {
      throw new Error('crash');
    });
    // Act
    const source = await deliverOneBatch(fn);
    // Assess
    expect(sqsMock.commandCalls(DeleteMessageBatchCommand)).toHaveLength(0);
    expect(source.stats).toMatchObject({ succeeded: 0, failed: 3 });
  });

  it('ignores batchItemFailures unless the mapping reports batch item failures', async () => {
    // Prepare
    const fn = fakeFunction(async () => ({ batchItemFailures: [{ itemIdentifier: 'm2' }] }));
    // Act
    await deliverOneBatch(fn, { ...spec, reportBatchItemFailures: false });
    // Assess
    expect(sqsMock.commandCalls(DeleteMessageBatchCommand)[0]?.args[0].input.Entries).toHaveLength(3);
  });

  it('deletes a batch larger than ten in chunks of ten, as DeleteMessageBatch requires', async () => {
    // Prepare: a batching window lets two receives (10 + 2) fill one batch of 12
    const many = Array.from({ length: 12 }, (_, index) => ({
      MessageId: `n${index}`,
      ReceiptHandle: `rh-n${index}`,
      Body: '{}',
    }));
    sqsMock
      .on(ReceiveMessageCommand)
      .resolvesOnce({ Messages: many.slice(0, 10) })
      .resolvesOnce({ Messages: many.slice(10) })
      .callsFake(async () => {
        await new Promise((resolve) => setTimeout(resolve, 20));
        return { Messages: [] };
      });
    sqsMock.on(DeleteMessageBatchCommand).resolves({});
    const fn = fakeFunction(async () => ({ batchItemFailures: [] }));
    const source = new SqsEventSource(
      { ...spec, batchSize: 20, maximumBatchingWindowSeconds: 1 },
      fn,
      localAwsConfig('http://127.0.0.1:1'),
    );
    // Act
    source.start();
    while (source.stats.succeeded < 12) await new Promise((resolve) => setTimeout(resolve, 10));
    await source.stop();
    // Assess
    expect(fn.events[0]?.Records).toHaveLength(12);
    expect(
      sqsMock.commandCalls(DeleteMessageBatchCommand).map((call) => call.args[0].input.Entries?.length),
    ).toEqual([10, 2]);
  });
});
