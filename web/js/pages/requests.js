// Request explorer: recent requests with filters, and one request's routing decision — the
// candidates with their scores or exclusion reasons, the reason for the choice, and its attempts.
import { isMissingRoute, request } from '../api.js';
import { getRequest, listRequests, MISSING_ANALYTICS, parseCandidates } from '../analytics.js';
import { badge, field, h, notice, replace } from '../dom.js';
import { fmtInt, fmtMs, fmtShortTime, fmtTime, fmtUsd } from '../format.js';
import { pageHead } from '../layout.js';
import { rangePicker } from '../range.js';
import { namer } from '../names.js';
import { dataTable } from '../table.js';

/**
 * @typedef {import('../analytics.js').RequestRow} RequestRow
 * @typedef {import('../analytics.js').RequestDetail} RequestDetail
 * @typedef {import('../main.js').PageContext} PageContext
 */

const PAGE_SIZE = 50;
const ERROR_CLASSES = ['', 'rate_limit', 'overloaded', 'upstream', 'timeout', 'stream_cut', 'context_length', 'content_policy', 'bad_request', 'auth', 'permission', 'budget_exceeded', 'not_found', 'internal'];

/** @param {number} status */
function statusBadge(status) {
  return badge(String(status), status < 400 ? 'ok' : status === 429 || status < 500 ? 'warn' : 'bad');
}

/** @param {PageContext} ctx */
export async function render(ctx) {
  const filters = {
    model: h('input', { name: 'model', placeholder: 'any', list: 'sy-models' }),
    provider: h('input', { name: 'provider', placeholder: 'any' }),
    status: h('input', { name: 'status', placeholder: 'any, e.g. 429 or 5xx' }),
    error_class: h('select', { name: 'error_class' }, ERROR_CLASSES.map((c) => h('option', { value: c }, c || 'any'))),
    team_id: h('input', { name: 'team_id', placeholder: 'any team id' }),
    key_id: h('input', { name: 'key_id', placeholder: 'any key id' }),
  };
  const status = h('div');
  const detail = h('aside', { class: 'panel hidden', 'data-testid': 'request-detail' });
  const more = h('button', { type: 'button', class: 'hidden', 'data-testid': 'load-more', onclick: () => void load(false) }, 'Load more');
  /** @type {string | null} */
  let cursor = null;
  /** @type {RequestRow[]} */
  let rows = [];

  /** @type {ReturnType<typeof dataTable<RequestRow>>} */
  const table = dataTable({
    title: 'Requests',
    csvName: 'switchyard-requests',
    testId: 'requests-table',
    empty: 'No requests match.',
    rowId: (r) => r.request_id,
    onRowClick: (r) => {
      // The list stays as it is: only the address changes, so the detail can be linked to.
      history.replaceState(null, '', `#/requests/${encodeURIComponent(r.request_id)}`);
      void open(r.request_id);
    },
    columns: [
      { label: 'Time', value: (r) => r.ts, render: (r) => fmtShortTime(r.ts) },
      { label: 'Model', value: (r) => r.model },
      { label: 'Provider', value: (r) => r.provider },
      { label: 'Status', value: (r) => r.status, render: (r) => h('span', null, statusBadge(r.status), r.error_class ? h('span', { class: 'muted small' }, ` ${r.error_class}`) : null) },
      { label: 'Latency', value: (r) => r.latency_ms, render: (r) => fmtMs(r.latency_ms), num: true },
      { label: 'TTFT', value: (r) => r.ttft_ms, render: (r) => fmtMs(r.ttft_ms), num: true },
      { label: 'Tokens', value: (r) => r.prompt_tokens + r.completion_tokens, render: (r) => `${fmtInt(r.prompt_tokens)} / ${fmtInt(r.completion_tokens)}`, num: true },
      { label: 'Cost', value: (r) => r.cost_usd, render: (r) => fmtUsd(r.cost_usd), num: true },
      { label: 'Attempts', value: (r) => r.attempts, num: true },
      { label: 'Strategy', value: (r) => r.strategy },
      { label: 'Stream', value: (r) => (r.stream ? 'yes' : 'no') },
      { label: 'Request id', value: (r) => r.request_id, render: (r) => h('span', { class: 'mono small' }, r.request_id) },
    ],
  });

  const query = () => {
    const range = ctx.range();
    /** @type {import('../api.js').Query} */
    const q = { from: range.from, to: range.to, limit: PAGE_SIZE };
    for (const [name, input] of Object.entries(filters)) q[name] = input.value.trim();
    return q;
  };

  /** @param {boolean} reset */
  async function load(reset) {
    try {
      const page = await listRequests({ ...query(), cursor: reset ? undefined : (cursor ?? undefined) });
      rows = reset ? page.data : [...rows, ...page.data];
      cursor = page.next_cursor;
      table.update(rows);
      more.classList.toggle('hidden', !cursor);
      replace(status);
    } catch (err) {
      replace(status, notice(isMissingRoute(err) ? MISSING_ANALYTICS : err instanceof Error ? err.message : String(err)));
    }
  }

  /** @param {string} id */
  async function open(id) {
    table.select(id);
    detail.classList.remove('hidden');
    replace(detail, h('p', { class: 'muted' }, 'Loading…'));
    layout.classList.remove('single');
    try {
      const [record, team, key] = await Promise.all([getRequest(id), namer('team'), namer('key')]);
      showDetail(record, team, key);
    } catch (err) {
      replace(detail, notice(err instanceof Error ? err.message : String(err)));
    }
  }

  function close() {
    history.replaceState(null, '', '#/requests');
    table.select(null);
    detail.classList.add('hidden');
    layout.classList.add('single');
  }

  /**
   * @param {RequestDetail} r
   * @param {(id: string | null) => string} teamName
   * @param {(id: string | null) => string} keyName
   */
  function showDetail(r, teamName, keyName) {
    const candidates = parseCandidates(r.candidates);
    const fact = (/** @type {string} */ label, /** @type {Node | string | null | undefined} */ value) => [h('dt', null, label), h('dd', null, value ?? '—')];
    const saved = r.baseline_cost_usd !== null && r.baseline_cost_usd !== undefined ? r.baseline_cost_usd - r.cost_usd : null;
    const fallbacks = typeof r.fallback_reason === 'string' && r.fallback_reason ? r.fallback_reason.split(',') : [];
    replace(
      detail,
      h('div', { class: 'panel-head' }, h('h2', null, 'Request'), h('button', { type: 'button', class: 'link', onclick: close }, 'Close')),
      h('p', { class: 'mono small' }, r.request_id),
      h('dl', { class: 'facts', 'data-testid': 'request-facts' },
        fact('Time', fmtTime(r.ts)),
        fact('Status', h('span', null, statusBadge(r.status), r.error_class ? ` ${r.error_class}` : '')),
        fact('Model', r.requested_model && r.requested_model !== r.model ? `${r.model} (asked for ${r.requested_model})` : r.model),
        fact('Deployment', r.deployment ? h('span', { class: 'mono' }, r.deployment) : null),
        fact('Provider', r.provider),
        fact('Latency', `${fmtMs(r.latency_ms)} (first token ${fmtMs(r.ttft_ms)})`),
        fact('Tokens', `${fmtInt(r.prompt_tokens)} in / ${fmtInt(r.completion_tokens)} out`),
        fact('Cost', fmtUsd(r.cost_usd)),
        fact('Baseline cost', r.baseline_cost_usd === undefined ? null : fmtUsd(r.baseline_cost_usd)),
        fact('Saved', saved === null ? null : fmtUsd(saved)),
        fact('Stream', r.stream ? (r.client_abandoned ? 'yes, abandoned by the client' : 'yes') : 'no'),
        fact('Team', r.team_id ? teamName(r.team_id) : '—'),
        fact('Key', r.key_id ? keyName(r.key_id) : 'master key'),
      ),
      h('h3', null, 'Routing decision'),
      h('dl', { class: 'facts', 'data-testid': 'routing-decision' },
        fact('Strategy', r.strategy),
        fact('Reason', r.route_reason ? h('span', { class: 'mono' }, r.route_reason) : null),
        r.complexity !== null && r.complexity !== undefined ? fact('Complexity', String(r.complexity)) : null,
        r.auto_tier ? fact('Auto tier', r.auto_tier) : null,
        r.task_cluster ? fact('Task', r.task_cluster) : null,
        typeof r.feedback_score === 'number' ? fact('Feedback', r.feedback_score >= 0.5 ? `${r.feedback_score} (success)` : `${r.feedback_score} (failure)`) : null,
      ),
      h('h3', null, `Candidates (${candidates.length})`),
      candidates.length === 0
        ? h('p', { class: 'muted' }, 'No candidates recorded.')
        : h('ol', { class: 'candidates', 'data-testid': 'candidates' }, candidates.map((c, i) => {
          const served = c.deployment === r.deployment;
          return h('li', { class: c.excluded ? 'excluded' : served ? 'chosen' : '' },
            h('span', { class: 'mono' }, `${c.excluded ? '' : `${i + 1}. `}${c.deployment}`),
            h('span', { class: 'nowrap' },
              c.affinity ? badge('affinity', 'info') : null, ' ',
              served ? badge('served', 'ok') : null, ' ',
              c.excluded ? badge(c.excluded, 'warn') : c.score !== null ? `score ${c.score.toFixed(3)}` : ''));
        })),
      h('h3', null, `Attempts (${r.attempts})`),
      h('ol', { class: 'candidates', 'data-testid': 'attempts' },
        fallbacks.map((f) => {
          const [provider, errorClass] = f.split(':');
          return h('li', { class: 'excluded' }, h('span', null, provider), badge(errorClass ?? 'failed', 'bad'));
        }),
        h('li', { class: r.status < 400 ? 'chosen' : 'excluded' }, h('span', { class: 'mono' }, r.deployment ?? r.provider ?? '—'), statusBadge(r.status)),
      ),
      typeof r.request_body === 'string' ? h('details', null, h('summary', null, 'Request body'), h('pre', { class: 'mono small' }, r.request_body)) : null,
      typeof r.response_body === 'string' ? h('details', null, h('summary', null, 'Response body'), h('pre', { class: 'mono small' }, r.response_body)) : null,
    );
  }

  const layout = h('div', { class: 'split single' }, table.el, detail);
  const filterForm = h(
    'form',
    { class: 'panel', 'data-testid': 'request-filters' },
    h('div', { class: 'form-row' },
      field('Model', filters.model),
      field('Provider', filters.provider),
      field('Status', filters.status),
      field('Error class', filters.error_class),
      field('Team', filters.team_id),
      field('Key', filters.key_id),
      h('button', { type: 'submit', class: 'primary' }, 'Apply'),
    ),
  );
  filterForm.addEventListener('submit', (event) => {
    event.preventDefault();
    void load(true);
  });

  const models = h('datalist', { id: 'sy-models' });
  request('GET', '/v1/models')
    .then((r) => replace(models, /** @type {{ data: { id: string }[] }} */ (r).data.map((m) => h('option', { value: m.id }))))
    .catch(() => {});

  replace(ctx.root, models, pageHead('Requests', 'Every request through the gateway, with its routing decision', rangePicker(() => void load(true))), filterForm, status, layout, more);
  await load(true);
  const id = ctx.params[0];
  if (id) await open(id);
}
