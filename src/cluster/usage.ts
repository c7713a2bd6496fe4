// Usage records on PostgreSQL as `serve` runs them: the batching sink with this replica's spool, behind
// the write-ahead journal (both in `cluster.spool_dir`).
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { ClusterConfig } from '../config/cluster-schema.ts';
import { JournaledUsageSink } from '../store/postgres/journaled-sink.ts';
import { PostgresUsageSink } from '../store/postgres/usage-sink.ts';

export type Warn = (err: unknown, msg: string) => void;

/** Logs the first failure of a kind, then at most one per `everyMs`, so an outage does not flood the log. */
export function throttledWarn(logger: Logger, everyMs = 10_000): Warn {
  const last = new Map<string, number>();
  return (err, msg) => {
    const now = Date.now();
    if (now - (last.get(msg) ?? 0) < everyMs) return;
    last.set(msg, now);
    logger.warn({ err: err instanceof Error ? err.message : String(err) }, msg);
  };
}

export function openPostgresUsage(url: string, config: ClusterConfig, logger: Logger, warn: Warn = throttledWarn(logger)): Promise<JournaledUsageSink> {
  const schema = config.postgres_schema;
  const store = new PostgresUsageSink({
    url,
    ...(schema !== undefined && { schema }),
    spoolPath: join(config.spool_dir, 'usage-spool.jsonl'),
    flushIntervalMs: config.usage_flush_ms,
    maxSpoolBytes: Math.floor(config.spool_max_mb * 1024 * 1024),
    onDrop: (event) => logger.error({ reason: event.reason, count: event.count, err: event.error?.message }, 'usage records lost'),
    onError: (err, context) => warn(err, `usage store: ${context} failed (records are spooled and replayed)`),
  });
  return JournaledUsageSink.open(store, config.spool_dir, {
    onError: (err) => warn(err, 'usage journal write failed'),
    onRecovered: (count) => logger.info({ count }, 'usage records of a previous run recovered from the journal'),
  });
}
