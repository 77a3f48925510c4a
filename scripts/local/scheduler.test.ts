import type { LocalFunction } from './lambda-runtime';
import { LocalSchedule, rateMs } from './scheduler';

describe('LocalSchedule', () => {
  it('keeps a failed timed invocation in its outcomes without an unhandled rejection, and goes on', async () => {
    // Arrange: a target that fails every time, as a sweep does while its table is unreachable.
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    let calls = 0;
    const fn = {
      invoke: async () => {
        calls += 1;
        throw new Error('orders table (pending index) is unavailable');
      },
    } as unknown as LocalFunction;
    const schedule = new LocalSchedule('sweep', rateMs('rate(5 minutes)'), fn);
    // Act: 5 minutes at 6000x is every 50 ms.
    schedule.start(6000);
    await new Promise((resolve) => setTimeout(resolve, 400));
    schedule.stop();
    await new Promise((resolve) => setImmediate(resolve));
    process.off('unhandledRejection', onUnhandled);
    // Assess
    expect(calls).toBeGreaterThanOrEqual(2);
    expect(schedule.outcomes.every((outcome) => outcome.error?.message.includes('unavailable'))).toBe(true);
    expect(unhandled).toEqual([]);
  });

  it('reads rate expressions and refuses others', () => {
    expect(rateMs('rate(1 minute)')).toBe(60_000);
    expect(rateMs('rate(2 hours)')).toBe(7_200_000);
    expect(() => rateMs('cron(0 12 * * ? *)')).toThrow(/rate\(\.\.\.\) only/);
  });
});
