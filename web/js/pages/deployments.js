// Models and providers: every deployment's live health (circuit, latency, success rate, cool-down)
// and share of the last minute's traffic, refreshed every few seconds; per-provider figures for the
// selected range when the analytics API is there.
import { get, isMissingRoute } from '../api.js';
import { summary, timeseries } from '../analytics.js';
import { alignSeries, timeChart } from '../charts.js';
import { badge, bar, h, notice, replace } from '../dom.js';
import { fmtInt, fmtMs, fmtPct, fmtUsd } from '../format.js';
import { kpi, pageHead } from '../layout.js';
import { rangePicker } from '../range.js';
import { dataTable } from '../table.js';

/**
 * @typedef {{ id: string, model_group: string, mode: string, provider: string, provider_type: string,
 *   provider_model: string, region: string | null, weight: number, priority: number,
 *   circuit_state: 'closed' | 'open' | 'half_open', available: boolean, measured: boolean, ewma_ttft_ms: number,
 *   ttft_p90_ms: number, tokens_per_second: number, success_rate: number, in_flight: number,
 *   recent_requests: number, recent_tokens: number, traffic_share: number, group_share: number,
 *   cooldown_until: string | null, recovers_at: string | null }} Deployment
 * @typedef {import('../main.js').PageContext} PageContext
 * @typedef {import('../analytics.js').SummaryRow} SummaryRow
 */

const REFRESH_MS = 5000;

/** @param {Deployment} d */
function circuit(d) {
  const until = d.recovers_at ? h('div', { class: 'muted small' }, `until ${new Date(d.recovers_at).toLocaleTimeString('en-GB')}`) : null;
  if (d.circuit_state === 'open') return h('div', null, badge('open', 'bad'), until);
  if (d.circuit_state === 'half_open') return badge('half-open', 'warn');
  if (d.cooldown_until) return h('div', null, badge('cooling down', 'warn'), until);
  return badge('closed', 'ok');
}

/** @param {number} rate */
const successTone = (rate) => (rate >= 0.99 ? 'ok' : rate >= 0.9 ? 'warn' : 'bad');

/** @param {PageContext} ctx */
export async function render(ctx) {
  const kpis = h('div', { class: 'kpis', 'data-testid': 'deployment-kpis' });
  const status = h('div');
  const updated = h('span', { class: 'muted small', 'data-testid': 'updated' });

  /** @type {ReturnType<typeof dataTable<Deployment>>} */
  const table = dataTable({
    title: 'Deployments',
    csvName: 'switchyard-deployments',
    testId: 'deployments-table',
    empty: 'No deployments are configured.',
    rowId: (d) => d.id,
    columns: [
      { label: 'Model', value: (d) => d.model_group, render: (d) => h('strong', null, d.model_group) },
      { label: 'Provider', value: (d) => d.provider, render: (d) => h('div', null, d.provider, ' ', h('span', { class: 'muted small' }, d.provider_type), h('div', { class: 'mono muted small' }, d.provider_model)) },
      { label: 'Provider type', value: (d) => d.provider_type, csvOnly: true },
      { label: 'Provider model', value: (d) => d.provider_model, csvOnly: true },
      { label: 'Deployment id', value: (d) => d.id, csvOnly: true },
      { label: 'Circuit', value: (d) => (d.cooldown_until && d.circuit_state === 'closed' ? 'cooling_down' : d.circuit_state), render: circuit },
      { label: 'Success', value: (d) => d.success_rate, render: (d) => h('div', { class: 'share' }, bar(d.success_rate, successTone(d.success_rate)), h('span', { class: 'pct' }, fmtPct(d.success_rate))) },
      { label: 'TTFT', value: (d) => d.ewma_ttft_ms, render: (d) => (d.measured ? fmtMs(d.ewma_ttft_ms) : h('span', { class: 'muted', title: 'prior: not measured yet' }, fmtMs(d.ewma_ttft_ms))), num: true },
      { label: 'p90', value: (d) => d.ttft_p90_ms, render: (d) => fmtMs(d.ttft_p90_ms), num: true },
      { label: 'In flight', value: (d) => d.in_flight, num: true },
      { label: 'Req/min', value: (d) => d.recent_requests, render: (d) => fmtInt(d.recent_requests), num: true },
      { label: 'Traffic share', value: (d) => d.traffic_share, render: (d) => h('div', null, h('div', { class: 'share' }, bar(d.traffic_share), h('span', { class: 'pct' }, fmtPct(d.traffic_share))), h('div', { class: 'muted small' }, `${fmtPct(d.group_share, 0)} of ${d.model_group}`)) },
      { label: 'Share of model', value: (d) => d.group_share, csvOnly: true },
      { label: 'Tokens/s', value: (d) => d.tokens_per_second, csvOnly: true },
      { label: 'Recovers at', value: (d) => d.recovers_at, csvOnly: true },
    ],
  });

  /** @type {ReturnType<typeof dataTable<SummaryRow>>} */
  const providers = dataTable({
    title: 'Providers over the selected range',
    csvName: 'switchyard-providers',
    testId: 'providers-table',
    empty: 'No traffic in this range.',
    columns: [
      { label: 'Provider', value: (r) => r.group ?? '(none)' },
      { label: 'Requests', value: (r) => r.requests, render: (r) => fmtInt(r.requests), num: true },
      { label: 'Share', value: (r) => r.share, render: (r) => h('div', { class: 'share' }, bar(r.share), h('span', { class: 'pct' }, fmtPct(r.share))) },
      { label: 'Error rate', value: (r) => (r.requests ? r.errors / r.requests : 0), render: (r) => fmtPct(r.requests ? r.errors / r.requests : 0, 2), num: true },
      { label: 'Spend', value: (r) => r.cost_usd, render: (r) => fmtUsd(r.cost_usd), num: true },
      { label: 'p50', value: (r) => r.latency_p50_ms, render: (r) => fmtMs(r.latency_p50_ms), num: true },
      { label: 'p95', value: (r) => r.latency_p95_ms, render: (r) => fmtMs(r.latency_p95_ms), num: true },
      { label: 'TTFT p50', value: (r) => r.ttft_p50_ms, render: (r) => fmtMs(r.ttft_p50_ms), num: true },
    ],
  });
  const providersNote = h('div');
  const providerCharts = h('div', { class: 'grid two' });
  /** @type {(() => void)[]} */
  const charts = [];
  const destroyCharts = () => {
    for (const destroy of charts.splice(0)) destroy();
  };
  ctx.onLeave(destroyCharts);

  const refresh = async () => {
    try {
      /** @type {{ data: Deployment[], window_seconds: number, generated_at: string }} */
      const list = await get('/admin/v1/deployments');
      const rows = list.data;
      replace(status);
      replace(
        kpis,
        kpi('Deployments', fmtInt(rows.length), { hint: `${new Set(rows.map((d) => d.model_group)).size} models` }),
        kpi('Providers', fmtInt(new Set(rows.map((d) => d.provider)).size)),
        kpi('Healthy', fmtInt(rows.filter((d) => d.available).length), { tone: 'good', testId: 'kpi-healthy' }),
        kpi('Open circuits', fmtInt(rows.filter((d) => d.circuit_state !== 'closed').length), { tone: rows.some((d) => d.circuit_state === 'open') ? 'bad' : '' }),
        kpi('Cooling down', fmtInt(rows.filter((d) => d.cooldown_until).length)),
        kpi('Requests / min', fmtInt(rows.reduce((n, d) => n + d.recent_requests, 0)), { hint: `last ${list.window_seconds} s` }),
      );
      table.update(rows);
      updated.textContent = `Live health · updated ${new Date(list.generated_at).toLocaleTimeString('en-GB')}`;
    } catch (err) {
      replace(status, notice(err instanceof Error ? err.message : String(err)));
    }
  };

  const loadProviders = async () => {
    const range = ctx.range();
    try {
      const [result, series] = await Promise.all([
        summary({ from: range.from, to: range.to, group_by: 'provider' }),
        timeseries({ from: range.from, to: range.to, bucket: range.bucket, group_by: 'provider' }),
      ]);
      replace(providersNote);
      providers.update(result.rows);
      destroyCharts();
      const requests = alignSeries(series.series, (p) => p.requests);
      const latency = alignSeries(series.series, (p) => p.latency_p95_ms);
      const panelOf = (/** @type {string} */ title, /** @type {{ el: HTMLElement, destroy: () => void }} */ chart) => {
        charts.push(chart.destroy);
        return h('section', { class: 'panel' }, h('div', { class: 'panel-head' }, h('h2', null, title)), chart.el);
      };
      replace(
        providerCharts,
        panelOf('Requests by provider', timeChart({ testId: 'chart-provider-requests', times: requests.times, format: (v) => fmtInt(v), series: requests.aligned.map((x) => ({ label: x.group ?? '(none)', values: x.values })) })),
        panelOf('Latency p95 by provider', timeChart({ testId: 'chart-provider-latency', times: latency.times, format: (v) => fmtMs(v), series: latency.aligned.map((x) => ({ label: x.group ?? '(none)', values: x.values })) })),
      );
    } catch (err) {
      replace(providersNote, notice(isMissingRoute(err) ? 'Per-provider figures need the analytics API, which this gateway does not have.' : err instanceof Error ? err.message : String(err), 'info'));
    }
  };

  const auto = h('input', { type: 'checkbox', checked: true, 'data-testid': 'auto-refresh' });
  const timer = setInterval(() => {
    if (auto.checked) void refresh();
  }, REFRESH_MS);
  ctx.onLeave(() => clearInterval(timer));

  replace(
    ctx.root,
    pageHead('Models & providers', 'Live health of every deployment on this gateway replica', updated, h('label', { class: 'check' }, auto, 'Auto-refresh'), rangePicker(() => void loadProviders())),
    status,
    kpis,
    table.el,
    providersNote,
    providerCharts,
    providers.el,
  );
  await Promise.all([refresh(), loadProviders()]);
}
