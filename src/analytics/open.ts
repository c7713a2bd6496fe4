// The analytics service over whichever store keeps the usage records: the embedded SQLite database, or
// PostgreSQL (its own small pool, reading the tables the PostgreSQL usage sink writes).
import type pg from 'pg';
import { PostgresAnalyticsStore } from '../store/postgres/analytics-store.ts';
import { openUsagePool } from '../store/postgres/usage-schema.ts';
import { SqliteAnalyticsStore } from '../store/sqlite/analytics-store.ts';
import type { SqliteDatabase } from '../store/sqlite/database.ts';
import { AnalyticsService } from './service.ts';

export function sqliteAnalytics(db: SqliteDatabase): AnalyticsService {
  return new AnalyticsService(new SqliteAnalyticsStore(db));
}

export interface PostgresAnalytics {
  analytics: AnalyticsService;
  pool: pg.Pool;
  close(): Promise<void>;
}

/** Reads with 2 connections; `schema` must be the usage sink's schema. */
export function postgresAnalytics(url: string, schema?: string): PostgresAnalytics {
  const pool = openUsagePool(url, { ...(schema !== undefined && { schema }), poolSize: 2 });
  return { analytics: new AnalyticsService(new PostgresAnalyticsStore(pool)), pool, close: () => pool.end() };
}
