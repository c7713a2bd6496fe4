// Pooled keep-alive HTTP to providers: one undici Pool per origin, shared by every request.
import { Pool, errors as undiciErrors, type Dispatcher } from 'undici';
import { GatewayError } from '../core/errors.ts';
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
  addEventListener(type: 'abort', listener: () => void): void;
  removeEventListener(type: 'abort', listener: () => void): void;
}

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

  async close(): Promise<void> {
    const pools = [...this.pools.values()];
    this.pools.clear();
    await Promise.all(pools.map((pool) => pool.close().catch(() => undefined)));
  }
}

/** Classifies a transport failure (reset, refused, timeout, abort) without leaking request details. */
export function transportError(err: unknown, provider: string): GatewayError {
  if (err instanceof GatewayError) return err;
  if (err instanceof undiciErrors.HeadersTimeoutError) {
    return new GatewayError('timeout', `${provider}: no response before the first-token timeout`, { provider, code: 'first_token_timeout', cause: err });
  }
  if (err instanceof undiciErrors.BodyTimeoutError) {
    return new GatewayError('timeout', `${provider}: upstream went silent mid-response`, { provider, code: 'body_timeout', cause: err });
  }
  if (err instanceof undiciErrors.RequestAbortedError || (err instanceof Error && err.name === 'AbortError')) {
    return new GatewayError('timeout', `${provider}: request aborted`, { provider, code: 'aborted', cause: err });
  }
  const code = (err as { code?: string }).code;
  if (code === 'UND_ERR_SOCKET' || code === 'ECONNRESET' || code === 'ECONNREFUSED' || code === 'EPIPE' || code === 'UND_ERR_CLOSED') {
    return new GatewayError('upstream', `${provider}: connection failed (${code})`, { provider, code: 'connection_error', cause: err });
  }
  const message = err instanceof Error ? err.message : String(err);
  return new GatewayError('upstream', `${provider}: upstream request failed: ${message}`, { provider, code: 'connection_error', cause: err });
}
