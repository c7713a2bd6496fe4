// OpenTelemetry traces over OTLP/HTTP (JSON encoding), built from request records after the response:
// one span per request with the GenAI semantic-convention attributes, batched and exported off the
// request path by a small undici client (no SDK: ~20 µs of work per sampled request).
import { randomBytes } from 'node:crypto';
import { request } from 'undici';
import type { UsageRecord } from '../usage/record.ts';
import type { ObservabilityConfig } from './config.ts';

type TracingConfig = ObservabilityConfig['tracing'];

interface AnyValue {
  stringValue?: string;
  intValue?: string;
  doubleValue?: number;
  boolValue?: boolean;
}
interface KeyValue {
  key: string;
  value: AnyValue;
}

export interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  attributes: KeyValue[];
  status: { code: number; message?: string };
}

/** OTLP SpanKind and StatusCode values. */
const SPAN_KIND_CLIENT = 3;
const STATUS_OK = 1;
const STATUS_ERROR = 2;
const TRACEPARENT = /^[\da-f]{2}-([\da-f]{32})-([\da-f]{16})-[\da-f]{2}$/;

const str = (key: string, value: string | undefined): KeyValue | undefined => (value === undefined ? undefined : { key, value: { stringValue: value } });
const int = (key: string, value: number | undefined): KeyValue | undefined =>
  value === undefined ? undefined : { key, value: { intValue: String(Math.trunc(value)) } };
const dbl = (key: string, value: number | undefined): KeyValue | undefined => (value === undefined ? undefined : { key, value: { doubleValue: value } });
const bool = (key: string, value: boolean): KeyValue => ({ key, value: { boolValue: value } });

/** The GenAI `gen_ai.provider.name` well-known values for our provider types, by adapter wire format. */
function genAiSystem(r: UsageRecord): string | undefined {
  return r.provider;
}

export function spanFromRecord(r: UsageRecord): OtlpSpan {
  const parent = r.traceParent ? TRACEPARENT.exec(r.traceParent) : null;
  const start = BigInt(Math.round(r.ts)) * 1_000_000n;
  const end = start + BigInt(Math.max(0, Math.round(r.latencyMs * 1000))) * 1000n;
  const operation = r.operation === 'embeddings' ? 'embeddings' : 'chat';
  const attributes = [
    str('gen_ai.operation.name', operation),
    str('gen_ai.system', genAiSystem(r)),
    str('gen_ai.provider.name', genAiSystem(r)),
    str('gen_ai.request.model', r.requestedModel),
    str('gen_ai.response.model', r.providerModel),
    int('gen_ai.usage.input_tokens', r.promptTokens),
    int('gen_ai.usage.output_tokens', r.completionTokens),
    r.cachedTokens > 0 ? int('gen_ai.usage.cache_read.input_tokens', r.cachedTokens) : undefined,
    str('error.type', r.errorClass),
    int('http.response.status_code', r.status),
    str('switchyard.request_id', r.requestId),
    str('switchyard.model_group', r.modelGroup),
    str('switchyard.deployment', r.deployment),
    str('switchyard.strategy', r.strategy),
    int('switchyard.attempts', r.attempts),
    str('switchyard.fallback_reason', r.fallbackReason),
    dbl('switchyard.cost_usd', r.costUsd),
    dbl('switchyard.ttft_ms', r.ttftMs),
    str('switchyard.auto_tier', r.autoTier),
    str('switchyard.team_id', r.teamId),
    str('switchyard.key_id', r.keyId),
    bool('switchyard.stream', r.stream),
    bool('switchyard.client_abandoned', r.clientAbandoned),
  ].filter((a): a is KeyValue => a !== undefined);
  const error = r.status >= 400 || r.errorClass !== undefined;
  return {
    traceId: parent ? parent[1] : randomBytes(16).toString('hex'),
    spanId: randomBytes(8).toString('hex'),
    ...(parent && { parentSpanId: parent[2] }),
    name: `${operation} ${r.requestedModel}`,
    kind: SPAN_KIND_CLIENT,
    startTimeUnixNano: start.toString(),
    endTimeUnixNano: end.toString(),
    attributes,
    status: error ? { code: STATUS_ERROR, message: r.errorClass ?? `HTTP ${r.status}` } : { code: STATUS_OK },
  };
}

export interface TracerStats {
  queued: number;
  exported: number;
  dropped: number;
}

/** Queues spans and posts them to `<endpoint>/v1/traces` in batches; a failed batch is dropped and counted. */
export class OtlpTracer {
  private queue: OtlpSpan[] = [];
  private readonly timer: NodeJS.Timeout;
  private readonly url: string;
  private sending: Promise<void> | undefined;
  private exported = 0;
  private dropped = 0;

  constructor(
    private readonly config: TracingConfig & { otlp_endpoint: string },
    private readonly onError?: (error: Error) => void,
  ) {
    this.url = `${config.otlp_endpoint.replace(/\/+$/, '')}/v1/traces`;
    this.timer = setInterval(() => void this.export(), config.flush_interval_ms);
    this.timer.unref();
  }

  observe(r: UsageRecord): void {
    if (this.config.sample_ratio < 1 && Math.random() >= this.config.sample_ratio) return;
    if (this.queue.length >= this.config.queue_max) {
      this.dropped++;
      return;
    }
    this.queue.push(spanFromRecord(r));
    if (this.queue.length >= this.config.batch_size && !this.sending) setImmediate(() => void this.export());
  }

  stats(): TracerStats {
    return { queued: this.queue.length, exported: this.exported, dropped: this.dropped };
  }

  /** Sends everything queued (one batch at a time). */
  async export(): Promise<void> {
    if (this.sending) return this.sending;
    this.sending = (async () => {
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0, this.config.batch_size);
        try {
          await this.post(batch);
          this.exported += batch.length;
        } catch (error) {
          this.dropped += batch.length;
          this.onError?.(error instanceof Error ? error : new Error(String(error)));
        }
      }
    })().finally(() => {
      this.sending = undefined;
    });
    return this.sending;
  }

  private async post(spans: OtlpSpan[]): Promise<void> {
    const body = JSON.stringify({
      resourceSpans: [
        {
          resource: { attributes: [{ key: 'service.name', value: { stringValue: this.config.service_name } }] },
          scopeSpans: [{ scope: { name: 'switchyard', version: '0.1.0' }, spans }],
        },
      ],
    });
    const res = await request(this.url, {
      method: 'POST',
      headers: { ...this.config.headers, 'content-type': 'application/json' },
      body,
      headersTimeout: 10_000,
      bodyTimeout: 10_000,
    });
    await res.body.dump();
    if (res.statusCode >= 300) throw new Error(`OTLP collector answered ${res.statusCode}`);
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.export();
  }
}
