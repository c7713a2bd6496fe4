// Policy replay on the playground page: POST /admin/v1/replay routes the recorded traffic of a window
// again under a routing policy (YAML) and compares cost, latency, quality and model mix.
import { isMissingRoute, request } from '../api.js';
import { badge, field, h, notice, replace } from '../dom.js';
import { fmtInt, fmtMs, fmtPct, fmtUsd } from '../format.js';
import { dataTable } from '../table.js';

/**
 * @typedef {{ requests: number, cost_usd: number, cost_per_1k_requests_usd: number, unpriced_requests: number,
 *   latency_ms: { mean: number, p50: number, p95: number }, quality: { mean: number | null, known_share: number },
 *   auto: { requests: number, tiers: Record<string, number>, expected_gain_captured: number | null },
 *   models: { model: string, requests: number, share: number, cost_usd: number }[] }} Side
 * @typedef {{ object: 'replay.report', window: { from: string, to: string },
 *   policy: { strategy: string }, records: { read: number, replayed: number, truncated: boolean, skipped: Record<string, number> },
 *   recorded: Side, estimated: Side,
 *   change: { cost_usd: number, cost_ratio: number | null, latency_p50_ms: number, latency_p95_ms: number, quality: number | null, rerouted: number, rerouted_share: number } }} ReplayReport
 */

const WINDOWS = ['1h', '24h', '7d', '30d'];

export function replayPanel() {
  const window = h('select', { name: 'window', 'data-testid': 'replay-window' }, WINDOWS.map((w) => h('option', { value: w, selected: w === '24h' }, `last ${w}`)));
  const policy = h('textarea', { name: 'policy', rows: '4', 'data-testid': 'replay-policy' });
  policy.value = 'routing:\n  strategy: cost\n';
  const result = h('div', { 'data-testid': 'replay-result' });
  const form = h(
    'form',
    { class: 'panel', 'data-testid': 'replay-form' },
    h('div', { class: 'panel-head' }, h('h2', null, 'Replay a policy on recorded traffic')),
    h('p', { class: 'muted small' }, 'The requests of the window are routed again by the real router under this policy (the config file’s routing: and, optionally, models: sections). Nothing is sent to a provider.'),
    h('div', { class: 'form-row top' }, field('Window', window), h('label', { class: 'field wide' }, 'Policy (YAML)', policy)),
    h('div', { class: 'toolbar' }, h('button', { type: 'submit', class: 'primary' }, 'Replay')),
    result,
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    replace(result, h('p', { class: 'muted' }, 'Replaying…'));
    try {
      /** @type {ReplayReport} */
      const report = await request('POST', '/admin/v1/replay', { body: { from: window.value, policy: policy.value } });
      show(report);
    } catch (err) {
      replace(result, notice(isMissingRoute(err) ? 'Policy replay is not available on this gateway.' : err instanceof Error ? err.message : String(err)));
    }
  });

  /** @param {ReplayReport} r */
  function show(r) {
    const change = (/** @type {number} */ v, /** @type {(n: number) => string} */ f) => (v === 0 ? '—' : `${v > 0 ? '+' : '−'}${f(Math.abs(v))}`);
    /** @type {{ label: string, recorded: string, estimated: string, change: string }[]} */
    const rows = [
      { label: 'Requests', recorded: fmtInt(r.recorded.requests), estimated: fmtInt(r.estimated.requests), change: '' },
      { label: 'Cost', recorded: fmtUsd(r.recorded.cost_usd), estimated: fmtUsd(r.estimated.cost_usd), change: r.change.cost_ratio === null ? '—' : change(r.change.cost_ratio - 1, (n) => fmtPct(n)) },
      { label: 'Cost per 1k requests', recorded: fmtUsd(r.recorded.cost_per_1k_requests_usd), estimated: fmtUsd(r.estimated.cost_per_1k_requests_usd), change: '' },
      { label: 'Latency p50', recorded: fmtMs(r.recorded.latency_ms.p50), estimated: fmtMs(r.estimated.latency_ms.p50), change: change(r.change.latency_p50_ms, fmtMs) },
      { label: 'Latency p95', recorded: fmtMs(r.recorded.latency_ms.p95), estimated: fmtMs(r.estimated.latency_ms.p95), change: change(r.change.latency_p95_ms, fmtMs) },
      { label: 'Quality (catalog mean)', recorded: r.recorded.quality.mean?.toFixed(3) ?? '—', estimated: r.estimated.quality.mean?.toFixed(3) ?? '—', change: r.change.quality === null ? '—' : change(r.change.quality, (n) => n.toFixed(3)) },
    ];
    const comparison = dataTable({
      title: 'Recorded vs. policy',
      csvName: 'switchyard-replay',
      testId: 'replay-comparison',
      columns: [
        { label: 'Measure', value: (/** @type {typeof rows[number]} */ x) => x.label },
        { label: 'Recorded', value: (x) => x.recorded, num: true },
        { label: 'Policy (estimate)', value: (x) => x.estimated, num: true },
        { label: 'Change', value: (x) => x.change, num: true },
      ],
    });
    comparison.update(rows);
    const models = [...new Set([...r.recorded.models, ...r.estimated.models].map((m) => m.model))].map((model) => ({
      model,
      recorded: r.recorded.models.find((m) => m.model === model)?.requests ?? 0,
      estimated: r.estimated.models.find((m) => m.model === model)?.requests ?? 0,
    }));
    const mix = dataTable({
      title: 'Model mix',
      csvName: 'switchyard-replay-models',
      testId: 'replay-models',
      columns: [
        { label: 'Model', value: (/** @type {typeof models[number]} */ x) => x.model },
        { label: 'Recorded', value: (x) => x.recorded, render: (x) => fmtInt(x.recorded), num: true },
        { label: 'Policy (estimate)', value: (x) => x.estimated, render: (x) => fmtInt(x.estimated), num: true },
      ],
    });
    mix.update(models);
    const skipped = Object.entries(r.records.skipped).map(([k, v]) => `${v} ${k.replaceAll('_', ' ')}`).join(', ');
    replace(
      result,
      h('p', null, badge(`strategy ${r.policy.strategy}`, 'info'), ' ', `${fmtInt(r.records.replayed)} of ${fmtInt(r.records.read)} requests replayed`, skipped ? ` (skipped: ${skipped})` : '', `; ${fmtInt(r.change.rerouted)} rerouted (${fmtPct(r.change.rerouted_share)}).`),
      comparison.el,
      mix.el,
    );
  }

  return form;
}
