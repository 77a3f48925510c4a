import fc from 'fast-check';
import { deriveOrderId, executionName } from './order-id';

describe('deriveOrderId', () => {
  it('is deterministic per client and body hash, and differs between clients', () => {
    // Act
    const a1 = deriveOrderId('client-a', 'hash');
    const a2 = deriveOrderId('client-a', 'hash');
    const b = deriveOrderId('client-b', 'hash');
    const other = deriveOrderId('client-a', 'other-hash');

    // Assess
    expect(a1).toBe(a2);
    expect(b).not.toBe(a1);
    expect(other).not.toBe(a1);
    expect(a1).toMatch(/^[A-Za-z0-9_-]{1,64}$/);
  });
});

describe('executionName', () => {
  it('joins client and order id', () => {
    // Act / Assess
    expect(executionName('client-a', 'order-1')).toBe('client-a-order-1');
  });

  it('replaces characters Step Functions refuses', () => {
    // Act / Assess
    expect(executionName('client.a', 'order-1')).toBe('client_a-order-1');
  });

  it('is deterministic, at most 80 characters of [A-Za-z0-9-_], and keeps distinct orders distinct (1000 runs)', () => {
    // Prepare
    const clientId = fc.stringMatching(/^[A-Za-z0-9._-]{1,64}$/);
    const orderId = fc.stringMatching(/^[A-Za-z0-9_-]{1,64}$/);

    // Act / Assess
    fc.assert(
      fc.property(clientId, orderId, orderId, (client, first, second) => {
        const name = executionName(client, first);
        expect(name).toMatch(/^[A-Za-z0-9_-]{1,80}$/);
        expect(executionName(client, first)).toBe(name);
        expect(name.endsWith(first)).toBe(true);
        if (first !== second) expect(executionName(client, second)).not.toBe(name);
      }),
      { seed: 7, numRuns: 1000 },
    );
  });
});
