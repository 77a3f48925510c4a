import { parseFailedOrdersArgs, parseRedriveArgs, parseReplayArgs } from './arguments';
import { UsageError } from './cli';

describe('parseRedriveArgs', () => {
  it('reads the queue, the dry-run switch and the target stack', () => {
    // Act
    const command = parseRedriveArgs([
      '--queue',
      'billing',
      '--dry-run',
      '--stack',
      'OrderPipeline-dev',
      '--region',
      'eu-west-1',
    ]);
    // Assess
    expect(command).toMatchObject({
      help: false,
      queue: 'billing',
      dryRun: true,
      fromTable: false,
      target: { stack: 'OrderPipeline-dev', region: 'eu-west-1' },
    });
  });

  it("takes order ids of one client only with --from-table, as that client's order keys", () => {
    // Act / Assess
    expect(
      parseRedriveArgs([
        '--queue',
        'all',
        '--from-table',
        '--client',
        'acme.eu-1',
        '--order-id',
        'a-1',
        '--order-id',
        'b_2',
      ]),
    ).toMatchObject({
      fromTable: true,
      orderKeys: ['acme.eu-1#a-1', 'acme.eu-1#b_2'],
    });
    expect(parseRedriveArgs(['--queue', 'all', '--from-table']).orderKeys).toBeUndefined();
    expect(() => parseRedriveArgs(['--queue', 'all', '--client', 'acme', '--order-id', 'a-1'])).toThrow(
      '--order-id goes with --from-table',
    );
  });

  it.each([
    [[], '--queue is required'],
    [['--queue'], 'argument missing'],
    [['--queue', 'billing', '--nope'], "Unknown option '--nope'"],
    [['--queue', 'billing', 'extra'], 'unexpected argument extra'],
    [['--queue', 'billing', '--max', '0'], '--max must be a whole number'],
    [['--queue', 'billing', '--region', 'eu-west-1'], '--region goes with --stack'],
    [
      ['--queue', 'all', '--from-table', '--client', 'acme', '--order-id', '../etc/passwd'],
      '--order-id must be',
    ],
    [['--queue', 'all', '--from-table', '--order-id', 'a-1'], '--order-id needs --client'],
    [['--queue', 'all', '--from-table', '--client', 'acme'], '--client goes with --order-id'],
    [['--queue', 'all', '--from-table', '--client', 'a#b', '--order-id', 'a-1'], '--client must be'],
    [['--queue', 'all', '--from-table', '--client', '', '--order-id', 'a-1'], '--client must be'],
    [['--queue', 'all', '--from-table', '--client', 'c'.repeat(65), '--order-id', 'a-1'], '--client must be'],
  ])('refuses %j with a usage error', (argv, message) => {
    // Act / Assess
    expect(() => parseRedriveArgs(argv)).toThrow(UsageError);
    expect(() => parseRedriveArgs(argv)).toThrow(message);
  });

  it('answers --help without requiring anything else', () => {
    expect(parseRedriveArgs(['--help']).help).toBe(true);
    expect(parseRedriveArgs(['-h']).help).toBe(true);
  });
});

describe('parseReplayArgs', () => {
  it('reads a day range, defaulting the end to the start, and the target', () => {
    // Act
    const single = parseReplayArgs(['--from', '2026-01-02']);
    const range = parseReplayArgs([
      '--from',
      '2026-01-02',
      '--to',
      '2026-01-05',
      '--target',
      'billing',
      '--dry-run',
    ]);
    // Assess
    expect(single.selection.to).toEqual(single.selection.from);
    expect(single.target).toBe('topic');
    expect(range).toMatchObject({ target: 'billing', dryRun: true });
    expect(range.selection.to?.toISOString()).toBe('2026-01-05T00:00:00.000Z');
  });

  it("reads order ids of one client without dates, as that client's order keys", () => {
    expect(parseReplayArgs(['--order-id', 'o-1', '--client', 'acme', '--order-id', 'o-2']).selection).toEqual(
      {
        from: undefined,
        to: undefined,
        orderKeys: ['acme#o-1', 'acme#o-2'],
      },
    );
    expect(parseReplayArgs(['--from', '2026-01-02']).selection.orderKeys).toBeUndefined();
  });

  it.each([
    [[], 'give --from DAY'],
    [['--to', '2026-01-01', '--client', 'acme', '--order-id', 'x'], '--to goes with --from'],
    [['--from', '2026-01-05', '--to', '2026-01-01'], '--to is before --from'],
    [['--from', '2025-01-01', '--to', '2026-01-02'], 'at most 366 days'],
    [['--from', '01/02/2026'], '--from must be a date'],
    [['--client', 'acme', '--order-id', 'a b'], '--order-id must be'],
    [['--client', 'acme', '--order-id', 'x', '--target', ''], '--target must be'],
    [['--order-id', 'x'], '--order-id needs --client'],
    [['--from', '2026-01-02', '--order-id', 'x'], '--order-id needs --client'],
    [['--client', 'acme'], '--client goes with --order-id'],
    [['--from', '2026-01-02', '--client', 'acme'], '--client goes with --order-id'],
    [['--client', 'ac me', '--order-id', 'x'], '--client must be'],
    [['--client', '../acme', '--order-id', 'x'], '--client must be'],
  ])('refuses %j with a usage error', (argv, message) => {
    expect(() => parseReplayArgs(argv)).toThrow(UsageError);
    expect(() => parseReplayArgs(argv)).toThrow(message);
  });
});

describe('parseFailedOrdersArgs', () => {
  it('reads list, show and export', () => {
    // Act / Assess
    expect(parseFailedOrdersArgs(['list', '--source', 'billing-dlq', '--since', '2026-01-01'])).toEqual({
      kind: 'list',
      source: 'billing-dlq',
      since: '2026-01-01T00:00:00.000Z',
      target: { stack: undefined, region: undefined },
    });
    expect(parseFailedOrdersArgs(['show', '--client', 'acme', 'order-1'])).toEqual({
      kind: 'show',
      orderKey: 'acme#order-1',
      target: { stack: undefined, region: undefined },
    });
    expect(parseFailedOrdersArgs(['show', 'order-1', '--client', 'acme.eu_2'])).toMatchObject({
      kind: 'show',
      orderKey: 'acme.eu_2#order-1',
    });
    expect(parseFailedOrdersArgs(['export', '--format', 'csv', '--out', 'f.csv'])).toMatchObject({
      kind: 'export',
      format: 'csv',
      out: 'f.csv',
    });
    expect(parseFailedOrdersArgs(['export'])).toMatchObject({ format: 'json' });
    expect(parseFailedOrdersArgs(['--help'])).toEqual({ kind: 'help' });
  });

  it.each([
    [[], 'give a command'],
    [['drop'], 'unknown command drop'],
    [['show'], 'show needs an order id'],
    [['show', '--client', 'acme'], 'show needs an order id'],
    [['show', '--client', 'acme', 'a', 'b'], 'unexpected argument b'],
    [['show', 'order-1'], 'needs --client'],
    [['show', '--client', 'a/b', 'order-1'], '--client must be'],
    [['show', '--client', 'acme', '../x'], 'must be 1-64 of [A-Za-z0-9_-], got ../x'],
    [['list', '--client', 'acme'], '--client goes with show'],
    [['export', '--client', 'acme'], '--client goes with show'],
    [['list', '--format', 'csv'], '--format goes with export'],
    [['export', '--format', 'xml'], '--format must be json or csv'],
    [['list', '--since', 'soon'], '--since must be a date'],
  ])('refuses %j with a usage error', (argv, message) => {
    expect(() => parseFailedOrdersArgs(argv)).toThrow(UsageError);
    expect(() => parseFailedOrdersArgs(argv)).toThrow(message);
  });
});
