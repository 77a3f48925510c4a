import type { HandlerName } from '../../infra/constructs/order-pipeline-function';
/** The performance budgets of issue 8; `npm run bench` reports against them (nothing asserts them). */
export const BUDGETS = {
  /** Minified publisher bundle, bytes. */
  publisherBundleBytes: 400 * 1024,
  /** Minified bundle of a handler that calls no AWS API, bytes. */
  noAwsHandlerBundleBytes: 10 * 1024,
  /** Cold init of the bundle relative to the same handler with the SDK external. */
  coldInitRatio: 0.85,
  /** Publisher verify + parse + StartExecution input for a 1 KB order, microseconds. */
  publisherCpuUs: 50,
  /** AWS API calls per order end to end, status polls excluded (issue 14). */
  apiCallsPerOrder: 9,
} as const;

/** The SDK clients each handler calls, hence the only ones its bundle may hold. */
export const HANDLER_SDK_CLIENTS: Readonly<Record<HandlerName, readonly string[]>> = {
  publisher: ['@aws-sdk/client-dynamodb', '@aws-sdk/client-secrets-manager', '@aws-sdk/client-sfn'],
  validate: [],
  billing: ['@aws-sdk/client-dynamodb'],
  archive: ['@aws-sdk/client-dynamodb', '@aws-sdk/client-s3'],
  dlq: ['@aws-sdk/client-dynamodb'],
  reconciler: ['@aws-sdk/client-dynamodb', '@aws-sdk/client-sfn'],
};

/** The SDK clients `name` may hold. @throws Error for a handler the list does not know (a new one). */
function sdkClientsOf(name: string): readonly string[] {
  const clients = (HANDLER_SDK_CLIENTS as Readonly<Record<string, readonly string[] | undefined>>)[name];
  if (!clients)
    throw new Error(`HANDLER_SDK_CLIENTS has no entry for the handler ${name}: add the clients it calls`);
  return clients;
}

/** One line of the bench table. */
export interface BenchRow {
  subject: string;
  metric: string;
  value: string;
  budget: string;
  /** PASS / MISS, or '-' for a figure without a budget. */
  verdict: 'PASS' | 'MISS' | '-';
}

const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`;
const verdict = (ok: boolean): 'PASS' | 'MISS' => (ok ? 'PASS' : 'MISS');

/** The bundle rows of one handler: size (budgeted for the publisher and SDK-free handlers) and clients. */
export function bundleRows(name: string, bytes: number, clients: readonly string[]): BenchRow[] {
  const expected = sdkClientsOf(name);
  const sizeBudget =
    name === 'publisher'
      ? BUDGETS.publisherBundleBytes
      : expected.length === 0
        ? BUDGETS.noAwsHandlerBundleBytes
        : undefined;
  const shortNames = (list: readonly string[]) =>
    list.length === 0 ? 'none' : list.map((client) => client.replace('@aws-sdk/client-', '')).join(', ');
  return [
    {
      subject: name,
      metric: 'bundle (minified)',
      value: kb(bytes),
      budget: sizeBudget === undefined ? '-' : `<= ${kb(sizeBudget)}`,
      verdict: sizeBudget === undefined ? '-' : verdict(bytes <= sizeBudget),
    },
    {
      subject: name,
      metric: 'SDK clients inside',
      value: shortNames(clients),
      budget: `only ${shortNames(expected)}`,
      verdict: verdict([...clients].sort().join() === [...expected].sort().join()),
    },
  ];
}

/** The cold-init row of one handler. */
export function coldInitRow(name: string, medianMs: number, sdkExternalMs: number, runs: number): BenchRow {
  const ratio = medianMs / sdkExternalMs;
  // A handler without SDK clients has no SDK to leave external: both variants are the same bundle.
  const usesSdk = sdkClientsOf(name).length > 0;
  return {
    subject: name,
    metric: `cold init (median of ${runs})`,
    value: `${medianMs.toFixed(1)} ms = ${ratio.toFixed(2)} x ${sdkExternalMs.toFixed(1)} ms SDK-external`,
    budget: usesSdk ? `<= ${BUDGETS.coldInitRatio} x` : '- (no SDK)',
    verdict: usesSdk ? verdict(ratio <= BUDGETS.coldInitRatio) : '-',
  };
}

export function publisherCpuRow(usPerOp: number, bodyBytes: number): BenchRow {
  return {
    subject: 'publisher',
    metric: `verify+parse+input, ${bodyBytes} B order`,
    value: `${usPerOp.toFixed(1)} us/op`,
    budget: `<= ${BUDGETS.publisherCpuUs} us`,
    verdict: verdict(usPerOp <= BUDGETS.publisherCpuUs),
  };
}

export function endToEndRows(result: {
  orders: number;
  completed: number;
  ordersPerSecond: number;
  emulatorRawRequestsPerSecond: number;
  callsPerOrder: number;
  callsPerOrderWithoutPolls: number;
  statusReadsPerOrder: number;
}): BenchRow[] {
  return [
    {
      subject: 'local e2e',
      metric: `orders COMPLETED/s (${result.completed}/${result.orders})`,
      value: result.ordersPerSecond.toFixed(1),
      budget: '-',
      verdict: '-',
    },
    {
      subject: 'local e2e',
      metric: 'emulator raw GetItem/s',
      value: result.emulatorRawRequestsPerSecond.toFixed(0),
      budget: '-',
      verdict: '-',
    },
    {
      subject: 'local e2e',
      metric: 'AWS API calls per order, status polls excluded',
      value: result.callsPerOrderWithoutPolls.toFixed(2),
      budget: `<= ${BUDGETS.apiCallsPerOrder}`,
      verdict: verdict(result.callsPerOrderWithoutPolls <= BUDGETS.apiCallsPerOrder),
    },
    {
      subject: 'local e2e',
      metric: `AWS API calls per order with ${result.statusReadsPerOrder.toFixed(2)} status polls`,
      value: result.callsPerOrder.toFixed(2),
      budget: '-',
      verdict: '-',
    },
  ];
}

/** Renders rows as an aligned plain-text table. */
export function formatTable(rows: readonly BenchRow[]): string {
  const header: BenchRow = {
    subject: 'subject',
    metric: 'metric',
    value: 'value',
    budget: 'budget',
    verdict: '-',
  };
  const cells = [header, ...rows].map((row, index) => [
    row.subject,
    row.metric,
    row.value,
    row.budget,
    index === 0 ? 'verdict' : row.verdict,
  ]);
  const widths = cells[0]!.map((_, column) => Math.max(...cells.map((line) => line[column]!.length)));
  const render = (line: string[]) =>
    line
      .map((cell, column) => cell.padEnd(widths[column]!))
      .join('  ')
      .trimEnd();
  const rule = widths.map((width) => '-'.repeat(width)).join('  ');
  return [render(cells[0]!), rule, ...cells.slice(1).map(render)].join('\n');
}
