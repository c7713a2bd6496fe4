// Anthropic Messages API simulator. Requests are parsed by the Anthropic ingress dialect and answered
// with its renderer and stream encoder, so the simulator and the gateway's Anthropic surface speak
// byte-for-byte the same format.
import type { IncomingMessage } from 'node:http';
import type { ChatCompletion, ChatRequest } from '../../core/canonical.ts';
import { GatewayError } from '../../core/errors.ts';
import { sseEvent } from '../../core/sse.ts';
import { anthropicDialect } from '../../dialects/anthropic/index.ts';
import { planCompletion, simId, simPromptTokens, type SimCompletion } from '../engine.ts';
import { renderChunks, renderCompletion } from '../openai/index.ts';
import { sendJson, writeFrames, type SimContext, type SimFormat, type SimRoute } from '../server.ts';

const SIM_MODELS = ['claude-sonnet-4-5', 'claude-haiku-4-5', 'claude-opus-4-1'];

const ERROR_TYPE: ReadonlyMap<number, string> = new Map([
  [400, 'invalid_request_error'],
  [401, 'authentication_error'],
  [402, 'billing_error'],
  [403, 'permission_error'],
  [404, 'not_found_error'],
  [413, 'request_too_large'],
  [429, 'rate_limit_error'],
  [500, 'api_error'],
  [504, 'timeout_error'],
  [529, 'overloaded_error'],
]);

const PING = { data: sseEvent('{"type":"ping"}', 'ping'), paced: false };
const TOOL_ID_PREFIX = 'call_';

function errorType(status: number): string {
  return ERROR_TYPE.get(status) ?? (status >= 500 ? 'api_error' : 'invalid_request_error');
}

function anthropicErrorBody(type: string, message: string): string {
  return JSON.stringify({ type: 'error', error: { type, message }, request_id: simId('req_') });
}

/** The canonical completion of a plan, with Anthropic-looking message and tool-use ids. */
function completionFor(plan: SimCompletion): ChatCompletion {
  for (const choice of plan.choices) {
    for (const call of choice.toolCalls) {
      if (call.id.startsWith(TOOL_ID_PREFIX)) call.id = `toolu_${call.id.slice(TOOL_ID_PREFIX.length)}`;
    }
  }
  const completion = renderCompletion(plan);
  completion.id = `msg_${plan.id}`;
  return completion;
}

async function messages(ctx: SimContext): Promise<void> {
  let req: ChatRequest;
  try {
    req = anthropicDialect.parseChat(ctx.json);
  } catch (err) {
    const error = err instanceof GatewayError ? err : new GatewayError('bad_request', String(err));
    ctx.res.writeHead(error.status, { 'content-type': 'application/json' });
    ctx.res.end(anthropicErrorBody(error.anthropicType, error.message));
    return;
  }
  // Prompt caching at cache_control breakpoints (1024-token minimum, as for Sonnet and Opus).
  const cache = ctx.promptCache.breakpoints(req, simPromptTokens(req), 1024);
  const plan = planCompletion(req, {
    outputTokens: ctx.knobs.outputTokens,
    cachedTokens: Math.max(ctx.knobs.cachedTokens, cache.read),
    cacheWriteTokens: cache.written,
    cacheWrite1hTokens: cache.written1h,
  });
  const completion = completionFor(plan);
  const headers = { 'request-id': simId('req_') };
  if (!req.stream) return sendJson(ctx, 200, anthropicDialect.renderChat(completion), headers);

  ctx.res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive', ...headers });
  const encoder = anthropicDialect.createStreamEncoder(req);
  const frames: Array<{ data: string; paced: boolean }> = [];
  for (const { chunk, paced } of renderChunks(plan, true)) {
    if (chunk.choices.length > 0) chunk.id = completion.id;
    const data = encoder.chunk(chunk);
    if (!data) continue;
    frames.push({ data, paced });
    // Like the real API, a ping follows message_start.
    if (frames.length === 1) frames.push(PING);
  }
  const tail = encoder.end();
  if (tail) frames.push({ data: tail, paced: false });
  await writeFrames(ctx, frames);
}

function models(ctx: SimContext): Promise<void> {
  const data = SIM_MODELS.map((id) => ({ type: 'model', id, display_name: id, created_at: '2025-01-01T00:00:00Z' }));
  return sendJson(ctx, 200, { data, has_more: false, first_id: data[0].id, last_id: data[data.length - 1].id });
}

export const anthropicSimFormat: SimFormat = {
  name: 'anthropic',
  route(method: string, pathname: string): SimRoute | undefined {
    if (method === 'POST' && pathname.endsWith('/messages')) return messages;
    if (method === 'GET' && pathname.endsWith('/models')) return models;
    return undefined;
  },
  errorBody(status: number, message: string) {
    return { body: anthropicErrorBody(errorType(status), message), headers: { 'request-id': simId('req_') } };
  },
  presentedKey(req: IncomingMessage): string | undefined {
    const key = req.headers['x-api-key'];
    if (typeof key === 'string') return key;
    const auth = req.headers.authorization;
    return auth?.startsWith('Bearer ') ? auth.slice(7) : undefined;
  },
};
