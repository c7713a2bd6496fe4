import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase } from '../sqlite/database.ts';
import { openSqliteGovernanceStore } from './open.ts';
import { governanceStoreContract } from './store.contract.ts';

const tempDirs: string[] = [];

function tempPath(): string {
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-governance-'));
  tempDirs.push(dir);
  return join(dir, 'nested', 'switchyard.db');
}

afterEach(() => {
  for (const dir of tempDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

governanceStoreContract('sqlite in memory', async () => {
  const store = openSqliteGovernanceStore(':memory:');
  return { store, cleanup: () => store.close() };
});

governanceStoreContract('sqlite file', async () => {
  const store = openSqliteGovernanceStore(tempPath());
  return { store, cleanup: () => store.close() };
});

describe('sqlite governance store', () => {
  it('lives in the usage database file, in WAL mode, and persists across reopen', async () => {
    const path = tempPath();
    const store = openSqliteGovernanceStore(path);
    await store.migrate();
    await store.createOrg({ id: 'o1', name: 'Acme', timezone: 'UTC', createdAt: 1 });
    await store.close();

    const raw = new Database(path);
    const tables = raw.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").pluck().all();
    expect(tables).toEqual(expect.arrayContaining(['usage_records', 'schema_migrations', 'governance_migrations', 'orgs']));
    expect(raw.pragma('journal_mode', { simple: true })).toBe('wal');
    raw.close();

    const reopened = openSqliteGovernanceStore(path);
    await reopened.migrate();
    expect(await reopened.getOrg('o1')).toStrictEqual({ id: 'o1', name: 'Acme', timezone: 'UTC', createdAt: 1 });
    await reopened.close();
  });

  it('shares an open database and leaves it open on close', async () => {
    const db = openDatabase(':memory:');
    const store = openSqliteGovernanceStore(db);
    await store.migrate();
    await store.createTeam({ id: 't1', orgId: 'o1', name: 'platform', declared: true, createdAt: 1 });
    await store.close();
    expect(db.open).toBe(true);
    expect(db.prepare('SELECT declared FROM teams WHERE id = ?').pluck().get('t1')).toBe(1);
    db.close();
  });
});
