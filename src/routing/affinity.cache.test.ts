// The cost strategy counts an expected prompt-cache hit on the sticky deployment as a saving: a
// session's earlier turns for automatic caches (OpenAI, Gemini), only the marked prefix for
// marker caches (Anthropic, Bedrock).
import { describe, expect, it } from 'vitest';
import type { ChatRequest } from '../core/canonical.ts';
import { Router } from './router.ts';
import { chat, deployment, FakeHealth, group, noOptions, planInput, routingConfig } from './testing.ts';

const NOW = 1_000_000;
const PRICE = { inputPerMtok: 2, outputPerMtok: 4, cachedInputPerMtok: 0.2 };

function router(): Router {
  return new Router(routingConfig({ affinity: { min_prefix_chars: 400 } }), new FakeHealth(), () => 0);
}

function conversation(system: string, marked: boolean): ChatRequest {
  return chat({
    max_tokens: 100,
    messages: [
      { role: 'system', content: marked ? [{ type: 'text', text: system, cache_control: { type: 'ephemeral' } }] : system },
      { role: 'user', content: 'q'.repeat(400) },
      { role: 'assistant', content: 'a'.repeat(400) },
      { role: 'user', content: 'next question' },
    ],
  });
}

function signalsAfterPin(type: 'openai' | 'anthropic', req: ChatRequest, sessionId?: string) {
  const a = deployment({ id: 'a', providerType: type, price: PRICE });
  const b = deployment({ id: 'b', providerType: type, price: PRICE });
  const g = group('g', [a, b]);
  const r = router();
  const input = planInput(g, { strategy: 'cost', req, promptTokens: 1000, options: noOptions(sessionId ? { sessionId } : {}), now: NOW });
  r.remember(r.plan(input), b, NOW);
  const plan = r.plan(input);
  return new Map(plan.tiers[0].order.map((c) => [c.deployment.id, c]));
}

describe('expected prompt-cache savings in the cost strategy', () => {
  it("counts a session's earlier turns as cached on the sticky deployment of an automatic cache", () => {
    const byId = signalsAfterPin('openai', conversation('s'.repeat(800), false), 'session-1');
    const earlier = Math.floor((800 + 400 + 400) / 4);
    expect(byId.get('b')!.signals.cachedTokens).toBe(earlier);
    expect(byId.get('a')!.signals.cachedTokens).toBe(0);
    expect(byId.get('b')!.signals.costUsd).toBeCloseTo(((1000 - earlier) * 2 + earlier * 0.2 + 100 * 4) / 1e6, 15);
    expect(byId.get('b')!.score).toBeGreaterThan(byId.get('a')!.score);
  });

  it('counts nothing on a marker cache when the request marks nothing, and the marked prefix when it does', () => {
    const unmarked = signalsAfterPin('anthropic', conversation('s'.repeat(800), false));
    expect(unmarked.get('b')!.signals.cachedTokens).toBe(0);
    expect(unmarked.get('b')!.signals.costUsd).toBeCloseTo(unmarked.get('a')!.signals.costUsd, 15);

    const marked = signalsAfterPin('anthropic', conversation('s'.repeat(800), true));
    expect(marked.get('b')!.signals.cachedTokens).toBe(200);
    expect(marked.get('b')!.signals.costUsd).toBeCloseTo((800 * 2 + 200 * 0.2 + 100 * 4) / 1e6, 15);
    expect(marked.get('b')!.score).toBeGreaterThan(marked.get('a')!.score);
  });
});
