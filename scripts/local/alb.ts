import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ALBEvent, ALBResult } from 'aws-lambda';
import type { LocalFunction } from './lambda-runtime';

/** An action of a listener or listener rule, resolved from the template. */
export type AlbAction =
  | { type: 'forward'; targetGroupArn: string; fn: LocalFunction }
  | { type: 'fixed-response'; statusCode: number; contentType: string; body: string };

/** A listener rule: path patterns (with `*` and `?`) and, optionally, methods. */
export interface AlbRule {
  priority: number;
  pathPatterns: string[];
  methods?: string[];
  action: AlbAction;
}

export interface AlbSpec {
  rules: AlbRule[];
  defaultAction: AlbAction;
}

/** One answered request, as the load balancer's CloudWatch metrics count it. */
export interface AlbRequestOutcome {
  statusCode: number;
  /** Who produced the status: the Lambda target, the load balancer itself, or a fixed-response action. */
  source: 'target' | 'elb' | 'fixed-response';
  /** The target group of a forwarded request. */
  targetGroupArn?: string;
  /** Milliseconds from forwarding the request to the target's response (target responses only). */
  targetResponseMs?: number;
}

/** ALB's limit for a request body forwarded to a Lambda target. */
const LAMBDA_TARGET_MAX_BODY = 1024 * 1024;
const TEXT_CONTENT = /^(text\/|application\/(json|javascript|xml|x-www-form-urlencoded)|[^;]*\+json)/i;

/**
 * The Application Load Balancer, locally: an HTTP server that matches the listener's rules,
 * turns the request into an ALB target event for the Lambda target and its result back into an
 * HTTP response, or answers a fixed response.
 */
export class LocalLoadBalancer {
  private server: Server | undefined;
  /** Sees every answered request; set by the local CloudWatch. */
  observer: ((outcome: AlbRequestOutcome) => void) | undefined;

  constructor(private readonly spec: AlbSpec) {}

  async listen(port: number, host = '127.0.0.1'): Promise<string> {
    this.server = createServer((request, response) => {
      void this.handle(request, response).catch((error: Error & { targetGroupArn?: string }) => {
        this.observer?.({ statusCode: 502, source: 'elb', targetGroupArn: error.targetGroupArn });
        respond(response, {
          statusCode: 502,
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ error: 'bad_gateway' }),
        });
        console.error(`[alb] ${error.message}`);
      });
    });
    await new Promise<void>((resolve, reject) => {
      this.server?.once('error', reject);
      this.server?.listen(port, host, resolve);
    });
    return `http://${host}:${(this.server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  /** Which action serves this method and path: the rule of lowest priority that matches. */
  route(method: string, path: string): AlbAction {
    const rules = [...this.spec.rules].sort((a, b) => a.priority - b.priority);
    const rule = rules.find(
      (candidate) =>
        candidate.pathPatterns.some((pattern) => globToRegExp(pattern).test(path)) &&
        (!candidate.methods || candidate.methods.includes(method)),
    );
    return rule?.action ?? this.spec.defaultAction;
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const target = requestTarget(request.url ?? '/');
    const method = request.method ?? 'GET';
    const body = await readBody(request, LAMBDA_TARGET_MAX_BODY);
    if (body === undefined) {
      this.observer?.({ statusCode: 413, source: 'elb' });
      respond(response, {
        statusCode: 413,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ error: 'payload_too_large' }),
      });
      return;
    }
    const action = this.route(method, target.path);
    if (action.type === 'fixed-response') {
      this.observer?.({ statusCode: action.statusCode, source: 'fixed-response' });
      respond(response, {
        statusCode: action.statusCode,
        headers: { 'content-type': action.contentType },
        body: action.body,
      });
      return;
    }
    const forwarded = performance.now();
    const result = (await action.fn
      .invoke(toAlbEvent(request, target, body, action.targetGroupArn))
      .catch((error: Error) => {
        // A function error is no target response: the load balancer answers 502 itself.
        throw Object.assign(error, { targetGroupArn: action.targetGroupArn });
      })) as ALBResult;
    this.observer?.({
      statusCode: result.statusCode,
      source: 'target',
      targetGroupArn: action.targetGroupArn,
      targetResponseMs: performance.now() - forwarded,
    });
    respond(response, result);
  }
}

/** The path and query string of a request line, as sent. */
export interface RequestTarget {
  /** Raw path: no dot segments resolved, no percent-decoding. */
  path: string;
  /** Raw query string without the `?` (empty when there is none). */
  query: string;
}

/**
 * Splits a request-target into path and query exactly as sent. A WHATWG URL parser would resolve
 * `..` and `%2e%2e` segments, so `/orders/../health` would reach the rules as `/health`; the ALB
 * passes the path on as received (the Lambda target event documents `path` as the request's
 * path, https://docs.aws.amazon.com/elasticloadbalancing/latest/application/lambda-functions.html),
 * so the local stack does the same and the publisher sees what an attacker sent.
 */
export function requestTarget(raw: string): RequestTarget {
  // An absolute-form target (`GET http://host/path`), which proxies send: keep what follows the host.
  const originForm = raw.replace(/^[a-z][a-z0-9+.-]*:\/\/[^/?#]*/i, '');
  const withoutFragment = originForm.split('#', 1)[0] ?? '';
  const queryAt = withoutFragment.indexOf('?');
  const path = queryAt === -1 ? withoutFragment : withoutFragment.slice(0, queryAt);
  return {
    path: path === '' ? '/' : path,
    query: queryAt === -1 ? '' : withoutFragment.slice(queryAt + 1),
  };
}

/** Builds the event ALB sends a Lambda target (multi-value headers off). */
export function toAlbEvent(
  request: IncomingMessage,
  target: RequestTarget,
  body: Buffer,
  targetGroupArn: string,
): ALBEvent {
  const headers: Record<string, string> = {};
  for (let i = 0; i < request.rawHeaders.length; i += 2) {
    // With multi-value headers off, ALB passes the last value of a repeated header.
    headers[(request.rawHeaders[i] ?? '').toLowerCase()] = request.rawHeaders[i + 1] ?? '';
  }
  const query: Record<string, string> = {};
  // ALB passes query string parameters as they arrived, still percent-encoded.
  for (const pair of target.query.split('&').filter(Boolean)) {
    const [name = '', value = ''] = pair.split('=');
    query[name] = value;
  }
  const text = TEXT_CONTENT.test(headers['content-type'] ?? '') || body.length === 0;
  return {
    requestContext: { elb: { targetGroupArn } },
    httpMethod: request.method ?? 'GET',
    path: target.path,
    queryStringParameters: query,
    headers,
    body: text ? body.toString('utf8') : body.toString('base64'),
    isBase64Encoded: !text,
  };
}

function respond(response: ServerResponse, result: ALBResult): void {
  const body = result.body ?? '';
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(result.headers ?? {})) headers[name] = String(value);
  response.writeHead(result.statusCode, headers);
  response.end(result.isBase64Encoded ? Buffer.from(body, 'base64') : body);
}

function readBody(request: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) tooLarge = true;
      else chunks.push(chunk);
    });
    request.on('end', () => resolve(tooLarge ? undefined : Buffer.concat(chunks)));
    request.on('error', reject);
  });
}

function globToRegExp(pattern: string): RegExp {
  const escaped = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${escaped}$`);
}
