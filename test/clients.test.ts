// Misbehaving clients: slowloris headers and bodies (server timeouts), thousands of idle keep-alive
// connections, clients that disconnect mid-stream (upstream aborted, budget settled to what was
// consumed, usage recorded as client_abandoned), and pipelined requests.
import { Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../src/config/index.ts';
import { periodStart } from '../src/governance/periods.ts';
import { GovernanceRuntime } from '../src/governance/runtime.ts';
import { GovernanceService, MASTER_ACTOR } from '../src/governance/service.ts';
import { Gateway } from '../src/server/gateway.ts';
import { createSimulator, type SimServer } from '../src/sim/index.ts';
import { openSqliteGovernanceStore } from '../src/store/governance/open.ts';
import { MemoryUsageSink } from './support/harness.ts';
import { rawExchange } from './support/reliability.ts';

const MASTER = 'sk-sy-clients-master';
let sim: SimServer;
let gateway: Gateway;
let runtime: GovernanceRuntime;
let service: GovernanceService;
let url: string;
let port: number;
const usage = new MemoryUsageSink();

beforeAll(async () => {
  sim = createSimulator('openai', { outputTokens: 12 });
  await sim.listen();
  const config = parseConfig(
    `
server: { master_key: ${MASTER}, client_headers_timeout_ms: 800, client_body_timeout_ms: 1200, keep_alive_timeout_ms: 1500 }
providers: [ { name: sim, type: openai, base_url: "${sim.url}/v1", api_key: k } ]
models:
  - name: priced
    deployments: [ { provider: sim, model: gpt-4o-mini, price: { input_per_mtok: 1000, output_per_mtok: 1000 } } ]
`,
    { env: {} },
  );
  runtime = await GovernanceRuntime.open({ store: openSqliteGovernanceStore(':memory:'), config: config.governance, masterKey: MASTER });
  service = new GovernanceService({ store: runtime.store, directory: runtime.directory, counters: runtime.counters });
  await service.ensureDefaultOrg();
  gateway = new Gateway({ config, usageSink: usage, governance: runtime });
  url = (await gateway.listen(0, '127.0.0.1')).url;
  port = Number(new URL(url).port);
});

afterAll(async () => {
  await gateway.close(500);
  await sim.close();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Sends `head` at once, then `drip` one byte every `everyMs`; resolves with what came back and when. */
function slowClient(head: string, drip: string, everyMs: number): Promise<{ response: string; closedAfterMs: number }> {
  return new Promise((resolve) => {
    const socket = new Socket();
    const started = performance.now();
    let response = '';
    let timer: NodeJS.Timeout | undefined;
    socket.on('data', (d: Buffer) => (response += d.toString()));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearInterval(timer);
      resolve({ response, closedAfterMs: performance.now() - started });
    });
    socket.connect(port, '127.0.0.1', () => {
      socket.write(head);
      let i = 0;
      timer = setInterval(() => {
        if (i < drip.length && !socket.destroyed) socket.write(drip[i++]);
      }, everyMs);
    });
  });
}

describe.concurrent('slowloris', () => {
  it('a client dribbling its headers is answered 408 and cut off at the headers timeout', async () => {
    const r = await slowClient('POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n', `authorization: Bearer ${MASTER}\r\ncontent-type: application/json\r\n`.repeat(20), 100);
    expect(r.response).toMatch(/^HTTP\/1\.1 408/);
    // 800 ms timeout, checked every 400 ms: closed long before the dribble would have finished.
    expect(r.closedAfterMs).toBeLessThan(3000);
  });

  it('a client dribbling its body is cut off at the request timeout, and the request never reaches a provider', async () => {
    const before = sim.requestCount;
    const body = JSON.stringify({ model: 'priced', messages: [{ role: 'user', content: 'x'.repeat(200) }] });
    const head = `POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nauthorization: Bearer ${MASTER}\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n`;
    const r = await slowClient(head, body, 100);
    expect(r.response).toMatch(/^HTTP\/1\.1 408/);
    expect(r.closedAfterMs).toBeLessThan(4000);
    expect(sim.requestCount).toBe(before);
  });

  it('the gateway keeps serving others meanwhile', async () => {
    const slow = slowClient('GET /health/live HTTP/1.1\r\n', 'Host: x\r\n'.repeat(100), 200);
    const res = await fetch(`${url}/health/live`);
    expect(res.status).toBe(200);
    await slow;
  });
});

describe('idle keep-alive connections', () => {
  it('2,000 idle keep-alive clients do not block new requests and are closed after the keep-alive timeout', async () => {
    const sockets: Socket[] = [];
    const closed: Array<Promise<void>> = [];
    const answered: Array<Promise<void>> = [];
    for (let i = 0; i < 2000; i++) {
      const socket = new Socket();
      sockets.push(socket);
      closed.push(new Promise((resolve) => socket.once('close', () => resolve())));
      answered.push(new Promise((resolve) => socket.once('data', () => resolve())));
      socket.on('error', () => undefined);
      socket.connect(port, '127.0.0.1', () => socket.write('GET /health/live HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\n\r\n'));
    }
    await Promise.all(answered);
    // All idle now; a newcomer is served at once.
    const res = await fetch(`${url}/v1/models`, { headers: { authorization: `Bearer ${MASTER}` } });
    expect(res.status).toBe(200);
    const allClosed = await Promise.race([Promise.all(closed).then(() => true), sleep(8000).then(() => false)]);
    for (const s of sockets) s.destroy();
    expect(allClosed).toBe(true);
  }, 30_000);
});

describe('clients that disconnect mid-stream', () => {
  it('the upstream call is aborted, the budget settles to what was consumed, usage says client_abandoned', async () => {
    const { key, secret } = await service.createKey(MASTER_ACTOR, { name: 'abandoner', budget: { maxUsd: 5, period: 'daily', hard: true } });
    sim.setKnobs({ tokensPerSecond: 50, outputTokens: 200 });
    const unfinishedBefore = sim.unfinished;
    const controller = new AbortController();
    const res = await fetch(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${secret}` },
      body: JSON.stringify({ model: 'priced', stream: true, max_tokens: 300, messages: [{ role: 'user', content: 'write a long story' }] }),
      signal: controller.signal,
    });
    expect(res.status).toBe(200);
    const requestId = res.headers.get('x-switchyard-request-id');
    const reader = res.body!.getReader();
    await reader.read();
    await reader.read();
    controller.abort();
    // The gateway notices, aborts its upstream call and records the request.
    let record = usage.find(requestId);
    for (let i = 0; i < 100 && !record; i++) {
      await sleep(20);
      record = usage.find(requestId);
    }
    sim.setKnobs({ tokensPerSecond: 0, outputTokens: 12 });
    expect(record).toMatchObject({ clientAbandoned: true, status: 499, stream: true });
    expect(record!.completionTokens).toBeGreaterThan(0);
    expect(record!.completionTokens).toBeLessThan(200);
    for (let i = 0; i < 50 && sim.unfinished === unfinishedBefore; i++) await sleep(20);
    expect(sim.unfinished).toBe(unfinishedBefore + 1);
    const budget = runtime.directory.budgetsFor('key', key.id)[0];
    const counted = await runtime.counters.spent(budget.id, periodStart(budget.period, 'UTC', Date.now()));
    expect(counted.reservedUsd).toBe(0);
    expect(counted.spentUsd).toBeCloseTo(record!.costUsd, 9);
    expect(counted.spentUsd).toBeGreaterThan(0);
  });

  it('a client gone before the first byte releases everything and is recorded as abandoned too', async () => {
    const { key, secret } = await service.createKey(MASTER_ACTOR, { name: 'early-leaver', budget: { maxUsd: 5, period: 'daily', hard: true } });
    sim.setKnobs({ ttftMs: 400 });
    const controller = new AbortController();
    const pending = fetch(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${secret}` },
      body: JSON.stringify({ model: 'priced', stream: true, max_tokens: 300, messages: [{ role: 'user', content: 'hi' }] }),
      signal: controller.signal,
    }).catch(() => undefined);
    await sleep(100);
    controller.abort();
    await pending;
    let record = usage.records.find((r) => r.keyId === key.id);
    for (let i = 0; i < 100 && !record; i++) {
      await sleep(20);
      record = usage.records.find((r) => r.keyId === key.id);
    }
    sim.setKnobs({ ttftMs: 0 });
    expect(record).toMatchObject({ clientAbandoned: true, status: 499, costUsd: 0 });
    const budget = runtime.directory.budgetsFor('key', key.id)[0];
    const counted = await runtime.counters.spent(budget.id, periodStart(budget.period, 'UTC', Date.now()));
    expect(counted).toMatchObject({ reservedUsd: 0, spentUsd: 0 });
  });
});

describe('pipelining', () => {
  it('three requests written at once on one connection get three answers, in order', async () => {
    const chat = JSON.stringify({ model: 'priced', messages: [{ role: 'user', content: 'pipelined' }] });
    const requests =
      'GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n' +
      `POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nauthorization: Bearer ${MASTER}\r\ncontent-type: application/json\r\ncontent-length: ${chat.length}\r\n\r\n${chat}` +
      `GET /v1/models HTTP/1.1\r\nHost: x\r\nauthorization: Bearer ${MASTER}\r\nConnection: close\r\n\r\n`;
    const { response } = await rawExchange(port, requests, 5000);
    const statuses = [...response.matchAll(/HTTP\/1\.1 (\d{3})/g)].map((m) => m[1]);
    expect(statuses).toEqual(['200', '200', '200']);
    const order = ['"status":"ok"', '"chat.completion"', '"object":"list"'].map((marker) => response.indexOf(marker));
    expect(order.every((at) => at > 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
  });
});
