import { EXIT, parseDay, parsePositiveInteger, progressBar, runCli, UsageError } from './cli';

describe('runCli', () => {
  it('exits 2 with a pointer to --help on a usage error, 1 on any other error, 0 otherwise', async () => {
    // Prepare
    const lines: string[] = [];
    const io = { error: (line: string) => lines.push(line) };
    // Act
    const usage = await runCli('redrive', () => Promise.reject(new UsageError('--queue is required')), io);
    const failed = await runCli('redrive', () => Promise.reject(new Error('AccessDenied')), io);
    const ok = await runCli('redrive', () => Promise.resolve(), io);
    // Assess
    expect([usage, failed, ok]).toEqual([EXIT.usage, EXIT.failed, EXIT.ok]);
    expect(lines[0]).toBe('redrive: --queue is required\nTry: npm run redrive -- --help');
    expect(lines[1]).toBe('redrive: AccessDenied');
  });
});

describe('progressBar', () => {
  it('redraws one line on a TTY and prints a line per tenth on a pipe', () => {
    // Prepare
    const tty: string[] = [];
    const pipe: string[] = [];
    const onTty = progressBar('billing', 20, { isTTY: true, write: (chunk) => tty.push(chunk) });
    const onPipe = progressBar('billing', 20, { isTTY: false, write: (chunk) => pipe.push(chunk) });
    // Act
    for (let done = 1; done <= 20; done += 1) {
      onTty.update(done);
      onPipe.update(done);
    }
    // Assess
    expect(tty).toHaveLength(20);
    expect(tty[19]).toBe(`\rbilling [${'#'.repeat(30)}] 20/20`);
    expect(pipe).toHaveLength(11);
    expect(pipe[0]).toBe(`billing [${'#'.repeat(2)}${'.'.repeat(28)}] 1/20\n`);
    expect(pipe[10]).toBe(`billing [${'#'.repeat(30)}] 20/20\n`);
  });
});

describe('option parsers', () => {
  it('take real days and positive integers only', () => {
    // Act / Assess
    expect(parseDay('2026-02-28', '--from').toISOString()).toBe('2026-02-28T00:00:00.000Z');
    expect(() => parseDay('2026-02-30', '--from')).toThrow(UsageError);
    expect(() => parseDay('yesterday', '--from')).toThrow('--from must be a date YYYY-MM-DD');
    expect(parsePositiveInteger('25', '--max')).toBe(25);
    for (const bad of ['0', '-1', '1.5', '1e3', ''])
      expect(() => parsePositiveInteger(bad, '--max')).toThrow(UsageError);
  });
});
