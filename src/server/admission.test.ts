import { describe, expect, it } from 'vitest';
import { estimatePromptTokens } from '../catalog/tokens.ts';
import type { ChatRequest } from '../core/canonical.ts';
import { reservedPromptTokens } from './admission.ts';

const ask = (content: string): ChatRequest => ({ model: 'm', messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content }] });

describe('reservedPromptTokens', () => {
  it('stays within -10 % / +150 % of the tokenizer for prose, code, CJK, Cyrillic, emoji and tools', () => {
    const cases: ChatRequest[] = [
      ask('Summarise the following text in two sentences. '.repeat(40)),
      ask('function add(a, b) {\n  return a + b;\n}\nconst xs = [1, 2, 3].map((x) => add(x, 1));\n'.repeat(20)),
      ask('東京は日本の首都であり、世界で最も人口の多い都市圏の一つです。'.repeat(20)),
      ask('Привет, как дела? Расскажи мне о погоде в Москве. '.repeat(20)),
      ask('🎉🚀 launch day 🙌 '.repeat(30)),
      {
        ...ask('What is the weather in Paris?'),
        tools: [{ type: 'function', function: { name: 'weather', description: 'Current weather for a city', parameters: { type: 'object', properties: { city: { type: 'string' } } } } }],
      },
    ];
    for (const req of cases) {
      const exact = estimatePromptTokens(req);
      const reserved = reservedPromptTokens(req);
      expect(reserved, JSON.stringify(req).slice(0, 60)).toBeGreaterThanOrEqual(exact * 0.9);
      expect(reserved).toBeLessThanOrEqual(exact * 2.5);
    }
    // English prose, the usual case: above the exact count.
    const prose = ask('Summarise the following text in two sentences. '.repeat(40));
    expect(reservedPromptTokens(prose)).toBeGreaterThanOrEqual(estimatePromptTokens(prose));
  });

  it('counts images at the tokenizer estimate’s fixed costs', () => {
    const req: ChatRequest = {
      model: 'm',
      messages: [{ role: 'user', content: [{ type: 'text', text: 'What is this?' }, { type: 'image_url', image_url: { url: 'https://x/y.png', detail: 'low' } }] }],
    };
    expect(reservedPromptTokens(req)).toBeGreaterThanOrEqual(85);
    expect(reservedPromptTokens(req)).toBeLessThan(110);
  });
});
