// Pre-aggregation of request records into minute, hour and day rollup rows, shared by the SQLite and
// PostgreSQL analytics stores so both hold identical rollups. Each row is keyed by the dimensions the
// analytics API filters and groups on, and carries additive measures plus latency and TTFT histograms
// (one integer column per bucket, so SQL `sum()` merges them).
import type { UsageRecord } from '../usage/record.ts';

export const GRANULARITIES = ['minute', 'hour', 'day'] as const;
export type Granularity = (typeof GRANULARITIES)[number];
export const GRANULARITY_MS: Readonly<Record<Granularity, number>> = { minute: 60_000, hour: 3_600_000, day: 86_400_000 };

/**
 * Histogram buckets (inclusive upper bounds, ms) for latency and TTFT; the last slot counts everything
 * slower. Never change a released list: stored rows would be misread (add new columns instead).
 */
export const HIST_BOUNDS_MS: readonly number[] = [
  10, 25, 50, 100, 200, 300, 500, 750, 1_000, 1_500, 2_000, 3_000, 5_000, 7_500, 10_000, 15_000, 20_000, 30_000, 60_000,
  120_000, 300_000,
];
export const HIST_SLOTS = HIST_BOUNDS_MS.length + 1;

/** The histogram slot of a duration in ms. */
export function histSlot(ms: number): number {
  let lo = 0;
  let hi = HIST_BOUNDS_MS.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (ms <= HIST_BOUNDS_MS[mid]) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/**
 * The q-quantile estimated from histogram counts, interpolating linearly inside the bucket holding the
 * rank (as Prometheus' histogram_quantile does); the open last bucket ends at `maxMs` when known.
 */
export function histQuantile(hist: readonly number[], q: number, maxMs?: number): number | undefined {
  let total = 0;
  for (const n of hist) total += n;
  if (total <= 0) return undefined;
  const rank = Math.min(1, Math.max(0, q)) * total;
  let cumulative = 0;
  for (let i = 0; i < hist.length; i++) {
    const count = hist[i];
    if (count <= 0) continue;
    if (cumulative + count >= rank) {
      const lower = i === 0 ? 0 : HIST_BOUNDS_MS[i - 1];
      const upper = i < HIST_BOUNDS_MS.length ? HIST_BOUNDS_MS[i] : Math.max(lower, maxMs ?? lower);
      const estimate = lower + (upper - lower) * ((rank - cumulative) / count);
      return maxMs !== undefined && maxMs > 0 ? Math.min(estimate, maxMs) : estimate;
    }
    cumulative += count;
  }
  return maxMs;
}
export const LATENCY_HIST_COLUMNS: readonly string[] = Array.from({ length: HIST_SLOTS }, (_, i) => `lh${i}`);
export const TTFT_HIST_COLUMNS: readonly string[] = Array.from({ length: HIST_SLOTS }, (_, i) => `th${i}`);

/** Every dimension a query may filter or group on. Absent values are ''. */
export const DIMENSIONS = ['org_id', 'team_id', 'user_id', 'key_id', 'model', 'provider', 'status', 'strategy', 'tier'] as const;
export type Dimension = (typeof DIMENSIONS)[number];

/**
 * Rollup families ("cubes"), each keyed by a subset of the dimensions, smallest first. One cube with
 * every dimension would hold about as many rows as there are requests (each key × model × status ×
 * tier is nearly unique per minute); these subsets keep each query's scan to a few thousand rows.
 * A query reads the first cube that has every dimension it filters or groups on.
 */
export const CUBES = {
  totals: ['org_id', 'team_id'],
  models: ['org_id', 'team_id', 'model', 'provider'],
  callers: ['org_id', 'team_id', 'user_id', 'key_id'],
  traffic: ['org_id', 'team_id', 'model', 'provider', 'status', 'strategy', 'tier'],
  caller_models: ['org_id', 'team_id', 'user_id', 'key_id', 'model'],
} as const satisfies Record<string, readonly Dimension[]>;
export type CubeName = keyof typeof CUBES;
export const CUBE_NAMES = Object.keys(CUBES) as CubeName[];

/**
 * Granularities kept per cube. Per-key and per-user rows have no minute level: at a few requests per
 * key and minute it would hold a row per request, doubling the write cost for little use.
 */
export const CUBE_GRANULARITIES: Readonly<Record<CubeName, readonly Granularity[]>> = {
  totals: ['minute', 'hour', 'day'],
  models: ['minute', 'hour', 'day'],
  callers: ['hour', 'day'],
  traffic: ['minute', 'hour', 'day'],
  caller_models: ['hour', 'day'],
};

const DIMENSION_INDEX: Readonly<Record<Dimension, number>> = Object.fromEntries(DIMENSIONS.map((d, i) => [d, i])) as Record<Dimension, number>;
const CUBE_DIM_INDEXES: Readonly<Record<CubeName, readonly number[]>> = Object.fromEntries(
  CUBE_NAMES.map((c) => [c, CUBES[c].map((d) => DIMENSION_INDEX[d])]),
) as Record<CubeName, number[]>;

/** The smallest cube holding every dimension in `needed` at every given granularity, or undefined. */
export function cubeFor(needed: Iterable<Dimension>, granularities: readonly Granularity[] = []): CubeName | undefined {
  const wanted = [...needed];
  return CUBE_NAMES.find(
    (cube) => wanted.every((d) => (CUBES[cube] as readonly Dimension[]).includes(d)) && granularities.every((g) => CUBE_GRANULARITIES[cube].includes(g)),
  );
}

export function rollupTable(cube: CubeName, granularity: Granularity): string {
  return `analytics_${cube}_${granularity}`;
}

/** Every rollup table, for migrations and retention. */
export const ROLLUP_TABLES: ReadonlyArray<{ cube: CubeName; granularity: Granularity; table: string }> = CUBE_NAMES.flatMap((cube) =>
  CUBE_GRANULARITIES[cube].map((granularity) => ({ cube, granularity, table: rollupTable(cube, granularity) })),
);

export const SUM_COLUMNS = [
  'requests',
  'errors',
  'prompt_tokens',
  'completion_tokens',
  'cached_tokens',
  'cost_usd',
  'baseline_cost_usd',
  'latency_ms_sum',
  'ttft_ms_sum',
  'ttft_count',
  'cache_hits',
  ...LATENCY_HIST_COLUMNS,
  ...TTFT_HIST_COLUMNS,
] as const;

export interface RollupRow {
  bucket: number;
  /** Values of the cube's dimensions, in `CUBES[cube]` order. */
  dims: string[];
  /** Additive measures in `SUM_COLUMNS` order. */
  sums: Float64Array;
  latencyMsMax: number;
}

const I_REQUESTS = 0;
const I_ERRORS = 1;
const I_PROMPT = 2;
const I_COMPLETION = 3;
const I_CACHED = 4;
const I_COST = 5;
const I_BASELINE = 6;
const I_LAT_SUM = 7;
const I_TTFT_SUM = 8;
const I_TTFT_COUNT = 9;
const I_CACHE_HITS = 10;
const I_LH = 11;
const I_TH = I_LH + HIST_SLOTS;
const WIDTH = I_TH + HIST_SLOTS;

export const isErrorRecord = (r: UsageRecord): boolean => r.status >= 400 || r.errorClass !== undefined;

export function recordDims(r: UsageRecord): string[] {
  return [
    r.orgId ?? '',
    r.teamId ?? '',
    r.userId ?? '',
    r.keyId ?? '',
    r.modelGroup ?? r.requestedModel ?? '',
    r.provider ?? '',
    String(r.status),
    r.strategy ?? '',
    r.autoTier ?? '',
  ];
}

export type RollupDeltas = Record<CubeName, Record<Granularity, RollupRow[]>>;

const CUBE_KEEPS: readonly boolean[][] = CUBE_NAMES.map((cube) => GRANULARITIES.map((g) => CUBE_GRANULARITIES[cube].includes(g)));
const CUBE_INDEXES: ReadonlyArray<readonly number[]> = CUBE_NAMES.map((cube) => CUBE_DIM_INDEXES[cube]);
const WIDTHS: readonly number[] = GRANULARITIES.map((g) => GRANULARITY_MS[g]);

/**
 * Rollup rows accumulated over any number of records: `add` as records come, `deltas` when writing.
 * A writer that keeps one open across batches upserts each row once per flush, not once per batch.
 */
export class RollupAccumulator {
  // bucket → dimension key → row: one string hash per record and cube, numeric lookups per granularity.
  private maps = CUBE_NAMES.map(() => GRANULARITIES.map(() => new Map<number, Map<string, RollupRow>>()));
  private rowCount = 0;
  private recordCount = 0;

  /** Rows held (a bound on the memory of a long accumulation). */
  get rows(): number {
    return this.rowCount;
  }

  /** Records added since the last `clear`. */
  get records(): number {
    return this.recordCount;
  }

  add(records: Iterable<UsageRecord>): this {
    const maps = this.maps;
    for (const r of records) {
      this.recordCount++;
      const all = recordDims(r);
      const error = isErrorRecord(r);
      const latSlot = histSlot(r.latencyMs);
      const ttftSlot = r.ttftMs !== undefined ? histSlot(r.ttftMs) : -1;
      const baseline = r.baselineCostUsd ?? r.costUsd;
      for (let c = 0; c < CUBE_INDEXES.length; c++) {
        const indexes = CUBE_INDEXES[c];
        let dimKey = '';
        for (let i = 0; i < indexes.length; i++) dimKey += `\u0000${all[indexes[i]]}`;
        for (let g = 0; g < WIDTHS.length; g++) {
          if (!CUBE_KEEPS[c][g]) continue;
          const bucket = Math.floor(r.ts / WIDTHS[g]) * WIDTHS[g];
          let rows = maps[c][g].get(bucket);
          if (!rows) maps[c][g].set(bucket, (rows = new Map()));
          let row = rows.get(dimKey);
          if (!row) {
            row = { bucket, dims: indexes.map((i) => all[i]), sums: new Float64Array(WIDTH), latencyMsMax: 0 };
            rows.set(dimKey, row);
            this.rowCount++;
          }
          const s = row.sums;
          s[I_REQUESTS] += 1;
          if (error) s[I_ERRORS] += 1;
          s[I_PROMPT] += r.promptTokens;
          s[I_COMPLETION] += r.completionTokens;
          s[I_CACHED] += r.cachedTokens;
          s[I_COST] += r.costUsd;
          s[I_BASELINE] += baseline;
          s[I_LAT_SUM] += r.latencyMs;
          if (r.latencyMs > row.latencyMsMax) row.latencyMsMax = r.latencyMs;
          if (ttftSlot >= 0) {
            s[I_TTFT_SUM] += r.ttftMs as number;
            s[I_TTFT_COUNT] += 1;
            s[I_TH + ttftSlot] += 1;
          }
          if (r.cacheHit) s[I_CACHE_HITS] += 1;
          s[I_LH + latSlot] += 1;
        }
      }
    }
    return this;
  }

  /**
   * Rows per cube and granularity, sorted by key (every writer upserts in one order, so concurrent
   * replicas do not deadlock on rollup rows).
   */
  deltas(): RollupDeltas {
    const sorted = (m: Map<number, Map<string, RollupRow>>): RollupRow[] => {
      const out: RollupRow[] = [];
      for (const bucket of [...m.keys()].sort((a, b) => a - b)) {
        const rows = m.get(bucket) as Map<string, RollupRow>;
        for (const key of [...rows.keys()].sort()) {
          out.push(rows.get(key) as RollupRow);
        }
      }
      return out;
    };
    const out = {} as RollupDeltas;
    CUBE_NAMES.forEach((cube, c) => {
      out[cube] = { minute: sorted(this.maps[c][0]), hour: sorted(this.maps[c][1]), day: sorted(this.maps[c][2]) };
    });
    return out;
  }

  clear(): void {
    this.maps = CUBE_NAMES.map(() => GRANULARITIES.map(() => new Map<number, Map<string, RollupRow>>()));
    this.rowCount = 0;
    this.recordCount = 0;
  }
}

/** The rollup rows of `records`, per cube and granularity, sorted by key. */
export function aggregate(records: Iterable<UsageRecord>): RollupDeltas {
  return new RollupAccumulator().add(records).deltas();
}

/** Index of a measure in `RollupRow.sums`. */
export const SUM_INDEX = {
  requests: I_REQUESTS,
  errors: I_ERRORS,
  promptTokens: I_PROMPT,
  completionTokens: I_COMPLETION,
  cachedTokens: I_CACHED,
  costUsd: I_COST,
  baselineCostUsd: I_BASELINE,
  latencyMsSum: I_LAT_SUM,
  ttftMsSum: I_TTFT_SUM,
  ttftCount: I_TTFT_COUNT,
  cacheHits: I_CACHE_HITS,
  latencyHist: I_LH,
  ttftHist: I_TH,
} as const;
