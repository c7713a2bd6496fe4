import type { ChatRequest, EmbeddingsRequest } from '../../core/canonical.ts';
import { badRequest } from '../../core/errors.ts';
import type { Target, UpstreamRequest } from '../types.ts';
import { DEFAULT_AZURE_API_VERSION, quirksFor, type OpenAICompatQuirks } from './quirks.ts';

type Body = Record<string, unknown>;

/** Canonical request → the plain object OpenAI expects (unknown client fields spread back in). */
export function canonicalToBody(req: ChatRequest): Body {
  const { extra, ...known } = req;
  return extra ? { ...extra, ...known } : { ...known };
}

/**
 * Prepares a chat body for one target: model rewritten, usage reporting forced on for streams (the
 * gateway needs it to bill), the provider's quirks applied. Mutates and returns `body`, which must be
 * a fresh object owned by the caller.
 */
export function prepareChatBody(body: Body, target: Target, stream: boolean): Body {
  const quirks = quirksFor(target.endpoint.type);
  body.model = target.model;
  if (stream) {
    body.stream = true;
    if (quirks.streamUsage) body.stream_options = { ...(body.stream_options as Body | undefined), include_usage: true };
  } else {
    delete body.stream;
    delete body.stream_options;
  }
  applyQuirks(body, quirks);
  return body;
}

function applyQuirks(body: Body, quirks: OpenAICompatQuirks): void {
  if (quirks.unsupported) {
    for (const field of quirks.unsupported) {
      if (body[field] !== undefined && !(field === 'n' && body.n === 1)) {
        throw badRequest(`parameter '${field}' is not supported by this provider`, field, 'unsupported_parameter');
      }
    }
  }
  if (quirks.dropped) for (const field of quirks.dropped) delete body[field];
  if (quirks.maxTokensField === 'max_tokens' && body.max_completion_tokens !== undefined) {
    body.max_tokens ??= body.max_completion_tokens;
    delete body.max_completion_tokens;
  }
  if (quirks.renames) {
    for (const [from, to] of Object.entries(quirks.renames)) {
      if (body[from] !== undefined) {
        body[to] = body[from];
        delete body[from];
      }
    }
  }
}

/** `body` is serialised, unless it is already the bytes to send. */
export function requestFor(target: Target, operation: 'chat/completions' | 'embeddings', body: Body | Uint8Array): UpstreamRequest {
  const { endpoint } = target;
  const quirks = quirksFor(endpoint.type);
  const headers: Record<string, string> = { 'content-type': 'application/json', ...endpoint.headers };
  if (endpoint.apiKey) {
    if (quirks.auth === 'api-key') headers['api-key'] = endpoint.apiKey;
    else headers.authorization = `Bearer ${endpoint.apiKey}`;
  }
  let path: string;
  if (quirks.pathStyle === 'azure') {
    const version = encodeURIComponent(endpoint.apiVersion ?? DEFAULT_AZURE_API_VERSION);
    path = `${endpoint.basePath}/openai/deployments/${encodeURIComponent(target.model)}/${operation}?api-version=${version}`;
  } else {
    path = `${endpoint.basePath}/${operation}`;
  }
  return { method: 'POST', path, headers, body: body instanceof Uint8Array ? body : JSON.stringify(body) };
}

export function chatRequest(req: ChatRequest, target: Target): UpstreamRequest {
  return requestFor(target, 'chat/completions', prepareChatBody(canonicalToBody(req), target, req.stream === true));
}

export function embeddingsRequest(req: EmbeddingsRequest, target: Target): UpstreamRequest {
  const { extra, ...known } = req;
  const body: Body = extra ? { ...extra, ...known } : { ...known };
  body.model = target.model;
  return requestFor(target, 'embeddings', body);
}
