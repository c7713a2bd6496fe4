// A set that remembers only its most recent entries: idempotency and de-duplication memory that
// cannot grow without bound. The oldest entry is found through a ring, never by iterating the Set
// (V8 leaves deleted slots at the front of a Set or Map, so `values().next()` degrades to a linear
// scan).

export class BoundedSet {
  /** Each value with the ring slot that holds it. */
  private readonly entries = new Map<string, number>();
  private readonly ring: Array<string | undefined>;
  private next = 0;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`capacity must be a positive integer (got ${capacity})`);
    this.ring = new Array<string | undefined>(capacity);
  }

  has(value: string): boolean {
    return this.entries.has(value);
  }

  /** Adds the value, forgetting the oldest one when full. */
  add(value: string): void {
    if (this.entries.has(value)) return;
    const evicted = this.ring[this.next];
    // A value deleted and added again lives in a newer slot; this old one no longer speaks for it.
    if (evicted !== undefined && this.entries.get(evicted) === this.next) this.entries.delete(evicted);
    this.ring[this.next] = value;
    this.entries.set(value, this.next);
    this.next = (this.next + 1) % this.capacity;
  }

  /** Removes the value now (its ring slot is skipped when reached). */
  delete(value: string): void {
    this.entries.delete(value);
  }

  get size(): number {
    return this.entries.size;
  }
}
