/**
 * Progress on stderr: a bar redrawn in place on a terminal, plain lines every few seconds
 * otherwise (CI logs keep every line, so redrawing would only flood them).
 */

/** Where progress goes: a stream that may be a terminal. */
export interface ProgressStream {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

/** A snapshot to show. */
export interface ProgressState {
  phase: 'sending' | 'waiting';
  done: number;
  total: number;
  /** Extra figures after the bar: answers by code, statuses. */
  detail: string;
}

/** A bar of `width` cells, `done/total` of them filled. */
export function bar(done: number, total: number, width: number): string {
  const filled = total <= 0 ? width : Math.min(width, Math.round((done / total) * width));
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}]`;
}

/** Shows progress on `stream`; `update` may be called as often as wanted, it draws at most every `intervalMs`. */
export class ProgressReporter {
  private lastDraw = 0;
  private lastState: ProgressState | undefined;
  private readonly started: number;
  private readonly interactive: boolean;

  constructor(
    private readonly stream: ProgressStream,
    private readonly options: { intervalMs?: number; now?: () => number } = {},
  ) {
    this.interactive = stream.isTTY === true;
    this.started = this.now();
  }

  update(state: ProgressState): void {
    this.lastState = state;
    const now = this.now();
    const interval = this.options.intervalMs ?? (this.interactive ? 100 : 5000);
    if (now - this.lastDraw < interval) return;
    this.lastDraw = now;
    this.draw(state);
  }

  /** Draws the last state for good and ends the line. */
  finish(): void {
    if (this.lastState) this.draw(this.lastState);
    if (this.interactive) this.stream.write('\n');
    this.lastState = undefined;
  }

  private now(): number {
    return this.options.now?.() ?? Date.now();
  }

  private draw(state: ProgressState): void {
    const seconds = ((this.now() - this.started) / 1000).toFixed(1);
    const percent = state.total > 0 ? Math.floor((state.done / state.total) * 100) : 100;
    const counts = `${state.done}/${state.total} ${String(percent).padStart(3)}%`;
    if (this.interactive) {
      const line = `${state.phase.padEnd(7)} ${bar(state.done, state.total, 30)} ${counts} ${seconds}s ${state.detail}`;
      const columns = this.stream.columns ?? 120;
      this.stream.write(`\r\x1b[2K${line.slice(0, Math.max(20, columns - 1))}`);
    } else {
      this.stream.write(`[stress] ${seconds}s ${state.phase} ${counts} ${state.detail}\n`);
    }
  }
}
