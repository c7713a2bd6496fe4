// Property-based fuzzing of both ingress dialects through real HTTP: malformed JSON, invalid UTF-8,
// deep nesting, huge strings, wrong types, unknown content parts, tool schemas that are not JSON Schema,
// absurd max_tokens / n / stop lists. Every answer is either a success or a 4xx in the endpoint's own
// error shape, promptly; the gateway never crashes and its heap returns to the baseline.
// Replay a failure with FUZZ_SEED=<seed printed by fast-check> (and its `path`).
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MASTER_KEY, startHarness, type Harness } from './support/harness.ts';
import { fuzzSeed, isAnthropicError, isOpenAIError, parseJson, post, settledMemory } from './support/reliability.ts';

const SEED = fuzzSeed(20261126);
const RUNS = 1500;
let h: Harness;
const auth = { authorization: `Bearer ${MASTER_KEY}` };

beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h.close());

type Dialect = 'openai' | 'anthropic';
const PATH: Record<Dialect, string> = { openai: '/v1/chat/completions', anthropic: '/v1/messages' };

function validBase(dialect: Dialect): Record<string, unknown> {
  return dialect === 'openai'
    ? { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hello' }] }
    : { model: 'claude-sonnet-4', max_tokens: 16, messages: [{ role: 'user', content: 'hello' }] };
}

const anyJson = fc.jsonValue({ maxDepth: 4 });
const absurdNumber = fc.oneof(
  fc.constantFrom(0, -1, 1e12, 1e300, Number.MAX_SAFE_INTEGER, 2 ** 53 + 2, 0.5, -0.0),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.string({ maxLength: 8 }),
  fc.constant(null),
  fc.boolean(),
);
const hugeList = fc.integer({ min: 17, max: 20_000 }).map((n) => Array.from({ length: n }, (_, i) => `stop-${i}`));
const notASchema = fc.oneof(
  anyJson,
  fc.record({ type: fc.oneof(fc.integer(), fc.constantFrom('text', 'map', 'dict', ''), fc.array(fc.integer(), { maxLength: 3 })) }),
  fc.record({ type: fc.constant('object'), properties: fc.oneof(fc.string(), fc.integer(), fc.array(anyJson, { maxLength: 3 })) }),
  fc.record({ type: fc.constant('object'), properties: fc.dictionary(fc.string({ minLength: 1, maxLength: 6 }), fc.oneof(fc.integer(), fc.string())), required: fc.oneof(fc.string(), fc.integer()) }),
);
const unknownPart = fc.record({ type: fc.string({ maxLength: 12 }).filter((t) => !['text', 'image_url', 'image', 'tool_result', 'tool_use', 'thinking', 'redacted_thinking', 'document'].includes(t)), data: anyJson });

/** One field of a valid request replaced by something hostile. */
function mutation(dialect: Dialect): fc.Arbitrary<Record<string, unknown>> {
  const set = (field: string) => (value: unknown) => ({ ...validBase(dialect), [field]: value });
  const tool = (schema: unknown) =>
    dialect === 'openai' ? { type: 'function', function: { name: 'lookup', parameters: schema } } : { name: 'lookup', input_schema: schema };
  return fc.oneof(
    fc.tuple(fc.constantFrom('model', 'messages', 'stream', 'temperature', 'top_p', 'tools', 'tool_choice', 'system', 'metadata', 'response_format', 'stream_options', 'user', 'seed'), anyJson).map(([f, v]) => set(f)(v)),
    absurdNumber.map(set('max_tokens')),
    absurdNumber.map(set(dialect === 'openai' ? 'n' : 'top_k')),
    absurdNumber.map(set(dialect === 'openai' ? 'max_completion_tokens' : 'temperature')),
    hugeList.map(set(dialect === 'openai' ? 'stop' : 'stop_sequences')),
    notASchema.map((schema) => set('tools')([tool(schema)])),
    unknownPart.map((part) => set('messages')([{ role: 'user', content: [part] }])),
    fc.tuple(fc.constantFrom('user', 'assistant', 'system', 'tool', 'developer', 'robot', ''), anyJson).map(([role, content]) => set('messages')([{ role, content }])),
    fc.array(fc.record({ role: fc.constantFrom('user', 'assistant'), content: fc.oneof(fc.string(), anyJson) }), { maxLength: 4 }).map(set('messages')),
  );
}

/** Bodies as bytes: structured mutations, arbitrary JSON, broken JSON, bad UTF-8, deep nesting, huge strings. */
function body(dialect: Dialect): fc.Arbitrary<Uint8Array | string> {
  const json = (value: unknown) => JSON.stringify(value);
  const valid = json(validBase(dialect));
  return fc.oneof(
    { weight: 6, arbitrary: mutation(dialect).map(json) },
    { weight: 2, arbitrary: anyJson.map(json) },
    { weight: 2, arbitrary: fc.nat({ max: valid.length - 1 }).map((cut) => valid.slice(0, cut)) },
    { weight: 1, arbitrary: fc.string({ maxLength: 64 }) },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 256 }) },
    {
      weight: 1,
      arbitrary: fc.tuple(fc.nat({ max: 40 }), fc.uint8Array({ minLength: 1, maxLength: 4 }).map((b) => b.map((x) => x | 0x80))).map(([at, bad]) => {
        const text = json({ ...validBase(dialect), messages: [{ role: 'user', content: 'x'.repeat(at) + '@' }] });
        const i = text.indexOf('@');
        return Buffer.concat([Buffer.from(text.slice(0, i)), Buffer.from(bad), Buffer.from(text.slice(i + 1))]);
      }),
    },
    {
      weight: 1,
      arbitrary: fc.tuple(fc.integer({ min: 100, max: 50_000 }), fc.constantFrom('[', '{"a":')).map(([depth, open]) => {
        const close = open === '[' ? ']' : '}';
        const inner = open.repeat(depth) + '1' + close.repeat(depth);
        return `${valid.slice(0, -1)},"extra":${inner}}`;
      }),
    },
    {
      weight: 1,
      arbitrary: fc.integer({ min: 200_000, max: 1_300_000 }).map((size) => json({ ...validBase(dialect), messages: [{ role: 'user', content: 'é'.repeat(size / 2) }] })),
    },
  );
}

function checkAnswer(dialect: Dialect, status: number, text: string): void {
  expect(status, text.slice(0, 300)).toBeLessThan(500);
  if (status === 200) return;
  expect(status).toBeGreaterThanOrEqual(400);
  const parsed = parseJson(text);
  const shaped = dialect === 'openai' ? isOpenAIError(parsed) : isAnthropicError(parsed);
  expect(shaped, `${status} ${text.slice(0, 300)}`).toBe(true);
}

describe.each(['openai', 'anthropic'] as const)('fuzzing the %s dialect', (dialect) => {
  it(`${RUNS} generated hostile bodies: a 2xx or a dialect-shaped 4xx, never a crash or a hang`, async () => {
    const statuses = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(body(dialect), fc.boolean(), async (bytes, stream) => {
        // Half the structured cases ask for a stream, which takes the other response path.
        const payload = stream && typeof bytes === 'string' && bytes.startsWith('{"model"') ? bytes.replace('{"model"', '{"stream":true,"model"') : bytes;
        const res = await post(`${h.url}${PATH[dialect]}`, payload, auth);
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        if (res.status === 200 && res.headers['content-type']?.toString().startsWith('text/event-stream')) return;
        checkAnswer(dialect, res.status, res.text);
      }),
      { seed: SEED, numRuns: RUNS, endOnFailure: true },
    );
    // The generators reach the validators: most cases are refused, some still succeed.
    expect(statuses.get(400) ?? 0).toBeGreaterThan(RUNS / 3);
    const live = await fetch(`${h.url}/health/live`);
    expect(live.status).toBe(200);
  }, 120_000);
});

describe('memory', () => {
  it('returns to its baseline after a round of hostile requests', async () => {
    const samples = fc.sample(fc.tuple(fc.constantFrom<Dialect>('openai', 'anthropic'), fc.constant(0)).chain(([d]) => body(d).map((b) => [d, b] as const)), { seed: SEED + 1, numRuns: 400 });
    const round = async (): Promise<void> => {
      for (const [dialect, bytes] of samples) await post(`${h.url}${PATH[dialect]}`, bytes, auth);
      h.usage.records.length = 0;
    };
    await round(); // warm-up: pools, JIT, lazily built tables
    const before = settledMemory();
    await round();
    await round();
    const after = settledMemory();
    const grownMb = (after.heapUsed - before.heapUsed) / 1048576;
    expect(grownMb, `heap grew ${grownMb.toFixed(1)} MB`).toBeLessThan(8);
  }, 120_000);
});
