// A first-token deadline: aborts an upstream attempt that has produced nothing within `ms`. A plain
// timer rather than undici's headersTimeout, whose coarse clock rounds sub-second timeouts up to ~1 s,
// and which cannot cover a stream that sends headers at once but its first token much later.
import type { RequestSignal } from '../core/abort.ts';
import { GatewayError } from '../core/errors.ts';
import type { AbortListener } from './upstream.ts';

/**
 * The signal handed to undici for one attempt: aborts with the attempt, or when the deadline fires.
 * undici reads only `aborted`, `reason` and one abort listener, so this plain object stands in for an
 * AbortController whose AbortSignal (an EventTarget) would be created for every attempt.
 */
export class UpstreamSignal {
  aborted = false;
  reason: unknown = undefined;
  private listener: AbortListener | undefined;

  constructor(private readonly parent: RequestSignal) {
    if (parent.aborted) {
      this.aborted = true;
      this.reason = parent.reason;
    } else {
      // The instance itself is the listener (`handleEvent`): no closure per attempt.
      parent.addEventListener('abort', this, { once: true });
    }
  }

  /** The attempt aborted (EventListener object protocol). */
  handleEvent(): void {
    this.abort(this.parent.reason);
  }

  addEventListener(_type: 'abort', listener: AbortListener): void {
    this.listener = listener;
  }

  removeEventListener(_type: 'abort', listener: AbortListener): void {
    if (this.listener === listener) this.listener = undefined;
  }

  /** Like `AbortController.abort`: without a reason, an `AbortError` DOMException. */
  abort(reason: unknown = new DOMException('This operation was aborted', 'AbortError')): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    const listener = this.listener;
    this.listener = undefined;
    if (typeof listener === 'function') listener();
    else listener?.handleEvent();
  }
}

export class FirstTokenDeadline {
  private readonly upstream: UpstreamSignal;
  private firedFlag = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(parent: RequestSignal, ms: number) {
    this.upstream = new UpstreamSignal(parent);
    this.timer = setTimeout(fire, ms, this);
  }

  /** Aborts with the attempt, or when no first token came in time. */
  get signal(): UpstreamSignal {
    return this.upstream;
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

  /** @internal the timer fired */
  expire(): void {
    this.firedFlag = true;
    this.upstream.abort();
  }
}

function fire(deadline: FirstTokenDeadline): void {
  deadline.expire();
}
