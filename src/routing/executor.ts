// Walks an attempt plan: one attempt per deployment, moving on when the error class allows it.
import { asGatewayError, GatewayError } from '../core/errors.ts';
import { shouldFailover } from './failover.ts';
import type { Deployment } from './registry.ts';

export interface AttemptLog {
  deployment: Deployment;
  error?: GatewayError;
  ms: number;
}

export interface ExecutionTimeouts {
  /** Until response headers (first token of a stream). */
  firstTokenMs: number;
  /** Whole request, all attempts included. */
  totalMs: number;
}

/** Joins the client's abort signal with the request's total timeout. */
export function requestSignal(client: AbortSignal, totalMs: number): AbortSignal {
  return AbortSignal.any([client, AbortSignal.timeout(totalMs)]);
}

/**
 * Runs `attempt` on each deployment of the plan until one succeeds. Errors that another deployment
 * will not fix are thrown at once; otherwise the last error is thrown when the plan is exhausted.
 */
export async function runAttempts<T>(
  plan: readonly Deployment[],
  attempts: AttemptLog[],
  signal: AbortSignal,
  attempt: (deployment: Deployment) => Promise<T>,
): Promise<{ deployment: Deployment; value: T }> {
  let last: GatewayError | undefined;
  for (const deployment of plan) {
    if (signal.aborted) break;
    const started = performance.now();
    try {
      const value = await attempt(deployment);
      attempts.push({ deployment, ms: performance.now() - started });
      return { deployment, value };
    } catch (err) {
      const error = asGatewayError(err);
      attempts.push({ deployment, error, ms: performance.now() - started });
      last = error;
      if (!shouldFailover(error.errorClass)) throw error;
    }
  }
  if (signal.aborted && !last) throw new GatewayError('timeout', 'request aborted before any provider answered', { code: 'aborted' });
  throw last ?? new GatewayError('upstream', 'no deployment available for this model', { code: 'no_deployment' });
}

/** What the client sees for an error raised by a provider: the gateway's own 4xx/5xx conventions. */
export function clientFacingError(err: GatewayError): GatewayError {
  // A provider rejecting *our* credential is a gateway-side failure, not the client's auth problem.
  if ((err.errorClass === 'auth' || err.errorClass === 'permission') && err.provider) {
    return new GatewayError(err.errorClass, err.message, { status: 502, code: err.code, provider: err.provider });
  }
  return err;
}

export function fallbackReason(attempts: readonly AttemptLog[]): string | undefined {
  const failed = attempts.filter((a) => a.error);
  if (failed.length === 0) return undefined;
  return failed.map((a) => `${a.deployment.target.endpoint.name}:${a.error!.errorClass}`).join(',');
}
