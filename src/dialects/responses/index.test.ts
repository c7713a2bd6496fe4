import { describe, expect, it } from 'vitest';
import type { ChatCompletionChunk } from '../../core/canonical.ts';
import { GatewayError } from '../../core/errors.ts';
import { ResponsesDialect } from './index.ts';
import { parseResponsesRequest } from './request.ts';
import { newIdentity } from './response.ts';
import { toChatRequest } from './to-chat.ts';
import type { ResponseObject } from './types.ts';

const chunk = (content: string | undefined, finish: 'stop' | null = null): ChatCompletionChunk => ({
  id: 'c',
  object: 'chat.completion.chunk',
  created: 1,
  model: 'm',
  choices: [{ index: 0, delta: content === undefined ? {} : { content }, finish_reason: finish }],
});

function dialect(): { d: ResponsesDialect; stored: ResponseObject[] } {
  const req = parseResponsesRequest({ model: 'm', input: 'hi', stream: true });
  const stored: ResponseObject[] = [];
  const d = new ResponsesDialect({ identity: newIdentity(), req, chat: toChatRequest(req, []), onComplete: async (r) => void stored.push(r) });
  return { d, stored };
}

describe('ResponsesDialect', () => {
  it('hands the parsed canonical request to the router', () => {
    const { d } = dialect();
    expect(d.parseChat().messages).toEqual([{ role: 'user', content: 'hi' }]);
    expect(d.name).toBe('responses');
  });

  it('stores the committed stream before releasing response.completed, ignoring an attempt that failed before content', async () => {
    const { d, stored } = dialect();
    const failedAttempt = d.createStreamEncoder();
    failedAttempt.chunk(chunk(''));
    const winner = d.createStreamEncoder();
    expect(winner).not.toBe(failedAttempt);
    winner.chunk(chunk('Hello'));
    winner.chunk(chunk(undefined, 'stop'));
    const closing = winner.end();
    expect(closing).toContain('response.output_item.done');
    expect(closing).not.toContain('response.completed');
    const held = await d.finalize();
    expect(held).toContain('event: response.completed');
    expect(stored).toHaveLength(1);
    expect(stored[0].output[0]).toMatchObject({ content: [{ text: 'Hello' }] });
  });

  it('renders a mid-stream error on the committed encoder and stores nothing', async () => {
    const { d, stored } = dialect();
    const winner = d.createStreamEncoder();
    const sent = winner.chunk(chunk('Hel'));
    const errorEncoder = d.createStreamEncoder();
    expect(errorEncoder).toBe(winner);
    const tail = errorEncoder.error(new GatewayError('stream_cut', 'cut'));
    const lastSeq = Number(/"sequence_number":(\d+)/g.exec(sent.split('\n\n').at(-2) ?? '')?.[1]);
    expect(tail).toContain(`"sequence_number":${lastSeq + 1}`);
    expect(await d.finalize()).toBe('');
    expect(stored).toHaveLength(0);
  });

  it('stores a unary response when finalized', async () => {
    const { d, stored } = dialect();
    d.renderChat({ id: 'c', object: 'chat.completion', created: 1, model: 'm', choices: [{ index: 0, message: { role: 'assistant', content: 'ok' }, finish_reason: 'stop' }] });
    expect(await d.finalize()).toBe('');
    expect(stored[0].status).toBe('completed');
  });
});
