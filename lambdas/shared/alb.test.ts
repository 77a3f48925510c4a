import type { ALBEvent } from 'aws-lambda';
import { fromAlbEvent, jsonResponse, mediaType, toAlbResult } from './alb';

const base: ALBEvent = {
  requestContext: { elb: { targetGroupArn: 'arn:aws:elasticloadbalancing:eu-west-1:1:targetgroup/t/1' } },
  httpMethod: 'post',
  path: '/orders',
  body: null,
  isBase64Encoded: false,
};

describe('fromAlbEvent', () => {
  it('decodes a base64 body to the raw bytes', () => {
    // Prepare
    const bytes = Buffer.from([0x7b, 0x7d, 0xff, 0x00]);

    // Act
    const request = fromAlbEvent({ ...base, body: bytes.toString('base64'), isBase64Encoded: true });

    // Assess
    expect(request.body.equals(bytes)).toBe(true);
  });

  it('takes a plain body as UTF-8 and a missing body as empty', () => {
    // Act / Assess
    expect(fromAlbEvent({ ...base, body: '{"a":"é"}' }).body.toString('utf8')).toBe('{"a":"é"}');
    expect(fromAlbEvent(base).body.length).toBe(0);
  });

  it('lower-cases header names and the method is upper-cased', () => {
    // Act
    const request = fromAlbEvent({
      ...base,
      headers: { 'Content-Type': 'application/json', 'X-Client-Id': 'c' },
    });

    // Assess
    expect(request.method).toBe('POST');
    expect(request.headers).toEqual({ 'content-type': 'application/json', 'x-client-id': 'c' });
  });

  it('joins repeated multi-value headers and keeps the last repeated query value', () => {
    // Act
    const request = fromAlbEvent({
      ...base,
      multiValueHeaders: { 'X-Signature': ['v1=a', 'v1=b'], Accept: ['*/*'] },
      multiValueQueryStringParameters: { page: ['1', '2'] },
    });

    // Assess
    expect(request.headers).toEqual({ 'x-signature': 'v1=a, v1=b', accept: '*/*' });
    expect(request.query).toEqual({ page: '2' });
  });

  it('URL-decodes query strings, keeping a malformed escape as sent', () => {
    // Act
    const request = fromAlbEvent({ ...base, queryStringParameters: { 'a%20b': 'c%2Fd+e', bad: '%E0%A4%A' } });

    // Assess
    expect(request.query).toEqual({ 'a b': 'c/d e', bad: '%E0%A4%A' });
  });
});

describe('toAlbResult', () => {
  it('answers single-value headers to a single-value event', () => {
    // Act
    const result = toAlbResult(jsonResponse(202, { ok: true }, { location: '/orders/1' }), base);

    // Assess
    expect(result).toEqual({
      statusCode: 202,
      statusDescription: '202 Accepted',
      headers: { 'content-type': 'application/json', 'cache-control': 'no-store', location: '/orders/1' },
      body: '{"ok":true}',
      isBase64Encoded: false,
    });
  });

  it('answers multi-value headers to a multi-value event', () => {
    // Act
    const result = toAlbResult(jsonResponse(404, { error: 'not_found' }), { multiValueHeaders: {} });

    // Assess
    expect(result.headers).toBeUndefined();
    expect(result.multiValueHeaders).toEqual({
      'content-type': ['application/json'],
      'cache-control': ['no-store'],
    });
    expect(result.statusDescription).toBe('404 Not Found');
  });
});

describe('mediaType', () => {
  it.each([
    ['application/json', 'application/json'],
    ['Application/JSON; charset=utf-8', 'application/json'],
    ['text/plain', 'text/plain'],
    [undefined, undefined],
  ])('of %j is %j', (header, expected) => {
    // Act / Assess
    expect(mediaType(header)).toBe(expected);
  });
});
