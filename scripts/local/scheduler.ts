/**
 * EventBridge Scheduler, locally: each `AWS::Scheduler::Schedule` of the template invokes its
 * target function at its `rate(...)`, divided by a speed (tests run sweeps in seconds, or on
 * demand with {@link LocalSchedule.runNow}). A failed invocation is reported and not retried, as
 * the template's retry policy of 0 says.
 */
import { refOf } from './calls/derived-calls';
import type { CallRecorder } from './calls/recorder';
import type { TemplateSet } from './cfn-template';
import type { LocalFunction } from './lambda-runtime';

/** The period of a Scheduler `rate(N unit)` expression, in ms. @throws Error for another kind */
export function rateMs(expression: string): number {
  const match = /^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$/.exec(expression);
  if (!match?.[1] || !match[2])
    throw new Error(`unsupported schedule expression ${expression} (rate(...) only)`);
  const unit = match[2].startsWith('minute') ? 60_000 : match[2].startsWith('hour') ? 3_600_000 : 86_400_000;
  return Number(match[1]) * unit;
}

/** One schedule: a timer that invokes a function, and a way to run it at once. */
export class LocalSchedule {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;
  /** What each invocation answered or threw, newest last. */
  readonly outcomes: Array<{ at: Date; result?: unknown; error?: Error }> = [];

  constructor(
    readonly name: string,
    readonly periodMs: number,
    readonly fn: LocalFunction,
    private readonly onInvoke: () => void = () => undefined,
  ) {}

  /** Starts the timer: one invocation every `periodMs / speed` ms. */
  start(speed = 1): void {
    this.stop();
    // A failed invocation is kept in `outcomes` (the sweep's Lambda Errors); nothing retries it.
    this.timer = setInterval(
      () => void this.runNow().catch(() => undefined),
      Math.max(50, this.periodMs / speed),
    );
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Invokes the target now (after any invocation in flight: sweeps never overlap here). */
  async runNow(): Promise<unknown> {
    await this.running?.catch(() => undefined);
    this.onInvoke();
    const invocation = this.fn.invoke({ source: 'aws.scheduler', schedule: this.name });
    this.running = invocation;
    try {
      const result = await invocation;
      this.outcomes.push({ at: new Date(), result });
      return result;
    } catch (error) {
      this.outcomes.push({ at: new Date(), error: error as Error });
      throw error;
    }
  }
}

/** The template's schedules, each bound to the local function its target names. */
export function schedulesOf(
  templates: TemplateSet,
  functionsByArn: ReadonlyMap<string, LocalFunction>,
  recorder: CallRecorder | undefined,
  logicalIdOf: (fn: LocalFunction) => string,
): LocalSchedule[] {
  return templates.resourcesOfType('AWS::Scheduler::Schedule').map((ref) => {
    const props = ref.resource.Properties ?? {};
    const target = props.Target as { Arn: unknown; RoleArn: unknown };
    const arn = templates.resolveString(ref.stack, target.Arn);
    const fn = functionsByArn.get(arn);
    if (!fn) throw new Error(`schedule ${ref.logicalId}: no local function ${arn}`);
    const expression = templates.resolveString(ref.stack, props.ScheduleExpression);
    const role = refOf(target.RoleArn) ?? 'UnknownRole';
    // Scheduler calls the target with the schedule's role.
    const record = () =>
      recorder?.record({
        principal: { kind: 'role', role, origin: 'service' },
        action: 'lambda:InvokeFunction',
        resource: `\${InvokeTarget:${logicalIdOf(fn)}}`,
        portable: true,
      });
    return new LocalSchedule(ref.logicalId, rateMs(expression), fn, record);
  });
}
