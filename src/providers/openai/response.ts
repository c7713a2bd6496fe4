import type { ChatCompletion, EmbeddingsResponse, Usage } from '../../core/canonical.ts';
import { GatewayError } from '../../core/errors.ts';
import type { Target } from '../types.ts';
import { readOpenAIError } from './errors.ts';

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

/** A 200 whose body is an error object or has no choices is an upstream failure, not a success. */
export function chatResponse(body: unknown, target: Target): ChatCompletion {
  if (!isRecord(body) || body.error !== undefined || !Array.isArray(body.choices)) {
    const detail = isRecord(body) && body.error !== undefined ? readOpenAIError(body).message : 'response has no choices';
    throw new GatewayError('upstream', `${target.endpoint.name}: malformed response: ${detail}`, { provider: target.endpoint.name });
  }
  return body as unknown as ChatCompletion;
}

export function readUsage(body: unknown): Usage | undefined {
  if (!isRecord(body) || !isRecord(body.usage)) return undefined;
  const usage = body.usage as Partial<Usage>;
  if (typeof usage.prompt_tokens !== 'number') return undefined;
  return usage as Usage;
}

export function embeddingsResponse(body: unknown, target: Target): EmbeddingsResponse {
  if (!isRecord(body) || !Array.isArray(body.data)) {
    throw new GatewayError('upstream', `${target.endpoint.name}: malformed embeddings response`, { provider: target.endpoint.name });
  }
  return body as unknown as EmbeddingsResponse;
}
