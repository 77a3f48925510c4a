import { environmentSite, loadDeliveryFile, type DeliveryFile, type EnvironmentSite } from './delivery-file';
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
  DEPLOYED_ENVIRONMENTS,
  ENVIRONMENT_NAMES,
  InvalidEnvironmentError,
  reservedConcurrencyTotal,
  UNRESERVED_CONCURRENCY_MINIMUM,
  validateEnvironment,
  type ConsumerSettings,
  type DeployedEnvironmentName,
  type EnvironmentConfig,
  type EnvironmentInput,
  type EnvironmentName,
  type StressProfile,
} from './schema';

/** The deployed environments, each built from its delivery-file values. */
const DEPLOYED: Record<Exclude<EnvironmentName, 'local'>, (site: EnvironmentSite) => EnvironmentInput> = {
  dev,
  staging,
  prod,
};

/** Whether `name` is one of {@link ENVIRONMENT_NAMES}. */
export function isEnvironmentName(name: string): name is EnvironmentName {
  return (ENVIRONMENT_NAMES as readonly string[]).includes(name);
}

/**
 * The validated configuration of one environment: `environments/<name>.ts`, with the account,
 * domain, alarm email and quota of the delivery file for every one but `local`.
 * @throws Error for an unknown name, InvalidDeliveryFileError for a broken delivery file,
 * InvalidEnvironmentError for a broken configuration.
 */
export function loadEnvironment(name: string, file?: DeliveryFile) {
  if (!isEnvironmentName(name)) {
    throw new Error(`Unknown environment "${name}"; expected one of ${ENVIRONMENT_NAMES.join(', ')}`);
  }
  if (name === 'local') return validateEnvironment(local);
  return validateEnvironment(DEPLOYED[name](environmentSite(file ?? loadDeliveryFile(), name)));
}
