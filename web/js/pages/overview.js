// Overview: spend, savings, requests, error rate and latency over the selected range.
import { alignSeries, timeChart } from '../charts.js';
import { isMissingRoute } from '../api.js';
import { MISSING_ANALYTICS, savings, summary, timeseries } from '../analytics.js';
import { bar, h, notice, replace } from '../dom.js';
import { fmtCompact, fmtInt, fmtMs, fmtPct, fmtUsd } from '../format.js';
import { kpi, pageHead } from '../layout.js';
import { rangePicker } from '../range.js';
import { namer } from '../names.js';
import { dataTable } from '../table.js';

/** @typedef {import('../main.js').PageContext} PageContext */
/** @typedef {import('../analytics.js').SummaryRow} SummaryRow */

const GROUPINGS = [
  { value: 'model', label: 'model' },
  { value: 'provider', label: 'provider' },
  { value: 'team', label: 'team' },
  { value: 'key', label: 'key' },
  { value: 'strategy', label: 'strategy' },
  { value: 'tier', label: 'quality tier' },
];

/** @param {PageContext} ctx */
export async function render(ctx) {
  const groupSelect = h('select', { 'aria-label': 'Break spend down by', 'data-testid': 'group-by' }, GROUPINGS.map((g) => h('option', { value: g.value }, `Spend by ${g.label}`)));
  const body = h('div');
  /** @type {(() => void)[]} */
  let charts = [];
  const destroyCharts = () => {
    for (const destroy of charts.splice(0)) destroy();
  };
  ctx.onLeave(destroyCharts);

  const draw = async () => {
    destroyCharts();
    const range = ctx.range();
    const base = { from: range.from, to: range.to };
    const groupBy = groupSelect.value;
    replace(body, h('p', { class: 'muted' }, 'Loading…'));
    let data;
    try {
      const [total, byGroup, byGroupSummary, saved, label] = await Promise.all([
        timeseries({ ...base, bucket: range.bucket }),
        timeseries({ ...base, bucket: range.bucket, group_by: groupBy }),
        summary({ ...base, group_by: groupBy }),
        savings({ ...base, group_by: 'day' }),
        groupBy === 'team' || groupBy === 'key' ? namer(groupBy) : Promise.resolve((/** @type {string | null} */ g) => g ?? '(none)'),
      ]);
      data = { total, byGroup, byGroupSummary, saved, label };
    } catch (err) {
      replace(body, notice(isMissingRoute(err) ? MISSING_ANALYTICS : err instanceof Error ? err.message : String(err)));
      return;
    }
    const { total, byGroup, byGroupSummary, saved, label } = data;
    const t = byGroupSummary.total;
    const errorRate = t.requests > 0 ? t.errors / t.requests : 0;
    const savedUsd = saved.total.saved_usd;
    const savedFraction = saved.total.baseline_cost_usd > 0 ? savedUsd / saved.total.baseline_cost_usd : 0;

    const kpis = h(
      'div',
      { class: 'kpis', 'data-testid': 'kpis' },
      kpi('Requests', fmtInt(t.requests), { hint: `${fmtCompact(t.prompt_tokens + t.completion_tokens)} tokens`, testId: 'kpi-requests' }),
      kpi('Spend', fmtUsd(t.cost_usd), { hint: `last ${range.label}`, testId: 'kpi-spend' }),
      kpi('Saved', fmtUsd(savedUsd), { hint: `${fmtPct(savedFraction)} vs. baseline`, tone: savedUsd > 0 ? 'good' : '', testId: 'kpi-saved' }),
      kpi('Error rate', fmtPct(errorRate, 2), { hint: `${fmtInt(t.errors)} errors`, tone: errorRate > 0.05 ? 'bad' : '', testId: 'kpi-errors' }),
      kpi('Latency p50', fmtMs(t.latency_p50_ms), { hint: `p95 ${fmtMs(t.latency_p95_ms)}`, testId: 'kpi-p50' }),
      kpi('TTFT p50', fmtMs(t.ttft_p50_ms), { hint: `p99 latency ${fmtMs(t.latency_p99_ms)}`, testId: 'kpi-ttft' }),
    );

    const overall = total.series[0]?.points ?? [];
    const times = overall.map((p) => Date.parse(p.t) / 1000);
    const chart = (/** @type {string} */ title, /** @type {{ el: HTMLElement, destroy: () => void }} */ c) => {
      charts.push(c.destroy);
      return h('section', { class: 'panel' }, h('div', { class: 'panel-head' }, h('h2', null, title)), c.el);
    };
    const spend = timeChart({
      testId: 'chart-spend',
      times,
      format: (v) => fmtUsd(v),
      series: [
        { label: 'Spend', values: overall.map((p) => p.cost_usd), fill: true },
        { label: 'Baseline (without routing)', values: overall.map((p) => p.baseline_cost_usd), color: '#94a3b8', dash: true },
      ],
    });
    const traffic = timeChart({
      testId: 'chart-requests',
      times,
      format: (v) => fmtCompact(v),
      series: [
        { label: 'Requests', values: overall.map((p) => p.requests), fill: true },
        { label: 'Errors', values: overall.map((p) => p.errors), color: '#dc2626' },
      ],
    });
    const latency = timeChart({
      testId: 'chart-latency',
      times,
      format: (v) => fmtMs(v),
      series: [
        { label: 'p50', values: overall.map((p) => p.latency_p50_ms) },
        { label: 'p95', values: overall.map((p) => p.latency_p95_ms), color: '#f59e0b' },
        { label: 'p99', values: overall.map((p) => p.latency_p99_ms), color: '#dc2626' },
        { label: 'TTFT p50', values: overall.map((p) => p.ttft_p50_ms), color: '#16a34a', dash: true },
      ],
    });
    const grouped = alignSeries(byGroup.series, (p) => p.cost_usd);
    const spendByGroup = timeChart({
      testId: 'chart-spend-by-group',
      times: grouped.times,
      format: (v) => fmtUsd(v),
      series: grouped.aligned.map((s) => ({ label: label(s.group), values: s.values })),
    });
    const errorRateChart = timeChart({
      testId: 'chart-error-rate',
      times,
      format: (v) => fmtPct(v, 1),
      series: [{ label: 'Error rate', values: overall.map((p) => (p.requests > 0 ? p.errors / p.requests : null)), color: '#dc2626', fill: true }],
    });
    const savingsChart = timeChart({
      testId: 'chart-savings',
      times,
      format: (v) => fmtUsd(v),
      series: [{ label: 'Saved', values: overall.map((p) => (p.requests > 0 ? p.baseline_cost_usd - p.cost_usd : null)), color: '#16a34a', fill: true }],
    });

    /** @type {ReturnType<typeof dataTable<SummaryRow>>} */
    const table = dataTable({
      title: `By ${groupBy}`,
      csvName: `switchyard-by-${groupBy}-${range.label}`,
      testId: 'summary-table',
      columns: [
        { label: groupBy, value: (r) => label(r.group) },
        ...(groupBy === 'team' || groupBy === 'key' ? [{ label: `${groupBy} id`, value: (/** @type {SummaryRow} */ r) => r.group, csvOnly: true }] : []),
        { label: 'Requests', value: (r) => r.requests, render: (r) => fmtInt(r.requests), num: true },
        { label: 'Share', value: (r) => r.share, render: (r) => h('div', { class: 'share' }, bar(r.share), h('span', { class: 'pct' }, fmtPct(r.share))) },
        { label: 'Errors', value: (r) => r.errors, render: (r) => fmtInt(r.errors), num: true },
        { label: 'Error rate', value: (r) => (r.requests ? r.errors / r.requests : 0), render: (r) => fmtPct(r.requests ? r.errors / r.requests : 0, 2), num: true },
        { label: 'Spend', value: (r) => r.cost_usd, render: (r) => fmtUsd(r.cost_usd), num: true },
        { label: 'Tokens in', value: (r) => r.prompt_tokens, render: (r) => fmtInt(r.prompt_tokens), num: true },
        { label: 'Tokens out', value: (r) => r.completion_tokens, render: (r) => fmtInt(r.completion_tokens), num: true },
        { label: 'p50', value: (r) => r.latency_p50_ms, render: (r) => fmtMs(r.latency_p50_ms), num: true },
        { label: 'p95', value: (r) => r.latency_p95_ms, render: (r) => fmtMs(r.latency_p95_ms), num: true },
        { label: 'TTFT p50', value: (r) => r.ttft_p50_ms, render: (r) => fmtMs(r.ttft_p50_ms), num: true },
      ],
    });
    table.update(byGroupSummary.rows);

    const tiers = dataTable({
      title: 'Quality tiers (model: "auto")',
      csvName: `switchyard-tier-mix-${range.label}`,
      testId: 'tier-table',
      empty: 'No requests used model "auto" in this range.',
      columns: [
        { label: 'Tier', value: (/** @type {{ tier: string, requests: number, share: number }} */ r) => r.tier },
        { label: 'Requests', value: (r) => r.requests, render: (r) => fmtInt(r.requests), num: true },
        { label: 'Share', value: (r) => r.share, render: (r) => h('div', { class: 'share' }, bar(r.share), h('span', { class: 'pct' }, fmtPct(r.share))) },
      ],
    });
    tiers.update(saved.tier_mix ?? []);

    replace(
      body,
      kpis,
      h('div', { class: 'grid two' }, chart('Spend vs. baseline', spend), chart('Requests and errors', traffic)),
      h('div', { class: 'grid two' }, chart('Latency', latency), chart(`Spend by ${groupBy}`, spendByGroup)),
      h('div', { class: 'grid two' }, chart('Error rate', errorRateChart), chart('Saved against the baseline', savingsChart)),
      table.el,
      tiers.el,
    );
  };

  groupSelect.addEventListener('change', () => void draw());
  replace(ctx.root, pageHead('Overview', 'Traffic, spend and latency through this gateway', groupSelect, rangePicker(() => void draw())), body);
  await draw();
}
