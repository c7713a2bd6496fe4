// Same-dialect requests reach the provider as the client's own bytes when nothing needs rewriting,
// and as a serialised body otherwise (model alias, gateway-only fields, usage forced on, or bytes
// another JSON reader could read differently). A capturing proxy sits between the gateway and the
// real simulators and keeps the bytes each request carried.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../src/config/index.ts';
import { Gateway } from '../src/server/gateway.ts';
import { createSimulator, type SimServer } from '../src/sim/index.ts';
import { MemoryUsageSink } from './support/harness.ts';

const MASTER = 'sk-sy-bytes-master';
let gateway: Gateway;
let url: string;
const sims: SimServer[] = [];
const proxies: Server[] = [];
const seen: Buffer[] = [];

/** Records each request body, then forwards it to `target` and relays the answer. */
async function capturing(target: string): Promise<string> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      const body = Buffer.concat(chunks);
      seen.push(body);
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string' && k !== 'content-length' && k !== 'host') headers[k] = v;
      const upstream = await fetch(`${target}${req.url}`, { method: req.method, headers, body });
      res.writeHead(upstream.status, { 'content-type': upstream.headers.get('content-type') ?? 'application/json' });
      if (upstream.body) Readable.fromWeb(upstream.body as never).pipe(res);
      else res.end();
    });
  });
  proxies.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

beforeAll(async () => {
  const openai = createSimulator('openai', { apiKey: 'k', outputTokens: 5 });
  const anthropic = createSimulator('anthropic', { apiKey: 'k', outputTokens: 5 });
  sims.push(openai, anthropic);
  const openaiProxy = await capturing((await openai.listen()).url);
  const anthropicProxy = await capturing((await anthropic.listen()).url);
  const config = parseConfig(
    `server: { master_key: ${MASTER} }
storage: { sqlite: ":memory:" }
providers:
  - { name: oa, type: openai, base_url: "${openaiProxy}/v1", api_key: k }
  - { name: an, type: anthropic, base_url: "${anthropicProxy}", api_key: k }
models:
  - { name: gpt-4o-mini, deployments: [ { provider: oa, model: gpt-4o-mini } ] }
  - { name: house-model, deployments: [ { provider: oa, model: gpt-4o-mini } ] }
  - { name: claude-sonnet-4-20250514, deployments: [ { provider: an, model: claude-sonnet-4-20250514 } ] }
`,
    { sourceName: 'bytes.yaml' },
  );
  gateway = new Gateway({ config, usageSink: new MemoryUsageSink() });
  url = (await gateway.listen(0, '127.0.0.1')).url;
});

afterAll(async () => {
  await gateway.close(1000);
  for (const sim of sims) await sim.close();
  for (const proxy of proxies) proxy.close();
});

beforeEach(() => {
  seen.length = 0;
});

async function send(path: string, body: string): Promise<{ status: number; text: string; upstream: Buffer }> {
  const res = await fetch(`${url}${path}`, { method: 'POST', headers: { authorization: `Bearer ${MASTER}`, 'content-type': 'application/json' }, body });
  const text = await res.text();
  expect(seen, text).toHaveLength(1);
  return { status: res.status, text, upstream: seen[0] };
}

const messages = '[{"role":"system","content":"Be brief."},{"role":"user","content":"Say \\"hi\\"\\nplease"}]';

describe('same-dialect requests', () => {
  it('forward the exact bytes when the target needs no rewrite (whitespace and key order kept)', async () => {
    const body = `{ "messages" : ${messages},\n  "model": "gpt-4o-mini", "max_tokens": 20, "temperature": 0.5 }`;
    const r = await send('/v1/chat/completions', body);
    expect(r.status).toBe(200);
    expect(r.upstream.toString()).toBe(body);
    expect(JSON.parse(r.text).choices[0].message.content).toBeTruthy();
  });

  it('forward the exact bytes of a stream that already asks for usage', async () => {
    const body = `{"model":"gpt-4o-mini","messages":${messages},"stream":true,"stream_options":{"include_usage":true}}`;
    const r = await send('/v1/chat/completions', body);
    expect(r.status).toBe(200);
    expect(r.upstream.toString()).toBe(body);
    expect(r.text).toContain('data: [DONE]');
  });

  it('serialise a stream that did not ask for usage (the gateway turns it on to bill)', async () => {
    const r = await send('/v1/chat/completions', `{"model":"gpt-4o-mini","messages":${messages},"stream":true}`);
    expect(r.status).toBe(200);
    expect(JSON.parse(r.upstream.toString()).stream_options).toEqual({ include_usage: true });
    expect(r.text).not.toContain('"usage":{');
  });

  it('serialise when the model name is rewritten for the deployment', async () => {
    const r = await send('/v1/chat/completions', `{"model":"house-model","messages":${messages}}`);
    expect(r.status).toBe(200);
    expect(JSON.parse(r.upstream.toString())).toEqual({ model: 'gpt-4o-mini', messages: JSON.parse(messages) });
  });

  it('serialise without the gateway-only fields (route, cache)', async () => {
    for (const extra of ['"route":{"strategy":"cost"}', '"cache":{"mode":"off"}']) {
      seen.length = 0;
      const r = await send('/v1/chat/completions', `{"model":"gpt-4o-mini","messages":${messages},${extra}}`);
      expect(r.status).toBe(200);
      expect(JSON.parse(r.upstream.toString())).toEqual({ model: 'gpt-4o-mini', messages: JSON.parse(messages) });
    }
  });

  it('never forward bytes another JSON reader could read differently (duplicate or escaped keys)', async () => {
    const bodies = [
      `{"model":"house-model","messages":${messages},"model":"gpt-4o-mini"}`,
      `{"mod\\u0065l":"house-model","messages":${messages},"model":"gpt-4o-mini"}`,
      `{"model":"gpt-4o-mini","messages":${messages},"stream":true,"stream":false}`,
    ];
    for (const body of bodies) {
      seen.length = 0;
      const r = await send('/v1/chat/completions', body);
      expect(r.status).toBe(200);
      const sent = r.upstream.toString();
      expect(sent).not.toBe(body);
      expect(sent.match(/"model"/g)).toHaveLength(1);
      expect(JSON.parse(sent).model).toBe('gpt-4o-mini');
    }
  });

  it('forward the exact bytes of an Anthropic Messages request to an Anthropic provider', async () => {
    const body = `{"model":"claude-sonnet-4-20250514","max_tokens":32,"messages":[{"role":"user","content":"hi"}]}`;
    const r = await send('/v1/messages', body);
    expect(r.status).toBe(200);
    expect(r.upstream.toString()).toBe(body);
    expect(JSON.parse(r.text).type).toBe('message');
  });
});
