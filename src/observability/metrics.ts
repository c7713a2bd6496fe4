// Prometheus metrics (prom-client) fed from the request records: one `observe(record)` per request
// after the response. The per-request series (requests, latency, time to first token, tokens, cost,
// upstream errors, fallbacks) are plain numeric accumulators cached per (model, provider, status) and
// handed to prom-client only when Prometheus scrapes (accumulated-metrics.ts): ~0.1 µs CPU per request
// (bench/metrics.bench.ts), against ~3 µs through prom-client's label children. Circuit states, budget
// utilisation and usage-queue accounting are also read only at scrape.
import client from 'prom-client';
import { AccumulatedCounter, AccumulatedHistogram, type CounterSeries, type HistogramSeries } from './accumulated-metrics.ts';
import type { GovernanceRuntime } from '../governance/runtime.ts';
import { periodWindow } from '../governance/periods.ts';
import type { HealthRegistry } from '../routing/health/index.ts';
import type { UsageQueueStats, UsageRecord } from '../usage/record.ts';

/** Seconds; spans fast cache hits to long reasoning streams. */
const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];
const TTFT_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30];
const CIRCUIT_VALUE: Readonly<Record<string, number>> = { closed: 0, half_open: 1, 'half-open': 1, open: 2 };

export interface MetricsSources {
  health?: () => HealthRegistry | undefined;
  governance?: () => GovernanceRuntime | undefined;
  usageStats?: () => UsageQueueStats | undefined;
  /** Spans queued/exported/dropped by the tracer, when tracing is on. */
  traceStats?: () => { queued: number; exported: number; dropped: number } | undefined;
}

/** Series cached per (model, provider, status); beyond the cap they are looked up per request. */
const SERIES_CACHE_MAX = 10_000;
/** Error classes per cached series, and fallback reasons: a handful each. */
const SMALL_CACHE_MAX = 100;

interface RequestSeries {
  requests: CounterSeries;
  duration: HistogramSeries;
  ttft: HistogramSeries;
  promptTokens: CounterSeries;
  completionTokens: CounterSeries;
  cachedTokens: CounterSeries;
  cost: CounterSeries;
  /** Upstream-error series of this provider by error class (a handful). */
  upstreamErrors: Map<string, CounterSeries>;
}

export class GatewayMetrics {
  readonly registry = new client.Registry();
  private readonly requests;
  private readonly duration;
  private readonly ttft;
  private readonly tokens;
  private readonly cost;
  private readonly upstreamErrors;
  private readonly fallbacks;
  /** model → provider → status → series, so the hot path builds no key string. */
  private readonly series = new Map<string, Map<string, Map<number, RequestSeries>>>();
  private cachedSeries = 0;
  private readonly fallbackSeries = new Map<string, CounterSeries>();

  constructor(sources: MetricsSources = {}) {
    const registers = [this.registry];
    const registry = this.registry;
    this.requests = new AccumulatedCounter({ name: 'switchyard_requests_total', help: 'Requests served, by model group, provider and HTTP status', labelNames: ['model', 'provider', 'status'], registry });
    this.duration = new AccumulatedHistogram({ name: 'switchyard_request_duration_seconds', help: 'Total request latency', labelNames: ['model', 'provider'], buckets: LATENCY_BUCKETS, registry });
    this.ttft = new AccumulatedHistogram({ name: 'switchyard_time_to_first_token_seconds', help: 'Time to the first token (streams) or to the response headers', labelNames: ['model', 'provider'], buckets: TTFT_BUCKETS, registry });
    this.tokens = new AccumulatedCounter({ name: 'switchyard_tokens_total', help: 'Tokens processed, by type (prompt, completion, cached)', labelNames: ['model', 'provider', 'type'], registry });
    this.cost = new AccumulatedCounter({ name: 'switchyard_cost_usd_total', help: 'Cost of requests in USD (catalog prices)', labelNames: ['model', 'provider'], registry });
    this.upstreamErrors = new AccumulatedCounter({ name: 'switchyard_upstream_errors_total', help: 'Failed requests by error class', labelNames: ['provider', 'error_class'], registry });
    this.fallbacks = new AccumulatedCounter({ name: 'switchyard_fallbacks_total', help: 'Requests that needed more than one attempt, by reason', labelNames: ['reason'], registry });

    const { health, governance, usageStats, traceStats } = sources;
    if (health) {
      new client.Gauge({
        name: 'switchyard_circuit_state',
        help: 'Circuit breaker state per deployment (0 closed, 1 half-open, 2 open)',
        labelNames: ['deployment'],
        registers,
        collect() {
          this.reset();
          const registry = health();
          if (!registry) return;
          for (const [id, snap] of Object.entries(registry.snapshot(Date.now()))) this.set({ deployment: id }, CIRCUIT_VALUE[snap.state] ?? 0);
        },
      });
    }
    if (governance) {
      new client.Gauge({
        name: 'switchyard_budget_utilization_ratio',
        help: 'Spend of the current period over the budget (1 = exhausted)',
        labelNames: ['budget_id', 'scope', 'scope_id'],
        registers,
        async collect() {
          this.reset();
          const runtime = governance();
          if (!runtime) return;
          const now = Date.now();
          for (const budget of runtime.directory.budgets.values()) {
            const tz = runtime.directory.orgs.get(budget.orgId)?.timezone ?? runtime.config.timezone;
            const { spentUsd } = await runtime.counters.spent(budget.id, periodWindow(budget.period, tz, now).start);
            this.set({ budget_id: budget.id, scope: budget.scope, scope_id: budget.scopeId }, budget.maxUsd > 0 ? spentUsd / budget.maxUsd : 0);
          }
        },
      });
    }
    if (usageStats) {
      new client.Gauge({
        name: 'switchyard_usage_queue_depth',
        help: 'Usage records waiting in memory to be written',
        registers,
        collect() {
          this.set(usageStats()?.queued ?? 0);
        },
      });
      new client.Counter({
        name: 'switchyard_usage_records_total',
        help: 'Usage records by outcome: accepted, written, spooled (to disk, written later) or dropped',
        labelNames: ['outcome'],
        registers,
        collect() {
          const s = usageStats();
          if (!s) return;
          this.reset();
          this.inc({ outcome: 'accepted' }, s.accepted);
          this.inc({ outcome: 'written' }, s.written);
          this.inc({ outcome: 'spooled' }, s.spooled);
          this.inc({ outcome: 'dropped' }, s.dropped);
        },
      });
    }
    if (traceStats) {
      new client.Counter({
        name: 'switchyard_trace_spans_total',
        help: 'Trace spans by outcome: exported or dropped',
        labelNames: ['outcome'],
        registers,
        collect() {
          const s = traceStats();
          if (!s) return;
          this.reset();
          this.inc({ outcome: 'exported' }, s.exported);
          this.inc({ outcome: 'dropped' }, s.dropped);
        },
      });
    }
    client.collectDefaultMetrics({ register: this.registry, prefix: 'switchyard_process_' });
  }

  /** One request, after its response: cheap enough for every request. */
  observe(r: UsageRecord): void {
    const model = r.modelGroup ?? r.requestedModel;
    const provider = r.provider ?? '';
    let s = this.series.get(model)?.get(provider)?.get(r.status);
    if (!s) {
      s = {
        requests: this.requests.series(model, provider, String(r.status)),
        duration: this.duration.series(model, provider),
        ttft: this.ttft.series(model, provider),
        promptTokens: this.tokens.series(model, provider, 'prompt'),
        completionTokens: this.tokens.series(model, provider, 'completion'),
        cachedTokens: this.tokens.series(model, provider, 'cached'),
        cost: this.cost.series(model, provider),
        upstreamErrors: new Map(),
      };
      if (this.cachedSeries < SERIES_CACHE_MAX) this.cache(model, provider, r.status, s);
    }
    s.requests.inc(1);
    s.duration.observe(r.latencyMs / 1000);
    if (r.promptTokens > 0) s.promptTokens.inc(r.promptTokens);
    if (r.completionTokens > 0) s.completionTokens.inc(r.completionTokens);
    if (r.cachedTokens > 0) s.cachedTokens.inc(r.cachedTokens);
    if (r.costUsd > 0) s.cost.inc(r.costUsd);
    if (r.ttftMs !== undefined) s.ttft.observe(r.ttftMs / 1000);
    if (r.errorClass !== undefined) (s.upstreamErrors.get(r.errorClass) ?? this.upstreamErrorSeries(s, provider, r.errorClass)).inc(1);
    if (r.fallbackReason !== undefined && r.attempts > 1) (this.fallbackSeries.get(r.fallbackReason) ?? this.newFallbackSeries(r.fallbackReason)).inc(1);
  }

  private upstreamErrorSeries(s: RequestSeries, provider: string, errorClass: string): CounterSeries {
    const e = this.upstreamErrors.series(provider, errorClass);
    if (s.upstreamErrors.size < SMALL_CACHE_MAX) s.upstreamErrors.set(errorClass, e);
    return e;
  }

  private newFallbackSeries(reason: string): CounterSeries {
    const f = this.fallbacks.series(reason);
    if (this.fallbackSeries.size < SMALL_CACHE_MAX) this.fallbackSeries.set(reason, f);
    return f;
  }

  private cache(model: string, provider: string, status: number, s: RequestSeries): void {
    let byProvider = this.series.get(model);
    if (!byProvider) this.series.set(model, (byProvider = new Map()));
    let byStatus = byProvider.get(provider);
    if (!byStatus) byProvider.set(provider, (byStatus = new Map()));
    byStatus.set(status, s);
    this.cachedSeries++;
  }

  contentType(): string {
    return this.registry.contentType;
  }

  metrics(): Promise<string> {
    return this.registry.metrics();
  }
}
