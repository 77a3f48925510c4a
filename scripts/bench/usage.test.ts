import { emfMetrics, itemBytes, levelOf, OutputTally, outputAtLevel } from './usage';

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
    expect(tally.of('billing')).toMatchObject({
      invocations: 0,
      logBytes: Buffer.byteLength('{"level":"INFO"}\n') + 2 * (emf.length + 1),
      logLines: 3,
    });
    expect(tally.of('billing').byLevel).toEqual({
      INFO: { bytes: 17, lines: 1 },
      METRICS: { bytes: 2 * (emf.length + 1), lines: 2 },
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

describe('log levels', () => {
  it('buckets lines by their Powertools level, EMF and plain lines apart', () => {
    expect(levelOf('{"level":"INFO","message":"x"}')).toBe('INFO');
    expect(levelOf('{"_aws":{},"level":"INFO"}')).toBe('METRICS');
    expect(levelOf('plain text')).toBe('OTHER');
  });

  it('keeps the lines at or above a level, and EMF and plain lines at every level', () => {
    const usage = {
      invocations: 1,
      logBytes: 0,
      logLines: 0,
      byLevel: {
        DEBUG: { bytes: 1, lines: 1 },
        INFO: { bytes: 10, lines: 1 },
        WARN: { bytes: 100, lines: 1 },
        METRICS: { bytes: 1000, lines: 1 },
      },
    };
    expect(outputAtLevel(usage, 'DEBUG').bytes).toBe(1111);
    expect(outputAtLevel(usage, 'INFO').bytes).toBe(1110);
    expect(outputAtLevel(usage, 'WARN')).toEqual({ bytes: 1100, lines: 2 });
    expect(outputAtLevel(usage, 'ERROR').bytes).toBe(1000);
    expect(() => outputAtLevel(usage, 'LOUD')).toThrow(/unknown log level/);
  });
});
