import '../testing/handler-env';
import { lambdaContext } from '../testing/fixtures';
import { handler } from './handler';

describe('validate handler', () => {
  it('applies ORDER_TOTAL_LIMIT and MARKET_CURRENCIES from the environment', async () => {
    // Prepare: handler-env sets the limit to 100000 and us -> USD, eu -> EUR
    const base = {
      order_id: 'order-1',
      client_id: 'client-a',
      customer_id: 'cust-1',
      market: 'us',
      currency: 'USD',
      created_at: '2026-01-02T03:04:05.000Z',
    };

    // Act
    const valid = await handler(
      { order: { ...base, items: [{ product_id: 'a', quantity: 1, unit_price: 100_000 }] } },
      lambdaContext,
    );
    const invalid = await handler(
      { order: { ...base, currency: 'EUR', items: [{ product_id: 'a', quantity: 1, unit_price: 100_001 }] } },
      lambdaContext,
    );

    // Assess
    expect(valid).toMatchObject({ valid: true, order: { total_amount: 100_000 } });
    expect(invalid).toEqual({
      valid: false,
      reasons: ['order total 100001 exceeds the limit of 100000', 'currency EUR is not allowed in market us'],
    });
  });

  it('fails the task on an input that is not { order }', async () => {
    // Act / Assess
    await expect(handler({ nope: true }, lambdaContext)).rejects.toThrow(/invalid workflow input/);
  });
});
