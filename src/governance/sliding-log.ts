// One sliding window of the in-process counters: every admitted hit kept as (time, cost) until it
// leaves the window, with a running sum. Hits are kept per tick of a thousandth of the window (at
// least 1 ms), each at the tick's end (see `tickEnd`), so a busy window holds at most ~1,000 entries
// (16 KB) whatever its length or rate: a per-minute limit at one entry per millisecond held 60,000
// (~1 MB). The entries live in two Float64Arrays used as a queue that compacts in place and doubles
// only when more than half full, so the capacity stays within twice the entries; two `number[]`
// whose front was cut off with `slice` cost ~65 ns per hit against ~40.

/** The tick of a window: a thousandth of it, at least 1 ms, whole milliseconds. */
export function tickMs(windowMs: number): number {
  return Math.max(1, Math.floor(windowMs / 1000));
}

/**
 * Where a hit made at `at` is kept: the end of its tick. Rounding up, never down, is what keeps the
 * window exact in the direction that matters: a hit counts for at least the whole window after it
 * was made (never admitting past a limit in any window-long span), and at most one tick longer (a
 * refusal can last up to 0.1 % of the window longer than an exact log's). The Redis counters keep
 * the same ticks.
 */
export function tickEnd(at: number, windowMs: number): number {
  const tick = tickMs(windowMs);
  return Math.ceil(at / tick) * tick;
}

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

  /** Entries leave the window `windowMs` after their time (their tick's end): an entry at t counts for every now < t + windowMs. */
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

  /** Adds a hit made at `at` to its tick: appends, or inserts in time order (an adjustment of an earlier hit). */
  add(hitAt: number, cost: number): void {
    const at = tickEnd(hitAt, this.windowMs);
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
