import { DEPLOYED_ENVIRONMENTS, loadEnvironment } from '../../environments';
import { benchConfig } from './local-e2e';

describe('the configuration the bench runs', () => {
  it('caches client secrets as long as the shortest deployed cache, not the local 2 s', () => {
    // Prepare
    const deployed = DEPLOYED_ENVIRONMENTS.map((name) => loadEnvironment(name).clientSecretsCacheSeconds);

    // Act
    const config = benchConfig();

    // Assess
    expect(loadEnvironment('local').clientSecretsCacheSeconds).toBeLessThan(Math.min(...deployed));
    expect(config.clientSecretsCacheSeconds).toBe(Math.min(...deployed));
  });

  it('gives every function at least 30 s, so a slow sandbox is not retried and counted', () => {
    // Act
    const config = benchConfig();

    // Assess
    for (const settings of [...Object.values(config.functions), ...Object.values(config.consumers)])
      expect(settings.timeoutSeconds).toBeGreaterThanOrEqual(30);
  });
});
