import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, type SqliteDatabase } from '../sqlite/database.ts';
import { SqliteResponseBackend } from './sqlite.ts';
import type { StoredResponse } from './types.ts';

function record(id: string, expiresAt = Number.MAX_SAFE_INTEGER): StoredResponse {
  const response = { id, object: 'response', output: [] } as unknown as StoredResponse['response'];
  return { id, owner: 'key_1', createdAt: 1, expiresAt, response, input: [{ id: 'msg_1', type: 'message', role: 'user', content: [{ type: 'input_text', text: 'hi' }] }] };
}

const count = (db: SqliteDatabase): number => (db.prepare('SELECT count(*) AS n FROM stored_responses').get() as { n: number }).n;

describe('SqliteResponseBackend', () => {
  let dir: string;
  let db: SqliteDatabase;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'switchyard-responses-sqlite-'));
    db = openDatabase(join(dir, 'db.sqlite'));
  });
  afterEach(async () => {
    db.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('answers from its queue before the flush, then from the file', async () => {
    const backend = new SqliteResponseBackend(db, { flushIntervalMs: 60_000 });
    const r = record('resp_a');
    await backend.put(r, JSON.stringify(r));
    expect(count(db)).toBe(0);
    expect(await backend.get('resp_a', 0)).toBe(r);
    backend.flush();
    expect(count(db)).toBe(1);
    const reader = new SqliteResponseBackend(db, { flushIntervalMs: 60_000 });
    expect(await reader.get('resp_a', 0)).toEqual(r);
    await backend.close();
    await reader.close();
  });

  it('queues deletes in order with writes, hiding the row at once', async () => {
    const backend = new SqliteResponseBackend(db, { flushIntervalMs: 60_000 });
    const r = record('resp_b');
    await backend.put(r, JSON.stringify(r));
    backend.flush();
    await backend.delete('resp_b');
    expect(await backend.get('resp_b', 0)).toBeUndefined();
    await backend.close();
    expect(count(db)).toBe(0);
  });

  it('never returns an expired row and sweeps it away', async () => {
    const backend = new SqliteResponseBackend(db, { flushIntervalMs: 60_000 });
    for (const r of [record('old', 100), record('new', 10_000)]) await backend.put(r, JSON.stringify(r));
    expect(await backend.get('old', 200)).toBeUndefined();
    backend.flush();
    expect(await backend.get('old', 200)).toBeUndefined();
    expect(await backend.sweep(200)).toBe(1);
    expect(count(db)).toBe(1);
    await backend.close();
  });
});
