import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { UsageRecord } from '../usage/record.ts';
import { observabilitySchema } from './config.ts';
import { OtlpTracer, spanFromRecord } from './tracing.ts';

const record: UsageRecord = {
  requestId: 'req_1',
  ts: 1_764_000_000_000,
  dialect: 'openai',
  operation: 'chat',
  requestedModel: 'auto',
  modelGroup: 'gpt-4o-mini',
  provider: 'openai-main',
  providerModel: 'gpt-4o-mini-2024-07-18',
  status: 429,
  errorClass: 'rate_limit',
  stream: true,
  promptTokens: 12,
  completionTokens: 0,
  cachedTokens: 0,
  costUsd: 0,
  usageEstimated: false,
  latencyMs: 250.5,
  attempts: 2,
  clientAbandoned: false,
};

let server: Server | undefined;
afterEach(async () => {
  if (server) await new Promise<void>((r) => server?.close(() => r()));
  server = undefined;
});

async function collector(status: number, bodies: string[]): Promise<string> {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      bodies.push(body);
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((r) => server?.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const tracing = (endpoint: string, extra: Record<string, unknown> = {}) => {
  const config = observabilitySchema.parse({ tracing: { otlp_endpoint: endpoint, ...extra } }).tracing;
  return new OtlpTracer({ ...config, otlp_endpoint: endpoint });
};

describe('OTLP tracing', () => {
  it('builds a GenAI span with timestamps in nanoseconds and an error status', () => {
    const span = spanFromRecord(record);
    expect(span.traceId).toMatch(/^[\da-f]{32}$/);
    expect(span.spanId).toMatch(/^[\da-f]{16}$/);
    expect(span.startTimeUnixNano).toBe('1764000000000000000');
    expect(span.endTimeUnixNano).toBe('1764000000250500000');
    expect(span.status).toEqual({ code: 2, message: 'rate_limit' });
    const attrs = Object.fromEntries(span.attributes.map((a) => [a.key, Object.values(a.value)[0]]));
    expect(attrs).toMatchObject({ 'gen_ai.request.model': 'auto', 'gen_ai.response.model': 'gpt-4o-mini-2024-07-18', 'error.type': 'rate_limit', 'switchyard.attempts': '2' });
  });

  it('ignores a malformed traceparent', () => {
    expect(spanFromRecord({ ...record, traceParent: 'garbage' }).parentSpanId).toBeUndefined();
  });

  it('exports batches, and counts a batch the collector refuses as dropped', async () => {
    const bodies: string[] = [];
    const ok = tracing(await collector(200, bodies), { batch_size: 2, flush_interval_ms: 60_000 });
    for (let i = 0; i < 5; i++) ok.observe(record);
    await ok.export();
    expect(ok.stats()).toEqual({ queued: 0, exported: 5, dropped: 0 });
    expect(bodies.map((b) => (JSON.parse(b) as { resourceSpans: Array<{ scopeSpans: Array<{ spans: unknown[] }> }> }).resourceSpans[0].scopeSpans[0].spans.length)).toEqual([2, 2, 1]);
    await ok.close();
    await new Promise<void>((r) => server?.close(() => r()));
    const failing = tracing(await collector(503, []), { flush_interval_ms: 60_000 });
    failing.observe(record);
    await failing.export();
    expect(failing.stats()).toEqual({ queued: 0, exported: 0, dropped: 1 });
    await failing.close();
  });

  it('samples and bounds its queue', () => {
    const none = tracing('http://127.0.0.1:9', { sample_ratio: 0, flush_interval_ms: 60_000 });
    none.observe(record);
    expect(none.stats().queued).toBe(0);
    const small = tracing('http://127.0.0.1:9', { queue_max: 2, batch_size: 100, flush_interval_ms: 60_000 });
    for (let i = 0; i < 4; i++) small.observe(record);
    expect(small.stats()).toMatchObject({ queued: 2, dropped: 2 });
    void none.close();
    void small.close().catch(() => undefined);
  });
});
