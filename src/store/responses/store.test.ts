import { describe, expect, it } from 'vitest';
import { ResponseStore } from './store.ts';
import type { ResponseBackend, StoredResponse } from './types.ts';

function record(id: string, over: Partial<StoredResponse> = {}): StoredResponse {
  const response = { id, object: 'response', output: [] } as unknown as StoredResponse['response'];
  return { id, owner: '', createdAt: 0, expiresAt: Number.MAX_SAFE_INTEGER, response, input: [], ...over };
}

/** A backend kept in a Map, optionally failing, to watch what the store asks of it. */
class MapBackend implements ResponseBackend {
  readonly rows = new Map<string, StoredResponse>();
  gets = 0;
  failing = false;
  constructor(readonly shared: boolean) {}
  async put(r: StoredResponse): Promise<void> {
    if (this.failing) throw new Error('backend down');
    this.rows.set(r.id, r);
  }
  async get(id: string, now: number): Promise<StoredResponse | undefined> {
    this.gets++;
    if (this.failing) throw new Error('backend down');
    const r = this.rows.get(id);
    return r && r.expiresAt > now ? r : undefined;
  }
  async delete(id: string): Promise<void> {
    this.rows.delete(id);
  }
  async sweep(now: number): Promise<number> {
    let n = 0;
    for (const [id, r] of this.rows) if (r.expiresAt <= now && this.rows.delete(id)) n++;
    return n;
  }
  async close(): Promise<void> {}
}

describe('ResponseStore', () => {
  it('in memory: reads back, expires after the TTL, deletes', async () => {
    const store = new ResponseStore();
    await store.put(record('a', { expiresAt: 1000 }));
    expect((await store.get('a', 999))?.id).toBe('a');
    expect(await store.get('a', 1000)).toBeUndefined();
    await store.put(record('b'));
    await store.delete('b');
    expect(await store.get('b')).toBeUndefined();
  });

  it('evicts the least recently used past its entry and byte bounds', async () => {
    const store = new ResponseStore(undefined, { maxEntries: 2 });
    await store.put(record('a'));
    await store.put(record('b'));
    await store.get('a');
    await store.put(record('c'));
    expect(await store.get('b')).toBeUndefined();
    expect((await store.get('a'))?.id).toBe('a');
    const tiny = new ResponseStore(undefined, { maxBytes: 10 });
    await tiny.put(record('x'));
    await tiny.put(record('y'));
    expect(tiny.cachedEntries).toBe(1);
    expect((await tiny.get('y'))?.id).toBe('y');
  });

  it('with a local backend: serves recent turns from memory and falls through after eviction', async () => {
    const backend = new MapBackend(false);
    const store = new ResponseStore(backend, { maxEntries: 1, sweepIntervalMs: 0 });
    await store.put(record('a'));
    await store.put(record('b'));
    expect((await store.get('b'))?.id).toBe('b');
    expect(backend.gets).toBe(0);
    expect((await store.get('a'))?.id).toBe('a');
    expect(backend.gets).toBe(1);
  });

  it('with a shared backend: always reads it, so a delete made elsewhere is seen at once', async () => {
    const backend = new MapBackend(true);
    const store = new ResponseStore(backend, { sweepIntervalMs: 0 });
    await store.put(record('a'));
    expect(store.cachedEntries).toBe(0);
    backend.rows.delete('a'); // another replica deleted it
    expect(await store.get('a')).toBeUndefined();
  });

  it('with a shared backend that fails: keeps the turn locally and reports the error', async () => {
    const errors: string[] = [];
    const backend = new MapBackend(true);
    const store = new ResponseStore(backend, { sweepIntervalMs: 0, onError: (e, where) => errors.push(`${where}: ${e.message}`) });
    backend.failing = true;
    await store.put(record('a'));
    expect(errors).toEqual(['put: backend down']);
    expect((await store.get('a'))?.id).toBe('a');
    await expect(store.get('missing')).rejects.toThrow('backend down');
  });

  it('sweeps expired turns from memory and the backend', async () => {
    const backend = new MapBackend(false);
    const store = new ResponseStore(backend, { sweepIntervalMs: 0 });
    await store.put(record('old', { expiresAt: 10 }));
    await store.put(record('new', { expiresAt: 1000 }));
    expect(await store.sweep(100)).toBe(1);
    expect(store.cachedEntries).toBe(1);
    expect([...backend.rows.keys()]).toEqual(['new']);
  });
});
