// Opening the governance store: embedded SQLite (the default, same file as usage records) or PostgreSQL.
import { Kysely, PostgresDialect, SqliteDialect, type SqliteDatabase as KyselySqliteDatabase } from 'kysely';
import type pg from 'pg';
import { pgModule } from '../postgres/pg-module.ts';
import { openDatabase, type SqliteDatabase } from '../sqlite/database.ts';
import { KyselyGovernanceStore } from './kysely-store.ts';
import type { GovernanceDatabase } from './schema.ts';

/**
 * `target` is a file path, `':memory:'`, or an open better-sqlite3 database. A path is opened the way
 * the usage store opens it (WAL, busy timeout, usage migrations) and closed by `store.close()`; an open
 * database is shared (e.g. with the usage sink) and left open by `store.close()`.
 */
export function openSqliteGovernanceStore(target: string | ':memory:' | SqliteDatabase): KyselyGovernanceStore {
  const database = typeof target === 'string' ? openDatabase(target) : borrowed(target);
  const db = new Kysely<GovernanceDatabase>({ dialect: new SqliteDialect({ database }) });
  return new KyselyGovernanceStore(db, { engine: 'sqlite' });
}

/** kysely closes its database on destroy; a borrowed one belongs to the caller. */
function borrowed(database: SqliteDatabase): KyselySqliteDatabase {
  return { close: () => undefined, prepare: (query) => database.prepare(query) };
}

export interface PostgresGovernanceOptions {
  /** Schema for the governance tables (lowercase identifier); created by migrate() when missing. */
  schema?: string;
  /** Most connections the pool opens (default 10). */
  poolSize?: number;
}

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;
const PG_INT8_OID = 20;

export function openPostgresGovernanceStore(url: string, options: PostgresGovernanceOptions = {}): KyselyGovernanceStore {
  const { schema } = options;
  if (schema !== undefined && !SCHEMA_NAME.test(schema)) {
    throw new Error(`invalid PostgreSQL schema name "${schema}": use lowercase letters, digits and _`);
  }
  // pg returns BIGINT as a string to avoid precision loss; epoch milliseconds fit a double exactly.
  const types = new (pgModule().TypeOverrides)();
  types.setTypeParser(PG_INT8_OID, Number);
  const pool = new (pgModule().Pool)({
    connectionString: url,
    max: options.poolSize ?? 10,
    types,
    ...(schema !== undefined && { options: `-c search_path=${schema}` }),
  });
  // An idle client dropped by the server would otherwise be an unhandled 'error' event that kills the
  // process; the pool discards that client and the next query reports any persistent failure.
  pool.on('error', () => undefined);
  const db = new Kysely<GovernanceDatabase>({ dialect: new PostgresDialect({ pool }) });
  return new KyselyGovernanceStore(db, { engine: 'postgres', ...(schema !== undefined && { schema }) });
}
