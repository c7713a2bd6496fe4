// PostgreSQL schema of the usage store: raw records in a table partitioned by day on `ts`, and the
// analytics rollups per minute, hour and day (analytics-schema.ts). Versioned migrations are applied
// under an advisory lock (like the governance migrations); daily partitions are created ahead and on demand.
import type pg from 'pg';
import { pgModule } from './pg-module.ts';
import { ANALYTICS_USAGE_MIGRATION } from './analytics-schema.ts';

/** Anything that runs a query: a pool, or a client inside a transaction. */
export type Queryable = Pick<pg.Pool, 'query'> | Pick<pg.PoolClient, 'query'>;

export const USAGE_TABLE = 'usage_records';
export const PARTITION_PREFIX = `${USAGE_TABLE}_p`;
export const DAY_MS = 86_400_000;

/** Arbitrary constants naming the usage store's advisory locks (distinct from the governance lock). */
const MIGRATION_LOCK = 0x5359_5553_0001;
export const PARTITION_LOCK = 0x5359_5553_0002;

export interface UsageMigration {
  /** Strictly increasing; never renumber or edit a released migration, add a new one. */
  version: number;
  name: string;
  sql: string;
}

/**
 * The rollup tables of migration 1 (per minute, hour and day, keyed by org, team, key, model group,
 * provider and status class, with a latency histogram). Superseded by the analytics rollups of
 * migration 2 and dropped by migration 3; kept here only so that migration 1's SQL stays as released.
 */
const LEGACY_ROLLUP_TABLES = ['usage_rollup_minute', 'usage_rollup_hour', 'usage_rollup_day'] as const;

const legacyRollupTable = (name: string): string => `
  CREATE TABLE ${name} (
    bucket timestamptz NOT NULL,
    org_id text NOT NULL,
    team_id text NOT NULL,
    key_id text NOT NULL,
    model_group text NOT NULL,
    provider text NOT NULL,
    status_class smallint NOT NULL,
    requests bigint NOT NULL,
    errors bigint NOT NULL,
    prompt_tokens bigint NOT NULL,
    completion_tokens bigint NOT NULL,
    cached_tokens bigint NOT NULL,
    cost_usd double precision NOT NULL,
    latency_ms_sum double precision NOT NULL,
    latency_ms_max double precision NOT NULL,
    ttft_ms_sum double precision NOT NULL,
    ttft_count bigint NOT NULL,
    latency_hist bigint[] NOT NULL,
    PRIMARY KEY (bucket, org_id, team_id, key_id, model_group, provider, status_class)
  );`;

export const USAGE_MIGRATIONS: readonly UsageMigration[] = [
  {
    version: 1,
    name: 'partitioned usage records and rollups',
    sql: `
      CREATE TABLE ${USAGE_TABLE} (
        ts timestamptz NOT NULL,
        request_id text NOT NULL,
        dialect text NOT NULL,
        operation text NOT NULL,
        requested_model text NOT NULL,
        org_id text,
        team_id text,
        user_id text,
        key_id text,
        model_group text,
        strategy text,
        candidates text,
        route_reason text,
        complexity double precision,
        auto_tier text,
        deployment text,
        provider text,
        provider_model text,
        status integer NOT NULL,
        error_class text,
        stream boolean NOT NULL,
        prompt_tokens bigint NOT NULL,
        completion_tokens bigint NOT NULL,
        cached_tokens bigint NOT NULL,
        cost_usd double precision NOT NULL,
        usage_estimated boolean NOT NULL,
        latency_ms double precision NOT NULL,
        ttft_ms double precision,
        attempts integer NOT NULL,
        fallback_reason text,
        client_abandoned boolean NOT NULL,
        PRIMARY KEY (request_id, ts)
      ) PARTITION BY RANGE (ts);
      CREATE INDEX ${USAGE_TABLE}_ts ON ${USAGE_TABLE} USING brin (ts);
      CREATE INDEX ${USAGE_TABLE}_key_ts ON ${USAGE_TABLE} (key_id, ts);
      ${legacyRollupTable(LEGACY_ROLLUP_TABLES[0])}
      ${legacyRollupTable(LEGACY_ROLLUP_TABLES[1])}
      ${legacyRollupTable(LEGACY_ROLLUP_TABLES[2])}
    `,
  },
  ANALYTICS_USAGE_MIGRATION,
  {
    version: 3,
    name: 'drop the legacy usage_rollup_* tables (the analytics rollups replace them)',
    sql: LEGACY_ROLLUP_TABLES.map((table) => `DROP TABLE IF EXISTS ${table};`).join('\n'),
  },
  {
    version: 4,
    name: 'auto-routing feedback: the task cluster and served group of each request, shared aggregates',
    sql: `
      ALTER TABLE ${USAGE_TABLE} ADD COLUMN task_cluster text, ADD COLUMN served_group text;
      CREATE TABLE feedback_aggregates (
        scope text NOT NULL,
        cluster text NOT NULL,
        model text NOT NULL,
        n bigint NOT NULL,
        success bigint NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (scope, cluster, model)
      );
    `,
  },
  {
    version: 5,
    name: 'auto-routing feedback: the latest score of each request, so a second rating replaces the first',
    sql: `ALTER TABLE ${USAGE_TABLE} ADD COLUMN feedback_score double precision;`,
  },
];

export interface UsageMigrateOptions {
  /** Schema to create (if missing) before the tables; the connections' search_path must name it. */
  schema?: string;
}

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

export function assertSchemaName(schema: string): void {
  if (!SCHEMA_NAME.test(schema)) throw new Error(`invalid PostgreSQL schema name "${schema}": use lowercase letters, digits and _`);
}

/**
 * Applies the pending usage migrations in one transaction and returns the versions applied. Safe to run
 * concurrently from several replicas: a transaction-scoped advisory lock serialises them. Tables are
 * created unqualified, i.e. in the first schema of the connection's search_path.
 */
export async function migrateUsageSchema(pool: pg.Pool, options: UsageMigrateOptions = {}): Promise<number[]> {
  if (options.schema !== undefined) assertSchemaName(options.schema);
  const { schema } = options;
  return withTransaction(pool, async (client) => {
    await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    // Under the lock, so that replicas creating the same schema do not collide on pg_namespace.
    if (schema !== undefined) await client.query(`CREATE SCHEMA IF NOT EXISTS ${pgModule().escapeIdentifier(schema)}`);
    await client.query(
      'CREATE TABLE IF NOT EXISTS usage_schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())',
    );
    const { rows } = await client.query<{ version: number }>('SELECT version FROM usage_schema_migrations');
    const done = new Set(rows.map((r) => r.version));
    const applied: number[] = [];
    for (const migration of USAGE_MIGRATIONS) {
      if (done.has(migration.version)) continue;
      await client.query(migration.sql);
      await client.query('INSERT INTO usage_schema_migrations (version, name) VALUES ($1, $2)', [migration.version, migration.name]);
      applied.push(migration.version);
    }
    return applied;
  });
}

/**
 * Runs `fn` in a transaction on a pooled client. While checked out the client has an 'error' listener
 * (pg emits 'error' on a checked-out client whose connection drops, which would otherwise crash the
 * process); a client whose connection failed is discarded rather than returned to the pool.
 */
export async function withTransaction<T>(pool: pg.Pool, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  const onError = (error: Error): void => {
    broken ??= error;
  };
  client.on('error', onError);
  try {
    await client.query('BEGIN');
    const result = await fn(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    if (error instanceof pgModule().DatabaseError) {
      await client.query('ROLLBACK').catch((rollbackError: unknown) => {
        broken ??= rollbackError instanceof Error ? rollbackError : new Error(String(rollbackError));
      });
    } else {
      broken ??= error instanceof Error ? error : new Error(String(error));
    }
    throw error;
  } finally {
    client.removeListener('error', onError);
    client.release(broken);
  }
}

// ---- daily partitions ------------------------------------------------------------------------------

/** UTC day number (days since the epoch) of a time in epoch ms. */
export const utcDay = (ms: number): number => Math.floor(ms / DAY_MS);

/** `usage_records_pYYYYMMDD` for a UTC day number. */
export function partitionName(day: number): string {
  return `${PARTITION_PREFIX}${new Date(day * DAY_MS).toISOString().slice(0, 10).replaceAll('-', '')}`;
}

const PARTITION_NAME = new RegExp(`^${PARTITION_PREFIX}(\\d{4})(\\d{2})(\\d{2})$`);

/** The UTC day number a partition name stands for, or undefined for a name this store did not create. */
export function partitionDay(name: string): number | undefined {
  const m = PARTITION_NAME.exec(name);
  if (!m) return undefined;
  const ms = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  return Number.isNaN(ms) ? undefined : utcDay(ms);
}

/** Days (UTC day numbers) that have a partition attached to `usage_records`, ascending. */
export async function listPartitionDays(db: Queryable): Promise<number[]> {
  const { rows } = await db.query<{ name: string }>(
    `SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = '${USAGE_TABLE}'::regclass`,
  );
  const days: number[] = [];
  for (const { name } of rows) {
    const day = partitionDay(name);
    if (day !== undefined) days.push(day);
  }
  return days.sort((a, b) => a - b);
}

/**
 * Creates the daily partitions for the given UTC days that do not exist yet and returns the names it
 * created. Runs in its own short transaction under an advisory lock, so replicas creating the same day
 * at once do not collide; `lock_timeout` bounds how long it waits behind inserts on the parent table.
 */
export async function createDailyPartitions(pool: pg.Pool, days: Iterable<number>): Promise<string[]> {
  const wanted = [...new Set(days)].sort((a, b) => a - b);
  if (wanted.length === 0) return [];
  return withTransaction(pool, async (client) => {
    await client.query(`SET LOCAL lock_timeout = '10s'`);
    await client.query('SELECT pg_advisory_xact_lock($1)', [PARTITION_LOCK]);
    const existing = new Set(await listPartitionDays(client));
    const created: string[] = [];
    for (const day of wanted) {
      if (existing.has(day)) continue;
      const name = partitionName(day);
      const from = new Date(day * DAY_MS).toISOString();
      const to = new Date((day + 1) * DAY_MS).toISOString();
      await client.query(
        `CREATE TABLE IF NOT EXISTS ${pgModule().escapeIdentifier(name)} PARTITION OF ${USAGE_TABLE} FOR VALUES FROM ('${from}') TO ('${to}')`,
      );
      created.push(name);
    }
    return created;
  });
}

// ---- pools -----------------------------------------------------------------------------------------

export interface UsagePoolOptions {
  /** Schema for the usage tables (lowercase identifier), set as every connection's search_path. */
  schema?: string;
  /** Most connections (default 4: the writer, the recovery probe, partition maintenance, analytics). */
  poolSize?: number;
  /** How long to wait for a connection before the attempt fails (default 5 s). */
  connectionTimeoutMillis?: number;
}

/** A pool configured for the usage store. Idle-client errors are absorbed (the next query reports them). */
export function openUsagePool(url: string, options: UsagePoolOptions = {}): pg.Pool {
  if (options.schema !== undefined) assertSchemaName(options.schema);
  const pool = new (pgModule().Pool)({
    connectionString: url,
    max: options.poolSize ?? 4,
    connectionTimeoutMillis: options.connectionTimeoutMillis ?? 5_000,
    keepAlive: true,
    ...(options.schema !== undefined && { options: `-c search_path=${options.schema}` }),
  });
  pool.on('error', () => undefined);
  return pool;
}
