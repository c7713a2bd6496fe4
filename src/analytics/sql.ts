// SQL over the rollup tables, identical for SQLite and PostgreSQL apart from placeholders: both keep
// `bucket` as epoch ms in a 64-bit integer and the histograms as one integer column per bucket.
import { cubeFor, DIMENSIONS, GRANULARITIES, HIST_SLOTS, rollupTable, SUM_COLUMNS, SUM_INDEX, type CubeName, type Dimension } from './rollup.ts';
import type { AnalyticsFilter, RollupQuery, RollupResultRow, Segment, Totals } from './types.ts';

export type Placeholder = (index: number) => string;
export const sqlitePlaceholder: Placeholder = () => '?';
export const postgresPlaceholder: Placeholder = (i) => `$${i}`;

const DIMENSION_SET: ReadonlySet<string> = new Set(DIMENSIONS);
const STATUS_CLASS = /^([1-5])xx$/;

/** WHERE conditions for a filter; pushes their parameters. */
export function filterConditions(filter: AnalyticsFilter, params: unknown[], ph: Placeholder, columns: { model: string; status: string } = { model: 'model', status: 'status' }): string[] {
  const where: string[] = [];
  const eq = (column: string, value: unknown): void => {
    params.push(value);
    where.push(`${column} = ${ph(params.length)}`);
  };
  if (filter.orgId !== undefined) eq('org_id', filter.orgId);
  if (filter.teamId !== undefined) eq('team_id', filter.teamId);
  if (filter.teamIds !== undefined) {
    if (filter.teamIds.length === 0) where.push('1 = 0');
    else {
      const list = filter.teamIds.map((t) => {
        params.push(t);
        return ph(params.length);
      });
      where.push(`team_id IN (${list.join(', ')})`);
    }
  }
  if (filter.userId !== undefined) eq('user_id', filter.userId);
  if (filter.keyId !== undefined) eq('key_id', filter.keyId);
  if (filter.model !== undefined) eq(columns.model, filter.model);
  if (filter.provider !== undefined) eq('provider', filter.provider);
  if (filter.strategy !== undefined) eq('strategy', filter.strategy);
  if (filter.status !== undefined) {
    const cls = STATUS_CLASS.exec(filter.status);
    const statusCol = columns.status;
    // Rollups keep the status as text; the records table as an integer.
    const numeric = statusCol === 'status' ? `CAST(${statusCol} AS INTEGER)` : statusCol;
    if (cls) {
      params.push(Number(cls[1]) * 100, Number(cls[1]) * 100 + 100);
      where.push(`${numeric} >= ${ph(params.length - 1)} AND ${numeric} < ${ph(params.length)}`);
    } else eq(numeric, Number(filter.status));
  }
  if (filter.present !== undefined && DIMENSION_SET.has(filter.present)) where.push(`${filter.present} <> ''`);
  return where;
}

/** A filter and grouping no rollup cube can answer (e.g. per-key and per-status at once). */
export class UnsupportedQueryError extends Error {}

/** The dimensions a query filters or groups on. */
export function neededDimensions(query: Pick<RollupQuery, 'filter' | 'groupBy'>): Set<Dimension> {
  const f = query.filter;
  const needed = new Set<Dimension>();
  if (query.groupBy !== undefined) needed.add(query.groupBy);
  if (f.orgId !== undefined) needed.add('org_id');
  if (f.teamId !== undefined || f.teamIds !== undefined) needed.add('team_id');
  if (f.userId !== undefined) needed.add('user_id');
  if (f.keyId !== undefined) needed.add('key_id');
  if (f.model !== undefined) needed.add('model');
  if (f.provider !== undefined) needed.add('provider');
  if (f.strategy !== undefined) needed.add('strategy');
  if (f.status !== undefined) needed.add('status');
  if (f.present !== undefined) needed.add(f.present);
  return needed;
}

/**
 * One SELECT per segment, grouped by bucket and/or dimension, on the smallest cube that can answer.
 * `groupInSql: false` returns the rows ungrouped (the caller merges them): cheaper on SQLite when
 * nearly every row is its own group, where a GROUP BY allocates ~60 aggregates per group.
 */
export function rollupStatements(query: RollupQuery, ph: Placeholder, groupInSql = true): Array<{ sql: string; params: unknown[] }> {
  if (query.groupBy !== undefined && !DIMENSION_SET.has(query.groupBy)) throw new Error(`cannot group by ${String(query.groupBy)}`);
  const needed = neededDimensions(query);
  const cube = cubeFor(needed, query.segments.map((s) => s.granularity));
  if (!cube) {
    throw new UnsupportedQueryError(
      `no rollup holds ${[...needed].join(', ')} at ${[...new Set(query.segments.map((s) => s.granularity))].join('/')} resolution: per-key and per-user figures come by hour or day, with model only (not provider, status, strategy or tier)`,
    );
  }
  return query.segments.map((segment) => segmentStatement(cube, segment, query, ph, groupInSql));
}

function segmentStatement(cube: CubeName, segment: Segment, query: RollupQuery, ph: Placeholder, groupInSql: boolean): { sql: string; params: unknown[] } {
  const params: unknown[] = [segment.from, segment.to];
  const where = [`bucket >= ${ph(1)}`, `bucket < ${ph(2)}`, ...filterConditions(query.filter, params, ph)];
  const keys: string[] = [];
  const select: string[] = [];
  if (query.bucketMs !== undefined) {
    const width = Math.trunc(query.bucketMs);
    select.push(`(bucket / ${width}) * ${width} AS b`);
    keys.push('b');
  }
  if (query.groupBy !== undefined) {
    select.push(`${query.groupBy} AS g`);
    keys.push('g');
  }
  // Histogram columns are most of the work of a scan; savings do without them.
  const columns = query.measures === 'money' ? SUM_COLUMNS.slice(0, SUM_INDEX.latencyHist) : SUM_COLUMNS;
  if (!groupInSql) {
    select.push(...columns.map((c, i) => `${c} AS s${i}`), 'latency_ms_max AS mx');
    return { sql: `SELECT ${select.join(', ')} FROM ${rollupTable(cube, segment.granularity)} WHERE ${where.join(' AND ')}`, params };
  }
  select.push(...columns.map((c, i) => `sum(${c}) AS s${i}`), 'max(latency_ms_max) AS mx');
  const sql = `SELECT ${select.join(', ')} FROM ${rollupTable(cube, segment.granularity)} WHERE ${where.join(' AND ')}${keys.length > 0 ? ` GROUP BY ${keys.join(', ')}` : ''}`;
  return { sql, params };
}

export function emptyTotals(): Totals {
  return {
    requests: 0,
    errors: 0,
    promptTokens: 0,
    completionTokens: 0,
    cachedTokens: 0,
    costUsd: 0,
    baselineCostUsd: 0,
    latencyMsSum: 0,
    latencyMsMax: 0,
    ttftMsSum: 0,
    ttftCount: 0,
    cacheHits: 0,
    latencyHist: new Array<number>(HIST_SLOTS).fill(0),
    ttftHist: new Array<number>(HIST_SLOTS).fill(0),
  };
}

export function addTotals(into: Totals, from: Totals): void {
  into.requests += from.requests;
  into.errors += from.errors;
  into.promptTokens += from.promptTokens;
  into.completionTokens += from.completionTokens;
  into.cachedTokens += from.cachedTokens;
  into.costUsd += from.costUsd;
  into.baselineCostUsd += from.baselineCostUsd;
  into.latencyMsSum += from.latencyMsSum;
  if (from.latencyMsMax > into.latencyMsMax) into.latencyMsMax = from.latencyMsMax;
  into.ttftMsSum += from.ttftMsSum;
  into.ttftCount += from.ttftCount;
  into.cacheHits += from.cacheHits;
  for (let i = 0; i < HIST_SLOTS; i++) {
    into.latencyHist[i] += from.latencyHist[i];
    into.ttftHist[i] += from.ttftHist[i];
  }
}

/**
 * A result row (`b`, `g`, `s0…`, `mx`; numbers possibly as strings from pg) as totals: an object, or
 * an array of values with their column names.
 */
export function rowTotals(input: Record<string, unknown> | unknown[], names?: readonly string[]): RollupResultRow {
  const index = Array.isArray(input) && names ? columnIndex(names) : undefined;
  const get = (key: string): unknown => (index ? (input as unknown[])[index.get(key) ?? -1] : (input as Record<string, unknown>)[key]);
  const n = (key: string): number => Number(get(key) ?? 0);
  const t: Totals = {
    requests: n(`s${SUM_INDEX.requests}`),
    errors: n(`s${SUM_INDEX.errors}`),
    promptTokens: n(`s${SUM_INDEX.promptTokens}`),
    completionTokens: n(`s${SUM_INDEX.completionTokens}`),
    cachedTokens: n(`s${SUM_INDEX.cachedTokens}`),
    costUsd: n(`s${SUM_INDEX.costUsd}`),
    baselineCostUsd: n(`s${SUM_INDEX.baselineCostUsd}`),
    latencyMsSum: n(`s${SUM_INDEX.latencyMsSum}`),
    latencyMsMax: n('mx'),
    ttftMsSum: n(`s${SUM_INDEX.ttftMsSum}`),
    ttftCount: n(`s${SUM_INDEX.ttftCount}`),
    cacheHits: n(`s${SUM_INDEX.cacheHits}`),
    latencyHist: Array.from({ length: HIST_SLOTS }, (_, i) => n(`s${SUM_INDEX.latencyHist + i}`)),
    ttftHist: Array.from({ length: HIST_SLOTS }, (_, i) => n(`s${SUM_INDEX.ttftHist + i}`)),
  };
  const out: RollupResultRow = { totals: t };
  const b = get('b');
  const g = get('g');
  if (b !== undefined && b !== null) out.bucket = Number(b);
  if (g !== undefined && g !== null) out.group = String(g);
  return out;
}

const indexes = new WeakMap<readonly string[], Map<string, number>>();
function columnIndex(names: readonly string[]): Map<string, number> {
  let index = indexes.get(names);
  if (!index) {
    index = new Map(names.map((name, i) => [name, i]));
    indexes.set(names, index);
  }
  return index;
}

/** Merges rows of several segments that share bucket and group. */
export function mergeRows(rows: Iterable<RollupResultRow>): RollupResultRow[] {
  const merged = new Map<string, RollupResultRow>();
  for (const row of rows) {
    const key = `${row.bucket ?? ''}\u0000${row.group ?? ''}`;
    const existing = merged.get(key);
    if (!existing) merged.set(key, row);
    else addTotals(existing.totals, row.totals);
  }
  return [...merged.values()];
}

/**
 * The fewest rollup segments covering [from, to) (minute-aligned): whole days from the day table,
 * whole hours at the edges from the hour table, the remaining minutes from the minute table.
 */
export function coverRange(from: number, to: number, finest: 'minute' | 'hour' = 'minute'): Segment[] {
  if (finest === 'hour') {
    const HOUR_MS = 3_600_000;
    return coverRange(Math.floor(from / HOUR_MS) * HOUR_MS, Math.ceil(to / HOUR_MS) * HOUR_MS);
  }
  const segments: Segment[] = [];
  const ceil = (t: number, w: number): number => Math.ceil(t / w) * w;
  const floor = (t: number, w: number): number => Math.floor(t / w) * w;
  const HOUR = 3_600_000;
  const DAY = 86_400_000;
  const hoursAndMinutes = (a: number, b: number): void => {
    if (a >= b) return;
    const h0 = ceil(a, HOUR);
    const h1 = floor(b, HOUR);
    if (h0 < h1) {
      if (a < h0) segments.push({ granularity: 'minute', from: a, to: h0 });
      segments.push({ granularity: 'hour', from: h0, to: h1 });
      if (h1 < b) segments.push({ granularity: 'minute', from: h1, to: b });
    } else segments.push({ granularity: 'minute', from: a, to: b });
  };
  const d0 = ceil(from, DAY);
  const d1 = floor(to, DAY);
  if (d0 < d1) {
    hoursAndMinutes(from, d0);
    segments.push({ granularity: 'day', from: d0, to: d1 });
    hoursAndMinutes(d1, to);
  } else hoursAndMinutes(from, to);
  return segments;
}

export { GRANULARITIES };
