import { Agent, createServer, request as forward, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What identifies an AWS API call on the wire. */
export interface AwsRequestParts {
  method: string;
  headers: IncomingHttpHeaders;
  /** The request body (the query protocol names its action there). */
  body: string;
}

/** The tally's name for a ReceiveMessage that returned no message. */
export const EMPTY_RECEIVE = 'sqs.ReceiveMessage (empty)';

/** Whether a ReceiveMessage answer (JSON or query protocol) holds at least one message. */
export function receivedMessages(body: string): boolean {
  return /"Messages"\s*:\s*\[\s*\{/.test(body) || body.includes('<Message>');
}

const SERVICE_SCOPE = /Credential=[^/]+\/\d{8}\/[^/]+\/([^/]+)\/aws4_request/;

/**
 * The `Service.Operation` of a SigV4-signed AWS request: from `X-Amz-Target` (JSON protocols:
 * DynamoDB, SQS, Secrets Manager, Step Functions), the `Action` of a query-protocol body (SNS), or
 * the HTTP method for REST services (S3).
 */
export function operationOf({ method, headers, body }: AwsRequestParts): string {
  const authorization = String(headers.authorization ?? '');
  const service = SERVICE_SCOPE.exec(authorization)?.[1] ?? 'unsigned';
  const target = headers['x-amz-target'];
  if (typeof target === 'string' && target.includes('.')) {
    return `${service}.${target.slice(target.lastIndexOf('.') + 1)}`;
  }
  const action = /(?:^|&)Action=([A-Za-z]+)/.exec(body)?.[1];
  if (action) return `${service}.${action}`;
  return `${service}.${method}`;
}

/**
 * A loopback HTTP proxy that counts the AWS API calls passing through it, by operation. Several
 * proxies may share one tally (moto and the local Step Functions).
 */
export class CountingProxy {
  private server: Server | undefined;
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 64 });

  private constructor(
    readonly target: URL,
    private readonly tally: Map<string, number>,
  ) {}

  /** Starts a proxy to `target` on a free loopback port. */
  static async start(target: string, tally: Map<string, number>): Promise<CountingProxy> {
    const proxy = new CountingProxy(new URL(target), tally);
    await proxy.listen();
    return proxy;
  }

  get endpoint(): string {
    const address = this.server?.address() as AddressInfo | null;
    return `http://127.0.0.1:${address?.port ?? 0}`;
  }

  private async listen(): Promise<void> {
    this.server = createServer((incoming, outgoing) => {
      const chunks: Buffer[] = [];
      incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
      incoming.on('end', () => {
        const body = Buffer.concat(chunks);
        const operation = operationOf({
          method: incoming.method ?? 'GET',
          headers: incoming.headers,
          body: body.subarray(0, 2048).toString('utf8'),
        });
        const count = (name: string) => this.tally.set(name, (this.tally.get(name) ?? 0) + 1);
        const upstream = forward(
          {
            host: this.target.hostname,
            port: this.target.port,
            method: incoming.method,
            path: incoming.url,
            headers: incoming.headers,
            agent: this.agent,
          },
          (response) => {
            outgoing.writeHead(response.statusCode ?? 502, response.headers);
            if (operation !== 'sqs.ReceiveMessage') {
              count(operation);
              response.pipe(outgoing);
              return;
            }
            // A receive that found nothing is a poll of an idle queue: it depends on time, not
            // on orders, so it is counted apart.
            const parts: Buffer[] = [];
            response.on('data', (chunk: Buffer) => parts.push(chunk));
            response.on('end', () => {
              const answer = Buffer.concat(parts);
              count(receivedMessages(answer.toString('utf8')) ? operation : EMPTY_RECEIVE);
              outgoing.end(answer);
            });
          },
        );
        upstream.on('error', () => {
          if (!outgoing.headersSent) outgoing.writeHead(502);
          outgoing.end();
        });
        upstream.end(body);
      });
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
  }

  async close(): Promise<void> {
    this.agent.destroy();
    await new Promise<void>((resolve) => {
      this.server?.closeAllConnections();
      this.server?.close(() => resolve());
    });
  }
}
