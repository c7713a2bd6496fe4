// Bedrock error translation. REST answers carry the error name in `x-amzn-ErrorType` (sometimes suffixed
// `:http://internal.amazon.com/...`) and `{ "message" }` in the body; streams carry the same errors as
// exception events named in lower camel case (`throttlingException`).
import { GatewayError, classifyUpstream, parseRetryAfter, type ErrorClass } from '../../core/errors.ts';
import type { Headers, ProviderEndpoint, Target } from '../types.ts';

/** Error names whose class does not depend on the message. ValidationException is read from its message. */
const ERROR_CLASS: Record<string, ErrorClass> = {
  ThrottlingException: 'rate_limit',
  ServiceQuotaExceededException: 'rate_limit',
  ServiceUnavailableException: 'overloaded',
  ModelNotReadyException: 'overloaded',
  InternalServerException: 'upstream',
  InternalFailure: 'upstream',
  ModelErrorException: 'upstream',
  ModelStreamErrorException: 'upstream',
  ModelTimeoutException: 'timeout',
  AccessDeniedException: 'permission',
  UnrecognizedClientException: 'auth',
  InvalidSignatureException: 'auth',
  IncompleteSignatureException: 'auth',
  MissingAuthenticationTokenException: 'auth',
  ExpiredTokenException: 'auth',
  ExpiredToken: 'auth',
  ResourceNotFoundException: 'not_found',
  ConflictException: 'bad_request',
};

/** `ThrottlingException:http://…` or `aws.protocols#ThrottlingException` → `ThrottlingException`. */
export function errorName(raw: string): string {
  let name = raw;
  const comma = name.indexOf(',');
  if (comma !== -1) name = name.slice(0, comma);
  const colon = name.indexOf(':');
  if (colon !== -1) name = name.slice(0, colon);
  const hash = name.indexOf('#');
  if (hash !== -1) name = name.slice(hash + 1);
  return name.trim();
}

export function classifyBedrockError(name: string, status: number, message: string): ErrorClass {
  const known = ERROR_CLASS[name];
  if (known !== undefined) return known;
  if (name === 'ValidationException') return classifyUpstream(400, message, name);
  return classifyUpstream(status, message, name || null);
}

/**
 * Some AWS signature errors echo the canonical request, whose signed headers include the session token:
 * keep only the sentence before that dump, and blank any configured secret that still appears.
 */
export function safeMessage(message: string, endpoint: ProviderEndpoint): string {
  let text = message;
  const dump = text.indexOf('The Canonical String');
  if (dump !== -1) text = text.slice(0, dump).trimEnd();
  for (const secret of [endpoint.awsSecretAccessKey, endpoint.awsSessionToken, endpoint.apiKey, endpoint.awsAccessKeyId]) {
    if (secret && secret.length >= 8 && text.includes(secret)) text = text.split(secret).join('[redacted]');
  }
  return text;
}

function headerValue(headers: Headers, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

interface AwsErrorBody {
  message?: unknown;
  Message?: unknown;
  __type?: unknown;
  code?: unknown;
}

export function bedrockError(status: number, headers: Headers, body: string, target: Target): GatewayError {
  const endpoint = target.endpoint;
  let parsed: AwsErrorBody | undefined;
  try {
    const value: unknown = JSON.parse(body);
    if (typeof value === 'object' && value !== null) parsed = value as AwsErrorBody;
  } catch {
    parsed = undefined;
  }
  const rawName =
    headerValue(headers, 'x-amzn-errortype') ??
    (typeof parsed?.code === 'string' ? parsed.code : undefined) ??
    (typeof parsed?.__type === 'string' ? parsed.__type : undefined);
  const name = rawName === undefined ? '' : errorName(rawName);
  const rawMessage =
    typeof parsed?.message === 'string'
      ? parsed.message
      : typeof parsed?.Message === 'string'
        ? parsed.Message
        : body.slice(0, 500) || `HTTP ${status}`;
  const message = safeMessage(rawMessage, endpoint);
  const errorClass = classifyBedrockError(name, status, message);
  // The class sets the status: Bedrock's own (429 for ModelNotReady, 400 for quota) would mislead clients.
  return new GatewayError(errorClass, `${endpoint.name}: ${name ? `${name}: ` : ''}${message}`, {
    code: name || errorClass,
    retryAfterMs: parseRetryAfter(headers['retry-after']),
    provider: endpoint.name,
  });
}

/** The error a stream's exception event stands for; `type` is the `:exception-type` header. */
export function streamExceptionError(type: string, body: unknown, endpoint: ProviderEndpoint): GatewayError {
  const name = type.length > 0 ? type[0].toUpperCase() + type.slice(1) : 'UnknownException';
  const payload = (typeof body === 'object' && body !== null ? body : {}) as { message?: unknown; originalMessage?: unknown };
  let message = typeof payload.message === 'string' ? payload.message : 'stream failed';
  if (typeof payload.originalMessage === 'string' && payload.originalMessage !== message) message += ` (${payload.originalMessage})`;
  message = safeMessage(message, endpoint);
  const errorClass = classifyBedrockError(name, 500, message);
  return new GatewayError(errorClass, `${endpoint.name}: stream ${name}: ${message}`, {
    code: name,
    provider: endpoint.name,
  });
}
