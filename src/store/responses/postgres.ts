// Stored responses in PostgreSQL (table `stored_responses`), shared by every replica. A put is one
// upsert, awaited before the client sees the end of the response, so a follow-up request that lands
// on another replica finds the turn. Expired rows are deleted by a periodic sweep and never read.
import type pg from 'pg';
import { pgModule } from '../postgres/pg-module.ts';
import type { ResponseBackend, StoredResponse } from './types.ts';

export interface PostgresResponseBackendOptions {
  /** A pool whose connections' search_path names the schema; the caller ends it. */
  pool?: pg.Pool;
  /** Or a connection string: the backend opens (and on close ends) its own pool. */
  url?: string;
  /** Schema for the table (created when missing); with `url`, also set as the search_path. */
  schema?: string;
  /** A statement not finished after this long fails (default 5 s). */
  statementTimeoutMs?: number;
}

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;
/** Arbitrary constant naming this table's migration among the database's advisory locks. */
const MIGRATION_LOCK = 0x5359_5253_0001;
const PG_INT8_OID = 20;

export class PostgresResponseBackend implements ResponseBackend {
  readonly shared = true;
  private readonly pool: pg.Pool;
  private readonly ownsPool: boolean;
  private ready: Promise<void> | undefined;

  constructor(private readonly options: PostgresResponseBackendOptions) {
    const { schema } = options;
    if (schema !== undefined && !SCHEMA_NAME.test(schema)) throw new Error(`invalid PostgreSQL schema name "${schema}": use lowercase letters, digits and _`);
    if (options.pool) {
      this.pool = options.pool;
      this.ownsPool = false;
    } else {
      if (!options.url) throw new Error('PostgresResponseBackend needs a pool or a url');
      const types = new (pgModule().TypeOverrides)();
      types.setTypeParser(PG_INT8_OID, Number);
      this.pool = new (pgModule().Pool)({
        connectionString: options.url,
        max: 4,
        types,
        statement_timeout: options.statementTimeoutMs ?? 5000,
        ...(schema !== undefined && { options: `-c search_path=${schema}` }),
      });
      this.pool.on('error', () => undefined);
      this.ownsPool = true;
    }
  }

  /** Creates the schema and table when missing; safe to run from many replicas at once. */
  migrate(): Promise<void> {
    this.ready ??= this.runMigration().catch((err: unknown) => {
      this.ready = undefined;
      throw err;
    });
    return this.ready;
  }

  private async runMigration(): Promise<void> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
      if (this.options.schema !== undefined) await client.query(`CREATE SCHEMA IF NOT EXISTS ${pgModule().escapeIdentifier(this.options.schema)}`);
      await client.query(`
        CREATE TABLE IF NOT EXISTS stored_responses (
          id text PRIMARY KEY,
          owner text NOT NULL,
          created_at bigint NOT NULL,
          expires_at bigint NOT NULL,
          body text NOT NULL
        )`);
      await client.query('CREATE INDEX IF NOT EXISTS stored_responses_expires ON stored_responses (expires_at)');
      await client.query('COMMIT');
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  }

  async put(record: StoredResponse, json: string): Promise<void> {
    await this.migrate();
    await this.pool.query(
      `INSERT INTO stored_responses (id, owner, created_at, expires_at, body) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (id) DO UPDATE SET owner = EXCLUDED.owner, created_at = EXCLUDED.created_at, expires_at = EXCLUDED.expires_at, body = EXCLUDED.body`,
      [record.id, record.owner, record.createdAt, record.expiresAt, json],
    );
  }

  async get(id: string, now: number): Promise<StoredResponse | undefined> {
    await this.migrate();
    const { rows } = await this.pool.query<{ body: string }>('SELECT body FROM stored_responses WHERE id = $1 AND expires_at > $2', [id, now]);
    return rows[0] ? (JSON.parse(rows[0].body) as StoredResponse) : undefined;
  }

  async delete(id: string): Promise<void> {
    await this.migrate();
    await this.pool.query('DELETE FROM stored_responses WHERE id = $1', [id]);
  }

  async sweep(now: number): Promise<number> {
    await this.migrate();
    const { rowCount } = await this.pool.query('DELETE FROM stored_responses WHERE expires_at <= $1', [now]);
    return rowCount ?? 0;
  }

  async close(): Promise<void> {
    if (this.ownsPool) await this.pool.end();
  }
}
