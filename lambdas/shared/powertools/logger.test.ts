import { Logger } from '@aws-lambda-powertools/logger';
import { powertoolsLevelUnderLambda } from './log-level';

/**
 * Log forging: a value from a request that holds a newline must not start a line of its own in
 * CloudWatch Logs. Powertools writes each entry as one JSON document (strings escaped), so the
 * entry stays one line whatever the values hold.
 */
describe('logger output', () => {
  it('keeps an entry on one line when a message and an attribute hold newlines and fake JSON', () => {
    // Prepare
    const written: string[] = [];
    const write = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      written.push(String(chunk));
      return true;
    });
    const logger = new Logger({ serviceName: 'forging-test', logLevel: 'INFO' });
    const forged = 'c\n{"level":"ERROR","message":"forged","service":"publisher"}\r\n';

    // Act
    try {
      logger.info(`refused ${forged}`, { customer_id: forged, details: [{ path: forged }] });
    } finally {
      write.mockRestore();
    }

    // Assess
    const output = written.join('');
    expect(output.trimEnd().split('\n')).toHaveLength(1);
    const entry = JSON.parse(output) as { message: string; customer_id: string; level: string };
    expect(entry.level).toBe('INFO');
    expect(entry.message).toBe(`refused ${forged}`);
    expect(entry.customer_id).toBe(forged);
  });
});

describe('the level Powertools logs at under Lambda log filtering (JSON format)', () => {
  it('is the stricter of Lambda application filter and POWERTOOLS_LOG_LEVEL', () => {
    expect(powertoolsLevelUnderLambda({ AWS_LAMBDA_LOG_LEVEL: 'INFO', POWERTOOLS_LOG_LEVEL: 'WARN' })).toBe(
      'WARN',
    );
    expect(powertoolsLevelUnderLambda({ AWS_LAMBDA_LOG_LEVEL: 'INFO', POWERTOOLS_LOG_LEVEL: 'DEBUG' })).toBe(
      'INFO',
    );
    expect(powertoolsLevelUnderLambda({ AWS_LAMBDA_LOG_LEVEL: 'DEBUG' })).toBe('DEBUG');
    expect(powertoolsLevelUnderLambda({ POWERTOOLS_LOG_LEVEL: 'WARN' })).toBeUndefined();
    // SILENT is the strictest; FATAL and CRITICAL are one level; an invalid own level is ignored
    expect(powertoolsLevelUnderLambda({ AWS_LAMBDA_LOG_LEVEL: 'INFO', POWERTOOLS_LOG_LEVEL: 'SILENT' })).toBe(
      'SILENT',
    );
    expect(
      powertoolsLevelUnderLambda({ AWS_LAMBDA_LOG_LEVEL: 'FATAL', POWERTOOLS_LOG_LEVEL: 'CRITICAL' }),
    ).toBe('FATAL');
    expect(powertoolsLevelUnderLambda({ AWS_LAMBDA_LOG_LEVEL: 'INFO', POWERTOOLS_LOG_LEVEL: 'LOUD' })).toBe(
      'INFO',
    );
  });

  it('keeps the function logger at WARN when Lambda filters at INFO (prod), so INFO lines stay out', () => {
    // Prepare: what Lambda sets for a function whose ApplicationLogLevel is INFO
    const saved = { lambda: process.env.AWS_LAMBDA_LOG_LEVEL, own: process.env.POWERTOOLS_LOG_LEVEL };
    Object.assign(process.env, { AWS_LAMBDA_LOG_LEVEL: 'INFO', POWERTOOLS_LOG_LEVEL: 'WARN' });
    const restore = (name: string, value: string | undefined) => {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    };

    // Act
    let level: string | undefined;
    try {
      jest.isolateModules(() => {
        level = jest.requireActual<typeof import('./logger')>('./logger').logger.getLevelName();
      });
    } finally {
      restore('AWS_LAMBDA_LOG_LEVEL', saved.lambda);
      restore('POWERTOOLS_LOG_LEVEL', saved.own);
    }

    // Assess: Powertools alone would take Lambda's INFO over POWERTOOLS_LOG_LEVEL
    expect(level).toBe('WARN');
  });
});
