// Gemini / Vertex error envelope `{error:{code,message,status,details}}` → classified GatewayError.
// The canonical `status` string (google.rpc.Code) decides the class; the HTTP status is the fallback.
import { GatewayError, classifyUpstream, parseRetryAfter, type ErrorClass } from '../../core/errors.ts';
import type { Headers, Target } from '../types.ts';

const CLASS_BY_STATUS = new Map<string, ErrorClass>([
  ['RESOURCE_EXHAUSTED', 'rate_limit'],
  ['UNAVAILABLE', 'overloaded'],
  ['PERMISSION_DENIED', 'permission'],
  ['UNAUTHENTICATED', 'auth'],
  ['NOT_FOUND', 'not_found'],
  ['DEADLINE_EXCEEDED', 'timeout'],
  // Billing off, unsupported user location: the account cannot serve this, whatever the request.
  ['FAILED_PRECONDITION', 'permission'],
  ['INTERNAL', 'upstream'],
  ['UNKNOWN', 'upstream'],
  ['ABORTED', 'upstream'],
  ['CANCELLED', 'upstream'],
]);

/** Statuses whose message must be read to tell bad requests from context-length or safety refusals. */
const CLIENT_STATUSES = new Set(['INVALID_ARGUMENT', 'OUT_OF_RANGE']);

const RETRY_INFO = 'type.googleapis.com/google.rpc.RetryInfo';
const ERROR_INFO = 'type.googleapis.com/google.rpc.ErrorInfo';
const DURATION = /^(\d+(?:\.\d+)?)s$/;

export interface GeminiErrorFields {
  code: number | undefined;
  message: string;
  status: string | undefined;
  details: Array<Record<string, unknown>>;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Reads the envelope, also when wrapped in an array (Vertex's JSON-array streaming does that). */
export function readGeminiError(body: unknown): GeminiErrorFields | undefined {
  const envelope = Array.isArray(body) ? body[0] : body;
  if (!isRecord(envelope) || !isRecord(envelope.error)) return undefined;
  const error = envelope.error;
  return {
    code: typeof error.code === 'number' ? error.code : undefined,
    message: typeof error.message === 'string' ? error.message : 'unknown Gemini error',
    status: typeof error.status === 'string' ? error.status : undefined,
    details: Array.isArray(error.details) ? error.details.filter(isRecord) : [],
  };
}

/** `RetryInfo.retryDelay` is a protobuf Duration in JSON form: `"12s"`, `"0.5s"`. */
function retryDelayMs(details: Array<Record<string, unknown>>): number | undefined {
  for (const detail of details) {
    if (detail['@type'] !== RETRY_INFO || typeof detail.retryDelay !== 'string') continue;
    const match = DURATION.exec(detail.retryDelay);
    if (match) return Math.round(Number(match[1]) * 1000);
  }
  return undefined;
}

function classify(httpStatus: number, fields: GeminiErrorFields): ErrorClass {
  const status = fields.status;
  // Google AI answers a bad API key with 400 INVALID_ARGUMENT; only ErrorInfo says what it is.
  for (const detail of fields.details) {
    if (detail['@type'] === ERROR_INFO && (detail.reason === 'API_KEY_INVALID' || detail.reason === 'API_KEY_EXPIRED')) return 'auth';
  }
  if (status !== undefined) {
    if (CLIENT_STATUSES.has(status)) return classifyUpstream(400, fields.message, status);
    const mapped = CLASS_BY_STATUS.get(status);
    if (mapped) return mapped;
  }
  return classifyUpstream(httpStatus, fields.message, status);
}

function redact(text: string, apiKey: string | undefined): string {
  return apiKey && text.includes(apiKey) ? text.replaceAll(apiKey, '[redacted]') : text;
}

export function errorFromFields(httpStatus: number, fields: GeminiErrorFields, target: Target, headers: Headers = {}): GatewayError {
  const provider = target.endpoint.name;
  const errorClass = classify(httpStatus, fields);
  return new GatewayError(errorClass, `${provider}: ${redact(fields.message, target.endpoint.apiKey)}`, {
    code: fields.status ?? errorClass,
    retryAfterMs: parseRetryAfter(headers['retry-after']) ?? retryDelayMs(fields.details),
    provider,
  });
}

export function geminiError(status: number, headers: Headers, body: string, target: Target): GatewayError {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    parsed = undefined;
  }
  const fields = readGeminiError(parsed) ?? {
    code: status,
    message: body.length > 0 ? `HTTP ${status}: ${body.slice(0, 300)}` : `HTTP ${status}`,
    status: undefined,
    details: [],
  };
  return errorFromFields(status, fields, target, headers);
}
