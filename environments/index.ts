import { dev } from './dev';
import { local } from './local';
import { prod } from './prod';
import {
  ENVIRONMENT_NAMES,
  validateEnvironment,
  type EnvironmentInput,
  type EnvironmentName,
} from './schema';
import { staging } from './staging';

export {
  ENVIRONMENT_NAMES,
  InvalidEnvironmentError,
  reservedConcurrencyTotal,
  UNRESERVED_CONCURRENCY_MINIMUM,
  validateEnvironment,
  type ConsumerSettings,
  type EnvironmentConfig,
  type EnvironmentInput,
  type EnvironmentName,
  type StressProfile,
} from './schema';

const ENVIRONMENTS: Record<EnvironmentName, EnvironmentInput> = { local, dev, staging, prod };

/** Whether `name` is one of {@link ENVIRONMENT_NAMES}. */
export function isEnvironmentName(name: string): name is EnvironmentName {
  return (ENVIRONMENT_NAMES as readonly string[]).includes(name);
}

/**
 * The validated configuration of one environment.
 * @throws Error for an unknown name, InvalidEnvironmentError for a broken configuration.
 */
export function loadEnvironment(name: string) {
  if (!isEnvironmentName(name)) {
    throw new Error(`Unknown environment "${name}"; expected one of ${ENVIRONMENT_NAMES.join(', ')}`);
  }
  return validateEnvironment(ENVIRONMENTS[name]);
}
