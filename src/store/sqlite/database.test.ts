import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openDatabase, openReadDatabase } from './database.ts';

describe('openReadDatabase', () => {
  it('reads what the writer committed, with its own large page cache, and cannot write', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'sy-db-')), 'usage.db');
    const writer = openDatabase(path);
    const reader = openReadDatabase(path, writer);
    try {
      expect(reader).not.toBe(writer);
      expect(reader.pragma('cache_size', { simple: true })).toBe(-32768);
      expect(writer.pragma('cache_size', { simple: true })).not.toBe(-32768);
      writer.exec('CREATE TABLE t (v INTEGER)');
      writer.prepare('INSERT INTO t VALUES (?)').run(7);
      expect(reader.prepare('SELECT v FROM t').get()).toEqual({ v: 7 });
      expect(() => reader.exec('INSERT INTO t VALUES (8)')).toThrow(/readonly|query_only|attempt to write/i);
    } finally {
      reader.close();
      writer.close();
    }
  });

  it('is the writer itself for an in-memory database (one connection holds it)', () => {
    const writer = openDatabase(':memory:');
    expect(openReadDatabase(':memory:', writer)).toBe(writer);
    writer.close();
  });
});
