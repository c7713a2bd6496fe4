// The `usage:` section of the configuration: how request records are queued, kept and enriched
// (savings baseline, optional body logging per team).
import { z } from 'zod';

const teamUsageSchema = z.strictObject({
  /** Model whose price this team's savings are measured against (overrides `usage.baseline_model`). */
  baseline_model: z.string().min(1).optional(),
  /** Store request (and non-streamed response) bodies of this team's requests, redacted and capped. */
  log_bodies: z.boolean().optional(),
});

export const usageSchema = z.strictObject({
  /** Raw request records older than this are deleted (rollups are kept longer). */
  retention_days: z.number().positive().default(30),
  /** Per-minute rollups older than this are deleted; hourly and daily ones follow `rollup_retention_days`. */
  minute_rollup_retention_days: z.number().positive().default(7),
  rollup_retention_days: z.number().positive().default(400),
  /** Records waiting in memory at most; beyond it new records are dropped and counted (never blocking). */
  queue_max: z.int().positive().default(100_000),
  /** Longest time a record waits in memory before it is written. */
  flush_interval_ms: z.int().positive().default(250),
  batch_size: z.int().positive().default(1000),
  /** SQLite: longest time written records wait before their rollup deltas are written (analytics lag at most this). */
  rollup_interval_ms: z.int().positive().default(2000),
  /** Savings baseline for every team: default = the most expensive model the request could have used. */
  baseline_model: z.string().min(1).optional(),
  /** Body logging: off unless a team turns it on (or `all_teams`). */
  body_logging: z
    .strictObject({
      all_teams: z.boolean().default(false),
      max_bytes: z.int().positive().max(1_048_576).default(16_384),
    })
    .prefault({}),
  /** Per-team settings keyed by team id or team name. */
  teams: z.record(z.string().min(1), teamUsageSchema).default(() => ({})),
});

export type UsageConfig = z.output<typeof usageSchema>;
