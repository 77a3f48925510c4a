import { DynamoDBDocumentClient, QueryCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { orderKey } from '../../lambdas/shared/runtime-contract';
import { csvField, listFailures, printable, toCsv, toJson, toTable, type FailureRow } from './failed-orders';

const dynamoMock = mockClient(DynamoDBDocumentClient);
const client = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1' }));

/** A failure of order `o-1` of client `acme`; the order key follows an overridden id or client. */
function row(overrides: Partial<FailureRow> = {}): FailureRow {
  const orderId = overrides.order_id ?? 'o-1';
  const clientId = overrides.client_id ?? 'acme';
  return {
    order_key: orderKey(clientId, orderId),
    order_id: orderId,
    client_id: clientId,
    failure_id: 'billing-dlq#m1',
    source: 'billing-dlq',
    receive_count: 5,
    error: 'not processed after 5 receive(s) from billing-q',
    body: '{"version":1,"type":"OrderPlaced","order":{"order_id":"o-1"}}',
    failed_at: '2026-01-02T03:04:05.000Z',
    ...overrides,
  };
}

afterEach(() => {
  dynamoMock.reset();
});

describe('listFailures', () => {
  it('scans every page, filters by source and time, oldest first', async () => {
    // Prepare
    dynamoMock
      .on(ScanCommand)
      .resolvesOnce({
        Items: [
          row({ order_id: 'late', failed_at: '2026-01-03T00:00:00.000Z' }),
          row({ source: 'archive-dlq' }),
        ],
        LastEvaluatedKey: { order_key: 'acme#x', failure_id: 'y' },
      })
      .resolves({ Items: [row({ order_id: 'early', failed_at: '2026-01-02T00:00:00.000Z' })] });
    // Act
    const rows = await listFailures(client, 'failed', {
      source: 'billing-dlq',
      since: '2026-01-01T00:00:00.000Z',
    });
    // Assess
    expect(rows.map((found) => found.order_id)).toEqual(['early', 'late']);
    expect(dynamoMock.commandCalls(ScanCommand)[1]?.args[0].input.ExclusiveStartKey).toEqual({
      order_key: 'acme#x',
      failure_id: 'y',
    });
  });

  it('queries by order key when keys are given, one query per key', async () => {
    // Prepare
    dynamoMock
      .on(QueryCommand, { ExpressionAttributeValues: { ':key': 'acme#o-1' } })
      .resolves({ Items: [row()] });
    dynamoMock
      .on(QueryCommand, { ExpressionAttributeValues: { ':key': 'globex#o-1' } })
      .resolves({ Items: [row({ client_id: 'globex', failed_at: '2026-01-01T00:00:00.000Z' })] });
    // Act
    const rows = await listFailures(client, 'failed', { orderKeys: ['acme#o-1', 'globex#o-1'] });
    // Assess
    expect(rows).toEqual([row({ client_id: 'globex', failed_at: '2026-01-01T00:00:00.000Z' }), row()]);
    expect(dynamoMock.commandCalls(QueryCommand).map((call) => call.args[0].input)).toEqual([
      expect.objectContaining({
        TableName: 'failed',
        KeyConditionExpression: 'order_key = :key',
        ExpressionAttributeValues: { ':key': 'acme#o-1' },
      }),
      expect.objectContaining({
        TableName: 'failed',
        KeyConditionExpression: 'order_key = :key',
        ExpressionAttributeValues: { ':key': 'globex#o-1' },
      }),
    ]);
    expect(dynamoMock.commandCalls(ScanCommand)).toHaveLength(0);
  });

  it('reads a failure that names no order with its order key only', async () => {
    // Prepare
    const unknown = {
      order_key: '#unknown#m9',
      failure_id: 'billing-dlq#m9',
      source: 'billing-dlq',
      receive_count: 5,
      error: 'not JSON',
      body: 'garbage',
      failed_at: '2026-01-02T03:04:05.000Z',
    };
    dynamoMock.on(ScanCommand).resolves({ Items: [unknown] });
    // Act
    const rows = await listFailures(client, 'failed');
    // Assess
    expect(rows).toEqual([unknown]);
    expect(rows[0]).not.toHaveProperty('order_id');
    expect(rows[0]).not.toHaveProperty('client_id');
  });
});

describe('exports', () => {
  it('writes RFC 4180 CSV and defuses spreadsheet formulas', () => {
    // Act
    const csv = toCsv([row({ error: 'said "no", twice' }), row({ body: '=HYPERLINK("x")', error: '-1' })]);
    // Assess
    const lines = csv.split('\r\n');
    expect(lines[0]).toBe('client_id,order_id,failure_id,source,receive_count,error,failed_at,body');
    expect(lines[1]).toBe(
      'acme,o-1,billing-dlq#m1,billing-dlq,5,"said ""no"", twice",2026-01-02T03:04:05.000Z,' +
        '"{""version"":1,""type"":""OrderPlaced"",""order"":{""order_id"":""o-1""}}"',
    );
    expect(lines[2]).toBe(
      `acme,o-1,billing-dlq#m1,billing-dlq,5,'-1,2026-01-02T03:04:05.000Z,"'=HYPERLINK(""x"")"`,
    );
    expect(lines[3]).toBe('');
    expect(csvField(5)).toBe('5');
    expect(csvField('a\nb')).toBe('"a\nb"');
  });

  it('writes empty client and order cells for a failure that names no order', () => {
    // Prepare
    const { order_id: _id, client_id: _client, ...unknown } = row({ body: 'garbage' });
    // Act
    const lines = toCsv([{ ...unknown, order_key: '#unknown#m9' }]).split('\r\n');
    // Assess
    expect(lines[1]).toBe(
      ',,billing-dlq#m1,billing-dlq,5,not processed after 5 receive(s) from billing-q,2026-01-02T03:04:05.000Z,garbage',
    );
  });

  it.each([
    ['=1+1', "'=1+1"],
    ['+1', "'+1"],
    ['-1', "'-1"],
    ['@SUM(A1)', "'@SUM(A1)"],
    ['\t=1', "'\t=1"],
    ['\r=1', `"'\r=1"`],
    ['＝1+1', "'＝1+1"],
    ['＠SUM(A1)', "'＠SUM(A1)"],
    ['a=1', 'a=1'],
    [' =1', ' =1'],
  ])('neutralizes the formula cell %j', (value, expected) => {
    // Act / Assess
    expect(csvField(value)).toBe(expected);
  });

  it('prints control characters in the table as escapes, so a row cannot fake another', () => {
    // Act
    const table = toTable([row({ error: 'boom\n2026-01-01  forged  billing-dlq  1  \u001b[2Jok' })]);

    // Assess
    expect(table.split('\n')).toHaveLength(3);
    expect(table).toContain('boom\\u000a2026-01-01');
    expect(table).not.toContain('\u001b');
    expect(printable('a\u0085b')).toBe('a\\u0085b');
  });

  it('writes JSON with bodies parsed when they are JSON', () => {
    const parsed = JSON.parse(toJson([row(), row({ body: 'garbage' })])) as Array<{ body: unknown }>;
    expect(parsed[0]?.body).toEqual({ version: 1, type: 'OrderPlaced', order: { order_id: 'o-1' } });
    expect(parsed[1]?.body).toBe('garbage');
  });

  it('prints a table with a count, cutting long errors', () => {
    const table = toTable([row({ error: 'x'.repeat(100) })]);
    const lines = table.split('\n');
    expect(lines[0]).toMatch(/^failed_at\s+client_id\s+order_id\s+source\s+receives\s+error$/);
    expect(lines[1]).toMatch(/^2026-01-02T03:04:05.000Z\s+acme\s+o-1\s+billing-dlq\s+5\s+x+\.\.\.$/);
    expect(lines[1]).toContain(`${'x'.repeat(57)}...`);
    expect(lines[2]).toBe('1 failure(s)');
  });

  it('prints a failure that names no order with a dash for the client and its order key', () => {
    const { order_id: _id, client_id: _client, ...unknown } = row();
    const lines = toTable([{ ...unknown, order_key: '#unknown#m9' }]).split('\n');
    expect(lines[1]).toMatch(/^2026-01-02T03:04:05.000Z\s+-\s+#unknown#m9\s+billing-dlq\s+5\s/);
  });
});
