// Usage analytics and observability as an operator sees them: `switchyard serve` with body logging
// and a savings baseline for one team, Prometheus metrics behind a bearer token, and traces sent to
// a (fake) OTLP collector; requests made with the official OpenAI SDK.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, killAll, run, type Run } from './support/process.ts';

const MASTER = 'sk-sy-analytics-master-key';
const TEAM_KEY = 'sk-sy-research-declared-secret-0001';
const METRICS_TOKEN = 'metrics-secret-token';
const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';

interface OtlpExport {
  resourceSpans: Array<{ scopeSpans: Array<{ spans: Array<{ traceId: string; parentSpanId?: string; name: string; attributes: Array<{ key: string; value: Record<string, unknown> }> }> }> }>;
}

let gw: Run;
let base: string;
let collector: Server;
const exports: OtlpExport[] = [];
const collectorPaths: string[] = [];

beforeAll(async () => {
  collector = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      collectorPaths.push(`${req.method} ${req.url} ${req.headers['content-type']}`);
      exports.push(JSON.parse(body) as OtlpExport);
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((r) => collector.listen(0, '127.0.0.1', r));
  const collectorPort = (collector.address() as AddressInfo).port;

  const dir = mkdtempSync(join(tmpdir(), 'sy-analytics-'));
  const simPort = await freePort();
  const gwPort = await freePort();
  const sim = run(['simulate', '--format', 'openai', '--port', String(simPort)]);
  await sim.waitFor('listening on');
  const config = join(dir, 'switchyard.yaml');
  writeFileSync(
    config,
    `server: { master_key: "\${GW_MASTER}" }
storage: { sqlite: ${join(dir, 'db.sqlite')} }
providers: [ { name: sim, type: openai, base_url: "http://127.0.0.1:${simPort}/v1", api_key: k } ]
models:
  - { name: gpt-4o-mini, deployments: [ { provider: sim, model: gpt-4o-mini } ] }
  - { name: gpt-4o, deployments: [ { provider: sim, model: gpt-4o } ] }
teams:
  - { name: research }
keys:
  - { name: research-bot, team: research, key: "\${TEAM_KEY}" }
usage:
  flush_interval_ms: 50
  rollup_interval_ms: 50
  teams:
    research: { log_bodies: true, baseline_model: gpt-4o }
observability:
  metrics: { bearer_token: "${METRICS_TOKEN}" }
  tracing: { otlp_endpoint: "http://127.0.0.1:${collectorPort}", flush_interval_ms: 100 }
`,
  );
  gw = run(['serve', '--config', config, '--port', String(gwPort)], { env: { GW_MASTER: MASTER, TEAM_KEY } });
  await gw.waitFor('listening on');
  base = `http://127.0.0.1:${gwPort}`;
});

afterAll(async () => {
  killAll();
  await new Promise<void>((r) => collector.close(() => r()));
});

async function admin(path: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${base}/admin/v1/${path}`, { headers: { authorization: `Bearer ${MASTER}` } });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

async function eventually<T>(probe: () => Promise<T | undefined>, ms = 5_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('analytics and observability end to end', () => {
  let teamRequest = '';
  let masterRequest = '';

  it('records requests with baseline cost, and logs the team’s bodies redacted', async () => {
    const team = new OpenAI({ baseURL: `${base}/v1`, apiKey: TEAM_KEY, defaultHeaders: { traceparent: `00-${TRACE_ID}-00f067aa0ba902b7-01` } });
    const { response } = await team.chat.completions
      .create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'my key is sk-proj-abcdefghijklmnopqrstuvwx, mail me at bob@example.com' }] })
      .withResponse();
    teamRequest = response.headers.get('x-switchyard-request-id') ?? '';
    const master = new OpenAI({ baseURL: `${base}/v1`, apiKey: MASTER });
    const stream = await master.chat.completions.create({ model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'hello' }] }).withResponse();
    masterRequest = stream.response.headers.get('x-switchyard-request-id') ?? '';
    for await (const _ of stream.data) void _;

    const detail = await eventually(async () => {
      const r = await admin(`requests/${teamRequest}`);
      return r.status === 200 ? r.body : undefined;
    });
    expect(detail).toMatchObject({ object: 'request', request_id: teamRequest, model: 'gpt-4o-mini', provider: 'sim', status: 200, stream: false });
    expect(detail.team_id).toEqual(expect.any(String));
    expect(detail.baseline_cost_usd as number).toBeGreaterThan(detail.cost_usd as number);
    expect((detail.candidates as unknown[]).length).toBeGreaterThan(0);
    const requestBody = detail.request_body as string;
    expect(requestBody).toContain('[REDACTED]');
    expect(requestBody).not.toContain('sk-proj-abcdefghijklmnopqrstuvwx');
    expect(requestBody).not.toContain('bob@example.com');
    expect(detail.response_body).toEqual(expect.stringContaining('choices'));

    const other = await eventually(async () => {
      const r = await admin(`requests/${masterRequest}`);
      return r.status === 200 ? r.body : undefined;
    });
    expect(other).toMatchObject({ stream: true, request_body: null, team_id: null });
    expect(other.ttft_ms).toEqual(expect.any(Number));

    const missing = await admin('requests/req_nope');
    expect(missing).toMatchObject({ status: 404, body: { error: { type: 'not_found_error', code: 'request_not_found' } } });
  });

  it('answers the analytics endpoints from rollups', async () => {
    // The rollups follow the records by at most usage.rollup_interval_ms.
    const summary = await eventually(async () => {
      const r = await admin('analytics/summary?group_by=model');
      return (r.body.total as { requests?: number } | undefined)?.requests === 2 ? r : undefined;
    });
    expect(summary.status).toBe(200);
    expect(summary.body).toMatchObject({ object: 'analytics.summary', group_by: 'model', total: { requests: 2, errors: 0 } });
    expect(summary.body.rows).toEqual([expect.objectContaining({ group: 'gpt-4o-mini', requests: 2, share: 1 })]);
    const ts = await admin(`analytics/timeseries?bucket=minute&from=${Date.now() - 10 * 60_000}&group_by=team`);
    expect(ts.body).toMatchObject({ object: 'analytics.timeseries', bucket: 'minute' });
    expect((ts.body.series as unknown[]).length).toBe(2);
    const savings = await admin('analytics/savings?group_by=team');
    expect(savings.body).toMatchObject({ object: 'analytics.savings', group_by: 'team' });
    expect((savings.body.total as { saved_usd: number }).saved_usd).toBeGreaterThan(0);
    const list = await admin('requests?limit=1');
    expect(list.body).toMatchObject({ object: 'list', data: [{ request_id: masterRequest }], next_cursor: expect.any(String) });
    const next = await admin(`requests?limit=1&cursor=${String(list.body.next_cursor)}`);
    expect(next.body).toMatchObject({ data: [{ request_id: teamRequest }] });
    const bad = await admin('analytics/timeseries?bucket=week');
    expect(bad).toMatchObject({ status: 400, body: { error: { param: 'bucket' } } });
    const unsupported = await admin('analytics/summary?group_by=status&key_id=key_x');
    expect(unsupported).toMatchObject({ status: 400, body: { error: { param: 'group_by', code: 'unsupported_combination' } } });
    const badTime = await admin('analytics/summary?from=yesterday');
    expect(badTime).toMatchObject({ status: 400, body: { error: { param: 'from' } } });
  });

  it('exposes Prometheus metrics behind the bearer token', async () => {
    expect((await fetch(`${base}/metrics`)).status).toBe(401);
    const res = await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/plain');
    const text = await res.text();
    expect(text).toContain('switchyard_requests_total{model="gpt-4o-mini",provider="sim",status="200"} 2');
    expect(text).toMatch(/switchyard_request_duration_seconds_bucket\{le="[\d.]+",model="gpt-4o-mini",provider="sim"\} \d/);
    expect(text).toContain('switchyard_time_to_first_token_seconds_count{model="gpt-4o-mini",provider="sim"} 2');
    expect(text).toMatch(/switchyard_tokens_total\{model="gpt-4o-mini",provider="sim",type="prompt"\} \d+/);
    expect(text).toMatch(/switchyard_cost_usd_total\{model="gpt-4o-mini",provider="sim"\} [\d.e-]+/);
    expect(text).toContain('switchyard_circuit_state{deployment="gpt-4o-mini/sim/gpt-4o-mini"} 0');
    expect(text).toMatch(/switchyard_usage_records_total\{outcome="written"\} 2/);
    expect(text).toContain('switchyard_usage_queue_depth 0');
  });

  it('sends one span per request to the OTLP collector, with GenAI attributes and the caller’s trace', async () => {
    const spans = await eventually(async () => {
      const all = exports.flatMap((e) => e.resourceSpans.flatMap((r) => r.scopeSpans.flatMap((s) => s.spans)));
      return all.length >= 2 ? all : undefined;
    });
    expect(collectorPaths[0]).toBe('POST /v1/traces application/json');
    const attrs = (span: (typeof spans)[number]) => Object.fromEntries(span.attributes.map((a) => [a.key, Object.values(a.value)[0]]));
    const team = spans.find((s) => attrs(s)['switchyard.request_id'] === teamRequest);
    expect(team).toMatchObject({ traceId: TRACE_ID, parentSpanId: '00f067aa0ba902b7', name: 'chat gpt-4o-mini' });
    expect(attrs(team!)).toMatchObject({
      'gen_ai.operation.name': 'chat',
      'gen_ai.system': 'sim',
      'gen_ai.request.model': 'gpt-4o-mini',
      'gen_ai.response.model': 'gpt-4o-mini',
      'gen_ai.usage.input_tokens': expect.stringMatching(/^\d+$/),
      'gen_ai.usage.output_tokens': expect.stringMatching(/^\d+$/),
      'http.response.status_code': '200',
    });
  });

  it('reports readiness with its checks', async () => {
    const res = await fetch(`${base}/health/ready`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ready', checks: { usage_store: true } });
  });
});
