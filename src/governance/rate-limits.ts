// Request, token and concurrency limits of the key, its user and its team, checked as one atomic
// `Counters.hit`, with OpenAI-style `x-ratelimit-*` headers for both the refusal and the success.
import { GatewayError } from '../core/errors.ts';
import type { Counters, RateCheck, RateState } from './counters.ts';
import type { RateLimits } from './types.ts';

export type LimitScope = 'key' | 'user' | 'team';

/** One holder of limits that applies to the request. */
export interface LimitSubject {
  scope: LimitScope;
  id: string;
  limits: RateLimits | undefined;
}

type Kind = 'requests' | 'tokens';

/** A `Counters` check with what it limits and for whom, to name it in errors and headers. */
export interface PlannedCheck extends RateCheck {
  kind: Kind;
  subject: LimitSubject;
}

/** Proof of admission; give it back to `settleTokens` when the actual token count is known. */
export interface RateTicket {
  readonly at: number;
  readonly estimatedTokens: number;
  readonly tokenKeys: readonly string[];
  readonly windowMs: number;
}

export type RateHeaders = Record<string, string>;

export type RateDecision =
  | { ok: true; ticket: RateTicket; headers: RateHeaders }
  | { ok: false; error: GatewayError; headers: RateHeaders };

/** Concurrency slots held by a request; release them when it ends, however it ends. */
export interface ConcurrencyLease {
  readonly keys: readonly string[];
}

export type ConcurrencyDecision = { ok: true; lease: ConcurrencyLease } | { ok: false; error: GatewayError };

export interface RateLimiterOptions {
  /** The window of rpm and tpm (default one minute). */
  windowMs?: number;
  /** Retry hint for a full concurrency limit, whose release time nobody knows (default 1 s). */
  concurrencyRetryMs?: number;
}

const NO_LIMITS: RateHeaders = Object.freeze({});

interface SubjectKeys {
  rpm: string;
  tpm: string;
  concurrency: string;
}
// Principals (and their subjects) are cached per key, so the counter keys are built once per subject.
const subjectKeys = new WeakMap<LimitSubject, SubjectKeys>();

function keysOf(subject: LimitSubject): SubjectKeys {
  let keys = subjectKeys.get(subject);
  if (!keys) {
    const id = `${subject.scope}:${subject.id}`;
    keys = { rpm: `rpm:${id}`, tpm: `tpm:${id}`, concurrency: `conc:${id}` };
    subjectKeys.set(subject, keys);
  }
  return keys;
}

export class RateLimiter {
  private readonly windowMs: number;
  private readonly concurrencyRetryMs: number;

  constructor(
    private readonly counters: Counters,
    options: RateLimiterOptions = {},
  ) {
    this.windowMs = options.windowMs ?? 60_000;
    this.concurrencyRetryMs = options.concurrencyRetryMs ?? 1000;
  }

  /**
   * The window checks for these subjects: per subject, `rpm` costs 1 and `tpm` costs the token
   * estimate (prompt estimate + max output tokens, so a request cannot overrun the limit).
   */
  plan(subjects: readonly LimitSubject[], estimatedTokens: number): PlannedCheck[] {
    const tokens = Math.max(0, Math.ceil(estimatedTokens));
    const checks: PlannedCheck[] = [];
    for (const subject of subjects) {
      const { rpm, tpm } = subject.limits ?? {};
      if (rpm !== undefined) checks.push({ kind: 'requests', subject, key: keysOf(subject).rpm, limit: rpm, windowMs: this.windowMs, cost: 1 });
      if (tpm !== undefined) checks.push({ kind: 'tokens', subject, key: keysOf(subject).tpm, limit: tpm, windowMs: this.windowMs, cost: tokens });
    }
    return checks;
  }

  /**
   * Admits the request under every rpm and tpm limit at once, or refuses it with a 429 naming the
   * limit and when to retry. The headers describe the tightest limit of each kind either way.
   */
  async admit(subjects: readonly LimitSubject[], estimatedTokens: number, now: number): Promise<RateDecision> {
    const checks = this.plan(subjects, estimatedTokens);
    const tokenKeys: string[] = [];
    for (const c of checks) if (c.kind === 'tokens') tokenKeys.push(c.key);
    const ticket: RateTicket = { at: now, estimatedTokens: Math.max(0, Math.ceil(estimatedTokens)), tokenKeys, windowMs: this.windowMs };
    if (checks.length === 0) return { ok: true, ticket, headers: NO_LIMITS };
    const result = await this.counters.hit(checks, now);
    const headers = rateLimitHeaders(checks, result.states);
    if (result.ok) return { ok: true, ticket, headers };
    const check = checks.find((c) => c.key === result.key);
    if (!check) throw new Error(`counters refused unknown check ${result.key}`);
    return { ok: false, error: refusal(check, result.remaining, result.retryAfterMs), headers };
  }

  /** Replaces the token estimate by the actual count (0 when the request failed before using any). */
  async settleTokens(ticket: RateTicket, actualTokens: number): Promise<void> {
    const delta = Math.max(0, Math.ceil(actualTokens)) - ticket.estimatedTokens;
    if (delta === 0) return;
    await Promise.all(ticket.tokenKeys.map((key) => this.counters.adjust(key, ticket.windowMs, delta, ticket.at)));
  }

  /** Takes a concurrency slot under every subject's `maxConcurrency`, or none and a 429. */
  async acquire(subjects: readonly LimitSubject[]): Promise<ConcurrencyDecision> {
    const slots: Array<{ key: string; max: number; subject: LimitSubject }> = [];
    const keys: string[] = [];
    for (const subject of subjects) {
      const max = subject.limits?.maxConcurrency;
      if (max !== undefined) {
        const key = keysOf(subject).concurrency;
        slots.push({ key, max, subject });
        keys.push(key);
      }
    }
    if (slots.length === 0) return { ok: true, lease: { keys } };
    const result = await this.counters.acquire(slots);
    if (result.ok) return { ok: true, lease: { keys } };
    const full = slots.find((s) => s.key === result.key);
    const who = full ? `${full.subject.scope} ${full.subject.id}` : result.key;
    const error = new GatewayError('rate_limit', `Concurrency limit reached: ${who} allows ${result.max} requests in flight at once; retry when one finishes.`, {
      code: 'concurrency_limit_exceeded',
      retryAfterMs: this.concurrencyRetryMs,
    });
    return { ok: false, error };
  }

  async release(lease: ConcurrencyLease): Promise<void> {
    if (lease.keys.length > 0) await this.counters.releaseSlots(lease.keys);
  }
}

function refusal(check: PlannedCheck, remaining: number, retryAfterMs: number): GatewayError {
  const who = `${check.subject.scope} ${check.subject.id}`;
  const per = windowPhrase(check.windowMs);
  if (check.limit <= 0) {
    return new GatewayError('rate_limit', `Rate limit exceeded: ${who} may not make requests (its ${check.kind === 'tokens' ? 'tpm' : 'rpm'} limit is 0).`, {
      code: 'rate_limit_exceeded',
    });
  }
  if (check.kind === 'tokens' && check.cost > check.limit) {
    return new GatewayError(
      'rate_limit',
      `This request may use up to ${check.cost} tokens, more than ${who} may use ${per} (${check.limit}); lower max_tokens or shorten the prompt.`,
      { code: 'rate_limit_exceeded' },
    );
  }
  const detail = check.kind === 'tokens' ? `; this request may use up to ${check.cost} and ${remaining} are left` : '';
  return new GatewayError(
    'rate_limit',
    `Rate limit exceeded: ${who} allows ${check.limit} ${check.kind} ${per}${detail}. Retry in ${formatDuration(retryAfterMs)}.`,
    { code: 'rate_limit_exceeded', retryAfterMs },
  );
}

const KINDS: readonly Kind[] = ['requests', 'tokens'];
// Constant names: keys built per request with template literals are re-hashed on every use.
const HEADER_NAMES: Readonly<Record<Kind, { limit: string; remaining: string; reset: string }>> = {
  requests: { limit: 'x-ratelimit-limit-requests', remaining: 'x-ratelimit-remaining-requests', reset: 'x-ratelimit-reset-requests' },
  tokens: { limit: 'x-ratelimit-limit-tokens', remaining: 'x-ratelimit-remaining-tokens', reset: 'x-ratelimit-reset-tokens' },
};

/**
 * `x-ratelimit-{limit,remaining,reset}-{requests,tokens}` for the tightest limit of each kind
 * (the fewest remaining), as OpenAI sends them; kinds with no limit are left out.
 */
export function rateLimitHeaders(checks: readonly PlannedCheck[], states: readonly RateState[]): RateHeaders {
  const tightest: Partial<Record<Kind, RateState>> = {};
  for (let i = 0; i < checks.length; i++) {
    const state = states[i];
    const kind = checks[i].kind;
    const current = tightest[kind];
    if (!current || state.remaining < current.remaining || (state.remaining === current.remaining && state.limit < current.limit)) tightest[kind] = state;
  }
  const headers: RateHeaders = {};
  for (const kind of KINDS) {
    const state = tightest[kind];
    if (!state) continue;
    const names = HEADER_NAMES[kind];
    headers[names.limit] = String(state.limit);
    headers[names.remaining] = String(state.remaining);
    headers[names.reset] = formatDuration(state.resetMs);
  }
  return headers;
}

/** OpenAI's duration format: `0s`, `250ms`, `1.5s`, `6m0s`, `1h2m3s`. */
export function formatDuration(ms: number): string {
  const rounded = Math.max(0, Math.ceil(ms));
  if (rounded === 0) return '0s';
  if (rounded < 1000) return `${rounded}ms`;
  const totalSeconds = rounded / 1000;
  const hours = Math.floor(totalSeconds / 3600);
  const minutes = Math.floor((totalSeconds % 3600) / 60);
  const seconds = Math.round((totalSeconds % 60) * 1000) / 1000;
  if (hours > 0) return `${hours}h${minutes}m${seconds}s`;
  if (minutes > 0) return `${minutes}m${seconds}s`;
  return `${seconds}s`;
}

function windowPhrase(windowMs: number): string {
  if (windowMs === 60_000) return 'per minute';
  if (windowMs === 1000) return 'per second';
  if (windowMs === 3_600_000) return 'per hour';
  return `per ${formatDuration(windowMs)}`;
}
