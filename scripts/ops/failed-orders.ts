/**
 * Reading the failed-orders table (docs/internals.md): one row per dead-lettered message or failed
 * workflow run, keyed by order key (`<client>#<order id>`) and failure id, with the original body kept.
 */
import { QueryCommand, ScanCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { FailedOrderRecord } from '../../lambdas/shared/runtime-contract';

/** A row of the failed-orders table. */
export type FailureRow = FailedOrderRecord;

/** Which rows to list. */
export interface FailureFilter {
  /** Only rows of this source (a DLQ name, or `workflow`). */
  source?: string;
  /** Only rows that failed at or after this ISO-8601 instant. */
  since?: string;
  /** Only rows of these order keys (`<client>#<order id>`). */
  orderKeys?: readonly string[];
}

function toRow(item: Record<string, unknown>): FailureRow {
  return {
    order_key: String(item.order_key ?? ''),
    ...(typeof item.order_id === 'string' ? { order_id: item.order_id } : {}),
    ...(typeof item.client_id === 'string' ? { client_id: item.client_id } : {}),
    failure_id: String(item.failure_id ?? ''),
    source: String(item.source ?? ''),
    receive_count: Number(item.receive_count ?? 0),
    error: String(item.error ?? ''),
    body: String(item.body ?? ''),
    failed_at: String(item.failed_at ?? ''),
  };
}

/** Whether a row passes the filter. */
export function matchesFilter(row: FailureRow, filter: FailureFilter): boolean {
  if (filter.source !== undefined && row.source !== filter.source) return false;
  if (filter.since !== undefined && row.failed_at < filter.since) return false;
  if (filter.orderKeys !== undefined && !filter.orderKeys.includes(row.order_key)) return false;
  return true;
}

/**
 * Every row that passes the filter, oldest first. Queries per order key when keys are given, else
 * scans (the table holds failures only, so it stays small).
 */
export async function listFailures(
  client: Pick<DynamoDBDocumentClient, 'send'>,
  tableName: string,
  filter: FailureFilter = {},
): Promise<FailureRow[]> {
  const rows: FailureRow[] = [];
  if (filter.orderKeys !== undefined) {
    for (const key of filter.orderKeys) {
      let startKey: Record<string, unknown> | undefined;
      do {
        const page = await client.send(
          new QueryCommand({
            TableName: tableName,
            KeyConditionExpression: 'order_key = :key',
            ExpressionAttributeValues: { ':key': key },
            ExclusiveStartKey: startKey,
          }),
        );
        rows.push(...(page.Items ?? []).map(toRow));
        startKey = page.LastEvaluatedKey;
      } while (startKey !== undefined);
    }
  } else {
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await client.send(new ScanCommand({ TableName: tableName, ExclusiveStartKey: startKey }));
      rows.push(...(page.Items ?? []).map(toRow));
      startKey = page.LastEvaluatedKey;
    } while (startKey !== undefined);
  }
  return rows
    .filter((row) => matchesFilter(row, filter))
    .sort((a, b) => a.failed_at.localeCompare(b.failed_at) || a.failure_id.localeCompare(b.failure_id));
}

export const CSV_COLUMNS: readonly (keyof FailureRow)[] = [
  'client_id',
  'order_id',
  'failure_id',
  'source',
  'receive_count',
  'error',
  'failed_at',
  'body',
];

/**
 * Cells a spreadsheet would run as a formula: `=`, `+`, `-`, `@`, tab or CR first (OWASP, CSV
 * Injection, https://owasp.org/www-community/attacks/CSV_Injection), and their full-width forms,
 * which some spreadsheet locales read as the same operators.
 */
const FORMULA_START = /^[=+\-@\t\r\uFF1D\uFF0B\uFF0D\uFF20]/;

/**
 * One CSV field (RFC 4180). A value a spreadsheet would run as a formula gets a leading `'`:
 * bodies and errors come from outside.
 */
export function csvField(value: string | number): string {
  let text = String(value);
  if (typeof value === 'string' && FORMULA_START.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** The rows as CSV with a header line, CRLF line ends. */
export function toCsv(rows: readonly FailureRow[]): string {
  const lines = [
    CSV_COLUMNS.join(','),
    ...rows.map((row) => CSV_COLUMNS.map((column) => csvField(row[column] ?? '')).join(',')),
  ];
  return `${lines.join('\r\n')}\r\n`;
}

/** The rows as a JSON array, with each body parsed when it is JSON (easier to read and to jq). */
export function toJson(rows: readonly FailureRow[]): string {
  return `${JSON.stringify(
    rows.map((row) => ({ ...row, body: parseOrKeep(row.body) })),
    null,
    2,
  )}\n`;
}

function parseOrKeep(body: string): unknown {
  try {
    return JSON.parse(body) as unknown;
  } catch {
    return body;
  }
}

/**
 * Text safe to print on a terminal: control characters (newlines that would fake a row, escape
 * sequences that would move the cursor or recolour the screen) shown as `\u` escapes.
 */
export function printable(text: string): string {
  return text.replace(
    /\p{Cc}/gu,
    (character) => `\\u${character.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

/** A fixed-width table for a terminal: one line per row, the error cut to fit. */
export function toTable(rows: readonly FailureRow[]): string {
  const header = ['failed_at', 'client_id', 'order_id', 'source', 'receives', 'error'];
  const lines = rows.map((row) => {
    const error = printable(row.error);
    return [
      printable(row.failed_at),
      printable(row.client_id ?? '-'),
      printable(row.order_id ?? row.order_key),
      printable(row.source),
      String(row.receive_count),
      error.length > 60 ? `${error.slice(0, 57)}...` : error,
    ];
  });
  const widths = header.map((title, index) =>
    Math.max(title.length, ...lines.map((line) => line[index]?.length ?? 0)),
  );
  const format = (cells: string[]) =>
    cells
      .map((cell, index) => cell.padEnd(widths[index] ?? 0))
      .join('  ')
      .trimEnd();
  return [format(header), ...lines.map(format), `${rows.length} failure(s)`].join('\n');
}
