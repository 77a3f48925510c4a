import fc from 'fast-check';
import { executionName } from '../shared/workflow-starter';
import { deriveOrderId } from './order-id';

describe('deriveOrderId', () => {
  const KEY = 'order-id-key-for-tests-0123456789abcdef';

  it('is deterministic per key, client and body hash, and differs between clients and keys', () => {
    // Act
    const a1 = deriveOrderId(KEY, 'client-a', 'hash');
    const a2 = deriveOrderId(KEY, 'client-a', 'hash');
    const b = deriveOrderId(KEY, 'client-b', 'hash');
    const other = deriveOrderId(KEY, 'client-a', 'other-hash');
    const otherKey = deriveOrderId(`${KEY}x`, 'client-a', 'hash');

    // Assess
    expect(a1).toBe(a2);
    expect(b).not.toBe(a1);
    expect(other).not.toBe(a1);
    expect(otherKey).not.toBe(a1);
    expect(a1).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });
});

describe('executionName', () => {
  it('is a digest of the order key, then the order id', () => {
    // Act / Assess
    expect(executionName('client-a', 'order-1')).toMatch(/^[0-9a-f]{12}-order-1$/);
  });

  it('gives a reconciler restart a name of its own, still within 80 characters', () => {
    // Act
    const longId = 'x'.repeat(64);
    const restart = executionName('client-a', longId, 3);

    // Assess
    expect(restart).not.toBe(executionName('client-a', longId));
    expect(restart).toMatch(/^[0-9a-f]{12}-x+-r3$/);
    expect(restart.length).toBeLessThanOrEqual(80);
  });

  it("keeps two clients' orders with one id apart (ids are per client)", () => {
    // Act / Assess
    expect(executionName('client-a', 'order-1')).not.toBe(executionName('client-b', 'order-1'));
    expect(executionName('client.a', 'order-1')).not.toBe(executionName('client_a', 'order-1'));
  });

  it('is deterministic, at most 80 characters of [A-Za-z0-9-_], and keeps distinct orders distinct (1000 runs)', () => {
    // Prepare
    const clientId = fc.stringMatching(/^[A-Za-z0-9._-]{1,64}$/);
    const orderId = fc.stringMatching(/^[A-Za-z0-9_-]{1,64}$/);

    // Act / Assess
    fc.assert(
      fc.property(clientId, clientId, orderId, orderId, (client, otherClient, first, second) => {
        const name = executionName(client, first);
        expect(name).toMatch(/^[A-Za-z0-9_-]{1,80}$/);
        expect(executionName(client, first)).toBe(name);
        expect(name.endsWith(first)).toBe(true);
        if (first !== second) expect(executionName(client, second)).not.toBe(name);
        if (client !== otherClient) expect(executionName(otherClient, first)).not.toBe(name);
      }),
      { seed: 7, numRuns: 1000 },
    );
  });
});
