/**
 * The time the local CloudWatch lives in. Metrics carry timestamps of this clock and alarms
 * evaluate periods of it, so a drill may run minutes of CloudWatch time in seconds: at speed 30,
 * a 60 s period passes in 2 s of wall time. What the stack measures (a Lambda's duration, an
 * ALB response time) stays in real milliseconds; only the timeline is scaled.
 */
export interface Clock {
  /** Epoch milliseconds of the clock. */
  now(): number;
  /** Virtual milliseconds per real millisecond. */
  readonly speed: number;
  /** Resolves after `ms` milliseconds of clock time. */
  sleep(ms: number): Promise<void>;
  /** The clock time of a wall-clock instant (a message's SentTimestamp, an EMF Timestamp). */
  fromWallClock(epochMs: number): number;
}

/** A clock that runs `speed` times faster than the wall clock, starting at the wall clock's now. */
export class ScaledClock implements Clock {
  private readonly realStart = Date.now();
  private readonly virtualStart: number;

  constructor(
    readonly speed = 1,
    start = Date.now(),
  ) {
    if (!(speed > 0)) throw new RangeError(`clock speed must be positive, got ${speed}`);
    this.virtualStart = start;
  }

  now(): number {
    return this.virtualStart + (Date.now() - this.realStart) * this.speed;
  }

  fromWallClock(epochMs: number): number {
    return this.virtualStart + (epochMs - this.realStart) * this.speed;
  }

  /** Resolves once `ms` of clock time has passed (timers may fire a millisecond early: wait again). */
  async sleep(ms: number): Promise<void> {
    const until = this.now() + ms;
    while (this.now() < until) {
      await new Promise((resolve) => setTimeout(resolve, Math.max(1, (until - this.now()) / this.speed)));
    }
  }
}

/** A clock tests move by hand. */
export class ManualClock implements Clock {
  readonly speed = 1;
  constructor(private current = 0) {}

  now(): number {
    return this.current;
  }

  fromWallClock(): number {
    return this.current;
  }

  advance(ms: number): void {
    this.current += ms;
  }

  sleep(ms: number): Promise<void> {
    this.current += ms;
    return Promise.resolve();
  }
}
