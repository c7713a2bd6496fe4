// Pieces every page uses: the heading row and the KPI tiles.
import { h } from './dom.js';

/**
 * @param {string} title
 * @param {string} sub
 * @param {...Node} actions
 */
export function pageHead(title, sub, ...actions) {
  return h('header', { class: 'page-head' }, h('div', null, h('h1', null, title), h('div', { class: 'sub' }, sub)), h('div', { class: 'toolbar' }, ...actions));
}

/**
 * @param {string} label
 * @param {string} value
 * @param {{ hint?: string, tone?: 'good' | 'bad' | '', testId?: string }} [options]
 */
export function kpi(label, value, options = {}) {
  return h(
    'div',
    { class: `kpi ${options.tone ?? ''}`, 'data-testid': options.testId ?? null },
    h('div', { class: 'label' }, label),
    h('div', { class: 'value' }, value),
    options.hint ? h('div', { class: 'hint' }, options.hint) : null,
  );
}

/**
 * A titled panel.
 * @param {string} title
 * @param {...(Node | null)} children
 */
export function panel(title, ...children) {
  return h('section', { class: 'panel' }, h('div', { class: 'panel-head' }, h('h2', null, title)), ...children);
}
