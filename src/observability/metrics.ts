// Prometheus metrics (prom-client) fed from the request records: one `observe(record)` per request
// after the response, with label children cached per (model, provider, …) so the hot path costs a map
// lookup and a few additions. Circuit states, budget utilisation and usage-queue accounting are read
// only when Prometheus scrapes.
import client from 'prom-client';
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

interface RequestChildren {
  requests: client.Counter.Internal;
  duration: client.Histogram.Internal<string>;
  promptTokens: client.Counter.Internal;
  completionTokens: client.Counter.Internal;
  cachedTokens: client.Counter.Internal;
  cost: client.Counter.Internal;
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
  private readonly children = new Map<string, RequestChildren>();
  private readonly ttftChildren = new Map<string, client.Histogram.Internal<string>>();

  constructor(sources: MetricsSources = {}) {
    const registers = [this.registry];
    this.requests = new client.Counter({ name: 'switchyard_requests_total', help: 'Requests served, by model group, provider and HTTP status', labelNames: ['model', 'provider', 'status'], registers });
    this.duration = new client.Histogram({ name: 'switchyard_request_duration_seconds', help: 'Total request latency', labelNames: ['model', 'provider'], buckets: LATENCY_BUCKETS, registers });
    this.ttft = new client.Histogram({ name: 'switchyard_time_to_first_token_seconds', help: 'Time to the first token (streams) or to the response headers', labelNames: ['model', 'provider'], buckets: TTFT_BUCKETS, registers });
    this.tokens = new client.Counter({ name: 'switchyard_tokens_total', help: 'Tokens processed, by type (prompt, completion, cached)', labelNames: ['model', 'provider', 'type'], registers });
    this.cost = new client.Counter({ name: 'switchyard_cost_usd_total', help: 'Cost of requests in USD (catalog prices)', labelNames: ['model', 'provider'], registers });
    this.upstreamErrors = new client.Counter({ name: 'switchyard_upstream_errors_total', help: 'Failed requests by error class', labelNames: ['provider', 'error_class'], registers });
    this.fallbacks = new client.Counter({ name: 'switchyard_fallbacks_total', help: 'Requests that needed more than one attempt, by reason', labelNames: ['reason'], registers });

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
    const key = `${model}\u0000${provider}\u0000${r.status}`;
    let c = this.children.get(key);
    if (!c) {
      const labels = { model, provider };
      c = {
        requests: this.requests.labels({ ...labels, status: String(r.status) }),
        duration: this.duration.labels(labels),
        promptTokens: this.tokens.labels({ ...labels, type: 'prompt' }),
        completionTokens: this.tokens.labels({ ...labels, type: 'completion' }),
        cachedTokens: this.tokens.labels({ ...labels, type: 'cached' }),
        cost: this.cost.labels(labels),
      };
      if (this.children.size < 10_000) this.children.set(key, c);
    }
    c.requests.inc();
    c.duration.observe(r.latencyMs / 1000);
    if (r.promptTokens > 0) c.promptTokens.inc(r.promptTokens);
    if (r.completionTokens > 0) c.completionTokens.inc(r.completionTokens);
    if (r.cachedTokens > 0) c.cachedTokens.inc(r.cachedTokens);
    if (r.costUsd > 0) c.cost.inc(r.costUsd);
    if (r.ttftMs !== undefined) {
      const tkey = `${model}\u0000${provider}`;
      let t = this.ttftChildren.get(tkey);
      if (!t) {
        t = this.ttft.labels({ model, provider });
        if (this.ttftChildren.size < 10_000) this.ttftChildren.set(tkey, t);
      }
      t.observe(r.ttftMs / 1000);
    }
    if (r.errorClass !== undefined) this.upstreamErrors.inc({ provider, error_class: r.errorClass });
    if (r.fallbackReason !== undefined && r.attempts > 1) this.fallbacks.inc({ reason: r.fallbackReason });
  }

  contentType(): string {
    return this.registry.contentType;
  }

  metrics(): Promise<string> {
    return this.registry.metrics();
  }
}
