// Aggregates of one side of a replay (what was recorded, or what the policy would have done).
import { quantile } from './history.ts';

export interface TalliedRequest {
  /** `provider/model`. */
  model: string;
  costUsd: number;
  latencyMs: number;
  /** Catalog quality (0…1) of the model; null when unknown. */
  quality: number | null;
  /** `model: "auto"` traffic: the quality tier required, and the classifier score. */
  tier?: string;
  score?: number;
  auto: boolean;
  unpriced?: boolean;
}

export interface ModelShare {
  model: string;
  requests: number;
  share: number;
  cost_usd: number;
}

export interface SideSummary {
  requests: number;
  cost_usd: number;
  cost_per_1k_requests_usd: number;
  /** Requests on a deployment with no known price (counted at 0). */
  unpriced_requests: number;
  latency_ms: { mean: number; p50: number; p95: number };
  /** Mean catalog quality over the requests whose model has one; `known_share` says how many do. */
  quality: { mean: number | null; known_share: number };
  auto: {
    requests: number;
    tiers: Record<string, number>;
    /**
     * Share of the quality gain the classifier expects from a stronger model that the chosen models
     * capture: Σ r·max(0, 2s−1) / Σ max(0, 2s−1), r = the chosen model's place between the auto pool's
     * weakest (0) and strongest (1) model, s = the recorded classifier score. Null without auto traffic.
     */
    expected_gain_captured: number | null;
  };
  models: ModelShare[];
}

const round = (x: number, digits: number): number => {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
};

export class Tally {
  private requests = 0;
  private cost = 0;
  private unpriced = 0;
  private readonly latencies: number[] = [];
  private qualitySum = 0;
  private qualityKnown = 0;
  private autoRequests = 0;
  private readonly tiers: Record<string, number> = {};
  private gainCaptured = 0;
  private gainTotal = 0;
  private readonly models = new Map<string, { requests: number; cost: number }>();

  constructor(private readonly pool: { min: number; max: number }) {}

  add(r: TalliedRequest): void {
    this.requests++;
    this.cost += r.costUsd;
    if (r.unpriced) this.unpriced++;
    this.latencies.push(r.latencyMs);
    if (r.quality !== null) {
      this.qualitySum += r.quality;
      this.qualityKnown++;
    }
    const m = this.models.get(r.model) ?? { requests: 0, cost: 0 };
    m.requests++;
    m.cost += r.costUsd;
    this.models.set(r.model, m);
    if (!r.auto) return;
    this.autoRequests++;
    if (r.tier !== undefined) this.tiers[r.tier] = (this.tiers[r.tier] ?? 0) + 1;
    if (r.score !== undefined && r.quality !== null) {
      const gain = Math.max(0, 2 * r.score - 1);
      const span = this.pool.max - this.pool.min;
      const place = span > 0 ? Math.min(1, Math.max(0, (r.quality - this.pool.min) / span)) : 1;
      this.gainCaptured += place * gain;
      this.gainTotal += gain;
    }
  }

  summary(): SideSummary {
    const n = this.requests;
    const mean = n > 0 ? this.latencies.reduce((a, b) => a + b, 0) / n : 0;
    const models = [...this.models.entries()]
      .map(([model, m]) => ({ model, requests: m.requests, share: n > 0 ? round(m.requests / n, 4) : 0, cost_usd: round(m.cost, 10) }))
      .sort((a, b) => b.requests - a.requests || (a.model < b.model ? -1 : 1));
    return {
      requests: n,
      cost_usd: round(this.cost, 10),
      cost_per_1k_requests_usd: n > 0 ? round((this.cost / n) * 1000, 6) : 0,
      unpriced_requests: this.unpriced,
      latency_ms: { mean: round(mean, 1), p50: round(quantile(this.latencies, 0.5), 1), p95: round(quantile(this.latencies, 0.95), 1) },
      quality: { mean: this.qualityKnown > 0 ? round(this.qualitySum / this.qualityKnown, 4) : null, known_share: n > 0 ? round(this.qualityKnown / n, 4) : 0 },
      auto: {
        requests: this.autoRequests,
        tiers: this.tiers,
        expected_gain_captured: this.gainTotal > 0 ? round(this.gainCaptured / this.gainTotal, 4) : null,
      },
      models,
    };
  }
}
