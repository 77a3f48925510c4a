/**
 * The Application Load Balancer's Lambda target events, turned into a plain request and back.
 * Handles base64 bodies, single- and multi-value headers and query strings (the target group's
 * multi-value setting decides which the ALB sends, and which it expects back).
 */
import type { ALBEvent, ALBResult } from 'aws-lambda';

/** A request as the publisher's core sees it. Header names are lowercase. */
export interface HttpRequest {
  method: string;
  /** Path without query string, as the client sent it. */
  path: string;
  headers: Readonly<Record<string, string>>;
  query: Readonly<Record<string, string>>;
  /** The raw body bytes. */
  body: Buffer;
}

/** A response before it is put into the ALB's shape. */
export interface HttpResponse {
  statusCode: number;
  headers: Readonly<Record<string, string>>;
  body: string;
}

const STATUS_TEXT: Readonly<Record<number, string>> = {
  200: 'OK',
  202: 'Accepted',
  400: 'Bad Request',
  401: 'Unauthorized',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

// The ALB passes query strings URL-encoded; a malformed escape is kept as sent.
function decodeQueryComponent(value: string): string {
  try {
    return decodeURIComponent(value.replace(/\+/g, ' '));
  } catch {
    return value;
  }
}

function lowercaseHeaders(event: ALBEvent): Record<string, string> {
  const result: Record<string, string> = {};
  for (const [name, values] of Object.entries(event.multiValueHeaders ?? {})) {
    // Repeated fields are joined as HTTP does, which makes a repeated signature header malformed.
    if (values !== undefined) result[name.toLowerCase()] = values.join(', ');
  }
  for (const [name, value] of Object.entries(event.headers ?? {})) {
    if (value !== undefined) result[name.toLowerCase()] = value;
  }
  return result;
}

/** Turns an ALB target event into an {@link HttpRequest}. */
export function fromAlbEvent(event: ALBEvent): HttpRequest {
  const body = event.body ?? '';
  return {
    method: event.httpMethod.toUpperCase(),
    path: event.path,
    headers: lowercaseHeaders(event),
    query: decodedQuery(event),
    body: Buffer.from(body, event.isBase64Encoded ? 'base64' : 'utf8'),
  };
}

function decodedQuery(event: ALBEvent): Record<string, string> {
  const result: Record<string, string> = {};
  for (const [name, values] of Object.entries(event.multiValueQueryStringParameters ?? {})) {
    const last = values?.at(-1);
    if (last !== undefined) result[decodeQueryComponent(name)] = decodeQueryComponent(last);
  }
  for (const [name, value] of Object.entries(event.queryStringParameters ?? {})) {
    if (value !== undefined) result[decodeQueryComponent(name)] = decodeQueryComponent(value);
  }
  return result;
}

/** Puts a response into the shape the ALB expects for the event it sent. */
export function toAlbResult(response: HttpResponse, event: Pick<ALBEvent, 'multiValueHeaders'>): ALBResult {
  const statusDescription = `${response.statusCode} ${STATUS_TEXT[response.statusCode] ?? ''}`.trim();
  const base = {
    statusCode: response.statusCode,
    statusDescription,
    body: response.body,
    isBase64Encoded: false,
  };
  if (event.multiValueHeaders !== undefined) {
    const multiValueHeaders = Object.fromEntries(
      Object.entries(response.headers).map(([name, value]) => [name, [value]]),
    );
    return { ...base, multiValueHeaders };
  }
  return { ...base, headers: { ...response.headers } };
}

/** A JSON response with `content-type: application/json`. */
export function jsonResponse(
  statusCode: number,
  payload: unknown,
  headers: Readonly<Record<string, string>> = {},
): HttpResponse {
  return {
    statusCode,
    headers: { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers },
    body: JSON.stringify(payload),
  };
}

/** The media type of a Content-Type header, lowercase, without parameters. */
export function mediaType(contentType: string | undefined): string | undefined {
  return contentType?.split(';', 1)[0]?.trim().toLowerCase();
}
