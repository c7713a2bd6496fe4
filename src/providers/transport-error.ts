import { errors as undiciErrors } from 'undici';
import { GatewayError } from '../core/errors.ts';

/** Classifies a transport failure (reset, refused, timeout, abort) without leaking request details. */
export function transportError(err: unknown, provider: string): GatewayError {
  if (err instanceof GatewayError) return err;
  if (err instanceof undiciErrors.HeadersTimeoutError) {
    return new GatewayError('timeout', `${provider}: no response before the first-token timeout`, { provider, code: 'first_token_timeout', cause: err });
  }
  if (err instanceof undiciErrors.BodyTimeoutError) {
    return new GatewayError('timeout', `${provider}: upstream went silent mid-response`, { provider, code: 'body_timeout', cause: err });
  }
  if (err instanceof undiciErrors.RequestAbortedError || (err instanceof Error && err.name === 'AbortError')) {
    return new GatewayError('timeout', `${provider}: request aborted`, { provider, code: 'aborted', cause: err });
  }
  const code = (err as { code?: string }).code;
  if (code === 'UND_ERR_SOCKET' || code === 'ECONNRESET' || code === 'ECONNREFUSED' || code === 'EPIPE' || code === 'UND_ERR_CLOSED') {
    return new GatewayError('upstream', `${provider}: connection failed (${code})`, { provider, code: 'connection_error', cause: err });
  }
  const message = err instanceof Error ? err.message : String(err);
  return new GatewayError('upstream', `${provider}: upstream request failed: ${message}`, { provider, code: 'connection_error', cause: err });
}
