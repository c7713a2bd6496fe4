// A first-token deadline: aborts an upstream attempt that has produced nothing within `ms`. A plain
// timer rather than undici's headersTimeout, whose coarse clock rounds sub-second timeouts up to ~1 s,
// and which cannot cover a stream that sends headers at once but its first token much later.
import { GatewayError } from '../core/errors.ts';

export class FirstTokenDeadline {
  readonly signal: AbortSignal;
  private readonly controller = new AbortController();
  private timer: NodeJS.Timeout | undefined;

  constructor(parent: AbortSignal, ms: number) {
    this.signal = AbortSignal.any([parent, this.controller.signal]);
    this.timer = setTimeout(() => this.controller.abort(), ms);
  }

  /** The first token arrived: the deadline no longer applies. */
  clear(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  get fired(): boolean {
    return this.controller.signal.aborted;
  }

  /** The error to report when `fired`; otherwise the original one. */
  error(provider: string, ms: number, original: unknown): unknown {
    if (!this.fired) return original;
    return new GatewayError('timeout', `${provider}: no first token within ${ms} ms`, { provider, code: 'first_token_timeout' });
  }
}
