// One error type for the whole gateway, with a stable class that drives failover and the status and
// shapes rendered to clients in either dialect.
import { redactSecrets } from '../secrets/redact.ts';

/** Stable classification of everything that can go wrong; failover policy keys on it. */
export type ErrorClass =
  | 'bad_request'
  | 'auth'
  | 'permission'
  | 'not_found'
  | 'rate_limit'
  | 'overloaded'
  | 'context_length'
  | 'content_policy'
  | 'timeout'
  | 'stream_cut'
  | 'upstream'
  | 'budget_exceeded'
  | 'payload_too_large'
  | 'internal';

const DEFAULT_STATUS: Record<ErrorClass, number> = {
  bad_request: 400,
  auth: 401,
  permission: 403,
  not_found: 404,
  rate_limit: 429,
  overloaded: 503,
  context_length: 400,
  content_policy: 400,
  timeout: 504,
  stream_cut: 502,
  upstream: 502,
  budget_exceeded: 429,
  payload_too_large: 413,
  internal: 500,
};

/** OpenAI's `error.type` for each class. */
const OPENAI_TYPE: Record<ErrorClass, string> = {
  bad_request: 'invalid_request_error',
  auth: 'authentication_error',
  permission: 'permission_error',
  not_found: 'not_found_error',
  rate_limit: 'rate_limit_error',
  overloaded: 'server_error',
  context_length: 'invalid_request_error',
  content_policy: 'invalid_request_error',
  timeout: 'timeout_error',
  stream_cut: 'server_error',
  upstream: 'server_error',
  budget_exceeded: 'budget_exceeded',
  payload_too_large: 'invalid_request_error',
  internal: 'server_error',
};

/** Anthropic's `error.type` for each class. */
const ANTHROPIC_TYPE: Record<ErrorClass, string> = {
  bad_request: 'invalid_request_error',
  auth: 'authentication_error',
  permission: 'permission_error',
  not_found: 'not_found_error',
  rate_limit: 'rate_limit_error',
  overloaded: 'overloaded_error',
  context_length: 'invalid_request_error',
  content_policy: 'invalid_request_error',
  timeout: 'api_error',
  stream_cut: 'api_error',
  upstream: 'api_error',
  budget_exceeded: 'rate_limit_error',
  payload_too_large: 'request_too_large',
  internal: 'api_error',
};

export interface GatewayErrorOptions {
  status?: number;
  code?: string | null;
  param?: string | null;
  retryAfterMs?: number;
  provider?: string;
  cause?: unknown;
}

export class GatewayError extends Error {
  readonly errorClass: ErrorClass;
  readonly status: number;
  readonly code: string | null;
  readonly param: string | null;
  readonly retryAfterMs: number | undefined;
  readonly provider: string | undefined;
  /** Extra response headers that explain the error (x-ratelimit-* on a rate-limit refusal). */
  headers: Record<string, string> | undefined;

  constructor(errorClass: ErrorClass, message: string, options: GatewayErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'GatewayError';
    this.errorClass = errorClass;
    this.status = options.status ?? DEFAULT_STATUS[errorClass];
    this.code = options.code ?? null;
    this.param = options.param ?? null;
    this.retryAfterMs = options.retryAfterMs;
    this.provider = options.provider;
    this.headers = undefined;
  }

  get openaiType(): string {
    return OPENAI_TYPE[this.errorClass];
  }

  get anthropicType(): string {
    return ANTHROPIC_TYPE[this.errorClass];
  }

  toOpenAI(): { error: { message: string; type: string; param: string | null; code: string | null } } {
    return { error: { message: redactSecrets(this.message), type: this.openaiType, param: this.param, code: this.code ?? this.errorClass } };
  }

  toAnthropic(): { type: 'error'; error: { type: string; message: string } } {
    return { type: 'error', error: { type: this.anthropicType, message: redactSecrets(this.message) } };
  }
}

export function badRequest(message: string, param?: string, code = 'invalid_request'): GatewayError {
  return new GatewayError('bad_request', message, { param: param ?? null, code });
}

/** Wraps anything thrown into a GatewayError without losing a classified one. */
export function asGatewayError(err: unknown): GatewayError {
  if (err instanceof GatewayError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new GatewayError('internal', `internal error: ${message}`, { cause: err });
}

/** Classifies an upstream HTTP status when the body says nothing more specific. */
export function classifyStatus(status: number): ErrorClass {
  if (status === 401) return 'auth';
  if (status === 403) return 'permission';
  if (status === 404) return 'not_found';
  if (status === 408 || status === 504) return 'timeout';
  if (status === 413) return 'context_length';
  if (status === 429) return 'rate_limit';
  if (status === 503 || status === 529) return 'overloaded';
  if (status >= 400 && status < 500) return 'bad_request';
  return 'upstream';
}

const CONTEXT_LENGTH_HINT = /context[_ ]length|context window|too many tokens|maximum context|prompt is too long|input is too long|exceeds the maximum/i;
const CONTENT_POLICY_HINT = /content[_ ]policy|content[_ ]filter|safety|responsible ai|blocked/i;

/**
 * Classifies an upstream error from its status and message. Providers signal context-length and
 * content-policy failures as plain 400s; the message is the only place that tells them apart.
 */
export function classifyUpstream(status: number, message: string, code?: string | null): ErrorClass {
  const hint = `${code ?? ''} ${message}`;
  if (status === 400 || status === 413 || status === 422) {
    if (CONTEXT_LENGTH_HINT.test(hint)) return 'context_length';
    if (CONTENT_POLICY_HINT.test(hint)) return 'content_policy';
  }
  return classifyStatus(status);
}

/** Parses a Retry-After header (seconds or HTTP date) into milliseconds. */
export function parseRetryAfter(value: string | string[] | undefined, now = Date.now()): number | undefined {
  const raw = Array.isArray(value) ? value[0] : value;
  if (!raw) return undefined;
  const seconds = Number(raw);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(raw);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}
