import { InvalidWorkflowInputError } from '../shared/errors';
import type { SubmittedOrder } from '../shared/runtime-contract';
import { orderFromWorkflowInput, orderTotal, parseMarketCurrencies, validateOrder } from './business-rules';

const rules = { orderTotalLimit: 10_000, marketCurrencies: { us: ['USD'], eu: ['EUR', 'USD'] } };

function order(overrides: Partial<SubmittedOrder> = {}): SubmittedOrder {
  return {
    order_id: 'order-1',
    client_id: 'client-a',
    customer_id: 'cust-1',
    market: 'us',
    currency: 'USD',
    items: [
      { product_id: 'a', quantity: 2, unit_price: 1999 },
      { product_id: 'b', quantity: 1, unit_price: 500 },
    ],
    created_at: '2026-01-02T03:04:05.000Z',
    body_hash: 'a'.repeat(64),
    ...overrides,
  };
}

describe('validateOrder', () => {
  it('accepts a valid order and adds its total', () => {
    // Act
    const result = validateOrder(order(), rules);

    // Assess
    expect(result).toEqual({
      valid: true,
      order: { ...order(), total_amount: 4498 },
    });
  });

  it('accepts a total exactly at the limit and rejects one unit above', () => {
    // Prepare
    const at = order({ items: [{ product_id: 'a', quantity: 4, unit_price: 2500 }] });
    const above = order({ items: [{ product_id: 'a', quantity: 1, unit_price: 10_001 }] });

    // Act / Assess
    expect(validateOrder(at, rules).valid).toBe(true);
    expect(validateOrder(above, rules)).toEqual({
      valid: false,
      reasons: ['order total 10001 exceeds the limit of 10000'],
    });
  });

  it('computes totals beyond safe integers exactly', () => {
    // Prepare
    const items = Array.from({ length: 100 }, (_, i) => ({
      product_id: `p${i}`,
      quantity: 1000,
      unit_price: Number.MAX_SAFE_INTEGER,
    }));

    // Act / Assess
    expect(orderTotal({ items })).toBe(BigInt(Number.MAX_SAFE_INTEGER) * 100_000n);
    expect(validateOrder(order({ items }), rules).valid).toBe(false);
  });

  it('rejects a currency not allowed in the market', () => {
    // Act / Assess
    expect(validateOrder(order({ currency: 'EUR' }), rules)).toEqual({
      valid: false,
      reasons: ['currency EUR is not allowed in market us'],
    });
    expect(validateOrder(order({ market: 'eu', currency: 'USD' }), rules).valid).toBe(true);
  });

  it.each(['ru', 'constructor', 'toString'])('rejects a market missing from the map (%s)', (market) => {
    // Act / Assess
    expect(validateOrder(order({ market }), rules)).toEqual({
      valid: false,
      reasons: [`market ${market} is not served`],
    });
  });

  it('rejects duplicate product lines, naming each product once', () => {
    // Prepare
    const items = [
      { product_id: 'a', quantity: 1, unit_price: 1 },
      { product_id: 'b', quantity: 1, unit_price: 1 },
      { product_id: 'a', quantity: 2, unit_price: 1 },
      { product_id: 'a', quantity: 3, unit_price: 1 },
    ];

    // Act / Assess
    expect(validateOrder(order({ items }), rules)).toEqual({
      valid: false,
      reasons: ['product a appears on more than one line'],
    });
  });

  it('lists every broken rule', () => {
    // Prepare
    const broken = order({
      currency: 'GBP',
      items: [
        { product_id: 'a', quantity: 1000, unit_price: 1000 },
        { product_id: 'a', quantity: 1, unit_price: 1 },
      ],
    });

    // Act
    const result = validateOrder(broken, rules);

    // Assess
    expect(result.valid).toBe(false);
    expect(result.valid === false && result.reasons).toHaveLength(3);
  });
});

describe('parseMarketCurrencies', () => {
  it('reads the MARKET_CURRENCIES document', () => {
    // Act / Assess
    expect(parseMarketCurrencies({ us: ['USD'], eu: ['EUR'] })).toEqual({ us: ['USD'], eu: ['EUR'] });
  });

  it.each([[['USD']], [null], [{ us: 'USD' }], [{ us: [1] }]])('refuses %j', (value) => {
    // Act / Assess
    expect(() => parseMarketCurrencies(value)).toThrow();
  });
});

describe('orderFromWorkflowInput', () => {
  it('returns the order of the state input', () => {
    // Act / Assess
    expect(orderFromWorkflowInput({ order: order() })).toEqual(order());
  });

  it.each([null, {}, { order: 'x' }, { order: { order_id: 'a' } }])('refuses %j', (input) => {
    // Act / Assess
    expect(() => orderFromWorkflowInput(input)).toThrow(InvalidWorkflowInputError);
  });
});
