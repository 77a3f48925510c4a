import { execFileSync } from 'node:child_process';
import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { signRequest, stringToSign, verifySignature, type VerifySignatureInput } from './signing';

const NOW = 1_767_323_045;
const SECRETS: Record<string, readonly string[]> = {
  'client-a': ['secret-new', 'secret-old'],
  'client.b_2': ['b'],
};
const body =
  '{"customer_id":"cust-1","currency":"USD","market":"us","items":[{"product_id":"sku-1","quantity":2,"unit_price":1999}]}';

function lowercase(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([name, value]) => [name.toLowerCase(), value]));
}

function verify(overrides: Partial<VerifySignatureInput> = {}) {
  const signed = signRequest({
    secret: 'secret-new',
    clientId: 'client-a',
    timestamp: NOW,
    method: 'POST',
    path: '/orders',
    body,
  });
  return verifySignature({
    headers: lowercase({ ...signed }),
    method: 'POST',
    path: '/orders',
    body,
    secretsFor: (id) => SECRETS[id],
    nowSeconds: NOW,
    ...overrides,
  });
}

describe('stringToSign', () => {
  it('is timestamp, METHOD, path and body hash joined by newlines', () => {
    // Act
    const value = stringToSign({ timestamp: 1700000000, method: 'get', path: '/orders/x', body: '' });

    // Assess: SHA-256 of zero bytes is the well-known e3b0... constant
    expect(value).toBe(
      '1700000000\nGET\n/orders/x\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    );
  });
});

describe('signRequest', () => {
  it('produces v1=<lowercase hex HMAC-SHA256> of the string to sign', () => {
    // Prepare
    const expected = createHmac('sha256', 'k')
      .update(stringToSign({ timestamp: 1700000000, method: 'POST', path: '/orders', body: '{}' }))
      .digest('hex');

    // Act
    const headers = signRequest({
      secret: 'k',
      clientId: 'c',
      timestamp: 1700000000,
      method: 'POST',
      path: '/orders',
      body: '{}',
    });

    // Assess
    expect(headers).toEqual({
      'X-Client-Id': 'c',
      'X-Timestamp': '1700000000',
      'X-Signature': `v1=${expected}`,
    });
  });

  it('signs bytes and the same UTF-8 string identically', () => {
    // Prepare
    const text = '{"customer_id":"zoë"}';
    const common = { secret: 'k', clientId: 'c', timestamp: 1, method: 'POST', path: '/orders' };

    // Act / Assess
    expect(signRequest({ ...common, body: Buffer.from(text, 'utf8') })).toEqual(
      signRequest({ ...common, body: text }),
    );
  });

  it('refuses a timestamp that is not whole seconds', () => {
    // Act / Assess
    expect(() =>
      signRequest({ secret: 'k', clientId: 'c', timestamp: 1.5, method: 'GET', path: '/' }),
    ).toThrow(RangeError);
  });
});

describe('verifySignature', () => {
  it('accepts a correctly signed request and names the client', () => {
    // Act / Assess
    expect(verify()).toEqual({ ok: true, clientId: 'client-a' });
  });

  it('matches header names case-insensitively', () => {
    // Prepare
    const signed = signRequest({
      secret: 'b',
      clientId: 'client.b_2',
      timestamp: NOW,
      method: 'POST',
      path: '/orders',
      body,
    });

    // Act
    const result = verify({ headers: { ...signed } });

    // Assess
    expect(result).toEqual({ ok: true, clientId: 'client.b_2' });
  });

  it('accepts any of the client secrets during a rotation', () => {
    // Prepare
    const withOld = signRequest({
      secret: 'secret-old',
      clientId: 'client-a',
      timestamp: NOW,
      method: 'POST',
      path: '/orders',
      body,
    });

    // Act / Assess
    expect(verify({ headers: lowercase({ ...withOld }) })).toEqual({ ok: true, clientId: 'client-a' });
  });

  it.each([
    ['wrong key', { secret: 'not-the-secret' }],
    ['secret of another client', { secret: 'b' }],
  ])('refuses a signature made with a %s', (_name, change) => {
    // Prepare
    const signed = signRequest({
      clientId: 'client-a',
      timestamp: NOW,
      method: 'POST',
      path: '/orders',
      body,
      ...change,
    });

    // Act / Assess
    expect(verify({ headers: lowercase({ ...signed }) })).toEqual({
      ok: false,
      reason: 'bad_signature',
      clientId: 'client-a',
    });
  });

  it.each([
    ['body', { body: body.replace('"quantity":2', '"quantity":3') }],
    ['path', { path: '/orders/x' }],
    ['method', { method: 'PUT' }],
  ])('refuses a request whose %s was changed after signing', (_name, change) => {
    // Act / Assess
    expect(verify(change)).toMatchObject({ ok: false, reason: 'bad_signature' });
  });

  it('refuses a request re-attributed to another client', () => {
    // Prepare
    const signed = lowercase({
      ...signRequest({
        secret: 'secret-new',
        clientId: 'client-a',
        timestamp: NOW,
        method: 'POST',
        path: '/orders',
        body,
      }),
    });

    // Act
    const result = verify({ headers: { ...signed, 'x-client-id': 'client.b_2' } });

    // Assess
    expect(result).toEqual({ ok: false, reason: 'bad_signature', clientId: 'client.b_2' });
  });

  it('refuses a changed timestamp even inside the window', () => {
    // Prepare
    const signed = lowercase({
      ...signRequest({
        secret: 'secret-new',
        clientId: 'client-a',
        timestamp: NOW,
        method: 'POST',
        path: '/orders',
        body,
      }),
    });

    // Act / Assess
    expect(verify({ headers: { ...signed, 'x-timestamp': String(NOW - 1) } })).toMatchObject({
      reason: 'bad_signature',
    });
  });

  it('accepts a timestamp exactly 300 s away and refuses 301 s, either way', () => {
    // Act / Assess
    expect(verify({ nowSeconds: NOW + 300 }).ok).toBe(true);
    expect(verify({ nowSeconds: NOW - 300 }).ok).toBe(true);
    expect(verify({ nowSeconds: NOW + 301 })).toMatchObject({ ok: false, reason: 'timestamp_too_old' });
    expect(verify({ nowSeconds: NOW - 301 })).toMatchObject({ ok: false, reason: 'timestamp_in_future' });
  });

  it('refuses an unknown client', () => {
    // Act / Assess
    expect(verify({ secretsFor: () => undefined })).toEqual({
      ok: false,
      reason: 'unknown_client',
      clientId: 'client-a',
    });
    expect(verify({ secretsFor: () => [] })).toMatchObject({ ok: false, reason: 'unknown_client' });
  });

  it.each(['x-client-id', 'x-timestamp', 'x-signature'])('refuses a request without %s', (name) => {
    // Prepare
    const signed = lowercase({
      ...signRequest({
        secret: 'secret-new',
        clientId: 'client-a',
        timestamp: NOW,
        method: 'POST',
        path: '/orders',
        body,
      }),
    });
    delete signed[name];

    // Act / Assess
    expect(verify({ headers: signed })).toEqual({ ok: false, reason: 'missing_header' });
  });

  it.each([
    ['x-client-id', '', 'malformed_client_id'],
    ['x-client-id', 'a'.repeat(65), 'malformed_client_id'],
    ['x-client-id', 'client a', 'malformed_client_id'],
    ['x-timestamp', '17e8', 'malformed_timestamp'],
    ['x-timestamp', '-5', 'malformed_timestamp'],
    ['x-timestamp', ' 1767323045', 'malformed_timestamp'],
    ['x-signature', 'deadbeef', 'malformed_signature'],
    ['x-signature', 'v2=' + 'a'.repeat(64), 'malformed_signature'],
    ['x-signature', 'v1=' + 'A'.repeat(64), 'malformed_signature'],
    ['x-signature', 'v1=' + 'a'.repeat(63), 'malformed_signature'],
    ['x-signature', 'v1=' + 'a'.repeat(64) + ', v1=' + 'b'.repeat(64), 'malformed_signature'],
  ])('refuses %s = %j as %s', (name, value, reason) => {
    // Prepare
    const signed = lowercase({
      ...signRequest({
        secret: 'secret-new',
        clientId: 'client-a',
        timestamp: NOW,
        method: 'POST',
        path: '/orders',
        body,
      }),
    });

    // Act
    const result = verify({ headers: { ...signed, [name]: value } });

    // Assess
    expect(result).toMatchObject({ ok: false, reason });
  });

  it('never accepts a tampered request (property, 1000 runs)', () => {
    // Prepare
    const tamper = fc.constantFrom('body', 'path', 'method', 'client', 'timestamp', 'signature', 'secret');
    const request = fc.record({
      body: fc.uint8Array({ maxLength: 256 }),
      path: fc.stringMatching(/^\/[a-z0-9/_-]{0,40}$/),
      method: fc.constantFrom('GET', 'POST'),
      timestamp: fc.integer({ min: NOW - 300, max: NOW + 300 }),
    });

    // Act / Assess
    fc.assert(
      fc.property(request, tamper, fc.uint8Array({ minLength: 1, maxLength: 8 }), (req, what, noise) => {
        const signed = lowercase({
          ...signRequest({
            clientId: 'client-a',
            ...req,
            secret: what === 'secret' ? 'other' : 'secret-new',
          }),
        });
        const input: VerifySignatureInput = {
          headers: signed,
          method: req.method,
          path: req.path,
          body: req.body,
          secretsFor: (id) => SECRETS[id],
          nowSeconds: NOW,
        };
        switch (what) {
          case 'body':
            input.body = Buffer.concat([req.body, noise]);
            break;
          case 'path':
            input.path = `${req.path}/${Buffer.from(noise).toString('hex')}`;
            break;
          case 'method':
            input.method = req.method === 'GET' ? 'POST' : 'GET';
            break;
          case 'client':
            input.headers = { ...signed, 'x-client-id': 'client.b_2' };
            break;
          case 'timestamp':
            input.headers = { ...signed, 'x-timestamp': String(req.timestamp + 1 + (noise[0] ?? 0)) };
            break;
          case 'signature': {
            const hex = signed['x-signature']!.slice(3);
            const flipped = (parseInt(hex[0]!, 16) ^ (1 + ((noise[0] ?? 0) % 15))).toString(16);
            input.headers = { ...signed, 'x-signature': `v1=${flipped}${hex.slice(1)}` };
            break;
          }
          case 'secret':
            break;
        }
        expect(verifySignature(input).ok).toBe(false);
      }),
      { seed: 20260102, numRuns: 1000 },
    );
  });

  it("accepts the signature of CONTRACT.md's bash + openssl recipe", () => {
    // Prepare: the recipe's lines, verbatim, minus the curl
    const script = `
body='{"customer_id":"cust-1","currency":"USD","market":"us","items":[{"product_id":"sku-1","quantity":2,"unit_price":1999}]}'
ts=$(date +%s)
sig=$(printf '%s\\n%s\\n%s\\n%s' "$ts" POST /orders "$(printf '%s' "$body" | sha256sum | cut -d' ' -f1)" \\
      | openssl dgst -sha256 -hmac "$SECRET" -hex | sed 's/^.* //')
printf '%s\\n%s\\n%s' "$ts" "v1=$sig" "$body"
`;

    // Act
    const output = execFileSync('bash', ['-c', script], {
      env: { ...process.env, SECRET: 'secret-old' },
      encoding: 'utf8',
    });
    const [ts = '', signature = '', ...rest] = output.split('\n');
    const sentBody = rest.join('\n');

    // Assess
    expect(sentBody).toBe(body);
    expect(
      verifySignature({
        headers: { 'X-Client-Id': 'client-a', 'X-Timestamp': ts, 'X-Signature': signature },
        method: 'POST',
        path: '/orders',
        body: sentBody,
        secretsFor: (id) => SECRETS[id],
      }),
    ).toEqual({ ok: true, clientId: 'client-a' });
  });
});
