// Bad input and broken upstreams: every failure is a clear, classified error in the client's dialect.
import OpenAI from 'openai';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_KNOBS } from '../src/sim/server.ts';
import { MASTER_KEY, PROVIDER_KEY, startHarness, type Harness } from './support/harness.ts';

let h: Harness;

const FAILOVER_MODELS = `
  - name: tiny-context
    deployments:
      - { provider: openai-main, model: gpt-4o-mini, context_window: 1000 }
  - name: ha-model
    deployments:
      - { provider: openai-main, model: gpt-4o, priority: 0 }
      - { provider: claude, model: claude-sonnet-4-20250514, priority: 1 }
`;

beforeAll(async () => {
  h = await startHarness({ extraModels: FAILOVER_MODELS });
});
afterAll(() => h.close());
afterEach(() => {
  for (const sim of Object.values(h.sims)) sim.setKnobs({ ...DEFAULT_KNOBS, apiKey: PROVIDER_KEY, outputTokens: 12 });
});

async function post(path: string, body: string | object, headers: Record<string, string> = { authorization: `Bearer ${MASTER_KEY}` }) {
  const res = await fetch(`${h.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let json: { error?: { message: string; type: string; param: string | null; code: string | null } } = {};
  try {
    json = JSON.parse(text);
  } catch {
    /* streams */
  }
  return { status: res.status, headers: res.headers, json, text };
}

/** Concatenates the content deltas of a raw OpenAI SSE body. */
function streamedText(sse: string): string {
  let text = '';
  for (const line of sse.split('\n')) {
    if (!line.startsWith('data: {')) continue;
    const chunk = JSON.parse(line.slice(6)) as { choices?: Array<{ delta?: { content?: string } }> };
    text += chunk.choices?.[0]?.delta?.content ?? '';
  }
  return text;
}

const chat = (over: object = {}) => ({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }], ...over });

describe('bad input gets an OpenAI-shaped error with the right status', () => {
  it('malformed JSON', async () => {
    const r = await post('/v1/chat/completions', '{"model": ');
    expect(r.status).toBe(400);
    expect(r.json.error).toMatchObject({ type: 'invalid_request_error', code: 'invalid_json' });
  });

  it('wrong types name the field', async () => {
    const r = await post('/v1/chat/completions', { model: 'gpt-4o-mini', messages: 'hello' });
    expect(r.status).toBe(400);
    expect(r.json.error?.param).toBe('messages');
    const t = await post('/v1/chat/completions', chat({ temperature: 'hot' }));
    expect(t.json.error?.param).toBe('temperature');
    const part = await post('/v1/chat/completions', chat({ messages: [{ role: 'user', content: [{ type: 'audio_blob', data: 'x' }] }] }));
    expect(part.status).toBe(400);
    expect(part.json.error?.param).toBe('messages.0.content');
  });

  it('absurd values are refused', async () => {
    expect((await post('/v1/chat/completions', chat({ max_tokens: 1e12 }))).json.error?.param).toBe('max_tokens');
    expect((await post('/v1/chat/completions', chat({ n: 100000 }))).json.error?.param).toBe('n');
  });

  it('unknown model is a 404 model_not_found', async () => {
    const r = await post('/v1/chat/completions', chat({ model: 'gpt-99' }));
    expect(r.status).toBe(404);
    expect(r.json.error).toMatchObject({ code: 'model_not_found', param: 'model' });
  });

  it('missing or wrong keys are 401', async () => {
    expect((await post('/v1/chat/completions', chat(), {})).status).toBe(401);
    const wrong = await post('/v1/chat/completions', chat(), { authorization: 'Bearer sk-wrong' });
    expect(wrong.status).toBe(401);
    expect(wrong.json.error?.type).toBe('authentication_error');
  });

  it('a body over the limit is a 413', async () => {
    const huge = chat({ messages: [{ role: 'user', content: 'x'.repeat(1_200_000) }] });
    const r = await post('/v1/chat/completions', huge);
    expect(r.status).toBe(413);
  });

  it('a parameter the chosen provider cannot honour is a 400 naming it', async () => {
    const r = await post('/v1/chat/completions', chat({ model: 'claude-sonnet-4', n: 2 }));
    expect(r.status).toBe(400);
    expect(r.json.error?.param).toBe('n');
  });

  it('wrong routes, methods and model types', async () => {
    expect((await post('/v1/nothing', {})).status).toBe(404);
    const get = await fetch(`${h.url}/v1/chat/completions`, { headers: { authorization: `Bearer ${MASTER_KEY}` } });
    expect(get.status).toBe(405);
    const emb = await post('/v1/embeddings', { model: 'gpt-4o-mini', input: 'x' });
    expect(emb.status).toBe(400);
    expect(emb.json.error?.code).toBe('wrong_model_type');
  });
});

describe('pre-flight checks', () => {
  it('refuses a prompt longer than every deployment\u2019s context window before calling a provider', async () => {
    const before = h.sims.openai.requestCount;
    const r = await post('/v1/chat/completions', chat({ model: 'tiny-context', messages: [{ role: 'user', content: 'lorem ipsum dolor '.repeat(400) }] }));
    expect(r.status).toBe(400);
    expect(r.json.error?.code).toBe('context_length_exceeded');
    expect(h.sims.openai.requestCount).toBe(before);
  });
});

describe('client disconnects', () => {
  it('abort the upstream stream and record the request as abandoned', async () => {
    h.sims.openai.setKnobs({ tokensPerSecond: 20, outputTokens: 400 });
    const controller = new AbortController();
    const res = await fetch(`${h.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${MASTER_KEY}` },
      body: JSON.stringify(chat({ stream: true })),
      signal: controller.signal,
    });
    const id = res.headers.get('x-switchyard-request-id');
    const reader = res.body!.getReader();
    await reader.read();
    controller.abort();
    // Unaborted, the upstream would stream for 20 s; the record appears once the relay has stopped.
    const deadline = Date.now() + 3000;
    while (!h.usage.find(id) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(h.usage.find(id)).toMatchObject({ clientAbandoned: true, stream: true, usageEstimated: true });
    expect(h.usage.find(id)!.completionTokens).toBeGreaterThan(0);
  });
});

describe('upstream failures are classified', () => {
  it('a provider 429 reaches the client as 429 with Retry-After when nothing else can serve', async () => {
    h.sims.openai.setKnobs({ rateLimitRate: 1, retryAfterSeconds: 7 });
    const r = await post('/v1/chat/completions', chat());
    expect(r.status).toBe(429);
    expect(r.headers.get('retry-after')).toBe('7');
    expect(r.json.error?.code).toMatch(/rate_limit/);
  });

  it('a provider 500 is a 502 server_error', async () => {
    h.sims.anthropic.setKnobs({ errorRates: { 500: 1 } });
    const r = await post('/v1/chat/completions', chat({ model: 'claude-sonnet-4' }));
    expect(r.status).toBe(502);
    expect(r.json.error?.type).toBe('server_error');
  });

  it('a failing deployment fails over to the next one, visibly in the headers', async () => {
    h.sims.openai.setKnobs({ errorRates: { 503: 1 } });
    const r = await post('/v1/chat/completions', chat({ model: 'ha-model' }));
    expect(r.status).toBe(200);
    expect(r.headers.get('x-switchyard-attempts')).toBe('2');
    expect(r.headers.get('x-switchyard-provider')).toBe('claude');
    expect(r.headers.get('x-switchyard-fallback-reason')).toBe('openai-main:overloaded');
  });

  it('a stream reset before the first byte fails over transparently', async () => {
    h.sims.openai.setKnobs({ resetRate: 1 });
    const r = await post('/v1/chat/completions', chat({ model: 'ha-model', stream: true }));
    expect(r.status).toBe(200);
    expect(streamedText(r.text)).toContain('Simulated reply');
    expect(r.text.trim().endsWith('data: [DONE]')).toBe(true);
    expect(r.headers.get('x-switchyard-provider')).toBe('claude');
  });

  it('a stream cut after the first byte ends with an explicit error event, never a clean end', async () => {
    h.sims.openai.setKnobs({ midStreamAbortRate: 1, outputTokens: 40 });
    const r = await post('/v1/chat/completions', chat({ stream: true }));
    expect(r.status).toBe(200);
    expect(r.text).not.toContain('[DONE]');
    expect(r.text).toMatch(/data: \{"error":\{.*"code":"stream_cut"/);
    const client = new OpenAI({ apiKey: MASTER_KEY, baseURL: `${h.url}/v1`, maxRetries: 0 });
    h.sims.anthropic.setKnobs({ midStreamAbortRate: 1, outputTokens: 40 });
    const stream = await client.chat.completions.create({ model: 'claude-sonnet-4', messages: [{ role: 'user', content: 'hi' }], stream: true });
    await expect(async () => {
      for await (const _ of stream) {
        /* drain */
      }
    }).rejects.toThrow();
  });

  it('a provider that never answers hits the model\u2019s first-token timeout, retried with backoff', async () => {
    h.sims.gemini.setKnobs({ hangRate: 1 });
    const started = Date.now();
    const r = await post('/v1/chat/completions', chat({ model: 'hang-test' }));
    expect(r.status).toBe(504);
    expect(r.json.error?.code).toBe('first_token_timeout');
    // Three attempts (two retries) of 300 ms plus backoff: well under the 5 s total.
    expect(Date.now() - started).toBeLessThan(2500);
  });

  it('the model\u2019s total timeout bounds the whole request', async () => {
    h.sims.gemini.setKnobs({ hangRate: 1 });
    const started = Date.now();
    const r = await post('/v1/chat/completions', chat({ model: 'total-timeout-test' }));
    expect(r.status).toBe(504);
    expect(r.json.error?.code).toBe('request_timeout');
    expect(Date.now() - started).toBeLessThan(1500);
  });

  it('a provider rejecting our credential is a 502, not the client\u2019s 401', async () => {
    h.sims.bedrock.setKnobs({ apiKey: 'rotated-secret' });
    const r = await post('/v1/chat/completions', chat({ model: 'bedrock-claude' }));
    expect(r.status).toBe(502);
  });
});
