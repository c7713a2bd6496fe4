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

  it('counts words and punctuation exactly as the straightforward per-character rule does', () => {
    // The rule the class-table loop implements, written the obvious way.
    const reference = (text: string): number => {
      let words = 0;
      let symbols = 0;
      let inWord = false;
      for (const ch of text.split('')) {
        const c = ch.charCodeAt(0);
        if (/[0-9A-Za-z]/.test(ch)) {
          if (!inWord) words++;
          inWord = true;
        } else {
          inWord = false;
          if (c > 32 && c < 127) symbols++;
        }
      }
      return Math.max(text.length / 4, words + 0.8 * symbols) + (Buffer.byteLength(text, 'utf8') - text.length) / 2;
    };
    const alphabet = ['a', 'Z', '0', '9', ' ', '\n', '\t', '.', '{', '~', '\u007f', 'é', '日', '😀', '_', '-', '/', '@', '`', '['];
    let seed = 7;
    const random = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    const base = reservedPromptTokens({ model: 'm', messages: [{ role: 'user', content: '' }] });
    for (let i = 0; i < 2000; i++) {
      let text = '';
      const length = random(80);
      for (let j = 0; j < length; j++) text += alphabet[random(alphabet.length)];
      const expected = Math.ceil(base + reference(text));
      expect(reservedPromptTokens({ model: 'm', messages: [{ role: 'user', content: text }] }), JSON.stringify(text)).toBe(expected);
    }
  });
});
