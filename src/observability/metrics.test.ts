import { describe, expect, it } from 'vitest';
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
