import type { IncomingMessage } from 'node:http';
import { LocalLoadBalancer, requestTarget, toAlbEvent, type AlbAction } from './alb';
import type { LocalFunction } from './lambda-runtime';

const publisher = { spec: { name: 'publisher' } } as unknown as LocalFunction;
const forward: AlbAction = { type: 'forward', targetGroupArn: 'tg', fn: publisher };
const notFound: AlbAction = {
  type: 'fixed-response',
  statusCode: 404,
  contentType: 'application/json',
  body: '{"error":"not_found"}',
};

function request(method: string, rawHeaders: string[]): IncomingMessage {
  return { method, rawHeaders } as unknown as IncomingMessage;
}

describe('LocalLoadBalancer.route', () => {
  const alb = new LocalLoadBalancer({
    rules: [
      { priority: 20, pathPatterns: ['/orders', '/orders/*'], action: forward },
      { priority: 10, pathPatterns: ['/health'], action: forward },
    ],
    defaultAction: notFound,
  });

  it.each([['/health'], ['/orders'], ['/orders/abc-1']])('forwards %s to the Lambda target', (path) => {
    // Act / Assess
    expect(alb.route('GET', path)).toBe(forward);
  });

  it.each([['/'], ['/ordersx'], ['/admin'], ['/health/deep']])(
    'answers %s with the default fixed response',
    (path) => {
      // Act / Assess
      expect(alb.route('GET', path)).toBe(notFound);
    },
  );
});

describe('toAlbEvent', () => {
  it('lowercases headers, keeps the last of a repeated header and leaves the query percent-encoded', () => {
    // Act
    const event = toAlbEvent(
      request('POST', ['Content-Type', 'application/json', 'X-Client-Id', 'first', 'x-client-id', 'second']),
      requestTarget('/orders?a=1%202&b'),
      Buffer.from('{"a":1}'),
      'tg-arn',
    );
    // Assess
    expect(event).toEqual({
      requestContext: { elb: { targetGroupArn: 'tg-arn' } },
      httpMethod: 'POST',
      path: '/orders',
      queryStringParameters: { a: '1%202', b: '' },
      headers: { 'content-type': 'application/json', 'x-client-id': 'second' },
      body: '{"a":1}',
      isBase64Encoded: false,
    });
  });

  it('base64-encodes a body that is not text, as ALB does', () => {
    // Act
    const event = toAlbEvent(
      request('POST', ['Content-Type', 'application/octet-stream']),
      requestTarget('/orders'),
      Buffer.from([0xff, 0x00, 0x10]),
      'tg',
    );
    // Assess
    expect(event.isBase64Encoded).toBe(true);
    expect(Buffer.from(event.body ?? '', 'base64')).toEqual(Buffer.from([0xff, 0x00, 0x10]));
  });
});

describe('requestTarget (the path as sent, as the ALB passes it)', () => {
  it.each([
    ['/orders/../health', '/orders/../health', ''],
    ['/%2e%2e/orders', '/%2e%2e/orders', ''],
    ['/orders/./x', '/orders/./x', ''],
    ['/orders//x', '/orders//x', ''],
    ['/orders/a%2Fb?x=1', '/orders/a%2Fb', 'x=1'],
    ['/orders?', '/orders', ''],
    ['/orders#frag', '/orders', ''],
    ['http://example.com/orders/../health?q', '/orders/../health', 'q'],
  ])('keeps %s as path %s and query %j', (raw, path, query) => {
    // Act / Assess
    expect(requestTarget(raw)).toEqual({ path, query });
  });

  it('does not route /orders/../health to the /health rule', () => {
    // Prepare
    const health: AlbAction = { ...forward, targetGroupArn: 'health' };
    const alb = new LocalLoadBalancer({
      rules: [
        { priority: 10, pathPatterns: ['/health'], action: health },
        { priority: 20, pathPatterns: ['/orders', '/orders/*'], action: forward },
      ],
      defaultAction: notFound,
    });

    // Act / Assess
    expect(alb.route('GET', requestTarget('/orders/../health').path)).toBe(forward);
    expect(alb.route('GET', requestTarget('/health/../orders').path)).toBe(notFound);
  });
});
