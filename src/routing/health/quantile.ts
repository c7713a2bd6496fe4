// Quantiles (p90 TTFT) of the most recent samples, from a fixed ring and a sorted copy refreshed
// lazily so reads stay O(1) on the hot path.

/**
 * Keeps the last `capacity` samples (default 128). `p(q)` reads a sorted copy that is rebuilt only
 * when read after at least `recomputeEvery` (K, default 16) insertions since the last rebuild, so
 * the sort (O(capacity·log capacity), no allocation) is paid at most once per K insertions and the
 * answer lags by fewer than K samples. Until the copy holds K samples every read with new data
 * rebuilds it, so the first few samples are reflected at once. Quantiles interpolate linearly
 * between closest ranks (numpy's default).
 */
export class RecentQuantiles {
  readonly capacity: number;
  readonly recomputeEvery: number;
  private readonly samples: Float64Array;
  private readonly sorted: Float64Array;
  private count = 0;
  private next = 0;
  private sortedCount = 0;
  private pending = 0;

  constructor(capacity = 128, recomputeEvery = 16) {
    if (!(Number.isInteger(capacity) && capacity > 0)) throw new RangeError(`capacity must be a positive integer, got ${capacity}`);
    if (!(Number.isInteger(recomputeEvery) && recomputeEvery > 0)) {
      throw new RangeError(`recomputeEvery must be a positive integer, got ${recomputeEvery}`);
    }
    this.capacity = capacity;
    this.recomputeEvery = recomputeEvery;
    this.samples = new Float64Array(capacity);
    this.sorted = new Float64Array(capacity);
  }

  add(sample: number): void {
    if (!Number.isFinite(sample)) return;
    this.samples[this.next] = sample;
    this.next = this.next + 1 === this.capacity ? 0 : this.next + 1;
    if (this.count < this.capacity) this.count++;
    this.pending++;
  }

  get size(): number {
    return this.count;
  }

  /** The q-quantile (q in [0, 1]) of the recent samples; undefined when there are none. */
  p(q: number): number | undefined {
    if (this.count === 0) return undefined;
    if (this.pending > 0 && (this.pending >= this.recomputeEvery || this.sortedCount < this.recomputeEvery)) this.rebuild();
    const n = this.sortedCount;
    const h = (n - 1) * (q <= 0 ? 0 : q >= 1 ? 1 : q);
    const lo = Math.floor(h);
    const hi = lo + 1 < n ? lo + 1 : lo;
    return this.sorted[lo] + (h - lo) * (this.sorted[hi] - this.sorted[lo]);
  }

  reset(): void {
    this.count = 0;
    this.next = 0;
    this.sortedCount = 0;
    this.pending = 0;
  }

  /** A ring with another geometry holding the newest samples of this one. */
  resized(capacity: number, recomputeEvery: number): RecentQuantiles {
    const next = new RecentQuantiles(capacity, recomputeEvery);
    const keep = Math.min(this.count, capacity);
    for (let k = keep; k > 0; k--) next.add(this.samples[(this.next - k + this.capacity) % this.capacity]);
    return next;
  }

  private rebuild(): void {
    this.sorted.set(this.samples);
    // Unused slots sort last as +Infinity, so the first `count` entries are the samples in order.
    if (this.count < this.capacity) this.sorted.fill(Number.POSITIVE_INFINITY, this.count);
    this.sorted.sort();
    this.sortedCount = this.count;
    this.pending = 0;
  }
}
