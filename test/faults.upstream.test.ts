// Broken upstreams, every wire format: malformed JSON, malformed SSE / event-stream frames, endless
// streams, a provider dripping bytes (slowloris), resets before and during the body, wrong content
// types, 200 responses carrying error bodies. Each ends in a classified error; before the first byte
// reaches the client the gateway fails over; after it, the stream ends with an explicit error event
// (never a clean-looking end), and the usage record says what happened.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../src/config/index.ts';
import { SseParser } from '../src/core/sse.ts';
import { Gateway } from '../src/server/gateway.ts';
import { createSimulator, type SimFormatName, type SimServer } from '../src/sim/index.ts';
import type { SimKnobs } from '../src/sim/server.ts';
import { MemoryUsageSink } from './support/harness.ts';
import { isAnthropicError, isOpenAIError, parseJson, post } from './support/reliability.ts';

const KEY = 'sk-sy-faults-upstream';
const FORMATS: SimFormatName[] = ['openai', 'anthropic', 'gemini', 'bedrock'];

const FAULTS = {
  malformed_json: { fault: 'malformed_json' },
  // Paced, so the fault strikes after content already went out (unpaced, it all arrives in one read).
  malformed_frames: { fault: 'malformed_frames', outputTokens: 24, tokensPerSecond: 100 },
  endless_stream: { fault: 'endless_stream', outputTokens: 24, tokensPerSecond: 100 },
  cut_mid_frame: { fault: 'cut_mid_frame', outputTokens: 24, tokensPerSecond: 100 },
  trickle: { bytesPerSecond: 20 },
  wrong_content_type: { fault: 'wrong_content_type' },
  error_body_200: { fault: 'error_body_200' },
  reset_before: { resetRate: 1 },
  reset_during: { midStreamAbortRate: 1, outputTokens: 24, tokensPerSecond: 100 },
} satisfies Record<string, Partial<SimKnobs>>;
type Fault = keyof typeof FAULTS;

/** Faults that strike after a stream's first content: the client must see an error event. */
const AFTER_FIRST_BYTE: ReadonlySet<Fault> = new Set(['malformed_frames', 'endless_stream', 'cut_mid_frame', 'reset_during']);

const sims = new Map<string, SimServer>();
let backup: SimServer;
let gateway: Gateway;
let url: string;
const usage = new MemoryUsageSink();

function providerYaml(name: string, format: SimFormatName, base: string): string {
  switch (format) {
    case 'openai':
      return `  - { name: ${name}, type: openai, base_url: "${base}/v1", api_key: k }`;
    case 'anthropic':
      return `  - { name: ${name}, type: anthropic, base_url: "${base}", api_key: k }`;
    case 'gemini':
      return `  - { name: ${name}, type: gemini, base_url: "${base}", api_key: k }`;
    case 'bedrock':
      return `  - { name: ${name}, type: bedrock, base_url: "${base}", region: us-east-1, aws_access_key_id: AKID, aws_secret_access_key: k }`;
  }
}

const MODEL: Record<SimFormatName, string> = {
  openai: 'gpt-4o-mini',
  anthropic: 'claude-sonnet-4-20250514',
  gemini: 'gemini-2.5-flash',
  bedrock: 'anthropic.claude-sonnet-4-5-20250929-v1:0',
};

beforeAll(async () => {
  backup = createSimulator('openai', { outputTokens: 8 });
  await backup.listen();
  const providers = [providerYaml('backup', 'openai', backup.url)];
  const models: string[] = [];
  for (const [fault, knobs] of Object.entries(FAULTS)) {
    for (const format of FORMATS) {
      const name = `${fault}-${format}`.replaceAll('_', '-');
      const sim = createSimulator(format, { outputTokens: 8, ...knobs });
      await sim.listen();
      sims.set(name, sim);
      providers.push(providerYaml(name, format, sim.url));
      const timeouts = 'timeouts: { first_token_ms: 800, total_ms: 2000 }';
      models.push(`  - { name: ${name}-solo, ${timeouts}, deployments: [ { provider: ${name}, model: "${MODEL[format]}" } ] }`);
      models.push(
        `  - { name: ${name}-ha, ${timeouts}, deployments: [ { provider: ${name}, model: "${MODEL[format]}", priority: 0 }, { provider: backup, model: gpt-4o-mini, priority: 1 } ] }`,
      );
    }
  }
  const config = parseConfig(
    `
server: { master_key: ${KEY} }
routing: { retries: { max_retries: 1, base_delay_ms: 5, max_delay_ms: 10 } }
providers:
${providers.join('\n')}
models:
${models.join('\n')}
`,
    { env: {} },
  );
  gateway = new Gateway({ config, usageSink: usage });
  url = (await gateway.listen(0, '127.0.0.1')).url;
});

afterAll(async () => {
  await gateway.close(500);
  await backup.close();
  for (const sim of sims.values()) await sim.close();
});

async function chat(model: string, stream: boolean, dialect: 'openai' | 'anthropic' = 'openai', extra: object = {}) {
  const started = performance.now();
  const body =
    dialect === 'openai'
      ? { model, stream, messages: [{ role: 'user', content: 'tell me something' }], ...extra }
      : { model, stream, max_tokens: 64, messages: [{ role: 'user', content: 'tell me something' }] };
  const res = await post(`${url}${dialect === 'openai' ? '/v1/chat/completions' : '/v1/messages'}`, JSON.stringify(body), { authorization: `Bearer ${KEY}` }, 15_000);
  return { ...res, ms: performance.now() - started, requestId: String(res.headers['x-switchyard-request-id']) };
}

/** The `data:` payloads of an OpenAI SSE body. */
function events(text: string): string[] {
  return text
    .split('\n')
    .filter((l) => l.startsWith('data: '))
    .map((l) => l.slice(6));
}

const faults = Object.keys(FAULTS) as Fault[];
/** A unary body is written in one piece: these faults only exist in streams. */
const STREAM_ONLY: ReadonlySet<Fault> = new Set(['malformed_frames', 'endless_stream', 'cut_mid_frame']);

describe.concurrent.each(faults.filter((f) => !STREAM_ONLY.has(f)))('upstream fault, unary: %s', (fault) => {
  it.each(FORMATS)('%s: a classified 5xx alone; failover when a backup exists', async (format) => {
    const name = `${fault}-${format}`.replaceAll('_', '-');
    const [solo, ha] = await Promise.all([chat(`${name}-solo`, false), chat(`${name}-ha`, false)]);
    expect(solo.status, solo.text).toBeGreaterThanOrEqual(500);
    const error = parseJson(solo.text) as { error: { code: string; type: string } };
    expect(isOpenAIError(error), solo.text).toBe(true);
    expect(['server_error', 'timeout_error']).toContain(error.error.type);
    expect(usage.find(solo.requestId)?.errorClass).toMatch(/^(upstream|timeout|stream_cut)$/);
    expect(ha.status, ha.text).toBe(200);
    expect(ha.headers['x-switchyard-provider']).toBe('backup');
    expect(String(ha.headers['x-switchyard-fallback-reason'])).toMatch(new RegExp(`^${name}:`));
  });
});

describe.concurrent.each(faults)('upstream fault, streaming: %s', (fault) => {
  it.each(FORMATS)('%s: failover before the first byte, an error event after it', async (format) => {
    const name = `${fault}-${format}`.replaceAll('_', '-');
    const [solo, ha] = await Promise.all([chat(`${name}-solo`, true), chat(`${name}-ha`, true)]);
    if (AFTER_FIRST_BYTE.has(fault)) {
      // Committed to the stream: 200, some content, then an explicit error and no [DONE].
      expect(solo.status).toBe(200);
      const data = events(solo.text);
      expect(data.at(-1), solo.text).toMatch(/^\{"error":\{/);
      expect(isOpenAIError(JSON.parse(data.at(-1) as string))).toBe(true);
      expect(solo.text).not.toContain('[DONE]');
      const record = usage.find(solo.requestId);
      expect(record?.errorClass).toMatch(fault === 'endless_stream' ? /^timeout$/ : /^(stream_cut|upstream)$/);
      // An endless stream is ended by the model's total timeout (2 s here), not left hanging.
      expect(solo.ms).toBeLessThan(4000);
      expect(record?.status).toBeGreaterThanOrEqual(500);
    } else {
      expect(solo.status, solo.text).toBeGreaterThanOrEqual(500);
      expect(isOpenAIError(parseJson(solo.text)), solo.text).toBe(true);
      expect(ha.status).toBe(200);
      expect(ha.headers['x-switchyard-provider']).toBe('backup');
      expect(ha.text.trim().endsWith('data: [DONE]')).toBe(true);
    }
  });
});

describe('byte-for-byte relays (same dialect, usage requested) never forward half an event', () => {
  it('OpenAI → OpenAI with include_usage, cut inside an event: the error event is still parseable', async () => {
    const r = await chat('cut-mid-frame-openai-solo', true, 'openai', { stream_options: { include_usage: true } });
    expect(r.status).toBe(200);
    const parsed = new SseParser().push(r.text);
    for (const e of parsed) expect(parseJson(e.data), e.data).toBeDefined();
    expect(isOpenAIError(parseJson(parsed.at(-1)?.data ?? '')), r.text.slice(-400)).toBe(true);
    expect(r.text).not.toContain('[DONE]');
  });
});

describe('the Anthropic dialect sees the same faults in its own shape', () => {
  it('a stream cut mid-way ends with an `event: error`, never a message_stop', async () => {
    const r = await chat('malformed-frames-openai-solo', true, 'anthropic');
    expect(r.status).toBe(200);
    expect(r.text).toContain('event: error');
    expect(r.text).not.toContain('message_stop');
    const last = r.text.trim().split('\n').at(-1) ?? '';
    expect(isAnthropicError(JSON.parse(last.replace(/^data: /, '')))).toBe(true);
  });

  it('a same-dialect relay cut inside an event still ends with a parseable error event (Anthropic → Anthropic)', async () => {
    const r = await chat('cut-mid-frame-anthropic-solo', true, 'anthropic');
    expect(r.status).toBe(200);
    expect(r.text).not.toContain('message_stop');
    // Read as a client's SSE parser reads it: every event whole JSON, the last one the error.
    const parsed = new SseParser().push(r.text);
    for (const e of parsed) expect(parseJson(e.data), e.data).toBeDefined();
    expect(parsed.at(-1)?.event).toBe('error');
    expect(isAnthropicError(parseJson(parsed.at(-1)?.data ?? '')), r.text.slice(-400)).toBe(true);
  });

  it('a failure before the first byte is an Anthropic-shaped error body', async () => {
    const r = await chat('error-body-200-anthropic-solo', false, 'anthropic');
    expect(r.status).toBeGreaterThanOrEqual(500);
    expect(isAnthropicError(parseJson(r.text)), r.text).toBe(true);
  });
});
