import { resourcesFromOutputs, MissingOutputError } from './observe';
import { baseUrlOf, clientFromSecret, defaultStackName, TargetUnavailableError } from './target';

const OUTPUTS = {
  OrdersUrl: 'https://orders.example.com/orders',
  OrdersTableName: 'orders',
  BillingTableName: 'billing',
  FailedOrdersTableName: 'failed',
  ArchiveBucketName: 'archive',
  BillingQueueUrl: 'https://sqs/billing',
  BillingDeadLetterQueueUrl: 'https://sqs/billing-dlq',
  ArchiveDeadLetterQueueUrl: 'https://sqs/archive-dlq',
};

describe('target', () => {
  it('names the stack after the stage of the environment', () => {
    // Act / Assess
    expect(defaultStackName('dev')).toBe('Dev-OrderPipeline');
    expect(baseUrlOf('https://orders.example.com/orders')).toBe('https://orders.example.com');
  });

  it('picks the first client of the secret, or the one asked for, with its newest secret', () => {
    // Prepare
    const secret = JSON.stringify({ clients: { a: ['sa', 'old'], b: ['sb'] } });
    // Act / Assess
    expect(clientFromSecret(secret)).toEqual({ clientId: 'a', secret: 'sa' });
    expect(clientFromSecret(secret, 'b')).toEqual({ clientId: 'b', secret: 'sb' });
    expect(() => clientFromSecret(secret, 'c')).toThrow(TargetUnavailableError);
    expect(() => clientFromSecret('{"clients":{}}')).toThrow(/holds no client/);
    expect(() => clientFromSecret('not json')).toThrow(TargetUnavailableError);
  });

  it('reads table, bucket and dead-letter queue names from the outputs', () => {
    // Act
    const resources = resourcesFromOutputs(OUTPUTS);
    // Assess
    expect(resources).toEqual({
      ordersTable: 'orders',
      billingTable: 'billing',
      failedOrdersTable: 'failed',
      archiveBucket: 'archive',
      deadLetterQueues: { Billing: 'https://sqs/billing-dlq', Archive: 'https://sqs/archive-dlq' },
    });
    expect(() => resourcesFromOutputs({ ...OUTPUTS, OrdersTableName: '' })).toThrow(MissingOutputError);
  });
});
