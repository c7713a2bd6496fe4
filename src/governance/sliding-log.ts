// One exact sliding window of the in-process counters: every admitted hit kept as (time, cost) until
// it leaves the window, with a running sum. Hits of the same millisecond share one entry (they leave
// together), so a busy window holds at most one entry per millisecond of its length: 60,000 for a
// per-minute limit, ~1 MB. The entries live in two Float64Arrays used as a queue that compacts in
// place and doubles only when more than half full, so the capacity stays within twice the entries;
// two `number[]` whose front was cut off with `slice` cost ~65 ns per hit against ~40.

const INITIAL_CAPACITY = 16;
/** An emptied log above this capacity gives its memory back (a busy key that went quiet). */
const KEEP_CAPACITY = 1024;

export class SlidingLog {
  private times = new Float64Array(INITIAL_CAPACITY);
  private costs = new Float64Array(INITIAL_CAPACITY);
  /** Live entries are [head, tail), in time order. */
  private head = 0;
  private tail = 0;
  sum = 0;

  /** Entries leave the window `windowMs` after their time: an entry at t counts for every now in [t, t + windowMs). */
  constructor(readonly windowMs: number) {}

  get size(): number {
    return this.tail - this.head;
  }

  /** Entries the arrays can hold before they grow (for tests of the memory bound). */
  get capacity(): number {
    return this.times.length;
  }

  evict(now: number): void {
    const cutoff = now - this.windowMs;
    while (this.head < this.tail && this.times[this.head] <= cutoff) {
      this.sum -= this.costs[this.head];
      this.head++;
    }
    if (this.head === this.tail) {
      this.head = 0;
      this.tail = 0;
      this.sum = 0; // also clears any floating dust from fractional adjustments
      if (this.times.length > KEEP_CAPACITY) {
        this.times = new Float64Array(INITIAL_CAPACITY);
        this.costs = new Float64Array(INITIAL_CAPACITY);
      }
    }
  }

  /** Appends, or inserts in time order (an adjustment of an earlier hit); the same millisecond adds to its entry. */
  add(at: number, cost: number): void {
    let i = this.tail;
    while (i > this.head && this.times[i - 1] > at) i--;
    if (i > this.head && this.times[i - 1] === at) {
      this.costs[i - 1] += cost;
      this.sum += cost;
      return;
    }
    if (this.tail === this.times.length) i -= this.makeRoom();
    if (i < this.tail) {
      this.times.copyWithin(i + 1, i, this.tail);
      this.costs.copyWithin(i + 1, i, this.tail);
    }
    this.times[i] = at;
    this.costs[i] = cost;
    this.tail++;
    this.sum += cost;
  }

  /** How long until at least `need` units have left the window. */
  waitFor(need: number, now: number): number {
    let freed = 0;
    for (let i = this.head; i < this.tail; i++) {
      freed += this.costs[i];
      if (freed >= need) return Math.max(0, this.times[i] + this.windowMs - now);
    }
    return this.windowMs;
  }

  /** Until the window is empty again; 0 when it already is. */
  resetMs(now: number): number {
    return this.tail === this.head ? 0 : Math.max(0, this.times[this.tail - 1] + this.windowMs - now);
  }

  /** Moves the live entries to the front, into arrays twice as large when they are over half full; returns the shift. */
  private makeRoom(): number {
    const shift = this.head;
    const size = this.tail - this.head;
    if (size * 2 <= this.times.length) {
      this.times.copyWithin(0, this.head, this.tail);
      this.costs.copyWithin(0, this.head, this.tail);
    } else {
      const times = new Float64Array(this.times.length * 2);
      const costs = new Float64Array(this.times.length * 2);
      times.set(this.times.subarray(this.head, this.tail));
      costs.set(this.costs.subarray(this.head, this.tail));
      this.times = times;
      this.costs = costs;
    }
    this.head = 0;
    this.tail = size;
    return shift;
  }
}
