// Observability as the gateway uses it: the Prometheus endpoint, the OTLP tracer, and the usage sink
// that feeds both from every request record.
import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { GovernanceRuntime } from '../governance/runtime.ts';
import type { HealthRegistry } from '../routing/health/index.ts';
import type { UsageQueueStats, UsageSink } from '../usage/record.ts';
import type { ObservabilityConfig } from './config.ts';
import { GatewayMetrics } from './metrics.ts';
import { ObservedUsageSink, type RecordObserver } from './observed-sink.ts';
import { OtlpTracer } from './tracing.ts';

export interface ObservabilitySources {
  health?: () => HealthRegistry | undefined;
  governance?: () => GovernanceRuntime | undefined;
  onTraceError?: (error: Error) => void;
}

/** Serves `GET /metrics`. */
export interface MetricsEndpoint {
  handle(req: IncomingMessage, res: ServerResponse): Promise<void>;
}

export class Observability implements MetricsEndpoint {
  readonly metrics: GatewayMetrics | undefined;
  readonly tracer: OtlpTracer | undefined;
  private usageStats: (() => UsageQueueStats) | undefined;
  private readonly token: Buffer | undefined;

  constructor(
    readonly config: ObservabilityConfig,
    sources: ObservabilitySources = {},
  ) {
    const endpoint = config.tracing.otlp_endpoint;
    this.tracer = endpoint === undefined ? undefined : new OtlpTracer({ ...config.tracing, otlp_endpoint: endpoint }, sources.onTraceError);
    this.metrics = config.metrics.enabled
      ? new GatewayMetrics({
          health: sources.health,
          governance: sources.governance,
          usageStats: () => this.usageStats?.(),
          traceStats: this.tracer ? () => this.tracer?.stats() : undefined,
        })
      : undefined;
    this.token = config.metrics.bearer_token === undefined ? undefined : Buffer.from(`Bearer ${config.metrics.bearer_token}`);
  }

  /** The store's sink, with metrics and traces fed from every record it receives. */
  wrap(sink: UsageSink & { stats?: () => UsageQueueStats }): UsageSink {
    if (sink.stats) this.usageStats = () => (sink.stats as () => UsageQueueStats)();
    const observers: RecordObserver[] = [];
    if (this.metrics) observers.push(this.metrics);
    if (this.tracer) observers.push(this.tracer);
    if (observers.length === 0) return sink;
    return new ObservedUsageSink(sink, observers, async () => this.tracer?.close());
  }

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    req.resume();
    if (!this.metrics) return text(res, 404, 'metrics are disabled (observability.metrics.enabled: false)\n');
    if (this.token && !authorized(req.headers.authorization, this.token)) {
      res.setHeader('www-authenticate', 'Bearer realm="metrics"');
      return text(res, 401, 'metrics require the configured bearer token\n');
    }
    const body = await this.metrics.metrics();
    res.writeHead(200, { 'content-type': this.metrics.contentType(), 'content-length': Buffer.byteLength(body) });
    res.end(body);
  }
}

function authorized(header: string | undefined, expected: Buffer): boolean {
  if (header === undefined) return false;
  const given = Buffer.from(header);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

function text(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}
