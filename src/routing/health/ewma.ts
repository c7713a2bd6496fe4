// Time-decayed moving averages of latency and throughput. Decay depends on the time between
// samples, not their count, so a burst and a trickle of traffic age the estimate alike.

function checkHalfLife(halfLifeMs: number): void {
  if (!(Number.isFinite(halfLifeMs) && halfLifeMs > 0)) throw new RangeError(`halfLifeMs must be a positive number, got ${halfLifeMs}`);
}

/** Weight left to a value `elapsedMs` old: 1/2 per half-life. */
function decay(elapsedMs: number, halfLifeMs: number): number {
  return elapsedMs <= 0 ? 1 : Math.exp((-elapsedMs * Math.LN2) / halfLifeMs);
}

/**
 * Exponentially decayed average: every sample counts 1 when observed and halves each half-life;
 * the value is the weighted mean of all samples. Unlike the textbook `v = v·w + x·(1−w)` it does
 * not ignore samples observed in the same millisecond (w = 1 there), and after an idle gap much
 * longer than the half-life a new sample all but replaces the old value. `prior` stands in until
 * the first sample.
 */
export class Ewma {
  private halfLifeMs: number;
  private prior: number;
  private value = 0;
  /** Decayed sum of sample weights as of `lastAt`; 0 before the first sample. */
  private weight = 0;
  private lastAt = 0;

  constructor(halfLifeMs: number, prior: number) {
    checkHalfLife(halfLifeMs);
    this.halfLifeMs = halfLifeMs;
    this.prior = prior;
  }

  observe(now: number, sample: number): void {
    if (!Number.isFinite(sample)) return;
    if (this.weight === 0) {
      this.value = sample;
      this.weight = 1;
      this.lastAt = now;
      return;
    }
    // A sample stamped before the last one (clocks read out of order) counts as simultaneous.
    this.weight = this.weight * decay(now - this.lastAt, this.halfLifeMs) + 1;
    this.value += (sample - this.value) / this.weight;
    if (now > this.lastAt) this.lastAt = now;
  }

  /** The average, or the prior before any sample. */
  get(): number {
    return this.weight === 0 ? this.prior : this.value;
  }

  get sampled(): boolean {
    return this.weight > 0;
  }

  /** New half-life and prior; samples already taken are kept. */
  configure(halfLifeMs: number, prior: number): void {
    checkHalfLife(halfLifeMs);
    this.halfLifeMs = halfLifeMs;
    this.prior = prior;
  }

  reset(): void {
    this.weight = 0;
    this.value = 0;
    this.lastAt = 0;
  }
}

/**
 * Peak EWMA (Finagle, linkerd): a higher sample is taken at once, lower ones pull the value down at
 * the half-life's pace, so one slow response makes a deployment look slow immediately and only
 * steady fast ones restore it. Used as the cost in power-of-two-choices.
 *
 * Reading takes `now` because an estimate above the prior also relaxes back toward the prior while
 * no samples arrive: otherwise a deployment the router avoids after one spike would keep its
 * spike forever and never be tried again. A value at or below the prior is kept while idle.
 */
export class PeakEwma {
  private halfLifeMs: number;
  private prior: number;
  private value = 0;
  private sampledOnce = false;
  private lastAt = 0;

  constructor(halfLifeMs: number, prior: number) {
    checkHalfLife(halfLifeMs);
    this.halfLifeMs = halfLifeMs;
    this.prior = prior;
  }

  observe(now: number, sample: number): void {
    if (!Number.isFinite(sample)) return;
    if (!this.sampledOnce) {
      this.value = sample;
      this.sampledOnce = true;
      this.lastAt = now;
      return;
    }
    const current = this.get(now);
    if (sample >= current) {
      this.value = sample;
    } else {
      const w = decay(now - this.lastAt, this.halfLifeMs);
      this.value = current * w + sample * (1 - w);
    }
    if (now > this.lastAt) this.lastAt = now;
  }

  /** The peak estimate at `now`, or the prior before any sample. */
  get(now: number): number {
    if (!this.sampledOnce) return this.prior;
    if (this.value <= this.prior) return this.value;
    return this.prior + (this.value - this.prior) * decay(now - this.lastAt, this.halfLifeMs);
  }

  get sampled(): boolean {
    return this.sampledOnce;
  }

  configure(halfLifeMs: number, prior: number): void {
    checkHalfLife(halfLifeMs);
    this.halfLifeMs = halfLifeMs;
    this.prior = prior;
  }

  reset(): void {
    this.sampledOnce = false;
    this.value = 0;
    this.lastAt = 0;
  }
}
