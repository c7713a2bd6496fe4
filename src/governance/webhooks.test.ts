import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { BudgetAlert } from './budget-engine.ts';
import { signatureHeader, verifySignature, WebhookDispatcher, type DeliveryResult, type WebhookOptions } from './webhooks.ts';

const SECRET = 'whsec_test';
const NOW = Date.parse('2024-03-15T12:00:00Z');

const alert: BudgetAlert = {
  type: 'budget.threshold',
  budget: { id: 'bud_1', orgId: 'org_1', scope: 'team', scopeId: 'team_eng', maxUsd: 100, period: 'monthly', hard: true, alertThresholds: [0.8], createdAt: 0 },
  threshold: 0.8,
  spentUsd: 80.5,
  limitUsd: 100,
  periodStart: Date.parse('2024-02-29T23:00:00Z'),
  periodEnd: Date.parse('2024-03-31T22:00:00Z'),
  timezone: 'Europe/Berlin',
  ts: NOW,
};

interface Received {
  headers: IncomingMessage['headers'];
  body: string;
}

/** A receiver that answers with the next scripted status (the last one repeats). */
async function receiver(statuses: number[], extraHeaders: Record<string, string> = {}): Promise<{ url: string; received: Received[]; server: Server }> {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      const status = statuses[Math.min(received.length - 1, statuses.length - 1)];
      res.writeHead(status, extraHeaders).end('{"ok":true}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  servers.push(server);
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`, received, server };
}

const servers: Server[] = [];
const dispatchers: WebhookDispatcher[] = [];
afterEach(async () => {
  await Promise.all(dispatchers.splice(0).map((d) => d.close()));
  await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
});

function dispatcher(options: Partial<WebhookOptions> & Pick<WebhookOptions, 'endpoints'>): { d: WebhookDispatcher; sleeps: number[]; results: DeliveryResult[] } {
  const sleeps: number[] = [];
  const results: DeliveryResult[] = [];
  const d = new WebhookDispatcher({
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    now: () => NOW,
    random: () => 0.5,
    onResult: (r) => results.push(r),
    ...options,
  });
  dispatchers.push(d);
  return { d, sleeps, results };
}

describe('WebhookDispatcher', () => {
  it('POSTs the signed alert JSON', async () => {
    const hook = await receiver([200]);
    const { d, results } = dispatcher({ endpoints: [{ url: hook.url, secret: SECRET }] });
    const eventId = d.enqueueAlert(alert);
    await d.drain();

    expect(hook.received).toHaveLength(1);
    const [{ headers, body }] = hook.received;
    expect(headers['content-type']).toBe('application/json');
    expect(headers['x-switchyard-event-id']).toBe(eventId);
    expect(headers['x-switchyard-signature']).toBe(signatureHeader(SECRET, NOW / 1000, body));
    expect(verifySignature(SECRET, String(headers['x-switchyard-signature']), body, NOW / 1000)).toBe(true);
    expect(JSON.parse(body)).toEqual({
      id: eventId,
      type: 'budget.threshold',
      budget: { id: 'bud_1', org_id: 'org_1', scope: 'team', scope_id: 'team_eng', max_usd: 100, period: 'monthly', hard: true },
      threshold: 0.8,
      spent_usd: 80.5,
      limit_usd: 100,
      period_start: '2024-02-29T23:00:00.000Z',
      period_end: '2024-03-31T22:00:00.000Z',
      timezone: 'Europe/Berlin',
      ts: '2024-03-15T12:00:00.000Z',
    });
    expect(results).toEqual([{ eventId, url: hook.url, delivered: true, attempts: 1, status: 200 }]);
  });

  it('retries 5xx and 429 with exponential backoff, keeping the event id and re-signing each attempt', async () => {
    const hook = await receiver([500, 503, 429, 200]);
    const { d, sleeps, results } = dispatcher({ endpoints: [{ url: hook.url, secret: SECRET }] });
    d.enqueueAlert(alert);
    await d.drain();
    expect(hook.received).toHaveLength(4);
    expect(new Set(hook.received.map((r) => r.headers['x-switchyard-event-id'])).size).toBe(1);
    for (const r of hook.received) expect(verifySignature(SECRET, String(r.headers['x-switchyard-signature']), r.body, NOW / 1000)).toBe(true);
    expect(sleeps).toEqual([1000, 2000, 4000]);
    expect(results[0]).toMatchObject({ delivered: true, attempts: 4, status: 200 });
  });

  it('gives up after the last attempt', async () => {
    const hook = await receiver([502]);
    const { d, sleeps, results } = dispatcher({ endpoints: [{ url: hook.url, secret: SECRET }] });
    d.enqueueAlert(alert);
    await d.drain();
    expect(hook.received).toHaveLength(5);
    expect(sleeps).toEqual([1000, 2000, 4000, 8000]);
    expect(results[0]).toMatchObject({ delivered: false, attempts: 5, status: 502 });
  });

  it('does not retry other client errors', async () => {
    const hook = await receiver([400]);
    const { d, sleeps, results } = dispatcher({ endpoints: [{ url: hook.url, secret: SECRET }] });
    d.enqueueAlert(alert);
    await d.drain();
    expect(hook.received).toHaveLength(1);
    expect(sleeps).toEqual([]);
    expect(results[0]).toMatchObject({ delivered: false, attempts: 1, status: 400 });
  });

  it('retries network errors', async () => {
    const hook = await receiver([200]);
    await new Promise((resolve) => hook.server.close(resolve)); // nothing listens there now
    const { d, sleeps, results } = dispatcher({ endpoints: [{ url: hook.url, secret: SECRET }], maxAttempts: 3 });
    d.enqueueAlert(alert);
    await d.drain();
    expect(sleeps).toEqual([1000, 2000]);
    expect(results[0]).toMatchObject({ delivered: false, attempts: 3 });
    expect(results[0].error).toBeTruthy();
  });

  it('jitters the backoff and waits at least a Retry-After, capped', async () => {
    const hook = await receiver([429, 429, 200], { 'retry-after': '30' });
    let r = 0;
    const { d, sleeps } = dispatcher({ endpoints: [{ url: hook.url, secret: SECRET }], random: () => [0, 1][r++ % 2], maxDelayMs: 20_000 });
    d.enqueueAlert(alert);
    await d.drain();
    expect(sleeps).toEqual([20_000, 20_000]);
    const jitter = dispatcher({ endpoints: [{ url: (await receiver([500, 500, 200])).url, secret: SECRET }], random: () => [0, 1][r++ % 2] });
    jitter.d.enqueueAlert(alert);
    await jitter.d.drain();
    expect(jitter.sleeps).toEqual([800, 2400]);
  });

  it('delivers to the endpoints of the alert’s org only', async () => {
    const mine = await receiver([200]);
    const theirs = await receiver([200]);
    const everyone = await receiver([200]);
    const { d } = dispatcher({
      endpoints: [
        { url: mine.url, secret: SECRET, orgId: 'org_1' },
        { url: theirs.url, secret: SECRET, orgId: 'org_2' },
        { url: everyone.url, secret: 'other' },
      ],
    });
    d.enqueueAlert(alert);
    await d.drain();
    expect([mine.received.length, theirs.received.length, everyone.received.length]).toEqual([1, 0, 1]);
    expect(verifySignature('other', String(everyone.received[0].headers['x-switchyard-signature']), everyone.received[0].body, NOW / 1000)).toBe(true);
  });

  it('bounds the queue and reports what it drops', async () => {
    let release: () => void = () => undefined;
    const blocked = new Promise<void>((resolve) => (release = resolve));
    // A failing first attempt whose backoff we hold open keeps the single worker busy.
    const slow = await receiver([500, 200]);
    const { d, results } = dispatcher({
      endpoints: [{ url: slow.url, secret: SECRET }],
      concurrency: 1,
      maxQueue: 2,
      sleep: () => blocked,
    });
    d.enqueueAlert(alert);
    while (slow.received.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    expect(d.enqueue('org_1', 'test', 'e2', '{}')).toBe(1);
    expect(d.enqueue('org_1', 'test', 'e3', '{}')).toBe(1);
    expect(d.enqueue('org_1', 'test', 'e4', '{}')).toBe(0);
    expect(results).toEqual([{ eventId: 'e4', url: slow.url, delivered: false, attempts: 0, dropped: true }]);
    release();
    await d.drain();
    expect(slow.received.map((r) => r.headers['x-switchyard-event-id']).slice(2)).toEqual(['e2', 'e3']);
  });
});

describe('verifySignature', () => {
  const body = '{"a":1}';
  const t = 1_700_000_000;

  it('accepts the right secret and body within the tolerance', () => {
    expect(verifySignature(SECRET, signatureHeader(SECRET, t, body), body, t + 299)).toBe(true);
  });

  it('rejects a wrong secret, a changed body, a stale timestamp or garbage', () => {
    expect(verifySignature('nope', signatureHeader(SECRET, t, body), body, t)).toBe(false);
    expect(verifySignature(SECRET, signatureHeader(SECRET, t, body), '{"a":2}', t)).toBe(false);
    expect(verifySignature(SECRET, signatureHeader(SECRET, t, body), body, t + 301)).toBe(false);
    expect(verifySignature(SECRET, 'v1=abc', body, t)).toBe(false);
    expect(verifySignature(SECRET, `t=${t},v1=zz`, body, t)).toBe(false);
  });
});
