// Governance as the gateway runs it: the store, the in-memory directory and principal resolver, the
// counters behind budgets and rate limits, alert delivery, and the batched writes (settled spend,
// key last-used times) that keep the request path free of database I/O.
import type { Logger } from 'pino';
import type { GovernanceConfig } from '../config/governance-schema.ts';
import { BudgetEngine, type AlertLedger } from './budget-engine.ts';
import { InMemoryCounters, type Counters, type SpendEntry, type SpendSink } from './counters.ts';
import { DEFAULT_ORG_ID, GovernanceDirectory } from './directory.ts';
import { periodWindow } from './periods.ts';
import { PrincipalResolver } from './principal.ts';
import { RateLimiter } from './rate-limits.ts';
import { GovernanceConflictError } from '../store/governance/errors.ts';
import type { GovernanceStore } from './types.ts';
import { WebhookDispatcher } from './webhooks.ts';

export interface GovernanceRuntimeOptions {
  store: GovernanceStore;
  config: GovernanceConfig;
  masterKey: string | undefined;
  /**
   * Shared counters (Redis) for many replicas; in-process by default. A function receives the sink
   * that queues settled spend for the store.
   */
  counters?: Counters | ((onSettle: SpendSink) => Counters);
  logger?: Logger;
  /** How often settled spend and key last-used times are written (ms). */
  flushIntervalMs?: number;
}

export class GovernanceRuntime {
  readonly counters: Counters;
  readonly budgets: BudgetEngine;
  readonly limiter: RateLimiter;
  resolver: PrincipalResolver;
  private webhooks: WebhookDispatcher | undefined;
  private pendingSpend: SpendEntry[] = [];
  private readonly lastUsed = new Map<string, number>();
  private readonly timer: NodeJS.Timeout;
  private flushing: Promise<void> | undefined;
  config: GovernanceConfig;

  private constructor(
    readonly store: GovernanceStore,
    readonly directory: GovernanceDirectory,
    private readonly options: GovernanceRuntimeOptions,
  ) {
    this.config = options.config;
    const onSettle: SpendSink = (entries) => this.pendingSpend.push(...entries);
    this.counters = typeof options.counters === 'function' ? options.counters(onSettle) : (options.counters ?? new InMemoryCounters({ onSettle }));
    this.limiter = new RateLimiter(this.counters);
    this.budgets = new BudgetEngine({
      counters: this.counters,
      ledger: this.ledger(),
      onAlert: (alert) => this.webhooks?.enqueueAlert(alert),
      onError: (err) => options.logger?.warn({ err: String(err) }, 'budget alerting failed'),
    });
    this.resolver = new PrincipalResolver(directory, options.masterKey);
    this.webhooks = this.buildWebhooks(options.config);
    this.timer = setInterval(() => void this.flush(), options.flushIntervalMs ?? 1000);
    this.timer.unref();
  }

  static async open(options: GovernanceRuntimeOptions): Promise<GovernanceRuntime> {
    await options.store.migrate();
    if ((await options.store.listOrgs()).length === 0) {
      try {
        await options.store.createOrg({ id: DEFAULT_ORG_ID, name: 'default', timezone: options.config.timezone, createdAt: Date.now() });
      } catch (err) {
        // Another replica starting at the same time created it first.
        if (!(err instanceof GovernanceConflictError)) throw err;
      }
    }
    const directory = await GovernanceDirectory.load(options.store);
    const runtime = new GovernanceRuntime(options.store, directory, options);
    await runtime.seedSpend(Date.now());
    return runtime;
  }

  /** A new master key, time zone or alert endpoint after a config reload. */
  reconfigure(config: GovernanceConfig, masterKey: string | undefined): void {
    this.config = config;
    this.resolver = new PrincipalResolver(this.directory, masterKey);
    void this.webhooks?.close();
    this.webhooks = this.buildWebhooks(config);
  }

  /** Remembers a key's use; written with the next batch. */
  touchKey(keyId: string, now: number): void {
    this.lastUsed.set(keyId, now);
    const key = this.directory.keys.get(keyId);
    if (key) key.lastUsedAt = now;
  }

  /** Writes queued spend and last-used times; safe to call concurrently. */
  async flush(): Promise<void> {
    if (this.flushing) return this.flushing;
    this.flushing = this.writeBatch().finally(() => {
      this.flushing = undefined;
    });
    return this.flushing;
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
    await this.webhooks?.close();
    await this.store.close();
  }

  private async writeBatch(): Promise<void> {
    const spend = this.pendingSpend;
    this.pendingSpend = [];
    const touched = new Map(this.lastUsed);
    this.lastUsed.clear();
    try {
      if (spend.length > 0) await this.store.addSpend(spend);
      if (touched.size > 0) await this.store.touchKeys(touched);
    } catch (err) {
      // Keep what was not written for the next attempt; the counters already hold the live values.
      this.pendingSpend.unshift(...spend);
      for (const [id, at] of touched) if (!this.lastUsed.has(id)) this.lastUsed.set(id, at);
      this.options.logger?.warn({ err: String(err) }, 'governance batch write failed; will retry');
    }
  }

  /** Seeds the counters again from the store (shared counters after a Redis reconnect; set-if-absent). */
  reseed(now = Date.now()): Promise<void> {
    return this.seedSpend(now);
  }

  /** Loads every budget's current-period spend into the counters. */
  private async seedSpend(now: number): Promise<void> {
    for (const budget of this.directory.budgets.values()) {
      const timezone = this.directory.orgs.get(budget.orgId)?.timezone ?? this.config.timezone;
      const start = periodWindow(budget.period, timezone, now).start;
      const spend = await this.store.getSpend(budget.id, start);
      if (spend && spend.spentUsd > 0) await this.counters.seed(budget.id, start, spend.spentUsd);
    }
  }

  private ledger(): AlertLedger {
    return {
      alreadyAlerted: async (budgetId, periodStart, threshold) => ((await this.store.getSpend(budgetId, periodStart))?.alertedThreshold ?? 0) >= threshold,
      markAlerted: (budgetId, periodStart, threshold) => this.store.markAlerted(budgetId, periodStart, threshold),
    };
  }

  private buildWebhooks(config: GovernanceConfig): WebhookDispatcher | undefined {
    const { webhook_url: url, webhook_secret: secret } = config.alerts;
    if (!url || !secret) return undefined;
    return new WebhookDispatcher({
      endpoints: [{ url, secret }],
      onResult: (result) => {
        if (!result.delivered) this.options.logger?.warn({ url: result.url, attempts: result.attempts, status: result.status }, 'budget alert not delivered');
      },
    });
  }
}
