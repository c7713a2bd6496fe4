// Pooled keep-alive HTTP to providers: one undici Pool per origin, shared by every request.
import { Pool, type Dispatcher } from 'undici';
import { BufferingHandler, type BufferedCallOptions, type BufferedResponse } from './buffered-call.ts';
import { transportError } from './transport-error.ts';
import type { ProviderEndpoint, UpstreamRequest } from './types.ts';

export interface UpstreamTimeouts {
  /** Until the response headers arrive (a backstop: callers run their own first-token deadline). */
  headersMs: number;
  /** Longest silence between body chunks. */
  bodyMs: number;
}

export interface UpstreamResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Dispatcher.ResponseData['body'];
}

/** What undici reads of a request's signal: an AbortSignal, or the first-token deadline's lighter one. */
export interface AbortLike {
  readonly aborted: boolean;
  readonly reason: unknown;
  addEventListener(type: 'abort', listener: AbortListener): void;
  removeEventListener(type: 'abort', listener: AbortListener): void;
}

/** A function, or an object whose `handleEvent` is called (the EventListener protocol: no closure needed). */
export type AbortListener = (() => void) | { handleEvent(): void };

export class UpstreamPools {
  private readonly pools = new Map<string, Pool>();

  constructor(private readonly connectionsPerOrigin = 256) {}

  private pool(origin: string): Pool {
    let pool = this.pools.get(origin);
    if (!pool) {
      pool = new Pool(origin, {
        connections: this.connectionsPerOrigin,
        pipelining: 1,
        keepAliveTimeout: 30_000,
        keepAliveMaxTimeout: 600_000,
        connect: { timeout: 10_000 },
      });
      this.pools.set(origin, pool);
    }
    return pool;
  }

  async send(endpoint: ProviderEndpoint, req: UpstreamRequest, signal: AbortLike, timeouts: UpstreamTimeouts): Promise<UpstreamResponse> {
    try {
      const res = await this.pool(endpoint.origin).request({
        method: req.method,
        path: req.path,
        headers: req.headers,
        body: req.body,
        signal: signal as AbortSignal,
        headersTimeout: timeouts.headersMs,
        bodyTimeout: timeouts.bodyMs,
      });
      return { status: res.statusCode, headers: res.headers, body: res.body };
    } catch (err) {
      throw transportError(err, endpoint.name);
    }
  }

  /** One call read whole (unary completions, embeddings); rejects with a classified GatewayError. */
  call(endpoint: ProviderEndpoint, req: UpstreamRequest, signal: AbortLike, options: BufferedCallOptions): Promise<BufferedResponse> {
    return new Promise((resolve, reject) => {
      const handler = new BufferingHandler(endpoint.name, signal, options, resolve, reject);
      if (signal.aborted) return;
      this.pool(endpoint.origin).dispatch(
        { method: req.method, path: req.path, headers: req.headers, body: req.body, headersTimeout: options.headersMs, bodyTimeout: options.bodyMs },
        handler,
      );
    });
  }

  async close(): Promise<void> {
    const pools = [...this.pools.values()];
    this.pools.clear();
    await Promise.all(pools.map((pool) => pool.close().catch(() => undefined)));
  }
}
