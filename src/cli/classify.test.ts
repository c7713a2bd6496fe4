import { PassThrough, Readable, Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { ComplexityClassifier } from '../routing/complexity/classifier.ts';
import { classify, classifyLine } from './classify.ts';

async function run(input: string): Promise<Array<Record<string, unknown>>> {
  let out = '';
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      out += chunk.toString('utf8');
      cb();
    },
  });
  await classify(Readable.from([input]), sink);
  return out
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

describe('classify CLI', () => {
  const c = ComplexityClassifier.default();

  it('scores prompts and messages, one line per input line, in order', async () => {
    const messages = [
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'Derive the closed form of the sum of the first n squares.' },
    ];
    const lines = [
      JSON.stringify({ id: 'a', prompt: 'hi' }),
      JSON.stringify({ id: 2, messages }),
      JSON.stringify({ id: 'c', prompt: 'What is 2 + 2?', tools: 1 }),
    ];
    const out = await run(`${lines.join('\n')}\n`);
    expect(out.map((o) => o.id)).toEqual(['a', 2, 'c']);
    for (const o of out) {
      expect(typeof o.score).toBe('number');
      expect(o.score as number).toBeGreaterThanOrEqual(0);
      expect(o.score as number).toBeLessThanOrEqual(1);
    }
    expect(out[0].score).toBeCloseTo(c.score({ prompt: 'hi' }), 6);
    expect(out[1].score).toBeCloseTo(c.score({ messages: messages as never }), 6);
  });

  it('reports malformed lines and carries on', async () => {
    const input = [
      '{"id": "ok1", "prompt": "fine"}',
      'this is not json',
      '{"id": "x1"}',
      '{"id": "x2", "prompt": 42}',
      '{"id": "x3", "messages": "nope"}',
      '{"id": "x4", "messages": [{"role": "wizard", "content": "hi"}]}',
      '[1, 2]',
      '{"id": {"nested": true}, "prompt": "object ids become null"}',
      '',
      '{"id": "ok2", "prompt": "still going"}',
    ].join('\n');
    const out = await run(input);
    expect(out).toHaveLength(9); // the blank line is skipped
    expect(out[0]).toMatchObject({ id: 'ok1' });
    expect(out[1]).toMatchObject({ id: null, error: expect.stringMatching(/invalid JSON/) });
    expect(out[2]).toMatchObject({ id: 'x1', error: expect.stringMatching(/prompt/) });
    expect(out[3]).toMatchObject({ id: 'x2', error: expect.stringMatching(/must be a string/) });
    expect(out[4]).toMatchObject({ id: 'x3', error: expect.stringMatching(/messages/) });
    expect(out[5]).toMatchObject({ id: 'x4', error: expect.stringMatching(/messages/) });
    expect(out[6]).toMatchObject({ id: null, error: expect.stringMatching(/object/) });
    expect(out[7]).toMatchObject({ id: null });
    expect(typeof out[7].score).toBe('number');
    expect(out[8]).toMatchObject({ id: 'ok2' });
    expect(typeof out[8].score).toBe('number');
  });

  it('handles CRLF input and a last line without a newline', async () => {
    const out = await run('{"id":1,"prompt":"a"}\r\n{"id":2,"prompt":"b"}');
    expect(out.map((o) => o.id)).toEqual([1, 2]);
  });

  it('streams: answers each line before the input ends', async () => {
    const input = new PassThrough();
    const results: string[] = [];
    let notify: (() => void) | undefined;
    const sink = new Writable({
      write(chunk: Buffer, _enc, cb) {
        results.push(chunk.toString('utf8'));
        notify?.();
        cb();
      },
    });
    const done = classify(input, sink);
    const firstWritten = new Promise<void>((resolve) => {
      notify = resolve;
    });
    input.write('{"id":"first","prompt":"hello"}\n');
    await firstWritten;
    expect(results).toHaveLength(1);
    expect(JSON.parse(results[0])).toMatchObject({ id: 'first' });
    input.end('{"id":"second","prompt":"bye"}\n');
    await done;
    expect(results).toHaveLength(2);
  });

  it('waits for a slow consumer (back-pressure) without losing lines', async () => {
    const n = 200;
    const input = Array.from({ length: n }, (_, i) => JSON.stringify({ id: i, prompt: `prompt number ${i}` })).join('\n');
    const received: number[] = [];
    const sink = new Writable({
      highWaterMark: 64,
      write(chunk: Buffer, _enc, cb) {
        received.push((JSON.parse(chunk.toString('utf8')) as { id: number }).id);
        setImmediate(cb);
      },
    });
    await classify(Readable.from([input]), sink);
    await new Promise<void>((resolve) => sink.end(resolve));
    expect(received).toEqual(Array.from({ length: n }, (_, i) => i));
  });

  it('classifyLine never throws', () => {
    for (const line of ['', '{', 'null', '"str"', '{"prompt": null}', '{"messages": [null]}', '{"messages": [{"role": "user", "content": [{"type": "text"}]}]}']) {
      expect(() => classifyLine(line, c)).not.toThrow();
      expect(classifyLine(line, c)).toHaveProperty('error');
    }
  });
});
