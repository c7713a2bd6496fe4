// OpenAI Chat Completions / Embeddings / Models simulator. The OpenAI-compatible family (Azure,
// DeepSeek, Groq, vLLM, Ollama, …) is served by this one too: Azure's deployment path and DeepSeek's
// reasoning_content are honoured.
import type { IncomingMessage } from 'node:http';
import type {
  ChatCompletion,
  ChatCompletionChunk,
  ChatRequest,
  EmbeddingsRequest,
  EmbeddingsResponse,
} from '../../core/canonical.ts';
import { planCompletion, simEmbedding, simPromptTokens, simTextTokens, type SimCompletion } from '../engine.ts';
import { sendJson, writeFrames, type SimContext, type SimFormat, type SimRoute } from '../server.ts';

const SIM_MODELS = ['gpt-4o', 'gpt-4o-mini', 'text-embedding-3-small', 'text-embedding-3-large'];

export function renderCompletion(plan: SimCompletion): ChatCompletion {
  return {
    id: `chatcmpl-${plan.id}`,
    object: 'chat.completion',
    created: plan.created,
    model: plan.model,
    system_fingerprint: 'fp_sim',
    choices: plan.choices.map((choice, index) => ({
      index,
      message: {
        role: 'assistant',
        content: choice.toolCalls.length > 0 && choice.pieces.length === 0 ? null : choice.pieces.join(''),
        ...(choice.toolCalls.length > 0 ? { tool_calls: choice.toolCalls } : {}),
        ...(choice.reasoning.length > 0 ? { reasoning_content: choice.reasoning.join('') } : {}),
        refusal: null,
      },
      logprobs: null,
      finish_reason: choice.finishReason,
    })),
    usage: plan.usage,
  };
}

/** The stream of chunks OpenAI sends for a plan: role, content/tool deltas, finish, then usage. */
export function renderChunks(plan: SimCompletion, includeUsage: boolean): Array<{ chunk: ChatCompletionChunk; paced: boolean }> {
  const base = { id: `chatcmpl-${plan.id}`, object: 'chat.completion.chunk' as const, created: plan.created, model: plan.model, system_fingerprint: 'fp_sim' };
  const out: Array<{ chunk: ChatCompletionChunk; paced: boolean }> = [];
  const usageField = includeUsage ? { usage: null } : {};
  plan.choices.forEach((choice, index) => {
    out.push({ chunk: { ...base, choices: [{ index, delta: { role: 'assistant', content: '', refusal: null }, logprobs: null, finish_reason: null }], ...usageField }, paced: false });
    for (const piece of choice.reasoning) {
      out.push({ chunk: { ...base, choices: [{ index, delta: { reasoning_content: piece }, logprobs: null, finish_reason: null }], ...usageField }, paced: true });
    }
    for (const piece of choice.pieces) {
      out.push({ chunk: { ...base, choices: [{ index, delta: { content: piece }, logprobs: null, finish_reason: null }], ...usageField }, paced: true });
    }
    choice.toolCalls.forEach((call, callIndex) => {
      out.push({
        chunk: { ...base, choices: [{ index, delta: { tool_calls: [{ index: callIndex, id: call.id, type: 'function', function: { name: call.function.name, arguments: '' } }] }, logprobs: null, finish_reason: null }], ...usageField },
        paced: true,
      });
      const args = call.function.arguments;
      for (let i = 0; i < args.length; i += 12) {
        out.push({
          chunk: { ...base, choices: [{ index, delta: { tool_calls: [{ index: callIndex, function: { arguments: args.slice(i, i + 12) } }] }, logprobs: null, finish_reason: null }], ...usageField },
          paced: true,
        });
      }
    });
    out.push({ chunk: { ...base, choices: [{ index, delta: {}, logprobs: null, finish_reason: choice.finishReason }], ...usageField }, paced: false });
  });
  if (includeUsage) out.push({ chunk: { ...base, choices: [], usage: plan.usage }, paced: false });
  return out;
}

function isChatRequest(body: unknown): body is ChatRequest {
  return typeof body === 'object' && body !== null && Array.isArray((body as ChatRequest).messages) && typeof (body as ChatRequest).model === 'string';
}

async function chatCompletions(ctx: SimContext, modelFromPath?: string): Promise<void> {
  const body = ctx.json;
  if (!isChatRequest(body) && !(modelFromPath && typeof body === 'object' && body !== null)) {
    return void sendJson(ctx, 400, openaiError('messages and model are required', 'invalid_request_error'));
  }
  const req = body as ChatRequest;
  if (modelFromPath) req.model = req.model ?? modelFromPath;
  if (!Array.isArray(req.messages) || req.messages.length === 0) {
    return void sendJson(ctx, 400, openaiError("'messages' must be a non-empty array", 'invalid_request_error'));
  }
  // Automatic prompt caching: prompts of 1024+ tokens, cached in 128-token steps.
  const cached = ctx.promptCache.automatic(req, simPromptTokens(req), 1024, 128);
  const plan = planCompletion(req, { outputTokens: ctx.knobs.outputTokens, cachedTokens: Math.max(ctx.knobs.cachedTokens, cached) });
  if (!req.stream) return void sendJson(ctx, 200, renderCompletion(plan));
  ctx.res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive' });
  const frames: Array<{ data: string; paced: boolean }> = renderChunks(plan, req.stream_options?.include_usage === true).map(({ chunk, paced }) => ({
    data: `data: ${JSON.stringify(chunk)}\n\n`,
    paced,
  }));
  frames.push({ data: 'data: [DONE]\n\n', paced: false });
  await writeFrames(ctx, frames);
}

export function renderEmbeddings(req: EmbeddingsRequest): EmbeddingsResponse {
  const inputs: string[] =
    typeof req.input === 'string' ? [req.input] : (req.input as Array<string | number | number[]>).map((x) => (typeof x === 'string' ? x : JSON.stringify(x)));
  const dimensions = req.dimensions ?? (req.model.includes('large') ? 3072 : 1536);
  let tokens = 0;
  const data = inputs.map((text, index) => {
    tokens += simTextTokens(text);
    const vector = simEmbedding(text, dimensions);
    const embedding = req.encoding_format === 'base64' ? Buffer.from(new Float32Array(vector).buffer).toString('base64') : vector;
    return { object: 'embedding' as const, index, embedding };
  });
  return { object: 'list', data, model: req.model, usage: { prompt_tokens: tokens, total_tokens: tokens } };
}

async function embeddings(ctx: SimContext, modelFromPath?: string): Promise<void> {
  const body = ctx.json as EmbeddingsRequest | undefined;
  if (!body || (typeof body.input !== 'string' && !Array.isArray(body.input))) {
    return void sendJson(ctx, 400, openaiError("'input' is required", 'invalid_request_error'));
  }
  if (modelFromPath && !body.model) body.model = modelFromPath;
  await sendJson(ctx, 200, renderEmbeddings(body));
}

function models(ctx: SimContext): Promise<void> {
  return sendJson(ctx, 200, {
    object: 'list',
    data: SIM_MODELS.map((id) => ({ id, object: 'model', created: 1_700_000_000, owned_by: 'switchyard-sim' })),
  });
}

export function openaiError(message: string, type: string, code: string | null = null): unknown {
  return { error: { message, type, param: null, code } };
}

const ERROR_TYPE: Record<number, string> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  403: 'permission_error',
  404: 'not_found_error',
  429: 'rate_limit_error',
};

// Azure: /openai/deployments/{deployment}/chat/completions?api-version=…
const AZURE_PATH = /^\/openai\/deployments\/([^/]+)\/(chat\/completions|embeddings)$/;

export const openaiSimFormat: SimFormat = {
  name: 'openai',
  route(method: string, pathname: string): SimRoute | undefined {
    if (method === 'GET' && pathname.endsWith('/models')) return models;
    if (method !== 'POST') return undefined;
    const azure = AZURE_PATH.exec(pathname);
    if (azure) {
      const deployment = decodeURIComponent(azure[1]);
      return azure[2] === 'embeddings' ? (ctx) => embeddings(ctx, deployment) : (ctx) => chatCompletions(ctx, deployment);
    }
    if (pathname.endsWith('/chat/completions')) return (ctx) => chatCompletions(ctx);
    if (pathname.endsWith('/embeddings')) return (ctx) => embeddings(ctx);
    return undefined;
  },
  errorBody(status: number, message: string) {
    const type = ERROR_TYPE[status] ?? (status >= 500 ? 'server_error' : 'invalid_request_error');
    return { body: JSON.stringify(openaiError(message, type, status === 429 ? 'rate_limit_exceeded' : null)) };
  },
  presentedKey(req: IncomingMessage): string | undefined {
    const auth = req.headers.authorization;
    if (auth?.startsWith('Bearer ')) return auth.slice(7);
    const azureKey = req.headers['api-key'];
    return typeof azureKey === 'string' ? azureKey : undefined;
  },
};
