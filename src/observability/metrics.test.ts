import client from 'prom-client';
import { describe, expect, it } from 'vitest';
import { syntheticRecords } from '../analytics/testing.ts';
import type { GovernanceRuntime } from '../governance/runtime.ts';
import type { HealthRegistry } from '../routing/health/index.ts';
import type { UsageRecord } from '../usage/record.ts';
import { GatewayMetrics } from './metrics.ts';

const base: UsageRecord = {
  requestId: 'r',
  ts: 0,
  dialect: 'openai',
  operation: 'chat',
  requestedModel: 'm',
  modelGroup: 'm',
  provider: 'p',
  status: 200,
  stream: false,
  promptTokens: 10,
  completionTokens: 5,
  cachedTokens: 2,
  costUsd: 0.5,
  usageEstimated: false,
  latencyMs: 1500,
  ttftMs: 300,
  attempts: 1,
  clientAbandoned: false,
};

describe('Prometheus metrics', () => {
  it('count requests, tokens, cost, errors and fallbacks, and read circuits, budgets and the usage queue at scrape', async () => {
    const health = { snapshot: () => ({ 'm/p/x': { state: 'open' }, 'm/q/y': { state: 'closed' } }) } as unknown as HealthRegistry;
    const governance = {
      config: { timezone: 'UTC' },
      directory: { budgets: new Map([['b1', { id: 'b1', orgId: 'o', scope: 'team', scopeId: 't1', maxUsd: 10, period: 'monthly' }]]), orgs: new Map() },
      counters: { spent: async () => ({ spentUsd: 2.5, reservedUsd: 0 }) },
    } as unknown as GovernanceRuntime;
    const metrics = new GatewayMetrics({
      health: () => health,
      governance: () => governance,
      usageStats: () => ({ accepted: 3, queued: 1, written: 2, spooled: 0, dropped: 0 }),
    });
    metrics.observe(base);
    metrics.observe(base);
    metrics.observe({ ...base, status: 502, errorClass: 'overloaded', attempts: 3, fallbackReason: 'overloaded', ttftMs: undefined });
    const text = await metrics.metrics();
    expect(text).toContain('switchyard_requests_total{model="m",provider="p",status="200"} 2');
    expect(text).toContain('switchyard_requests_total{model="m",provider="p",status="502"} 1');
    expect(text).toContain('switchyard_tokens_total{model="m",provider="p",type="cached"} 6');
    expect(text).toContain('switchyard_cost_usd_total{model="m",provider="p"} 1.5');
    expect(text).toContain('switchyard_request_duration_seconds_bucket{le="2.5",model="m",provider="p"} 3');
    expect(text).toContain('switchyard_request_duration_seconds_bucket{le="1",model="m",provider="p"} 0');
    expect(text).toContain('switchyard_time_to_first_token_seconds_count{model="m",provider="p"} 2');
    expect(text).toContain('switchyard_upstream_errors_total{provider="p",error_class="overloaded"} 1');
    expect(text).toContain('switchyard_fallbacks_total{reason="overloaded"} 1');
    expect(text).toContain('switchyard_circuit_state{deployment="m/p/x"} 2');
    expect(text).toContain('switchyard_circuit_state{deployment="m/q/y"} 0');
    expect(text).toContain('switchyard_budget_utilization_ratio{budget_id="b1",scope="team",scope_id="t1"} 0.25');
    expect(text).toContain('switchyard_usage_queue_depth 1');
    expect(text).toContain('switchyard_usage_records_total{outcome="written"} 2');
  });
});

/**
 * The request metrics as GatewayMetrics recorded them before it kept its own accumulators: prom-client's
 * Counter and Histogram, label children cached per (model, provider, status). Frozen here as the
 * reference the exposition must match byte for byte.
 */
class ReferenceMetrics {
  readonly registry = new client.Registry();
  private readonly registers = [this.registry];
  private readonly requests = new client.Counter({ name: 'switchyard_requests_total', help: 'Requests served, by model group, provider and HTTP status', labelNames: ['model', 'provider', 'status'], registers: this.registers });
  private readonly duration = new client.Histogram({ name: 'switchyard_request_duration_seconds', help: 'Total request latency', labelNames: ['model', 'provider'], buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300], registers: this.registers });
  private readonly ttft = new client.Histogram({ name: 'switchyard_time_to_first_token_seconds', help: 'Time to the first token (streams) or to the response headers', labelNames: ['model', 'provider'], buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30], registers: this.registers });
  private readonly tokens = new client.Counter({ name: 'switchyard_tokens_total', help: 'Tokens processed, by type (prompt, completion, cached)', labelNames: ['model', 'provider', 'type'], registers: this.registers });
  private readonly cost = new client.Counter({ name: 'switchyard_cost_usd_total', help: 'Cost of requests in USD (catalog prices)', labelNames: ['model', 'provider'], registers: this.registers });
  private readonly upstreamErrors = new client.Counter({ name: 'switchyard_upstream_errors_total', help: 'Failed requests by error class', labelNames: ['provider', 'error_class'], registers: this.registers });
  private readonly fallbacks = new client.Counter({ name: 'switchyard_fallbacks_total', help: 'Requests that needed more than one attempt, by reason', labelNames: ['reason'], registers: this.registers });
  private readonly children = new Map<string, { requests: client.Counter.Internal; duration: client.Histogram.Internal<string>; promptTokens: client.Counter.Internal; completionTokens: client.Counter.Internal; cachedTokens: client.Counter.Internal; cost: client.Counter.Internal }>();
  private readonly ttftChildren = new Map<string, client.Histogram.Internal<string>>();

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
}

/** Feeds both; a record that makes one throw must make the other throw too. */
function feed(records: Iterable<UsageRecord>, metrics: GatewayMetrics, reference: ReferenceMetrics): void {
  for (const r of records) {
    const threw = [metrics, reference].map((m) => {
      try {
        m.observe(r);
        return false;
      } catch {
        return true;
      }
    });
    expect(threw[0], `record ${r.requestId}`).toBe(threw[1]);
  }
}

/** The exposition without the process metrics (CPU, memory: they differ between any two scrapes). */
function requestMetricBlocks(text: string): string[] {
  expect(text.endsWith('\n')).toBe(true);
  const blocks = text.slice(0, -1).split('\n\n');
  const first = blocks.findIndex((b) => b.startsWith('# HELP switchyard_process_'));
  expect(first).toBeGreaterThan(0);
  expect(blocks.slice(first).every((b) => b.startsWith('# HELP switchyard_process_'))).toBe(true);
  return blocks.slice(0, first);
}

async function expectSameExposition(metrics: GatewayMetrics, reference: ReferenceMetrics): Promise<void> {
  const expected = await reference.registry.metrics();
  expect(requestMetricBlocks(await metrics.metrics())).toEqual(expected.slice(0, -1).split('\n\n'));
  const json = (await metrics.registry.getMetricsAsJSON()).filter((m) => !m.name.startsWith('switchyard_process_'));
  expect(json).toStrictEqual(await reference.registry.getMetricsAsJSON());
}

/** Edge cases on top of the synthetic traffic, in an order that makes first-observation order matter. */
function edgeRecords(): UsageRecord[] {
  const LATENCY_BOUNDS_MS = [5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10_000, 30_000, 60_000, 120_000, 300_000];
  const TTFT_BOUNDS_MS = [10, 25, 50, 100, 250, 500, 1000, 2000, 5000, 10_000, 30_000];
  const out: UsageRecord[] = [];
  let n = 0;
  const add = (r: Partial<UsageRecord>) => out.push({ ...base, requestId: `edge_${n++}`, ...r });
  // A series first seen with zero tokens and cost and no TTFT: its token, cost and TTFT series appear
  // in the exposition only once observed, after series first seen later.
  add({ modelGroup: 'zero', provider: 'z', promptTokens: 0, completionTokens: 0, cachedTokens: 0, costUsd: 0, ttftMs: undefined });
  add({ modelGroup: 'later', provider: 'z', cachedTokens: 0, ttftMs: 10 });
  add({ modelGroup: 'zero', provider: 'z', promptTokens: 3, completionTokens: 0, cachedTokens: 1, costUsd: 0, ttftMs: 0 });
  add({ modelGroup: 'zero', provider: 'z', costUsd: 1e-9, ttftMs: undefined });
  for (const ms of LATENCY_BOUNDS_MS) add({ modelGroup: 'bounds', latencyMs: ms, ttftMs: undefined });
  for (const ms of LATENCY_BOUNDS_MS) add({ modelGroup: 'bounds', latencyMs: ms + 0.001 });
  for (const ms of TTFT_BOUNDS_MS) add({ modelGroup: 'bounds', ttftMs: ms });
  for (const ms of TTFT_BOUNDS_MS) add({ modelGroup: 'bounds', ttftMs: ms + 0.001 });
  add({ modelGroup: 'slow', latencyMs: 300_001, ttftMs: 30_001 });
  add({ modelGroup: 'slow', latencyMs: 3_600_000, ttftMs: 600_000 });
  add({ modelGroup: 'slow', latencyMs: 0, ttftMs: 0 });
  add({ modelGroup: 'slow', latencyMs: -5, ttftMs: -1 });
  // No model group or provider; label values that need escaping.
  add({ modelGroup: undefined, requestedModel: 'requested-only', provider: undefined });
  add({ modelGroup: 'quote"back\\slash\nnewline', provider: 'p,provider:q' });
  // Errors and fallbacks, including a fallback reason with one attempt (not counted).
  add({ status: 502, errorClass: 'overloaded', attempts: 3, fallbackReason: 'overloaded' });
  add({ status: 502, errorClass: 'timeout', attempts: 2, fallbackReason: 'timeout' });
  add({ status: 400, errorClass: 'bad_request', attempts: 1, fallbackReason: 'overloaded' });
  add({ modelGroup: 'other', provider: 'q', status: 502, errorClass: 'overloaded', attempts: 2, fallbackReason: 'overloaded' });
  // Values both throw on, at the same step (after the series before them have counted).
  add({ modelGroup: 'bad', latencyMs: Number.NaN });
  add({ modelGroup: 'bad', ttftMs: Number.POSITIVE_INFINITY });
  add({ modelGroup: 'bad', costUsd: Number.POSITIVE_INFINITY });
  add({ modelGroup: 'bad', promptTokens: Number.NaN, completionTokens: -1 });
  return out;
}

describe('Prometheus exposition of the request metrics', () => {
  it('is byte for byte what prom-client Counter and Histogram produce for the same records, from the first scrape on', async () => {
    const metrics = new GatewayMetrics();
    const reference = new ReferenceMetrics();
    await expectSameExposition(metrics, reference);
    const synthetic = [...syntheticRecords(5_000, { from: Date.UTC(2026, 10, 1), spanMs: 86_400_000 })];
    feed(synthetic.slice(0, 2_500), metrics, reference);
    await expectSameExposition(metrics, reference);
    feed(edgeRecords(), metrics, reference);
    feed(synthetic.slice(2_500), metrics, reference);
    await expectSameExposition(metrics, reference);
  });

  it('after the registry is reset, series reappear in the order they are observed again', async () => {
    const metrics = new GatewayMetrics();
    const reference = new ReferenceMetrics();
    const synthetic = [...syntheticRecords(1_000, { from: Date.UTC(2026, 10, 1), spanMs: 86_400_000 })];
    feed(synthetic, metrics, reference);
    metrics.registry.resetMetrics();
    reference.registry.resetMetrics();
    await expectSameExposition(metrics, reference);
    feed([...edgeRecords(), ...synthetic.reverse()], metrics, reference);
    await expectSameExposition(metrics, reference);
  });

  it('counts series beyond the 10,000 cached ones correctly', async () => {
    const metrics = new GatewayMetrics();
    const reference = new ReferenceMetrics();
    const records: UsageRecord[] = [];
    for (let m = 0; m < 2_000; m++) {
      for (const status of [200, 429, 500, 502, 503, 504]) {
        records.push({ ...base, requestId: `r${m}_${status}`, modelGroup: `m${m}`, status, latencyMs: m, errorClass: status === 200 ? undefined : `e${m % 3}` });
      }
    }
    feed(records, metrics, reference);
    feed(records.slice().reverse(), metrics, reference);
    await expectSameExposition(metrics, reference);
  });
});
