import { GetQueueAttributesCommand, SQSClient, type Message } from '@aws-sdk/client-sqs';
import type { AlbRequestOutcome } from '../alb';
import type { InvocationOutcome, LocalFunction } from '../lambda-runtime';
import type { ExecutionRecord } from '../step-functions';
import type { LocalStack } from '../stack';
import type { Clock } from './clock';
import { parseEmf } from './emf';
import { MetricStore, type Dimensions } from './metric-store';

/** How often queue depths are sampled, in clock time (AWS/SQS publishes one-minute metrics). */
const QUEUE_SAMPLE_MS = 15_000;

/**
 * CloudWatch for the local stack: records the metrics AWS services would publish for what the
 * stack does, in the namespaces, names, units and dimensions the AWS documentation gives, and
 * the handlers' own EMF metrics:
 *
 * - EMF lines the handlers write (Powertools Metrics), extracted as CloudWatch Logs does;
 * - AWS/Lambda: Invocations, Errors, Throttles, Duration, ConcurrentExecutions by FunctionName,
 *   and for invocations through an alias by FunctionName+Resource and
 *   FunctionName+Resource+ExecutedVersion
 *   (https://docs.aws.amazon.com/lambda/latest/dg/monitoring-metrics-types.html);
 * - AWS/ApplicationELB: RequestCount, HTTPCode_Target_nXX_Count, HTTPCode_ELB_nXX_Count,
 *   TargetResponseTime (seconds), LambdaUserError, by LoadBalancer and LoadBalancer+TargetGroup
 *   (https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-cloudwatch-metrics.html);
 * - AWS/SQS by QueueName: NumberOfMessagesSent / Received / Deleted, ApproximateNumberOfMessages
 *   Visible / NotVisible / Delayed and ApproximateAgeOfOldestMessage
 *   (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-available-cloudwatch-metrics.html);
 * - AWS/States by StateMachineArn: ExecutionsStarted / Succeeded / Failed / TimedOut / Aborted,
 *   ExecutionTime (https://docs.aws.amazon.com/step-functions/latest/dg/procedure-cw-metrics.html).
 *
 * Not emitted, because nothing local produces them: AWS/DynamoDB throttle events (the emulator
 * never throttles), AWS/States ExecutionThrottled (no StartExecution quota locally).
 */
export class LocalCloudWatch {
  readonly store = new MetricStore();
  private readonly queues: QueueTracker[] = [];
  private readonly targetGroupNames = new Map<string, string>();
  private loadBalancerName = '';
  private sampler: NodeJS.Timeout | undefined;
  private readonly detach: Array<() => void> = [];

  constructor(readonly clock: Clock) {}

  /** Starts recording the metrics of `stack` (start it with `emitMetrics: true` for EMF). */
  attach(stack: LocalStack): this {
    for (const fn of stack.functions) {
      fn.observer = {
        started: (target, concurrent, _version, resource) => this.concurrency(target, concurrent, resource),
        finished: (target, outcome) => this.invocation(target, outcome),
        output: (_target, line) => this.emf(line),
      };
      this.detach.push(() => (fn.observer = undefined));
    }

    const { templates } = stack;
    for (const ref of templates.resourcesOfType('AWS::ElasticLoadBalancingV2::LoadBalancer')) {
      this.loadBalancerName = String(
        templates.resolve(ref.stack, { 'Fn::GetAtt': [ref.logicalId, 'LoadBalancerFullName'] }),
      );
    }
    for (const ref of templates.resourcesOfType('AWS::ElasticLoadBalancingV2::TargetGroup')) {
      this.targetGroupNames.set(
        templates.resolveString(ref.stack, { Ref: ref.logicalId }),
        String(templates.resolve(ref.stack, { 'Fn::GetAtt': [ref.logicalId, 'TargetGroupFullName'] })),
      );
    }
    stack.loadBalancer.observer = (outcome) => this.request(outcome);
    this.detach.push(() => (stack.loadBalancer.observer = undefined));

    stack.stepFunctions.observer = {
      started: (record) => this.execution(record, 'ExecutionsStarted'),
      finished: (record) => this.executionEnd(record),
    };
    this.detach.push(() => (stack.stepFunctions.observer = undefined));

    const sqs = new SQSClient(stack.aws);
    for (const queue of stack.resources.queues) {
      this.queues.push(new QueueTracker(queue.name, queue.url, queue.arn, sqs, this.store, this.clock));
    }
    const byArn = new Map(this.queues.map((tracker) => [tracker.arn, tracker]));
    for (const source of stack.eventSources) {
      const tracker = byArn.get(source.spec.queueArn);
      if (!tracker) continue;
      source.observer = {
        received: (_source, messages) => tracker.received(messages, this.queues),
        deleted: (_source, messages) => tracker.deleted(messages),
      };
      this.detach.push(() => (source.observer = undefined));
    }
    const sampleEvery = Math.max(100, QUEUE_SAMPLE_MS / this.clock.speed);
    this.sampler = setInterval(() => void this.sampleQueues(), sampleEvery);
    return this;
  }

  /** Stops recording; the datapoints stay readable. */
  close(): void {
    if (this.sampler) clearInterval(this.sampler);
    for (const undo of this.detach.splice(0)) undo();
  }

  /** Samples every queue's depth now (also done on a timer). */
  async sampleQueues(): Promise<void> {
    await Promise.all(this.queues.map((tracker) => tracker.sample().catch(() => undefined)));
  }

  private put(namespace: string, metricName: string, dimensions: Dimensions, value: number, unit: string) {
    this.store.put({ namespace, metricName, dimensions, value, unit, timestamp: this.clock.now() });
  }

  /** The dimension sets Lambda publishes an invocation under. */
  private lambdaDimensions(fn: LocalFunction, resource: string | undefined, version: string): Dimensions[] {
    const byFunction = { FunctionName: fn.spec.name };
    if (!resource) return [{}, byFunction];
    return [
      {},
      byFunction,
      { ...byFunction, Resource: resource },
      { ...byFunction, Resource: resource, ExecutedVersion: version },
    ];
  }

  private invocation(fn: LocalFunction, outcome: InvocationOutcome): void {
    for (const dimensions of this.lambdaDimensions(fn, outcome.resource, outcome.executedVersion)) {
      if (outcome.throttled) {
        // A throttled request is not an invocation (Invocations "does not include throttled attempts").
        this.put('AWS/Lambda', 'Throttles', dimensions, 1, 'Count');
        continue;
      }
      this.put('AWS/Lambda', 'Invocations', dimensions, 1, 'Count');
      this.put('AWS/Lambda', 'Errors', dimensions, outcome.error ? 1 : 0, 'Count');
      this.put('AWS/Lambda', 'Duration', dimensions, outcome.durationMs, 'Milliseconds');
    }
  }

  private concurrency(fn: LocalFunction, concurrent: number, resource: string | undefined): void {
    const byFunction = { FunctionName: fn.spec.name };
    const sets: Dimensions[] = resource ? [byFunction, { ...byFunction, Resource: resource }] : [byFunction];
    for (const dimensions of sets)
      this.put('AWS/Lambda', 'ConcurrentExecutions', dimensions, concurrent, 'Count');
  }

  private emf(line: string): boolean {
    const data = parseEmf(line, (timestamp) =>
      timestamp === undefined ? this.clock.now() : this.clock.fromWallClock(timestamp),
    );
    for (const datum of data) this.store.put(datum);
    return data.length > 0;
  }

  private request(outcome: AlbRequestOutcome): void {
    const sets: Dimensions[] = [{ LoadBalancer: this.loadBalancerName }];
    const targetGroup = outcome.targetGroupArn
      ? this.targetGroupNames.get(outcome.targetGroupArn)
      : undefined;
    if (targetGroup) sets.push({ LoadBalancer: this.loadBalancerName, TargetGroup: targetGroup });
    const klass = `${Math.floor(outcome.statusCode / 100)}XX`;
    for (const dimensions of sets) {
      if (outcome.source === 'fixed-response') {
        this.put('AWS/ApplicationELB', 'HTTP_Fixed_Response_Count', dimensions, 1, 'Count');
        continue;
      }
      // RequestCount counts requests for which a target was chosen.
      if (outcome.targetGroupArn) this.put('AWS/ApplicationELB', 'RequestCount', dimensions, 1, 'Count');
      if (outcome.source === 'target') {
        this.put('AWS/ApplicationELB', `HTTPCode_Target_${klass}_Count`, dimensions, 1, 'Count');
        this.put(
          'AWS/ApplicationELB',
          'TargetResponseTime',
          dimensions,
          (outcome.targetResponseMs ?? 0) / 1000,
          'Seconds',
        );
      } else {
        if (['4XX', '5XX'].includes(klass))
          this.put('AWS/ApplicationELB', `HTTPCode_ELB_${klass}_Count`, dimensions, 1, 'Count');
        if ([500, 502, 503, 504].includes(outcome.statusCode))
          this.put('AWS/ApplicationELB', `HTTPCode_ELB_${outcome.statusCode}_Count`, dimensions, 1, 'Count');
        if (outcome.targetGroupArn && outcome.statusCode === 502)
          this.put('AWS/ApplicationELB', 'LambdaUserError', dimensions, 1, 'Count');
      }
    }
  }

  private execution(record: ExecutionRecord, metricName: string): void {
    this.put('AWS/States', metricName, { StateMachineArn: record.stateMachineArn }, 1, 'Count');
  }

  private executionEnd(record: ExecutionRecord): void {
    const metric = {
      SUCCEEDED: 'ExecutionsSucceeded',
      FAILED: 'ExecutionsFailed',
      TIMED_OUT: 'ExecutionsTimedOut',
      RUNNING: undefined,
    }[record.status];
    if (metric) this.execution(record, metric);
    if (record.stopDate)
      this.put(
        'AWS/States',
        'ExecutionTime',
        { StateMachineArn: record.stateMachineArn },
        record.stopDate.getTime() - record.startDate.getTime(),
        'Milliseconds',
      );
  }
}

/** Receives after which SQS moves a message to the back of the queue, out of the age metric. */
const AGE_RECEIVE_THRESHOLD = 3;

/**
 * What one queue's metrics need: the messages the pollers saw and not yet deleted, the message
 * ids it ever held (to tell a redrive move from a send), and depth samples from
 * GetQueueAttributes. Ages are wall-clock seconds, like every duration the stack measures: the
 * fast clock shortens periods, not how long a message really waited. A message no poller has
 * received yet is known only from the depth samples; its age counts from the first sample that
 * saw more messages than the pollers did (late by at most one sampling interval).
 */
class QueueTracker {
  /** Message id -> wall-clock ms it entered this queue, and its receive count. */
  private readonly outstanding = new Map<string, { since: number; receives: number }>();
  /** Wall-clock ms since when the queue holds messages no poller received. */
  private unseenSince: number | undefined;
  /** Ids this queue ever held. */
  readonly seen = new Set<string>();

  constructor(
    readonly name: string,
    readonly url: string,
    readonly arn: string,
    private readonly sqs: SQSClient,
    private readonly store: MetricStore,
    private readonly clock: Clock,
  ) {}

  private put(metricName: string, value: number, unit: string, timestamp = this.clock.now()): void {
    this.store.put({
      namespace: 'AWS/SQS',
      metricName,
      dimensions: { QueueName: this.name },
      value,
      unit,
      timestamp,
    });
  }

  received(messages: readonly Message[], all: readonly QueueTracker[]): void {
    this.put('NumberOfMessagesReceived', messages.length, 'Count');
    for (const message of messages) {
      const id = message.MessageId ?? '';
      // Receives in this queue: a message redriven here keeps its source queue's receive count.
      const known = this.outstanding.get(id);
      if (known) {
        known.receives += 1;
        continue;
      }
      if (this.seen.has(id)) continue;
      this.seen.add(id);
      const movedFrom = all.find((other) => other !== this && other.seen.has(id));
      if (movedFrom) {
        // A redrive move: SQS counts no NumberOfMessagesSent for it on the dead-letter queue
        // (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-dead-letter-queues.html),
        // and the message's age starts again at the move.
        movedFrom.outstanding.delete(id);
        this.outstanding.set(id, { since: Date.now(), receives: 1 });
        continue;
      }
      const sent = Number(message.Attributes?.SentTimestamp ?? Date.now());
      this.put('NumberOfMessagesSent', 1, 'Count', this.clock.fromWallClock(sent));
      this.outstanding.set(id, { since: sent, receives: 1 });
    }
  }

  deleted(messages: readonly Message[]): void {
    if (messages.length === 0) return;
    this.put('NumberOfMessagesDeleted', messages.length, 'Count');
    for (const message of messages) this.outstanding.delete(message.MessageId ?? '');
  }

  async sample(): Promise<void> {
    const { Attributes: attributes = {} } = await this.sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: this.url,
        AttributeNames: [
          'ApproximateNumberOfMessages',
          'ApproximateNumberOfMessagesNotVisible',
          'ApproximateNumberOfMessagesDelayed',
        ],
      }),
    );
    const visible = Number(attributes.ApproximateNumberOfMessages ?? 0);
    const notVisible = Number(attributes.ApproximateNumberOfMessagesNotVisible ?? 0);
    this.put('ApproximateNumberOfMessagesVisible', visible, 'Count');
    this.put('ApproximateNumberOfMessagesNotVisible', notVisible, 'Count');
    this.put(
      'ApproximateNumberOfMessagesDelayed',
      Number(attributes.ApproximateNumberOfMessagesDelayed ?? 0),
      'Count',
    );
    const now = Date.now();
    if (visible + notVisible === 0) {
      this.outstanding.clear();
      this.unseenSince = undefined;
      return;
    }
    if (visible + notVisible > this.outstanding.size) this.unseenSince ??= now;
    else this.unseenSince = undefined;
    const ages = [...this.outstanding.values()]
      .filter((message) => message.receives < AGE_RECEIVE_THRESHOLD)
      .map((message) => (now - message.since) / 1000);
    if (this.unseenSince !== undefined) ages.push((now - this.unseenSince) / 1000);
    // Reported only while the queue holds a message.
    this.put('ApproximateAgeOfOldestMessage', ages.length ? Math.max(...ages) : 0, 'Seconds');
  }
}
