// The official AWS SDK against the Bedrock simulator: proves the wire format (JSON bodies, binary event
// stream, error shape, SigV4) is the one real clients speak.
import {
  BedrockRuntimeClient,
  ConverseCommand,
  ConverseStreamCommand,
  InvokeModelCommand,
  ThrottlingException,
  type Message,
  type ToolConfiguration,
} from '@aws-sdk/client-bedrock-runtime';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SimServer } from '../server.ts';
import { bedrockSimFormat, createBedrockSimServer } from './index.ts';

const MODEL = 'anthropic.claude-3-5-sonnet-20240620-v1:0';
const PNG_BYTES = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==', 'base64');

const weatherTool: ToolConfiguration = {
  tools: [
    {
      toolSpec: {
        name: 'get_weather',
        description: 'Current weather for a city',
        inputSchema: { json: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } },
      },
    },
  ],
};

// The SDK defaults to HTTP/2 for Bedrock (bidirectional streams need it); the simulator speaks HTTP/1.1.
function client(url: string, secretAccessKey = 'secret', accessKeyId = 'AKID'): BedrockRuntimeClient {
  return new BedrockRuntimeClient({
    endpoint: url,
    region: 'us-east-1',
    credentials: { accessKeyId, secretAccessKey },
    maxAttempts: 1,
    requestHandler: new NodeHttpHandler(),
  });
}

function ask(text: string): Message[] {
  return [{ role: 'user', content: [{ text }] }];
}

describe('Bedrock simulator with the AWS SDK', () => {
  const sim = new SimServer(bedrockSimFormat, { outputTokens: 12 });
  let bedrock: BedrockRuntimeClient;

  beforeAll(async () => {
    await sim.listen();
    bedrock = client(sim.url);
  });
  afterAll(async () => {
    bedrock.destroy();
    await sim.close();
  });
  afterEach(() => sim.setKnobs({ rateLimitRate: 0, errorRates: {} }));

  it('answers Converse with text, stop reason and usage', async () => {
    const res = await bedrock.send(
      new ConverseCommand({ modelId: MODEL, system: [{ text: 'Be brief.' }], messages: ask('Hello there'), inferenceConfig: { maxTokens: 50 } }),
    );
    const text = res.output?.message?.content?.[0]?.text;
    expect(text).toContain(`Simulated reply from ${MODEL}`);
    expect(res.stopReason).toBe('end_turn');
    expect(res.usage?.inputTokens).toBeGreaterThan(0);
    expect(res.usage?.outputTokens).toBe(12);
    expect(res.usage?.totalTokens).toBe((res.usage?.inputTokens ?? 0) + 12);
    expect(sim.received.at(-1)?.path).toBe(`/model/${encodeURIComponent(MODEL)}/converse`);
  });

  it('streams ConverseStream events the SDK decodes', async () => {
    const res = await bedrock.send(new ConverseStreamCommand({ modelId: MODEL, messages: ask('Stream please') }));
    const events: string[] = [];
    let text = '';
    let outputTokens = 0;
    let stopReason: string | undefined;
    for await (const event of res.stream ?? []) {
      if (event.messageStart) events.push('messageStart');
      if (event.contentBlockDelta?.delta?.text) text += event.contentBlockDelta.delta.text;
      if (event.contentBlockStop) events.push('contentBlockStop');
      if (event.messageStop) stopReason = event.messageStop.stopReason;
      if (event.metadata) outputTokens = event.metadata.usage?.outputTokens ?? 0;
    }
    expect(events).toEqual(['messageStart', 'contentBlockStop']);
    expect(text).toContain('Simulated reply');
    expect(stopReason).toBe('end_turn');
    expect(outputTokens).toBe(12);
  });

  it('calls tools in Converse', async () => {
    const res = await bedrock.send(new ConverseCommand({ modelId: MODEL, messages: ask('Use get_weather for Paris'), toolConfig: weatherTool }));
    expect(res.stopReason).toBe('tool_use');
    const toolUse = res.output?.message?.content?.find((block) => block.toolUse)?.toolUse;
    expect(toolUse?.name).toBe('get_weather');
    expect(toolUse?.input).toEqual({ city: 'sample' });
    expect(toolUse?.toolUseId).toBeTruthy();
  });

  it('streams tool use as contentBlockStart plus partial JSON input', async () => {
    const res = await bedrock.send(
      new ConverseStreamCommand({ modelId: MODEL, messages: ask('Use get_weather'), toolConfig: { ...weatherTool, toolChoice: { any: {} } } }),
    );
    let name: string | undefined;
    let input = '';
    let stopReason: string | undefined;
    for await (const event of res.stream ?? []) {
      if (event.contentBlockStart?.start?.toolUse) name = event.contentBlockStart.start.toolUse.name;
      if (event.contentBlockDelta?.delta?.toolUse) input += event.contentBlockDelta.delta.toolUse.input ?? '';
      if (event.messageStop) stopReason = event.messageStop.stopReason;
    }
    expect(name).toBe('get_weather');
    expect(JSON.parse(input)).toEqual({ city: 'sample' });
    expect(stopReason).toBe('tool_use');
  });

  it('accepts image blocks', async () => {
    const res = await bedrock.send(
      new ConverseCommand({
        modelId: MODEL,
        messages: [{ role: 'user', content: [{ text: 'What is this?' }, { image: { format: 'png', source: { bytes: PNG_BYTES } } }] }],
      }),
    );
    expect(res.output?.message?.content?.[0]?.text).toContain('I see 1 image');
  });

  it('embeds text with Titan through InvokeModel', async () => {
    const res = await bedrock.send(
      new InvokeModelCommand({
        modelId: 'amazon.titan-embed-text-v2:0',
        contentType: 'application/json',
        accept: 'application/json',
        body: JSON.stringify({ inputText: 'hello world', dimensions: 256, normalize: true }),
      }),
    );
    const body = JSON.parse(Buffer.from(res.body).toString('utf8')) as { embedding: number[]; inputTextTokenCount: number };
    expect(body.embedding).toHaveLength(256);
    expect(body.inputTextTokenCount).toBeGreaterThan(0);
  });

  it('surfaces a 429 as ThrottlingException', async () => {
    sim.setKnobs({ rateLimitRate: 1 });
    const err = await bedrock.send(new ConverseCommand({ modelId: MODEL, messages: ask('hi') })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ThrottlingException);
    expect((err as ThrottlingException).$metadata.httpStatusCode).toBe(429);
    expect((err as ThrottlingException).message).toContain('rate limit');
  });

  it('rejects invalid requests as ValidationException', async () => {
    const err = await bedrock
      .send(new ConverseCommand({ modelId: MODEL, messages: [{ role: 'assistant', content: [{ text: 'I speak first' }] }] }))
      .catch((e: unknown) => e);
    expect((err as Error).name).toBe('ValidationException');
    expect((err as Error).message).toContain('must start with a user message');
  });
});

describe('Bedrock simulator SigV4 verification', () => {
  const sim = createBedrockSimServer({ apiKey: 'secret' }, { accessKeyId: 'AKID' });

  beforeAll(async () => {
    await sim.listen();
  });
  afterAll(() => sim.close());

  it('accepts requests signed with the right secret, plain and streamed', async () => {
    const bedrock = client(sim.url, 'secret');
    const res = await bedrock.send(new ConverseCommand({ modelId: MODEL, messages: ask('signed') }));
    expect(res.stopReason).toBe('end_turn');
    const stream = await bedrock.send(new ConverseStreamCommand({ modelId: MODEL, messages: ask('signed stream') }));
    let text = '';
    for await (const event of stream.stream ?? []) text += event.contentBlockDelta?.delta?.text ?? '';
    expect(text).toContain('Simulated reply');
    bedrock.destroy();
  });

  it('rejects a signature made with the wrong secret', async () => {
    const bedrock = client(sim.url, 'not-the-secret');
    const err = await bedrock.send(new ConverseCommand({ modelId: MODEL, messages: ask('forged') })).catch((e: unknown) => e);
    expect((err as Error).name).toBe('InvalidSignatureException');
    expect((err as { $metadata: { httpStatusCode: number } }).$metadata.httpStatusCode).toBe(401);
    bedrock.destroy();
  });

  it('rejects a signature from another access key id', async () => {
    const bedrock = client(sim.url, 'secret', 'OTHER');
    const err = await bedrock.send(new ConverseCommand({ modelId: MODEL, messages: ask('forged') })).catch((e: unknown) => e);
    expect((err as Error).name).toBe('InvalidSignatureException');
    bedrock.destroy();
  });
});
