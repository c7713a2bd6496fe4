// The Redis connection the gateway's shared state uses, tuned to fail fast: while Redis is down a
// command is refused at once (no offline queue), so the request path can take its `fail_closed` or
// `local` decision instead of waiting, and the client keeps reconnecting in the background.
import { createRequire } from 'node:module';
import type { Redis, RedisStatus } from 'ioredis';

// ioredis loads on first connection (~25 MB RSS imported): a gateway without Redis never pays for it.
let RedisClient: typeof Redis | undefined;

export type RedisUpDown = 'up' | 'down';

export interface ConnectRedisOptions {
  /** Called on every transition between up (ready for commands) and down, with what caused it. */
  onStatus?: (status: RedisUpDown, detail: { status: RedisStatus; error?: Error }) => void;
  /** `CLIENT SETNAME`, to tell the connections apart in `CLIENT LIST`. */
  connectionName?: string;
  /** Gives up on an unanswered connection attempt after this long (default 1000 ms). */
  connectTimeoutMs?: number;
  /**
   * Rejects a command without a reply after this long (default 1000 ms): a black-holed Redis fails
   * requests quickly instead of hanging them. The command may still have been applied.
   */
  commandTimeoutMs?: number;
  /** Reconnect backoff cap (default 2000 ms): 50 ms, 100 ms, 200 ms, … up to this. */
  maxRetryDelayMs?: number;
}

/** Capped exponential backoff with a little jitter, so replicas do not reconnect in lockstep. */
export function retryDelay(attempt: number, capMs = 2000): number {
  const base = Math.min(capMs, 50 * 2 ** Math.min(Math.max(attempt - 1, 0), 16));
  return Math.round(base * (0.9 + Math.random() * 0.2));
}

/**
 * A client for `url` (`redis://` or `rediss://`) that connects at once and reconnects forever.
 * Commands issued while it is not ready fail immediately (`enableOfflineQueue: false`), and
 * commands in flight when the connection drops are rejected, never resent after the reconnect
 * (a resent reservation or rate-limit hit would count twice).
 */
export function connectRedis(url: string, options: ConnectRedisOptions = {}): Redis {
  RedisClient ??= (createRequire(import.meta.url)('ioredis') as { Redis: typeof Redis }).Redis;
  const redis = new RedisClient(url, {
    lazyConnect: false,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    autoResendUnfulfilledCommands: false,
    connectTimeout: options.connectTimeoutMs ?? 1000,
    commandTimeout: options.commandTimeoutMs ?? 1000,
    retryStrategy: (attempt) => retryDelay(attempt, options.maxRetryDelayMs ?? 2000),
    connectionName: options.connectionName,
  });
  watchStatus(redis, options.onStatus);
  return redis;
}

/**
 * Attaches an `error` listener (without one ioredis prints every failed reconnect) and reports
 * transitions between up and down.
 */
function watchStatus(redis: Redis, onStatus: ConnectRedisOptions['onStatus']): void {
  let up = redis.status === 'ready';
  let lastError: Error | undefined;
  redis.on('error', (err: Error) => {
    lastError = err;
  });
  redis.on('ready', () => {
    if (up) return;
    up = true;
    onStatus?.('up', { status: redis.status });
  });
  const down = (): void => {
    if (!up) return;
    up = false;
    onStatus?.('down', { status: redis.status, error: lastError });
  };
  redis.on('close', down);
  redis.on('end', down);
}

/** Whether a connection can take commands now; for readiness probes and metrics. */
export class RedisHealth {
  private lastErrorValue: Error | undefined;
  private downSinceValue: number | undefined;
  private readonly onError = (err: Error): void => {
    this.lastErrorValue = err;
  };
  private readonly onReady = (): void => {
    this.downSinceValue = undefined;
  };
  private readonly onDown = (): void => {
    this.downSinceValue ??= this.now();
  };

  constructor(
    readonly redis: Redis,
    private readonly now: () => number = Date.now,
  ) {
    if (redis.status !== 'ready') this.downSinceValue = this.now();
    redis.on('error', this.onError);
    redis.on('ready', this.onReady);
    redis.on('close', this.onDown);
    redis.on('end', this.onDown);
  }

  isUp(): boolean {
    return this.redis.status === 'ready';
  }

  /** When the connection was last lost (epoch ms), or undefined while it is up. */
  get downSince(): number | undefined {
    return this.isUp() ? undefined : this.downSinceValue;
  }

  get lastError(): Error | undefined {
    return this.lastErrorValue;
  }

  /** Resolves true once the connection is ready, false if it is not within `timeoutMs`. */
  waitUntilUp(timeoutMs: number): Promise<boolean> {
    if (this.isUp()) return Promise.resolve(true);
    return new Promise((resolve) => {
      const onReady = (): void => {
        clearTimeout(timer);
        resolve(true);
      };
      const timer = setTimeout(() => {
        this.redis.off('ready', onReady);
        resolve(this.isUp());
      }, timeoutMs);
      this.redis.once('ready', onReady);
    });
  }

  /** Removes the listeners this helper added. */
  close(): void {
    this.redis.off('error', this.onError);
    this.redis.off('ready', this.onReady);
    this.redis.off('close', this.onDown);
    this.redis.off('end', this.onDown);
  }
}
