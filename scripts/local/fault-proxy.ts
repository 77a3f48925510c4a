import { createConnection, createServer, type Server, type Socket } from 'node:net';

/**
 * A loopback TCP proxy in front of the emulator that can make the AWS endpoint "go away": while
 * it is down every open connection is cut and new ones are closed at once, as when a VPC
 * endpoint or the service is unreachable. The handlers' SDK clients see connection errors.
 */
export class FaultProxy {
  private server: Server | undefined;
  /** Open connections: client socket -> upstream socket. */
  private readonly connections = new Map<Socket, Socket>();
  private downUntil = 0;
  /** Connections cut or refused because the endpoint was down. */
  dropped = 0;

  constructor(private readonly target: { host: string; port: number }) {}

  /** Listens on a free loopback port; returns the endpoint URL to give the clients. */
  async listen(): Promise<string> {
    const server = createServer((client) => this.accept(client));
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
    this.dropped += this.connections.size;
    this.cutAll();
  }

  async close(): Promise<void> {
    this.cutAll();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private accept(client: Socket): void {
    if (this.down) {
      this.dropped += 1;
      client.destroy();
      return;
    }
    const upstream = createConnection(this.target);
    this.connections.set(client, upstream);
    for (const [from, to] of [
      [client, upstream],
      [upstream, client],
    ] as const) {
      from.pipe(to);
      from.on('error', () => to.destroy());
      from.on('close', () => {
        this.connections.delete(client);
        to.destroy();
      });
    }
  }

  private cutAll(): void {
    for (const [client, upstream] of this.connections) {
      client.destroy();
      upstream.destroy();
    }
    this.connections.clear();
  }
}
