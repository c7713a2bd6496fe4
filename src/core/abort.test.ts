import { describe, expect, it, vi } from 'vitest';
import { LinkedAbort, RequestLifetime } from './abort.ts';

describe('RequestLifetime', () => {
  it('runs each abort listener once, in order, functions and listener objects alike', () => {
    const lifetime = new RequestLifetime();
    const calls: string[] = [];
    const first = (): void => void calls.push('first');
    const object = { handleEvent: () => void calls.push('object') };
    const removed = (): void => void calls.push('removed');
    lifetime.addEventListener('abort', first);
    lifetime.addEventListener('abort', first);
    lifetime.addEventListener('abort', object);
    lifetime.addEventListener('abort', removed);
    lifetime.removeEventListener('abort', removed);
    lifetime.abort();
    lifetime.abort(new Error('again'));
    expect(calls).toEqual(['first', 'object']);
    expect(lifetime.aborted).toBe(true);
    expect((lifetime.reason as DOMException).name).toBe('AbortError');
    // Like an AbortSignal: a listener added after the abort never runs.
    lifetime.addEventListener('abort', removed);
    expect(calls).toEqual(['first', 'object']);
  });

  it('aborts with a TimeoutError when its total time passes, and not after dispose', () => {
    vi.useFakeTimers();
    try {
      const timed = new RequestLifetime(1_000);
      const disposed = new RequestLifetime(1_000);
      disposed.dispose();
      vi.advanceTimersByTime(999);
      expect(timed.aborted).toBe(false);
      vi.advanceTimersByTime(1);
      expect((timed.reason as DOMException).name).toBe('TimeoutError');
      vi.advanceTimersByTime(5_000);
      expect(disposed.aborted).toBe(false);
    } finally {
      vi.useRealTimers();
    }
  });

  it('drives a LinkedAbort child (hedged attempts) with its reason', () => {
    const lifetime = new RequestLifetime();
    const child = new LinkedAbort(lifetime);
    const reason = new Error('client gone');
    lifetime.abort(reason);
    expect(child.signal.aborted).toBe(true);
    expect(child.signal.reason).toBe(reason);
  });
});
