// Gemini simulator: Google AI (`/v1beta/models/{model}:method`, key in `x-goog-api-key` or `?key=`)
// and Vertex AI (`/v1/projects/{p}/locations/{l}/publishers/google/models/{model}:method`, Bearer).
import type { IncomingMessage } from 'node:http';
import { planCompletion, simPromptTokens } from '../engine.ts';
import { sendJson, writeFrames, type SimContext, type SimFormat, type SimRoute } from '../server.ts';
import { batchEmbedContents, countTokens, createCachedContent, embedContent, vertexPredict } from './embed.ts';
import { errorEnvelope, renderResponse, renderStream } from './render.ts';
import { parseGeminiChat } from './request.ts';

const SIM_MODELS = ['gemini-2.5-flash', 'gemini-2.5-pro', 'gemini-2.0-flash', 'gemini-embedding-001', 'text-embedding-004'];

const GOOGLE_AI_METHOD = /^\/(?:v1beta|v1|v1alpha)\/models\/([^/:]+):([A-Za-z]+)$/;
const VERTEX_METHOD = /^\/(?:v1|v1beta1)\/projects\/[^/]+\/locations\/[^/]+\/publishers\/google\/models\/([^/:]+):([A-Za-z]+)$/;
const GOOGLE_AI_MODELS = /^\/(?:v1beta|v1|v1alpha)\/models(?:\/([^/:]+))?$/;
const CACHED_CONTENTS = /^\/(?:v1beta|v1|v1alpha)\/cachedContents$/;

async function generate(ctx: SimContext, model: string, stream: boolean): Promise<void> {
  const parsed = parseGeminiChat(ctx.json, model);
  if (!parsed.ok) return sendJson(ctx, 400, errorEnvelope(400, parsed.message));
  const { chat, includeThoughts, cachedContent } = parsed.value;
  // Explicit caching: the cached context counts into the prompt, all of it as cached tokens.
  let explicit = 0;
  if (cachedContent !== undefined) {
    const tokens = ctx.promptCache.handle(cachedContent);
    if (tokens === undefined) return sendJson(ctx, 403, errorEnvelope(403, `CachedContent not found (or permission denied): ${cachedContent}`));
    explicit = tokens;
  }
  // Implicit caching (Gemini 2.5): a repeated prefix of 1024+ tokens.
  const implicit = ctx.promptCache.automatic(chat, simPromptTokens(chat), 1024, 1);
  const plan = planCompletion(chat, {
    outputTokens: ctx.knobs.outputTokens,
    cachedTokens: Math.max(ctx.knobs.cachedTokens, explicit + implicit),
    extraPromptTokens: explicit,
  });
  if (!stream) return sendJson(ctx, 200, renderResponse(plan, { includeThoughts }));
  const events = renderStream(plan, { includeThoughts });
  if (ctx.url.searchParams.get('alt') === 'sse') {
    ctx.res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    return writeFrames(
      ctx,
      events.map(({ value, paced }) => ({ data: `data: ${JSON.stringify(value)}\r\n\r\n`, paced })),
    );
  }
  // Without alt=sse, Gemini streams one JSON array, element by element.
  ctx.res.writeHead(200, { 'content-type': 'application/json; charset=UTF-8' });
  const frames = events.map(({ value, paced }, i) => ({ data: `${i === 0 ? '[' : ',\r\n'}${JSON.stringify(value)}`, paced }));
  frames.push({ data: ']', paced: false });
  return writeFrames(ctx, frames);
}

function googleAiRoute(model: string, method: string): SimRoute | undefined {
  switch (method) {
    case 'generateContent':
      return (ctx) => generate(ctx, model, false);
    case 'streamGenerateContent':
      return (ctx) => generate(ctx, model, true);
    case 'embedContent':
      return (ctx) => embedContent(ctx, model);
    case 'batchEmbedContents':
      return (ctx) => batchEmbedContents(ctx, model);
    case 'countTokens':
      return (ctx) => countTokens(ctx, model, false);
    default:
      return undefined;
  }
}

function vertexRoute(model: string, method: string): SimRoute | undefined {
  switch (method) {
    case 'generateContent':
      return (ctx) => generate(ctx, model, false);
    case 'streamGenerateContent':
      return (ctx) => generate(ctx, model, true);
    case 'predict':
      return (ctx) => vertexPredict(ctx, model);
    case 'countTokens':
      return (ctx) => countTokens(ctx, model, true);
    default:
      return undefined;
  }
}

function modelResource(id: string): Record<string, unknown> {
  const embedding = id.includes('embedding');
  return {
    name: `models/${id}`,
    version: '001',
    displayName: id,
    inputTokenLimit: embedding ? 2048 : 1_048_576,
    outputTokenLimit: embedding ? 1 : 65_536,
    supportedGenerationMethods: embedding ? ['embedContent', 'batchEmbedContents', 'countTokens'] : ['generateContent', 'countTokens'],
  };
}

function models(ctx: SimContext, id: string | undefined): Promise<void> {
  if (id === undefined) return sendJson(ctx, 200, { models: SIM_MODELS.map(modelResource) });
  if (!SIM_MODELS.includes(id)) return sendJson(ctx, 404, errorEnvelope(404, `models/${id} is not found for API version v1beta`));
  return sendJson(ctx, 200, modelResource(id));
}

export const geminiSimFormat: SimFormat = {
  name: 'gemini',
  route(method: string, pathname: string): SimRoute | undefined {
    if (method === 'GET') {
      const listing = GOOGLE_AI_MODELS.exec(pathname);
      if (!listing) return undefined;
      const id = listing[1] === undefined ? undefined : decodeURIComponent(listing[1]);
      return (ctx) => models(ctx, id);
    }
    if (method !== 'POST') return undefined;
    if (CACHED_CONTENTS.test(pathname)) return createCachedContent;
    const google = GOOGLE_AI_METHOD.exec(pathname);
    if (google) return googleAiRoute(decodeURIComponent(google[1]), google[2]);
    const vertex = VERTEX_METHOD.exec(pathname);
    if (vertex) return vertexRoute(decodeURIComponent(vertex[1]), vertex[2]);
    return undefined;
  },
  errorBody(status: number, message: string) {
    return { contentType: 'application/json; charset=UTF-8', body: JSON.stringify(errorEnvelope(status, message)) };
  },
  presentedKey(req: IncomingMessage, url: URL): string | undefined {
    const header = req.headers['x-goog-api-key'];
    if (typeof header === 'string') return header;
    const query = url.searchParams.get('key');
    if (query !== null) return query;
    const auth = req.headers.authorization;
    return auth?.startsWith('Bearer ') ? auth.slice(7) : undefined;
  },
};
