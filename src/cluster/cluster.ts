// Multi-replica mode (`storage.postgres` and `storage.redis` both set): what one replica shares with
// the others. Budgets, rate and concurrency limits in Redis (atomic Lua scripts, with the configured
// failure mode); usage records batched to PostgreSQL with a local spool; and a pub/sub bus that
// carries directory changes (keys, teams, users, budgets, policies), deployment health (circuits,
// 429 cool-downs) and config reloads to every replica. Nothing else is shared.
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { ClusterConfig } from '../config/cluster-schema.ts';
import type { SpendSink } from '../governance/counters.ts';
import type { GovernanceDirectory } from '../governance/directory.ts';
import type { GovernanceStore } from '../governance/types.ts';
import type { HealthChangeListener, HealthRegistry } from '../routing/health/index.ts';
import { openPostgresGovernanceStore } from '../store/governance/open.ts';
import type { JournaledUsageSink } from '../store/postgres/journaled-sink.ts';
import { connectRedis, FailoverCounters, RedisBus, RedisCounters, RedisHealth, type BusEvent } from '../store/redis/index.ts';
import { DirectorySync } from './directory-sync.ts';
import { openPostgresUsage, throttledWarn } from './usage.ts';

export interface ClusterOptions {
  postgres: string;
  redis: string;
  config: ClusterConfig;
  logger: Logger;
  /** How long start-up waits for Redis before starting degraded (default 5 s). */
  redisWaitMs?: number;
}

/** What the cluster needs from the running replica once the gateway exists. */
export interface ClusterAttachment {
  directory: GovernanceDirectory;
  health: HealthRegistry;
  /** Re-reads this replica's config file (another replica was told to reload). */
  reloadConfig: () => Promise<void>;
  /** Seeds the shared counters from the store again (set-if-absent). */
  reseed: () => Promise<void>;
}

export class Cluster {
  readonly redis: Redis;
  readonly redisHealth: RedisHealth;
  readonly store: GovernanceStore;
  readonly usage: JournaledUsageSink;
  readonly bus: RedisBus;
  private counters: FailoverCounters | undefined;
  private shared: RedisCounters | undefined;
  private sync: DirectorySync | undefined;
  private attached: ClusterAttachment | undefined;
  private readonly warn: (err: unknown, msg: string) => void;
  private redisWasDown = false;

  private constructor(
    private readonly options: ClusterOptions,
    /** The PostgreSQL usage sink behind the write-ahead journal. */
    usage: JournaledUsageSink,
  ) {
    const { config, logger } = options;
    this.usage = usage;
    this.warn = throttledWarn(logger);
    this.redis = connectRedis(options.redis, {
      connectionName: 'switchyard',
      commandTimeoutMs: config.redis_timeout_ms,
      onStatus: (status, detail) => this.onRedisStatus(status, detail.error),
    });
    this.redisHealth = new RedisHealth(this.redis);
    const schema = config.postgres_schema;
    this.store = openPostgresGovernanceStore(options.postgres, schema !== undefined ? { schema } : {});
    this.bus = new RedisBus({
      redis: this.redis,
      channel: `${config.redis_prefix}events`,
      onResubscribe: () => void this.catchUp(),
      onError: (err) => this.warn(err, 'cluster bus message dropped'),
    });
  }

  /** Connects Redis (waiting a little for it; starting degraded if it does not answer) and PostgreSQL. */
  static async open(options: ClusterOptions): Promise<Cluster> {
    const usage = await openPostgresUsage(options.postgres, options.config, options.logger);
    const cluster = new Cluster(options, usage);
    if (!(await cluster.redisHealth.waitUntilUp(options.redisWaitMs ?? 5000))) {
      cluster.redisWasDown = true;
      options.logger.warn(
        { mode: options.config.redis_failure },
        'Redis is not reachable at start: starting degraded (see cluster.redis_failure); limits and bus resume when it answers',
      );
    }
    return cluster;
  }

  get replicaId(): string {
    return this.bus.replicaId;
  }

  /** `GovernanceRuntime`'s counters: Redis scripts behind the configured failure mode. */
  countersFor = (onSettle: SpendSink): FailoverCounters => {
    this.shared = new RedisCounters({
      redis: this.redis,
      prefix: this.options.config.redis_prefix,
      onSettle,
      onSinkError: (err) => this.warn(err, 'spend sink failed'),
      onError: (err) => this.warn(err, 'renewing concurrency leases failed'),
    });
    this.counters = new FailoverCounters({ primary: this.shared, mode: this.options.config.redis_failure, logger: this.options.logger });
    return this.counters;
  };

  /** Given to the gateway: local circuit and cool-down changes go to every other replica. */
  readonly onHealthChange: HealthChangeListener = (deploymentId, event) => {
    this.publish({ type: 'health', deploymentId, event });
  };

  /** Tells every other replica to re-read its config file. */
  broadcastReload(): void {
    this.publish({ type: 'config_reload' });
  }

  /** Starts listening to the other replicas and publishing this one's directory changes. */
  async attach(attachment: ClusterAttachment): Promise<void> {
    this.attached = attachment;
    this.sync = new DirectorySync(attachment.directory, this.store, (err) => this.warn(err, 'applying a directory change from another replica failed'));
    this.sync.publishLocalChanges(({ entity, id, op }) => this.publish({ type: 'directory', entity, id, op }));
    const subscribed = this.bus.subscribe((event) => this.onEvent(event));
    // The subscriber queues SUBSCRIBE until Redis answers; start-up does not wait for an outage to end.
    const ready = await Promise.race([subscribed.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 5000).unref())]);
    if (!ready) {
      this.options.logger.warn('cluster bus not subscribed yet (Redis unreachable); other replicas\u2019 changes apply once it is');
      subscribed.catch((err: unknown) => this.warn(err, 'cluster bus subscription failed'));
    }
    // Changes published between the directory's first load and the subscription were missed.
    await this.refreshDirectory();
  }

  /** Re-reads the whole directory from the shared store. */
  refreshDirectory(): Promise<void> {
    return this.sync?.refresh() ?? Promise.resolve();
  }

  async close(): Promise<void> {
    this.counters?.close();
    this.shared?.close();
    await this.bus.close();
    this.redisHealth.close();
    this.redis.disconnect();
  }

  private onEvent(event: BusEvent): void {
    const attached = this.attached;
    if (!attached) return;
    switch (event.type) {
      case 'directory':
        void this.sync?.apply(event);
        return;
      case 'health':
        attached.health.applyRemote(Date.now(), event.deploymentId, event.event);
        return;
      case 'config_reload':
        attached.reloadConfig().catch((err: unknown) => this.warn(err, 'config reload requested by another replica failed'));
        return;
    }
  }

  /** After a bus reconnect: messages may have been missed, so re-read the directory and the config. */
  private async catchUp(): Promise<void> {
    const attached = this.attached;
    if (!attached) return;
    this.options.logger.info('cluster bus re-subscribed: refreshing the directory and the config');
    await this.sync?.refresh();
    await attached.reloadConfig().catch((err: unknown) => this.warn(err, 'config reload after reconnect failed'));
  }

  private onRedisStatus(status: 'up' | 'down', error: Error | undefined): void {
    if (status === 'down') {
      this.redisWasDown = true;
      this.options.logger.warn({ err: error?.message }, 'Redis connection lost');
      return;
    }
    if (!this.redisWasDown) return;
    this.redisWasDown = false;
    this.options.logger.info('Redis connection restored');
    // Redis may have restarted empty: seed budget spend again (set-if-absent, so live counters win).
    void this.counters?.recover().then(() => this.attached?.reseed()).catch((err: unknown) => this.warn(err, 're-seeding the shared counters failed'));
  }

  private publish(event: BusEvent): void {
    this.bus.publish(event).catch((err: unknown) => this.warn(err, 'publishing to the cluster bus failed (Redis unreachable)'));
  }
}
