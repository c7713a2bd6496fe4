// Live signals for the router, rebuilt from the recorded window: each deployment's median time to first
// token, output speed and success rate, as the health registry would have measured them. A deployment
// with no traffic in the window borrows the numbers of the same provider model elsewhere, else the
// health registry's priors (and counts as unmeasured, as a fresh deployment does).
import { DEFAULT_HEALTH_CONFIG } from '../routing/health/config.ts';
import { SUCCESS_PRIOR } from '../routing/health/deployment-health.ts';
import type { Deployment } from '../routing/registry.ts';
import type { HealthLookup, HealthSignals } from '../routing/router.ts';
import type { ReplayRecord } from './records.ts';

export interface ObservedPerformance {
  /** Recorded requests (all outcomes). */
  requests: number;
  successes: number;
  ttftMs: number;
  ttftP90Ms: number;
  tokensPerSecond: number;
}

class Samples {
  requests = 0;
  successes = 0;
  ttft: number[] = [];
  tps: number[] = [];
  /** Non-streamed requests record no TTFT: their latency less the output at the default speed. */
  overhead: number[] = [];

  add(r: ReplayRecord): void {
    this.requests++;
    if (r.status >= 400) return;
    this.successes++;
    if (r.ttftMs === null) {
      this.overhead.push(Math.max(0, r.latencyMs - (r.completionTokens / DEFAULT_HEALTH_CONFIG.defaultTps) * 1000));
    } else if (r.ttftMs >= 0) {
      this.ttft.push(r.ttftMs);
      const generating = r.latencyMs - r.ttftMs;
      if (r.completionTokens >= DEFAULT_HEALTH_CONFIG.minTpsTokens && generating > 0) this.tps.push((r.completionTokens / generating) * 1000);
    }
  }

  summary(): ObservedPerformance | undefined {
    if (this.ttft.length === 0) {
      if (this.overhead.length === 0) return undefined;
      // Only totals: the split between waiting and generating is unknown, so the output is assumed at
      // the default speed and the rest of the observed latency counts as time to first token.
      return {
        requests: this.requests,
        successes: this.successes,
        ttftMs: quantile(this.overhead, 0.5),
        ttftP90Ms: quantile(this.overhead, 0.9),
        tokensPerSecond: DEFAULT_HEALTH_CONFIG.defaultTps,
      };
    }
    return {
      requests: this.requests,
      successes: this.successes,
      ttftMs: quantile(this.ttft, 0.5),
      ttftP90Ms: quantile(this.ttft, 0.9),
      tokensPerSecond: this.tps.length > 0 ? quantile(this.tps, 0.5) : DEFAULT_HEALTH_CONFIG.defaultTps,
    };
  }
}

/** Nearest-rank quantile; sorts in place. */
export function quantile(values: number[], q: number): number {
  if (values.length === 0) return 0;
  values.sort((a, b) => a - b);
  return values[Math.min(values.length - 1, Math.max(0, Math.ceil(q * values.length) - 1))];
}

export class RecordedHistory {
  private readonly byDeployment = new Map<string, ObservedPerformance>();
  private readonly byModel = new Map<string, ObservedPerformance>();

  constructor(records: Iterable<ReplayRecord>) {
    const deployments = new Map<string, Samples>();
    const models = new Map<string, Samples>();
    for (const r of records) {
      if (r.deployment === null) continue;
      let d = deployments.get(r.deployment);
      if (!d) deployments.set(r.deployment, (d = new Samples()));
      d.add(r);
      if (r.providerModel !== null) {
        // Keyed by the model alone: the same model behind another provider name is the best guess there is.
        let m = models.get(r.providerModel);
        if (!m) models.set(r.providerModel, (m = new Samples()));
        m.add(r);
      }
    }
    for (const [id, s] of deployments) {
      const summary = s.summary();
      if (summary) this.byDeployment.set(id, summary);
    }
    for (const [key, s] of models) {
      const summary = s.summary();
      if (summary) this.byModel.set(key, summary);
    }
  }

  /** What the window says about this deployment; `exact` when it served traffic itself. */
  performance(d: Deployment): { observed: ObservedPerformance; exact: boolean } | undefined {
    const own = this.byDeployment.get(d.id);
    if (own) return { observed: own, exact: true };
    const same = this.byModel.get(d.target.model);
    return same ? { observed: same, exact: false } : undefined;
  }

  /** Expected end-to-end latency of a completion of `outputTokens` on this deployment. */
  latencyMs(d: Deployment, outputTokens: number): number {
    const p = this.performance(d)?.observed;
    const ttft = p?.ttftMs ?? DEFAULT_HEALTH_CONFIG.defaultTtftMs;
    const tps = Math.max(p?.tokensPerSecond ?? DEFAULT_HEALTH_CONFIG.defaultTps, 1);
    return ttft + (outputTokens / tps) * 1000;
  }

  /** A HealthLookup for the router over the given deployments: never open, never rate-limited. */
  lookup(deployments: Iterable<Deployment>): HealthLookup {
    const signals = new Map<string, HealthSignals>();
    for (const d of deployments) signals.set(d.id, staticSignals(this.performance(d)));
    const prior = staticSignals(undefined);
    return { get: (id) => signals.get(id) ?? prior };
  }
}

function staticSignals(p: { observed: ObservedPerformance; exact: boolean } | undefined): HealthSignals {
  const o = p?.observed;
  const ttft = o?.ttftMs ?? DEFAULT_HEALTH_CONFIG.defaultTtftMs;
  const failures = o ? o.requests - o.successes : 0;
  const success = o ? (o.successes + SUCCESS_PRIOR) / (o.successes + failures + SUCCESS_PRIOR) : 1;
  return {
    measured: p !== undefined,
    available: () => true,
    circuitState: () => 'closed',
    ttftMs: () => ttft,
    ttftP90Ms: () => o?.ttftP90Ms ?? 1.5 * DEFAULT_HEALTH_CONFIG.defaultTtftMs,
    peakLatencyMs: () => ttft,
    tokensPerSecond: () => o?.tokensPerSecond ?? DEFAULT_HEALTH_CONFIG.defaultTps,
    successRate: () => success,
    inFlight: 0,
    cooldownUntil: 0,
    recoversAt: (now) => now,
    rpm: () => 0,
    tpm: () => 0,
  };
}
