import { describe, expect, it } from 'vitest';
import type { ChatRequest } from '../core/canonical.ts';
import { GatewayError } from '../core/errors.ts';
import { takeRouteOptions } from './route-options.ts';

function request(extra?: ChatRequest['extra']): ChatRequest {
  const req: ChatRequest = { model: 'gpt', messages: [{ role: 'user', content: 'hi' }] };
  if (extra) req.extra = extra;
  return req;
}

/** The GatewayError thrown by `fn`, or a failed expectation. */
function thrown(fn: () => unknown): GatewayError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(GatewayError);
    return err as GatewayError;
  }
  throw new Error('expected a GatewayError, nothing was thrown');
}

describe('takeRouteOptions', () => {
  it('parses every route field', () => {
    const body: Record<string, unknown> = {
      model: 'gpt',
      route: {
        strategy: 'cost',
        max_price_per_mtok: 2.5,
        max_latency_ms: 800,
        min_quality: 0.7,
        providers: { only: ['openai-main', 'anthropic'], ignore: ['groq'] },
        require: ['tools', 'json'],
        fallbacks: ['cheap', 'backup'],
        session_id: 'abc',
        hedge: true,
        quality_target: 0.9,
      },
    };
    const options = takeRouteOptions(body, request(), {});
    expect(options.strategy).toBe('cost');
    expect(options.maxPricePerMtok).toBe(2.5);
    expect(options.maxLatencyMs).toBe(800);
    expect(options.minQuality).toBe(0.7);
    expect([...(options.onlyProviders ?? [])]).toEqual(['openai-main', 'anthropic']);
    expect([...(options.ignoreProviders ?? [])]).toEqual(['groq']);
    expect(options.require).toEqual(['tools', 'json']);
    expect(options.fallbacks).toEqual(['cheap', 'backup']);
    expect(options.sessionId).toBe('abc');
    expect(options.hedge).toBe(true);
    expect(options.qualityTarget).toBe(0.9);
  });

  it('strips route and models from the body and from the request’s pass-through fields', () => {
    const body: Record<string, unknown> = { model: 'gpt', temperature: 0.2, route: { strategy: 'latency' }, models: ['gpt', 'b'] };
    const req = request({ route: { strategy: 'latency' }, models: ['gpt', 'b'], keep: 1 });
    takeRouteOptions(body, req, {});
    expect(body).toEqual({ model: 'gpt', temperature: 0.2 });
    expect(req.extra).toEqual({ keep: 1 });
  });

  it('strips them even when they are invalid', () => {
    const body: Record<string, unknown> = { model: 'gpt', route: { strategy: 'nope' } };
    const req = request({ route: { strategy: 'nope' } });
    expect(() => takeRouteOptions(body, req, {})).toThrow(GatewayError);
    expect(body).toEqual({ model: 'gpt' });
    expect(req.extra).toEqual({});
  });

  it('returns no options when there are no routing controls', () => {
    const body: Record<string, unknown> = { model: 'gpt' };
    const options = takeRouteOptions(body, request(), {});
    expect(options).toEqual({ require: [] });
    expect(options.strategy).toBeUndefined();
    expect(options.fallbacks).toBeUndefined();
  });

  it('models: [...] becomes the fallbacks, without the requested model', () => {
    const options = takeRouteOptions({ models: ['gpt', 'claude', 'gemini'] }, request(), {});
    expect(options.fallbacks).toEqual(['claude', 'gemini']);
    expect(options.require).toEqual([]);
  });

  it('models wins over route.fallbacks', () => {
    const options = takeRouteOptions({ route: { fallbacks: ['x'] }, models: ['y'] }, request(), {});
    expect(options.fallbacks).toEqual(['y']);
  });

  it('the strategy header overrides route.strategy', () => {
    expect(takeRouteOptions({ route: { strategy: 'cost' } }, request(), { strategy: 'quality' }).strategy).toBe('quality');
    expect(takeRouteOptions({}, request(), { strategy: 'latency' }).strategy).toBe('latency');
    // A repeated header (array) or an empty one is ignored.
    expect(takeRouteOptions({ route: { strategy: 'cost' } }, request(), { strategy: ['quality', 'latency'] }).strategy).toBe('cost');
    expect(takeRouteOptions({}, request(), { strategy: '' }).strategy).toBeUndefined();
  });

  it('the session header is used unless route.session_id is given, and is capped at 256 characters', () => {
    expect(takeRouteOptions({}, request(), { session: 'hdr' }).sessionId).toBe('hdr');
    expect(takeRouteOptions({ route: { session_id: 'body' } }, request(), { session: 'hdr' }).sessionId).toBe('body');
    expect(takeRouteOptions({}, request(), { session: 'x'.repeat(300) }).sessionId).toHaveLength(256);
  });

  it.each([
    [{ strategy: 'fastest' }, 'route.strategy'],
    [{ max_price_per_mtok: -1 }, 'route.max_price_per_mtok'],
    [{ max_latency_ms: 0 }, 'route.max_latency_ms'],
    [{ min_quality: 1.5 }, 'route.min_quality'],
    [{ providers: { only: 'openai' } }, 'route.providers.only'],
    [{ require: ['telepathy'] }, 'route.require.0'],
    [{ fallbacks: [''] }, 'route.fallbacks.0'],
    [{ session_id: 'x'.repeat(257) }, 'route.session_id'],
    [{ hedge: 'yes' }, 'route.hedge'],
  ])('rejects route %j with param %s', (route, param) => {
    const err = thrown(() => takeRouteOptions({ route }, request(), {}));
    expect(err.errorClass).toBe('bad_request');
    expect(err.status).toBe(400);
    expect(err.param).toBe(param);
    expect(err.message).toContain(param);
  });

  it('rejects unknown route fields and a route that is not an object', () => {
    for (const route of [{ stratgey: 'cost' }, 'cost', null, []]) {
      const err = thrown(() => takeRouteOptions({ route }, request(), {}));
      expect(err.errorClass).toBe('bad_request');
      expect(err.param?.startsWith('route')).toBe(true);
    }
  });

  it.each([
    [[], 'models'],
    ['gpt', 'models'],
    [[1], 'models.0'],
    [Array.from({ length: 17 }, (_, i) => `m${i}`), 'models'],
  ])('rejects models %j with param %s', (models, param) => {
    const err = thrown(() => takeRouteOptions({ models }, request(), {}));
    expect(err.errorClass).toBe('bad_request');
    expect(err.param).toBe(param);
  });

  it('rejects an unknown strategy header with param x-switchyard-strategy', () => {
    const err = thrown(() => takeRouteOptions({}, request(), { strategy: 'fastest' }));
    expect(err.errorClass).toBe('bad_request');
    expect(err.status).toBe(400);
    expect(err.param).toBe('x-switchyard-strategy');
  });
});
