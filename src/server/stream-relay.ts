// Streaming in two phases. `primeStream` opens one attempt and reads until the first content arrives
// (holding everything back), so the executor can still fail over or hedge. `relayPrimed` commits: it
// writes the held-back bytes and relays the rest; a failure after that ends the stream with an
// explicit error event. The caller ends the response, so it can attach the cost as a trailer.
import type { ServerResponse } from 'node:http';
import type { ChatCompletionChunk, ChatRequest, Usage } from '../core/canonical.ts';
import { asGatewayError, GatewayError } from '../core/errors.ts';
import type { IngressDialect, StreamEncoder } from '../dialects/types.ts';
import type { PassthroughStreamObserver, StreamDecoder } from '../providers/types.ts';
import type { AbortLike, UpstreamPools } from '../providers/upstream.ts';
import { FirstTokenDeadline } from '../providers/deadline.ts';
import type { Attempt } from '../routing/executor.ts';
import { takeRequestId } from './gateway-response.ts';

/** Turns upstream bytes into client bytes, one way or the other. */
interface StreamPump {
  feed(bytes: Uint8Array): string | Uint8Array;
  /** Terminal bytes after a clean upstream end; throws `stream_cut` on a truncated one. */
  finish(): string;
  readonly started: boolean;
  readonly usage: Usage | undefined;
  /** Output tokens seen so far, for estimating usage when the provider reports none. */
  readonly outputTokens: number;
}

const NO_BYTES = new Uint8Array(0);
const LF = 10;
const CR = 13;

/** Index just past the last blank line (`\n\n`, `\r\n\r\n`, `\r\r`) of an SSE byte chunk, or 0. */
function completeEventsEnd(data: Uint8Array): number {
  for (let i = data.length - 1; i > 0; i--) {
    const c = data[i];
    if (c === LF && (data[i - 1] === LF || (data[i - 1] === CR && i >= 3 && data[i - 2] === LF && data[i - 3] === CR))) return i + 1;
    if (c === CR && data[i - 1] === CR) return i + 1;
  }
  return 0;
}

class PassthroughPump implements StreamPump {
  /** Bytes of an unfinished event, held back: a cut must never leave half an event before the error event. */
  private carry: Uint8Array | undefined;
  constructor(private readonly observer: PassthroughStreamObserver) {}
  feed(bytes: Uint8Array): string | Uint8Array {
    const out = this.observer.push(bytes);
    return typeof out === 'string' ? out : this.completeEvents(out);
  }
  finish(): string {
    this.observer.end();
    const rest = this.carry;
    this.carry = undefined;
    return rest ? Buffer.from(rest).toString('utf8') : '';
  }
  private completeEvents(bytes: Uint8Array): Uint8Array {
    const data = this.carry ? Buffer.concat([this.carry, bytes]) : bytes;
    const end = completeEventsEnd(data);
    this.carry = end === data.length ? undefined : Buffer.from(data.subarray(end));
    return end === 0 ? NO_BYTES : end === data.length ? data : data.subarray(0, end);
  }
  get started(): boolean {
    return this.observer.started;
  }
  get usage(): Usage | undefined {
    return this.observer.usage;
  }
  get outputTokens(): number {
    return this.observer.contentEvents;
  }
}

class TranslatePump implements StreamPump {
  started = false;
  usage: Usage | undefined;
  private outputChars = 0;
  constructor(
    private readonly decoder: StreamDecoder,
    private readonly encoder: StreamEncoder,
  ) {}
  feed(bytes: Uint8Array): string {
    return this.encode(this.decoder.push(bytes));
  }
  finish(): string {
    return this.encode(this.decoder.end()) + this.encoder.end();
  }
  get outputTokens(): number {
    return Math.ceil(this.outputChars / 4);
  }
  private encode(chunks: ChatCompletionChunk[]): string {
    let out = '';
    for (const chunk of chunks) {
      if (chunk.usage) this.usage = chunk.usage;
      for (const choice of chunk.choices) {
        const delta = choice.delta;
        if (delta.content) {
          this.started = true;
          this.outputChars += delta.content.length;
        }
        if (delta.tool_calls) this.started = true;
        if (delta.reasoning_content) {
          this.started = true;
          this.outputChars += delta.reasoning_content.length;
        }
      }
      out += this.encoder.chunk(chunk);
    }
    return out;
  }
}

export interface PrimedStream {
  attempt: Attempt;
  pump: StreamPump;
  iterator: AsyncIterator<Uint8Array>;
  /** Output held back until the first content arrived. */
  pending: Array<string | Uint8Array>;
  /** The whole upstream stream already ended while priming; `tail` holds its terminal bytes. */
  tail?: string;
  /** ms from the attempt's start to its first content. */
  ttftMs: number;
}

export interface PrimeInput {
  dialect: IngressDialect;
  body: Record<string, unknown>;
  /** The client's bytes, sendable as they are if the target needs no rewrite (same dialect). */
  clientBytes?: Buffer;
  req: ChatRequest;
  pools: UpstreamPools;
  firstTokenMs: number;
}

export async function primeStream(attempt: Attempt, input: PrimeInput): Promise<PrimedStream> {
  const deadline = new FirstTokenDeadline(attempt.signal, input.firstTokenMs);
  try {
    return await prime(attempt, input, deadline.signal);
  } catch (err) {
    throw deadline.error(attempt.deployment.target.endpoint.name, input.firstTokenMs, err);
  } finally {
    deadline.clear();
  }
}

async function prime(attempt: Attempt, input: PrimeInput, signal: AbortLike): Promise<PrimedStream> {
  const { deployment } = attempt;
  const { adapter, target } = deployment;
  const passthrough = adapter.wireFormat === input.dialect.name ? adapter.passthrough : undefined;
  const upstreamRequest = passthrough ? passthrough.chatRequest(input.body, target, true, input.clientBytes) : adapter.chatRequest(input.req, target);
  // Once cleared, the deadline's signal aborts only with the attempt's, so the relay can keep using it.
  const upstream = await input.pools.send(target.endpoint, upstreamRequest, signal, { headersMs: input.firstTokenMs * 2, bodyMs: input.firstTokenMs });
  if (upstream.status >= 300) {
    const text = await upstream.body.text().catch(() => '');
    throw adapter.error(upstream.status, upstream.headers, text, target);
  }
  const pump: StreamPump = passthrough
    ? new PassthroughPump(passthrough.streamObserver(target, input.req.stream_options?.include_usage === true))
    : new TranslatePump(adapter.chatStream(target, input.req), input.dialect.createStreamEncoder(input.req));
  const iterator = (upstream.body as AsyncIterable<Uint8Array>)[Symbol.asyncIterator]();
  const pending: Array<string | Uint8Array> = [];
  try {
    for (;;) {
      const next = await iterator.next();
      if (next.done) {
        const tail = pump.finish();
        return { attempt, pump, iterator, pending, tail, ttftMs: performance.now() - attempt.startedAt };
      }
      const out = pump.feed(next.value);
      if (out.length > 0) pending.push(out);
      if (pump.started) return { attempt, pump, iterator, pending, ttftMs: performance.now() - attempt.startedAt };
    }
  } catch (err) {
    upstream.body.destroy();
    throw streamFailure(err, attempt);
  }
}

function uncork(res: ServerResponse): void {
  res.uncork();
}

function write(res: ServerResponse, data: string | Uint8Array): Promise<void> | undefined {
  if (data.length === 0 || res.destroyed) return undefined;
  // Held until this turn of the event loop ends: when the upstream's last bytes and its end arrive
  // together, the last chunk and the response's end (the caller's, with the cost trailer) leave in
  // one write to the socket instead of two.
  res.cork();
  setImmediate(uncork, res);
  if (res.write(data)) return undefined;
  return new Promise((resolve) => {
    const done = (): void => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

export interface RelayOutcome {
  usage?: Usage;
  outputTokens: number;
  error?: GatewayError;
  clientAbandoned: boolean;
}

/** Commits to the primed attempt: headers, held-back bytes, then the rest of the stream. */
export async function relayPrimed(primed: PrimedStream, res: ServerResponse, headers: Record<string, string>, errorEvent: (err: GatewayError) => string): Promise<RelayOutcome> {
  const { pump, iterator, attempt } = primed;
  headers['content-type'] = 'text/event-stream; charset=utf-8';
  headers['cache-control'] = 'no-cache';
  headers['x-accel-buffering'] = 'no';
  headers.trailer = 'x-switchyard-cost-usd';
  takeRequestId(res, headers);
  res.writeHead(200, headers);
  try {
    for (const part of primed.pending) await write(res, part);
    if (primed.tail === undefined) {
      for (;;) {
        const next = await iterator.next();
        if (next.done) break;
        const wait = write(res, pump.feed(next.value));
        if (wait) await wait;
      }
      await write(res, pump.finish());
    } else {
      await write(res, primed.tail);
    }
    return { usage: pump.usage, outputTokens: pump.outputTokens, clientAbandoned: false };
  } catch (err) {
    const error = streamFailure(err, attempt);
    if (attempt.signal.aborted && res.destroyed) return { usage: pump.usage, outputTokens: pump.outputTokens, error, clientAbandoned: true };
    await write(res, errorEvent(error));
    return { usage: pump.usage, outputTokens: pump.outputTokens, error, clientAbandoned: false };
  } finally {
    await iterator.return?.();
  }
}

/** Classifies a failure while reading an upstream stream. */
function streamFailure(err: unknown, attempt: Attempt): GatewayError {
  if (err instanceof GatewayError) return err;
  const provider = attempt.deployment.target.endpoint.name;
  const code = (err as { code?: string }).code;
  if (code === 'UND_ERR_BODY_TIMEOUT') {
    return new GatewayError('timeout', `${provider}: upstream went silent mid-stream`, { provider, code: 'body_timeout', cause: err });
  }
  if (attempt.signal.aborted) return new GatewayError('timeout', `${provider}: attempt cancelled`, { provider, code: 'aborted', cause: err });
  return asGatewayError(new GatewayError('stream_cut', `${provider}: upstream stream broke: ${(err as Error).message ?? String(err)}`, { provider, cause: err }));
}
