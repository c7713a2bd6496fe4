import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../../core/random.ts';
import { plainChatRequest } from './plain-chat.ts';
import { schemaChatRequest } from './request.ts';

// Values each field may take in generated bodies: valid ones, boundary cases and wrong types.
const VALUES: Record<string, unknown[]> = {
  model: ['gpt-4o-mini', '', 7, null],
  stream: [true, false, null, 'true', 1],
  stream_options: [{ include_usage: true }, { include_usage: false }, {}, null, { include_usage: 'yes' }, { other: 1 }, [], 'x'],
  parallel_tool_calls: [true, false, null, 0],
  temperature: [0, 0.7, 2, 2.0001, -0.1, null, '1'],
  top_p: [0, 1, 0.5, 1.5, null],
  max_tokens: [1, 200, 10_000_000, 10_000_001, 0, 1.5, -3, null, '5'],
  max_completion_tokens: [1, 4096, 0, null, 2 ** 60],
  stop: ['\n', ['a', 'b'], [], Array.from({ length: 16 }, () => 'x'), Array.from({ length: 17 }, () => 'x'), [1], null, 5],
  n: [1, 128, 129, 0, null, 2.5],
  seed: [0, -5, 123456789, 1.5, null, 2 ** 60, 'seed'],
  user: ['u-1', '', null, 3],
  reasoning_effort: ['minimal', 'low', 'medium', 'high', 'max', null, 1],
  presence_penalty: [-2, 2, 0.3, -2.1, 2.5, null],
  frequency_penalty: [-2, 0, 2, 3, null],
  logprobs: [true, false, null, 'no'],
  top_logprobs: [0, 20, 21, -1, null, 1.5],
  // Left to the schema's path; their presence must never be taken by the plain one.
  tools: [[{ type: 'function', function: { name: 'f' } }]],
  tool_choice: ['auto'],
  response_format: [{ type: 'json_object' }],
  logit_bias: [{ '50256': -100 }],
  metadata: [{ a: 'b' }],
};

const MESSAGES: unknown[] = [
  { role: 'user', content: 'hello' },
  { content: 'reordered keys', role: 'user' },
  { role: 'system', content: 'be brief', name: 'ops' },
  { role: 'developer', content: 'rules' },
  { role: 'assistant', content: 'earlier answer' },
  { role: 'assistant', content: null },
  { role: 'assistant', content: 'x', tool_calls: [] },
  { role: 'tool', content: 'result', tool_call_id: 't1' },
  { role: 'user', content: [{ type: 'text', text: 'part' }] },
  { role: 'user', content: 'x', name: null },
  { role: 'user', content: 'x', extra: true },
  { role: 'robot', content: 'x' },
  { role: 'user' },
  { role: 'user', content: 5 },
  'not an object',
  null,
];

function generate(random: () => number): Record<string, unknown> {
  const pick = <T>(values: readonly T[]): T => values[Math.floor(random() * values.length)];
  const body: Record<string, unknown> = {};
  const keys = Object.keys(VALUES).filter((k) => k !== 'model' && k !== 'messages');
  // Mostly valid-looking bodies with a few options, in random key order.
  if (random() < 0.95) body.model = random() < 0.85 ? 'gpt-4o-mini' : pick(VALUES.model);
  const count = Math.floor(random() * 4);
  for (let i = 0; i < count; i++) {
    const key = pick(keys);
    if (key === 'tools' || key === 'tool_choice' || key === 'response_format' || key === 'logit_bias' || key === 'metadata') {
      if (random() < 0.3) body[key] = pick(VALUES[key]);
    } else body[key] = pick(VALUES[key]);
  }
  if (random() < 0.97) {
    const length = random() < 0.05 ? 0 : 1 + Math.floor(random() * 4);
    body.messages = Array.from({ length }, () => structuredClone(random() < 0.6 ? MESSAGES[Math.floor(random() * 5)] : pick(MESSAGES)));
  } else body.messages = pick([{}, 'hi', null]);
  return body;
}

function schemaOutcome(body: Record<string, unknown>): string {
  try {
    return JSON.stringify(schemaChatRequest(structuredClone(body)));
  } catch (err) {
    return `error: ${(err as Error).message}`;
  }
}

describe('plainChatRequest', () => {
  it('returns exactly what the schema returns, key order included, for every body it takes', () => {
    const random = mulberry32(20261126);
    let taken = 0;
    let refusedBySchema = 0;
    for (let i = 0; i < 4_000; i++) {
      const body = generate(random);
      const expected = schemaOutcome(body);
      if (expected.startsWith('error:')) refusedBySchema++;
      const plain = plainChatRequest(structuredClone(body));
      if (plain === undefined) continue;
      taken++;
      expect(JSON.stringify(plain), JSON.stringify(body)).toBe(expected);
    }
    // The generator covers both paths in earnest.
    expect(taken).toBeGreaterThan(600);
    expect(refusedBySchema).toBeGreaterThan(600);
  });

  it('takes the everyday body and leaves tools, content parts and tool messages to the schema', () => {
    const body = {
      model: 'gpt-4o-mini',
      messages: [
        { role: 'system', content: 'You are terse.' },
        { role: 'user', content: 'Hi', name: 'ann' },
      ],
      stream: true,
      stream_options: { include_usage: true },
      temperature: 0.2,
      max_tokens: 100,
      stop: ['\n\n'],
    };
    expect(plainChatRequest(body)).toEqual(body);
    expect(plainChatRequest({ ...body, tools: [{ type: 'function', function: { name: 'f' } }] })).toBeUndefined();
    expect(plainChatRequest({ ...body, messages: [{ role: 'user', content: [{ type: 'text', text: 'x' }] }] })).toBeUndefined();
    expect(plainChatRequest({ ...body, messages: [{ role: 'tool', content: 'r', tool_call_id: 'a' }] })).toBeUndefined();
  });

  it('copies arrays it returns, so later changes to the body do not reach the request', () => {
    const stop = ['a'];
    const req = plainChatRequest({ model: 'm', messages: [{ role: 'user', content: 'x' }], stop });
    stop.push('b');
    expect(req?.stop).toEqual(['a']);
  });
});
