// Streams one chat completion to the client. Failover stays possible until the first content byte
// reaches the client; after that a failure ends the stream with an explicit error event. The caller
// ends the response, so that it can attach the cost as a trailer once usage is known.
import type { ServerResponse } from 'node:http';
import type { ChatCompletionChunk, ChatRequest, Usage } from '../core/canonical.ts';
import { asGatewayError, GatewayError } from '../core/errors.ts';
import type { IngressDialect, StreamEncoder } from '../dialects/types.ts';
import type { UpstreamPools } from '../providers/upstream.ts';
import type { PassthroughStreamObserver, StreamDecoder } from '../providers/types.ts';
import type { AttemptLog } from '../routing/executor.ts';
import { shouldFailover } from '../routing/failover.ts';
import type { Deployment } from '../routing/registry.ts';

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

class PassthroughPump implements StreamPump {
  constructor(private readonly observer: PassthroughStreamObserver) {}
  feed(bytes: Uint8Array): string | Uint8Array {
    return this.observer.push(bytes);
  }
  get outputTokens(): number {
    return this.observer.contentEvents;
  }
  finish(): string {
    this.observer.end();
    return '';
  }
  get started(): boolean {
    return this.observer.started;
  }
  get usage(): Usage | undefined {
    return this.observer.usage;
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
        if (delta.reasoning_content) this.outputChars += delta.reasoning_content.length;
      }
      out += this.encoder.chunk(chunk);
    }
    return out;
  }
}

export interface StreamOutcome {
  deployment?: Deployment;
  usage?: Usage;
  outputTokens: number;
  ttftMs?: number;
  error?: GatewayError;
  /** Bytes already reached the client when the error happened. */
  committed: boolean;
  clientAbandoned: boolean;
}

export interface StreamRelayInput {
  dialect: IngressDialect;
  body: Record<string, unknown>;
  req: ChatRequest;
  plan: readonly Deployment[];
  attempts: AttemptLog[];
  pools: UpstreamPools;
  signal: AbortSignal;
  firstTokenMs: number;
  startedAt: number;
  /** Headers to send with the 200, given the deployment that answers. */
  headersFor(deployment: Deployment, attempts: readonly AttemptLog[]): Record<string, string>;
}

function write(res: ServerResponse, data: string | Uint8Array): Promise<void> | undefined {
  if (data.length === 0 || res.destroyed) return undefined;
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

export async function relayChatStream(input: StreamRelayInput, res: ServerResponse): Promise<StreamOutcome> {
  const { dialect, req, plan, attempts, pools, signal } = input;
  const clientWantsUsage = req.stream_options?.include_usage === true;
  let lastError: GatewayError | undefined;
  for (const deployment of plan) {
    if (signal.aborted) break;
    const started = performance.now();
    const passthrough = deployment.adapter.wireFormat === dialect.name ? deployment.adapter.passthrough : undefined;
    let pump: StreamPump | undefined;
    let committed = false;
    let ttftMs: number | undefined;
    try {
      const upstreamRequest = passthrough
        ? passthrough.chatRequest(input.body, deployment.target, true)
        : deployment.adapter.chatRequest(req, deployment.target);
      const upstream = await pools.send(deployment.target.endpoint, upstreamRequest, signal, {
        headersMs: input.firstTokenMs,
        bodyMs: input.firstTokenMs,
      });
      if (upstream.status >= 300) {
        const text = await upstream.body.text();
        throw deployment.adapter.error(upstream.status, upstream.headers, text, deployment.target);
      }
      pump = passthrough
        ? new PassthroughPump(passthrough.streamObserver(deployment.target, clientWantsUsage))
        : new TranslatePump(deployment.adapter.chatStream(deployment.target, req), dialect.createStreamEncoder(req));

      // Hold output back until content arrives, so a failure before it can still fail over.
      const pending: Array<string | Uint8Array> = [];
      const commit = (): void => {
        committed = true;
        ttftMs = performance.now() - input.startedAt;
        attempts.push({ deployment, ms: performance.now() - started });
        res.writeHead(200, {
          'content-type': 'text/event-stream; charset=utf-8',
          'cache-control': 'no-cache',
          'x-accel-buffering': 'no',
          trailer: 'x-switchyard-cost-usd',
          ...input.headersFor(deployment, attempts),
        });
        res.flushHeaders();
      };
      try {
        for await (const bytes of upstream.body) {
          const out = pump.feed(bytes as Uint8Array);
          if (!committed) {
            if (out.length > 0) pending.push(out);
            if (!pump.started) continue;
            commit();
            for (const part of pending) await write(res, part);
            pending.length = 0;
            continue;
          }
          const wait = write(res, out);
          if (wait) await wait;
        }
      } catch (err) {
        // Undici reports an aborted body as an error; prefer the pump's view when it has one.
        throw err instanceof GatewayError ? err : asGatewayError(transportOrCut(err, deployment));
      }
      const tail = pump.finish();
      if (!committed) {
        commit();
        for (const part of pending) await write(res, part);
      }
      await write(res, tail);
      return { deployment, usage: pump.usage, outputTokens: pump.outputTokens, ttftMs, committed: true, clientAbandoned: false };
    } catch (err) {
      const error = asGatewayError(err);
      if (signal.aborted && res.destroyed) {
        if (!committed) attempts.push({ deployment, error, ms: performance.now() - started });
        return { deployment, usage: pump?.usage, outputTokens: pump?.outputTokens ?? 0, ttftMs, error, committed, clientAbandoned: true };
      }
      if (committed) {
        await write(res, dialect.createStreamEncoder(req).error(error));
        return { deployment, usage: pump?.usage, outputTokens: pump?.outputTokens ?? 0, ttftMs, error, committed: true, clientAbandoned: false };
      }
      attempts.push({ deployment, error, ms: performance.now() - started });
      lastError = error;
      if (!shouldFailover(error.errorClass)) break;
    }
  }
  const error =
    lastError ??
    (signal.aborted
      ? new GatewayError('timeout', 'request aborted before any provider answered', { code: 'aborted' })
      : new GatewayError('upstream', 'no deployment available for this model', { code: 'no_deployment' }));
  return { error, outputTokens: 0, committed: false, clientAbandoned: signal.aborted && res.destroyed };
}

function transportOrCut(err: unknown, deployment: Deployment): GatewayError {
  const provider = deployment.target.endpoint.name;
  const code = (err as { code?: string }).code;
  if (code === 'UND_ERR_BODY_TIMEOUT') {
    return new GatewayError('timeout', `${provider}: upstream went silent mid-stream`, { provider, code: 'body_timeout', cause: err });
  }
  return new GatewayError('stream_cut', `${provider}: upstream stream broke: ${(err as Error).message ?? String(err)}`, { provider, cause: err });
}
