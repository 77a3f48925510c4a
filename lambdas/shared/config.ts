import { ConfigurationError } from './errors';

/** The process environment, or a plain record in tests. */
export type Environment = Readonly<Record<string, string | undefined>>;

/**
 * Reads a required variable.
 * @throws ConfigurationError naming the variable when it is missing or empty.
 */
export function requireEnv(env: Environment, name: string): string {
  const value = env[name];
  if (value === undefined || value.trim() === '') {
    throw new ConfigurationError(name, 'is required but not set');
  }
  return value;
}

/**
 * Reads a non-negative integer (e.g. an amount in minor units or a number of seconds).
 * @throws ConfigurationError when missing (and no default is given) or not such an integer.
 */
export function readNonNegativeIntegerEnv(env: Environment, name: string, defaultValue?: number): number {
  const raw = env[name];
  if ((raw === undefined || raw.trim() === '') && defaultValue !== undefined) return defaultValue;
  const value = requireEnv(env, name).trim();
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(Number(value))) {
    throw new ConfigurationError(name, `must be a non-negative integer, got "${value}"`);
  }
  return Number(value);
}

/**
 * Reads a probability between 0 and 1 inclusive; absent means `defaultValue`.
 * @throws ConfigurationError when the value is not a number in [0, 1].
 */
export function readRateEnv(env: Environment, name: string, defaultValue = 0): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return defaultValue;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0 || value > 1) {
    throw new ConfigurationError(name, `must be a number between 0 and 1, got "${raw}"`);
  }
  return value;
}

/**
 * Reads a JSON variable and checks its shape with `parse`, which throws (any error) when the
 * value does not fit; that error's message is kept in the ConfigurationError.
 */
export function readJsonEnv<T>(env: Environment, name: string, parse: (value: unknown) => T): T {
  const raw = requireEnv(env, name);
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    throw new ConfigurationError(name, 'is not valid JSON');
  }
  try {
    return parse(value);
  } catch (error) {
    throw new ConfigurationError(name, `has the wrong shape: ${(error as Error).message}`);
  }
}
