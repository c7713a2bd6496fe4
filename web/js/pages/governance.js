// Teams and keys: teams, virtual keys and budgets (with spend against the limit), and the forms to
// create a team, a key or a budget and to revoke a key. Controls the caller's role cannot use are
// not shown; the admin API refuses them anyway.
import { ApiError, request } from '../api.js';
import { badge, bar, field, h, notice, replace } from '../dom.js';
import { fmtAgo, fmtInt, fmtPct, fmtTime, fmtUsd } from '../format.js';
import { pageHead } from '../layout.js';
import { can, canAny, KEY_CREATE, KEY_MANAGE, KEY_READ, me } from '../session.js';
import { dataTable } from '../table.js';

/**
 * @typedef {{ rpm: number | null, tpm: number | null, max_concurrency: number | null } | null} Limits
 * @typedef {{ id: string, name: string, limits: Limits, default_strategy: string | null, declared: boolean,
 *   policy: { allow_models?: string[] } | null, created_at: string }} Team
 * @typedef {{ id: string, name: string, prefix: string, team_id: string | null, user_id: string | null, kind: string,
 *   scope: string, status: string, models: string[] | null, limits: Limits, last_used_at: string | null,
 *   expires_at: string | null, declared: boolean, created_at: string }} Key
 * @typedef {{ id: string, scope: 'key' | 'user' | 'team' | 'org', scope_id: string, max_usd: number, period: string,
 *   hard: boolean, spent_usd: number, reserved_usd: number, remaining_usd: number, period_end: string | null }} Budget
 * @typedef {import('../main.js').PageContext} PageContext
 */

const PERIODS = ['daily', 'weekly', 'monthly', 'total'];

/** @param {Limits} l */
function limitsText(l) {
  if (!l) return '—';
  const parts = [];
  if (l.rpm) parts.push(`${fmtInt(l.rpm)} rpm`);
  if (l.tpm) parts.push(`${fmtInt(l.tpm)} tpm`);
  if (l.max_concurrency) parts.push(`${l.max_concurrency} concurrent`);
  return parts.length ? parts.join(' · ') : '—';
}

/** @param {Budget} b */
function budgetProgress(b) {
  const used = b.max_usd > 0 ? (b.spent_usd + b.reserved_usd) / b.max_usd : 0;
  const tone = used >= 1 ? 'bad' : used >= 0.8 ? 'warn' : 'ok';
  return h('div', { class: 'share', title: `${fmtUsd(b.spent_usd)} spent, ${fmtUsd(b.reserved_usd)} reserved of ${fmtUsd(b.max_usd)}` }, bar(used, tone), h('span', { class: 'pct' }, fmtPct(used, 0)));
}

/** @param {string} status */
function keyStatus(status) {
  const tone = status === 'active' ? 'ok' : status === 'rotating' ? 'info' : status === 'revoked' || status === 'expired' ? 'bad' : '';
  return badge(status, tone);
}

/**
 * A number input's value, or undefined when empty.
 * @param {HTMLInputElement} input
 */
function num(input) {
  return input.value.trim() === '' ? undefined : Number(input.value);
}

/** @param {string} text */
function list(text) {
  const items = text.split(',').map((s) => s.trim()).filter(Boolean);
  return items.length ? items : undefined;
}

/** @param {PageContext} ctx */
export async function render(ctx) {
  /** @type {Team[]} */
  let teams = [];
  /** @type {Key[]} */
  let keys = [];
  /** @type {Budget[]} */
  let budgets = [];
  const flash = h('div', { 'data-testid': 'flash' });
  const forms = h('div');
  const includeRevoked = h('input', { type: 'checkbox', 'data-testid': 'include-revoked', onchange: () => void load() });

  const teamName = (/** @type {string | null} */ id) => (id ? (teams.find((t) => t.id === id)?.name ?? id) : '—');
  const scopeName = (/** @type {Budget} */ b) => {
    if (b.scope === 'team') return `team ${teamName(b.scope_id)}`;
    if (b.scope === 'key') return `key ${keys.find((k) => k.id === b.scope_id)?.name ?? b.scope_id}`;
    if (b.scope === 'user') return `user ${me().user?.id === b.scope_id ? '(you)' : b.scope_id}`;
    return 'whole organisation';
  };

  /** @type {ReturnType<typeof dataTable<Budget>>} */
  const budgetTable = dataTable({
    title: 'Budgets',
    csvName: 'switchyard-budgets',
    testId: 'budgets-table',
    empty: 'No budgets.',
    rowId: (b) => b.id,
    columns: [
      { label: 'Applies to', value: scopeName },
      { label: 'Period', value: (b) => b.period },
      { label: 'Kind', value: (b) => (b.hard ? 'hard' : 'soft'), render: (b) => (b.hard ? badge('hard', 'info') : badge('soft')) },
      { label: 'Spent', value: (b) => b.spent_usd, render: (b) => fmtUsd(b.spent_usd), num: true },
      { label: 'Limit', value: (b) => b.max_usd, render: (b) => fmtUsd(b.max_usd), num: true },
      { label: 'Used', value: (b) => (b.max_usd ? (b.spent_usd + b.reserved_usd) / b.max_usd : 0), render: budgetProgress },
      { label: 'Remaining', value: (b) => b.remaining_usd, render: (b) => fmtUsd(b.remaining_usd), num: true },
      { label: 'Period ends', value: (b) => b.period_end, render: (b) => (b.period_end ? fmtTime(b.period_end) : 'never') },
    ],
  });

  /** @type {ReturnType<typeof dataTable<Team>>} */
  const teamTable = dataTable({
    title: 'Teams',
    csvName: 'switchyard-teams',
    testId: 'teams-table',
    empty: 'No teams.',
    rowId: (t) => t.id,
    columns: [
      { label: 'Team', value: (t) => t.name, render: (t) => h('span', null, h('strong', null, t.name), t.declared ? h('span', { class: 'muted small' }, ' (config)') : null) },
      { label: 'Budget', value: (t) => budgets.find((b) => b.scope === 'team' && b.scope_id === t.id)?.spent_usd ?? null, render: (t) => {
        const b = budgets.find((x) => x.scope === 'team' && x.scope_id === t.id);
        return b ? h('div', null, budgetProgress(b), h('div', { class: 'muted small' }, `${fmtUsd(b.spent_usd)} of ${fmtUsd(b.max_usd)} ${b.period}`)) : '—';
      } },
      { label: 'Keys', value: (t) => keys.filter((k) => k.team_id === t.id && k.status !== 'revoked').length, num: true },
      { label: 'Models', value: (t) => t.policy?.allow_models?.join(' ') ?? 'all' },
      { label: 'Limits', value: (t) => limitsText(t.limits) },
      { label: 'Default strategy', value: (t) => t.default_strategy ?? '—' },
      { label: 'Created', value: (t) => t.created_at, render: (t) => fmtTime(t.created_at) },
    ],
  });

  /** @type {ReturnType<typeof dataTable<Key>>} */
  const keyTable = dataTable({
    title: 'Keys',
    csvName: 'switchyard-keys',
    testId: 'keys-table',
    empty: 'No keys.',
    rowId: (k) => k.id,
    actions: [h('label', { class: 'check' }, includeRevoked, 'Show revoked')],
    columns: [
      { label: 'Name', value: (k) => k.name, render: (k) => h('span', null, h('strong', null, k.name), k.declared ? h('span', { class: 'muted small' }, ' (config)') : null) },
      { label: 'Prefix', value: (k) => k.prefix, render: (k) => h('span', { class: 'mono' }, `${k.prefix}…`) },
      { label: 'Team', value: (k) => teamName(k.team_id) },
      { label: 'Scope', value: (k) => k.scope, render: (k) => (k.scope === 'admin' ? badge('admin', 'warn') : badge('inference')) },
      { label: 'Status', value: (k) => k.status, render: (k) => keyStatus(k.status) },
      { label: 'Models', value: (k) => k.models?.join(' ') ?? 'all' },
      { label: 'Budget', value: (k) => budgets.find((b) => b.scope === 'key' && b.scope_id === k.id)?.spent_usd ?? null, render: (k) => {
        const b = budgets.find((x) => x.scope === 'key' && x.scope_id === k.id);
        return b ? budgetProgress(b) : '—';
      } },
      { label: 'Limits', value: (k) => limitsText(k.limits) },
      { label: 'Last used', value: (k) => k.last_used_at, render: (k) => (k.last_used_at ? fmtAgo(k.last_used_at) : 'never') },
      { label: '', value: () => '', sortable: false, render: (k) => {
        const allowed = k.status !== 'revoked' && !k.declared && canAny(KEY_MANAGE, { teamId: k.team_id, ownerUserId: k.user_id });
        if (!allowed) return '';
        return h('button', { type: 'button', class: 'danger', 'data-testid': `revoke-${k.name}`, onclick: () => void revoke(k) }, 'Revoke');
      } },
    ],
  });

  /** @param {Key} key */
  async function revoke(key) {
    if (!confirm(`Revoke the key "${key.name}" (${key.prefix}…)? The gateway refuses it at once.`)) return;
    try {
      await request('DELETE', `/admin/v1/keys/${encodeURIComponent(key.id)}`);
      replace(flash, notice(`Key "${key.name}" revoked.`, 'success'));
      await load();
    } catch (err) {
      replace(flash, notice(err instanceof Error ? err.message : String(err)));
    }
  }

  async function load() {
    /** @type {unknown[]} */
    const errors = [];
    const tasks = [];
    if (can('team.read')) tasks.push(request('GET', '/admin/v1/teams').then((r) => (teams = /** @type {{ data: Team[] }} */ (r).data)).catch((e) => errors.push(e)));
    if (canAny(KEY_READ)) {
      tasks.push(
        request('GET', '/admin/v1/keys', { query: { include_revoked: includeRevoked.checked ? 'true' : undefined } })
          .then((r) => (keys = /** @type {{ data: Key[] }} */ (r).data))
          .catch((e) => errors.push(e)),
      );
    }
    if (can('budget.read')) tasks.push(request('GET', '/admin/v1/budgets').then((r) => (budgets = /** @type {{ data: Budget[] }} */ (r).data)).catch((e) => errors.push(e)));
    await Promise.all(tasks);
    budgetTable.update(budgets);
    teamTable.update(teams);
    keyTable.update(keys);
    if (errors.length) replace(flash, notice(errors.map((e) => (e instanceof Error ? e.message : String(e))).join('; ')));
  }

  // --- forms ------------------------------------------------------------------------------------

  /**
   * @param {string} title
   * @param {string} testId
   * @param {HTMLElement[]} rows
   * @param {() => Promise<void>} submit
   */
  function form(title, testId, rows, submit) {
    const error = h('div');
    const el = h(
      'form',
      { class: 'panel', 'data-testid': testId },
      h('div', { class: 'panel-head' }, h('h2', null, title), h('button', { type: 'button', class: 'link', onclick: () => replace(forms) }, 'Cancel')),
      error,
      ...rows,
      h('div', { class: 'toolbar' }, h('button', { type: 'submit', class: 'primary' }, title)),
    );
    el.addEventListener('submit', async (event) => {
      event.preventDefault();
      try {
        await submit();
      } catch (err) {
        replace(error, notice(err instanceof ApiError && err.param ? `${err.message}` : err instanceof Error ? err.message : String(err)));
      }
    });
    return el;
  }

  const teamOptions = (/** @type {boolean} */ allowNone) => [
    ...(allowNone ? [h('option', { value: '' }, '(no team)')] : []),
    ...teams.map((t) => h('option', { value: t.id }, t.name)),
  ];

  function newTeamForm() {
    const name = h('input', { name: 'name', required: true, placeholder: 'e.g. research' });
    const models = h('input', { name: 'models', placeholder: 'all (or globs: gpt-4o*, claude-*)' });
    const budget = h('input', { name: 'budget', type: 'number', min: '0', step: '0.01', placeholder: 'none' });
    const period = h('select', { name: 'period' }, PERIODS.map((p) => h('option', { value: p, selected: p === 'monthly' }, p)));
    const rpm = h('input', { name: 'rpm', type: 'number', min: '1', placeholder: '—' });
    return form('Create team', 'team-form', [
      h('div', { class: 'form-row' }, field('Name', name), field('Models', models)),
      h('div', { class: 'form-row' }, field('Budget (USD)', budget), field('Period', period), field('Requests per minute', rpm)),
    ], async () => {
      const maxUsd = num(budget);
      const team = await request('POST', '/admin/v1/teams', {
        body: {
          name: name.value.trim(),
          models: list(models.value),
          budget: maxUsd ? { max_usd: maxUsd, period: period.value, hard: true } : undefined,
          limits: num(rpm) ? { rpm: num(rpm) } : undefined,
        },
      });
      replace(forms);
      replace(flash, notice(`Team "${/** @type {Team} */ (team).name}" created.`, 'success'));
      await load();
    });
  }

  function newKeyForm() {
    const name = h('input', { name: 'name', required: true, placeholder: 'e.g. checkout-service' });
    const team = h('select', { name: 'team' }, teamOptions(can('key.create.own') || can('key.manage.any')));
    const models = h('input', { name: 'models', placeholder: 'all (or globs: gpt-4o*, claude-*)' });
    const scope = h('select', { name: 'scope' }, h('option', { value: 'inference' }, 'inference'), h('option', { value: 'admin' }, 'admin (may use the admin API and this dashboard)'));
    const budget = h('input', { name: 'budget', type: 'number', min: '0', step: '0.01', placeholder: 'none' });
    const period = h('select', { name: 'period' }, PERIODS.map((p) => h('option', { value: p, selected: p === 'daily' }, p)));
    const hard = h('input', { type: 'checkbox', name: 'hard', checked: true });
    const rpm = h('input', { name: 'rpm', type: 'number', min: '1', placeholder: '—' });
    const tpm = h('input', { name: 'tpm', type: 'number', min: '1', placeholder: '—' });
    const concurrency = h('input', { name: 'concurrency', type: 'number', min: '1', placeholder: '—' });
    return form('Create key', 'key-form', [
      h('div', { class: 'form-row' }, field('Name', name), field('Team', team), field('Scope', scope)),
      h('div', { class: 'form-row' }, field('Models', models)),
      h('div', { class: 'form-row' }, field('Budget (USD)', budget), field('Period', period), h('label', { class: 'check' }, hard, 'Hard limit (refuse requests over budget)')),
      h('div', { class: 'form-row' }, field('Requests per minute', rpm), field('Tokens per minute', tpm), field('Max concurrent', concurrency)),
    ], async () => {
      const maxUsd = num(budget);
      const limits = { rpm: num(rpm), tpm: num(tpm), max_concurrency: num(concurrency) };
      /** @type {Key & { key: string }} */
      const created = await request('POST', '/admin/v1/keys', {
        body: {
          name: name.value.trim(),
          team_id: team.value || undefined,
          scope: scope.value,
          models: list(models.value),
          budget: maxUsd ? { max_usd: maxUsd, period: period.value, hard: hard.checked } : undefined,
          limits: Object.values(limits).some((v) => v !== undefined) ? limits : undefined,
        },
      });
      replace(forms);
      const secret = h('code', { 'data-testid': 'new-secret' }, created.key);
      const copy = h('button', { type: 'button', onclick: () => void navigator.clipboard?.writeText(created.key) }, 'Copy');
      replace(
        flash,
        h('div', { class: 'notice success', role: 'status' }, `Key "${created.name}" created. Copy its secret now: it is not shown again.`, h('div', { class: 'secret' }, secret, copy)),
      );
      await load();
    });
  }

  function newBudgetForm() {
    const scope = h('select', { name: 'scope' });
    const target = h('select', { name: 'target' });
    const fillTargets = () => {
      const s = scope.value;
      const options = s === 'team' ? teams.map((t) => ({ id: t.id, label: t.name }))
        : s === 'key' ? keys.filter((k) => k.status !== 'revoked').map((k) => ({ id: k.id, label: `${k.name} (${k.prefix}…)` }))
          : [];
      replace(target, options.map((o) => h('option', { value: o.id }, o.label)));
      target.disabled = s === 'org';
    };
    const scopes = [
      ...(teams.length ? ['team'] : []),
      ...(keys.length ? ['key'] : []),
      ...(me().grants.some((g) => g.permission === 'budget.manage' && (g.reach === 'org' || g.reach === 'all')) ? ['org'] : []),
    ];
    replace(scope, scopes.map((s) => h('option', { value: s }, s === 'org' ? 'whole organisation' : s)));
    scope.addEventListener('change', fillTargets);
    fillTargets();
    const maxUsd = h('input', { name: 'max_usd', type: 'number', min: '0.01', step: '0.01', required: true, placeholder: '100' });
    const period = h('select', { name: 'period' }, PERIODS.map((p) => h('option', { value: p, selected: p === 'monthly' }, p)));
    const hard = h('input', { type: 'checkbox', name: 'hard', checked: true });
    return form('Create budget', 'budget-form', [
      h('div', { class: 'form-row' }, field('Applies to', scope), field('Which', target)),
      h('div', { class: 'form-row' }, field('Limit (USD)', maxUsd), field('Period', period), h('label', { class: 'check' }, hard, 'Hard limit')),
    ], async () => {
      await request('POST', '/admin/v1/budgets', {
        body: { scope: scope.value, scope_id: scope.value === 'org' ? undefined : target.value, max_usd: Number(maxUsd.value), period: period.value, hard: hard.checked },
      });
      replace(forms);
      replace(flash, notice('Budget created.', 'success'));
      await load();
    });
  }

  /**
   * @param {string} label
   * @param {boolean} allowed
   * @param {() => HTMLElement} make
   */
  const opener = (label, allowed, make) =>
    allowed
      ? h('button', { type: 'button', class: 'primary', onclick: () => {
        replace(flash);
        replace(forms, make());
        forms.querySelector('input')?.focus();
      } }, label)
      : null;

  const actions = [
    opener('New team', can('team.create'), newTeamForm),
    opener('New key', canAny(KEY_CREATE), newKeyForm),
    opener('New budget', can('budget.manage'), newBudgetForm),
  ].filter((x) => x !== null);

  replace(
    ctx.root,
    pageHead('Teams & keys', 'Virtual keys, the teams they belong to, and their budgets', .../** @type {HTMLElement[]} */ (actions)),
    flash,
    forms,
    budgetTable.el,
    teamTable.el,
    keyTable.el,
  );
  await load();
}
