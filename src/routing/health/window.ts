// Counts over a sliding time window (requests/min, tokens/min, outcomes in the circuit window),
// kept in a fixed ring of buckets so adding and reading cost O(1) amortised and never allocate.

/**
 * The window spans the current bucket plus the `buckets − 1` before it, so a count is forgotten
 * between `windowMs − bucketMs` and `windowMs` after it was added (bucketMs = windowMs / buckets).
 * Buckets are cleared lazily as time moves forward; a jump of a whole window clears the ring at once.
 */
export class SlidingCounter {
  readonly windowMs: number;
  readonly buckets: number;
  private readonly bucketMs: number;
  private readonly counts: Float64Array;
  /** Bucket number (time / bucketMs) of the newest bucket in the ring. */
  private head = Number.NEGATIVE_INFINITY;
  private sum = 0;

  constructor(windowMs = 60_000, buckets = 60) {
    if (!(Number.isFinite(windowMs) && windowMs > 0)) throw new RangeError(`windowMs must be a positive number, got ${windowMs}`);
    if (!(Number.isInteger(buckets) && buckets > 0)) throw new RangeError(`buckets must be a positive integer, got ${buckets}`);
    this.windowMs = windowMs;
    this.buckets = buckets;
    this.bucketMs = windowMs / buckets;
    this.counts = new Float64Array(buckets);
  }

  add(now: number, n = 1): void {
    if (n === 0 || !Number.isFinite(n)) return;
    const bucket = Math.floor(now / this.bucketMs);
    if (bucket > this.head) this.advance(bucket);
    // Late events (clocks read out of order) still land in their bucket while it is in the window.
    else if (bucket <= this.head - this.buckets) return;
    this.counts[this.slot(bucket)] += n;
    this.sum += n;
  }

  total(now: number): number {
    const bucket = Math.floor(now / this.bucketMs);
    if (bucket > this.head) this.advance(bucket);
    return this.sum;
  }

  reset(): void {
    this.counts.fill(0);
    this.sum = 0;
    this.head = Number.NEGATIVE_INFINITY;
  }

  /**
   * A counter with another geometry carrying this one's last total, placed in its newest bucket:
   * counts expire up to a bucket late rather than early, which errs on the side of rate limits.
   */
  resized(windowMs: number, buckets: number): SlidingCounter {
    const next = new SlidingCounter(windowMs, buckets);
    if (this.sum !== 0 && Number.isFinite(this.head)) next.add(this.head * this.bucketMs, this.sum);
    return next;
  }

  private advance(bucket: number): void {
    if (bucket - this.head >= this.buckets) {
      this.counts.fill(0);
      this.sum = 0;
    } else {
      for (let b = this.head + 1; b <= bucket; b++) {
        const i = this.slot(b);
        this.sum -= this.counts[i];
        this.counts[i] = 0;
      }
    }
    this.head = bucket;
  }

  private slot(bucket: number): number {
    const i = bucket % this.buckets;
    return i < 0 ? i + this.buckets : i;
  }
}
