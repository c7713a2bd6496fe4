import { describe, expect, it } from 'vitest';
import type { ChatRequest } from '../core/canonical.ts';
import {
  EXACT_TOKENIZE_MAX_CHARS,
  IMAGE_TOKENS_HIGH,
  IMAGE_TOKENS_LOW,
  REPLY_PRIMING_TOKENS,
  TOKENS_PER_MESSAGE,
  TOKENS_PER_NAME,
  countTextTokens,
  estimatePromptTokens,
} from './tokens.ts';

describe('countTextTokens', () => {
  it('counts o200k tokens exactly for short text', () => {
    expect(countTextTokens('')).toBe(0);
    expect(countTextTokens('hello world')).toBe(2);
    expect(countTextTokens('Hello, world!')).toBe(4);
  });

  it('treats special-token strings in user text as plain text', () => {
    expect(countTextTokens('<|endoftext|>')).toBeGreaterThan(1);
  });

  it('approximates chars/4 above the cut-off', () => {
    const long = 'a'.repeat(EXACT_TOKENIZE_MAX_CHARS + 3);
    expect(countTextTokens(long)).toBe(Math.ceil((EXACT_TOKENIZE_MAX_CHARS + 3) / 4));
  });
});

describe('estimatePromptTokens', () => {
  const base = (messages: ChatRequest['messages']): ChatRequest => ({ model: 'gpt-4o', messages });

  it('adds per-message framing, names and reply priming', () => {
    const req = base([
      { role: 'system', content: 'hello world' },
      { role: 'user', content: 'hello world', name: 'bob' },
    ]);
    expect(estimatePromptTokens(req)).toBe(REPLY_PRIMING_TOKENS + 2 * (TOKENS_PER_MESSAGE + 2) + TOKENS_PER_NAME);
  });

  it('uses fixed image estimates by detail', () => {
    const req = base([
      {
        role: 'user',
        content: [
          { type: 'text', text: 'hello world' },
          { type: 'image_url', image_url: { url: 'https://x/a.png', detail: 'low' } },
          { type: 'image_url', image_url: { url: 'https://x/b.png' } },
        ],
      },
    ]);
    expect(estimatePromptTokens(req)).toBe(REPLY_PRIMING_TOKENS + TOKENS_PER_MESSAGE + 2 + IMAGE_TOKENS_LOW + IMAGE_TOKENS_HIGH);
  });

  it('counts tool definitions, tool calls and tool results', () => {
    const plain = base([{ role: 'user', content: 'weather?' }]);
    const tool = { type: 'function' as const, function: { name: 'get_weather', parameters: { type: 'object' } } };
    const withTools: ChatRequest = { ...plain, tools: [tool] };
    const toolJson = countTextTokens(JSON.stringify(tool.function));
    expect(estimatePromptTokens(withTools)).toBe(estimatePromptTokens(plain) + toolJson);

    const convo = base([
      { role: 'assistant', content: null, tool_calls: [{ id: 'c1', type: 'function', function: { name: 'get_weather', arguments: '{}' } }] },
      { role: 'tool', tool_call_id: 'c1', content: 'sunny' },
    ]);
    const expected =
      REPLY_PRIMING_TOKENS +
      TOKENS_PER_MESSAGE + 3 + countTextTokens('get_weather') + countTextTokens('{}') +
      TOKENS_PER_MESSAGE + countTextTokens('sunny');
    expect(estimatePromptTokens(convo)).toBe(expected);
  });

  it('switches to chars/4 once the request exhausts its exact budget', () => {
    const chunk = 'word '.repeat(EXACT_TOKENIZE_MAX_CHARS / 5);
    const exactFirst = countTextTokens(chunk);
    const req = base([
      { role: 'user', content: chunk },
      { role: 'user', content: chunk },
    ]);
    const approxSecond = Math.ceil(chunk.length / 4);
    expect(estimatePromptTokens(req)).toBe(REPLY_PRIMING_TOKENS + 2 * TOKENS_PER_MESSAGE + exactFirst + approxSecond);
  });
});
