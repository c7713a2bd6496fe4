// The `cluster:` section: how a replica behaves in multi-replica mode (`storage.postgres` and
// `storage.redis` both set). Every field has a default, so the section is optional.
import { z } from 'zod';

export const clusterSchema = z.strictObject({
  /**
   * While Redis is unreachable: `fail_closed` refuses requests under hard budgets, rate limits and
   * concurrency limits (503 counters_unavailable); `local` enforces them per replica and warns.
   */
  redis_failure: z.enum(['fail_closed', 'local']).default('fail_closed'),
  /**
   * A Redis command without a reply after this long counts as Redis being unreachable (the failure
   * mode applies), in ms. Raise it on CPU-starved hosts, where event-loop stalls look like timeouts.
   */
  redis_timeout_ms: z.int().positive().default(1000),
  /** Prefix of every Redis key and of the pub/sub channel; replicas of one deployment share it. */
  redis_prefix: z
    .string()
    .min(1)
    .regex(/^[A-Za-z0-9_:{}.-]+$/, 'may only contain letters, digits and _ : { } . -')
    .default('switchyard:{default}:'),
  /** PostgreSQL schema for the governance and usage tables (default: the connection's search_path). */
  postgres_schema: z
    .string()
    .regex(/^[a-z_][a-z0-9_]{0,62}$/, 'must be a lowercase identifier')
    .optional(),
  /** Local directory for the usage spool of THIS replica (one per replica; keep it across restarts). */
  spool_dir: z.string().min(1).default('./.switchyard/spool'),
  /** Largest spool file, in MiB; past it usage records are dropped and logged. */
  spool_max_mb: z.number().positive().default(512),
  /** How long a usage record waits in memory before it is written to PostgreSQL, in ms. */
  usage_flush_ms: z.int().positive().default(200),
  /** How long SIGTERM waits for in-flight requests and streams before closing their connections, in ms. */
  drain_timeout_ms: z.int().positive().default(30_000),
});

export type ClusterConfig = z.output<typeof clusterSchema>;
