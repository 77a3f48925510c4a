import { InjectedFailureError } from './errors';

/** A source of numbers in [0, 1), like Math.random; injected so tests are deterministic. */
export type RandomSource = () => number;

/**
 * Fails with probability `rate` (0 never, 1 always), before the caller makes any side effect,
 * so the retry and DLQ paths can be exercised on purpose.
 * @throws InjectedFailureError when the draw falls under the rate.
 */
export function maybeInjectFailure(rate: number, random: RandomSource): void {
  if (rate > 0 && random() < rate) throw new InjectedFailureError(rate);
}
