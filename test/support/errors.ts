import { GatewayError } from '../../src/core/errors.ts';

/** Runs `fn` and returns the GatewayError it throws; fails the test if it throws nothing or something else. */
export function thrownGatewayError(fn: () => unknown): GatewayError {
  try {
    fn();
  } catch (err) {
    if (err instanceof GatewayError) return err;
    throw err;
  }
  throw new Error('expected a GatewayError');
}
