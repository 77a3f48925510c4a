import { UsageError } from './cli';
import {
  outputsOf,
  queueArnFromUrl,
  requireOutput,
  selectSubscribers,
  subscriberQueues,
} from './stack-target';

const LOCAL_OUTPUTS = {
  OrdersTableName: 'orders',
  BillingQueueName: 'billing-q',
  BillingQueueUrl: 'http://127.0.0.1:4566/123456789012/billing-q',
  BillingDeadLetterQueueName: 'billing-dlq',
  BillingDeadLetterQueueUrl: 'http://127.0.0.1:4566/123456789012/billing-dlq',
  ArchiveQueueUrl: 'http://127.0.0.1:4566/123456789012/archive-q',
  ArchiveDeadLetterQueueUrl: 'http://127.0.0.1:4566/123456789012/archive-dlq',
};

describe('stack outputs', () => {
  it('reads DescribeStacks outputs by key', () => {
    expect(
      outputsOf({
        Outputs: [{ OutputKey: 'A', OutputValue: '1' }, { OutputKey: 'B' }, { OutputValue: 'x' }],
      }),
    ).toEqual({ A: '1' });
    expect(outputsOf(undefined)).toEqual({});
  });

  it('names a missing output', () => {
    expect(() => requireOutput(LOCAL_OUTPUTS, 'OrdersTopicArn')).toThrow(
      'the stack has no output OrdersTopicArn',
    );
  });

  it('takes the region of an AWS queue URL, the given one for a loopback URL', () => {
    expect(queueArnFromUrl('https://sqs.eu-west-1.amazonaws.com/111122223333/q', 'us-east-1')).toBe(
      'arn:aws:sqs:eu-west-1:111122223333:q',
    );
    expect(queueArnFromUrl('http://127.0.0.1:4566/123456789012/q', 'us-east-1')).toBe(
      'arn:aws:sqs:us-east-1:123456789012:q',
    );
    expect(() => queueArnFromUrl('http://127.0.0.1:4566/', 'us-east-1')).toThrow('not a queue URL');
  });
});

describe('subscriberQueues', () => {
  it('pairs every subscriber queue with its DLQ, by output name', () => {
    // Act
    const subscribers = subscriberQueues(LOCAL_OUTPUTS, 'us-east-1');
    // Assess
    expect(subscribers.map((subscriber) => subscriber.name)).toEqual(['archive', 'billing']);
    expect(subscribers[1]).toEqual({
      name: 'billing',
      queueUrl: LOCAL_OUTPUTS.BillingQueueUrl,
      queueArn: 'arn:aws:sqs:us-east-1:123456789012:billing-q',
      deadLetterQueueUrl: LOCAL_OUTPUTS.BillingDeadLetterQueueUrl,
      deadLetterQueueArn: 'arn:aws:sqs:us-east-1:123456789012:billing-dlq',
      deadLetterQueueName: 'billing-dlq',
    });
  });

  it('selects one subscriber or all, and names the choices on a typo', () => {
    const all = subscriberQueues(LOCAL_OUTPUTS, 'us-east-1');
    expect(selectSubscribers(all, 'all')).toHaveLength(2);
    expect(selectSubscribers(all, 'archive').map((s) => s.name)).toEqual(['archive']);
    expect(() => selectSubscribers(all, 'biling')).toThrow(UsageError);
    expect(() => selectSubscribers(all, 'biling')).toThrow('this stack has: archive, billing, all');
  });
});
