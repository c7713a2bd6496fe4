// One replay request, as the CLI and the admin API make it: a time window, a policy and an optional
// org; reads the window from the usage store and answers the report.
import type { SwitchyardConfig } from '../config/schema.ts';
import { GatewayError } from '../core/errors.ts';
import { replayTraffic, type ReplayResult } from './engine.ts';
import { parsePolicy, type ReplayPolicy } from './policy.ts';
import { DEFAULT_MAX_RECORDS, type ReplayRecord, type UsageSource } from './records.ts';
import type { SideSummary } from './tally.ts';

export interface ReplayRequest {
  /** Epoch ms, ISO time, or a duration back from now (`7d`, `24h`, `30m`). */
  from: string | number;
  /** Same forms; default now. */
  to?: string | number;
  /** YAML text or an object: `routing:` and optionally `models:`. */
  policy: unknown;
  orgId?: string;
  maxRecords?: number;
}

export interface ReplayReport {
  object: 'replay.report';
  window: { from: string; to: string };
  org_id: string | null;
  policy: { strategy: string; auto: { quality_target: number; strategy: string; models: string[] | null }; models: string[] | null };
  records: { read: number; replayed: number; truncated: boolean; skipped: Record<string, number> };
  recorded: SideSummary;
  estimated: SideSummary;
  change: {
    cost_usd: number;
    /** Relative change of the cost; null when nothing was spent in the window. */
    cost_ratio: number | null;
    latency_p50_ms: number;
    latency_p95_ms: number;
    quality: number | null;
    rerouted: number;
    rerouted_share: number;
    /** Rerouted requests whose latency is the router's prior (their deployment and model served nothing in the window). */
    latency_from_priors: number;
  };
  auto_pool: Array<{ model: string; quality: number; tier: string }>;
}

const DURATION = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)$/;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** Parses a time bound: epoch ms, an ISO date/time, or a duration before `now` (`7d`). */
export function parseTime(value: string | number, now: number, param: string): number {
  if (typeof value === 'number') {
    if (Number.isFinite(value)) return value;
  } else {
    const text = value.trim();
    const duration = DURATION.exec(text);
    if (duration) return now - Number(duration[1]) * UNIT_MS[duration[2]];
    if (/^\d+$/.test(text)) return Number(text);
    const parsed = Date.parse(text);
    if (!Number.isNaN(parsed)) return parsed;
  }
  throw new GatewayError('bad_request', `${param}: expected an ISO time (2026-11-20T00:00:00Z), epoch milliseconds or a duration back from now (7d, 24h, 30m); got ${JSON.stringify(value)}`, {
    param,
    code: 'invalid_value',
  });
}

export interface ReplayRunnerOptions {
  /** The running configuration (read at each call, so reloads are followed). */
  config: () => SwitchyardConfig;
  source: UsageSource;
  now?: () => number;
}

export class ReplayRunner {
  constructor(private readonly options: ReplayRunnerOptions) {}

  async run(request: ReplayRequest): Promise<ReplayReport> {
    const now = (this.options.now ?? Date.now)();
    const from = parseTime(request.from, now, 'from');
    const to = request.to === undefined ? now : parseTime(request.to, now, 'to');
    if (to <= from) throw new GatewayError('bad_request', 'to must be later than from', { param: 'to', code: 'invalid_value' });
    const policy = parsePolicy(request.policy);
    const limit = request.maxRecords ?? DEFAULT_MAX_RECORDS;
    const records: ReplayRecord[] = [];
    for await (const page of this.options.source.read({ from, to, orgId: request.orgId, limit: limit + 1 })) records.push(...page);
    const truncated = records.length > limit;
    if (truncated) records.length = limit;
    const result = await replayTraffic({ config: this.options.config(), policy, records });
    return report(result, { from, to, orgId: request.orgId, policy, read: records.length, truncated });
  }
}

function report(
  result: ReplayResult,
  meta: { from: number; to: number; orgId: string | undefined; policy: ReplayPolicy; read: number; truncated: boolean },
): ReplayReport {
  const { recorded, policy } = result;
  const routing = meta.policy.routing;
  return {
    object: 'replay.report',
    window: { from: new Date(meta.from).toISOString(), to: new Date(meta.to).toISOString() },
    org_id: meta.orgId ?? null,
    policy: {
      strategy: routing.strategy,
      auto: { quality_target: routing.auto.quality_target, strategy: routing.auto.strategy, models: routing.auto.models ?? null },
      models: meta.policy.models?.map((m) => m.name) ?? null,
    },
    records: { read: meta.read, replayed: result.replayed, truncated: meta.truncated, skipped: result.skipped },
    recorded,
    estimated: policy,
    change: {
      cost_usd: round(policy.cost_usd - recorded.cost_usd, 10),
      cost_ratio: recorded.cost_usd > 0 ? round(policy.cost_usd / recorded.cost_usd, 6) : null,
      latency_p50_ms: round(policy.latency_ms.p50 - recorded.latency_ms.p50, 1),
      latency_p95_ms: round(policy.latency_ms.p95 - recorded.latency_ms.p95, 1),
      quality: policy.quality.mean === null || recorded.quality.mean === null ? null : round(policy.quality.mean - recorded.quality.mean, 4),
      rerouted: result.rerouted,
      rerouted_share: result.replayed > 0 ? round(result.rerouted / result.replayed, 4) : 0,
      latency_from_priors: result.latencyFromPriors,
    },
    auto_pool: result.autoPool,
  };
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
