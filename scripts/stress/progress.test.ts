import { bar, ProgressReporter } from './progress';

describe('ProgressReporter', () => {
  it('redraws one line on a terminal', () => {
    // Prepare
    const written: string[] = [];
    let now = 0;
    const progress = new ProgressReporter(
      { write: (text: string) => written.push(text), isTTY: true, columns: 200 },
      { now: () => now },
    );
    // Act
    now = 1000;
    progress.update({ phase: 'sending', done: 5, total: 10, detail: '202:5' });
    now = 1050;
    progress.update({ phase: 'sending', done: 6, total: 10, detail: '202:6' });
    progress.finish();
    // Assess
    expect(written[0]?.startsWith('\r\x1b[2K')).toBe(true);
    expect(written[0]).toMatch(/sending \[#{15}-{15}\] 5\/10\s+50%/);
    expect(written).toHaveLength(3);
    expect(written[1]).toContain('6/10');
    expect(written[2]).toBe('\n');
  });

  it('prints plain lines at most every interval when not a terminal', () => {
    // Prepare
    const written: string[] = [];
    let now = 0;
    const progress = new ProgressReporter(
      { write: (text: string) => written.push(text) },
      { now: () => now },
    );
    // Act
    for (now = 5000; now < 16_000; now += 1000) {
      progress.update({ phase: 'waiting', done: now / 1000, total: 20, detail: '' });
    }
    // Assess
    expect(written).toEqual([
      '[stress] 5.0s waiting 5/20  25% \n',
      '[stress] 10.0s waiting 10/20  50% \n',
      '[stress] 15.0s waiting 15/20  75% \n',
    ]);
    expect(written.join('')).not.toContain('\r');
    expect(bar(1, 4, 8)).toBe('[##------]');
  });
});
