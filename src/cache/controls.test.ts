import { describe, expect, it } from 'vitest';
import type { ChatRequest } from '../core/canonical.ts';
import { GatewayError } from '../core/errors.ts';
import { parseCacheHeader, parseTtl, takeCacheControls } from './controls.ts';
import { fingerprint, stableStringify } from './key.ts';

const req = (over: Partial<ChatRequest> = {}): ChatRequest => ({ model: 'm', messages: [{ role: 'user', content: 'hi' }], ...over });

describe('cache controls', () => {
  it('reads durations', () => {
    expect(parseTtl(30)).toBe(30);
    expect(parseTtl('45')).toBe(45);
    expect(parseTtl('5m')).toBe(300);
    expect(parseTtl('2h')).toBe(7200);
    expect(parseTtl('1d')).toBe(86400);
    expect(parseTtl('soon')).toBeUndefined();
    expect(parseTtl(-1)).toBeUndefined();
  });

  it('reads the header in its short and key=value forms', () => {
    expect(parseCacheHeader('force')).toEqual({ mode: 'force' });
    expect(parseCacheHeader('no-store')).toEqual({ mode: 'off' });
    expect(parseCacheHeader('ttl=5m, match=semantic, threshold=0.9')).toEqual({ mode: 'on', ttlS: 300, match: 'semantic', threshold: 0.9 });
    expect(() => parseCacheHeader('mode=maybe')).toThrow(GatewayError);
  });

  it('takes the body field out of the body and the pass-through fields, the body winning over the header', () => {
    const body: Record<string, unknown> = { model: 'm', cache: { ttl: 10 } };
    const r = req({ extra: { cache: { ttl: 10 } } });
    expect(takeCacheControls(body, r, 'mode=force, ttl=99')).toEqual({ mode: 'force', ttlS: 10, match: undefined, threshold: undefined });
    expect(body).not.toHaveProperty('cache');
    expect(r.extra).toBeUndefined();
    expect(takeCacheControls({ cache: false }, req(), undefined)).toEqual({ mode: 'off' });
    expect(() => takeCacheControls({ cache: { mode: 'always' } }, req(), undefined)).toThrow(/cache\.mode/);
  });
});

describe('cache key', () => {
  it('sorts object keys', () => {
    expect(stableStringify({ b: 1, a: { d: [1, { z: 1, y: 2 }], c: null } })).toBe('{"a":{"c":null,"d":[1,{"y":2,"z":1}]},"b":1}');
  });

  it('separates tenants and answer-changing parameters, ignores stream flags and user', () => {
    const key = (tenant: string, r: ChatRequest) => fingerprint(tenant, r, {}, 'openai', { require: [] }).exact;
    const base = key('a', req());
    expect(key('b', req())).not.toBe(base);
    expect(key('a', req({ temperature: 0.5 }))).not.toBe(base);
    expect(key('a', req({ stream: true, stream_options: { include_usage: true }, user: 'u' }))).toBe(base);
    expect(key('a', req({ max_tokens: 10 }))).toBe(key('a', req({ max_completion_tokens: 10 })));
    expect(fingerprint('a', req({ messages: [{ role: 'user', content: 'other' }] }), {}, 'openai', { require: [] }).scope).toBe(fingerprint('a', req(), {}, 'openai', { require: [] }).scope);
    expect(fingerprint('a', req(), { top_k: 5 }, 'anthropic', { require: [] }).exact).not.toBe(fingerprint('a', req(), {}, 'anthropic', { require: [] }).exact);
  });
});
