// Runs the governance store contract on a real PostgreSQL, each test in a fresh schema dropped
// afterwards. Without a reachable server the suite is skipped locally but fails in CI.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { openPostgresGovernanceStore } from './open.ts';
import { governanceStoreContract } from './store.contract.ts';
import { probe } from '../postgres/test-support.ts';

const url = process.env.SWITCHYARD_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const inCi = Boolean(process.env.CI) && process.env.CI !== 'false';
const unreachable = await probe(url);

if (unreachable === undefined) {
  const admin = new pg.Pool({ connectionString: url, max: 2 });
  afterAll(() => admin.end());

  const freshSchema = () => `governance_test_${randomBytes(6).toString('hex')}`;
  const dropSchema = (schema: string) => admin.query(`DROP SCHEMA IF EXISTS ${pg.escapeIdentifier(schema)} CASCADE`);

  governanceStoreContract('postgres', async () => {
    const schema = freshSchema();
    const store = openPostgresGovernanceStore(url, { schema, poolSize: 8 });
    return {
      store,
      cleanup: async () => {
        await store.close();
        await dropSchema(schema);
      },
    };
  });

  describe('postgres governance migrations', () => {
    it('lets several stores migrate one fresh schema concurrently', async () => {
      const schema = freshSchema();
      const stores = Array.from({ length: 3 }, () => openPostgresGovernanceStore(url, { schema, poolSize: 1 }));
      try {
        await Promise.all(stores.map((s) => s.migrate()));
        const { rows } = await admin.query<{ version: number }>(
          `SELECT version FROM ${pg.escapeIdentifier(schema)}.governance_migrations ORDER BY version`,
        );
        expect(rows.map((r) => r.version)).toStrictEqual([1]);
        await stores[0].createOrg({ id: 'o1', name: 'Acme', timezone: 'UTC', createdAt: 1 });
        expect(await stores[2].getOrg('o1')).toBeDefined();
      } finally {
        await Promise.all(stores.map((s) => s.close()));
        await dropSchema(schema);
      }
    });

    it('rejects a schema name that is not a plain lowercase identifier', () => {
      expect(() => openPostgresGovernanceStore(url, { schema: 'Bad; DROP' })).toThrow(/invalid PostgreSQL schema name/);
    });
  });
} else if (inCi) {
  describe('postgres governance store', () => {
    it('needs a reachable PostgreSQL in CI', () => {
      throw new Error(`PostgreSQL unreachable at ${redact(url)} (${unreachable}); set SWITCHYARD_TEST_POSTGRES_URL`);
    });
  });
} else {
  console.warn(
    `Skipping PostgreSQL governance store tests: ${redact(url)} unreachable (${unreachable}). ` +
      'Start PostgreSQL or set SWITCHYARD_TEST_POSTGRES_URL to run them.',
  );
  describe.skip('postgres governance store (PostgreSQL unreachable)', () => {
    it('contract', () => undefined);
  });
}


function redact(connectionString: string): string {
  try {
    const parsed = new URL(connectionString);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '<unparseable URL>';
  }
}
