import { emfMetrics, itemBytes, OutputTally } from './usage';

describe('OutputTally', () => {
  it('counts bytes and lines across chunks and collects EMF metrics once each', () => {
    const tally = new OutputTally();
    const emf = JSON.stringify({
      _aws: {
        CloudWatchMetrics: [
          { Namespace: 'OrderPipeline', Dimensions: [['service']], Metrics: [{ Name: 'OrdersBilled' }] },
        ],
      },
      service: 'order-billing',
      OrdersBilled: 1,
    });
    tally.write('billing', Buffer.from('{"level":"INFO"}\n' + emf.slice(0, 20)));
    tally.write('billing', Buffer.from(emf.slice(20) + '\n' + emf + '\n'));
    expect(tally.of('billing')).toEqual({
      invocations: 0,
      logBytes: Buffer.byteLength('{"level":"INFO"}\n') + 2 * (emf.length + 1),
      logLines: 3,
    });
    expect([...tally.metrics]).toEqual(['OrderPipeline|service=order-billing|OrdersBilled']);
  });

  it('ignores lines that are not EMF', () => {
    expect(emfMetrics('{"message":"no _aws here"}')).toEqual([]);
    expect(emfMetrics('"_aws" but not JSON')).toEqual([]);
  });
});

describe('itemBytes', () => {
  it('counts names and values as DynamoDB does', () => {
    expect(itemBytes({ order_id: { S: 'abc' } })).toBe(8 + 3);
    expect(itemBytes({ n: { N: '12345' } })).toBe(1 + 4);
    expect(itemBytes({ ok: { BOOL: true }, l: { L: [{ S: 'ab' }] } })).toBe(2 + 1 + 1 + (3 + 1 + 2));
  });
});
