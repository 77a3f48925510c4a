/**
 * Hostile requests, each with the 4xx that CONTRACT.md documents for it. Built for a given client
 * and clock so the same corpus runs in-process (publisher core with in-memory fakes) and over
 * HTTP against the local stack. Every case that carries an order id uses a `hostile-` one, so a
 * test can prove none was stored.
 */
import { signRequest } from '../../lambdas/shared/signing';

/** A status the contract documents for a refused request. */
export type RefusalStatus = 400 | 401 | 404 | 405 | 413 | 415;

export interface HostileCase {
  name: string;
  method: string;
  path: string;
  /** In order; a name may repeat. */
  headers: Array<[string, string]>;
  body: Buffer;
  expected: RefusalStatus;
  /**
   * What the local load balancer cannot carry as sent: repeated headers (ALB without multi-value
   * headers keeps the last), headers over Node's 16 KiB limit. (`..` segments travel as sent: the
   * local load balancer, like the ALB, does not normalize the path.)
   */
  inProcessOnly?: boolean;
}

export interface CorpusClient {
  clientId: string;
  secret: string;
}

const ONE_MIB = 1024 * 1024;

/** A valid order body object with a hostile- id (so a test can look for it). */
function validOrder(index: number, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    order_id: `hostile-${index}`,
    customer_id: 'cust-1',
    market: 'us',
    currency: 'USD',
    items: [{ product_id: 'sku-1', quantity: 2, unit_price: 1999 }],
    ...overrides,
  };
}

/** Builds every case of the corpus. */
export function hostileCorpus(client: CorpusClient, nowSeconds: number): HostileCase[] {
  const cases: HostileCase[] = [];
  let counter = 0;
  const nextId = () => (counter += 1);

  const sign = (parts: {
    method: string;
    path: string;
    body: Buffer;
    clientId?: string;
    secret?: string;
    timestamp?: number;
  }) =>
    signRequest({
      secret: parts.secret ?? client.secret,
      clientId: parts.clientId ?? client.clientId,
      timestamp: parts.timestamp ?? nowSeconds,
      method: parts.method,
      path: parts.path,
      body: parts.body,
    });

  /** A request signed correctly unless `signAs` changes what the signature covers. */
  const request = (
    name: string,
    expected: RefusalStatus,
    {
      method = 'POST',
      path = '/orders',
      body = '',
      contentType = method === 'POST' ? 'application/json' : null,
      signAs = {},
      signatureHeaders,
      extraHeaders = [],
      inProcessOnly,
    }: {
      method?: string;
      path?: string;
      body?: string | Buffer;
      /** null sends none. */
      contentType?: string | null;
      signAs?: {
        method?: string;
        path?: string;
        body?: string | Buffer;
        clientId?: string;
        secret?: string;
        timestamp?: number;
      };
      /** Replaces the three signature headers entirely. */
      signatureHeaders?: Array<[string, string]>;
      extraHeaders?: Array<[string, string]>;
      inProcessOnly?: boolean;
    } = {},
  ) => {
    const bytes = Buffer.isBuffer(body) ? body : Buffer.from(body, 'utf8');
    const signed = sign({
      method: signAs.method ?? method,
      path: signAs.path ?? path,
      body:
        signAs.body === undefined
          ? bytes
          : Buffer.isBuffer(signAs.body)
            ? signAs.body
            : Buffer.from(signAs.body),
      clientId: signAs.clientId,
      secret: signAs.secret,
      timestamp: signAs.timestamp,
    });
    const headers: Array<[string, string]> = signatureHeaders ?? [
      ['x-client-id', signed['X-Client-Id']],
      ['x-timestamp', signed['X-Timestamp']],
      ['x-signature', signed['X-Signature']],
    ];
    if (contentType !== null) headers.push(['content-type', contentType]);
    headers.push(...extraHeaders);
    cases.push({ name, method, path, headers, body: bytes, expected, inProcessOnly });
  };
  const post = (name: string, expected: RefusalStatus, body: string | Buffer, options = {}) =>
    request(name, expected, { body, ...options });
  const invalidField = (name: string, overrides: Record<string, unknown>) =>
    post(`invalid: ${name}`, 400, JSON.stringify(validOrder(nextId(), overrides)));
  const invalidItem = (name: string, item: Record<string, unknown>) =>
    invalidField(`item ${name}`, { items: [{ product_id: 'sku-1', quantity: 1, unit_price: 1, ...item }] });

  // Malformed and truncated JSON.
  const valid = JSON.stringify(validOrder(0));
  for (const text of [
    '',
    ' ',
    '{',
    '}',
    '[',
    'null',
    'true',
    '0',
    '"order"',
    '[]',
    '[{}]',
    '{}',
    "{'customer_id':'x'}",
    '{"customer_id":"c",}',
    '{"customer_id":"c" /* c */}',
    'NaN',
    '{"a":1}{"b":2}',
    `${valid}x`,
    `\uFEFF${valid}`,
    valid.replace(/"/g, "'"),
  ]) {
    post(`malformed JSON: ${JSON.stringify(text.slice(0, 30))}`, 400, text);
  }
  for (let cut = 1; cut < valid.length; cut += Math.ceil(valid.length / 25)) {
    post(`truncated JSON at ${cut}`, 400, valid.slice(0, cut));
  }
  // A load balancer hands a JSON body to the target as a UTF-8 string: bytes that are not UTF-8
  // arrive altered, so over HTTP the signature no longer matches (401), in-process the JSON fails.
  post('invalid UTF-8 bytes', 400, Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), { inProcessOnly: true });
  post('UTF-16 body', 400, Buffer.from(valid, 'utf16le'), { inProcessOnly: true });

  // Wrong types, missing fields, limits.
  for (const [field, values] of Object.entries({
    customer_id: [1, null, [], {}, true, '', 'c'.repeat(65)],
    market: ['US', 'usa', 'u', 1, '', null, 'u1'],
    currency: ['usd', 'US', 'USDX', 840, '', null],
    items: [{}, 'sku-1', [], null, 1, [null], [[]]],
    order_id: [
      '',
      'o'.repeat(65),
      'a/b',
      '../../etc/passwd',
      'a b',
      'a.b',
      'id%00',
      'id\u0000',
      '<script>',
      1,
      null,
    ],
  })) {
    for (const value of values)
      invalidField(`${field} = ${JSON.stringify(value)?.slice(0, 20)}`, { [field]: value });
  }
  for (const field of ['customer_id', 'market', 'currency', 'items']) {
    const body = validOrder(nextId());
    delete body[field];
    post(`invalid: missing ${field}`, 400, JSON.stringify(body));
  }
  for (const [field, values] of Object.entries({
    quantity: [0, 1001, 1.5, '2', -1, null, true, 2 ** 53 + 2],
    unit_price: [-1, 0.5, '100', null, [], 2 ** 53 + 2],
    product_id: ['', 'p'.repeat(65), 7, null, {}],
  })) {
    for (const value of values) invalidItem(`${field} = ${JSON.stringify(value)}`, { [field]: value });
  }
  invalidItem('with an unknown field', { discount: 100 });
  post('quantity 1e400 (Infinity)', 400, valid.replace('"quantity":2', '"quantity":1e400'));
  invalidField('unknown top-level field', { total_amount: 1 });
  invalidField('101 items', {
    items: Array.from({ length: 101 }, (_, i) => ({ product_id: `p${i}`, quantity: 1, unit_price: 1 })),
  });
  invalidField('1000 items', {
    items: Array.from({ length: 1000 }, () => ({ product_id: 'p', quantity: 1, unit_price: 1 })),
  });
  post('10,000 numbers as the body', 400, JSON.stringify(Array.from({ length: 10_000 }, (_, i) => i)));
  post(
    '5,000 items (over 64 KiB)',
    413,
    JSON.stringify(
      validOrder(nextId(), {
        items: Array.from({ length: 5000 }, () => ({ product_id: 'p', quantity: 1, unit_price: 1 })),
      }),
    ),
  );

  // Deep nesting.
  for (const depth of [1000, 10_000, 32_000]) {
    post(`array nested ${depth} deep`, 400, `${'['.repeat(depth)}${']'.repeat(depth)}`);
    post(
      `object nested ${depth} deep in customer_id`,
      400,
      `{"customer_id":${'{"a":'.repeat(depth / 10)}1${'}'.repeat(depth / 10)}}`,
    );
  }
  post('array nested 40,000 deep (over 64 KiB)', 413, `${'['.repeat(40_000)}${']'.repeat(40_000)}`);

  // Sizes.
  const megabyte = JSON.stringify(validOrder(nextId(), { customer_id: 'x'.repeat(ONE_MIB) }));
  post('1 MiB body, correctly signed', 413, megabyte);
  post('1 MiB body, unsigned', 413, megabyte, { signatureHeaders: [] });
  post('64 KiB + 1 byte', 413, Buffer.alloc(64 * 1024 + 1, 0x20));

  // Unicode edge cases.
  for (const [name, overrides] of Object.entries({
    'market with a diaeresis': { market: 'üs' },
    'currency in full-width letters': { currency: 'ＵＳＤ' },
    'quantity in full-width digits': { items: [{ product_id: 'p', quantity: '２', unit_price: 1 }] },
    'order id with an accent': { order_id: 'hostile-ordér' },
    'order id with a zero-width space': { order_id: 'hostile\u200b1' },
    'order id with a right-to-left override': { order_id: 'hostile\u202e1' },
    'order id with a lone surrogate': { order_id: 'hostile\ud8001' },
    'order id with an emoji': { order_id: 'hostile-🛒' },
    'customer id of 65 emoji': { customer_id: '🛒'.repeat(65) },
    'market in Cyrillic look-alikes': { market: 'uѕ' },
    'currency with a combining mark': { currency: 'USD\u0301' },
  })) {
    invalidField(name, overrides);
  }
  post('NUL bytes in the body', 400, Buffer.from(`\u0000${valid}`));

  // Strict strings (CONTRACT.md v1.1): control characters and lone surrogates in any string field.
  for (const [name, value] of Object.entries({
    NUL: 'cust\u0000',
    'a newline and a forged log line': 'c\n{"level":"ERROR","message":"forged"}',
    'CR LF': 'c\r\nSet-Cookie: x',
    'a tab': 'c\td',
    'an ANSI escape': '\u001b[2Jcust',
    DEL: 'cust\u007f',
    'NEL (C1)': 'cust\u0085',
    'CSI (C1)': '\u009b31m',
    'a lone high surrogate': 'cust\ud800',
    'a lone low surrogate': '\udc00cust',
  })) {
    invalidField(`customer_id with ${name}`, { customer_id: value });
    invalidItem(`product_id with ${name}`, { product_id: value });
  }
  invalidField('market with a NUL', { market: 'u\u0000' });
  invalidField('currency with a DEL', { currency: 'US\u007f' });
  // JSON.stringify writes a lone surrogate as an escape; this is the raw escape a client would send.
  post(
    'customer_id with a lone surrogate as a raw JSON escape',
    400,
    JSON.stringify(validOrder(nextId(), { customer_id: 'SURROGATE' })).replace('SURROGATE', 'c\\udfff'),
  );

  // Smaller answers: thousands of unknown keys still get a short 400 (at most 20 details).
  invalidField(
    '8,000 unknown keys in 64 KiB',
    Object.fromEntries(Array.from({ length: 8000 }, (_, i) => [i.toString(36), 0])),
  );
  invalidField('an unknown key of 30,000 characters', { ['k'.repeat(30_000)]: 1 });

  // Prototype keys.
  for (const key of ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty']) {
    post(`top-level ${key} key`, 400, `{"${key}":{"polluted":true},${valid.slice(1)}`);
    post(`item ${key} key`, 400, valid.replace('"product_id"', `"${key}":{"polluted":true},"product_id"`));
  }
  post(
    'items only under __proto__',
    400,
    JSON.stringify({ customer_id: 'c', market: 'us', currency: 'USD' }).replace(
      /}$/,
      ',"__proto__":{"items":[{"product_id":"p","quantity":1,"unit_price":1}]}}',
    ),
  );

  // Wrong content type.
  for (const contentType of [
    'text/plain',
    'application/xml',
    'application/jsonx',
    'application/json-patch+json',
    'multipart/form-data; boundary=x',
    'application/x-www-form-urlencoded',
    'json',
    '',
  ]) {
    post(`content type ${JSON.stringify(contentType)}`, 415, JSON.stringify(validOrder(nextId())), {
      contentType,
    });
  }
  request('no content type', 415, { body: JSON.stringify(validOrder(nextId())), contentType: null });

  // Signature made for something else.
  const body = () => JSON.stringify(validOrder(nextId()));
  post('signed for another body', 401, body(), { signAs: { body: body() } });
  post('signed for the body re-serialized with spaces', 401, body(), {
    signAs: { body: JSON.stringify(validOrder(counter), null, 1) },
  });
  post('signed for another path', 401, body(), { signAs: { path: '/orders/x' } });
  post('signed for another method', 401, body(), { signAs: { method: 'PUT' } });
  post('signed with another client secret', 401, body(), { signAs: { secret: 'secret-of-another-client' } });
  post('signed as an unknown client', 401, body(), { signAs: { clientId: 'nobody' } });
  post('signed with an empty secret', 401, body(), { signAs: { secret: '' } });
  // The 301 s cases test the edge against a fixed clock; over HTTP the corpus is sent later.
  for (const [name, offset] of [
    ['301 s old', -301],
    ['301 s ahead', 301],
  ] as const) {
    post(`timestamp ${name}`, 401, body(), {
      signAs: { timestamp: nowSeconds + offset },
      inProcessOnly: true,
    });
  }
  for (const [name, offset] of [
    ['10 min old', -600],
    ['10 min ahead', 600],
    ['a day old', -86_400],
    ['year 2000', 946_684_800 - nowSeconds],
  ] as const) {
    post(`timestamp ${name}`, 401, body(), { signAs: { timestamp: nowSeconds + offset } });
  }
  request('GET another order signed for POST', 401, {
    method: 'GET',
    path: '/orders/hostile-x',
    signAs: { method: 'POST' },
  });

  // Malformed signature headers (signature computed correctly where there is one).
  const signed = sign({ method: 'POST', path: '/orders', body: Buffer.from(body()) });
  const theBody = body();
  const goodSignature = sign({ method: 'POST', path: '/orders', body: Buffer.from(theBody) });
  const withHeaders = (name: string, headers: Array<[string, string]>, inProcessOnly?: boolean) =>
    post(name, 401, theBody, { signatureHeaders: headers, inProcessOnly });
  const id: [string, string] = ['x-client-id', goodSignature['X-Client-Id']];
  const ts: [string, string] = ['x-timestamp', goodSignature['X-Timestamp']];
  const sig: [string, string] = ['x-signature', goodSignature['X-Signature']];
  withHeaders('no signature headers', []);
  withHeaders('no x-signature', [id, ts]);
  withHeaders('no x-timestamp', [id, sig]);
  withHeaders('no x-client-id', [ts, sig]);
  withHeaders('signature of another request', [id, ts, ['x-signature', signed['X-Signature']]]);
  withHeaders('signature in uppercase hex', [
    id,
    ts,
    ['x-signature', sig[1].toUpperCase().replace('V1=', 'v1=')],
  ]);
  withHeaders('signature with a v2 prefix', [id, ts, ['x-signature', sig[1].replace('v1=', 'v2=')]]);
  withHeaders('signature without prefix', [id, ts, ['x-signature', sig[1].slice(3)]]);
  withHeaders('signature one hex digit short', [id, ts, ['x-signature', sig[1].slice(0, -1)]]);
  // HTTP drops whitespace around header values, so these two only exist in-process.
  // HTTP drops whitespace around header values, so these two exist in-process only.
  withHeaders('signature with a trailing space', [id, ts, ['x-signature', `${sig[1]} `]], true);
  withHeaders('timestamp with a leading space', [id, ['x-timestamp', ` ${ts[1]}`], sig], true);
  withHeaders('signature of 8 KiB', [id, ts, ['x-signature', `v1=${'a'.repeat(8192)}`]]);
  withHeaders('client id of 65 characters', [['x-client-id', 'c'.repeat(65)], ts, sig]);
  withHeaders('client id with a slash', [['x-client-id', '../local-demo'], ts, sig]);
  withHeaders('client id with unicode', [['x-client-id', 'clïent'], ts, sig]);
  withHeaders('client id __proto__', [['x-client-id', '__proto__'], ts, sig]);
  withHeaders('client id constructor', [['x-client-id', 'constructor'], ts, sig]);
  for (const timestamp of [
    '99999999999999999999',
    '9007199254740993',
    '-1',
    '1e10',
    `${ts[1]}.0`,
    '0x10',
    '',
    'now',
  ]) {
    withHeaders(`timestamp ${JSON.stringify(timestamp)}`, [id, ['x-timestamp', timestamp], sig]);
  }
  withHeaders('x-signature repeated', [id, ts, sig, sig], true);
  withHeaders('x-client-id repeated', [id, id, ts, sig], true);
  withHeaders('x-timestamp repeated', [id, ts, ts, sig], true);
  withHeaders('x-signature of 64 KiB', [id, ts, ['x-signature', `v1=${'0'.repeat(64 * 1024)}`]], true);
  post('content-type repeated', 415, theBody, {
    signatureHeaders: [id, ts, sig],
    extraHeaders: [['content-type', 'application/json']],
    inProcessOnly: true,
  });

  // Unknown paths, wrong methods, odd order ids in paths.
  for (const path of [
    '/',
    '/order',
    '/Orders',
    '/orders/',
    '/orders//x',
    '/orders/a/b',
    '/health/x',
    '/admin',
    '/.env',
  ]) {
    request(`POST ${path}`, 404, { path, body: body() });
  }
  // The load balancer passes the path as sent, dot segments and all, so none of these is /orders.
  for (const path of [
    '/orders/../orders',
    '/orders/../../etc/passwd',
    '/health/../orders',
    '/%2e%2e/orders',
    '/orders/%2e%2e/orders',
    '/orders/./',
  ]) {
    request(`POST ${path} (traversal)`, 404, { path, body: body() });
  }
  // Nor is this /health: signed for its own path, it reaches the publisher and is no order.
  request('GET /orders/../health (traversal, not the health check)', 404, {
    method: 'GET',
    path: '/orders/../health',
  });

  // A query string is not covered by the signature: refused even when everything else is right.
  for (const [name, path, method] of [
    ['POST /orders?debug=1', '/orders?debug=1', 'POST'],
    ['POST /orders?order_id=other', '/orders?order_id=other', 'POST'],
    ['POST /orders?a (no value)', '/orders?a', 'POST'],
    ['GET /orders/hostile-x?x=1', '/orders/hostile-x?x=1', 'GET'],
    ['GET /health?x=1', '/health?x=1', 'GET'],
  ] as const) {
    request(`query string: ${name}`, 400, {
      method,
      path,
      body: method === 'POST' ? body() : '',
      signAs: { path: path.split('?', 1)[0] },
    });
  }
  for (const method of ['GET', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'])
    request(`${method} /orders`, 405, { method, body: '' });
  for (const method of ['POST', 'PUT', 'DELETE'])
    request(`${method} /health`, 405, { method, path: '/health', body: '' });
  for (const method of ['POST', 'PUT', 'DELETE', 'PATCH'])
    request(`${method} /orders/hostile-x`, 405, { method, path: '/orders/hostile-x', body: '' });
  for (const orderPath of [
    '..%2f..%2fetc%2fpasswd',
    '%00',
    'a;b',
    'a%20b',
    'o'.repeat(65),
    '%F0%9F%9B%92',
    'hostile-x.json',
    '*',
    '..',
  ]) {
    request(`GET /orders/${orderPath.slice(0, 20)}`, 404, {
      method: 'GET',
      path: `/orders/${orderPath}`,
    });
  }
  request('GET /orders/unknown, signed', 404, { method: 'GET', path: '/orders/hostile-never-made' });
  request('GET /orders/x unsigned', 401, { method: 'GET', path: '/orders/hostile-x', signatureHeaders: [] });
  return cases;
}
