import { describe, expect, it } from 'vitest';
import type { ChatRequest } from '../core/canonical.ts';
import { FeedbackBook, taskCluster, type LearningConfig } from './feedback.ts';

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
    try {
      const path = join(dir, 'usage.db');
      let db = openDatabase(path);
      const first = new FeedbackBook(100, { store: new SqliteFeedbackStore(db), flushIntervalMs: 60_000 });
      for (let i = 0; i < 6; i++) first.record({ cluster: 'math', model: 'mini', tier: 'economy' }, 0);
      first.record({ cluster: 'math', model: 'mini', tier: 'economy' }, 1);
      first.record({ cluster: 'code', model: 'big', tier: 'premium' }, 1);
      // Nothing is written until the batch is flushed (the timer, or close at shutdown).
      expect(db.prepare('SELECT count(*) AS n FROM feedback_aggregates').get()).toEqual({ n: 0 });
      first.close();
      db.close();

      db = openDatabase(path);
      const second = new FeedbackBook(100, { store: new SqliteFeedbackStore(db) });
      expect(second.stats()).toEqual(first.stats());
      expect(second.stats()).toContainEqual({ cluster: 'math', model: 'mini', n: 7, success_rate: 1 / 7 });
      expect(second.shift('math', ON)).toBeCloseTo(0.2, 10);
      expect(second.shift('code', ON)).toBe(0);
      // Increments add to what was stored.
      second.record({ cluster: 'math', model: 'mini', tier: 'economy' }, 1);
      second.close();
      db.close();
      db = openDatabase(path);
      expect(new FeedbackBook(100, { store: new SqliteFeedbackStore(db) }).stats()).toContainEqual({ cluster: 'math', model: 'mini', n: 8, success_rate: 2 / 8 });
      db.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('keeps increments a failed write could not store, and writes them with the next batch', () => {
    const written: Array<{ cluster: string; n: number; success: number }> = [];
    let fail = true;
    const errors: string[] = [];
    const book = new FeedbackBook(100, {
      store: {
        load: () => [],
        add: (rows) => {
          if (fail) throw new Error('disk full');
          for (const r of rows) if (r.scope === 'model') written.push({ cluster: r.cluster, n: r.n, success: r.success });
        },
      },
      onError: (e) => errors.push(e.message),
    });
    book.record({ cluster: 'chat', model: 'm' }, 1);
    book.flush();
    expect(errors).toEqual(['disk full']);
    book.record({ cluster: 'chat', model: 'm' }, 0);
    fail = false;
    book.close();
    expect(written).toEqual([{ cluster: 'chat', n: 2, success: 1 }]);
  });
});
