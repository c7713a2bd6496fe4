// SQL for the request explorer over the raw records table, shared by both stores (placeholders and
// the timestamp expression differ).
import { filterConditions, type Placeholder } from './sql.ts';
import type { RequestQuery } from './types.ts';

export const RECORD_COLUMNS = [
  'request_id', 'dialect', 'operation', 'requested_model', 'model_group', 'deployment', 'provider', 'provider_model', 'status',
  'error_class', 'stream', 'prompt_tokens', 'completion_tokens', 'cached_tokens', 'cost_usd', 'usage_estimated', 'latency_ms',
  'ttft_ms', 'attempts', 'fallback_reason', 'client_abandoned', 'strategy', 'candidates', 'route_reason', 'org_id', 'team_id',
  'user_id', 'key_id', 'complexity', 'auto_tier', 'baseline_cost_usd', 'cache_hit', 'task_cluster', 'served_group',
  'feedback_score',
] as const;

export interface RecordSqlDialect {
  ph: Placeholder;
  /** The `ts` column as epoch ms (select list). */
  tsMs: string;
  /** A parameter in epoch ms, as a value comparable with `ts`. */
  tsParam: (placeholder: string) => string;
}

/** Newest first, keyset pagination on (ts, request_id): the index on those columns serves it. */
export function listRequestsSql(q: RequestQuery, d: RecordSqlDialect): { sql: string; params: unknown[] } {
  const params: unknown[] = [q.from, q.to];
  const where = [`ts >= ${d.tsParam(d.ph(1))}`, `ts < ${d.tsParam(d.ph(2))}`];
  where.push(...filterConditions(q.filter, params, d.ph, { model: 'coalesce(model_group, requested_model)', status: 'status_num' }).map((c) => c.replaceAll('status_num', 'status')));
  if (q.errorClass !== undefined) {
    params.push(q.errorClass);
    where.push(`error_class = ${d.ph(params.length)}`);
  }
  if (q.after) {
    params.push(q.after.ts, q.after.requestId);
    where.push(`(ts, request_id) < (${d.tsParam(d.ph(params.length - 1))}, ${d.ph(params.length)})`);
  }
  params.push(q.limit);
  return {
    sql: `SELECT ${d.tsMs} AS ts_ms, ${RECORD_COLUMNS.join(', ')} FROM usage_records WHERE ${where.join(' AND ')} ORDER BY ts DESC, request_id DESC LIMIT ${d.ph(params.length)}`,
    params,
  };
}
