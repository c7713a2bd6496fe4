// Building DOM nodes without HTML strings: text always goes through text nodes, so data from the API
// can never become markup.

/** @typedef {Node | string | number | null | undefined | false} Child */
/**
 * @typedef {{ class?: string, text?: string, dataset?: Record<string, string>,
 *   [attr: string]: unknown }} Attrs
 */

/**
 * `h('button', { class: 'primary', onclick: fn }, 'Save')`. Attributes starting with `on` are event
 * listeners; `true` sets a boolean attribute, `false`/null/undefined leave it out.
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {Attrs | null} [attrs]
 * @param {...(Child | Child[])} children
 * @returns {HTMLElementTagNameMap[K]}
 */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name === 'class') el.className = String(value);
    else if (name === 'text') el.textContent = String(value);
    else if (name === 'dataset') Object.assign(el.dataset, value);
    else if (name.startsWith('on') && typeof value === 'function') el.addEventListener(name.slice(2), /** @type {EventListener} */ (value));
    else if (name === 'value' && 'value' in el) /** @type {HTMLInputElement} */ (el).value = String(value);
    else el.setAttribute(name, value === true ? '' : String(value));
  }
  append(el, children);
  return el;
}

/**
 * @param {Element} el
 * @param {(Child | Child[])[]} children
 */
export function append(el, children) {
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/**
 * Replaces an element's children.
 * @param {Element} el
 * @param {...(Child | Child[])} children
 */
export function replace(el, ...children) {
  el.replaceChildren();
  append(el, children);
}

/**
 * @param {string} message
 * @param {'error' | 'info' | 'success'} [kind]
 */
export function notice(message, kind = 'error') {
  return h('div', { class: `notice ${kind}`, role: kind === 'error' ? 'alert' : 'status' }, message);
}

/**
 * A horizontal bar for a fraction in [0, 1]. Its width is set through the CSSOM (allowed by the CSP).
 * @param {number} fraction
 * @param {string} [tone] ok, warn or bad
 */
export function bar(fraction, tone = '') {
  const fill = h('span');
  fill.style.width = `${Math.max(0, Math.min(1, fraction)) * 100}%`;
  return h('div', { class: `bar ${tone}`, role: 'meter', 'aria-valuemin': '0', 'aria-valuemax': '100', 'aria-valuenow': String(Math.round(fraction * 100)) }, fill);
}

/**
 * @param {string} text
 * @param {string} [tone] ok, warn, bad or info
 */
export function badge(text, tone = '') {
  return h('span', { class: `badge ${tone}` }, text);
}

/**
 * A labelled form control.
 * @param {string} label
 * @param {HTMLElement} control
 */
export function field(label, control) {
  return h('label', { class: 'field' }, label, control);
}
