/** What the operations CLIs share: usage errors (exit 2), the exit-code convention, progress. */

/** A mistake in the command line: the CLI prints it with a pointer to --help and exits 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** Exit codes of every operations CLI. */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

/**
 * Runs a CLI's `main` and turns its outcome into an exit code: a {@link UsageError} is 2, any
 * other error 1 (message only, no stack trace for an operator to wade through).
 */
export async function runCli(
  name: string,
  main: () => Promise<number | void>,
  io: { error: (line: string) => void } = console,
): Promise<number> {
  try {
    return (await main()) ?? EXIT.ok;
  } catch (error) {
    if (error instanceof UsageError) {
      io.error(`${name}: ${error.message}\nTry: npm run ${name} -- --help`);
      return EXIT.usage;
    }
    io.error(`${name}: ${(error as Error).message}`);
    return EXIT.failed;
  }
}

/** A one-line progress bar on a TTY; on a pipe, a line per 10 % so logs stay short. */
export function progressBar(
  label: string,
  total: number,
  stream: { isTTY?: boolean; write: (chunk: string) => unknown } = process.stderr,
): { update: (done: number) => void; finish: (done: number) => void } {
  let lastDecile = -1;
  const render = (done: number): string => {
    const width = 30;
    const ratio = total > 0 ? Math.min(1, done / total) : 1;
    const filled = Math.round(ratio * width);
    return `${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total}`;
  };
  return {
    update(done) {
      if (stream.isTTY) {
        stream.write(`\r${render(done)}`);
        return;
      }
      const decile = total > 0 ? Math.floor((10 * done) / total) : 10;
      if (decile !== lastDecile) {
        lastDecile = decile;
        stream.write(`${render(done)}\n`);
      }
    },
    finish(done) {
      stream.write(stream.isTTY ? `\r${render(done)}\n` : `${render(done)}\n`);
    },
  };
}

/** Parses `YYYY-MM-DD` as a UTC day. @throws UsageError */
export function parseDay(value: string, option: string): Date {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  const day = match
    ? new Date(Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3])))
    : undefined;
  if (!day || Number.isNaN(day.getTime()) || day.toISOString().slice(0, 10) !== value) {
    throw new UsageError(`${option} must be a date YYYY-MM-DD, got ${value}`);
  }
  return day;
}

/** Parses a positive whole number option. @throws UsageError */
export function parsePositiveInteger(value: string, option: string): number {
  const parsed = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(parsed) || parsed < 1) {
    throw new UsageError(`${option} must be a whole number >= 1, got ${value}`);
  }
  return parsed;
}
