// Versioned migrations of the governance schema, written with kysely's schema builder so that one
// definition creates the same tables on SQLite and PostgreSQL. Applied versions are recorded in
// `governance_migrations` (separate from the usage store's `schema_migrations` in the same SQLite file).
import { sql, type Kysely, type SchemaModule } from 'kysely';
import type { GovernanceDatabase } from './schema.ts';

export type GovernanceEngine = 'sqlite' | 'postgres';

export interface GovernanceMigration {
  /** Strictly increasing; never renumber or edit a released migration, add a new one. */
  version: number;
  name: string;
  up(schema: SchemaModule): Promise<void>;
}

export interface MigrateOptions {
  engine: GovernanceEngine;
  /** PostgreSQL schema to create (if missing) before the tables; the connections' search_path names it. */
  schema?: string;
}

/** Arbitrary constant naming "the governance migration" among the database's advisory locks. */
const POSTGRES_MIGRATION_LOCK = 0x5359_4756_0001;

export const GOVERNANCE_MIGRATIONS: readonly GovernanceMigration[] = [{ version: 1, name: 'initial', up: createInitialTables }];

/**
 * Applies the pending migrations in one transaction and returns the versions it applied. Safe to run
 * concurrently: on PostgreSQL a transaction-scoped advisory lock serialises replicas; on SQLite
 * `BEGIN IMMEDIATE` takes the write lock up front (a deferred transaction that reads, then writes,
 * could fail with SQLITE_BUSY when another process migrates the same file).
 */
export async function migrateGovernance(db: Kysely<GovernanceDatabase>, options: MigrateOptions): Promise<number[]> {
  return db.connection().execute(async (conn) => {
    await sql.raw(options.engine === 'sqlite' ? 'begin immediate' : 'begin').execute(conn);
    try {
      const applied = await applyPending(conn, options);
      await sql.raw('commit').execute(conn);
      return applied;
    } catch (error) {
      // Keep the original error even if the rollback fails too (e.g. SQLite already rolled back).
      await sql.raw('rollback').execute(conn).catch(() => undefined);
      throw error;
    }
  });
}

async function applyPending(conn: Kysely<GovernanceDatabase>, options: MigrateOptions): Promise<number[]> {
  if (options.engine === 'postgres') {
    await sql`select pg_advisory_xact_lock(${POSTGRES_MIGRATION_LOCK})`.execute(conn);
    // Under the lock, so that replicas creating the same schema do not collide on pg_namespace.
    if (options.schema !== undefined) await conn.schema.createSchema(options.schema).ifNotExists().execute();
  }
  await conn.schema
    .createTable('governance_migrations')
    .ifNotExists()
    .addColumn('version', 'integer', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('applied_at', 'bigint', (c) => c.notNull())
    .execute();
  const done = new Set((await conn.selectFrom('governance_migrations').select('version').execute()).map((r) => r.version));
  const applied: number[] = [];
  for (const migration of GOVERNANCE_MIGRATIONS) {
    if (done.has(migration.version)) continue;
    await migration.up(conn.schema);
    await conn
      .insertInto('governance_migrations')
      .values({ version: migration.version, name: migration.name, applied_at: Date.now() })
      .execute();
    applied.push(migration.version);
  }
  return applied;
}

async function createInitialTables(schema: SchemaModule): Promise<void> {
  await schema
    .createTable('orgs')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('policy', 'text')
    .addColumn('timezone', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();

  await schema
    .createTable('teams')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('org_id', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('policy', 'text')
    .addColumn('limits', 'text')
    .addColumn('default_strategy', 'text')
    .addColumn('declared', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addUniqueConstraint('teams_org_name_unique', ['org_id', 'name'])
    .execute();

  await schema
    .createTable('users')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('org_id', 'text', (c) => c.notNull())
    .addColumn('email', 'text', (c) => c.notNull())
    .addColumn('name', 'text')
    .addColumn('role', 'text', (c) => c.notNull())
    .addColumn('teams', 'text', (c) => c.notNull().defaultTo('[]'))
    .addColumn('limits', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addUniqueConstraint('users_org_email_unique', ['org_id', 'email'])
    .execute();

  await schema
    .createTable('api_keys')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('org_id', 'text', (c) => c.notNull())
    .addColumn('team_id', 'text')
    .addColumn('user_id', 'text')
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('scope', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('prefix', 'text', (c) => c.notNull())
    .addColumn('hash', 'text', (c) => c.notNull())
    .addColumn('policy', 'text')
    .addColumn('limits', 'text')
    .addColumn('default_strategy', 'text')
    .addColumn('expires_at', 'bigint')
    .addColumn('revoked_at', 'bigint')
    .addColumn('last_used_at', 'bigint')
    .addColumn('rotated_from_id', 'text')
    .addColumn('overlap_until', 'bigint')
    .addColumn('declared', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addUniqueConstraint('api_keys_hash_unique', ['hash'])
    .execute();
  await schema.createIndex('api_keys_org').on('api_keys').column('org_id').execute();
  await schema.createIndex('api_keys_team').on('api_keys').column('team_id').execute();
  await schema.createIndex('api_keys_user').on('api_keys').column('user_id').execute();

  await schema
    .createTable('budgets')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('org_id', 'text', (c) => c.notNull())
    .addColumn('scope', 'text', (c) => c.notNull())
    .addColumn('scope_id', 'text', (c) => c.notNull())
    .addColumn('max_usd', 'double precision', (c) => c.notNull())
    .addColumn('period', 'text', (c) => c.notNull())
    .addColumn('hard', 'integer', (c) => c.notNull())
    .addColumn('alert_thresholds', 'text', (c) => c.notNull().defaultTo('[]'))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
  await schema.createIndex('budgets_scope').on('budgets').columns(['scope', 'scope_id']).execute();
  await schema.createIndex('budgets_org').on('budgets').column('org_id').execute();

  await schema
    .createTable('budget_spend')
    .addColumn('budget_id', 'text', (c) => c.notNull())
    .addColumn('period_start', 'bigint', (c) => c.notNull())
    .addColumn('spent_usd', 'double precision', (c) => c.notNull().defaultTo(0))
    .addColumn('alerted_threshold', 'double precision', (c) => c.notNull().defaultTo(0))
    .addPrimaryKeyConstraint('budget_spend_pk', ['budget_id', 'period_start'])
    .execute();

  await schema
    .createTable('audit_log')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('ts', 'bigint', (c) => c.notNull())
    .addColumn('org_id', 'text')
    .addColumn('actor', 'text', (c) => c.notNull())
    .addColumn('action', 'text', (c) => c.notNull())
    .addColumn('target_type', 'text', (c) => c.notNull())
    .addColumn('target_id', 'text', (c) => c.notNull())
    .addColumn('before', 'text')
    .addColumn('after', 'text')
    .execute();
  await schema.createIndex('audit_log_org_ts').on('audit_log').columns(['org_id', 'ts']).execute();
  await schema.createIndex('audit_log_target').on('audit_log').columns(['target_type', 'target_id']).execute();
  // Queries without an org (the master key's view) still page by time.
  await schema.createIndex('audit_log_ts').on('audit_log').column('ts').execute();
}
