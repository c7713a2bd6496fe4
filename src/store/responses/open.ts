// The response store `switchyard serve` uses: PostgreSQL when `storage.postgres` is set (shared by
// replicas), else the embedded SQLite database; retention from SWITCHYARD_RESPONSES_TTL_DAYS.
import type { Logger } from 'pino';
import type { SqliteDatabase } from '../sqlite/database.ts';
import { PostgresResponseBackend } from './postgres.ts';
import { SqliteResponseBackend } from './sqlite.ts';
import { DEFAULT_RESPONSE_TTL_MS, ResponseStore } from './store.ts';

export interface OpenResponseStoreOptions {
  /** Required unless `postgres` is given. */
  sqlite?: SqliteDatabase;
  postgres?: string;
  env: NodeJS.ProcessEnv;
  logger?: Logger;
}

const DAY_MS = 86_400_000;

/** Days as a positive number (fractions allowed), or the 30-day default. */
export function responsesTtlMs(env: NodeJS.ProcessEnv): number {
  const raw = env.SWITCHYARD_RESPONSES_TTL_DAYS;
  if (raw === undefined || raw === '') return DEFAULT_RESPONSE_TTL_MS;
  const days = Number(raw);
  if (!Number.isFinite(days) || days <= 0) throw new Error(`SWITCHYARD_RESPONSES_TTL_DAYS must be a positive number of days, not "${raw}"`);
  return days * DAY_MS;
}

export async function openResponseStore(options: OpenResponseStoreOptions): Promise<ResponseStore> {
  const ttlMs = responsesTtlMs(options.env);
  let backend: PostgresResponseBackend | SqliteResponseBackend;
  if (options.postgres) {
    const postgres = new PostgresResponseBackend({ url: options.postgres });
    await postgres.migrate();
    backend = postgres;
  } else if (options.sqlite) {
    backend = new SqliteResponseBackend(options.sqlite);
  } else {
    throw new Error('the response store needs a SQLite database or a PostgreSQL URL');
  }
  return new ResponseStore(backend, {
    ttlMs,
    onError: (err, where) => options.logger?.warn({ err: err.message, where }, 'response store operation failed'),
  });
}
