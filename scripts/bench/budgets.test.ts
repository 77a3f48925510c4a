import { bundleRows, coldInitRow, endToEndRows, formatTable, publisherCpuRow } from './budgets';
import { operationOf, receivedMessages } from './counting-proxy';
import { median } from './publisher-cpu';

describe('bench budgets', () => {
  it('holds the publisher to 400 KB and an SDK-free handler to 10 KB', () => {
    expect(
      bundleRows('publisher', 400 * 1024, [
        '@aws-sdk/client-sfn',
        '@aws-sdk/client-dynamodb',
        '@aws-sdk/client-secrets-manager',
      ]).map((r) => r.verdict),
    ).toEqual(['PASS', 'PASS']);
    expect(bundleRows('publisher', 400 * 1024 + 1, [])[0]?.verdict).toBe('MISS');
    expect(bundleRows('validate', 11 * 1024, [])[0]?.verdict).toBe('MISS');
    expect(bundleRows('billing', 900 * 1024, ['@aws-sdk/client-dynamodb'])[0]?.verdict).toBe('-');
  });

  it('judges the reconciler by its own clients, and refuses a handler it has no client list for', () => {
    // Act / Assess
    const reconciler = bundleRows('reconciler', 390 * 1024, [
      '@aws-sdk/client-dynamodb',
      '@aws-sdk/client-sfn',
    ]);
    expect(reconciler.map((row) => row.verdict)).toEqual(['-', 'PASS']);
    expect(() => bundleRows('audit', 1024, [])).toThrow(/no entry for the handler audit/);
  });

  it('misses when a bundle carries a client its handler does not call', () => {
    expect(bundleRows('billing', 1, ['@aws-sdk/client-dynamodb', '@aws-sdk/client-s3'])[1]?.verdict).toBe(
      'MISS',
    );
  });

  it('judges cold init by its ratio to the SDK-external variant, only where there is an SDK', () => {
    expect(coldInitRow('dlq', 85, 100, 15).verdict).toBe('PASS');
    expect(coldInitRow('dlq', 86, 100, 15).verdict).toBe('MISS');
    expect(coldInitRow('validate', 30, 20, 15).verdict).toBe('-');
  });

  it('judges CPU per request and API calls per order', () => {
    expect(publisherCpuRow(50, 1024).verdict).toBe('PASS');
    expect(publisherCpuRow(50.1, 1024).verdict).toBe('MISS');
    const run = {
      orders: 10,
      completed: 10,
      ordersPerSecond: 2,
      emulatorRawRequestsPerSecond: 300,
      callsPerOrder: 11.5,
      statusReadsPerOrder: 2.5,
    };
    const judged = (withoutPolls: number) =>
      endToEndRows({ ...run, callsPerOrderWithoutPolls: withoutPolls }).find((row) =>
        row.metric.includes('status polls excluded'),
      )?.verdict;
    expect(judged(9)).toBe('PASS');
    expect(judged(9.01)).toBe('MISS');
    const withPolls = endToEndRows({ ...run, callsPerOrderWithoutPolls: 9 }).at(-1);
    expect(withPolls).toMatchObject({
      metric: 'AWS API calls per order with 2.50 status polls',
      value: '11.50',
    });
  });

  it('renders one aligned table with a header', () => {
    const table = formatTable([publisherCpuRow(12.3, 1017)]).split('\n');
    expect(table[0]).toMatch(/^subject\s+metric\s+value\s+budget\s+verdict$/);
    expect(table[2]).toContain('12.3 us/op');
    expect(table[2]).toMatch(/PASS$/);
  });
});

describe('operationOf', () => {
  const auth = (service: string) => ({
    authorization: `AWS4-HMAC-SHA256 Credential=local/20260101/us-east-1/${service}/aws4_request, SignedHeaders=host, Signature=00`,
  });

  it('names JSON-protocol calls by X-Amz-Target, query calls by Action, REST calls by method', () => {
    expect(
      operationOf({
        method: 'POST',
        headers: { ...auth('dynamodb'), 'x-amz-target': 'DynamoDB_20120810.PutItem' },
        body: '{}',
      }),
    ).toBe('dynamodb.PutItem');
    expect(operationOf({ method: 'POST', headers: auth('sns'), body: 'Action=Publish&TopicArn=x' })).toBe(
      'sns.Publish',
    );
    expect(operationOf({ method: 'PUT', headers: auth('s3'), body: '{"order":1}' })).toBe('s3.PUT');
  });
});

describe('median', () => {
  it('takes the middle value, or the mean of the two middle ones', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(() => median([])).toThrow();
  });
});

describe('receivedMessages', () => {
  it('tells a receive that returned messages from an empty one, in both SQS protocols', () => {
    expect(receivedMessages('{"Messages":[{"MessageId":"1"}]}')).toBe(true);
    expect(receivedMessages('{"Messages":[]}')).toBe(false);
    expect(receivedMessages('{}')).toBe(false);
    expect(receivedMessages('<ReceiveMessageResult><Message><MessageId>1</MessageId></Message>')).toBe(true);
    expect(receivedMessages('<ReceiveMessageResult></ReceiveMessageResult>')).toBe(false);
  });
});
