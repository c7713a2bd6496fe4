// The in-process cache: a Map in recency order (touched entries move to the end), bounded by entries
// and bytes, with expiry checked on read. Semantic scopes index the entries that carry a vector.
import { cosine, entrySize, type CacheBounds, type CacheEntry, type CacheStats, type NearestMatch } from './store.ts';

interface Slot {
  entry: CacheEntry;
  size: number;
}

export type RemovalReason = 'evicted' | 'expired' | 'replaced';

export class LruIndex {
  private readonly slots = new Map<string, Slot>();
  private readonly scopes = new Map<string, Set<string>>();
  private bytes = 0;

  constructor(
    private readonly bounds: CacheBounds,
    /** Told about every entry that leaves (to mirror it in a persistent copy). */
    private readonly onRemove?: (key: string, reason: RemovalReason) => void,
  ) {}

  get(key: string, now: number): CacheEntry | undefined {
    const slot = this.slots.get(key);
    if (!slot) return undefined;
    if (slot.entry.expiresAt <= now) {
      this.remove(key, 'expired');
      return undefined;
    }
    this.slots.delete(key);
    this.slots.set(key, slot);
    return slot.entry;
  }

  /** Inserts as most recently used; evicts from the least recently used end until within bounds. */
  put(entry: CacheEntry): void {
    if (this.slots.has(entry.key)) this.remove(entry.key, 'replaced');
    const size = entrySize(entry);
    this.slots.set(entry.key, { entry, size });
    this.bytes += size;
    if (entry.vector) this.index(entry);
    for (const key of this.slots.keys()) {
      if (this.slots.size <= this.bounds.maxEntries && this.bytes <= this.bounds.maxBytes) break;
      if (key === entry.key) break;
      this.remove(key, 'evicted');
    }
    if (this.bytes > this.bounds.maxBytes) this.remove(entry.key, 'evicted');
  }

  nearest(scope: string, vector: Float32Array, threshold: number, now: number): NearestMatch | undefined {
    const keys = this.scopes.get(scope);
    if (!keys) return undefined;
    let best: NearestMatch | undefined;
    for (const key of [...keys]) {
      const slot = this.slots.get(key);
      if (!slot?.entry.vector) continue;
      if (slot.entry.expiresAt <= now) {
        this.remove(key, 'expired');
        continue;
      }
      const similarity = cosine(vector, slot.entry.vector);
      if (similarity >= threshold && (!best || similarity > best.similarity)) best = { entry: slot.entry, similarity };
    }
    if (best) this.get(best.entry.key, now);
    return best;
  }

  stats(): CacheStats {
    return { entries: this.slots.size, bytes: this.bytes };
  }

  /** Oldest first, for persisting. */
  entries(): IterableIterator<CacheEntry> {
    const it = this.slots.values();
    return (function* () {
      for (const slot of it) yield slot.entry;
    })();
  }

  private index(entry: CacheEntry): void {
    let keys = this.scopes.get(entry.scope);
    if (!keys) this.scopes.set(entry.scope, (keys = new Set()));
    keys.add(entry.key);
    // Only the most recent candidates are compared; older entries stay exact-match reachable.
    if (keys.size > this.bounds.maxCandidates) {
      const oldest = keys.values().next().value;
      if (oldest !== undefined) keys.delete(oldest);
    }
  }

  private remove(key: string, reason: RemovalReason): void {
    const slot = this.slots.get(key);
    if (!slot) return;
    this.slots.delete(key);
    this.bytes -= slot.size;
    const scope = this.scopes.get(slot.entry.scope);
    if (scope?.delete(key) && scope.size === 0) this.scopes.delete(slot.entry.scope);
    if (reason !== 'replaced') this.onRemove?.(key, reason);
  }
}

/** A store that lives only in this process. */
export class MemoryCacheStore {
  readonly kind = 'memory' as const;
  private readonly index: LruIndex;

  constructor(bounds: CacheBounds) {
    this.index = new LruIndex(bounds);
  }

  async get(key: string, now: number): Promise<CacheEntry | undefined> {
    return this.index.get(key, now);
  }

  async put(entry: CacheEntry): Promise<void> {
    this.index.put(entry);
  }

  async nearest(scope: string, vector: Float32Array, threshold: number, now: number): Promise<NearestMatch | undefined> {
    return this.index.nearest(scope, vector, threshold, now);
  }

  async stats(): Promise<CacheStats> {
    return this.index.stats();
  }

  async close(): Promise<void> {}
}
