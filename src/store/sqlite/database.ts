// The embedded store: one SQLite file in WAL mode with versioned migrations.
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { sqliteAnalyticsMigrations, sqliteRollupWatermarkMigration } from './analytics-schema.ts';

export type SqliteDatabase = Database.Database;

interface Migration {
  version: number;
  sql: string;
}

const MIGRATIONS: Migration[] = [
  {
    version: 1,
    sql: `
      CREATE TABLE usage_records (
        request_id TEXT PRIMARY KEY,
        ts INTEGER NOT NULL,
        dialect TEXT NOT NULL,
        operation TEXT NOT NULL,
        requested_model TEXT NOT NULL,
        model_group TEXT,
        deployment TEXT,
        provider TEXT,
        provider_model TEXT,
        status INTEGER NOT NULL,
        error_class TEXT,
        stream INTEGER NOT NULL,
        prompt_tokens INTEGER NOT NULL,
        completion_tokens INTEGER NOT NULL,
        cached_tokens INTEGER NOT NULL,
        cost_usd REAL NOT NULL,
        usage_estimated INTEGER NOT NULL,
        latency_ms REAL NOT NULL,
        ttft_ms REAL,
        attempts INTEGER NOT NULL,
        fallback_reason TEXT,
        client_abandoned INTEGER NOT NULL
      );
      CREATE INDEX usage_records_ts ON usage_records (ts);
    `,
  },
  {
    version: 2,
    sql: `
      ALTER TABLE usage_records ADD COLUMN strategy TEXT;
      ALTER TABLE usage_records ADD COLUMN candidates TEXT;
      ALTER TABLE usage_records ADD COLUMN route_reason TEXT;
    `,
  },
  {
    version: 3,
    sql: `
      ALTER TABLE usage_records ADD COLUMN org_id TEXT;
      ALTER TABLE usage_records ADD COLUMN team_id TEXT;
      ALTER TABLE usage_records ADD COLUMN user_id TEXT;
      ALTER TABLE usage_records ADD COLUMN key_id TEXT;
      CREATE INDEX usage_records_key ON usage_records (key_id, ts);
    `,
  },
  {
    version: 4,
    sql: `
      ALTER TABLE usage_records ADD COLUMN complexity REAL;
      ALTER TABLE usage_records ADD COLUMN auto_tier TEXT;
    `,
  },
  // 5–6: analytics (baseline cost, bodies, keyset index, rollups); see analytics-schema.ts.
  ...sqliteAnalyticsMigrations(),
  {
    version: 10,
    sql: `
      CREATE TABLE response_cache (
        key TEXT PRIMARY KEY,
        tenant TEXT NOT NULL,
        scope TEXT NOT NULL,
        value TEXT NOT NULL,
        vector BLOB,
        stored_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL,
        last_used INTEGER NOT NULL
      );
      CREATE INDEX response_cache_last_used ON response_cache (last_used);
    `,
  },
  // usage_records.cache_hit comes with the analytics migrations (5).
  {
    // Responses API turns kept for previous_response_id (src/store/responses/sqlite.ts).
    version: 15,
    sql: `
      CREATE TABLE stored_responses (
        id TEXT PRIMARY KEY,
        owner TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL,
        body TEXT NOT NULL
      );
      CREATE INDEX stored_responses_expires ON stored_responses (expires_at);
    `,
  },
  {
    // Auto-routing feedback aggregates (src/routing/feedback.ts), so they survive restarts.
    version: 20,
    sql: `
      CREATE TABLE feedback_aggregates (
        scope TEXT NOT NULL,
        cluster TEXT NOT NULL,
        model TEXT NOT NULL,
        n INTEGER NOT NULL,
        success INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        PRIMARY KEY (scope, cluster, model)
      );
    `,
  },
  {
    // Feedback finds a request in its usage record once the in-memory book has forgotten it.
    version: 21,
    sql: `
      ALTER TABLE usage_records ADD COLUMN task_cluster TEXT;
      ALTER TABLE usage_records ADD COLUMN served_group TEXT;
    `,
  },
  {
    // The latest feedback score of each request, so a second rating replaces the first.
    version: 22,
    sql: `ALTER TABLE usage_records ADD COLUMN feedback_score REAL;`,
  },
  // 23: rollup watermarks; see analytics-schema.ts.
  sqliteRollupWatermarkMigration(),
];

export function openDatabase(path: string): SqliteDatabase {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('busy_timeout = 5000');
  // A 2 MB page cache (SQLite's own default; better-sqlite3 builds with 16 MB): batched inserts touch
  // only the right edges of the indexes and of the minute rollups, and the 14 MB saved is resident
  // memory. Writing 160k records cost the same CPU either way; scans read through openReadDatabase.
  db.pragma('cache_size = -2000');
  migrate(db);
  return db;
}

/**
 * The connection analytics and replay read through. Their scans read tens of thousands of rollup
 * rows, so it keeps hot pages in memory (32 MiB cache, memory-mapped reads) instead of a read syscall
 * per page. It is not the writer's: under load the writer's cache would fill with inserted pages
 * only scans need (~30 MB of RSS). WAL lets it read while the writer writes. A `:memory:` database
 * exists in one connection only, so there it is the writer.
 */
export function openReadDatabase(path: string, writer: SqliteDatabase): SqliteDatabase {
  if (path === ':memory:') return writer;
  const db = new Database(path, { fileMustExist: true });
  db.pragma('busy_timeout = 5000');
  db.pragma('query_only = ON');
  db.pragma('cache_size = -32768');
  db.pragma('mmap_size = 268435456');
  return db;
}

function migrate(db: SqliteDatabase): void {
  db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)');
  const applied = new Set((db.prepare('SELECT version FROM schema_migrations').all() as Array<{ version: number }>).map((r) => r.version));
  for (const migration of MIGRATIONS) {
    if (applied.has(migration.version)) continue;
    db.transaction(() => {
      db.exec(migration.sql);
      db.prepare('INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)').run(migration.version, Date.now());
    })();
  }
}
