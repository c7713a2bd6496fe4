// Types and calls for the analytics API (GET /admin/v1/analytics/… and /admin/v1/requests).
import { get } from './api.js';

/**
 * @typedef {{ t: string, requests: number, errors: number, error_rate: number, prompt_tokens: number,
 *   completion_tokens: number, cost_usd: number, baseline_cost_usd: number, latency_p50_ms: number | null,
 *   latency_p95_ms: number | null, latency_p99_ms: number | null, ttft_p50_ms: number | null }} Point
 * @typedef {{ object: string, from: string, to: string, bucket: string, group_by: string | null,
 *   series: { group: string | null, points: Point[] }[] }} Timeseries
 * @typedef {{ group: string | null, requests: number, errors: number, error_rate: number, prompt_tokens: number,
 *   completion_tokens: number, cost_usd: number, latency_p50_ms: number | null, latency_p95_ms: number | null,
 *   latency_p99_ms: number | null, ttft_p50_ms: number | null, share: number }} SummaryRow
 * @typedef {{ object: string, rows: SummaryRow[], total: SummaryRow }} Summary
 * @typedef {{ group: string | null, requests: number, cost_usd: number, baseline_cost_usd: number, saved_usd: number, saved_pct: number }} SavingsRow
 * @typedef {{ object: string, rows: SavingsRow[], total: SavingsRow, tier_mix: { tier: string, requests: number, share: number }[] }} Savings
 * @typedef {{ request_id: string, ts: string, model: string | null, provider: string | null, deployment: string | null,
 *   status: number, error_class: string | null, cost_usd: number, latency_ms: number, ttft_ms: number | null,
 *   prompt_tokens: number, completion_tokens: number, stream: boolean, client_abandoned: boolean,
 *   team_id: string | null, key_id: string | null, strategy: string | null, attempts: number }} RequestRow
 * @typedef {RequestRow & { requested_model?: string, request_body?: string | null, response_body?: string | null, candidates?: unknown, route_reason?: string | null, fallback_reason?: string | null,
 *   complexity?: number | null, auto_tier?: string | null, task_cluster?: string | null, feedback_score?: number | null,
 *   baseline_cost_usd?: number | null, [field: string]: unknown }} RequestDetail
 * @typedef {import('./api.js').Query} Query
 */

/**
 * @param {Query} query
 * @returns {Promise<Timeseries>}
 */
export const timeseries = (query) => get('/admin/v1/analytics/timeseries', query);

/**
 * @param {Query} query
 * @returns {Promise<Summary>}
 */
export const summary = (query) => get('/admin/v1/analytics/summary', query);

/**
 * @param {Query} query
 * @returns {Promise<Savings>}
 */
export const savings = (query) => get('/admin/v1/analytics/savings', query);

/**
 * @param {Query} query
 * @returns {Promise<{ object: 'list', data: RequestRow[], next_cursor: string | null }>}
 */
export const listRequests = (query) => get('/admin/v1/requests', query);

/**
 * @param {string} id
 * @returns {Promise<RequestDetail>}
 */
export const getRequest = (id) => get(`/admin/v1/requests/${encodeURIComponent(id)}`);

/** The analytics API is missing on this gateway (its branch not installed). */
export const MISSING_ANALYTICS = 'The analytics API (GET /admin/v1/analytics/…, /admin/v1/requests) is not available on this gateway.';

/**
 * @typedef {{ deployment: string, score: number | null, excluded: string | null, affinity: boolean }} Candidate
 */

/**
 * Candidates as stored with a request: a list of objects, or the compact form
 * `deployment:score[*]` / `deployment!reason` (joined with `;` when a single string).
 * @param {unknown} raw
 * @returns {Candidate[]}
 */
export function parseCandidates(raw) {
  const items = Array.isArray(raw) ? raw : typeof raw === 'string' && raw !== '' ? raw.split(';') : [];
  return items.map((item) => {
    if (item && typeof item === 'object') {
      const o = /** @type {Record<string, unknown>} */ (item);
      return {
        deployment: String(o.deployment ?? o.id ?? ''),
        score: typeof o.score === 'number' ? o.score : null,
        excluded: typeof o.excluded === 'string' ? o.excluded : typeof o.reason === 'string' ? o.reason : null,
        affinity: o.affinity === true,
      };
    }
    const text = String(item);
    const excluded = /^(.*)!([a-z_]+)$/.exec(text);
    if (excluded) return { deployment: excluded[1], score: null, excluded: excluded[2], affinity: false };
    const scored = /^(.*):(-?\d+(?:\.\d+)?)(\*)?$/.exec(text);
    if (scored) return { deployment: scored[1], score: Number(scored[2]), excluded: null, affinity: scored[3] === '*' };
    return { deployment: text, score: null, excluded: null, affinity: false };
  });
}
