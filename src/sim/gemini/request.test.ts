import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SimServer } from '../server.ts';
import { geminiSimFormat } from './index.ts';
import { parseGeminiChat } from './request.ts';

describe('parseGeminiChat', () => {
  it('maps a Gemini conversation back to the canonical request', () => {
    const result = parseGeminiChat(
      {
        systemInstruction: { parts: [{ text: 'Be brief.' }] },
        contents: [
          { role: 'user', parts: [{ text: 'Look' }, { inlineData: { mimeType: 'image/png', data: 'AAAA' } }, { fileData: { fileUri: 'gs://b/x.jpg' } }] },
          { role: 'model', parts: [{ text: 'Calling.' }, { functionCall: { name: 'f', args: { a: 1 } } }, { functionCall: { name: 'f', args: { a: 2 } } }] },
          {
            role: 'user',
            parts: [
              { functionResponse: { name: 'f', response: { content: { ok: true } } } },
              { functionResponse: { name: 'f', response: { result: 'done' } } },
              { text: 'And now?' },
            ],
          },
        ],
        tools: [{ functionDeclarations: [{ name: 'f', parameters: { type: 'OBJECT', properties: { a: { type: 'INTEGER' } } } }] }],
        toolConfig: { functionCallingConfig: { mode: 'ANY', allowedFunctionNames: ['f'] } },
        generationConfig: { maxOutputTokens: 20, stopSequences: ['x'], candidateCount: 2, responseMimeType: 'application/json', thinkingConfig: { thinkingBudget: 0 } },
      },
      'gemini-2.5-flash',
    );
    if (!result.ok) throw new Error(result.message);
    const { chat, includeThoughts } = result.value;
    expect(includeThoughts).toBe(false);
    expect(chat.reasoning_effort).toBeUndefined();
    expect(chat.messages).toEqual([
      { role: 'system', content: 'Be brief.' },
      {
        role: 'user',
        content: [
          { type: 'text', text: 'Look' },
          { type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA' } },
          { type: 'image_url', image_url: { url: 'gs://b/x.jpg' } },
        ],
      },
      {
        role: 'assistant',
        content: 'Calling.',
        tool_calls: [
          { id: 'call_sim_1_0', type: 'function', function: { name: 'f', arguments: '{"a":1}' } },
          { id: 'call_sim_1_1', type: 'function', function: { name: 'f', arguments: '{"a":2}' } },
        ],
      },
      { role: 'tool', tool_call_id: 'call_sim_1_0', content: '{"ok":true}' },
      { role: 'tool', tool_call_id: 'call_sim_1_1', content: 'done' },
      { role: 'user', content: [{ type: 'text', text: 'And now?' }] },
    ]);
    expect(chat.tools?.[0].function.parameters).toEqual({ type: 'object', properties: { a: { type: 'integer' } } });
    expect(chat.tool_choice).toEqual({ type: 'function', function: { name: 'f' } });
    expect(chat).toMatchObject({ max_tokens: 20, stop: ['x'], n: 2, response_format: { type: 'json_object' } });
  });

  it('reports invalid payloads with the failing path', () => {
    const result = parseGeminiChat({ contents: [{ role: 'user', parts: 'hi' }] }, 'm');
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.message).toContain('contents.0.parts');
    expect(parseGeminiChat({ contents: [] }, 'm').ok).toBe(false);
  });
});

describe('Gemini simulator HTTP surface', () => {
  const sim = new SimServer(geminiSimFormat, { outputTokens: 4 });
  let origin = '';
  beforeAll(async () => {
    origin = (await sim.listen()).url;
  });
  afterAll(() => sim.close());

  const post = async (path: string, body: unknown): Promise<{ status: number; text: string; type: string | undefined }> => {
    const res = await request(origin + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const type = res.headers['content-type'];
    return { status: res.statusCode, text: await res.body.text(), type: typeof type === 'string' ? type : undefined };
  };

  it('frames SSE events with CRLF and carries usage in every event', async () => {
    const res = await post('/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse', { contents: [{ role: 'user', parts: [{ text: 'hi' }] }] });
    expect(res.type).toBe('text/event-stream');
    const events = res.text.split('\r\n\r\n').filter(Boolean);
    expect(events.every((e) => e.startsWith('data: '))).toBe(true);
    const values = events.map((e) => JSON.parse(e.slice(6)) as { usageMetadata: { promptTokenCount: number }; candidates: Array<{ finishReason?: string }> });
    expect(values.every((v) => v.usageMetadata.promptTokenCount > 0)).toBe(true);
    expect(values.at(-1)?.candidates[0].finishReason).toBe('STOP');
    expect(values.slice(0, -1).every((v) => v.candidates[0].finishReason === undefined)).toBe(true);
  });

  it('streams a JSON array without alt=sse', async () => {
    const res = await post('/v1beta/models/gemini-2.5-flash:streamGenerateContent', { contents: [{ parts: [{ text: 'hi' }] }] });
    const values = JSON.parse(res.text) as unknown[];
    expect(values.length).toBe(5);
  });

  it('answers errors in the Gemini envelope', async () => {
    const missing = await post('/v1beta/models/gemini-2.5-flash:unknownMethod', {});
    expect(missing.status).toBe(404);
    expect(JSON.parse(missing.text)).toEqual({ error: { code: 404, message: expect.any(String), status: 'NOT_FOUND' } });
    const invalid = await post('/v1beta/models/gemini-2.5-flash:generateContent', { contents: 'hi' });
    expect(JSON.parse(invalid.text).error).toMatchObject({ code: 400, status: 'INVALID_ARGUMENT' });
    const mismatch = await post('/v1beta/models/gemini-embedding-001:batchEmbedContents', { requests: [{ model: 'models/other', content: { parts: [{ text: 'a' }] } }] });
    expect(mismatch.status).toBe(400);
  });

  it('serves Vertex predict and countTokens', async () => {
    const base = '/v1/projects/p/locations/us-central1/publishers/google/models';
    const predicted = await post(`${base}/text-embedding-005:predict`, { instances: [{ content: 'hello world' }] });
    const body = JSON.parse(predicted.text) as { predictions: Array<{ embeddings: { values: number[]; statistics: { token_count: number } } }> };
    expect(body.predictions[0].embeddings.values).toHaveLength(768);
    expect(body.predictions[0].embeddings.statistics.token_count).toBe(3);
    const counted = await post(`${base}/gemini-2.5-flash:countTokens`, { contents: [{ role: 'user', parts: [{ text: 'hello' }] }] });
    expect(JSON.parse(counted.text)).toMatchObject({ totalTokens: expect.any(Number), totalBillableCharacters: expect.any(Number) });
  });
});
