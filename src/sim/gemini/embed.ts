// Embedding and token-counting endpoints of the Gemini simulator: Google AI's embedContent and
// batchEmbedContents, Vertex AI's text-embedding predict, and countTokens for both.
import { z } from 'zod';
import { simEmbedding, simPromptTokens, simTextTokens } from '../engine.ts';
import { sendJson, type SimContext } from '../server.ts';
import { errorEnvelope } from './render.ts';
import { GenerateContentRequest, toChatRequest } from './request.ts';

const EmbedContent = z.object({
  model: z.string().optional(),
  content: z.object({ parts: z.array(z.object({ text: z.string() })).min(1) }),
  taskType: z.string().optional(),
  title: z.string().optional(),
  outputDimensionality: z.number().int().positive().optional(),
});

const BatchEmbed = z.object({ requests: z.array(EmbedContent).min(1) });

const VertexPredict = z.object({
  instances: z.array(z.object({ content: z.string(), task_type: z.string().optional(), title: z.string().optional() })).min(1),
  parameters: z.object({ outputDimensionality: z.number().int().positive().optional(), autoTruncate: z.boolean().optional() }).optional(),
});

const CountTokens = z.object({
  contents: GenerateContentRequest.shape.contents.optional(),
  generateContentRequest: GenerateContentRequest.optional(),
});

function invalid(ctx: SimContext, error: z.ZodError): Promise<void> {
  const issue = error.issues[0];
  return sendJson(ctx, 400, errorEnvelope(400, `Invalid JSON payload: ${issue ? `${issue.path.join('.')}: ${issue.message}` : 'invalid request'}`));
}

/** gemini-embedding-001 answers 3072 dimensions by default; text-embedding-004/005 answer 768. */
function defaultDimensions(model: string): number {
  return model.includes('gemini-embedding') ? 3072 : 768;
}

function embedText(parts: Array<{ text: string }>): string {
  let text = '';
  for (const part of parts) text += part.text;
  return text;
}

export function embedContent(ctx: SimContext, model: string): Promise<void> {
  const parsed = EmbedContent.safeParse(ctx.json);
  if (!parsed.success) return invalid(ctx, parsed.error);
  const { content, outputDimensionality } = parsed.data;
  return sendJson(ctx, 200, { embedding: { values: simEmbedding(embedText(content.parts), outputDimensionality ?? defaultDimensions(model)) } });
}

export function batchEmbedContents(ctx: SimContext, model: string): Promise<void> {
  const parsed = BatchEmbed.safeParse(ctx.json);
  if (!parsed.success) return invalid(ctx, parsed.error);
  const expected = `models/${model}`;
  for (const [i, request] of parsed.data.requests.entries()) {
    if (request.model !== expected) {
      return sendJson(ctx, 400, errorEnvelope(400, `requests[${i}].model must be '${expected}', the model named in the URL`));
    }
  }
  const embeddings = parsed.data.requests.map((request) => ({
    values: simEmbedding(embedText(request.content.parts), request.outputDimensionality ?? defaultDimensions(model)),
  }));
  return sendJson(ctx, 200, { embeddings });
}

export function vertexPredict(ctx: SimContext, model: string): Promise<void> {
  const parsed = VertexPredict.safeParse(ctx.json);
  if (!parsed.success) return invalid(ctx, parsed.error);
  const dimensions = parsed.data.parameters?.outputDimensionality ?? defaultDimensions(model);
  let characters = 0;
  const predictions = parsed.data.instances.map(({ content }) => {
    characters += content.length;
    return { embeddings: { values: simEmbedding(content, dimensions), statistics: { token_count: simTextTokens(content), truncated: false } } };
  });
  return sendJson(ctx, 200, { predictions, metadata: { billableCharacterCount: characters } });
}

export function countTokens(ctx: SimContext, model: string, vertex: boolean): Promise<void> {
  const parsed = CountTokens.safeParse(ctx.json);
  if (!parsed.success) return invalid(ctx, parsed.error);
  const request = parsed.data.generateContentRequest ?? (parsed.data.contents ? { contents: parsed.data.contents } : undefined);
  if (!request) return sendJson(ctx, 400, errorEnvelope(400, 'contents or generateContentRequest is required'));
  const tokens = simPromptTokens(toChatRequest(request, model).chat);
  return sendJson(ctx, 200, vertex ? { totalTokens: tokens, totalBillableCharacters: tokens * 4 } : { totalTokens: tokens, promptTokensDetails: [{ modality: 'TEXT', tokenCount: tokens }] });
}

const CreateCachedContent = z.object({
  model: z.string().min(1),
  contents: GenerateContentRequest.shape.contents.optional(),
  systemInstruction: GenerateContentRequest.shape.systemInstruction,
  tools: GenerateContentRequest.shape.tools,
  ttl: z.string().regex(/^\d+(\.\d+)?s$/, "ttl is a duration in seconds, like '300s'").optional(),
  displayName: z.string().optional(),
});

let cacheSeq = 0;

/** cachedContents.create: an explicit context cache whose name generateContent can reference. */
export function createCachedContent(ctx: SimContext): Promise<void> {
  const parsed = CreateCachedContent.safeParse(ctx.json);
  if (!parsed.success) return invalid(ctx, parsed.error);
  const { model, contents, systemInstruction, tools, ttl, displayName } = parsed.data;
  const modelId = model.replace(/^models\//, '');
  const tokens = simPromptTokens(toChatRequest({ contents: contents ?? [], systemInstruction, tools }, modelId).chat);
  const ttlMs = ttl ? Math.round(Number(ttl.slice(0, -1)) * 1000) : 3_600_000;
  const now = Date.now();
  const name = `cachedContents/sim${(++cacheSeq).toString(36)}${now.toString(36)}`;
  ctx.promptCache.createHandle(name, tokens, ttlMs, now);
  const iso = new Date(now).toISOString();
  return sendJson(ctx, 200, {
    name,
    ...(displayName ? { displayName } : {}),
    model: `models/${modelId}`,
    createTime: iso,
    updateTime: iso,
    expireTime: new Date(now + ttlMs).toISOString(),
    usageMetadata: { totalTokenCount: tokens },
  });
}
