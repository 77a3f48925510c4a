import { ENVIRONMENT_NAMES, InvalidEnvironmentError, loadEnvironment, validateEnvironment } from '.';

describe('environments', () => {
  it.each(ENVIRONMENT_NAMES)('%s is valid, arm64, Express by default', (name) => {
    const config = loadEnvironment(name);
    expect(config.name).toBe(name);
    expect(config.lambda.architecture).toBe('arm64');
    expect(config.workflowType).toBe('EXPRESS');
    for (const consumer of Object.values(config.consumers))
      expect(consumer.maxReceiveCount).toBeGreaterThanOrEqual(5);
  });

  it('gives the local stack short timings so the DLQ path is fast', () => {
    const local = loadEnvironment('local');
    for (const consumer of Object.values(local.consumers)) {
      expect(consumer.timeoutSeconds).toBeGreaterThanOrEqual(1);
      expect(consumer.timeoutSeconds).toBeLessThanOrEqual(2);
      expect(consumer.maxBatchingWindowSeconds).toBe(0);
      expect(consumer.maxReceiveCount).toBe(5);
    }
  });

  it('keeps prod free of failure injection and plain HTTP', () => {
    const prod = loadEnvironment('prod');
    expect(prod.account).toMatch(/^\d{12}$/);
    expect(prod.allowHttp).toBe(false);
    expect(Object.values(prod.consumers).every((c) => c.failureInjectionRate === 0)).toBe(true);
  });

  it('keeps order data out of the prod workflow logs', () => {
    const prod = { ...loadEnvironment('prod'), workflowLogs: { level: 'ALL', includeExecutionData: true } };
    expect(() => validateEnvironment(prod)).toThrow(
      /workflowLogs.includeExecutionData: prod must keep execution data out of the workflow logs/,
    );
  });

  it('rejects unknown names and plain HTTP in staging', () => {
    expect(() => loadEnvironment('qa')).toThrow(/Unknown environment "qa"/);
    const staging = { ...loadEnvironment('staging'), allowHttp: true };
    expect(() => validateEnvironment(staging)).toThrow(InvalidEnvironmentError);
    expect(() => validateEnvironment(staging)).toThrow(/plain HTTP is only allowed in local and dev/);
  });

  it('rejects malformed markets and currencies', () => {
    const dev = { ...loadEnvironment('dev'), marketCurrencies: { USA: ['usd'] } };
    expect(() => validateEnvironment(dev)).toThrow(/marketCurrencies/);
  });
});
