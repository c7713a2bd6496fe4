// Abort plumbing without AbortSignal.any/AbortSignal.timeout, which in Node 20 allocate per call,
// keep their timers alive until they fire (a 10-minute request timeout would pile up a timer per
// request) and showed up in profiles of the request path.

/**
 * What the request path reads of a signal: its state and abort listeners. Every AbortSignal is one;
 * so is `RequestLifetime`, which the chat path uses instead of an AbortController per request.
 */
export type RequestSignal = Pick<AbortSignal, 'aborted' | 'reason' | 'addEventListener' | 'removeEventListener'>;

type Listener = EventListenerOrEventListenerObject;

const ABORT_EVENT = Object.freeze({ type: 'abort' }) as unknown as Event;

/**
 * A request's own signal: aborts when `abort` is called (the client left) or its total timeout passes,
 * with an AbortController's reasons (an `AbortError` or a `TimeoutError` DOMException). A plain object
 * with a listener array: an AbortSignal is an EventTarget whose construction and listener bookkeeping
 * showed up in profiles of the request path. Listeners run once, in the order added.
 */
export class RequestLifetime implements RequestSignal {
  aborted = false;
  reason: unknown = undefined;
  private listeners: Listener[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(timeoutMs?: number) {
    if (timeoutMs !== undefined) {
      this.timer = setTimeout(abortLifetimeOnTimeout, timeoutMs, this);
      this.timer.unref();
    }
  }

  addEventListener(type: string, listener: Listener | null): void {
    if (type === 'abort' && listener && !this.aborted && !this.listeners.includes(listener)) this.listeners.push(listener);
  }

  removeEventListener(type: string, listener: Listener | null): void {
    if (type !== 'abort' || !listener) return;
    const i = this.listeners.indexOf(listener);
    if (i !== -1) this.listeners.splice(i, 1);
  }

  abort(reason: unknown = new DOMException('This operation was aborted', 'AbortError')): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    this.dispose();
    const listeners = this.listeners;
    this.listeners = [];
    for (const listener of listeners) {
      if (typeof listener === 'function') listener.call(this, ABORT_EVENT);
      else listener.handleEvent(ABORT_EVENT);
    }
  }

  /** Stops the timer (the signal keeps its current state). */
  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }
}

function abortLifetimeOnTimeout(lifetime: RequestLifetime): void {
  lifetime.abort(new DOMException('The operation timed out.', 'TimeoutError'));
}

/** A child controller that aborts with its parent (a hedged attempt); `dispose` detaches it once the work is done. */
export class LinkedAbort {
  readonly controller = new AbortController();

  constructor(private readonly parent: RequestSignal) {
    // The instance itself is the listener (`handleEvent`): no closure per link on the request path.
    if (parent.aborted) this.controller.abort(parent.reason);
    else parent.addEventListener('abort', this, { once: true });
  }

  /** The parent aborted (EventListener object protocol). */
  handleEvent(): void {
    this.controller.abort(this.parent.reason);
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  abort(reason?: unknown): void {
    this.controller.abort(reason);
  }

  /** Detaches from the parent (the signal keeps its current state). */
  dispose(): void {
    this.parent.removeEventListener('abort', this);
  }
}
