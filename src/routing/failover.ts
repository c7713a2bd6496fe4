import type { ErrorClass } from '../core/errors.ts';

/**
 * Errors another deployment may not repeat. Errors caused by the request itself (bad input,
 * content policy, context too long for every deployment of the group) fail at once.
 */
const MOVE_ON: ReadonlySet<ErrorClass> = new Set<ErrorClass>([
  'rate_limit',
  'overloaded',
  'upstream',
  'timeout',
  'stream_cut',
  'auth',
  'permission',
  'not_found',
]);

export function shouldFailover(errorClass: ErrorClass): boolean {
  return MOVE_ON.has(errorClass);
}
