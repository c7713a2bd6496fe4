import { GatewayError, classifyUpstream, parseRetryAfter } from '../../core/errors.ts';
import type { Headers, Target } from '../types.ts';

interface OpenAIErrorBody {
  error?: { message?: unknown; type?: unknown; code?: unknown; param?: unknown } | string;
  message?: unknown;
}

/** Reads `{error:{message,type,code}}` (and the looser shapes some compatible servers use). */
export function readOpenAIError(body: unknown): { message: string; code: string | null; type: string | null } {
  const value = body as OpenAIErrorBody | null;
  const error = value?.error;
  if (typeof error === 'string') return { message: error, code: null, type: null };
  if (error && typeof error === 'object') {
    return {
      message: typeof error.message === 'string' ? error.message : JSON.stringify(error),
      code: typeof error.code === 'string' ? error.code : null,
      type: typeof error.type === 'string' ? error.type : null,
    };
  }
  if (typeof value?.message === 'string') return { message: value.message, code: null, type: null };
  return { message: 'unknown upstream error', code: null, type: null };
}

export function openaiError(status: number, headers: Headers, body: string, target: Target): GatewayError {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    parsed = { error: { message: body.slice(0, 500) || `HTTP ${status}` } };
  }
  const { message, code, type } = readOpenAIError(parsed);
  let errorClass = classifyUpstream(status, message, code);
  if (code === 'context_length_exceeded') errorClass = 'context_length';
  else if (code === 'content_policy_violation' || code === 'content_filter') errorClass = 'content_policy';
  else if (type === 'server_error' && status < 500) errorClass = 'upstream';
  return new GatewayError(errorClass, `${target.endpoint.name}: ${message}`, {
    status: status >= 500 ? 502 : status,
    code: code ?? errorClass,
    retryAfterMs: parseRetryAfter(headers['retry-after']),
    provider: target.endpoint.name,
  });
}
