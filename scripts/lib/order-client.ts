import { signRequest } from '../../lambdas/shared/signing';
import type { OrderStatus } from '../../lambdas/shared/runtime-contract';

/** Terminal states of CONTRACT.md's lifecycle. */
export const TERMINAL_STATUSES: readonly OrderStatus[] = ['REJECTED', 'COMPLETED', 'FAILED'];

/** The status document of `GET /orders/{id}`. */
export interface OrderStatusDocument {
  order_id: string;
  status: OrderStatus;
  billed: boolean;
  archived: boolean;
  reasons: string[];
  created_at: string;
  updated_at: string;
}

/** One HTTP exchange: status, parsed JSON body (when it is JSON) and headers. */
export interface ApiResponse<T = unknown> {
  status: number;
  body: T;
  headers: Headers;
  latencyMs: number;
}

export interface OrderClientOptions {
  url: string;
  clientId: string;
  secret: string;
  /** Per-request timeout. @default 10000 */
  timeoutMs?: number;
}

/** A signed client of the order API, as CONTRACT.md describes it. */
export class OrderClient {
  constructor(private readonly options: OrderClientOptions) {}

  /** Signs and sends `POST /orders` with the exact body given. */
  submit(
    body: string,
    overrides: { clientId?: string; secret?: string; timestamp?: number } = {},
  ): Promise<ApiResponse> {
    return this.request('POST', '/orders', body, overrides);
  }

  /** Signs and sends `GET /orders/{id}`. */
  status(orderId: string): Promise<ApiResponse> {
    return this.request('GET', `/orders/${encodeURIComponent(orderId)}`, '');
  }

  /** Polls the order's status until it is terminal or the deadline passes; returns the last document. */
  async waitForTerminal(
    orderId: string,
    options: { deadlineMs?: number; intervalMs?: number; onStatus?: (status: string) => void } = {},
  ): Promise<OrderStatusDocument | undefined> {
    const deadline = Date.now() + (options.deadlineMs ?? 60_000);
    let last: OrderStatusDocument | undefined;
    while (Date.now() < deadline) {
      const response = await this.status(orderId);
      if (response.status === 200) {
        const document = response.body as OrderStatusDocument;
        if (document.status !== last?.status) options.onStatus?.(document.status);
        last = document;
        if (TERMINAL_STATUSES.includes(document.status)) return document;
      }
      await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 250));
    }
    return last;
  }

  /** Sends a signed request; `overrides` lets tests and the stress tool sign as someone else. */
  async request(
    method: string,
    path: string,
    body: string,
    overrides: { clientId?: string; secret?: string; timestamp?: number } = {},
  ): Promise<ApiResponse> {
    const headers = signRequest({
      secret: overrides.secret ?? this.options.secret,
      clientId: overrides.clientId ?? this.options.clientId,
      timestamp: overrides.timestamp,
      method,
      path,
      body,
    });
    const started = performance.now();
    const response = await fetch(new URL(path, this.options.url), {
      method,
      headers: { ...headers, ...(method === 'GET' ? {} : { 'content-type': 'application/json' }) },
      body: method === 'GET' ? undefined : body,
      signal: AbortSignal.timeout(this.options.timeoutMs ?? 10_000),
    });
    const text = await response.text();
    const latencyMs = performance.now() - started;
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // not JSON: keep the text
    }
    return { status: response.status, body: parsed, headers: response.headers, latencyMs };
  }
}
