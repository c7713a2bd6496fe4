// Retention and partition maintenance for the PostgreSQL usage store: raw records expire by dropping
// whole daily partitions (DETACH + DROP, no row-by-row DELETE, no vacuum debt); the analytics rollups
// (analytics_<cube>_<granularity>) expire per granularity with a DELETE on their leading `bucket` key
// (day rollups are kept forever by default).
import type pg from 'pg';
import { pgModule } from './pg-module.ts';
import { ROLLUP_TABLES, type Granularity } from '../../analytics/rollup.ts';
import {
  createDailyPartitions,
  DAY_MS,
  listPartitionDays,
  PARTITION_LOCK,
  partitionName,
  USAGE_TABLE,
  utcDay,
  withTransaction,
} from './usage-schema.ts';

export interface UsageRetentionPolicy {
  /** Whole UTC days of raw records kept before today (older daily partitions are dropped). Unset: kept forever. */
  rawDays?: number;
  /** Days of minute rollups kept (default 14). `null`: forever. */
  minuteRollupDays?: number | null;
  /** Days of hour rollups kept (default 400). `null`: forever. */
  hourRollupDays?: number | null;
  /** Days of day rollups kept (default `null`: forever). */
  dayRollupDays?: number | null;
  /** Daily partitions created ahead of today (default 3). */
  partitionsAhead?: number;
}

export const DEFAULT_RETENTION = {
  minuteRollupDays: 14,
  hourRollupDays: 400,
  dayRollupDays: null,
  partitionsAhead: 3,
} as const;

const toMs = (t: number | Date): number => (typeof t === 'number' ? t : t.getTime());

/**
 * Creates the daily partitions for `days` consecutive UTC days starting with the day of `from` (those
 * that are missing) and returns the names created.
 */
export async function ensurePartitions(pool: pg.Pool, from: number | Date, days: number): Promise<string[]> {
  const first = utcDay(toMs(from));
  return createDailyPartitions(
    pool,
    Array.from({ length: Math.max(0, Math.floor(days)) }, (_, i) => first + i),
  );
}

/**
 * Drops every daily partition of `usage_records` whose whole day is older than `days` UTC days before
 * today (so `days = 30` keeps today and the 30 days before it). Each partition is detached and dropped
 * in its own short transaction under the partition advisory lock. Partitions not named by this store
 * (`usage_records_pYYYYMMDD`) are left alone. Returns the names dropped, oldest first.
 */
export async function dropPartitionsOlderThan(pool: pg.Pool, days: number, now: number = Date.now()): Promise<string[]> {
  if (!Number.isFinite(days) || days < 0) throw new Error(`retention days must be a non-negative number, got ${days}`);
  const cutoff = utcDay(now) - Math.floor(days);
  const victims = (await listPartitionDays(pool)).filter((day) => day < cutoff);
  const dropped: string[] = [];
  for (const day of victims) {
    const name = pgModule().escapeIdentifier(partitionName(day));
    const wasDropped = await withTransaction(pool, async (client) => {
      await client.query(`SET LOCAL lock_timeout = '10s'`);
      await client.query('SELECT pg_advisory_xact_lock($1)', [PARTITION_LOCK]);
      // Another replica may have dropped it meanwhile.
      const { rows } = await client.query<{ attached: boolean }>(
        `SELECT EXISTS (SELECT 1 FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
           WHERE i.inhparent = '${USAGE_TABLE}'::regclass AND c.relname = $1) AS attached`,
        [partitionName(day)],
      );
      if (!rows[0]?.attached) return false;
      await client.query(`ALTER TABLE ${USAGE_TABLE} DETACH PARTITION ${name}`);
      await client.query(`DROP TABLE ${name}`);
      return true;
    });
    if (wasDropped) dropped.push(partitionName(day));
  }
  return dropped;
}

export interface RollupRetention {
  minuteDays?: number | null;
  hourDays?: number | null;
  dayDays?: number | null;
}

/**
 * Deletes analytics rollup rows whose bucket starts before `days` UTC days before today, per
 * granularity (`null` keeps that granularity forever). Returns the rows deleted per granularity,
 * summed over the cubes kept at that granularity.
 */
export async function pruneRollups(
  pool: pg.Pool,
  retention: RollupRetention = {},
  now: number = Date.now(),
): Promise<Record<Granularity, number>> {
  const days: Record<Granularity, number | null> = {
    minute: retention.minuteDays === undefined ? DEFAULT_RETENTION.minuteRollupDays : retention.minuteDays,
    hour: retention.hourDays === undefined ? DEFAULT_RETENTION.hourRollupDays : retention.hourDays,
    day: retention.dayDays === undefined ? DEFAULT_RETENTION.dayRollupDays : retention.dayDays,
  };
  const deleted: Record<Granularity, number> = { minute: 0, hour: 0, day: 0 };
  for (const granularity of ['minute', 'hour', 'day'] as const) {
    const keep = days[granularity];
    if (keep === null) continue;
    if (!Number.isFinite(keep) || keep < 0) throw new Error(`rollup retention must be a non-negative number or null, got ${keep}`);
    const cutoff = (utcDay(now) - Math.floor(keep)) * DAY_MS;
    // Buckets are epoch ms.
    for (const { table } of ROLLUP_TABLES.filter((t) => t.granularity === granularity)) {
      const result = await pool.query(`DELETE FROM ${table} WHERE bucket < $1`, [cutoff]);
      deleted[granularity] += result.rowCount ?? 0;
    }
  }
  return deleted;
}

export interface UsageMaintenanceReport {
  created: string[];
  dropped: string[];
  rollupRowsDeleted: Record<Granularity, number>;
}

/**
 * One maintenance pass: partitions from yesterday to `partitionsAhead` days ahead, then raw and rollup
 * retention as configured. Safe to run from every replica (DDL is serialised by an advisory lock and
 * is a no-op when another replica already did it).
 */
export async function runUsageMaintenance(
  pool: pg.Pool,
  policy: UsageRetentionPolicy = {},
  now: number = Date.now(),
): Promise<UsageMaintenanceReport> {
  const ahead = policy.partitionsAhead ?? DEFAULT_RETENTION.partitionsAhead;
  const created = await ensurePartitions(pool, now - DAY_MS, ahead + 2);
  const dropped = policy.rawDays === undefined ? [] : await dropPartitionsOlderThan(pool, policy.rawDays, now);
  const rollupRowsDeleted = await pruneRollups(
    pool,
    {
      ...(policy.minuteRollupDays !== undefined && { minuteDays: policy.minuteRollupDays }),
      ...(policy.hourRollupDays !== undefined && { hourDays: policy.hourRollupDays }),
      ...(policy.dayRollupDays !== undefined && { dayDays: policy.dayRollupDays }),
    },
    now,
  );
  return { created, dropped, rollupRowsDeleted };
}
