// One upstream call read whole into a string, for unary completions and embeddings. It runs on
// undici's dispatch API: `request()` + `body.text()` would wrap the call in an AsyncResource, build a
// Readable stream for the body and parse every response header, all for a body read in one piece.
import type { Dispatcher } from 'undici';
import { GatewayError } from '../core/errors.ts';
import { transportError } from './transport-error.ts';
import type { AbortLike } from './upstream.ts';

export interface BufferedCallOptions {
  /** Until the response headers arrive (undici's backstop; callers run their own first-token deadline). */
  headersMs: number;
  /** Longest silence between body chunks. */
  bodyMs: number;
  /**
   * The whole body must arrive within this many ms of its headers: a finished completion is a
   * transfer, so a body still trickling in after it is a fault (a provider-side slowloris).
   */
  bodyDeadlineMs?: number;
  /** Stopped when the response headers arrive (a first-token deadline). */
  headersDeadline?: { clear(): void };
}

export type ResponseHeaders = Record<string, string | string[] | undefined>;

/** A complete upstream response; its headers are decoded on first read (success paths never read them). */
export class BufferedResponse {
  private decoded: ResponseHeaders | undefined;

  constructor(
    readonly status: number,
    private readonly rawHeaders: readonly Buffer[],
    readonly text: string,
    /** `performance.now()` when the headers arrived. */
    readonly headersAt: number,
  ) {}

  get headers(): ResponseHeaders {
    this.decoded ??= decodeHeaders(this.rawHeaders);
    return this.decoded;
  }
}

/** undici's raw header list (name, value, name, value…) as lower-cased names; repeated names become arrays. */
export function decodeHeaders(raw: readonly Buffer[]): ResponseHeaders {
  const headers: ResponseHeaders = {};
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i].toString('latin1').toLowerCase();
    const value = raw[i + 1].toString('utf8');
    const seen = headers[name];
    if (seen === undefined) headers[name] = value;
    else if (Array.isArray(seen)) seen.push(value);
    else headers[name] = [seen, value];
  }
  return headers;
}

/**
 * undici's (legacy) dispatch handler that collects the body. Settles once: with the response, or
 * with a classified GatewayError — a transport error before the headers, a broken or stalled body
 * after them.
 */
export class BufferingHandler implements Dispatcher.DispatchHandler {
  private abortCall: ((err?: Error) => void) | undefined;
  private status = 0;
  private rawHeaders: Buffer[] = [];
  private readonly chunks: Buffer[] = [];
  private size = 0;
  private headersAt = 0;
  private headersSeen = false;
  private settled = false;
  private stall: NodeJS.Timeout | undefined;

  constructor(
    private readonly provider: string,
    private readonly signal: AbortLike,
    private readonly options: BufferedCallOptions,
    private readonly resolve: (response: BufferedResponse) => void,
    private readonly reject: (err: GatewayError) => void,
  ) {
    if (signal.aborted) this.fail(signal.reason);
    else signal.addEventListener('abort', this);
  }

  /** The caller's signal aborted (EventListener object protocol: no closure per call). */
  handleEvent(): void {
    const reason = this.signal.reason;
    if (this.abortCall) this.abortCall(reason as Error);
    else this.fail(reason);
  }

  onConnect(abort: (err?: Error) => void): void {
    if (this.settled) abort(new DOMException('This operation was aborted', 'AbortError'));
    else this.abortCall = abort;
  }

  onHeaders(statusCode: number, rawHeaders: Buffer[]): boolean {
    this.status = statusCode;
    this.rawHeaders = rawHeaders;
    this.headersSeen = true;
    this.headersAt = performance.now();
    this.options.headersDeadline?.clear();
    const deadline = this.options.bodyDeadlineMs;
    // The timer takes its argument instead of a closure per call.
    if (deadline !== undefined) this.stall = setTimeout(stallBody, deadline, this);
    return true;
  }

  onData(chunk: Buffer): boolean {
    this.chunks.push(chunk);
    this.size += chunk.length;
    return true;
  }

  onComplete(): void {
    if (this.settled) return;
    this.release();
    const { chunks } = this;
    const text = chunks.length === 1 ? chunks[0].toString('utf8') : Buffer.concat(chunks, this.size).toString('utf8');
    this.resolve(new BufferedResponse(this.status, this.rawHeaders, text, this.headersAt));
  }

  onError(err: Error): void {
    this.fail(err);
  }

  /** @internal the body did not finish within `bodyDeadlineMs` of its headers */
  expire(): void {
    const ms = this.options.bodyDeadlineMs;
    this.abortCall?.(new GatewayError('timeout', `${this.provider}: response body incomplete ${ms} ms after its headers`, { provider: this.provider, code: 'body_timeout' }));
  }

  private fail(err: unknown): void {
    if (this.settled) return;
    this.release();
    this.reject(this.headersSeen ? bodyError(err, this.provider) : transportError(err, this.provider));
  }

  private release(): void {
    this.settled = true;
    if (this.stall) clearTimeout(this.stall);
    this.stall = undefined;
    this.signal.removeEventListener('abort', this);
  }
}

function stallBody(handler: BufferingHandler): void {
  handler.expire();
}

function bodyError(err: unknown, provider: string): GatewayError {
  if (err instanceof GatewayError) return err;
  const code = (err as { code?: string }).code;
  if (code === 'UND_ERR_BODY_TIMEOUT') return new GatewayError('timeout', `${provider}: upstream went silent mid-response`, { provider, code: 'body_timeout' });
  return new GatewayError('upstream', `${provider}: response body broke off (${code ?? (err as Error).message})`, { provider, code: 'body_cut' });
}
