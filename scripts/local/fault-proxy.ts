import { randomUUID } from 'node:crypto';
import {
  Agent,
  createServer,
  request as httpRequest,
  type ClientRequest,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { Socket } from 'node:net';

/** A request through the proxy, as fault rules match it. */
export interface ProxiedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  /**
   * The API operation: the part of `X-Amz-Target` after its dot (awsJson protocols: DynamoDB,
   * Step Functions, SQS) or the Query protocol's `Action` (SNS); undefined for REST (S3).
   */
  action: string | undefined;
}

/** An error answer in the caller's protocol (awsJson, Query or REST XML). */
export interface AwsErrorAnswer {
  status: number;
  code: string;
  message?: string;
}

/** What Step Functions, DynamoDB and most JSON APIs answer a caller over its rate. */
export const THROTTLING: AwsErrorAnswer = {
  status: 400,
  code: 'ThrottlingException',
  message: 'Rate exceeded',
};
/** A fault inside the service: the SDK retries it, then reports it. */
export const INTERNAL_ERROR: AwsErrorAnswer = {
  status: 500,
  code: 'InternalServerError',
  message: 'Internal server error (injected)',
};

/**
 * What a rule does to a request it takes:
 * - `pass`: forwards it (with `delayMs`, a slow dependency; alone, a counter of matching calls);
 * - `refuse`: cuts the connection before the request reaches the service;
 * - `hang`: never forwards it and never answers (until the caller gives up or the rule is removed);
 * - `lose-answer`: forwards it, lets the service do it, then cuts the connection instead of
 *   answering (succeeded on AWS, failed for the caller);
 * - an {@link AwsErrorAnswer}: answers that error without reaching the service.
 */
export type FaultEffect = 'pass' | 'refuse' | 'hang' | 'lose-answer' | AwsErrorAnswer;

/** A fault for the requests that match it. */
export interface FaultRule {
  /** Only requests of this operation ({@link ProxiedRequest.action}). */
  action?: string;
  /** Only requests this accepts (a table name or an order id in the body, say). */
  when?: (request: ProxiedRequest) => boolean;
  /** How many matching requests the rule takes; later ones pass. @default Infinity */
  times?: number;
  /** Holds each request this long before the effect. */
  delayMs?: number;
  /** Holds each request until this settles, before the effect (a drill opens the gate). */
  holdUntil?: Promise<unknown>;
  effect: FaultEffect;
}

/** A rule in force on a proxy, and what it did. */
export class InjectedFault {
  /** Requests the rule took. */
  hits = 0;
  /** Requests it took that are still held (delayed, gated or hanging). */
  held = 0;
  private readonly waiters: Array<{ count: number; resolve: () => void }> = [];
  /** Sockets of requests it leaves hanging, cut when the rule goes. */
  readonly hanging = new Set<Socket>();

  constructor(
    readonly rule: FaultRule,
    private readonly onRemove: (fault: InjectedFault) => void,
  ) {}

  /** Resolves once the rule has taken `count` requests. */
  taken(count = 1): Promise<void> {
    if (this.hits >= count) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ count, resolve }));
  }

  /** Takes the rule out of force; requests it left hanging are cut. */
  remove(): void {
    this.onRemove(this);
    for (const socket of this.hanging) socket.destroy();
    this.hanging.clear();
  }

  matches(request: ProxiedRequest): boolean {
    const { action, when, times = Infinity } = this.rule;
    return (
      this.hits < times &&
      (action === undefined || action === request.action) &&
      (when === undefined || when(request))
    );
  }

  take(): void {
    this.hits += 1;
    for (const waiter of this.waiters.filter((candidate) => candidate.count <= this.hits)) {
      this.waiters.splice(this.waiters.indexOf(waiter), 1);
      waiter.resolve();
    }
  }
}

/** Headers that belong to one connection, not to the request or answer passed on. */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
  'expect',
  'content-length',
]);

const endToEnd = (headers: IncomingHttpHeaders) =>
  Object.fromEntries(Object.entries(headers).filter(([name]) => !HOP_BY_HOP.has(name.toLowerCase())));

/**
 * A loopback HTTP proxy in front of an AWS endpoint (the emulator, the local Step Functions) that
 * faults can be injected into. With no fault set it passes every request through unchanged.
 *
 * - {@link interrupt}: the endpoint "goes away" for a time: every open connection is cut and new
 *   ones are closed at once, as when a VPC endpoint or the service is unreachable;
 * - {@link inject}: a {@link FaultRule} for the requests of one operation (an `X-Amz-Target` or
 *   `Action`), or any test of the request: refuse, hang, delay, answer an AWS error such as a
 *   throttle, or let it through and lose the answer.
 */
export class FaultProxy {
  private server: Server | undefined;
  /** Open client connections. */
  private readonly sockets = new Set<Socket>();
  /** Requests forwarded and not answered yet, by the client connection they came on. */
  private readonly upstreamCalls = new Map<Socket, Set<ClientRequest>>();
  private readonly faults: InjectedFault[] = [];
  private readonly agent = new Agent({ keepAlive: true });
  private downUntil = 0;
  /** Connections cut or refused because the endpoint was down. */
  dropped = 0;

  constructor(private readonly target: { host: string; port: number }) {}

  /** Listens on a free loopback port; returns the endpoint URL to give the clients. */
  async listen(): Promise<string> {
    const server = createServer((request, response) => void this.handle(request, response));
    // The SDK keeps connections open between calls; closing idle ones would only add resets.
    server.keepAliveTimeout = 0;
    server.on('connection', (socket) => {
      socket.on('error', () => undefined);
      if (this.down) {
        this.dropped += 1;
        socket.destroy();
        return;
      }
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    this.server = server;
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    return `http://127.0.0.1:${port}`;
  }

  /** Whether the endpoint is down now. */
  get down(): boolean {
    return Date.now() < this.downUntil;
  }

  /** Cuts every connection and refuses new ones for `ms` milliseconds. */
  interrupt(ms: number): void {
    this.downUntil = Date.now() + ms;
    this.dropped += this.sockets.size;
    this.cutAll();
  }

  /** Puts `rule` in force, after the rules already there (the first that matches a request takes it). */
  inject(rule: FaultRule): InjectedFault {
    const fault = new InjectedFault(rule, (removed) => {
      const index = this.faults.indexOf(removed);
      if (index >= 0) this.faults.splice(index, 1);
    });
    this.faults.push(fault);
    return fault;
  }

  /** Removes every rule. */
  clearFaults(): void {
    for (const fault of [...this.faults]) fault.remove();
  }

  async close(): Promise<void> {
    this.clearFaults();
    this.cutAll();
    this.agent.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const socket = request.socket;
    let body: Buffer;
    try {
      const chunks: Buffer[] = [];
      for await (const chunk of request) chunks.push(chunk as Buffer);
      body = Buffer.concat(chunks);
    } catch {
      socket.destroy();
      return;
    }
    // Cut while its body came in (the endpoint went away): the request never reaches the service.
    if (socket.destroyed) return;
    const proxied: ProxiedRequest = {
      method: request.method ?? 'GET',
      path: request.url ?? '/',
      headers: request.headers,
      body: body.toString('utf8'),
      action: actionOf(request, body),
    };
    const fault = this.faults.find((candidate) => candidate.matches(proxied));
    if (!fault) {
      this.forward(proxied, body, response, false);
      return;
    }
    fault.take();
    const { delayMs, holdUntil, effect } = fault.rule;
    if (delayMs !== undefined || holdUntil !== undefined) {
      fault.held += 1;
      try {
        await Promise.all([
          holdUntil?.catch(() => undefined),
          delayMs === undefined ? undefined : new Promise((resolve) => setTimeout(resolve, delayMs)),
        ]);
      } finally {
        fault.held -= 1;
      }
      // The caller gave up while the request was held: nothing to answer.
      if (socket.destroyed) return;
    }
    if (effect === 'pass' || effect === 'lose-answer') {
      this.forward(proxied, body, response, effect === 'lose-answer');
    } else if (effect === 'refuse') {
      socket.destroy();
    } else if (effect === 'hang') {
      fault.held += 1;
      fault.hanging.add(socket);
      socket.once('close', () => {
        fault.held -= 1;
        fault.hanging.delete(socket);
      });
    } else {
      answerError(proxied, effect, response);
    }
  }

  /** Sends the request on; with `loseAnswer`, reads the whole answer and cuts the caller off instead. */
  private forward(
    proxied: ProxiedRequest,
    body: Buffer,
    response: ServerResponse,
    loseAnswer: boolean,
  ): void {
    const socket = response.socket;
    const upstream = httpRequest(
      {
        host: this.target.host,
        port: this.target.port,
        method: proxied.method,
        path: proxied.path,
        headers: { ...endToEnd(proxied.headers), 'content-length': String(body.length) },
        agent: this.agent,
      },
      (answer) => {
        if (loseAnswer) {
          answer.resume();
          answer.once('end', () => socket?.destroy());
          return;
        }
        response.writeHead(answer.statusCode ?? 502, answer.statusMessage, endToEnd(answer.headers));
        answer.pipe(response);
      },
    );
    if (socket) {
      const calls = this.upstreamCalls.get(socket) ?? new Set<ClientRequest>();
      calls.add(upstream);
      this.upstreamCalls.set(socket, calls);
      upstream.once('close', () => {
        calls.delete(upstream);
        if (calls.size === 0) this.upstreamCalls.delete(socket);
      });
    }
    upstream.on('error', () => socket?.destroy());
    upstream.end(body);
  }

  private cutAll(): void {
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
    for (const calls of this.upstreamCalls.values()) for (const call of calls) call.destroy();
    this.upstreamCalls.clear();
  }
}

/** The operation of an AWS request: `X-Amz-Target` (awsJson) or the `Action` form field (Query). */
function actionOf(request: IncomingMessage, body: Buffer): string | undefined {
  const target = request.headers['x-amz-target'];
  if (typeof target === 'string') return target.slice(target.lastIndexOf('.') + 1);
  const contentType = String(request.headers['content-type'] ?? '');
  const query = (request.url ?? '').split('?')[1];
  const form = contentType.startsWith('application/x-www-form-urlencoded') ? body.toString('utf8') : query;
  return form === undefined ? undefined : (new URLSearchParams(form).get('Action') ?? undefined);
}

/** The error in the shape the caller's protocol parses: awsJson, Query (`ErrorResponse`) or REST XML. */
function answerError(request: ProxiedRequest, error: AwsErrorAnswer, response: ServerResponse): void {
  const message = error.message ?? error.code;
  const requestId = randomUUID();
  if (request.headers['x-amz-target'] !== undefined) {
    response.writeHead(error.status, {
      'content-type': String(request.headers['content-type'] ?? 'application/x-amz-json-1.0'),
      'x-amzn-errortype': error.code,
      'x-amzn-requestid': requestId,
    });
    response.end(JSON.stringify({ __type: error.code, message }));
    return;
  }
  const detail = `<Code>${error.code}</Code><Message>${message}</Message>`;
  const xml =
    request.action === undefined
      ? `<Error>${detail}<RequestId>${requestId}</RequestId></Error>`
      : `<ErrorResponse><Error><Type>${error.status >= 500 ? 'Receiver' : 'Sender'}</Type>${detail}</Error><RequestId>${requestId}</RequestId></ErrorResponse>`;
  response.writeHead(error.status, { 'content-type': 'text/xml', 'x-amzn-requestid': requestId });
  response.end(xml);
}
