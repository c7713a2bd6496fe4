// The live signals replay rebuilds from a recorded window: streamed requests give TTFT and output speed;
// non-streamed ones only their total latency, which still anchors the estimate.
import { describe, expect, it } from 'vitest';
import { RecordedHistory } from '../src/replay/history.ts';
import type { ReplayRecord } from '../src/replay/records.ts';
import { deployment } from '../src/routing/testing.ts';

function record(over: Partial<ReplayRecord>): ReplayRecord {
  return {
    requestId: 'r',
    ts: 0,
    operation: 'chat',
    requestedModel: 'g',
    modelGroup: 'g',
    deployment: 'g/p/m',
    provider: 'p',
    providerModel: 'm',
    strategy: null,
    status: 200,
    promptTokens: 100,
    completionTokens: 100,
    cachedTokens: 0,
    costUsd: 0,
    latencyMs: 1000,
    ttftMs: null,
    complexity: null,
    autoTier: null,
    orgId: null,
    ...over,
  };
}

describe('RecordedHistory', () => {
  it('takes the median TTFT and output speed of streamed requests, and the success rate of all', () => {
    const history = new RecordedHistory([
      record({ ttftMs: 200, latencyMs: 200 + 2000, completionTokens: 100 }), // 50 tokens/s
      record({ ttftMs: 300, latencyMs: 300 + 1000, completionTokens: 100 }), // 100 tokens/s
      record({ ttftMs: 250, latencyMs: 250 + 1000, completionTokens: 50 }), // 50 tokens/s
      record({ status: 502, latencyMs: 10 }),
    ]);
    const d = deployment({ id: 'g/p/m', model: 'm' });
    expect(history.performance(d)).toMatchObject({ exact: true, observed: { requests: 4, successes: 3, ttftMs: 250, tokensPerSecond: 50 } });
    expect(history.latencyMs(d, 100)).toBe(250 + 2000);
    // Another deployment of the same model borrows the numbers; an unknown model gets the priors.
    expect(history.performance(deployment({ id: 'g2/q/m', model: 'm' }))?.exact).toBe(false);
    expect(history.latencyMs(deployment({ id: 'x/q/other', model: 'other' }), 60)).toBe(800 + 1000);
    const signals = history.lookup([d]).get(d.id);
    expect(signals.measured).toBe(true);
    expect(signals.successRate(0)).toBeCloseTo((3 + 4) / (4 + 4), 10);
    expect(history.lookup([d]).get('unknown').measured).toBe(false);
  });

  it('anchors non-streamed traffic on its total latency', () => {
    const history = new RecordedHistory([record({ latencyMs: 3000, completionTokens: 60 }), record({ latencyMs: 5000, completionTokens: 60 }), record({ latencyMs: 4000, completionTokens: 60 })]);
    const d = deployment({ id: 'g/p/m', model: 'm' });
    // 60 tokens at the default 60 tokens/s take 1 s; the median remainder, 3 s, counts as waiting.
    expect(history.latencyMs(d, 60)).toBe(4000);
    expect(history.latencyMs(d, 120)).toBe(5000);
  });
});
