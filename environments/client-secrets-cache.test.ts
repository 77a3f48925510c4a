import { ENVIRONMENT_NAMES, InvalidEnvironmentError, loadEnvironment, validateEnvironment } from '.';

describe('client-secrets cache (how long a revoked secret keeps working)', () => {
  it.each(ENVIRONMENT_NAMES)('%s revokes within 30 s', (name) => {
    // Act / Assess
    expect(loadEnvironment(name).clientSecretsCacheSeconds).toBeLessThanOrEqual(30);
  });

  it('lets a new local client sign within seconds', () => {
    // Act / Assess
    expect(loadEnvironment('local').clientSecretsCacheSeconds).toBeLessThanOrEqual(2);
  });

  it('refuses a cache of more than 30 s', () => {
    // Prepare
    const config = { ...loadEnvironment('prod'), clientSecretsCacheSeconds: 31 };

    // Act / Assess
    expect(() => validateEnvironment(config)).toThrow(InvalidEnvironmentError);
    expect(() => validateEnvironment(config)).toThrow(/clientSecretsCacheSeconds/);
  });
});
