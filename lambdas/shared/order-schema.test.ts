import { orderBody } from '../testing/fixtures';
import {
  hasUnsafeCharacter,
  MAX_VALIDATION_DETAILS,
  parseOrderBody,
  parseOrderRequest,
} from './order-schema';

function detailsOf(value: unknown) {
  const result = parseOrderRequest(value);
  if (result.success) throw new Error('expected the body to be refused');
  return result.details;
}

describe('parseOrderRequest', () => {
  it('accepts a contract example, with and without order_id', () => {
    // Act
    const without = parseOrderRequest(orderBody());
    const withId = parseOrderRequest(orderBody({ order_id: 'Order_1-a' }));

    // Assess
    expect(without).toEqual({ success: true, order: orderBody() });
    expect(withId).toMatchObject({ success: true, order: { order_id: 'Order_1-a' } });
  });

  it('accepts the boundaries: 100 items, quantity 1 and 1000, unit_price 0, 64-char ids', () => {
    // Prepare
    const items = Array.from({ length: 100 }, (_, i) => ({
      product_id: `p${i}`,
      quantity: i % 2 === 0 ? 1 : 1000,
      unit_price: 0,
    }));

    // Act
    const result = parseOrderRequest(
      orderBody({ items, customer_id: 'c'.repeat(64), order_id: 'o'.repeat(64) }),
    );

    // Assess
    expect(result.success).toBe(true);
  });

  it('rejects unknown top-level fields, naming each', () => {
    // Act / Assess
    expect(detailsOf(orderBody({ discount: 10, note: 'x' }))).toEqual([
      { path: 'discount', message: 'unknown field' },
      { path: 'note', message: 'unknown field' },
    ]);
  });

  it('rejects unknown fields of an item too', () => {
    // Act / Assess
    expect(
      detailsOf(orderBody({ items: [{ product_id: 'a', quantity: 1, unit_price: 1, colour: 'red' }] })),
    ).toEqual([{ path: 'items.0.colour', message: 'unknown field' }]);
  });

  it.each([
    ['missing customer_id', { customer_id: undefined }, 'customer_id'],
    ['empty customer_id', { customer_id: '' }, 'customer_id'],
    ['65-char customer_id', { customer_id: 'c'.repeat(65) }, 'customer_id'],
    ['numeric customer_id', { customer_id: 12 }, 'customer_id'],
    ['upper-case market', { market: 'US' }, 'market'],
    ['three-letter market', { market: 'usa' }, 'market'],
    ['lower-case currency', { currency: 'usd' }, 'currency'],
    ['two-letter currency', { currency: 'US' }, 'currency'],
    ['order_id with a slash', { order_id: 'a/b' }, 'order_id'],
    ['order_id with a dot', { order_id: 'a.b' }, 'order_id'],
    ['65-char order_id', { order_id: 'o'.repeat(65) }, 'order_id'],
    ['empty order_id', { order_id: '' }, 'order_id'],
    ['no items', { items: [] }, 'items'],
    ['items not an array', { items: {} }, 'items'],
    [
      '101 items',
      { items: Array.from({ length: 101 }, (_, i) => ({ product_id: `p${i}`, quantity: 1, unit_price: 1 })) },
      'items',
    ],
    ['quantity 0', { items: [{ product_id: 'a', quantity: 0, unit_price: 1 }] }, 'items.0.quantity'],
    ['quantity 1001', { items: [{ product_id: 'a', quantity: 1001, unit_price: 1 }] }, 'items.0.quantity'],
    [
      'fractional quantity',
      { items: [{ product_id: 'a', quantity: 1.5, unit_price: 1 }] },
      'items.0.quantity',
    ],
    [
      'quantity as a string',
      { items: [{ product_id: 'a', quantity: '1', unit_price: 1 }] },
      'items.0.quantity',
    ],
    [
      'negative unit_price',
      { items: [{ product_id: 'a', quantity: 1, unit_price: -1 }] },
      'items.0.unit_price',
    ],
    [
      'fractional unit_price',
      { items: [{ product_id: 'a', quantity: 1, unit_price: 19.99 }] },
      'items.0.unit_price',
    ],
    [
      'unsafe unit_price',
      { items: [{ product_id: 'a', quantity: 1, unit_price: 2 ** 53 }] },
      'items.0.unit_price',
    ],
    ['empty product_id', { items: [{ product_id: '', quantity: 1, unit_price: 1 }] }, 'items.0.product_id'],
    [
      '65-char product_id',
      { items: [{ product_id: 'p'.repeat(65), quantity: 1, unit_price: 1 }] },
      'items.0.product_id',
    ],
    ['missing unit_price', { items: [{ product_id: 'a', quantity: 1 }] }, 'items.0.unit_price'],
  ])('rejects %s at path %s', (_name, overrides, path) => {
    // Act
    const details = detailsOf(orderBody(overrides));

    // Assess
    expect(details).toEqual([{ path, message: expect.any(String) }]);
  });

  it.each([null, [], 'order', 42])('rejects a JSON root that is not an object (%j)', (value) => {
    // Act / Assess
    expect(detailsOf(value)).toEqual([{ path: '', message: expect.any(String) }]);
  });
});

describe('parseOrderBody', () => {
  it('parses raw bytes', () => {
    // Act
    const result = parseOrderBody(Buffer.from(JSON.stringify(orderBody()), 'utf8'));

    // Assess
    expect(result).toEqual({ success: true, order: orderBody() });
  });

  it.each(['', '{', 'not json', '{"customer_id":'])('answers %j with a single root detail', (body) => {
    // Act / Assess
    expect(parseOrderBody(body)).toEqual({
      success: false,
      details: [{ path: '', message: 'body is not valid JSON' }],
      detailCount: 1,
    });
  });
});

describe('strict strings (CONTRACT.md v1.1)', () => {
  const UNSAFE = 'must not contain control characters or unpaired surrogates';

  it.each([
    ['U+0000', '\u0000'],
    ['U+001F', '\u001f'],
    ['a newline', '\n'],
    ['a tab', '\t'],
    ['ESC (U+001B)', '\u001b[2J'],
    ['DEL (U+007F)', '\u007f'],
    ['NEL (U+0085)', '\u0085'],
    ['U+009F', '\u009f'],
    ['a lone high surrogate', '\ud800'],
    ['a lone low surrogate', '\udc00'],
    ['a reversed pair', '\ude00\ud83d'],
  ])('refuses %s in every string field, naming the field', (_name, character) => {
    for (const [path, overrides] of [
      ['customer_id', { customer_id: `c${character}` }],
      ['order_id', { order_id: `o${character}` }],
      ['market', { market: `u${character}` }],
      ['currency', { currency: `US${character}` }],
      ['items.0.product_id', { items: [{ product_id: `p${character}`, quantity: 1, unit_price: 1 }] }],
    ] as const) {
      // Act / Assess
      expect(detailsOf(orderBody(overrides))).toEqual([{ path, message: UNSAFE }]);
    }
  });

  it('refuses a lone surrogate sent as a JSON escape, as a client would send it', () => {
    // Prepare
    const body = JSON.stringify(orderBody({ customer_id: 'PLACEHOLDER' })).replace('PLACEHOLDER', 'c\\ud800');

    // Act
    const result = parseOrderBody(body);

    // Assess
    expect(result).toEqual({
      success: false,
      details: [{ path: 'customer_id', message: UNSAFE }],
      detailCount: 1,
    });
  });

  it.each([
    ['an emoji (a surrogate pair)', 'cust-🛒'],
    ['accents', 'clïent-é'],
    ['a no-break space (U+00A0, not a control)', 'a\u00a0b'],
    ['CJK', '顧客'],
  ])('accepts %s', (_name, value) => {
    // Act / Assess
    expect(hasUnsafeCharacter(value)).toBe(false);
    expect(parseOrderRequest(orderBody({ customer_id: value })).success).toBe(true);
  });
});

describe('detail cap', () => {
  it(`lists at most ${MAX_VALIDATION_DETAILS} details and counts all of them`, () => {
    // Prepare
    const extra = Object.fromEntries(Array.from({ length: 500 }, (_, i) => [`k${i}`, i]));

    // Act
    const result = parseOrderRequest(orderBody({ ...extra, market: 'US' }));

    // Assess
    if (result.success) throw new Error('expected a refusal');
    expect(result.details).toHaveLength(MAX_VALIDATION_DETAILS);
    expect(result.detailCount).toBe(501);
  });

  it('keeps every detail when there are fewer than the cap', () => {
    // Act
    const result = parseOrderRequest(orderBody({ a: 1, b: 2 }));

    // Assess
    expect(result).toMatchObject({ success: false, detailCount: 2 });
  });
});
