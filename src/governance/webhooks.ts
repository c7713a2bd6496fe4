// Budget alerts delivered by webhook: signed JSON POSTs from a bounded in-memory queue, retried with
// exponential backoff on network errors, 5xx and 429, given up on any other answer.
import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { request, type Dispatcher } from 'undici';
import { parseRetryAfter } from '../core/errors.ts';
import type { BudgetAlert } from './budget-engine.ts';

export interface WebhookEndpoint {
  url: string;
  /** Shared secret the receiver verifies `x-switchyard-signature` with. */
  secret: string;
  /** Deliver only this org's events; absent = every org's. */
  orgId?: string;
}

/** The outcome of one event at one endpoint, for logs and metrics. */
export interface DeliveryResult {
  eventId: string;
  url: string;
  delivered: boolean;
  attempts: number;
  /** The last HTTP status, if any answer came. */
  status?: number;
  /** The last network error, if the last attempt got no answer. */
  error?: string;
  /** Refused because the queue was full (or the dispatcher closed) before any attempt. */
  dropped?: boolean;
}

export interface WebhookOptions {
  endpoints: readonly WebhookEndpoint[];
  /** Attempts per event and endpoint, the first included (default 5). */
  maxAttempts?: number;
  /** Wait before the second attempt; doubles after each (default 1 s). Jittered by ±20%. */
  baseDelayMs?: number;
  /** Longest wait between attempts, also caps a `Retry-After` (default 60 s). */
  maxDelayMs?: number;
  /** Deliveries waiting beyond this are refused (default 1000). */
  maxQueue?: number;
  /** Deliveries in flight at once (default 2). */
  concurrency?: number;
  /** Per attempt, for the response headers and again for its body (default 10 s). */
  timeoutMs?: number;
  /** Injectable for tests. */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  now?: () => number;
  random?: () => number;
  dispatcher?: Dispatcher;
  onResult?: (result: DeliveryResult) => void;
}

interface Delivery {
  endpoint: WebhookEndpoint;
  eventId: string;
  type: string;
  body: string;
}

/** The JSON body of a `budget.threshold` event. */
export function alertPayload(alert: BudgetAlert, eventId: string): Record<string, unknown> {
  const { budget } = alert;
  const total = budget.period === 'total';
  return {
    id: eventId,
    type: alert.type,
    budget: {
      id: budget.id,
      org_id: budget.orgId,
      scope: budget.scope,
      scope_id: budget.scopeId,
      max_usd: budget.maxUsd,
      period: budget.period,
      hard: budget.hard,
    },
    threshold: alert.threshold,
    spent_usd: alert.spentUsd,
    limit_usd: alert.limitUsd,
    period_start: total ? null : new Date(alert.periodStart).toISOString(),
    period_end: Number.isFinite(alert.periodEnd) ? new Date(alert.periodEnd).toISOString() : null,
    timezone: alert.timezone,
    ts: new Date(alert.ts).toISOString(),
  };
}

/** Hex HMAC-SHA256 of `<t>.<body>`. */
export function signPayload(secret: string, timestampSec: number, body: string): string {
  return createHmac('sha256', secret).update(`${timestampSec}.${body}`).digest('hex');
}

/** The `x-switchyard-signature` value: `t=<unix seconds>,v1=<hex signature>`. */
export function signatureHeader(secret: string, timestampSec: number, body: string): string {
  return `t=${timestampSec},v1=${signPayload(secret, timestampSec, body)}`;
}

/**
 * Receiver side: true when the header signs this exact body with this secret and its timestamp is
 * within `toleranceSec` of `nowSec` (which defeats replays of old deliveries).
 */
export function verifySignature(secret: string, header: string, body: string, nowSec: number, toleranceSec = 300): boolean {
  let t: number | undefined;
  const candidates: string[] = [];
  for (const part of header.split(',')) {
    const eq = part.indexOf('=');
    const name = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (name === 't') t = Number(value);
    else if (name === 'v1') candidates.push(value);
  }
  if (t === undefined || !Number.isInteger(t) || Math.abs(nowSec - t) > toleranceSec) return false;
  const expected = Buffer.from(signPayload(secret, t, body), 'hex');
  return candidates.some((c) => {
    const given = Buffer.from(c, 'hex');
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
}

const defaultSleep = async (ms: number, signal: AbortSignal): Promise<void> => {
  await delay(ms, undefined, { signal }).catch(() => undefined);
};

/** Queues events and delivers each to every matching endpoint, in the background. */
export class WebhookDispatcher {
  private readonly queue: Delivery[] = [];
  private readonly abort = new AbortController();
  private readonly idleWaiters: Array<() => void> = [];
  private active = 0;
  private closed = false;
  private readonly maxAttempts: number;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly maxQueue: number;
  private readonly concurrency: number;
  private readonly timeoutMs: number;
  private readonly sleep: (ms: number, signal: AbortSignal) => Promise<void>;
  private readonly now: () => number;
  private readonly random: () => number;

  constructor(private readonly options: WebhookOptions) {
    this.maxAttempts = options.maxAttempts ?? 5;
    this.baseDelayMs = options.baseDelayMs ?? 1000;
    this.maxDelayMs = options.maxDelayMs ?? 60_000;
    this.maxQueue = options.maxQueue ?? 1000;
    this.concurrency = options.concurrency ?? 2;
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.sleep = options.sleep ?? defaultSleep;
    this.now = options.now ?? Date.now;
    this.random = options.random ?? Math.random;
  }

  /** Queues a budget alert for every endpoint of its org. Returns the event id. */
  enqueueAlert(alert: BudgetAlert): string {
    const eventId = `evt_${randomUUID()}`;
    this.enqueue(alert.budget.orgId, alert.type, eventId, JSON.stringify(alertPayload(alert, eventId)));
    return eventId;
  }

  /**
   * Queues one event body (already JSON) for every endpoint of `orgId`. Returns how many
   * deliveries were queued; the rest were dropped (full queue, or closed) and reported as such.
   */
  enqueue(orgId: string, type: string, eventId: string, body: string): number {
    let queued = 0;
    for (const endpoint of this.options.endpoints) {
      if (endpoint.orgId !== undefined && endpoint.orgId !== orgId) continue;
      if (this.closed || this.queue.length >= this.maxQueue) {
        this.report({ eventId, url: endpoint.url, delivered: false, attempts: 0, dropped: true });
        continue;
      }
      this.queue.push({ endpoint, eventId, type, body });
      queued++;
    }
    this.pump();
    return queued;
  }

  /** Deliveries waiting (not counting those in flight). */
  get pending(): number {
    return this.queue.length;
  }

  /** Resolves once every queued delivery has finished (delivered or given up). */
  drain(): Promise<void> {
    if (this.active === 0 && this.queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Stops: aborts attempts and waits in flight, drops what is queued. */
  async close(): Promise<void> {
    this.closed = true;
    for (const d of this.queue.splice(0)) this.report({ eventId: d.eventId, url: d.endpoint.url, delivered: false, attempts: 0, dropped: true });
    this.abort.abort();
    await this.drain();
  }

  private pump(): void {
    while (this.active < this.concurrency && this.queue.length > 0) {
      const next = this.queue.shift();
      if (!next) break;
      this.active++;
      void this.deliver(next).finally(() => {
        this.active--;
        this.pump();
        if (this.active === 0 && this.queue.length === 0) for (const resolve of this.idleWaiters.splice(0)) resolve();
      });
    }
  }

  private async deliver(d: Delivery): Promise<void> {
    const result: DeliveryResult = { eventId: d.eventId, url: d.endpoint.url, delivered: false, attempts: 0 };
    for (let attempt = 1; attempt <= this.maxAttempts && !this.abort.signal.aborted; attempt++) {
      result.attempts = attempt;
      let retryAfterMs: number | undefined;
      try {
        const t = Math.floor(this.now() / 1000);
        const res = await request(d.endpoint.url, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'user-agent': 'switchyard-webhooks',
            'x-switchyard-event-id': d.eventId,
            'x-switchyard-event-type': d.type,
            'x-switchyard-signature': signatureHeader(d.endpoint.secret, t, d.body),
          },
          body: d.body,
          headersTimeout: this.timeoutMs,
          bodyTimeout: this.timeoutMs,
          signal: this.abort.signal,
          ...(this.options.dispatcher ? { dispatcher: this.options.dispatcher } : {}),
        });
        await res.body.dump().catch(() => undefined);
        result.status = res.statusCode;
        delete result.error;
        if (res.statusCode >= 200 && res.statusCode < 300) {
          result.delivered = true;
          break;
        }
        // Any other client error means the receiver rejects this event: repeating it cannot help.
        if (res.statusCode !== 429 && res.statusCode < 500) break;
        retryAfterMs = parseRetryAfter(res.headers['retry-after'], this.now());
      } catch (err) {
        delete result.status;
        result.error = err instanceof Error ? err.message : String(err);
      }
      if (attempt < this.maxAttempts) await this.sleep(this.backoff(attempt, retryAfterMs), this.abort.signal);
    }
    this.report(result);
  }

  /** base·2^(attempt-1), ±20% jitter, at least a Retry-After, at most maxDelayMs. */
  private backoff(attempt: number, retryAfterMs: number | undefined): number {
    const exponential = this.baseDelayMs * 2 ** (attempt - 1) * (0.8 + 0.4 * this.random());
    return Math.round(Math.min(this.maxDelayMs, Math.max(exponential, retryAfterMs ?? 0)));
  }

  private report(result: DeliveryResult): void {
    try {
      this.options.onResult?.(result);
    } catch {
      // A failing listener must not stop deliveries.
    }
  }
}
