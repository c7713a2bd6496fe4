import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GatewayError } from '../core/errors.ts';
import { FirstTokenDeadline, UpstreamSignal } from './deadline.ts';
import { UpstreamPools } from './upstream.ts';

describe('UpstreamSignal', () => {
  it('aborts with the parent, passing its reason to the listener once', () => {
    const parent = new AbortController();
    const signal = new UpstreamSignal(parent.signal);
    let calls = 0;
    signal.addEventListener('abort', () => calls++);
    const reason = new Error('client gone');
    parent.abort(reason);
    signal.abort(new Error('later'));
    expect(signal.aborted).toBe(true);
    expect(signal.reason).toBe(reason);
    expect(calls).toBe(1);
  });

  it('starts aborted when the parent already is', () => {
    const parent = new AbortController();
    parent.abort('gone');
    const signal = new UpstreamSignal(parent.signal);
    expect(signal.aborted).toBe(true);
    expect(signal.reason).toBe('gone');
  });

  it('aborts without a reason the way AbortController does, and a removed listener is not called', () => {
    const signal = new UpstreamSignal(new AbortController().signal);
    const listener = (): void => {
      throw new Error('removed listener called');
    };
    signal.addEventListener('abort', listener);
    signal.removeEventListener('abort', listener);
    signal.abort();
    expect(signal.reason).toBeInstanceOf(DOMException);
    expect((signal.reason as DOMException).name).toBe('AbortError');
  });
});

describe('FirstTokenDeadline', () => {
  it('fires after its time and turns the error into first_token_timeout', async () => {
    const deadline = new FirstTokenDeadline(new AbortController().signal, 10);
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(deadline.fired).toBe(true);
    expect(deadline.signal.aborted).toBe(true);
    const err = deadline.error('sim', 10, new Error('aborted')) as GatewayError;
    expect(err).toBeInstanceOf(GatewayError);
    expect(err.code).toBe('first_token_timeout');
  });

  it('does not fire once cleared, but still follows the attempt', async () => {
    const parent = new AbortController();
    const deadline = new FirstTokenDeadline(parent.signal, 10);
    deadline.clear();
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(deadline.fired).toBe(false);
    expect(deadline.signal.aborted).toBe(false);
    const original = new Error('x');
    expect(deadline.error('sim', 10, original)).toBe(original);
    parent.abort('gone');
    expect(deadline.signal.aborted).toBe(true);
  });

  describe('with undici', () => {
    let server: Server;
    let origin: string;
    beforeAll(async () => {
      // Answers headers at once, then never finishes the body.
      server = createServer((req, res) => {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.write('partial');
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    afterAll(async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    });

    it('a deadline that fires before the response aborts the request', async () => {
      const pools = new UpstreamPools();
      const deadline = new FirstTokenDeadline(new AbortController().signal, 0);
      deadline.signal.abort();
      const endpoint = { name: 'sim', origin } as Parameters<UpstreamPools['send']>[0];
      await expect(pools.send(endpoint, { method: 'GET', path: '/', headers: {}, body: undefined } as never, deadline.signal, { headersMs: 5000, bodyMs: 5000 })).rejects.toMatchObject({ code: 'aborted' });
      await pools.close();
    });

    it('the attempt aborting after the headers destroys the body being read', async () => {
      const pools = new UpstreamPools();
      const parent = new AbortController();
      const deadline = new FirstTokenDeadline(parent.signal, 5000);
      const endpoint = { name: 'sim', origin } as Parameters<UpstreamPools['send']>[0];
      const upstream = await pools.send(endpoint, { method: 'GET', path: '/', headers: {}, body: undefined } as never, deadline.signal, { headersMs: 5000, bodyMs: 5000 });
      deadline.clear();
      const reason = new Error('client gone');
      const text = upstream.body.text();
      parent.abort(reason);
      await expect(text).rejects.toBe(reason);
      await pools.close();
    });
  });
});
