import {
  ENVIRONMENT_NAMES,
  InvalidEnvironmentError,
  loadEnvironment,
  reservedConcurrencyTotal,
  UNRESERVED_CONCURRENCY_MINIMUM,
  validateEnvironment,
  type EnvironmentInput,
} from '.';

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

describe('concurrency is a budget', () => {
  const attempt = (name: string, change: (config: EnvironmentInput) => void) => {
    const config = structuredClone(loadEnvironment(name)) as EnvironmentInput;
    change(config);
    return () => validateEnvironment(config);
  };

  it.each(ENVIRONMENT_NAMES)(
    "%s reserves at most the account quota minus Lambda's unreserved 100",
    (name) => {
      const config = loadEnvironment(name);
      expect(config.lambda.accountConcurrency).toBe(1000);
      expect(reservedConcurrencyTotal(config)).toBeLessThanOrEqual(
        config.lambda.accountConcurrency - UNRESERVED_CONCURRENCY_MINIMUM,
      );
      for (const reservation of Object.values(config.lambda.reservations)) {
        expect(reservation.protects.length).toBeGreaterThan(10);
      }
    },
  );

  it('refuses a workflow timeout past the 5 minutes an Express execution may run', () => {
    expect(attempt('prod', (config) => void (config.workflowTimeoutSeconds = 301))).toThrow(
      /workflowTimeoutSeconds/,
    );
    expect(attempt('prod', (config) => void (config.workflowTimeoutSeconds = 300))).not.toThrow();
  });

  it('refuses reservations that leave fewer than 100 unreserved (the old prod: 5 x 200 of 1,000)', () => {
    const oldProd = attempt('prod', (config) => {
      config.lambda.reservations = Object.fromEntries(
        ['publisher', 'validate', 'dlq', 'billing', 'archive'].map((fn) => [
          fn,
          { concurrency: 200, protects: 'a cap per function' },
        ]),
      );
    });
    expect(oldProd).toThrow(
      /lambda\.reservations: reservations add up to 1000, more than the account quota 1000 minus Lambda's unreserved minimum 100 \(900\)/,
    );
    // A new account's quota of 50 cannot hold dev's reservations either.
    expect(attempt('dev', (config) => void (config.lambda.accountConcurrency = 50))).toThrow(
      /more than the account quota 50/,
    );
  });

  it('refuses an SQS mapping that may run more than its reserved function', () => {
    expect(attempt('prod', (config) => void (config.consumers.billing!.maxConcurrency = 51))).toThrow(
      /consumers\.billing\.maxConcurrency: 51 is more than billing's reserved concurrency 50/,
    );
    // The DLQ handler consumes 4 DLQs, each mapping scaling on its own: 4 x 3 > 8.
    expect(
      attempt('prod', (config) => {
        config.lambda.reservations!.dlq = { concurrency: 8, protects: 'the DLQ mappings, 2 each' };
        config.functions.dlq.maxConcurrency = 3;
      }),
    ).toThrow(
      /functions\.dlq\.maxConcurrency: 4 DLQ mappings x 3 = 12 is more than the DLQ handler's reserved concurrency 8/,
    );
    expect(attempt('prod', (config) => void (config.consumers.archive!.maxConcurrency = 1))).toThrow(
      /consumers\.archive\.maxConcurrency/,
    );
  });

  it('refuses a reservation for a function that does not exist, or without a reason', () => {
    expect(
      attempt('staging', (config) => {
        config.lambda.reservations!.fraud = { concurrency: 5, protects: 'a function that is not there' };
      }),
    ).toThrow(/lambda\.reservations\.fraud: no function is named fraud/);
    expect(
      attempt('staging', (config) => {
        config.lambda.reservations!.publisher = { concurrency: 5, protects: '' };
      }),
    ).toThrow(/say what the reservation protects/);
  });
});
