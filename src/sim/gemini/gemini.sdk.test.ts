// The official @google/genai client against the Gemini simulator: if the SDK is happy, the simulator
// speaks the real wire format.
import { ApiError, GoogleGenAI, Type } from '@google/genai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SimServer } from '../server.ts';
import { geminiSimFormat } from './index.ts';

const PNG_1PX = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==';

describe('Gemini simulator with the @google/genai SDK', () => {
  const sim = new SimServer(geminiSimFormat, { apiKey: 'k', outputTokens: 12 });
  let ai: GoogleGenAI;

  beforeAll(async () => {
    await sim.listen();
    ai = new GoogleGenAI({ apiKey: 'k', httpOptions: { baseUrl: sim.url } });
  });
  afterAll(() => sim.close());
  beforeEach(() => sim.setKnobs({ errorRates: {}, rateLimitRate: 0, cachedTokens: 0, outputTokens: 12 }));

  it('generates plain text with usage metadata', async () => {
    const response = await ai.models.generateContent({
      model: 'gemini-2.5-flash',
      contents: 'Say hello to the gateway',
      config: { systemInstruction: 'Be brief.', temperature: 0.2 },
    });
    expect(response.text).toContain('Simulated reply from gemini-2.5-flash to "Say hello to the gateway"');
    expect(response.candidates?.[0]?.finishReason).toBe('STOP');
    const usage = response.usageMetadata;
    expect(usage?.promptTokenCount).toBeGreaterThan(0);
    expect(usage?.candidatesTokenCount).toBe(12);
    expect(usage?.totalTokenCount).toBe((usage?.promptTokenCount ?? 0) + 12);
    const sent = sim.received.at(-1);
    expect(sent?.path).toBe('/v1beta/models/gemini-2.5-flash:generateContent');
    expect(sent?.headers['x-goog-api-key']).toBe('k');
  });

  it('streams text over SSE', async () => {
    sim.setKnobs({ cachedTokens: 3 });
    const stream = await ai.models.generateContentStream({ model: 'gemini-2.5-flash', contents: 'Stream please' });
    let text = '';
    let chunks = 0;
    let last: Awaited<ReturnType<typeof stream.next>>['value'];
    for await (const chunk of stream) {
      text += chunk.text ?? '';
      chunks++;
      last = chunk;
    }
    expect(chunks).toBeGreaterThan(5);
    expect(text).toContain('Simulated reply from gemini-2.5-flash to "Stream please"');
    expect(last?.candidates?.[0]?.finishReason).toBe('STOP');
    expect(last?.usageMetadata?.candidatesTokenCount).toBe(12);
    expect(last?.usageMetadata?.cachedContentTokenCount).toBe(3);
    expect(sim.received.at(-1)?.path).toBe('/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse');
  });

  it('calls functions', async () => {
    const response = await ai.models.generateContent({
      model: 'gemini-2.5-flash',
      contents: 'What is the weather in Paris? Use get_weather.',
      config: {
        tools: [
          {
            functionDeclarations: [
              {
                name: 'get_weather',
                description: 'Current weather for a city',
                parameters: {
                  type: Type.OBJECT,
                  properties: { city: { type: Type.STRING }, unit: { type: Type.STRING, enum: ['C', 'F'] } },
                  required: ['city'],
                },
              },
            ],
          },
        ],
      },
    });
    expect(response.functionCalls).toEqual([{ name: 'get_weather', args: { city: 'sample', unit: 'C' } }]);
    expect(response.candidates?.[0]?.content?.parts?.[0]?.thoughtSignature).toBeTypeOf('string');
  });

  it('answers a function response', async () => {
    const response = await ai.models.generateContent({
      model: 'gemini-2.5-flash',
      contents: [
        { role: 'user', parts: [{ text: 'Weather in Paris?' }] },
        { role: 'model', parts: [{ functionCall: { name: 'get_weather', args: { city: 'Paris' } } }] },
        { role: 'user', parts: [{ functionResponse: { name: 'get_weather', response: { result: 'sunny, 21C' } } }] },
      ],
      config: { tools: [{ functionDeclarations: [{ name: 'get_weather', parameters: { type: Type.OBJECT, properties: { city: { type: Type.STRING } } } }] }] },
    });
    expect(response.functionCalls).toBeUndefined();
    expect(response.text).toContain('Tool result received: sunny, 21C');
  });

  it('sees inline images', async () => {
    sim.setKnobs({ outputTokens: 40 });
    const response = await ai.models.generateContent({
      model: 'gemini-2.5-flash',
      contents: [{ role: 'user', parts: [{ text: 'What is in this picture?' }, { inlineData: { mimeType: 'image/png', data: PNG_1PX } }] }],
    });
    expect(response.text).toContain('I see 1 image.');
  });

  it('returns JSON in JSON mode', async () => {
    const response = await ai.models.generateContent({
      model: 'gemini-2.5-flash',
      contents: 'Give me a person',
      config: {
        responseMimeType: 'application/json',
        responseSchema: { type: Type.OBJECT, properties: { name: { type: Type.STRING }, age: { type: Type.INTEGER } }, required: ['name', 'age'] },
      },
    });
    expect(JSON.parse(response.text ?? '')).toEqual({ name: 'sample', age: 1 });
  });

  it('returns thought summaries when asked', async () => {
    const response = await ai.models.generateContent({
      model: 'gemini-2.5-flash',
      contents: 'Think first',
      config: { thinkingConfig: { thinkingBudget: 1024, includeThoughts: true } },
    });
    const parts = response.candidates?.[0]?.content?.parts ?? [];
    expect(parts[0]?.thought).toBe(true);
    expect(response.text).not.toContain('step by step');
    expect(response.usageMetadata?.thoughtsTokenCount).toBeGreaterThan(0);
  });

  it('embeds content', async () => {
    const single = await ai.models.embedContent({ model: 'gemini-embedding-001', contents: 'hello world', config: { outputDimensionality: 8 } });
    expect(single.embeddings).toHaveLength(1);
    expect(single.embeddings?.[0]?.values).toHaveLength(8);
    const batch = await ai.models.embedContent({ model: 'gemini-embedding-001', contents: ['a', 'b', 'c'] });
    expect(batch.embeddings?.map((e) => e.values?.length)).toEqual([3072, 3072, 3072]);
  });

  it('counts tokens and lists models', async () => {
    const count = await ai.models.countTokens({ model: 'gemini-2.5-flash', contents: 'count these tokens please' });
    expect(count.totalTokens).toBeGreaterThan(0);
    const pager = await ai.models.list();
    const names: string[] = [];
    for await (const model of pager) names.push(model.name ?? '');
    expect(names).toContain('models/gemini-2.5-flash');
  });

  it('surfaces 429 and 503 as ApiError with the status', async () => {
    sim.setKnobs({ rateLimitRate: 1 });
    const limited = await ai.models.generateContent({ model: 'gemini-2.5-flash', contents: 'hi' }).catch((err: unknown) => err);
    expect(limited).toBeInstanceOf(ApiError);
    expect((limited as ApiError).status).toBe(429);
    expect((limited as ApiError).message).toContain('RESOURCE_EXHAUSTED');

    sim.setKnobs({ rateLimitRate: 0, errorRates: { 503: 1 } });
    const before = sim.requestCount;
    const unavailable = await ai.models.generateContentStream({ model: 'gemini-2.5-flash', contents: 'hi' }).catch((err: unknown) => err);
    expect(unavailable).toBeInstanceOf(ApiError);
    expect((unavailable as ApiError).status).toBe(503);
    // No retryOptions configured, so the SDK made exactly one attempt.
    expect(sim.requestCount - before).toBe(1);
  });

  it('rejects a wrong API key', async () => {
    const other = new GoogleGenAI({ apiKey: 'wrong', httpOptions: { baseUrl: sim.url } });
    const err = await other.models.generateContent({ model: 'gemini-2.5-flash', contents: 'hi' }).catch((e: unknown) => e);
    expect((err as ApiError).status).toBe(401);
  });
});
