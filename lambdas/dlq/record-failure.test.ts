import { DependencyUnavailableError } from '../shared/errors';
import { METRICS } from '../shared/runtime-contract';
import {
  InMemoryOrderProgress,
  NOW,
  orderPlacedBody,
  recordingMetrics,
  silentLogger,
  sqsRecord,
} from '../testing/fixtures';
import {
  describeDeadLetter,
  queueNameFromArn,
  recordDeadLetter,
  type FailureLog,
  type FailureRecord,
} from './record-failure';

const DLQ_ARN = 'arn:aws:sqs:eu-west-1:123456789012:billing-dlq';

function deadLetter(body: string, overrides = {}) {
  return sqsRecord(body, {
    messageId: 'msg-9',
    eventSourceARN: DLQ_ARN,
    attributes: {
      ApproximateReceiveCount: '4',
      SentTimestamp: '1',
      SenderId: 's',
      ApproximateFirstReceiveTimestamp: '1',
      DeadLetterQueueSourceArn: 'arn:aws:sqs:eu-west-1:123456789012:billing-queue',
    },
    ...overrides,
  });
}

class InMemoryFailureLog implements FailureLog {
  readonly records = new Map<string, FailureRecord>();
  failWith: Error | undefined;
  async record(failure: FailureRecord): Promise<boolean> {
    if (this.failWith) throw this.failWith;
    const key = `${failure.order_key}|${failure.failure_id}`;
    if (this.records.has(key)) return false;
    this.records.set(key, failure);
    return true;
  }
}

function setup() {
  const failures = new InMemoryFailureLog();
  const progress = new InMemoryOrderProgress();
  const { metrics, count } = recordingMetrics();
  const handle = recordDeadLetter({ failures, progress, now: () => NOW, logger: silentLogger(), metrics });
  return { failures, progress, count, handle };
}

describe('queueNameFromArn', () => {
  it('takes the last ARN segment', () => {
    // Act / Assess
    expect(queueNameFromArn(DLQ_ARN)).toBe('billing-dlq');
    expect(queueNameFromArn(undefined)).toBeUndefined();
  });
});

describe('describeDeadLetter', () => {
  it('describes an order event with its order id, DLQ, receive count and origin', () => {
    // Act
    const { failure, knownOrder } = describeDeadLetter(deadLetter(orderPlacedBody()), NOW);

    // Assess
    expect(knownOrder).toBe(true);
    expect(failure).toEqual({
      order_key: 'client-a#order-1',
      order_id: 'order-1',
      client_id: 'client-a',
      failure_id: 'billing-dlq#msg-9',
      source: 'billing-dlq',
      receive_count: 4,
      error: 'not processed after 4 receive(s) from billing-queue',
      body: orderPlacedBody(),
      failed_at: NOW.toISOString(),
    });
  });

  it('keeps a body that is not an order event, under an unknown order id', () => {
    // Act
    const { failure, knownOrder } = describeDeadLetter(deadLetter('garbage'), NOW);

    // Assess
    expect(knownOrder).toBe(false);
    expect(failure).toMatchObject({
      order_key: '#unknown#msg-9',
      failure_id: 'billing-dlq#msg-9',
      body: 'garbage',
      error: 'malformed event: body is not valid JSON',
    });
  });

  it('still finds the order id of a broken event', () => {
    // Act
    const { failure, knownOrder } = describeDeadLetter(
      deadLetter('{"order":{"order_id":"order-7","client_id":"client-b"}}'),
      NOW,
    );

    // Assess
    expect(knownOrder).toBe(true);
    expect(failure.order_key).toBe('client-b#order-7');
    expect(failure.error).toMatch(/^malformed event/);
  });

  it('keeps a broken event that names no client under an unknown key (an order id alone names no order)', () => {
    // Act
    const { failure, knownOrder } = describeDeadLetter(deadLetter('{"order":{"order_id":"order-7"}}'), NOW);

    // Assess
    expect(knownOrder).toBe(false);
    expect(failure.order_key).toBe('#unknown#msg-9');
  });
});

describe('recordDeadLetter', () => {
  it('records the failure and marks the order FAILED', async () => {
    // Prepare
    const { failures, progress, count, handle } = setup();

    // Act
    await handle(deadLetter(orderPlacedBody()));

    // Assess
    expect(failures.records.size).toBe(1);
    expect(progress.failed).toEqual(['client-a#order-1']);
    expect(count(METRICS.failuresRecorded)).toBe(1);
    expect(count(METRICS.ordersFailed)).toBe(1);
  });

  it('is idempotent for a redelivered DLQ message', async () => {
    // Prepare
    const { failures, count, handle } = setup();
    await handle(deadLetter(orderPlacedBody()));

    // Act
    await handle(deadLetter(orderPlacedBody()));

    // Assess
    expect(failures.records.size).toBe(1);
    expect(count(METRICS.failuresRecorded)).toBe(1);
    expect(count(METRICS.ordersFailed)).toBe(1);
  });

  it('records a non-order message without touching any order', async () => {
    // Prepare
    const { failures, progress, handle } = setup();

    // Act
    await handle(deadLetter('garbage'));

    // Assess
    expect([...failures.records.values()][0]?.order_key).toBe('#unknown#msg-9');
    expect(progress.failed).toEqual([]);
  });

  it('fails the record (to be retried) when it cannot be written', async () => {
    // Prepare
    const { failures, progress, handle } = setup();
    failures.failWith = new DependencyUnavailableError('failed-orders table');

    // Act / Assess
    await expect(handle(deadLetter(orderPlacedBody()))).rejects.toBeInstanceOf(DependencyUnavailableError);
    expect(progress.failed).toEqual([]);
  });
});
