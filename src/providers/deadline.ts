// A first-token deadline: aborts an upstream attempt that has produced nothing within `ms`. A plain
// timer rather than undici's headersTimeout, whose coarse clock rounds sub-second timeouts up to ~1 s,
// and which cannot cover a stream that sends headers at once but its first token much later.
import { LinkedAbort } from '../core/abort.ts';
import { GatewayError } from '../core/errors.ts';

export class FirstTokenDeadline {
  private readonly link: LinkedAbort;
  private firedFlag = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(parent: AbortSignal, ms: number) {
    this.link = new LinkedAbort(parent);
    this.timer = setTimeout(() => {
      this.firedFlag = true;
      this.link.abort();
    }, ms);
  }

  /** Aborts with the attempt, or when no first token came in time. */
  get signal(): AbortSignal {
    return this.link.signal;
  }

  /** The first token arrived: the deadline no longer applies (the signal still follows the attempt). */
  clear(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  get fired(): boolean {
    return this.firedFlag;
  }

  /** The error to report when `fired`; otherwise the original one. */
  error(provider: string, ms: number, original: unknown): unknown {
    if (!this.fired) return original;
    return new GatewayError('timeout', `${provider}: no first token within ${ms} ms`, { provider, code: 'first_token_timeout' });
  }
}
