import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeWithPostgres, PG_URL } from '../postgres/test-support.ts';
import { PostgresResponseBackend } from './postgres.ts';
import type { StoredResponse } from './types.ts';

function record(id: string, expiresAt: number): StoredResponse {
  const response = { id, object: 'response', output: [] } as unknown as StoredResponse['response'];
  return { id, owner: 'key_1', createdAt: 1, expiresAt, response, input: [] };
}

await describeWithPostgres('PostgresResponseBackend', () => {
  const schema = `responses_unit_${randomBytes(6).toString('hex')}`;
  let a: PostgresResponseBackend;
  let b: PostgresResponseBackend;

  beforeAll(() => {
    a = new PostgresResponseBackend({ url: PG_URL, schema });
    b = new PostgresResponseBackend({ url: PG_URL, schema });
  });
  afterAll(async () => {
    await a.close();
    await b.close();
    const pool = new pg.Pool({ connectionString: PG_URL });
    await pool.query(`DROP SCHEMA IF EXISTS ${pg.escapeIdentifier(schema)} CASCADE`);
    await pool.end();
  });

  it('migrates from two replicas at once, then shares rows between them', async () => {
    await Promise.all([a.migrate(), b.migrate()]);
    const r = record('resp_pg', 10_000);
    await a.put(r, JSON.stringify(r));
    expect(await b.get('resp_pg', 0)).toEqual(r);
    await b.delete('resp_pg');
    expect(await a.get('resp_pg', 0)).toBeUndefined();
  });

  it('hides expired rows and sweeps them', async () => {
    for (const r of [record('old', 100), record('new', 10_000)]) await a.put(r, JSON.stringify(r));
    expect(await a.get('old', 200)).toBeUndefined();
    expect(await a.sweep(200)).toBe(1);
    expect((await a.get('new', 200))?.id).toBe('new');
  });

  it('refuses an unsafe schema name', () => {
    expect(() => new PostgresResponseBackend({ url: PG_URL, schema: 'x; drop table y' })).toThrow('invalid PostgreSQL schema name');
  });
});
