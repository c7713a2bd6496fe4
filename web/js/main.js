// The dashboard shell: sign-in, navigation between pages (hash routes), the shared time range.
import { ApiError, request } from './api.js';
import { h, notice, replace } from './dom.js';
import { currentRange } from './range.js';
import { canAny, clearKey, getKey, identity, KEY_READ, setKey, setMe, USAGE_READ } from './session.js';
import * as deployments from './pages/deployments.js';
import * as governance from './pages/governance.js';
import * as overview from './pages/overview.js';
import * as playground from './pages/playground.js';
import * as requests from './pages/requests.js';

/**
 * @typedef {import('./range.js').Range} Range
 * @typedef {object} PageContext
 * @property {HTMLElement} root where the page draws
 * @property {() => Range} range the selected time range, ending now
 * @property {string[]} params the hash route's segments after the page name
 * @property {(fn: () => void) => void} onLeave runs when the page is left
 * @typedef {{ id: string, title: string, visible: () => boolean, render: (ctx: PageContext) => Promise<void> | void }} Page
 */

/** @type {Page[]} */
const PAGES = [
  { id: 'overview', title: 'Overview', visible: () => canAny(USAGE_READ), render: overview.render },
  { id: 'deployments', title: 'Models & providers', visible: () => canAny(['config.read']), render: deployments.render },
  { id: 'governance', title: 'Teams & keys', visible: () => canAny(['team.read', 'budget.read', ...KEY_READ]), render: governance.render },
  { id: 'requests', title: 'Requests', visible: () => canAny(USAGE_READ), render: requests.render },
  { id: 'playground', title: 'Routing playground', visible: () => true, render: playground.render },
];

const app = /** @type {HTMLElement} */ (document.getElementById('app'));
/** @type {(() => void)[]} */
const leaving = [];

/** @param {string} [message] */
function showLogin(message) {
  leave();
  window.onhashchange = null;
  const input = h('input', { type: 'password', name: 'key', autocomplete: 'off', placeholder: 'sk-sy-…', 'aria-label': 'Admin key', required: true });
  const status = h('div');
  if (message) status.append(notice(message));
  const form = h(
    'form',
    { class: 'panel', 'data-testid': 'login' },
    h('div', { class: 'brand' }, h('img', { src: 'favicon.svg', alt: '' }), 'Switchyard'),
    h('p', { class: 'muted' }, 'Sign in with the master key or an admin-scope virtual key. The key stays in this browser tab only.'),
    status,
    h('label', { class: 'field' }, 'Admin key', input),
    h('button', { type: 'submit', class: 'primary' }, 'Sign in'),
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const key = input.value.trim();
    try {
      const me = await request('GET', '/admin/v1/me', { key });
      setKey(key);
      setMe(/** @type {import('./session.js').Me} */ (me));
      input.value = '';
      start();
    } catch (err) {
      replace(status, notice(err instanceof ApiError ? err.message : 'The gateway did not answer.'));
    }
  });
  replace(app, h('div', { class: 'login' }, form));
  input.focus();
}

function leave() {
  for (const fn of leaving.splice(0)) {
    try {
      fn();
    } catch {
      // A page's cleanup failing must not keep the next page from drawing.
    }
  }
}

function start() {
  const who = identity();
  const nav = h('nav', { class: 'nav', 'aria-label': 'Pages' });
  const main = h('main', { class: 'main' });
  const signOut = h('button', { type: 'button', onclick: () => {
    clearKey();
    setMe(null);
    location.hash = '';
    showLogin();
  } }, 'Sign out');
  replace(
    app,
    h(
      'div',
      { class: 'shell' },
      h('aside', { class: 'sidebar' },
        h('div', { class: 'brand' }, h('img', { src: 'favicon.svg', alt: '' }), 'Switchyard'),
        nav,
        h('div', { class: 'who', 'data-testid': 'identity' }, h('strong', null, who.name), who.role, signOut),
      ),
      main,
    ),
  );
  const visible = PAGES.filter((p) => p.visible());
  for (const page of visible) nav.append(h('a', { href: `#/${page.id}`, 'data-page': page.id }, page.title));

  const show = async () => {
    leave();
    const [name, ...params] = location.hash.replace(/^#\/?/, '').split('/').map(decodeURIComponent);
    const page = visible.find((p) => p.id === name) ?? visible[0];
    for (const a of nav.querySelectorAll('a')) a.classList.toggle('active', a.getAttribute('data-page') === page.id);
    document.title = `${page.title} · Switchyard`;
    const root = h('div', { 'data-testid': `page-${page.id}` });
    replace(main, root);
    /** @type {PageContext} */
    const ctx = {
      root,
      range: currentRange,
      params: page.id === name ? params : [],
      onLeave: (fn) => leaving.push(fn),
    };
    try {
      await page.render(ctx);
    } catch (err) {
      root.append(notice(err instanceof Error ? err.message : String(err)));
    }
  };
  window.onhashchange = () => void show();
  void show();
}

window.addEventListener('switchyard:signed-out', (event) => {
  setMe(null);
  showLogin(/** @type {CustomEvent<string>} */ (event).detail || 'Your session ended; sign in again.');
});

async function boot() {
  const key = getKey();
  if (!key) return showLogin();
  try {
    setMe(await request('GET', '/admin/v1/me'));
    start();
  } catch (err) {
    clearKey();
    showLogin(err instanceof ApiError ? err.message : undefined);
  }
}

void boot();
