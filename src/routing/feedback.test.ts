import { describe, expect, it } from 'vitest';
import type { ChatRequest } from '../core/canonical.ts';
import { FeedbackBook, recordedOutcome, taskCluster, type FeedbackAggregate, type FeedbackStore, type LearningConfig, type RoutedOutcome } from './feedback.ts';

const ask = (content: string): ChatRequest => ({ model: 'auto', messages: [{ role: 'user', content }] });
const ON: LearningConfig = { enabled: true, min_samples: 5, target_success: 0.8, max_shift: 0.2 };

describe('taskCluster', () => {
  it('labels code, maths, multiple choice, translation, extraction, writing and chat', () => {
    expect(taskCluster(ask('```js\nconst x = 1;\n``` why does this fail?'))).toBe('code');
    expect(taskCluster(ask('Solve 3x + 5 = 20 for x'))).toBe('math');
    expect(taskCluster(ask('Which is a mammal?\nA) shark\nB) whale\nC) trout\nD) eel'))).toBe('choice');
    expect(taskCluster(ask('Translate this into French: good morning'))).toBe('translation');
    expect(taskCluster(ask('Extract all dates from the text below'))).toBe('extraction');
    expect(taskCluster(ask('Write a short poem about rivers'))).toBe('writing');
    expect(taskCluster(ask('hello there'))).toBe('chat');
  });
});

describe('FeedbackBook', () => {
  it('gives back each remembered outcome exactly, the latest one for an id remembered twice', () => {
    const book = new FeedbackBook(3);
    book.remember('a', { cluster: 'math', model: 'm1', tier: 'economy', keyId: 'k1' });
    book.remember('b', { cluster: 'writing', model: 'm2', tier: 'premium' });
    book.remember('a', { cluster: 'code', model: 'm3', keyId: 'k2' });
    expect(book.lookup('a')).toStrictEqual({ cluster: 'code', model: 'm3', keyId: 'k2' });
    expect(book.lookup('b')).toStrictEqual({ cluster: 'writing', model: 'm2', tier: 'premium' });
    book.remember('c', { cluster: 'chat', model: 'm4', tier: 'standard' });
    book.remember('d', { cluster: 'choice', model: 'm5' });
    expect(book.lookup('a')).toBeUndefined();
    expect(book.lookup('d')).toStrictEqual({ cluster: 'choice', model: 'm5' });
    expect(book.lookup('c')).toStrictEqual({ cluster: 'chat', model: 'm4', tier: 'standard' });
  });

  it('finds recent requests, forgetting the oldest beyond its bound', () => {
    const book = new FeedbackBook(2);
    book.remember('a', { cluster: 'chat', model: 'm' });
    book.remember('b', { cluster: 'chat', model: 'm' });
    book.remember('c', { cluster: 'chat', model: 'm' });
    expect(book.lookup('a')).toBeUndefined();
    expect(book.lookup('c')).toEqual({ cluster: 'chat', model: 'm' });
  });

  it('aggregates outcomes per cluster and model', () => {
    const book = new FeedbackBook();
    book.record({ cluster: 'math', model: 'mini' }, 1);
    book.record({ cluster: 'math', model: 'mini' }, 0);
    book.record({ cluster: 'math', model: 'mini' }, 0.9);
    expect(book.stats()).toEqual([{ cluster: 'math', model: 'mini', n: 3, success_rate: 2 / 3 }]);
  });

  it('counts a request rated again once, with its latest score', async () => {
    const book = new FeedbackBook();
    const outcome = { cluster: 'chat' as const, model: 'mini', tier: 'economy' as const };
    book.remember('r1', outcome);
    book.remember('r2', outcome);
    expect(await book.rate('r1', outcome, 1)).toBeNull();
    expect(await book.rate('r1', outcome, 0)).toBe(1);
    expect(await book.rate('r1', outcome, 0.2)).toBe(0);
    expect(await book.rate('r2', outcome, 1)).toBeNull();
    expect(book.stats()).toEqual([{ cluster: 'chat', model: 'mini', n: 2, success_rate: 0.5 }]);
    // Five more ratings of one request are still one sample: the knob needs five requests.
    for (let i = 0; i < 5; i++) await book.rate('r2', outcome, 1);
    expect(book.shift('chat', ON)).toBe(0);
  });

  it('with an archive, asks it for the replaced score, and stores the sums a re-rating leaves', async () => {
    const stored = new Map<string, FeedbackAggregate>();
    const scores = new Map<string, number>();
    let failing = false;
    const store: FeedbackStore = {
      load: async () => [...stored.values()].map((a) => ({ ...a })),
      add: async (increments) => {
        if (failing) throw new Error('connection refused');
        for (const a of increments) {
          const key = `${a.scope}/${a.cluster}/${a.model}`;
          const s = stored.get(key);
          stored.set(key, s ? { ...s, n: s.n + a.n, success: s.success + a.success } : { ...a });
        }
      },
    };
    const rate = async (id: string, score: number): Promise<number | null> => {
      const previous = scores.get(id) ?? null;
      scores.set(id, score);
      return previous;
    };
    const book = new FeedbackBook(10, { store, archive: { find: async () => undefined, catchUp: async () => {}, rate } });
    const outcome = { cluster: 'math' as const, model: 'mini', tier: 'standard' as const };
    expect(await book.rate('r1', outcome, 0)).toBeNull();
    expect(await book.rate('r1', outcome, 1)).toBe(0);
    expect(await book.rate('r1', outcome, 1)).toBe(1);
    await book.flush();
    expect([...stored.values()]).toEqual([
      { scope: 'model', cluster: 'math', model: 'mini', n: 1, success: 1 },
      { scope: 'cheap_tiers', cluster: 'math', model: '', n: 1, success: 1 },
    ]);
    // A re-rating whose write failed stays pending, and a re-read of the aggregates includes it.
    failing = true;
    await book.rate('r1', outcome, 0);
    await book.refresh();
    expect(book.stats()).toEqual([{ cluster: 'math', model: 'mini', n: 1, success_rate: 0 }]);
    failing = false;
    await book.close();
    expect([...stored.values()].map((a) => [a.n, a.success])).toEqual([
      [1, 0],
      [1, 0],
    ]);
  });

  it('shifts the knob per cluster from the cheap tiers\u2019 success, only when enabled and with enough samples', () => {
    const book = new FeedbackBook();
    for (let i = 0; i < 4; i++) book.record({ cluster: 'chat', model: 'mini', tier: 'economy' }, 1);
    expect(book.shift('chat', ON)).toBe(0); // below min_samples
    book.record({ cluster: 'chat', model: 'mini', tier: 'economy' }, 1);
    expect(book.shift('chat', ON)).toBeCloseTo(-0.2, 10); // cheap models always succeed: fewer to premium, capped
    for (let i = 0; i < 10; i++) book.record({ cluster: 'math', model: 'mini', tier: 'standard' }, 0);
    expect(book.shift('math', ON)).toBeCloseTo(0.2, 10); // cheap models fail: more to premium
    for (let i = 0; i < 10; i++) book.record({ cluster: 'code', model: 'big', tier: 'premium' }, 0);
    expect(book.shift('code', ON)).toBe(0); // premium outcomes say nothing about cheap tiers
    expect(book.shift('chat', { ...ON, enabled: false })).toBe(0);
  });

  it('keeps exactly the most recent ids through many evictions, and an id remembered twice counts once', () => {
    const book = new FeedbackBook(3);
    const outcome = { cluster: 'chat' as const, model: 'm' };
    book.remember('a', outcome);
    book.remember('a', { ...outcome, model: 'n' });
    book.remember('b', outcome);
    book.remember('c', outcome);
    expect(book.lookup('a')?.model).toBe('n');
    for (let i = 0; i < 1000; i++) book.remember(`r${i}`, outcome);
    expect(['a', 'b', 'c', 'r996'].map((id) => book.lookup(id))).toEqual([undefined, undefined, undefined, undefined]);
    expect(['r997', 'r998', 'r999'].every((id) => book.lookup(id) !== undefined)).toBe(true);
  });
});

describe('FeedbackBook with a SQLite store', () => {
  it('keeps the aggregates across a restart, writing increments in batches', async () => {
    const { mkdtempSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { openDatabase } = await import('../store/sqlite/database.ts');
    const { SqliteFeedbackStore } = await import('../store/sqlite/feedback-store.ts');
    const dir = mkdtempSync(join(tmpdir(), 'switchyard-feedback-'));
    const reopen = async (db: ReturnType<typeof openDatabase>): Promise<FeedbackBook> => {
      const book = new FeedbackBook(100, { store: new SqliteFeedbackStore(db) });
      await book.open();
      return book;
    };
    try {
      const path = join(dir, 'usage.db');
      let db = openDatabase(path);
      const first = new FeedbackBook(100, { store: new SqliteFeedbackStore(db), flushIntervalMs: 60_000 });
      await first.open();
      for (let i = 0; i < 6; i++) first.record({ cluster: 'math', model: 'mini', tier: 'economy' }, 0);
      first.record({ cluster: 'math', model: 'mini', tier: 'economy' }, 1);
      first.record({ cluster: 'code', model: 'big', tier: 'premium' }, 1);
      // Nothing is written until the batch is flushed (the timer, or close at shutdown).
      expect(db.prepare('SELECT count(*) AS n FROM feedback_aggregates').get()).toEqual({ n: 0 });
      await first.close();
      db.close();

      db = openDatabase(path);
      const second = await reopen(db);
      expect(second.stats()).toEqual(first.stats());
      expect(second.stats()).toContainEqual({ cluster: 'math', model: 'mini', n: 7, success_rate: 1 / 7 });
      expect(second.shift('math', ON)).toBeCloseTo(0.2, 10);
      expect(second.shift('code', ON)).toBe(0);
      // Increments add to what was stored.
      second.record({ cluster: 'math', model: 'mini', tier: 'economy' }, 1);
      await second.close();
      db.close();
      db = openDatabase(path);
      expect((await reopen(db)).stats()).toContainEqual({ cluster: 'math', model: 'mini', n: 8, success_rate: 2 / 8 });
      db.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('keeps increments a failed write could not store, and writes them with the next batch', async () => {
    const written: Array<{ cluster: string; n: number; success: number }> = [];
    let fail = true;
    const errors: string[] = [];
    const book = new FeedbackBook(100, {
      store: {
        load: async () => [],
        add: async (rows) => {
          if (fail) throw new Error('disk full');
          for (const r of rows) if (r.scope === 'model') written.push({ cluster: r.cluster, n: r.n, success: r.success });
        },
      },
      onError: (e) => errors.push(e.message),
    });
    book.record({ cluster: 'chat', model: 'm' }, 1);
    await book.flush();
    expect(errors).toEqual(['disk full']);
    book.record({ cluster: 'chat', model: 'm' }, 0);
    fail = false;
    await book.close();
    expect(written).toEqual([{ cluster: 'chat', n: 2, success: 1 }]);
  });
});

describe('FeedbackBook with a shared store', () => {
  /** A store several books (replicas) add to, as PostgreSQL is. */
  function sharedStore(): FeedbackStore & { rows: Map<string, FeedbackAggregate> } {
    const rows = new Map<string, FeedbackAggregate>();
    return {
      shared: true,
      rows,
      load: async () => [...rows.values()].map((r) => ({ ...r })),
      add: async (increments) => {
        for (const a of increments) {
          const key = `${a.scope}/${a.cluster}/${a.model}`;
          const row = rows.get(key);
          rows.set(key, row ? { ...row, n: row.n + a.n, success: row.success + a.success } : { ...a });
        }
      },
    };
  }

  it('learns from the feedback every replica received once it re-reads the store, counting its own unwritten increments once', async () => {
    const store = sharedStore();
    const a = new FeedbackBook(100, { store, flushIntervalMs: 60_000, refreshIntervalMs: 60_000 });
    const b = new FeedbackBook(100, { store, flushIntervalMs: 60_000, refreshIntervalMs: 60_000 });
    await Promise.all([a.open(), b.open()]);
    for (let i = 0; i < 5; i++) a.record({ cluster: 'chat', model: 'mini', tier: 'economy' }, 1);
    // b has not heard of a's feedback yet, and a has not written it.
    expect(b.shift('chat', ON)).toBe(0);
    b.record({ cluster: 'chat', model: 'mini', tier: 'economy' }, 0);
    await a.refresh(); // writes a's five, reads them back
    await b.refresh(); // writes b's one, reads all six
    expect(a.stats()[0].n).toBe(5);
    await a.refresh();
    for (const book of [a, b]) expect(book.stats()).toEqual([{ cluster: 'chat', model: 'mini', n: 6, success_rate: 5 / 6 }]);
    // An increment not yet written counts once, before and after a re-read.
    b.record({ cluster: 'chat', model: 'mini', tier: 'economy' }, 1);
    expect(b.stats()[0].n).toBe(7);
    await a.refresh();
    expect(a.stats()[0].n).toBe(6);
    expect(b.stats()[0].n).toBe(7);
    await b.close();
    await a.refresh();
    expect(a.stats()).toEqual([{ cluster: 'chat', model: 'mini', n: 7, success_rate: 6 / 7 }]);
    expect(a.shift('chat', ON)).toBeCloseTo(0.8 - 6 / 7, 10);
    await a.close();
  });

  it('keeps the aggregates it has when the store cannot be read, and reports it', async () => {
    const store = sharedStore();
    const errors: string[] = [];
    const book = new FeedbackBook(100, { store, flushIntervalMs: 60_000, onError: (e) => errors.push(e.message) });
    await book.open();
    book.record({ cluster: 'math', model: 'big' }, 1);
    store.load = async () => {
      throw new Error('connection refused');
    };
    await book.refresh();
    expect(errors).toEqual(['connection refused']);
    expect(book.stats()).toEqual([{ cluster: 'math', model: 'big', n: 1, success_rate: 1 }]);
    await book.close();
  });
});

describe('FeedbackBook archive', () => {
  /** An archive whose records are stored only when it catches up, like a usage sink's queue. */
  function archive() {
    const stored = new Map<string, RoutedOutcome>();
    const queued = new Map<string, RoutedOutcome>();
    const asked: string[] = [];
    let catchUps = 0;
    return {
      stored,
      queued,
      asked,
      catchUps: () => catchUps,
      archive: {
        find: async (id: string) => {
          asked.push(id);
          return stored.get(id);
        },
        catchUp: async () => {
          catchUps++;
          for (const [id, outcome] of queued) stored.set(id, outcome);
          queued.clear();
        },
        rate: async () => null,
      },
    };
  }

  it('finds stored requests in the archive, and queued ones once it caught up', async () => {
    const a = archive();
    a.stored.set('old', { cluster: 'code', model: 'big', keyId: 'k1' });
    a.queued.set('new', { cluster: 'chat', model: 'mini' });
    const book = new FeedbackBook(10, { archive: a.archive });
    expect(await book.find('old')).toEqual({ cluster: 'code', model: 'big', keyId: 'k1' });
    expect(a.catchUps()).toBe(0);
    expect(await book.find('new')).toEqual({ cluster: 'chat', model: 'mini' });
    expect(a.catchUps()).toBe(1);
    expect(await book.find('never')).toBeUndefined();
    expect(a.catchUps()).toBe(2);
    expect(a.asked).toEqual(['old', 'new', 'new', 'never', 'never']);
  });

  it('remembers nothing itself when it has an archive', async () => {
    const a = archive();
    const book = new FeedbackBook(10, { archive: a.archive });
    expect(book.remembers).toBe(false);
    book.remember('r1', { cluster: 'chat', model: 'mini' });
    expect(book.lookup('r1')).toBeUndefined();
    expect(await book.find('r1')).toBeUndefined();
    expect(new FeedbackBook(10).remembers).toBe(true);
  });

  it('reports an archive that cannot be read', async () => {
    const book = new FeedbackBook(10, {
      archive: {
        find: async () => {
          throw new Error('database is locked');
        },
        catchUp: async () => {},
        rate: async () => null,
      },
    });
    await expect(book.find('r1')).rejects.toThrow('database is locked');
  });
});

describe('recordedOutcome', () => {
  const row = { status: 200, task_cluster: 'math', served_group: 'gpt-4o-mini', auto_tier: 'economy', key_id: 'key_1' };

  it('reads the outcome of a routed success back from its usage record', () => {
    expect(recordedOutcome(row)).toStrictEqual({ cluster: 'math', model: 'gpt-4o-mini', tier: 'economy', keyId: 'key_1' });
    expect(recordedOutcome({ ...row, auto_tier: null, key_id: null })).toStrictEqual({ cluster: 'math', model: 'gpt-4o-mini' });
  });

  it('refuses records feedback cannot refer to: failed, unrouted, older than the cluster column, or unknown labels', () => {
    expect(recordedOutcome(undefined)).toBeUndefined();
    expect(recordedOutcome({ ...row, status: 502 })).toBeUndefined();
    expect(recordedOutcome({ ...row, served_group: null })).toBeUndefined();
    expect(recordedOutcome({ ...row, task_cluster: null })).toBeUndefined();
    expect(recordedOutcome({ ...row, task_cluster: 'poetry' })).toBeUndefined();
    expect(recordedOutcome({ ...row, auto_tier: 'gold' })).toStrictEqual({ cluster: 'math', model: 'gpt-4o-mini', keyId: 'key_1' });
  });
});
