import { describe, expect, it } from 'vitest';
import type { ChatCompletion } from '../core/canonical.ts';
import { CompletionAssembler, completionChunks } from './replay.ts';

const completion: ChatCompletion = {
  id: 'chatcmpl-1',
  object: 'chat.completion',
  created: 1_700_000_000,
  model: 'm',
  choices: [
    {
      index: 0,
      message: { role: 'assistant', content: 'x'.repeat(150), reasoning_content: 'think first' },
      finish_reason: 'stop',
    },
    {
      index: 1,
      message: {
        role: 'assistant',
        content: null,
        tool_calls: [
          { id: 'call_a', type: 'function', function: { name: 'f', arguments: '{"a":1}' } },
          { id: 'call_b', type: 'function', function: { name: 'g', arguments: '{}' } },
        ],
      },
      finish_reason: 'tool_calls',
    },
  ],
  usage: { prompt_tokens: 10, completion_tokens: 20, total_tokens: 30, prompt_tokens_details: { cached_tokens: 4 } },
  system_fingerprint: 'fp',
};

describe('stream replay', () => {
  it('unfolds a completion into chunks that fold back into the same completion', () => {
    const chunks = completionChunks(completion, completion.id, completion.created);
    // 150 characters of content travel in 64-character deltas.
    expect(chunks.filter((c) => c.choices[0]?.index === 0 && typeof c.choices[0].delta.content === 'string' && c.choices[0].delta.content.length > 0)).toHaveLength(3);
    expect(chunks.at(-1)).toMatchObject({ choices: [], usage: completion.usage });
    const assembler = new CompletionAssembler();
    for (const chunk of chunks) assembler.add(chunk);
    const { system_fingerprint: _fp, ...expected } = completion;
    expect(assembler.completion(undefined)).toEqual(expected);
  });

  it('falls back to the accounted usage and refuses an unfinished stream', () => {
    const assembler = new CompletionAssembler();
    assembler.add({ id: 'x', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta: { content: 'hi' }, finish_reason: null }] });
    expect(assembler.completion(undefined)).toBeUndefined();
    assembler.add({ id: 'x', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta: {}, finish_reason: 'length' }] });
    const usage = { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 };
    expect(assembler.completion(usage)).toMatchObject({ usage, choices: [{ message: { content: 'hi' }, finish_reason: 'length' }] });
  });
});
