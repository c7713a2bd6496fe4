// The dashboard in a real browser (Debian's headless Chromium through playwright-core) against
// `switchyard serve` with governance in a temporary SQLite store, in front of simulators, after
// real traffic: sign-in, charts from that traffic, live deployment health, creating a key and a
// budget, revoking, the request explorer with one request's routing decision, the routing
// playground, CSV export, a viewer's restricted view, and the CSP holding throughout.
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSimulator, type SimServer } from '../src/sim/index.ts';
import { freePort, killAll, run } from './support/process.ts';

const MASTER = 'sk-sy-dashboard-master-key';
const BOT_KEY = 'sk-sy-research-bot-secret-0001';
const SHOTS = new URL('../test-output/dashboard/', import.meta.url).pathname;
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-quic', '--no-first-run', '--disable-component-update', '--disable-sync'];

let base: string;
let sims: SimServer[] = [];
let browser: Browser;
let context: BrowserContext;
let page: Page;
/** Console errors other than expected failed fetches, and CSP violations, seen by any page. */
const problems: string[] = [];
/** Request ids the gateway returned, by model. */
const served: Record<string, string[]> = {};
let failedOver: string | undefined;
let viewerKey: string;

async function admin<T = Record<string, unknown>>(method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(`${base}/admin/v1/${path}`, {
    method,
    headers: { authorization: `Bearer ${MASTER}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = (await res.json()) as T;
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

async function traffic(): Promise<void> {
  const clients = [MASTER, BOT_KEY].map((apiKey) => new OpenAI({ apiKey, baseURL: `${base}/v1`, maxRetries: 0 }));
  const models = ['gpt-4o-mini', 'gpt-4o', 'claude-sonnet-4', 'gemini-2.5-flash'];
  const calls = Array.from({ length: 48 }, async (_, i) => {
    const model = models[i % models.length];
    const client = clients[i % 2];
    const messages = [{ role: 'user' as const, content: `Question ${i}: how should ${'requests '.repeat((i % 5) + 1)}be routed?` }];
    if (i % 3 === 0) {
      const stream = await client.chat.completions.create({ model, messages, max_tokens: 40, stream: true });
      for await (const _chunk of stream) {
        // drain
      }
      return;
    }
    const { response } = await client.chat.completions.create({ model, messages, max_tokens: 40 }).withResponse();
    const id = response.headers.get('x-switchyard-request-id') as string;
    (served[model] ??= []).push(id);
    if (Number(response.headers.get('x-switchyard-attempts')) > 1) failedOver ??= id;
  });
  await Promise.all(calls);
}

async function shot(name: string): Promise<void> {
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
}

async function signIn(key: string): Promise<void> {
  await page.goto(`${base}/ui/`);
  await page.getByLabel('Admin key').fill(key);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByTestId('identity').waitFor();
}

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  const dir = mkdtempSync(join(tmpdir(), 'sy-dashboard-'));
  const east = createSimulator('openai', { ttftMs: 30, outputTokens: 24, apiKey: 'k' });
  // Fails a third of its calls with a 500: the router fails over and its success rate drops.
  const west = createSimulator('openai', { ttftMs: 90, outputTokens: 24, apiKey: 'k', errorRates: { 500: 0.34 }, seed: 11 });
  // Always overloaded: gpt-4o tries it first, fails over to east, and its circuit opens.
  const down = createSimulator('openai', { apiKey: 'k', errorRates: { 503: 1 } });
  const claude = createSimulator('anthropic', { ttftMs: 60, outputTokens: 30, apiKey: 'k' });
  const gemini = createSimulator('gemini', { ttftMs: 45, outputTokens: 20, apiKey: 'k' });
  sims = [east, west, down, claude, gemini];
  const [e, w, d, c, g] = await Promise.all(sims.map(async (s) => (await s.listen()).url));
  const config = join(dir, 'switchyard.yaml');
  writeFileSync(
    config,
    `server: { master_key: "\${DASH_MASTER}" }
storage: { sqlite: ${join(dir, 'switchyard.db')} }
providers:
  - { name: openai-east, type: openai, base_url: "${e}/v1", api_key: k }
  - { name: openai-west, type: openai, base_url: "${w}/v1", api_key: k }
  - { name: openai-down, type: openai, base_url: "${d}/v1", api_key: k }
  - { name: claude, type: anthropic, base_url: "${c}", api_key: k }
  - { name: gemini, type: gemini, base_url: "${g}", api_key: k }
models:
  - name: gpt-4o-mini
    fallbacks: [gemini-2.5-flash]
    deployments: [ { provider: openai-east, model: gpt-4o-mini }, { provider: openai-west, model: gpt-4o-mini } ]
  - name: gpt-4o
    deployments: [ { provider: openai-down, model: gpt-4o, priority: 0 }, { provider: openai-east, model: gpt-4o, priority: 1 } ]
  - { name: claude-sonnet-4, deployments: [ { provider: claude, model: claude-sonnet-4-20250514 } ] }
  - { name: gemini-2.5-flash, deployments: [ { provider: gemini, model: gemini-2.5-flash } ] }
teams:
  - { name: research, budget: { max_usd: 5, period: monthly, hard: true } }
keys:
  - { name: research-bot, team: research, key: "\${BOT_KEY}", budget: { max_usd: 1, period: daily, hard: true } }
`,
  );
  const port = await freePort();
  const gw = run(['serve', '--config', config, '--port', String(port)], { env: { DASH_MASTER: MASTER, BOT_KEY } });
  await gw.waitFor('listening on');
  base = `http://127.0.0.1:${port}`;

  const viewer = await admin<{ id: string }>('POST', 'users', { email: 'viewer@example.com', name: 'Vera Viewer', role: 'viewer' });
  viewerKey = (await admin<{ key: string }>('POST', 'keys', { name: 'vera-dashboard', user_id: viewer.id, scope: 'admin' })).key;

  const [, launched] = await Promise.all([traffic(), chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS })]);
  browser = launched;
  context = await browser.newContext({ viewport: { width: 1440, height: 900 }, acceptDownloads: true });
  page = await context.newPage();
  page.setDefaultTimeout(8000);
  page.on('console', (m) => {
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) problems.push(m.text());
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('dialog', (d) => void d.accept());
  // The usage sink writes in batches every 250 ms.
  await new Promise((r) => setTimeout(r, 600));
}, 40_000);

afterAll(async () => {
  await browser?.close();
  killAll();
  await Promise.all(sims.map((s) => s.close()));
});

describe('dashboard', () => {
  it('serves its files with a strict CSP and refuses paths outside web/', async () => {
    const res = await fetch(`${base}/ui/`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(res.headers.get('content-security-policy')).not.toContain('unsafe-inline');
    expect((await fetch(`${base}/ui/vendor/uplot.esm.js`)).headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    for (const path of ['/ui/%2e%2e/package.json', '/ui/..%2fpackage.json', '/ui/js/../../package.json', '/ui/.hidden.js']) {
      expect((await fetch(`${base}${path}`)).status, path).toBe(404);
    }
  });

  it('refuses a wrong key, then signs in with the master key', async () => {
    await page.goto(`${base}/ui/`);
    await page.getByLabel('Admin key').fill('sk-sy-not-a-key');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toMatch(/key/i);
    await signIn(MASTER);
    expect(await page.getByTestId('identity').textContent()).toContain('Master key');
    // The key is in this tab's sessionStorage and nowhere else.
    expect(await page.evaluate(() => sessionStorage.getItem('switchyard.adminKey'))).toBe(MASTER);
    expect(await page.evaluate(() => localStorage.length)).toBe(0);
    expect(await context.cookies()).toEqual([]);
  });

  it('overview: KPIs and charts drawn from the traffic', async () => {
    await page.goto(`${base}/ui/#/overview`);
    const requests = page.getByTestId('kpi-requests').locator('.value');
    await expect.poll(() => requests.textContent(), { timeout: 10_000 }).toMatch(/^\d+$/);
    expect(Number(await requests.textContent())).toBeGreaterThanOrEqual(48);
    expect(await page.getByTestId('kpi-spend').locator('.value').textContent()).toMatch(/^\$0\.0*[1-9]/);
    for (const chart of ['chart-spend', 'chart-requests', 'chart-latency', 'chart-spend-by-group']) {
      const el = page.getByTestId(chart);
      expect(Number(await el.getAttribute('data-points')), chart).toBeGreaterThan(0);
      await expect.poll(() => el.locator('canvas').count(), { timeout: 5000 }).toBe(1);
    }
    const models = await page.getByTestId('summary-table').locator('tbody tr td:first-child').allTextContents();
    expect(models).toEqual(expect.arrayContaining(['gpt-4o-mini', 'gpt-4o', 'claude-sonnet-4', 'gemini-2.5-flash']));
    await shot('overview');
  });

  it('models and providers: every deployment with its health and share of traffic', async () => {
    await page.goto(`${base}/ui/#/deployments`);
    const rows = page.getByTestId('deployments-table').locator('tbody tr');
    await expect.poll(() => rows.count()).toBe(6);
    const api = await admin<{ data: Array<{ id: string; circuit_state: string; recent_requests: number; traffic_share: number; success_rate: number }> }>('GET', 'deployments');
    expect(api.data.reduce((n, d) => n + d.traffic_share, 0)).toBeCloseTo(1, 2);
    const down = api.data.find((d) => d.id === 'gpt-4o/openai-down/gpt-4o');
    expect(down).toMatchObject({ circuit_state: 'open' });
    expect(down?.recent_requests).toBeGreaterThan(0);
    expect(down?.success_rate).toBeLessThan(0.5);
    const row = page.getByTestId('deployments-table').locator('tr[data-id="gpt-4o/openai-down/gpt-4o"]');
    expect(await row.textContent()).toContain('openai-down');
    expect(await row.locator('.badge').first().textContent()).toBe('open');
    expect(await page.getByTestId('kpi-healthy').locator('.value').textContent()).toBe('5');
    const byProvider = page.getByTestId('chart-provider-requests');
    await expect.poll(() => byProvider.locator('canvas').count()).toBe(1);
    expect(Number(await byProvider.getAttribute('data-points'))).toBeGreaterThan(0);
    const providers = await page.getByTestId('providers-table').locator('tbody tr td:first-child').allTextContents();
    expect(providers).toEqual(expect.arrayContaining(['openai-east', 'claude', 'gemini']));
    await shot('models-and-providers');
  });

  it('teams and keys: creates a key with a budget, and the key works at once', async () => {
    await page.goto(`${base}/ui/#/governance`);
    await page.getByRole('button', { name: 'New key' }).click();
    const form = page.getByTestId('key-form');
    await form.getByLabel('Name').fill('checkout-service');
    await form.getByLabel('Team').selectOption({ label: 'research' });
    await form.getByLabel('Models').fill('gpt-4o*, claude-*');
    await form.getByLabel('Budget (USD)').fill('2.5');
    await form.getByLabel('Period').selectOption('daily');
    await form.getByLabel('Requests per minute').fill('120');
    await form.getByRole('button', { name: 'Create key' }).click();
    const secret = (await page.getByTestId('new-secret').textContent()) ?? '';
    expect(secret).toMatch(/^sk-sy-/);
    const row = page.getByTestId('keys-table').locator('tbody tr', { hasText: 'checkout-service' });
    await expect.poll(() => row.textContent()).toContain('research');
    expect(await row.textContent()).toContain('120 rpm');

    const client = new OpenAI({ apiKey: secret, baseURL: `${base}/v1`, maxRetries: 0 });
    await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] });
    await expect(client.chat.completions.create({ model: 'gemini-2.5-flash', messages: [{ role: 'user', content: 'hi' }] })).rejects.toBeInstanceOf(OpenAI.NotFoundError);
    const budgets = await admin<{ data: Array<{ scope: string; max_usd: number; period: string; spent_usd: number }> }>('GET', 'budgets?scope=key');
    expect(budgets.data).toEqual(expect.arrayContaining([expect.objectContaining({ max_usd: 2.5, period: 'daily' })]));
    await shot('teams-and-keys-new-key');
  });

  it('teams and keys: creates a team budget shown with a progress bar', async () => {
    await page.getByRole('button', { name: 'New budget' }).click();
    const form = page.getByTestId('budget-form');
    await form.getByLabel('Applies to').selectOption('team');
    await form.getByLabel('Which').selectOption({ label: 'research' });
    await form.getByLabel('Limit (USD)').fill('40');
    await form.getByLabel('Period').selectOption('weekly');
    await form.getByRole('button', { name: 'Create budget' }).click();
    const row = page.getByTestId('budgets-table').locator('tbody tr', { hasText: '$40.00' });
    await expect.poll(() => row.textContent()).toContain('weekly');
    expect(await row.textContent()).toContain('team research');
    await expect.poll(() => row.locator('[role=meter]').count()).toBe(1);
    // The research team has spent money (the bot's traffic): its monthly bar is not empty.
    const monthly = page.getByTestId('budgets-table').locator('tbody tr', { hasText: '$5.00' });
    expect(Number(await monthly.locator('[role=meter]').getAttribute('aria-valuenow'))).toBeGreaterThanOrEqual(0);
    expect(await monthly.textContent()).toMatch(/\$0\.0*[1-9]/);
    await shot('teams-and-keys');
  });

  it('teams and keys: revokes a key, and the gateway refuses it', async () => {
    const created = await admin<{ key: string; id: string }>('POST', 'keys', { name: 'short-lived' });
    await page.reload();
    await page.getByTestId('revoke-short-lived').click();
    await expect.poll(() => page.getByTestId('flash').textContent()).toContain('revoked');
    const client = new OpenAI({ apiKey: created.key, baseURL: `${base}/v1`, maxRetries: 0 });
    await expect(client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] })).rejects.toBeInstanceOf(OpenAI.AuthenticationError);
  });

  it('exports a table as CSV', async () => {
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByTestId('keys-table').getByRole('button', { name: 'Export CSV' }).click(),
    ]);
    expect(download.suggestedFilename()).toBe('switchyard-keys.csv');
    const csv = readFileSync((await download.path()) as string, 'utf8');
    const [header, ...lines] = csv.trim().split('\r\n');
    expect(header).toBe('Name,Prefix,Team,Scope,Status,Models,Budget,Limits,Last used');
    expect(lines.find((l) => l.startsWith('checkout-service,'))).toContain('research');
  });

  it('request explorer: filters, then opens one request’s routing decision', async () => {
    const id = served['claude-sonnet-4'][0];
    const rated = await fetch(`${base}/v1/feedback`, {
      method: 'POST',
      headers: { authorization: `Bearer ${MASTER}`, 'content-type': 'application/json' },
      body: JSON.stringify({ request_id: id, rating: 'up' }),
    });
    expect(rated.status).toBe(200);
    await page.goto(`${base}/ui/#/requests`);
    await page.getByTestId('request-filters').getByLabel('Model').fill('claude-sonnet-4');
    await page.getByTestId('request-filters').getByRole('button', { name: 'Apply' }).click();
    const table = page.getByTestId('requests-table');
    await expect.poll(() => table.locator(`tr[data-id="${id}"]`).count(), { timeout: 10_000 }).toBe(1);
    const models = await table.locator('tbody tr td:nth-child(2)').allTextContents();
    expect(new Set(models)).toEqual(new Set(['claude-sonnet-4']));
    await table.locator(`tr[data-id="${id}"]`).click();
    const detail = page.getByTestId('request-detail');
    await expect.poll(() => detail.getByTestId('candidates').textContent()).toContain('claude-sonnet-4/claude/claude-sonnet-4-20250514');
    const decision = await detail.getByTestId('routing-decision').textContent();
    expect(decision).toContain('strategy:');
    expect(decision).toContain('Feedback1 (success)');
    expect(page.url()).toContain(`#/requests/${id}`);
    await shot('request-explorer');
  });

  it('request explorer: a failed-over request shows its failed attempt', async () => {
    expect(failedOver, 'the flaky simulator caused at least one failover').toBeDefined();
    await page.goto(`${base}/ui/#/requests/${failedOver}`);
    const attempts = page.getByTestId('request-detail').getByTestId('attempts');
    await expect.poll(() => attempts.locator('li').count(), { timeout: 10_000 }).toBeGreaterThan(1);
    expect(await attempts.textContent()).toContain('openai-down');
    expect(await attempts.textContent()).toContain('overloaded');
  });

  it('routing playground: explains a plan with reasons, without calling a provider', async () => {
    await page.goto(`${base}/ui/#/playground`);
    const form = page.getByTestId('pg-form');
    await page.getByTestId('pg-model').selectOption('gpt-4o-mini');
    await form.getByLabel('Strategy').selectOption('cost');
    await form.getByLabel('Ignore providers').fill('openai-west');
    await form.getByRole('button', { name: 'Explain route' }).click();
    const order = page.getByTestId('pg-order');
    await expect.poll(() => order.locator('li').first().textContent()).toContain('gpt-4o-mini/openai-east/gpt-4o-mini');
    expect(await order.textContent()).not.toContain('openai-west');
    expect(await page.getByTestId('pg-summary').textContent()).toContain('cost');
    const candidates = page.getByTestId('pg-candidates').first();
    expect(await candidates.locator('tr', { hasText: 'openai-west' }).textContent()).toContain('provider_ignored');
    await shot('routing-playground');
  });

  it('routing playground: replays a policy on the recorded traffic', async () => {
    const form = page.getByTestId('replay-form');
    await form.getByTestId('replay-policy').fill('routing:\n  strategy: cost\n');
    await form.getByRole('button', { name: 'Replay' }).click();
    const comparison = page.getByTestId('replay-comparison');
    const requests = comparison.locator('tbody tr').filter({ has: page.locator('td:first-child', { hasText: /^Requests$/ }) });
    await expect.poll(() => requests.count(), { timeout: 10_000 }).toBe(1);
    const [recorded, estimated] = await requests.locator('td.num').allTextContents();
    expect(Number(recorded)).toBeGreaterThan(20);
    expect(Number(estimated)).toBe(Number(recorded));
    expect(await page.getByTestId('replay-result').textContent()).toContain('strategy cost');
    const models = await page.getByTestId('replay-models').locator('tbody tr td:first-child').allTextContents();
    expect(models.length).toBeGreaterThan(0);
    await page.getByTestId('replay-form').scrollIntoViewIfNeeded();
    await shot('policy-replay');
  });

  it('a viewer sees the data but no controls to change it', async () => {
    await page.getByRole('button', { name: 'Sign out' }).click();
    await signIn(viewerKey);
    expect(await page.getByTestId('identity').textContent()).toContain('Vera Viewer');
    await page.goto(`${base}/ui/#/governance`);
    await expect.poll(() => page.getByTestId('keys-table').locator('tbody tr', { hasText: 'checkout-service' }).count()).toBe(1);
    expect(await page.getByRole('button', { name: 'New key' }).count()).toBe(0);
    expect(await page.getByRole('button', { name: 'New budget' }).count()).toBe(0);
    expect(await page.getByRole('button', { name: 'Revoke' }).count()).toBe(0);
    // And the API refuses it anyway.
    const res = await page.evaluate(async (key) => (await fetch('/admin/v1/keys', { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: '{"name":"x"}' })).status, viewerKey);
    expect(res).toBe(403);
    await shot('viewer');
  });

  it('no script errors and no CSP violations on any page', () => {
    expect(problems).toEqual([]);
  });
});
