// Live health of one deployment: the signals the router scores on and whether it may be tried at
// all. Fed by the executor's attempt events; pure and clock-injected, no timers, no I/O.
import type { ErrorClass } from '../../core/errors.ts';
import type { CircuitState } from './circuit.ts';
import { CircuitBreaker } from './circuit.ts';
import type { HealthConfig } from './config.ts';
import { resolveHealthConfig } from './config.ts';
import { Ewma, PeakEwma } from './ewma.ts';
import { RecentQuantiles } from './quantile.ts';
import { SlidingCounter } from './window.ts';

/** How a failure counts against the deployment that returned it. */
export type FailureImpact =
  /** Provider rate limit: cool down, a failure for the success rate, not for the circuit. */
  | 'cooldown'
  /** The deployment is failing: a circuit failure. */
  | 'circuit'
  /** Our credential was rejected: open the circuit for `authCooldownMs`. */
  | 'credential'
  /** Caused by the request itself: not held against the deployment at all. */
  | 'none';

export const FAILURE_IMPACT: Readonly<Record<ErrorClass, FailureImpact>> = Object.freeze({
  rate_limit: 'cooldown',
  overloaded: 'circuit',
  upstream: 'circuit',
  timeout: 'circuit',
  stream_cut: 'circuit',
  not_found: 'circuit',
  auth: 'credential',
  permission: 'credential',
  bad_request: 'none',
  context_length: 'none',
  content_policy: 'none',
  payload_too_large: 'none',
  budget_exceeded: 'none',
  internal: 'none',
});

/** A change worth sharing with other replicas; serialisable as JSON. Times are epoch ms. */
export type HealthEvent = { type: 'circuit_open'; until: number } | { type: 'cooldown'; until: number } | { type: 'closed' };

/** Called synchronously after the state has changed; should not throw. */
export type HealthChangeListener = (id: string, event: HealthEvent) => void;

export interface SuccessSample {
  /** Time to first token (to the response, when not streamed). */
  ttftMs: number;
  /** Whole attempt, first byte sent to last byte received. */
  durationMs: number;
  completionTokens: number;
  totalTokens: number;
}

/** Plain, JSON-ready view for explain output and dashboards. */
export interface HealthSnapshot {
  state: CircuitState;
  ttft_ms: number;
  ttft_p90_ms: number;
  tps: number;
  success_rate: number;
  in_flight: number;
  rpm: number;
  tpm: number;
  /** End of the 429 cool-down, or null when not cooling down. */
  cooldown_until: number | null;
}

/** Requests and tokens per minute are per minute whatever the circuit window is. */
const RATE_WINDOW_MS = 60_000;
const RATE_BUCKETS = 60;

/**
 * Every `onStart` must be balanced by exactly one of `onSuccess`, `onFailure` or `onAbandon`;
 * the probe slot of a half-open circuit is only released through them.
 */
/** Pseudo-successes added to the success rate's window (Laplace-style smoothing). */
export const SUCCESS_PRIOR = 4;

export class DeploymentHealth {
  readonly id: string;
  private config: HealthConfig;
  private readonly onChange: HealthChangeListener | undefined;
  private readonly ttft: Ewma;
  private readonly peak: PeakEwma;
  private readonly tps: Ewma;
  private ttftSamples: RecentQuantiles;
  private readonly requests = new SlidingCounter(RATE_WINDOW_MS, RATE_BUCKETS);
  private readonly tokens = new SlidingCounter(RATE_WINDOW_MS, RATE_BUCKETS);
  /** Success-rate window; unlike the circuit's it counts 429s as failures. */
  private successes: SlidingCounter;
  private failures: SlidingCounter;
  private readonly breaker: CircuitBreaker;
  private pending = 0;
  private coolingUntil = 0;

  constructor(id: string, config: Partial<HealthConfig> = {}, onChange?: HealthChangeListener) {
    this.id = id;
    this.config = resolveHealthConfig(config);
    this.onChange = onChange;
    const c = this.config;
    this.ttft = new Ewma(c.ewmaHalfLifeMs, c.defaultTtftMs);
    this.peak = new PeakEwma(c.peakHalfLifeMs, c.defaultTtftMs);
    this.tps = new Ewma(c.ewmaHalfLifeMs, c.defaultTps);
    this.ttftSamples = new RecentQuantiles(c.latencySamples, c.quantileEvery);
    this.successes = new SlidingCounter(c.windowMs, c.windowBuckets);
    this.failures = new SlidingCounter(c.windowMs, c.windowBuckets);
    this.breaker = new CircuitBreaker(c);
  }

  /**
   * Applies a new config (missing fields take defaults). Priors, half-lives, thresholds and
   * cooldowns apply at once; a resized window or sample ring keeps what it had counted.
   */
  configure(config: Partial<HealthConfig>): void {
    const next = resolveHealthConfig(config);
    const prev = this.config;
    this.ttft.configure(next.ewmaHalfLifeMs, next.defaultTtftMs);
    this.peak.configure(next.peakHalfLifeMs, next.defaultTtftMs);
    this.tps.configure(next.ewmaHalfLifeMs, next.defaultTps);
    if (next.latencySamples !== prev.latencySamples || next.quantileEvery !== prev.quantileEvery) {
      this.ttftSamples = this.ttftSamples.resized(next.latencySamples, next.quantileEvery);
    }
    if (next.windowMs !== prev.windowMs || next.windowBuckets !== prev.windowBuckets) {
      this.successes = this.successes.resized(next.windowMs, next.windowBuckets);
      this.failures = this.failures.resized(next.windowMs, next.windowBuckets);
    }
    this.breaker.configure(next);
    this.config = next;
  }

  // --- signals -------------------------------------------------------------------------------

  ttftMs(): number {
    return this.ttft.get();
  }

  /** False until live traffic has measured this deployment (its signals are priors). */
  get measured(): boolean {
    return this.ttft.sampled;
  }

  /** p90 of the recent TTFT samples; 1.5 × the TTFT prior before any. */
  ttftP90Ms(): number {
    return this.ttftSamples.p(0.9) ?? 1.5 * this.config.defaultTtftMs;
  }

  /** Peak-EWMA TTFT, the cost for power-of-two-choices; takes `now` because it relaxes while idle. */
  peakLatencyMs(now: number): number {
    return this.peak.get(now);
  }

  tokensPerSecond(): number {
    return this.tps.get();
  }

  /**
   * (successes + 4) / (outcomes + 4) over the window: 1 when empty; one failure alone gives 0.8, so a
   * single transient error does not shed a deployment, while a sustained failure rate does.
   */
  successRate(now: number): number {
    const ok = this.successes.total(now);
    return (ok + SUCCESS_PRIOR) / (ok + this.failures.total(now) + SUCCESS_PRIOR);
  }

  get inFlight(): number {
    return this.pending;
  }

  /** Attempts started in the last minute. */
  rpm(now: number): number {
    return this.requests.total(now);
  }

  /** Total tokens of attempts that succeeded in the last minute. */
  tpm(now: number): number {
    return this.tokens.total(now);
  }

  /** End of the 429 cool-down (epoch ms); in the past, or 0, when not cooling down. */
  get cooldownUntil(): number {
    return this.coolingUntil;
  }

  /** When it can next be tried: the later of the 429 cool-down and the open circuit's end. */
  recoversAt(now: number): number {
    return Math.max(this.coolingUntil, this.breaker.openUntil, now);
  }

  circuitState(now: number): CircuitState {
    return this.breaker.state(now);
  }

  /**
   * Whether the router may try this deployment now: not cooling down after a 429, and the circuit
   * closed or half-open with its probe slot free. Does not take the slot; `onStart` does.
   */
  available(now: number): boolean {
    return now >= this.coolingUntil && this.breaker.allows(now);
  }

  // --- events --------------------------------------------------------------------------------

  /** An attempt starts. Returns true when it is the half-open circuit's probe. */
  onStart(now: number): boolean {
    this.pending++;
    this.requests.add(now, 1);
    return this.breaker.tryAcquireProbe(now);
  }

  onSuccess(now: number, sample: SuccessSample): void {
    this.release();
    const { ttftMs, durationMs, completionTokens, totalTokens } = sample;
    if (Number.isFinite(ttftMs) && ttftMs >= 0) {
      this.ttft.observe(now, ttftMs);
      this.peak.observe(now, ttftMs);
      this.ttftSamples.add(ttftMs);
    }
    // Without a generation phase after the first token (a response not streamed) there is no rate.
    if (completionTokens >= this.config.minTpsTokens && durationMs > ttftMs) {
      this.tps.observe(now, (completionTokens / Math.max(durationMs - ttftMs, 1)) * 1000);
    }
    if (totalTokens > 0) this.tokens.add(now, totalTokens);
    this.successes.add(now, 1);
    if (this.breaker.onSuccess(now) === 'closed') this.emit({ type: 'closed' });
  }

  /** `retryAfterMs` is the provider's Retry-After, used for rate limits. */
  onFailure(now: number, errorClass: ErrorClass, retryAfterMs?: number): void {
    this.release();
    switch (FAILURE_IMPACT[errorClass]) {
      case 'cooldown': {
        this.failures.add(now, 1);
        // A rate limit says nothing about a half-open deployment's health: free the probe slot.
        this.breaker.releaseProbe();
        const ms = retryAfterMs !== undefined && Number.isFinite(retryAfterMs) && retryAfterMs >= 0 ? retryAfterMs : this.config.defaultCooldownMs;
        if (now + ms > this.coolingUntil) {
          this.coolingUntil = now + ms;
          this.emit({ type: 'cooldown', until: this.coolingUntil });
        }
        return;
      }
      case 'circuit':
        this.failures.add(now, 1);
        if (this.breaker.onFailure(now) === 'opened') this.emit({ type: 'circuit_open', until: this.breaker.openUntil });
        return;
      case 'credential':
        this.failures.add(now, 1);
        if (this.breaker.forceOpen(now, this.config.authCooldownMs) === 'opened') {
          this.emit({ type: 'circuit_open', until: this.breaker.openUntil });
        }
        return;
      case 'none':
        this.breaker.releaseProbe();
        return;
    }
  }

  /** The client gave up: nothing is learnt about the deployment. */
  onAbandon(_now: number): void {
    this.release();
    this.breaker.releaseProbe();
  }

  /** Applies a change another replica broadcast, without broadcasting it again. */
  applyRemote(now: number, event: HealthEvent): void {
    switch (event.type) {
      case 'circuit_open':
        this.breaker.holdOpenUntil(now, event.until);
        return;
      case 'cooldown':
        if (event.until > this.coolingUntil) this.coolingUntil = event.until;
        return;
      case 'closed':
        this.breaker.close();
        return;
    }
  }

  snapshot(now: number): HealthSnapshot {
    return {
      state: this.breaker.state(now),
      ttft_ms: this.ttftMs(),
      ttft_p90_ms: this.ttftP90Ms(),
      tps: this.tokensPerSecond(),
      success_rate: this.successRate(now),
      in_flight: this.pending,
      rpm: this.rpm(now),
      tpm: this.tpm(now),
      cooldown_until: this.coolingUntil > now ? this.coolingUntil : null,
    };
  }

  private release(): void {
    if (this.pending > 0) this.pending--;
  }

  private emit(event: HealthEvent): void {
    this.onChange?.(this.id, event);
  }
}
