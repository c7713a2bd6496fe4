// HTTP harness shared by every provider simulator: body reading, fault injection (errors by status,
// 429 with Retry-After, resets, hangs, mid-stream aborts) and token pacing. A wire format plugs in
// as a `SimFormat` that routes requests and renders its own bodies and error shapes.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SimPromptCache } from './prompt-cache.ts';

/**
 * Deliberate protocol faults: `malformed_json` breaks a unary body (or a stream's first frame),
 * `malformed_frames` breaks a frame in the middle of a stream, `endless_stream` sends half the stream
 * and then only keep-alives (silence for binary streams) forever, `cut_mid_frame` sends half the
 * stream and half of the next frame, then resets the connection, `wrong_content_type` answers 200
 * with an HTML page, `error_body_200` answers 200 with the format's error body.
 */
export const SIM_FAULTS = ['malformed_json', 'malformed_frames', 'endless_stream', 'cut_mid_frame', 'wrong_content_type', 'error_body_200'] as const;
export type SimFault = (typeof SIM_FAULTS)[number];

export interface SimKnobs {
  /** Delay before the response starts (headers and first token), in ms. */
  ttftMs: number;
  /** Streaming pace; 0 sends every token at once. */
  tokensPerSecond: number;
  /** Tokens of text the model writes when max_tokens does not cap it. */
  outputTokens: number;
  /** Probability of answering with each HTTP status instead of a result, e.g. `{ 500: 0.1 }`. */
  errorRates: Record<number, number>;
  /** Probability of a 429 carrying `Retry-After: retryAfterSeconds`. */
  rateLimitRate: number;
  retryAfterSeconds: number;
  /** Probability of destroying the connection before any response byte. */
  resetRate: number;
  /** Probability of cutting a stream (or a body) half-way through. */
  midStreamAbortRate: number;
  /** Probability of never answering (the socket stays open). */
  hangRate: number;
  /** Cached prompt tokens to report in usage (a provider prompt-cache hit). */
  cachedTokens: number;
  /** When set, requests must present this key in the format's auth header. */
  apiKey?: string;
  /** Seed for the fault dice; the same seed gives the same sequence of faults. */
  seed: number;
  /** A protocol fault to inject, with probability `faultRate`. */
  fault?: SimFault;
  faultRate: number;
  /** Drip every response body at this many bytes per second (0 = off): a provider-side slowloris. */
  bytesPerSecond: number;
}

export const DEFAULT_KNOBS: SimKnobs = {
  ttftMs: 0,
  tokensPerSecond: 0,
  outputTokens: 16,
  errorRates: {},
  rateLimitRate: 0,
  retryAfterSeconds: 1,
  resetRate: 0,
  midStreamAbortRate: 0,
  hangRate: 0,
  cachedTokens: 0,
  seed: 1,
  faultRate: 1,
  bytesPerSecond: 0,
};

export interface SimErrorBody {
  contentType?: string;
  body: string;
  headers?: Record<string, string>;
}

export interface SimContext {
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  /** Raw request body. */
  raw: Buffer;
  /** Parsed JSON body, or undefined when the body is empty or not JSON. */
  json: unknown;
  knobs: SimKnobs;
  /** True when the dice say this response should be cut half-way. */
  abortMidway: boolean;
  /** Per-token delay in ms (0 when unpaced). */
  tokenDelayMs: number;
  /** This simulator's provider-side prompt cache. */
  promptCache: SimPromptCache;
  /** The protocol fault the dice chose for this response, if any. */
  fault?: SimFault;
}

export type SimRoute = (ctx: SimContext) => Promise<void> | void;

export interface SimFormat {
  readonly name: string;
  route(method: string, pathname: string): SimRoute | undefined;
  /** Renders an error in the format's own shape. */
  errorBody(status: number, message: string): SimErrorBody;
  /**
   * The key the client presented, read from the format's auth header(s). Signature-based formats
   * (Bedrock SigV4) verify against `knobs.apiKey` and return it only when the signature holds.
   */
  presentedKey(req: IncomingMessage, url: URL, knobs: SimKnobs): string | undefined;
}

export interface SimRecord {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: unknown;
}

/** A running simulator; knobs can be changed while it runs. */
export class SimServer {
  readonly knobs: SimKnobs;
  /** Requests received, in order (bounded to the last 200). */
  readonly received: SimRecord[] = [];
  requestCount = 0;
  readonly promptCache = new SimPromptCache();
  /** Responses whose connection closed before they were complete (the client left, or a fault cut them). */
  unfinished = 0;
  private server: Server | undefined;
  private rngState: number;
  private readonly sockets = new Set<import('node:net').Socket>();

  constructor(
    readonly format: SimFormat,
    knobs: Partial<SimKnobs> = {},
  ) {
    this.knobs = { ...DEFAULT_KNOBS, ...knobs };
    this.rngState = this.knobs.seed >>> 0 || 1;
  }

  setKnobs(knobs: Partial<SimKnobs>): void {
    Object.assign(this.knobs, knobs);
    if (knobs.seed !== undefined) this.rngState = knobs.seed >>> 0 || 1;
  }

  async listen(port = 0, host = '127.0.0.1'): Promise<{ port: number; url: string }> {
    const server = createServer((req, res) => void this.handle(req, res));
    server.keepAliveTimeout = 65_000;
    server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
    const address = server.address() as AddressInfo;
    return { port: address.port, url: `http://${host}:${address.port}` };
  }

  get url(): string {
    const address = this.server?.address() as AddressInfo | null;
    if (!address) throw new Error('simulator is not listening');
    return `http://127.0.0.1:${address.port}`;
  }

  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** xorshift32: deterministic dice for fault injection. */
  private random(): number {
    let x = this.rngState;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.rngState = x >>> 0;
    return this.rngState / 4294967296;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    res.once('close', () => {
      if (!res.writableFinished) this.unfinished++;
    });
    const url = new URL(req.url ?? '/', 'http://sim.local');
    const chunks: Buffer[] = [];
    try {
      for await (const chunk of req) chunks.push(chunk as Buffer);
    } catch {
      return;
    }
    const raw = Buffer.concat(chunks);
    let json: unknown;
    if (raw.length > 0) {
      try {
        json = JSON.parse(raw.toString('utf8'));
      } catch {
        json = undefined;
      }
    }
    this.requestCount++;
    this.received.push({ method: req.method ?? 'GET', path: url.pathname + url.search, headers: req.headers, body: json });
    if (this.received.length > 200) this.received.shift();

    const knobs = this.knobs;
    const route = this.format.route(req.method ?? 'GET', url.pathname);
    if (!route) return this.sendError(res, 404, `no route for ${req.method} ${url.pathname}`);
    if (knobs.apiKey !== undefined && this.format.presentedKey(req, url, knobs) !== knobs.apiKey) {
      return this.sendError(res, 401, 'invalid api key');
    }
    if (raw.length > 0 && json === undefined) return this.sendError(res, 400, 'request body is not valid JSON');

    // Fault dice, in a fixed order so a seed reproduces a run.
    if (this.random() < knobs.hangRate) return; // never answer; the client must time out
    if (this.random() < knobs.resetRate) {
      req.socket.destroy();
      return;
    }
    if (this.random() < knobs.rateLimitRate) {
      return this.sendError(res, 429, 'rate limit exceeded, retry later', {
        'retry-after': String(knobs.retryAfterSeconds),
      });
    }
    for (const [status, rate] of Object.entries(knobs.errorRates)) {
      if (this.random() < rate) return this.sendError(res, Number(status), `simulated upstream error ${status}`);
    }
    const abortMidway = this.random() < knobs.midStreamAbortRate;
    // Only rolled when a fault is configured, so existing seeds keep their sequences.
    const fault = knobs.fault !== undefined && this.random() < knobs.faultRate ? knobs.fault : undefined;
    if (knobs.ttftMs > 0) await sleep(knobs.ttftMs);
    if (res.destroyed) return;
    if (fault === 'wrong_content_type') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end('<html><head><title>502 Bad Gateway</title></head><body><h1>Bad Gateway</h1></body></html>');
      return;
    }
    if (fault === 'error_body_200') {
      const rendered = this.format.errorBody(500, 'simulated failure reported in a 200 response');
      res.writeHead(200, { 'content-type': rendered.contentType ?? 'application/json', ...rendered.headers });
      res.end(rendered.body);
      return;
    }
    const tokenDelayMs = knobs.tokensPerSecond > 0 ? 1000 / knobs.tokensPerSecond : 0;
    try {
      await route({ req, res, url, raw, json, knobs, abortMidway, tokenDelayMs, promptCache: this.promptCache, fault });
    } catch (err) {
      if (!res.headersSent) this.sendError(res, 500, `simulator failure: ${(err as Error).message}`);
      else res.destroy();
    }
  }

  private sendError(res: ServerResponse, status: number, message: string, headers: Record<string, string> = {}): void {
    const rendered = this.format.errorBody(status, message);
    res.writeHead(status, {
      'content-type': rendered.contentType ?? 'application/json',
      ...rendered.headers,
      ...headers,
    });
    res.end(rendered.body);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Writes a response body as a sequence of frames with the simulator's pacing, cutting the
 * connection half-way when the dice said so. `frames` marks which frames carry a token (paced).
 */
export async function writeFrames(
  ctx: SimContext,
  input: Array<{ data: string | Uint8Array; paced: boolean }>,
): Promise<void> {
  const { res } = ctx;
  const frames = ctx.fault ? faultyFrames(ctx, input) : input;
  if (ctx.fault === 'endless_stream') return endless(ctx, frames);
  if (ctx.fault === 'cut_mid_frame') return cutMidFrame(ctx, frames);
  if (ctx.knobs.bytesPerSecond > 0) return drip(ctx, frames.map((f) => f.data));
  const cutAt = ctx.abortMidway ? Math.max(1, Math.floor(frames.length / 2)) : -1;
  let pending = '';
  for (let i = 0; i < frames.length; i++) {
    if (res.destroyed) return;
    if (i === cutAt) {
      if (pending) res.write(pending);
      // Give the partial body a moment to reach the client before the cut, like a real network fault.
      await sleep(5);
      res.destroy();
      return;
    }
    const frame = frames[i];
    if (frame.paced && ctx.tokenDelayMs > 0) {
      if (pending) {
        res.write(pending);
        pending = '';
      }
      await sleep(ctx.tokenDelayMs);
    }
    if (typeof frame.data === 'string' && ctx.tokenDelayMs === 0) pending += frame.data;
    else {
      if (pending) {
        res.write(pending);
        pending = '';
      }
      res.write(frame.data);
    }
  }
  res.end(pending || undefined);
}

/** Sends a complete JSON body (honouring the mid-body abort knob). */
export async function sendJson(ctx: SimContext, status: number, value: unknown, headers: Record<string, string> = {}): Promise<void> {
  let body = JSON.stringify(value);
  if (ctx.fault === 'malformed_json' && status === 200) body = body.slice(0, Math.floor(body.length / 2));
  ctx.res.writeHead(status, { 'content-type': 'application/json', ...headers });
  if (ctx.knobs.bytesPerSecond > 0) return drip(ctx, [body]);
  if (ctx.abortMidway) {
    ctx.res.write(body.slice(0, Math.floor(body.length / 2)));
    await sleep(5);
    ctx.res.destroy();
    return;
  }
  ctx.res.end(body);
}

/** Breaks one frame: the first for `malformed_json`, the middle one for `malformed_frames`. */
function faultyFrames(ctx: SimContext, frames: Array<{ data: string | Uint8Array; paced: boolean }>): Array<{ data: string | Uint8Array; paced: boolean }> {
  const at = ctx.fault === 'malformed_json' ? 0 : ctx.fault === 'malformed_frames' ? Math.floor(frames.length / 2) : -1;
  if (at < 0 || frames.length === 0) return frames;
  const copy = frames.slice();
  copy[at] = { data: corrupt(copy[at].data), paced: copy[at].paced };
  return copy;
}

const SSE_DATA = /data: ([^\n]*)\n\n$/;

/** An SSE event keeps its framing with its JSON cut in half; a binary frame gets a wrong checksum. */
function corrupt(data: string | Uint8Array): string | Uint8Array {
  if (typeof data !== 'string') {
    const bytes = Uint8Array.from(data);
    bytes[bytes.length - 1] ^= 0xff;
    return bytes;
  }
  const match = SSE_DATA.exec(data);
  if (match) return `${data.slice(0, match.index)}data: ${match[1].slice(0, Math.floor(match[1].length / 2))}\n\n`;
  return data.slice(0, Math.floor(data.length / 2));
}

/** Half the stream, then keep-alive comments (SSE) or silence (other streams), until the client leaves. */
async function endless(ctx: SimContext, frames: Array<{ data: string | Uint8Array; paced: boolean }>): Promise<void> {
  const { res } = ctx;
  for (const frame of frames.slice(0, Math.max(1, Math.floor(frames.length / 2)))) res.write(frame.data);
  const sse = String(res.getHeader('content-type') ?? '').startsWith('text/event-stream');
  while (!res.destroyed && !res.writableEnded) {
    if (sse) res.write(': keep-alive\n\n');
    await sleep(200);
  }
}

/** Half the frames (paced), then the first half of the next one, then a reset: a cut inside an event. */
async function cutMidFrame(ctx: SimContext, frames: Array<{ data: string | Uint8Array; paced: boolean }>): Promise<void> {
  const { res } = ctx;
  const at = Math.max(1, Math.floor(frames.length / 2));
  for (const frame of frames.slice(0, at)) {
    if (res.destroyed) return;
    if (frame.paced && ctx.tokenDelayMs > 0) await sleep(ctx.tokenDelayMs);
    res.write(frame.data);
  }
  const next = frames[at]?.data ?? '';
  res.write(typeof next === 'string' ? next.slice(0, Math.ceil(next.length / 2)) : next.subarray(0, Math.ceil(next.length / 2)));
  await sleep(20);
  res.destroy();
}

/** Writes the body one byte at a time at `bytesPerSecond`. */
async function drip(ctx: SimContext, parts: Array<string | Uint8Array>): Promise<void> {
  const { res } = ctx;
  const bytes = Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : p)));
  const delay = 1000 / ctx.knobs.bytesPerSecond;
  for (let i = 0; i < bytes.length; i++) {
    if (res.destroyed) return;
    res.write(bytes.subarray(i, i + 1));
    await sleep(delay);
  }
  res.end();
}
