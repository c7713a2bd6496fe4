// Runs the gateway: config → store → gateway → signals (SIGHUP reloads, SIGTERM drains and exits).
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Logger } from 'pino';
import { ConfigError, describeEnvProviders, loadConfig, mergeEnvProviders, parseConfig, type SwitchyardConfig } from '../config/index.ts';
import { registryWarnings } from '../routing/registry.ts';
import { AdminApi } from '../admin/api.ts';
import { reconcileDeclared } from '../governance/reconcile.ts';
import { GovernanceRuntime } from '../governance/runtime.ts';
import { GovernanceService } from '../governance/service.ts';
import { Gateway } from '../server/gateway.ts';
import { openPostgresGovernanceStore, openSqliteGovernanceStore } from '../store/governance/open.ts';
import { openDatabase } from '../store/sqlite/database.ts';
import { SqliteUsageSink } from '../store/sqlite/usage-sink.ts';
import { SqliteFeedbackStore } from '../store/sqlite/feedback-store.ts';
import { startDemoProviders, type DemoProviders } from './demo.ts';
import { sqliteAnalytics } from '../analytics/open.ts';
import { Observability } from '../observability/index.ts';
import { createLogger } from '../observability/logger.ts';
import { ReplayRunner } from '../replay/runner.ts';
import { SqliteUsageSource } from '../replay/sqlite-source.ts';

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

  const db = openDatabase(config.storage.sqlite);
  const usageConfig = config.usage;
  const storeSink = new SqliteUsageSink(db, {
    flushIntervalMs: usageConfig.flush_interval_ms,
    maxBatch: usageConfig.batch_size,
    maxQueue: usageConfig.queue_max,
    retentionDays: usageConfig.retention_days,
    minuteRollupRetentionDays: usageConfig.minute_rollup_retention_days,
    rollupRetentionDays: usageConfig.rollup_retention_days,
    onError: (err) => logger.warn({ err: err.message }, 'usage batch write failed; records dropped'),
  });
  void storeSink.maintain().catch((err: unknown) => logger.warn({ err: String(err) }, 'usage retention failed'));
  let gatewayRef: Gateway | undefined;
  const observability = new Observability(config.observability, {
    health: () => gatewayRef?.health,
    governance: () => gatewayRef?.governance,
    onTraceError: (err) => logger.warn({ err: err.message }, 'trace export failed; spans dropped'),
  });
  const usageSink = observability.wrap(storeSink);
  const analytics = sqliteAnalytics(db);
  const governanceStore = config.storage.postgres ? openPostgresGovernanceStore(config.storage.postgres) : openSqliteGovernanceStore(db);
  const governance = await GovernanceRuntime.open({ store: governanceStore, config: config.governance, masterKey: server.master_key, logger });
  const service = new GovernanceService({ store: governance.store, directory: governance.directory, counters: governance.counters });
  await service.ensureDefaultOrg({ timezone: config.governance.timezone });
  await reconcile(service, config, logger);
  // Usage is written to the SQLite database above, so replay reads it there.
  const replay = new ReplayRunner({ config: () => gateway.config, source: SqliteUsageSource.over(db) });
  const gateway: Gateway = new Gateway({
    config,
    usageSink,
    logger,
    governance,
    metrics: observability,
    readiness: async () => ({ usage_store: db.open }),
    feedbackStore: new SqliteFeedbackStore(db),
  });
  gatewayRef = gateway;
  gateway.admin = new AdminApi(service, governance.resolver, { analytics, replay, routing: gateway });
  for (const warning of registryWarnings(gateway.registry)) logger.warn(warning);
  const { url } = await gateway.listen(server.port, server.host);
  banner([
    `Switchyard gateway listening on ${url}`,
    `  OpenAI-compatible:    ${url}/v1   (chat/completions, embeddings, models)`,
    `  Anthropic-compatible: ${url}      (/v1/messages)`,
    `  Store: ${config.storage.sqlite}`,
    ...notes,
  ]);

  process.on('SIGHUP', async () => {
    if (!options.config) return;
    try {
      const next = readConfig(options.config);
      const merged = { ...next, server: { ...next.server, port: server.port, host: server.host, master_key: next.server.master_key ?? server.master_key } };
      gateway.reload(merged);
      gateway.admin = new AdminApi(service, governance.resolver, { analytics, replay, routing: gateway });
      await reconcile(service, merged, logger);
      logger.info({ config: options.config }, 'configuration reloaded');
    } catch (err) {
      logger.error({ err: err instanceof Error ? err.message : String(err) }, 'reload failed; keeping the previous configuration');
    }
  });
  let stopping = false;
  const stop = async (signal: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'draining in-flight requests');
    await gateway.close();
    for (const sim of demo?.simulators ?? []) await sim.close();
    db.close();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}
