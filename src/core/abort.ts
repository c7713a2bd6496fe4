// Abort plumbing without AbortSignal.any/AbortSignal.timeout, which in Node 20 allocate per call,
// keep their timers alive until they fire (a 10-minute request timeout would pile up a timer per
// request) and showed up in profiles of the request path.

/** A child controller that aborts with its parent; `dispose` detaches it once the work is done. */
export class LinkedAbort {
  readonly controller = new AbortController();
  private readonly parent: AbortSignal | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(parent?: AbortSignal, timeoutMs?: number) {
    this.parent = parent;
    if (parent) {
      // The instance itself is the listener (`handleEvent`): no closure per link on the request path.
      if (parent.aborted) this.controller.abort(parent.reason);
      else parent.addEventListener('abort', this, { once: true });
    }
    if (timeoutMs !== undefined) {
      this.timer = setTimeout(abortOnTimeout, timeoutMs, this.controller);
      this.timer.unref();
    }
  }

  /** The parent aborted (EventListener object protocol). */
  handleEvent(): void {
    this.controller.abort(this.parent?.reason);
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** Aborted by its own timeout rather than by the parent. */
  get timedOut(): boolean {
    return (this.controller.signal.reason as { name?: string } | undefined)?.name === 'TimeoutError';
  }

  abort(reason?: unknown): void {
    this.controller.abort(reason);
  }

  /** Stops the timer and detaches from the parent (the signal keeps its current state). */
  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.parent?.removeEventListener('abort', this);
  }
}

function abortOnTimeout(controller: AbortController): void {
  controller.abort(new DOMException('The operation timed out.', 'TimeoutError'));
}
