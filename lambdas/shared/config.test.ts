import { readJsonEnv, readNonNegativeIntegerEnv, readRateEnv, requireEnv } from './config';
import { ConfigurationError } from './errors';

describe('requireEnv', () => {
  it('returns a set variable', () => {
    // Act / Assess
    expect(requireEnv({ A: 'x' }, 'A')).toBe('x');
  });

  it.each([{}, { ORDERS_TABLE_NAME: '' }, { ORDERS_TABLE_NAME: '  ' }])(
    'throws a ConfigurationError naming the missing variable (%j)',
    (env) => {
      // Act / Assess
      expect(() => requireEnv(env, 'ORDERS_TABLE_NAME')).toThrow(ConfigurationError);
      expect(() => requireEnv(env, 'ORDERS_TABLE_NAME')).toThrow(/ORDERS_TABLE_NAME/);
    },
  );
});

describe('readNonNegativeIntegerEnv', () => {
  it('parses integers and uses the default only when unset', () => {
    // Act / Assess
    expect(readNonNegativeIntegerEnv({ N: '100000' }, 'N')).toBe(100000);
    expect(readNonNegativeIntegerEnv({}, 'N', 30)).toBe(30);
    expect(readNonNegativeIntegerEnv({ N: '0' }, 'N', 30)).toBe(0);
  });

  it.each(['-1', '1.5', 'ten', '1e3', '99999999999999999999'])('refuses %j', (value) => {
    // Act / Assess
    expect(() => readNonNegativeIntegerEnv({ N: value }, 'N')).toThrow(/N must be a non-negative integer/);
  });

  it('throws when missing without a default', () => {
    // Act / Assess
    expect(() => readNonNegativeIntegerEnv({}, 'ORDER_TOTAL_LIMIT')).toThrow(/ORDER_TOTAL_LIMIT/);
  });
});

describe('readRateEnv', () => {
  it('reads 0..1 and defaults to 0', () => {
    // Act / Assess
    expect(readRateEnv({}, 'R')).toBe(0);
    expect(readRateEnv({ R: '0.25' }, 'R')).toBe(0.25);
    expect(readRateEnv({ R: '1' }, 'R')).toBe(1);
  });

  it.each(['-0.1', '1.01', 'often'])('refuses %j', (value) => {
    // Act / Assess
    expect(() => readRateEnv({ R: value }, 'R')).toThrow(ConfigurationError);
  });
});

describe('readJsonEnv', () => {
  const asStringArray = (value: unknown): string[] => {
    if (!Array.isArray(value)) throw new Error('expected an array');
    return value as string[];
  };

  it('parses and checks the shape', () => {
    // Act / Assess
    expect(readJsonEnv({ J: '["a"]' }, 'J', asStringArray)).toEqual(['a']);
  });

  it('names the variable when the JSON is invalid or has the wrong shape', () => {
    // Act / Assess
    expect(() => readJsonEnv({ J: '{' }, 'J', asStringArray)).toThrow(
      'Environment variable J is not valid JSON',
    );
    expect(() => readJsonEnv({ J: '{}' }, 'J', asStringArray)).toThrow(
      /J has the wrong shape: expected an array/,
    );
  });
});
