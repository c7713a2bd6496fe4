// Anthropic error bodies (`{type:'error', error:{type, message}}`) and stream `error` events, classified.
import { GatewayError, classifyUpstream, parseRetryAfter, type ErrorClass } from '../../core/errors.ts';
import type { Headers, Target } from '../types.ts';
import { isRecord, stringField } from './wire.ts';

/** Anthropic `error.type` → class, where the type alone decides. */
const TYPE_CLASS: ReadonlyMap<string, ErrorClass> = new Map<string, ErrorClass>([
  ['authentication_error', 'auth'],
  ['permission_error', 'permission'],
  // Out of credit: another deployment may still serve the request, like a permission failure.
  ['billing_error', 'permission'],
  ['not_found_error', 'not_found'],
  ['rate_limit_error', 'rate_limit'],
  ['overloaded_error', 'overloaded'],
  ['api_error', 'upstream'],
  ['timeout_error', 'timeout'],
  ['request_too_large', 'payload_too_large'],
]);

/** Status an error type implies when none is known (stream `error` events arrive on a 200). */
const TYPE_STATUS: ReadonlyMap<string, number> = new Map([
  ['invalid_request_error', 400],
  ['authentication_error', 401],
  ['billing_error', 402],
  ['permission_error', 403],
  ['not_found_error', 404],
  ['request_too_large', 413],
  ['rate_limit_error', 429],
  ['api_error', 500],
  ['timeout_error', 504],
  ['overloaded_error', 529],
]);

const REQUEST_CLASSES: ReadonlySet<ErrorClass> = new Set(['bad_request', 'context_length', 'content_policy']);

export function classifyAnthropicError(type: string | undefined, status: number, message: string): ErrorClass {
  if (type === 'invalid_request_error') {
    // Context-length and content-policy failures are plain invalid_request_errors; only the message differs.
    const errorClass = classifyUpstream(status, message, type);
    return REQUEST_CLASSES.has(errorClass) ? errorClass : 'bad_request';
  }
  const byType = type === undefined ? undefined : TYPE_CLASS.get(type);
  if (byType) return byType;
  // A bare 413 comes from the edge proxy (request bytes), not from a too-long prompt.
  if (status === 413) return 'payload_too_large';
  return classifyUpstream(status, message, type);
}

/** Reads `{type:'error', error:{type, message}}`; tolerates bodies that are not Anthropic-shaped. */
export function readAnthropicError(body: unknown): { type: string | undefined; message: string | undefined } {
  if (!isRecord(body)) return { type: undefined, message: undefined };
  const error = body.error;
  if (isRecord(error)) return { type: stringField(error, 'type'), message: stringField(error, 'message') };
  return { type: undefined, message: stringField(body, 'message') };
}

/** Removes the API key from text that came back from upstream, should it ever be echoed. */
function scrub(text: string, apiKey: string | undefined): string {
  return apiKey && apiKey.length >= 8 ? text.split(apiKey).join('[redacted]') : text;
}

/** Upstream 5xx (including Anthropic's 529) become the class's own gateway status (502/503/504). */
function gatewayStatus(status: number): number | undefined {
  return status >= 500 ? undefined : status;
}

export function anthropicError(status: number, headers: Headers, body: string, target: Target): GatewayError {
  const { name, apiKey } = target.endpoint;
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    parsed = undefined;
  }
  const { type, message: upstreamMessage } = readAnthropicError(parsed);
  const message = scrub(upstreamMessage ?? (body.slice(0, 300).trim() || `HTTP ${status}`), apiKey);
  const errorClass = classifyAnthropicError(type, status, message);
  return new GatewayError(errorClass, `${name}: ${message}`, {
    status: gatewayStatus(status),
    code: type ?? errorClass,
    retryAfterMs: parseRetryAfter(headers['retry-after']),
    provider: name,
  });
}

/** An `event: error` inside a 200 stream. */
export function anthropicStreamError(data: string, target: Target): GatewayError {
  let parsed: unknown;
  try {
    parsed = JSON.parse(data);
  } catch {
    parsed = undefined;
  }
  const { type, message } = readAnthropicError(parsed);
  const status = (type !== undefined ? TYPE_STATUS.get(type) : undefined) ?? 500;
  const text = scrub(message ?? (data.slice(0, 300) || 'stream error'), target.endpoint.apiKey);
  const errorClass = classifyAnthropicError(type, status, text);
  return new GatewayError(errorClass, `${target.endpoint.name}: stream error: ${text}`, {
    status: gatewayStatus(status),
    code: type ?? 'stream_error',
    provider: target.endpoint.name,
  });
}

export function streamCut(target: Target): GatewayError {
  const name = target.endpoint.name;
  return new GatewayError('stream_cut', `${name}: upstream stream ended before message_stop`, { provider: name });
}

export function malformed(target: Target, what: string): GatewayError {
  const name = target.endpoint.name;
  return new GatewayError('upstream', `${name}: malformed Anthropic ${what}`, { provider: name, code: 'malformed_response' });
}
