// Routing playground: a chat request goes to POST /v1/route/explain and the ranked plan comes back
// with every candidate's signals and exclusion reasons — no provider is called.
import { request } from '../api.js';
import { badge, bar, field, h, notice, replace } from '../dom.js';
import { fmtInt, fmtMs, fmtPct, fmtUsd } from '../format.js';
import { pageHead, panel } from '../layout.js';
import { can } from '../session.js';
import { dataTable } from '../table.js';
import { replayPanel } from './replay-panel.js';

/**
 * @typedef {{ deployment: string, provider: string, provider_model: string, rank: number | null, score: number | null,
 *   excluded: string | null, degraded: boolean, affinity: boolean,
 *   signals: { expected_cost_usd: number, expected_latency_ms: number, availability: number, quality: number | null, expected_cached_tokens: number },
 *   health: { state: string, ttft_ms: number, ttft_p90_ms: number, success_rate: number, in_flight: number, rpm: number, cooldown_until: number | null } }} Candidate
 * @typedef {{ object: 'route.plan', model: string, strategy: string, weights: Record<string, number>, balancer: string,
 *   prompt_tokens_estimate: number, expected_output_tokens: number, affinity: { kind: string, deployment: string | null } | null,
 *   plan: string[], groups: { model: string, candidates: Candidate[] }[] }} RoutePlan
 * @typedef {import('../main.js').PageContext} PageContext
 */

const STRATEGIES = ['', 'cost', 'latency', 'availability', 'balanced', 'quality'];
const REQUIREMENTS = ['tools', 'vision', 'json', 'reasoning'];

/** @param {PageContext} ctx */
export async function render(ctx) {
  const model = h('select', { name: 'model', 'data-testid': 'pg-model' });
  const strategy = h('select', { name: 'strategy', 'data-testid': 'pg-strategy' }, STRATEGIES.map((s) => h('option', { value: s }, s || '(model default)')));
  const prompt = h('textarea', { name: 'prompt', rows: '5', 'data-testid': 'pg-prompt' });
  prompt.value = 'Summarise the trade-offs between latency and cost when routing LLM requests.';
  const maxTokens = h('input', { name: 'max_tokens', type: 'number', min: '1', value: '512' });
  const ignore = h('input', { name: 'ignore', placeholder: 'provider names or types, comma-separated' });
  const maxPrice = h('input', { name: 'max_price', type: 'number', min: '0', step: '0.01', placeholder: 'none' });
  const minQuality = h('input', { name: 'min_quality', type: 'number', min: '0', max: '1', step: '0.05', placeholder: 'none' });
  const session = h('input', { name: 'session', placeholder: 'none' });
  const requirements = REQUIREMENTS.map((r) => ({ name: r, box: h('input', { type: 'checkbox', name: r }) }));
  const result = h('div', { 'data-testid': 'pg-result' });

  try {
    /** @type {{ data: { id: string }[] }} */
    const models = await request('GET', '/v1/models');
    replace(model, ['auto', ...models.data.map((m) => m.id)].map((id, i) => h('option', { value: id, selected: i === 1 }, id)));
  } catch (err) {
    result.append(notice(err instanceof Error ? err.message : String(err)));
  }

  const form = h(
    'form',
    { class: 'panel', 'data-testid': 'pg-form' },
    h('div', { class: 'form-row' }, field('Model', model), field('Strategy', strategy), field('Max output tokens', maxTokens), field('Session id (affinity)', session)),
    h('div', { class: 'form-row' }, field('Prompt', prompt)),
    h('div', { class: 'form-row' },
      field('Ignore providers', ignore),
      field('Max price per 1M tokens (USD)', maxPrice),
      field('Minimum quality (0–1)', minQuality),
    ),
    h('div', { class: 'form-row' }, h('span', { class: 'muted small' }, 'Require:'), requirements.map((r) => h('label', { class: 'check' }, r.box, r.name)), h('span', { class: 'toolbar' }, h('button', { type: 'submit', class: 'primary' }, 'Explain route'))),
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    /** @type {Record<string, unknown>} */
    const route = {};
    const ignored = ignore.value.split(',').map((s) => s.trim()).filter(Boolean);
    if (ignored.length) route.providers = { ignore: ignored };
    if (maxPrice.value) route.max_price_per_mtok = Number(maxPrice.value);
    if (minQuality.value) route.min_quality = Number(minQuality.value);
    if (session.value.trim()) route.session_id = session.value.trim();
    const required = requirements.filter((r) => r.box.checked).map((r) => r.name);
    if (required.length) route.require = required;
    const body = {
      model: model.value,
      messages: [{ role: 'user', content: prompt.value }],
      max_tokens: Number(maxTokens.value) || undefined,
      ...(Object.keys(route).length ? { route } : {}),
    };
    replace(result, h('p', { class: 'muted' }, 'Asking the router…'));
    try {
      /** @type {RoutePlan} */
      const plan = await request('POST', '/v1/route/explain', { body, headers: strategy.value ? { 'x-switchyard-strategy': strategy.value } : {} });
      showPlan(plan);
    } catch (err) {
      replace(result, notice(err instanceof Error ? err.message : String(err)));
    }
  });

  /** @param {RoutePlan} plan */
  function showPlan(plan) {
    const weights = Object.entries(plan.weights).map(([k, v]) => `${k} ${v}`).join(' · ');
    const summary = panel(
      'Plan',
      h('dl', { class: 'facts', 'data-testid': 'pg-summary' },
        h('dt', null, 'Model'), h('dd', null, plan.model),
        h('dt', null, 'Strategy'), h('dd', null, badge(plan.strategy, 'info'), ' ', h('span', { class: 'muted small' }, `weights: ${weights}`)),
        h('dt', null, 'Balancer'), h('dd', null, plan.balancer),
        h('dt', null, 'Tokens'), h('dd', null, `${fmtInt(plan.prompt_tokens_estimate)} prompt (estimated) + ${fmtInt(plan.expected_output_tokens)} output (expected)`),
        h('dt', null, 'Affinity'), h('dd', null, plan.affinity ? `${plan.affinity.kind}${plan.affinity.deployment ? ` → ${plan.affinity.deployment}` : ''}` : 'none'),
      ),
      h('h3', null, 'Attempt order'),
      plan.plan.length
        ? h('ol', { class: 'candidates', 'data-testid': 'pg-order' }, plan.plan.map((id, i) => h('li', { class: i === 0 ? 'chosen' : '' }, h('span', { class: 'mono' }, `${i + 1}. ${id}`), i === 0 ? badge('first choice', 'ok') : badge('fallback'))))
        : notice('No deployment is eligible for this request.'),
    );
    const groups = plan.groups.map((group) => {
      const best = Math.max(0, ...group.candidates.map((c) => c.score ?? 0));
      /** @type {ReturnType<typeof dataTable<Candidate>>} */
      const table = dataTable({
        title: `Candidates for ${group.model}`,
        csvName: `switchyard-route-${group.model}`,
        testId: 'pg-candidates',
        columns: [
          { label: 'Rank', value: (c) => c.rank, render: (c) => (c.rank === null ? '—' : String(c.rank)), num: true },
          { label: 'Deployment', value: (c) => c.deployment, render: (c) => h('span', { class: 'mono' }, c.deployment) },
          { label: 'Score', value: (c) => c.score, render: (c) => (c.score === null ? '—' : h('div', { class: 'share' }, bar(best > 0 ? c.score / best : 0), h('span', { class: 'pct' }, c.score.toFixed(3)))) },
          { label: 'Why', value: (c) => c.excluded ?? (c.degraded ? 'degraded' : c.affinity ? 'affinity' : 'eligible'), render: (c) =>
            c.excluded ? badge(c.excluded, 'bad') : c.degraded ? badge('degraded', 'warn') : c.affinity ? badge('affinity', 'info') : badge('eligible', 'ok') },
          { label: 'Exp. cost', value: (c) => c.signals.expected_cost_usd, render: (c) => fmtUsd(c.signals.expected_cost_usd), num: true },
          { label: 'Exp. latency', value: (c) => c.signals.expected_latency_ms, render: (c) => fmtMs(c.signals.expected_latency_ms), num: true },
          { label: 'Availability', value: (c) => c.signals.availability, render: (c) => fmtPct(c.signals.availability), num: true },
          { label: 'Quality', value: (c) => c.signals.quality, render: (c) => (c.signals.quality === null ? '—' : c.signals.quality.toFixed(2)), num: true },
          { label: 'Circuit', value: (c) => c.health.state, render: (c) => badge(c.health.state, c.health.state === 'closed' ? 'ok' : c.health.state === 'open' ? 'bad' : 'warn') },
          { label: 'Success', value: (c) => c.health.success_rate, render: (c) => fmtPct(c.health.success_rate), num: true },
          { label: 'Req/min', value: (c) => c.health.rpm, num: true },
        ],
      });
      table.update(group.candidates);
      return table.el;
    });
    const raw = h('details', { class: 'panel' }, h('summary', null, 'Raw response'), h('pre', { class: 'mono small' }, JSON.stringify(plan, null, 2)));
    replace(result, summary, ...groups, raw);
  }

  replace(
    ctx.root,
    pageHead('Routing playground', 'See how the router would place a request — without calling any provider'),
    form,
    result,
    can('usage.read.org') ? replayPanel() : null,
  );
}
