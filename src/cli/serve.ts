// Runs the gateway: config → store → gateway → signals (SIGHUP reloads, SIGTERM drains and exits).
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Logger } from 'pino';
import { ConfigError, describeEnvProviders, loadConfig, mergeEnvProviders, parseConfig, type SwitchyardConfig } from '../config/index.ts';
import { registryWarnings } from '../routing/registry.ts';
import { lazyAdmin } from '../admin/lazy.ts';
import { loadOnce } from '../core/load-once.ts';
import { reconcileDeclared } from '../governance/reconcile.ts';
import { GovernanceRuntime } from '../governance/runtime.ts';
import { GovernanceService } from '../governance/service.ts';
import { Gateway, type AdminHandler } from '../server/gateway.ts';
import { openPostgresGovernanceStore, openSqliteGovernanceStore } from '../store/governance/open.ts';
import { Cluster } from '../cluster/cluster.ts';
import { openPostgresUsage } from '../cluster/usage.ts';
import { GatewayError } from '../core/errors.ts';
import { GovernanceConflictError } from '../store/governance/errors.ts';
import type { GovernanceStore } from '../governance/types.ts';
import { openDatabase, openReadDatabase, type SqliteDatabase } from '../store/sqlite/database.ts';
import type { UsageSink } from '../usage/record.ts';
import { SqliteUsageSink } from '../store/sqlite/usage-sink.ts';
import { openResponseStore } from '../store/responses/open.ts';
import type { DemoProviders } from './demo.ts';
import { openCacheStore } from '../cache/build.ts';
import { connectRedis } from '../store/redis/connect.ts';
import { SqliteFeedbackStore } from '../store/sqlite/feedback-store.ts';
import { PostgresFeedbackStore } from '../store/postgres/feedback-store.ts';
import { usageRecordArchive } from '../routing/feedback.ts';
import type { UsageSource } from '../replay/records.ts';
import { postgresAnalytics, sqliteAnalytics, type PostgresAnalytics } from '../analytics/open.ts';
import { Observability } from '../observability/index.ts';
import { createLogger } from '../observability/logger.ts';
import { applyHeapGrowth } from '../server/heap-growth.ts';

export interface ServeOptions {
  config?: string;
  port?: number;
  host?: string;
  /** `npm start`: simulated providers when none are configured, and a generated master key. */
  quickstart?: boolean;
}

function readConfig(path: string | undefined): SwitchyardConfig {
  const base = path ? loadConfig(path) : parseConfig('{}');
  return mergeEnvProviders(base);
}

/** A generated master key is kept beside the database so it survives restarts; printed only once. */
function quickstartMasterKey(sqlitePath: string): { key: string; generated: boolean; file: string } {
  const file = join(dirname(sqlitePath), 'master-key');
  if (existsSync(file)) return { key: readFileSync(file, 'utf8').trim(), generated: false, file };
  const key = `sk-sy-master-${randomBytes(24).toString('base64url')}`;
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${key}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  return { key, generated: true, file };
}

function banner(lines: string[]): void {
  process.stdout.write(`${lines.join('\n')}\n`);
}

/** Teams and keys declared in the config file, reconciled into the store. */
async function reconcile(service: GovernanceService, config: SwitchyardConfig, logger: Logger): Promise<void> {
  if (config.teams.length === 0 && config.keys.length === 0) return;
  const result = await reconcileDeclared(service, { teams: config.teams, keys: config.keys }, 'config');
  for (const warning of result.warnings) logger.warn(warning);
  logger.info({ created: result.created.length, updated: result.updated.length, revoked: result.revoked.length }, 'declared teams and keys reconciled');
}

/**
 * Replicas starting together reconcile the same declarations: one that loses a race (the row exists
 * now) refreshes its directory from the store and tries again, finding nothing left to do.
 */
async function reconcileShared(service: GovernanceService, config: SwitchyardConfig, logger: Logger, cluster: Cluster): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await reconcile(service, config, logger);
    } catch (err) {
      const conflict = err instanceof GovernanceConflictError || (err instanceof GatewayError && err.status === 409);
      if (!conflict || attempt >= 3) throw err;
      await new Promise((resolve) => setTimeout(resolve, 100 * attempt));
      await cluster.refreshDirectory();
    }
  }
}

export async function serve(options: ServeOptions): Promise<void> {
  const logger = createLogger();
  let config: SwitchyardConfig;
  try {
    config = readConfig(options.config);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const server = { ...config.server };
  if (options.port !== undefined) server.port = options.port;
  if (options.host !== undefined) server.host = options.host;
  const notes: string[] = [];

  if (!server.master_key && process.env.SWITCHYARD_MASTER_KEY) server.master_key = process.env.SWITCHYARD_MASTER_KEY;
  if (!server.master_key) {
    if (!options.quickstart) {
      process.stderr.write('server.master_key is not set: set it in the config or export SWITCHYARD_MASTER_KEY\n');
      process.exit(2);
    }
    const master = quickstartMasterKey(config.storage.sqlite);
    server.master_key = master.key;
    notes.push(
      master.generated
        ? `Generated master key (shown once, kept in ${master.file}):\n    ${master.key}`
        : `Master key: read from ${master.file} (set SWITCHYARD_MASTER_KEY to choose your own)`,
    );
  }

  let demo: DemoProviders | undefined;
  if (options.quickstart && config.providers.length === 0) {
    const { startDemoProviders } = await import('./demo.ts');
    demo = await startDemoProviders();
    config = { ...config, providers: demo.providers, models: [...demo.models, ...config.models] };
    const hints = describeEnvProviders().map((h) => `    ${h.enabledBy.padEnd(44)} → ${h.type}`);
    notes.push(
      'No provider credentials found: serving SIMULATED providers (OpenAI, Anthropic, Gemini, Bedrock wire formats).',
      `  Models: ${demo.models.map((m) => m.name).join(', ')}`,
      '  To use real providers, export one of these and restart (or write a config file, see docs/configuration.md):',
      ...hints,
    );
  }
  config = { ...config, server };

  const { postgres, redis } = config.storage;
  if (redis && !postgres) {
    process.stderr.write('storage.redis needs storage.postgres as well: replicas that share limits must share keys and usage (see docs/deployment.md)\n');
    process.exit(2);
  }
  let cluster: Cluster | undefined;
  let db: SqliteDatabase | undefined;
  /** Where analytics and replay read (SQLite): a second connection with a large page cache. */
  let reader: SqliteDatabase | undefined;
  let usageSink: UsageSink;
  let governanceStore: GovernanceStore;
  if (postgres && redis) {
    // Multi-replica mode: see docs/deployment.md.
    cluster = await Cluster.open({ postgres, redis, config: config.cluster, logger });
    usageSink = cluster.usage;
    governanceStore = cluster.store;
  } else if (postgres) {
    // One replica on PostgreSQL: shared store, in-process limits.
    const schema = config.cluster.postgres_schema;
    usageSink = await openPostgresUsage(postgres, config.cluster, logger);
    governanceStore = openPostgresGovernanceStore(postgres, schema !== undefined ? { schema } : {});
  } else {
    db = openDatabase(config.storage.sqlite);
    reader = openReadDatabase(config.storage.sqlite, db);
    const usageConfig = config.usage;
    const sqliteSink = new SqliteUsageSink(db, {
      flushIntervalMs: usageConfig.flush_interval_ms,
      rollupIntervalMs: usageConfig.rollup_interval_ms,
      maxBatch: usageConfig.batch_size,
      maxQueue: usageConfig.queue_max,
      retentionDays: usageConfig.retention_days,
      minuteRollupRetentionDays: usageConfig.minute_rollup_retention_days,
      rollupRetentionDays: usageConfig.rollup_retention_days,
      onError: (err) => logger.warn({ err: err.message }, 'usage write failed'),
    });
    void sqliteSink.maintain().catch((err: unknown) => logger.warn({ err: String(err) }, 'usage retention failed'));
    usageSink = sqliteSink;
    governanceStore = openSqliteGovernanceStore(db);
  }
  let gatewayRef: Gateway | undefined;
  const observability = new Observability(config.observability, {
    health: () => gatewayRef?.health,
    governance: () => gatewayRef?.governance,
    onTraceError: (err) => logger.warn({ err: err.message }, 'trace export failed; spans dropped'),
  });
  usageSink = observability.wrap(usageSink);
  // Analytics and replay read recorded traffic where this process writes it.
  const schema = config.cluster.postgres_schema;
  const pgAnalytics: PostgresAnalytics | undefined = db ? undefined : postgresAnalytics(postgres as string, schema);
  const analytics = reader ? sqliteAnalytics(reader) : (pgAnalytics as PostgresAnalytics).analytics;
  const governance = await GovernanceRuntime.open({
    store: governanceStore,
    config: config.governance,
    masterKey: server.master_key,
    logger,
    ...(cluster && { counters: cluster.countersFor }),
  });
  const service = new GovernanceService({ store: governance.store, directory: governance.directory, counters: governance.counters });
  await service.ensureDefaultOrg({ timezone: config.governance.timezone });
  const responses = await openResponseStore({ sqlite: db, postgres: config.storage.postgres, env: process.env, logger });
  const redisUrl = config.storage.redis;
  const cacheStore = openCacheStore(config, { db, redis: redisUrl ? () => connectRedis(redisUrl, { connectionName: 'switchyard-cache' }) : undefined });
  // One replay runner outlives reloads of the admin API (its runs are kept); both load on first use.
  let replaySource: UsageSource | undefined;
  const replayRunner = loadOnce(async () => {
    const { ReplayRunner } = await import('../replay/runner.ts');
    replaySource = reader
      ? (await import('../replay/sqlite-source.ts')).SqliteUsageSource.over(reader)
      : (await import('../replay/postgres-source.ts')).PostgresUsageSource.over((pgAnalytics as PostgresAnalytics).pool);
    return new ReplayRunner({ config: () => gateway.config, source: replaySource });
  });
  const feedbackStore = db ? new SqliteFeedbackStore(db) : new PostgresFeedbackStore((pgAnalytics as PostgresAnalytics).pool, schema);
  const adminApi = (): AdminHandler =>
    lazyAdmin(async () => {
      const { AdminApi } = await import('../admin/api.ts');
      return new AdminApi(service, governance.resolver, { replay: await replayRunner(), analytics, routing: gateway });
    });
  const gateway: Gateway = new Gateway({
    config,
    usageSink,
    logger,
    governance,
    responses,
    cacheStore,
    feedbackStore,
    feedbackArchive: usageRecordArchive(analytics.store, usageSink, feedbackStore),
    ...(cluster && { onHealthChange: cluster.onHealthChange }),
    metrics: observability,
    readiness: async () => (db ? { usage_store: db.open } : { usage_store: true }),
  });
  gatewayRef = gateway;
  gateway.admin = adminApi();
  for (const warning of registryWarnings(gateway.registry)) logger.warn(warning);

  /** Re-reads the config file and swaps it in; in-flight requests finish on the old snapshot. */
  const reloadConfig = async (): Promise<void> => {
    if (!options.config) return;
    const next = readConfig(options.config);
    const merged = { ...next, server: { ...next.server, port: server.port, host: server.host, master_key: next.server.master_key ?? server.master_key } };
    gateway.reload(merged);
    applyHeapGrowth(merged.server.heap_growth_percent);
    gateway.admin = adminApi();
    await (cluster ? reconcileShared(service, merged, logger, cluster) : reconcile(service, merged, logger));
    logger.info({ config: options.config }, 'configuration reloaded');
  };
  if (cluster) {
    await cluster.attach({ directory: governance.directory, health: gateway.health, reloadConfig, reseed: () => governance.reseed() });
    await reconcileShared(service, config, logger, cluster);
  } else {
    await reconcile(service, config, logger);
  }

  applyHeapGrowth(server.heap_growth_percent);
  const { url } = await gateway.listen(server.port, server.host);
  const store = cluster
    ? `PostgreSQL + Redis (multi-replica; replica ${cluster.replicaId}, Redis failure mode ${config.cluster.redis_failure})`
    : config.storage.postgres
      ? 'PostgreSQL (single replica: limits are held in this process)'
      : config.storage.sqlite;
  banner([
    `Switchyard gateway listening on ${url}`,
    `  OpenAI-compatible:    ${url}/v1   (chat/completions, responses, embeddings, models)`,
    `  Anthropic-compatible: ${url}      (/v1/messages)`,
    `  Dashboard:            ${url}/ui/  (sign in with an admin key)   Metrics: ${url}/metrics`,
    `  Store: ${store}`,
    ...notes,
  ]);

  process.on('SIGHUP', async () => {
    try {
      await reloadConfig();
      // Every other replica re-reads its own copy of the config (same ConfigMap).
      cluster?.broadcastReload();
    } catch (err) {
      logger.error({ err: err instanceof Error ? err.message : String(err) }, 'reload failed; keeping the previous configuration');
    }
  });
  let stopping = false;
  const stop = async (signal: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'draining in-flight requests');
    try {
      // Stops accepting, finishes in-flight requests and streams, flushes usage and spend.
      await gateway.close(config.cluster.drain_timeout_ms);
      await cluster?.close();
      await replaySource?.close();
      await pgAnalytics?.close();
      for (const sim of demo?.simulators ?? []) await sim.close();
      if (reader !== db) reader?.close();
      db?.close();
    } catch (err) {
      logger.error({ err: err instanceof Error ? err.message : String(err) }, 'shutdown did not complete cleanly');
      process.exit(1);
    }
    logger.info({ signal }, 'stopped');
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}
