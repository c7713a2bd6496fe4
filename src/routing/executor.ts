// Walks an attempt plan: one attempt per deployment, with the failover action the error class calls
// for (retry the same deployment, the next deployment, the next model group, or fail), exponential
// backoff with full jitter that honours Retry-After, and optional hedging.
import type { FailoverAction, RoutingConfig } from '../config/routing-schema.ts';
import { LinkedAbort, type RequestSignal } from '../core/abort.ts';
import { asGatewayError, GatewayError, type ErrorClass } from '../core/errors.ts';
import type { Deployment } from './registry.ts';
import type { RoutePlan } from './router.ts';

export interface AttemptLog {
  deployment: Deployment;
  error?: GatewayError;
  ms: number;
  /** Started as a hedge (a backup racing a slow primary). */
  hedge?: boolean;
  /** Cancelled because another attempt won the race, or the client left. */
  abandoned?: boolean;
}

/** The health events the executor reports (implemented by the health registry). */
export interface AttemptHealth {
  onStart(now: number): boolean;
  onFailure(now: number, errorClass: ErrorClass, retryAfterMs?: number): void;
  onAbandon(now: number): void;
  available(now: number): boolean;
  ttftP90Ms(): number;
}

export interface Attempt {
  deployment: Deployment;
  /** Aborts when the request is aborted or this attempt loses a hedge race. */
  signal: RequestSignal;
  /** performance.now() at the start of the attempt. */
  startedAt: number;
  hedge: boolean;
}

export interface ExecutorOptions {
  health: { get(id: string): AttemptHealth };
  retries: RoutingConfig['retries'];
  failover: (errorClass: ErrorClass) => FailoverAction;
  /** Hedging for this request: start a backup after the primary's p90 TTFT (at least minDelayMs). */
  hedge?: { minDelayMs: number };
  random?: () => number;
}

export interface ExecutionTimeouts {
  firstTokenMs: number;
  totalMs: number;
}

/** Defaults of the per-error-class failover policy; `routing.failover` overrides them. */
export const DEFAULT_FAILOVER: Readonly<Record<ErrorClass, FailoverAction>> = {
  rate_limit: 'next_deployment',
  overloaded: 'next_deployment',
  upstream: 'next_deployment',
  timeout: 'next_deployment',
  stream_cut: 'next_deployment',
  auth: 'next_deployment',
  permission: 'next_deployment',
  not_found: 'next_deployment',
  context_length: 'next_group',
  content_policy: 'fail',
  bad_request: 'fail',
  payload_too_large: 'fail',
  // The budget refused a pricier deployment's reservation: a cheaper one later in the plan may fit.
  budget_exceeded: 'next_deployment',
  internal: 'fail',
};

/** Transient classes worth another round over the plan once every deployment has been tried. */
const TRANSIENT: ReadonlySet<ErrorClass> = new Set<ErrorClass>(['rate_limit', 'overloaded', 'upstream', 'timeout', 'stream_cut']);

export function failoverPolicy(config: RoutingConfig): (errorClass: ErrorClass) => FailoverAction {
  const table: Record<ErrorClass, FailoverAction> = { ...DEFAULT_FAILOVER, ...(config.failover ?? {}) };
  return (errorClass) => table[errorClass];
}

/** Full jitter: uniform in [0, min(max, base·2^n)], but never shorter than a Retry-After. */
export function backoffMs(round: number, retries: RoutingConfig['retries'], retryAfterMs: number | undefined, random: () => number): number {
  const cap = Math.min(retries.max_delay_ms, retries.base_delay_ms * 2 ** round);
  const jitter = random() * cap;
  return retryAfterMs !== undefined ? Math.max(jitter, retryAfterMs) : jitter;
}

function sleep(ms: number, signal: RequestSignal): Promise<void> {
  if (ms <= 0) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

type AttemptOutcome<T> = { ok: true; result: { attempt: Attempt; value: T } } | { ok: false; error: GatewayError; deployment: Deployment };

interface Running<T> {
  attempt: Attempt;
  /** Absent without hedging: nothing aborts one attempt alone, so it runs on the request's signal. */
  controller: LinkedAbort | undefined;
  promise: Promise<{ ok: true; value: T } | { ok: false; error: GatewayError }>;
}

export class PlanExecutor<T> {
  readonly attempts: AttemptLog[] = [];
  private readonly random: () => number;
  private readonly tiers: Deployment[][];
  private tier = 0;
  private index = 0;

  constructor(
    private readonly plan: RoutePlan,
    private readonly signal: RequestSignal,
    private readonly options: ExecutorOptions,
    private readonly run: (attempt: Attempt) => Promise<T>,
  ) {
    this.random = options.random ?? Math.random;
    this.tiers = plan.tiers.map((t) => t.order.map((c) => c.deployment));
  }

  async execute(): Promise<{ attempt: Attempt; value: T }> {
    let retriesLeft = this.options.retries.max_retries;
    let round = 0;
    let last: GatewayError | undefined;
    let wrapped = false;
    for (;;) {
      if (this.signal.aborted) throw abortError(this.signal, last);
      const deployment = this.current(wrapped);
      if (!deployment) {
        const retryAfter = last?.retryAfterMs;
        if (!last || retriesLeft <= 0 || !TRANSIENT.has(last.errorClass) || (retryAfter ?? 0) > this.options.retries.max_retry_after_ms) {
          throw last ?? new GatewayError('upstream', 'no deployment can serve this request', { code: 'no_deployment' });
        }
        retriesLeft--;
        await sleep(backoffMs(round++, this.options.retries, retryAfter, this.random), this.signal);
        this.tier = 0;
        this.index = 0;
        wrapped = true;
        continue;
      }
      const outcome = await this.attemptWithHedge(deployment, wrapped);
      if (outcome.ok) return outcome.result;
      last = outcome.error;
      if (this.signal.aborted) throw abortError(this.signal, last);
      if (this.signal.aborted) throw abortError(this.signal, last);
      const action = this.options.failover(last.errorClass);
      if (action === 'fail') throw last;
      if (action === 'retry' && retriesLeft > 0 && (last.retryAfterMs ?? 0) <= this.options.retries.max_retry_after_ms) {
        retriesLeft--;
        await sleep(backoffMs(round++, this.options.retries, last.retryAfterMs, this.random), this.signal);
        continue;
      }
      if (action === 'next_group') this.nextGroup(last.errorClass, outcome.deployment);
      else this.index++;
    }
  }

  /** The deployment at the cursor; on later rounds, deployments that are still unhealthy are skipped. */
  private current(skipUnavailable: boolean): Deployment | undefined {
    const now = Date.now();
    while (this.tier < this.tiers.length) {
      const tier = this.tiers[this.tier];
      while (this.index < tier.length) {
        const d = tier[this.index];
        if (!skipUnavailable || this.options.health.get(d.id).available(now)) return d;
        this.index++;
      }
      this.tier++;
      this.index = 0;
    }
    return undefined;
  }

  /**
   * Skips to the next model group. For a context-length error, instead to the next deployment
   * anywhere in the plan whose context window is larger than the one that refused (unknown counts
   * as larger), which may still be in the same group.
   */
  private nextGroup(errorClass: ErrorClass, failed: Deployment): void {
    if (errorClass !== 'context_length') {
      this.tier++;
      this.index = 0;
      return;
    }
    const refused = failed.contextWindow ?? Number.POSITIVE_INFINITY;
    this.index++;
    for (; this.tier < this.tiers.length; this.tier++, this.index = 0) {
      const tier = this.tiers[this.tier];
      for (; this.index < tier.length; this.index++) if ((tier[this.index].contextWindow ?? Number.POSITIVE_INFINITY) > refused) return;
    }
  }

  /** The candidate after the cursor (for a hedge), skipping unavailable ones on later rounds. */
  private peekNext(skipUnavailable: boolean): { deployment: Deployment; tier: number; index: number } | undefined {
    const now = Date.now();
    let tier = this.tier;
    let index = this.index + 1;
    for (; tier < this.tiers.length; tier++, index = 0) {
      for (; index < this.tiers[tier].length; index++) {
        const deployment = this.tiers[tier][index];
        if (!skipUnavailable || this.options.health.get(deployment.id).available(now)) return { deployment, tier, index };
      }
    }
    return undefined;
  }

  private start(deployment: Deployment, hedge: boolean): Running<T> {
    const controller = this.options.hedge ? new LinkedAbort(this.signal) : undefined;
    const attempt: Attempt = { deployment, signal: controller ? controller.signal : this.signal, startedAt: performance.now(), hedge };
    this.options.health.get(deployment.id).onStart(Date.now());
    const promise = this.run(attempt).then(
      (value) => ({ ok: true as const, value }),
      (err: unknown) => {
        controller?.dispose();
        return { ok: false as const, error: asGatewayError(err) };
      },
    );
    return { attempt, controller, promise };
  }

  private settleFailure(running: Running<T>, error: GatewayError): void {
    const { attempt } = running;
    const health = this.options.health.get(attempt.deployment.id);
    // A hedge loser or a client that left is not the deployment's fault; the total timeout is.
    const abandoned = (running.controller?.signal.aborted === true && !this.signal.aborted) || (this.signal.aborted && !timedOut(this.signal));
    if (abandoned) health.onAbandon(Date.now());
    else health.onFailure(Date.now(), error.errorClass, error.retryAfterMs);
    this.attempts.push({ deployment: attempt.deployment, error, ms: performance.now() - attempt.startedAt, hedge: attempt.hedge, abandoned });
  }

  private succeed(running: Running<T>, value: T): AttemptOutcome<T> & { ok: true } {
    const { attempt } = running;
    this.attempts.push({ deployment: attempt.deployment, ms: performance.now() - attempt.startedAt, hedge: attempt.hedge });
    return { ok: true, result: { attempt, value } };
  }

  private async attemptWithHedge(deployment: Deployment, wrapped: boolean): Promise<AttemptOutcome<T>> {
    const primary = this.start(deployment, false);
    const backup = this.options.hedge ? this.peekNext(wrapped) : undefined;
    if (!backup) {
      const outcome = await primary.promise;
      if (outcome.ok) return this.succeed(primary, outcome.value);
      this.settleFailure(primary, outcome.error);
      return { ok: false, error: outcome.error, deployment };
    }

    const delay = Math.max(this.options.hedge!.minDelayMs, this.options.health.get(deployment.id).ttftP90Ms());
    let timer: NodeJS.Timeout | undefined;
    const fired = new Promise<'timer'>((resolve) => {
      timer = setTimeout(() => resolve('timer'), delay);
    });
    const first = await Promise.race([primary.promise, fired]);
    clearTimeout(timer);
    if (first !== 'timer') {
      if (first.ok) return this.succeed(primary, first.value);
      this.settleFailure(primary, first.error);
      return { ok: false, error: first.error, deployment };
    }

    // The primary is slow: race a backup against it and keep whichever answers first. The cursor
    // moves to the backup, so a failure of both continues after it (never retrying it).
    this.tier = backup.tier;
    this.index = backup.index;
    const hedge = this.start(backup.deployment, true);
    const racers = [primary, hedge];
    const pending = new Set(racers);
    let lastError: GatewayError | undefined;
    let lastDeployment = backup.deployment;
    while (pending.size > 0) {
      const { running, outcome } = await Promise.race([...pending].map((r) => r.promise.then((outcome) => ({ running: r, outcome }))));
      pending.delete(running);
      if (outcome.ok) {
        for (const loser of pending) {
          loser.controller?.abort();
          const settled = await loser.promise;
          if (settled.ok) this.abandonWinner(loser);
          else this.settleFailure(loser, settled.error);
        }
        return this.succeed(running, outcome.value);
      }
      this.settleFailure(running, outcome.error);
      lastError = outcome.error;
      lastDeployment = running.attempt.deployment;
    }
    return { ok: false, error: lastError!, deployment: lastDeployment };
  }

  /** A hedge loser that finished anyway after being cancelled: released, not counted. */
  private abandonWinner(running: Running<T>): void {
    this.options.health.get(running.attempt.deployment.id).onAbandon(Date.now());
    this.attempts.push({ deployment: running.attempt.deployment, ms: performance.now() - running.attempt.startedAt, hedge: running.attempt.hedge, abandoned: true });
  }
}

function timedOut(signal: RequestSignal): boolean {
  return (signal.reason as { name?: string } | undefined)?.name === 'TimeoutError';
}

/** The error for a request whose signal fired: its total timeout, or the client leaving. */
function abortError(signal: RequestSignal, last: GatewayError | undefined): GatewayError {
  if (timedOut(signal)) {
    return new GatewayError('timeout', `request exceeded its total timeout${last ? ` (last attempt: ${last.message})` : ''}`, { code: 'request_timeout' });
  }
  return last ?? new GatewayError('timeout', 'request aborted before any provider answered', { code: 'aborted' });
}

/** What the client sees for an error raised by a provider: the gateway's own 4xx/5xx conventions. */
export function clientFacingError(err: GatewayError): GatewayError {
  // A provider rejecting *our* credential is a gateway-side failure, not the client's auth problem.
  if ((err.errorClass === 'auth' || err.errorClass === 'permission') && err.provider) {
    return new GatewayError(err.errorClass, err.message, { status: 502, code: err.code, provider: err.provider });
  }
  return err;
}

export function fallbackReason(attempts: readonly AttemptLog[]): string | undefined {
  let reason: string | undefined;
  for (const a of attempts) {
    if (!a.error || a.abandoned) continue;
    const part = `${a.deployment.target.endpoint.name}:${a.error.errorClass}`;
    reason = reason ? `${reason},${part}` : part;
  }
  return reason;
}
