import { Logger } from '@aws-lambda-powertools/logger';

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
