import {
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SQSClient,
  type Message,
} from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { LOCAL_REGION, type AwsClientConfig } from './aws-config';
import type { LocalFunction } from './lambda-runtime';

/** An `AWS::Lambda::EventSourceMapping` of the template, resolved. */
export interface EventSourceMappingSpec {
  queueUrl: string;
  queueArn: string;
  batchSize: number;
  maximumBatchingWindowSeconds: number;
  reportBatchItemFailures: boolean;
  /** Pollers working the queue at once (Lambda's scaling, kept small on one machine). */
  concurrency: number;
}

/** Sees what the pollers receive and delete; set by the local CloudWatch. */
export interface QueueActivityObserver {
  received(source: SqsEventSource, messages: readonly Message[]): void;
  deleted(source: SqsEventSource, messages: readonly Message[]): void;
}

/** Counters of one event source, for the console and the tests. */
export interface EventSourceStats {
  invocations: number;
  succeeded: number;
  failed: number;
}

/**
 * Emulates Lambda's SQS event source: long-polls the queue, gathers a batch up to its size or
 * batching window, invokes the function, deletes what succeeded and leaves failures to come back
 * after the visibility timeout, so that the emulator's redrive moves them to the DLQ after
 * maxReceiveCount receives.
 */
export class SqsEventSource {
  readonly stats: EventSourceStats = { invocations: 0, succeeded: 0, failed: 0 };
  private readonly sqs: SQSClient;
  private running = false;
  private loops: Array<Promise<void>> = [];
  private abort = new AbortController();
  /** Sees received and deleted messages; set by the local CloudWatch. */
  observer: QueueActivityObserver | undefined;

  constructor(
    readonly spec: EventSourceMappingSpec,
    readonly fn: LocalFunction,
    aws: AwsClientConfig,
    private readonly onError: (error: Error) => void = () => undefined,
  ) {
    this.sqs = new SQSClient(aws);
  }

  /** Whether the pollers run: false after {@link stop}, like a disabled event source mapping. */
  get enabled(): boolean {
    return this.running;
  }

  /** Starts polling; after {@link stop} it starts again, like re-enabling the mapping. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.abort = new AbortController();
    // Lambda reads the queue's attributes when a mapping is enabled (it needs sqs:GetQueueAttributes).
    Promise.resolve()
      .then(() =>
        this.sqs.send(
          new GetQueueAttributesCommand({
            QueueUrl: this.spec.queueUrl,
            AttributeNames: ['VisibilityTimeout'],
          }),
        ),
      )
      .catch((error: Error) => this.onError(error));
    this.loops = Array.from({ length: this.spec.concurrency }, () => this.poll());
  }

  /** Stops polling once the batches in hand are delivered; messages stay in the queue. */
  async stop(): Promise<void> {
    this.running = false;
    this.abort.abort();
    await Promise.allSettled(this.loops);
  }

  private async poll(): Promise<void> {
    while (this.running) {
      try {
        const batch = await this.gatherBatch();
        if (batch.length > 0) await this.deliver(batch);
      } catch (error) {
        if (!this.running) return;
        this.onError(error as Error);
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    }
  }

  private async gatherBatch(): Promise<Message[]> {
    const batch: Message[] = [];
    const windowEnds = Date.now() + this.spec.maximumBatchingWindowSeconds * 1000;
    do {
      const received = await this.sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: this.spec.queueUrl,
          MaxNumberOfMessages: Math.min(10, this.spec.batchSize - batch.length),
          WaitTimeSeconds: 1,
          MessageSystemAttributeNames: ['All'],
          MessageAttributeNames: ['All'],
        }),
        { abortSignal: this.abort.signal },
      );
      if (received.Messages?.length) this.observer?.received(this, received.Messages);
      batch.push(...(received.Messages ?? []));
    } while (
      this.running &&
      batch.length > 0 &&
      batch.length < this.spec.batchSize &&
      Date.now() < windowEnds
    );
    return batch;
  }

  private async deliver(messages: Message[]): Promise<void> {
    const event: SQSEvent = { Records: messages.map((message) => this.toRecord(message)) };
    this.stats.invocations += 1;
    let failedIds = new Set<string>();
    try {
      const response = (await this.fn.invoke(event)) as SQSBatchResponse | null;
      if (this.spec.reportBatchItemFailures && response?.batchItemFailures) {
        failedIds = new Set(response.batchItemFailures.map((failure) => failure.itemIdentifier));
      }
    } catch (error) {
      // A thrown error fails the whole batch: every message returns after its visibility timeout.
      this.stats.failed += messages.length;
      this.onError(error as Error);
      return;
    }
    const succeeded = messages.filter((message) => !failedIds.has(message.MessageId ?? ''));
    this.stats.failed += messages.length - succeeded.length;
    this.stats.succeeded += succeeded.length;
    // DeleteMessageBatch takes ten entries at a time; batches may be larger.
    for (let start = 0; start < succeeded.length; start += 10) {
      const chunk = succeeded.slice(start, start + 10);
      const deleted = await this.sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: this.spec.queueUrl,
          Entries: chunk.map((message, index) => ({
            Id: String(start + index),
            ReceiptHandle: message.ReceiptHandle,
          })),
        }),
      );
      const failedIds = new Set((deleted.Failed ?? []).map((failure) => failure.Id));
      this.observer?.deleted(
        this,
        chunk.filter((_message, index) => !failedIds.has(String(start + index))),
      );
      for (const failure of deleted.Failed ?? []) {
        this.onError(new Error(`could not delete message ${failure.Id}: ${failure.Message ?? failure.Code}`));
      }
    }
  }

  private toRecord(message: Message): SQSRecord {
    const attributes = message.Attributes ?? {};
    return {
      messageId: message.MessageId ?? '',
      receiptHandle: message.ReceiptHandle ?? '',
      body: message.Body ?? '',
      attributes: {
        ApproximateReceiveCount: attributes.ApproximateReceiveCount ?? '1',
        SentTimestamp: attributes.SentTimestamp ?? String(Date.now()),
        SenderId: attributes.SenderId ?? 'local',
        ApproximateFirstReceiveTimestamp: attributes.ApproximateFirstReceiveTimestamp ?? String(Date.now()),
      },
      messageAttributes: Object.fromEntries(
        Object.entries(message.MessageAttributes ?? {}).map(([name, value]) => [
          name,
          {
            dataType: value.DataType ?? 'String',
            stringValue: value.StringValue,
            stringListValues: [],
            binaryListValues: [],
          },
        ]),
      ),
      md5OfBody: message.MD5OfBody ?? '',
      eventSource: 'aws:sqs',
      eventSourceARN: this.spec.queueArn,
      awsRegion: LOCAL_REGION,
    };
  }
}
