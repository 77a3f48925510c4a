import {
  GetObjectCommand,
  ListObjectsV2Command,
  S3Client,
  type GetObjectCommandOutput,
} from '@aws-sdk/client-s3';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { parseOrderPlacedEvent } from '../../lambdas/shared/order-event';
import { validatedOrder } from '../../lambdas/testing/fixtures';
import {
  dayPrefixes,
  orderKeyOfArchiveKey,
  orderPlacedMessage,
  replayOrders,
  selectArchiveKeys,
} from './replay';

const s3Mock = mockClient(S3Client);
const snsMock = mockClient(SNSClient);
const sqsMock = mockClient(SQSClient);
const clients = {
  s3: new S3Client({ region: 'us-east-1' }),
  sns: new SNSClient({ region: 'us-east-1' }),
  sqs: new SQSClient({ region: 'us-east-1' }),
};

const archived = JSON.stringify(validatedOrder({ order_id: 'o-1', market: 'eu', currency: 'EUR' }));

/** The part of an S3 body stream that the replay reads. */
function objectBody(text: string): GetObjectCommandOutput['Body'] {
  return { transformToString: () => Promise.resolve(text) } as unknown as GetObjectCommandOutput['Body'];
}

afterEach(() => {
  s3Mock.reset();
  snsMock.reset();
  sqsMock.reset();
});

describe('archive keys', () => {
  it('lists one prefix per UTC day, both ends included', () => {
    expect(dayPrefixes(new Date('2026-02-27T00:00:00Z'), new Date('2026-03-01T00:00:00Z'))).toEqual([
      'orders/2026/02/27/',
      'orders/2026/02/28/',
      'orders/2026/03/01/',
    ]);
    expect(() => dayPrefixes(new Date('2026-03-01'), new Date('2026-02-01'))).toThrow(RangeError);
  });

  it('reads the order key of an archive key of the per-client shape only', () => {
    expect(orderKeyOfArchiveKey('orders/2026/01/02/client-a/o-1.json')).toBe('client-a#o-1');
    expect(orderKeyOfArchiveKey('orders/2026/01/02/acme.eu_2-x/O_9-z.json')).toBe('acme.eu_2-x#O_9-z');
    expect(orderKeyOfArchiveKey(`orders/2026/01/02/${'c'.repeat(64)}/${'o'.repeat(64)}.json`)).toBe(
      `${'c'.repeat(64)}#${'o'.repeat(64)}`,
    );
  });

  it.each([
    // The old shape, from before order ids were per client: it names no client.
    ['orders/2026/01/02/o-1.json'],
    ['orders/2026/01/02/../../x.json'],
    ['orders/2026/01/02/client-a/../o-1.json'],
    ['orders/2026/01/02/client-a/o.1.json'],
    ['orders/2026/01/02/client#a/o-1.json'],
    ['orders/2026/01/02/client-a/sub/o-1.json'],
    ['orders/2026/01/02/client-a/o-1.txt'],
    ['orders/2026/01/02//o-1.json'],
    [`orders/2026/01/02/${'c'.repeat(65)}/o-1.json`],
    [`orders/2026/01/02/client-a/${'o'.repeat(65)}.json`],
    ['orders/2026/1/02/client-a/o-1.json'],
    ['other/client-a/o-1.json'],
  ])('refuses the archive key %j', (key) => {
    expect(orderKeyOfArchiveKey(key)).toBeUndefined();
  });

  it('selects by day range and order key, over every page', async () => {
    // Prepare
    s3Mock
      .on(ListObjectsV2Command, { Prefix: 'orders/2026/01/02/' })
      .resolvesOnce({
        Contents: [
          { Key: 'orders/2026/01/02/client-a/o-1.json' },
          { Key: 'orders/2026/01/02/client-b/o-1.json' },
        ],
        IsTruncated: true,
        NextContinuationToken: 't',
      })
      .resolves({
        Contents: [
          { Key: 'orders/2026/01/02/client-a/o-3.json' },
          { Key: 'orders/2026/01/02/o-4.json' },
          { Key: 'orders/2026/01/02/client-a/notes.txt' },
        ],
      });
    s3Mock.on(ListObjectsV2Command, { Prefix: 'orders/2026/01/03/' }).resolves({});
    // Act
    const all = await selectArchiveKeys(clients.s3, 'bucket', {
      from: new Date('2026-01-02T00:00:00Z'),
      to: new Date('2026-01-03T00:00:00Z'),
    });
    // Assess
    expect(all).toEqual([
      'orders/2026/01/02/client-a/o-1.json',
      'orders/2026/01/02/client-a/o-3.json',
      'orders/2026/01/02/client-b/o-1.json',
    ]);
    expect(
      s3Mock.commandCalls(ListObjectsV2Command).map((call) => call.args[0].input.ContinuationToken),
    ).toEqual([undefined, 't', undefined]);
    s3Mock.resetHistory();
    s3Mock.on(ListObjectsV2Command, { Prefix: 'orders/' }).resolves({
      Contents: [
        { Key: 'orders/2026/01/02/client-a/o-9.json' },
        { Key: 'orders/2025/12/31/client-b/o-9.json' },
        { Key: 'orders/2025/12/31/o-9.json' },
      ],
    });
    // The same order id of another client is another order.
    expect(await selectArchiveKeys(clients.s3, 'bucket', { orderKeys: ['client-b#o-9'] })).toEqual([
      'orders/2025/12/31/client-b/o-9.json',
    ]);
  });
});

describe('orderPlacedMessage', () => {
  it('rebuilds the event the workflow published, with the filter attributes', () => {
    // Act
    const message = orderPlacedMessage(archived);
    // Assess
    expect(message.orderId).toBe('o-1');
    expect(parseOrderPlacedEvent(message.body)).toEqual({
      version: 1,
      type: 'OrderPlaced',
      order: JSON.parse(archived),
    });
    expect(message.body).toContain(archived);
    expect(message.attributes).toEqual({
      type: { DataType: 'String', StringValue: 'OrderPlaced' },
      market: { DataType: 'String', StringValue: 'eu' },
      currency: { DataType: 'String', StringValue: 'EUR' },
    });
  });

  it('refuses an object that is not an archived order', () => {
    expect(() => orderPlacedMessage('{"order_id":"x"}')).toThrow();
    expect(() => orderPlacedMessage('not json')).toThrow();
  });
});

describe('replayOrders', () => {
  it('skips an object taken back since it was listed, and still fails on any other read error', async () => {
    // Prepare
    const noSuchKey = Object.assign(new Error('The specified key does not exist.'), { name: 'NoSuchKey' });
    s3Mock.on(GetObjectCommand, { Key: 'orders/2026/01/02/client-a/gone.json' }).rejects(noSuchKey);
    s3Mock
      .on(GetObjectCommand, { Key: 'orders/2026/01/02/client-a/o-1.json' })
      .resolves({ Body: objectBody(archived) });
    s3Mock
      .on(GetObjectCommand, { Key: 'orders/2026/01/02/client-a/denied.json' })
      .rejects(new Error('AccessDenied'));
    snsMock.on(PublishCommand).resolves({ MessageId: 'p1' });
    const replay = (keys: string[]) =>
      replayOrders({
        ...clients,
        bucket: 'bucket',
        keys,
        target: { kind: 'topic', topicArn: 'arn:aws:sns:us-east-1:1:orders' },
      });

    // Act
    const result = await replay([
      'orders/2026/01/02/client-a/gone.json',
      'orders/2026/01/02/client-a/o-1.json',
    ]);

    // Assess
    expect(result.sent).toBe(1);
    expect(result.skipped).toEqual([
      {
        key: 'orders/2026/01/02/client-a/gone.json',
        problem: 'no longer there: taken back since it was listed',
      },
    ]);
    await expect(replay(['orders/2026/01/02/client-a/denied.json'])).rejects.toThrow('AccessDenied');
  });

  it('publishes each archived order to the topic, skipping what is not an order', async () => {
    // Prepare
    s3Mock
      .on(GetObjectCommand, { Key: 'orders/2026/01/02/client-a/o-1.json' })
      .resolves({ Body: objectBody(archived) });
    s3Mock
      .on(GetObjectCommand, { Key: 'orders/2026/01/02/client-a/o-2.json' })
      .resolves({ Body: objectBody('oops') });
    snsMock.on(PublishCommand).resolves({ MessageId: 'p1' });
    // Act
    const result = await replayOrders({
      ...clients,
      bucket: 'bucket',
      keys: ['orders/2026/01/02/client-a/o-1.json', 'orders/2026/01/02/client-a/o-2.json'],
      target: { kind: 'topic', topicArn: 'arn:aws:sns:us-east-1:1:orders' },
    });
    // Assess
    expect(result.selected).toBe(2);
    expect(result.sent).toBe(1);
    expect(result.skipped.map((skipped) => skipped.key)).toEqual(['orders/2026/01/02/client-a/o-2.json']);
    expect(snsMock.commandCalls(PublishCommand)[0]?.args[0].input).toMatchObject({
      TopicArn: 'arn:aws:sns:us-east-1:1:orders',
      Message: orderPlacedMessage(archived).body,
      MessageAttributes: { market: { DataType: 'String', StringValue: 'eu' } },
    });
  });

  it("sends to one subscriber's queue, or nothing on a dry run", async () => {
    // Prepare
    s3Mock.on(GetObjectCommand).callsFake(() => ({ Body: objectBody(archived) }));
    sqsMock.on(SendMessageCommand).resolves({});
    const target = { kind: 'queue', name: 'billing', queueUrl: 'https://q/billing' } as const;
    // Act
    const dry = await replayOrders({ ...clients, bucket: 'b', keys: ['k1'], target, dryRun: true });
    const real = await replayOrders({ ...clients, bucket: 'b', keys: ['k1'], target });
    // Assess
    expect(dry.sent).toBe(0);
    expect(real.sent).toBe(1);
    expect(sqsMock.commandCalls(SendMessageCommand)).toHaveLength(1);
    expect(sqsMock.commandCalls(SendMessageCommand)[0]?.args[0].input.QueueUrl).toBe('https://q/billing');
    expect(snsMock.commandCalls(PublishCommand)).toHaveLength(0);
  });
});
