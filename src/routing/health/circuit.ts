// Circuit breaker for one deployment: stop sending to it after repeated failures, then let a single
// probe find out whether it has recovered.
import type { CircuitBreakerConfig } from './config.ts';
import { resolveHealthConfig } from './config.ts';
import { SlidingCounter } from './window.ts';

export type CircuitState = 'closed' | 'open' | 'half_open';

/** What an event did to the circuit, so the owner can broadcast changes without comparing states. */
export type CircuitTransition = 'none' | 'opened' | 'closed';

/**
 * closed → open when consecutive failures reach `failureThreshold`, or when the window holds at
 * least `minRequests` outcomes and the failure share reaches `failureRate`.
 * open → half_open once the cooldown has elapsed; this is read lazily by `state(now)`, no timer.
 * half_open admits one probe at a time (`tryAcquireProbe`). Any success while half-open closes the
 * circuit and resets counts and cooldown; any failure re-opens it with the cooldown doubled, capped
 * at `maxCooldownMs`. While open (cooldown running) outcomes of requests started earlier are
 * counted but move nothing.
 *
 * The breaker does not know which completion belongs to the probe: the owner releases the slot on
 * an outcome that says nothing about the deployment (`releaseProbe`), and a success or failure
 * while half-open is taken as the probe's verdict.
 */
export class CircuitBreaker {
  private config: CircuitBreakerConfig;
  private opened = false;
  private until = 0;
  private cooldown: number;
  private probeHeld = false;
  private consecutive = 0;
  private successes: SlidingCounter;
  private failures: SlidingCounter;

  constructor(config: Partial<CircuitBreakerConfig> = {}) {
    this.config = resolveHealthConfig(config);
    this.cooldown = this.config.cooldownMs;
    this.successes = new SlidingCounter(this.config.windowMs, this.config.windowBuckets);
    this.failures = new SlidingCounter(this.config.windowMs, this.config.windowBuckets);
  }

  /** New thresholds apply at once; an open period already running keeps its end. */
  configure(config: Partial<CircuitBreakerConfig>): void {
    const next = resolveHealthConfig(config);
    if (next.windowMs !== this.config.windowMs || next.windowBuckets !== this.config.windowBuckets) {
      this.successes = this.successes.resized(next.windowMs, next.windowBuckets);
      this.failures = this.failures.resized(next.windowMs, next.windowBuckets);
    }
    this.config = next;
    this.cooldown = this.opened ? Math.min(Math.max(this.cooldown, next.cooldownMs), next.maxCooldownMs) : next.cooldownMs;
  }

  state(now: number): CircuitState {
    if (!this.opened) return 'closed';
    return now < this.until ? 'open' : 'half_open';
  }

  /** True when a request may go now: closed, or half-open with the probe slot free. */
  allows(now: number): boolean {
    if (!this.opened) return true;
    return now >= this.until && !this.probeHeld;
  }

  /** Takes the half-open probe slot; false when not half-open or the slot is taken. */
  tryAcquireProbe(now: number): boolean {
    if (!this.opened || now < this.until || this.probeHeld) return false;
    this.probeHeld = true;
    return true;
  }

  /** Frees the probe slot without a verdict (the probe was abandoned or failed for its own reasons). */
  releaseProbe(): void {
    this.probeHeld = false;
  }

  get probeInFlight(): boolean {
    return this.probeHeld;
  }

  /** When the open period ends (half-open from then on); 0 while closed. */
  get openUntil(): number {
    return this.opened ? this.until : 0;
  }

  /** The open period the next trip or failed probe will use. */
  get currentCooldownMs(): number {
    return this.cooldown;
  }

  get consecutiveFailures(): number {
    return this.consecutive;
  }

  /** Outcomes (successes + failures) in the window. */
  requests(now: number): number {
    return this.successes.total(now) + this.failures.total(now);
  }

  failuresInWindow(now: number): number {
    return this.failures.total(now);
  }

  onSuccess(now: number): CircuitTransition {
    this.successes.add(now, 1);
    this.consecutive = 0;
    if (this.opened && now >= this.until) {
      this.close();
      return 'closed';
    }
    return 'none';
  }

  onFailure(now: number): CircuitTransition {
    this.failures.add(now, 1);
    this.consecutive++;
    if (this.opened) {
      if (now < this.until) return 'none';
      this.cooldown = Math.min(this.cooldown * 2, this.config.maxCooldownMs);
      this.open(now + this.cooldown);
      return 'opened';
    }
    if (this.consecutive >= this.config.failureThreshold || this.rateTripped(now)) {
      this.open(now + this.cooldown);
      return 'opened';
    }
    return 'none';
  }

  /**
   * Opens for `ms` regardless of counts (credential rejected). An open period already running
   * longer is kept; the backoff for failed probes is not changed.
   */
  forceOpen(now: number, ms: number): CircuitTransition {
    return this.holdOpenUntil(now, now + ms);
  }

  /** Opens until an absolute time (shared by another replica); a time already past changes nothing. */
  holdOpenUntil(now: number, until: number): CircuitTransition {
    if (!(until > now)) return 'none';
    if (this.opened && this.until >= until) return 'none';
    this.open(until);
    return 'opened';
  }

  /** Closed with counts and cooldown reset. */
  close(): void {
    this.opened = false;
    this.until = 0;
    this.probeHeld = false;
    this.consecutive = 0;
    this.cooldown = this.config.cooldownMs;
    this.successes.reset();
    this.failures.reset();
  }

  private open(until: number): void {
    this.opened = true;
    this.until = until;
    this.probeHeld = false;
  }

  private rateTripped(now: number): boolean {
    const failures = this.failures.total(now);
    const total = failures + this.successes.total(now);
    return total >= this.config.minRequests && failures >= this.config.failureRate * total;
  }
}
