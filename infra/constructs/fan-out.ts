import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { pascal } from './naming';

/** How one subscriber's queue is consumed (a subset of the environment's consumer settings). */
export interface ConsumerQueueSettings {
  /** SQS messages per invocation. */
  readonly batchSize: number;
  /** Time the event source mapping gathers a batch; 0 = none. */
  readonly maxBatchingWindowSeconds: number;
  /** Consumer Lambda timeout in seconds (drives the visibility timeout). */
  readonly timeoutSeconds: number;
  /** Receives before a message moves to the DLQ (>= 5). */
  readonly maxReceiveCount: number;
  /** Most concurrent invocations of the queue's mapping (2..1000, at most the consumer's reservation). */
  readonly maxConcurrency: number;
}

/** One subscriber of the orders topic: a queue, its consumer and an optional filter policy. */
export interface FanOutSubscriber {
  /** Subscriber name, unique in the list (construct ids derive from it). */
  readonly name: string;
  /** The Lambda that consumes the subscriber's queue. */
  readonly consumer: lambda.IFunction;
  /** Filter policy on message attributes (`type`, `market`, `currency`); omitted = every event. */
  readonly filterPolicy?: Readonly<Record<string, readonly string[]>>;
  readonly settings: ConsumerQueueSettings;
}

export interface FanOutProps {
  /** The subscribers; adding one is one more entry. */
  readonly subscribers: readonly FanOutSubscriber[];
  /** Consumes every DLQ and records the failure. */
  readonly deadLetterHandler: lambda.IFunction;
  readonly deadLetterHandlerTimeout: Duration;
  readonly deadLetterHandlerBatchSize: number;
  /** Most concurrent invocations of each DLQ's mapping. */
  readonly deadLetterHandlerMaxConcurrency: number;
  readonly removalPolicy: RemovalPolicy;
}

/** The queues that belong to one subscriber. */
export interface SubscriberQueues {
  readonly name: string;
  readonly queue: sqs.Queue;
  /** Where the queue redrives after maxReceiveCount receives. */
  readonly deadLetterQueue: sqs.Queue;
  /** Where SNS puts messages it could not deliver to the queue. */
  readonly subscriptionDeadLetterQueue: sqs.Queue;
  readonly subscription: sns.Subscription;
}

/** DLQs keep messages for the longest time SQS allows, so nothing is lost over a long weekend. */
const DLQ_RETENTION = Duration.days(14);

/**
 * Visibility timeout of a queue consumed by Lambda: 6 x the function timeout plus the batching
 * window (AWS guidance), so a retried invocation never sees a message still being processed.
 */
export function visibilityTimeoutFor(timeoutSeconds: number, maxBatchingWindowSeconds: number): Duration {
  return Duration.seconds(6 * timeoutSeconds + maxBatchingWindowSeconds);
}

/**
 * The orders topic fanned out to one queue per subscriber: raw delivery, optional filter policy,
 * a DLQ for the queue and one for the subscription, everything under a customer-managed key
 * and TLS-only. Every DLQ is consumed by the DLQ handler.
 */
export class FanOut extends Construct {
  /** Key of the topic. */
  public readonly topicKey: kms.Key;
  /** Key of every queue; the topic may use it to write to them (a separate key avoids a cycle). */
  public readonly queueKey: kms.Key;
  public readonly topic: sns.Topic;
  public readonly subscribers: readonly SubscriberQueues[];
  /** Visibility timeout of every DLQ (6 x the DLQ handler's timeout). */
  public readonly deadLetterVisibilityTimeout: Duration;

  constructor(scope: Construct, id: string, props: FanOutProps) {
    super(scope, id);
    const names = props.subscribers.map((subscriber) => subscriber.name);
    if (new Set(names).size !== names.length) throw new Error(`Subscriber names must be unique: ${names}`);

    this.topicKey = new kms.Key(this, 'TopicKey', {
      description: 'Order pipeline orders topic',
      enableKeyRotation: true,
      removalPolicy: props.removalPolicy,
    });
    this.queueKey = new kms.Key(this, 'QueueKey', {
      description: 'Order pipeline subscriber queues and DLQs',
      enableKeyRotation: true,
      removalPolicy: props.removalPolicy,
    });
    this.topic = new sns.Topic(this, 'OrdersTopic', { masterKey: this.topicKey, enforceSSL: true });

    const queue = (
      queueId: string,
      visibilityTimeout: Duration,
      deadLetterQueue?: sqs.IQueue,
      maxReceiveCount?: number,
    ) =>
      new sqs.Queue(this, queueId, {
        encryption: sqs.QueueEncryption.KMS,
        encryptionMasterKey: this.queueKey,
        dataKeyReuse: Duration.minutes(5),
        enforceSSL: true,
        visibilityTimeout,
        retentionPeriod: deadLetterQueue ? Duration.days(4) : DLQ_RETENTION,
        deadLetterQueue:
          deadLetterQueue && maxReceiveCount ? { queue: deadLetterQueue, maxReceiveCount } : undefined,
        removalPolicy: props.removalPolicy,
      });
    const dlqVisibility = visibilityTimeoutFor(props.deadLetterHandlerTimeout.toSeconds(), 0);
    this.deadLetterVisibilityTimeout = dlqVisibility;
    const consumeDeadLetters = (deadLetters: sqs.IQueue) =>
      props.deadLetterHandler.addEventSource(
        new SqsEventSource(deadLetters, {
          batchSize: props.deadLetterHandlerBatchSize,
          maxConcurrency: props.deadLetterHandlerMaxConcurrency,
          reportBatchItemFailures: true,
        }),
      );

    this.subscribers = props.subscribers.map((subscriber) => {
      const { settings } = subscriber;
      if (settings.maxReceiveCount < 5) {
        throw new Error(`Subscriber ${subscriber.name}: maxReceiveCount must be at least 5`);
      }
      const prefix = pascal(subscriber.name);
      const deadLetterQueue = queue(`${prefix}DeadLetterQueue`, dlqVisibility);
      const subscriptionDeadLetterQueue = queue(`${prefix}SubscriptionDeadLetterQueue`, dlqVisibility);
      const mainQueue = queue(
        `${prefix}Queue`,
        visibilityTimeoutFor(settings.timeoutSeconds, settings.maxBatchingWindowSeconds),
        deadLetterQueue,
        settings.maxReceiveCount,
      );
      // SqsSubscription adds the queue policy (sqs:SendMessage for sns.amazonaws.com only when
      // aws:SourceArn is this topic) and lets the topic use the queues' key.
      const subscription = this.topic.addSubscription(
        new subscriptions.SqsSubscription(mainQueue, {
          rawMessageDelivery: true,
          deadLetterQueue: subscriptionDeadLetterQueue,
          filterPolicy: subscriber.filterPolicy ? toFilterPolicy(subscriber.filterPolicy) : undefined,
        }),
      );

      subscriber.consumer.addEventSource(
        new SqsEventSource(mainQueue, {
          batchSize: settings.batchSize,
          maxBatchingWindow:
            settings.maxBatchingWindowSeconds > 0
              ? Duration.seconds(settings.maxBatchingWindowSeconds)
              : undefined,
          maxConcurrency: settings.maxConcurrency,
          reportBatchItemFailures: true,
        }),
      );
      consumeDeadLetters(deadLetterQueue);
      consumeDeadLetters(subscriptionDeadLetterQueue);
      return {
        name: subscriber.name,
        queue: mainQueue,
        deadLetterQueue,
        subscriptionDeadLetterQueue,
        subscription,
      };
    });
  }

  /** Every DLQ (queue redrive targets and subscription DLQs). */
  public get deadLetterQueues(): sqs.Queue[] {
    return this.subscribers.flatMap((subscriber) => [
      subscriber.deadLetterQueue,
      subscriber.subscriptionDeadLetterQueue,
    ]);
  }
}

function toFilterPolicy(
  policy: Readonly<Record<string, readonly string[]>>,
): Record<string, sns.SubscriptionFilter> {
  return Object.fromEntries(
    Object.entries(policy).map(([attribute, values]) => [
      attribute,
      sns.SubscriptionFilter.stringFilter({ allowlist: [...values] }),
    ]),
  );
}
