import { DynamoDBDocumentClient, QueryCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { csvField, listFailures, printable, toCsv, toJson, toTable, type FailureRow } from './failed-orders';

const dynamoMock = mockClient(DynamoDBDocumentClient);
const client = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1' }));

function row(overrides: Partial<FailureRow> = {}): FailureRow {
  return {
    order_id: 'o-1',
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
        LastEvaluatedKey: { order_id: 'x', failure_id: 'y' },
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
      order_id: 'x',
      failure_id: 'y',
    });
  });

  it('queries by order id when ids are given', async () => {
    // Prepare
    dynamoMock.on(QueryCommand).resolves({ Items: [row()] });
    // Act
    const rows = await listFailures(client, 'failed', { orderIds: ['o-1'] });
    // Assess
    expect(rows).toEqual([row()]);
    expect(dynamoMock.commandCalls(QueryCommand)[0]?.args[0].input).toMatchObject({
      TableName: 'failed',
      KeyConditionExpression: 'order_id = :id',
      ExpressionAttributeValues: { ':id': 'o-1' },
    });
    expect(dynamoMock.commandCalls(ScanCommand)).toHaveLength(0);
  });
});

describe('exports', () => {
  it('writes RFC 4180 CSV and defuses spreadsheet formulas', () => {
    // Act
    const csv = toCsv([row({ error: 'said "no", twice' }), row({ body: '=HYPERLINK("x")', error: '-1' })]);
    // Assess
    const lines = csv.split('\r\n');
    expect(lines[0]).toBe('order_id,failure_id,source,receive_count,error,failed_at,body');
    expect(lines[1]).toBe(
      'o-1,billing-dlq#m1,billing-dlq,5,"said ""no"", twice",2026-01-02T03:04:05.000Z,' +
        '"{""version"":1,""type"":""OrderPlaced"",""order"":{""order_id"":""o-1""}}"',
    );
    expect(lines[2]).toBe(
      `o-1,billing-dlq#m1,billing-dlq,5,'-1,2026-01-02T03:04:05.000Z,"'=HYPERLINK(""x"")"`,
    );
    expect(lines[3]).toBe('');
    expect(csvField(5)).toBe('5');
    expect(csvField('a\nb')).toBe('"a\nb"');
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
    expect(lines[0]).toMatch(/^failed_at\s+order_id\s+source\s+receives\s+error$/);
    expect(lines[1]).toContain(`${'x'.repeat(57)}...`);
    expect(lines[2]).toBe('1 failure(s)');
  });
});
