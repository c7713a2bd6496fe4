// The `observability:` section: Prometheus metrics and OpenTelemetry traces.
import { z } from 'zod';

export const observabilitySchema = z.strictObject({
  metrics: z
    .strictObject({
      enabled: z.boolean().default(true),
      /** When set, `GET /metrics` requires `Authorization: Bearer <token>`. */
      bearer_token: z.string().min(1).optional(),
    })
    .prefault({}),
  tracing: z
    .strictObject({
      /** OTLP/HTTP endpoint base (e.g. http://collector:4318); spans go to `<endpoint>/v1/traces`. Unset: no tracing. */
      otlp_endpoint: z.url({ protocol: /^https?$/, error: 'must be a http(s) URL' }).optional(),
      service_name: z.string().min(1).default('switchyard'),
      /** Extra headers for the collector (e.g. an API key). */
      headers: z.record(z.string(), z.string()).default(() => ({})),
      /** Fraction of requests traced (0..1). */
      sample_ratio: z.number().min(0).max(1).default(1),
      /** Spans per export request, and the longest a span waits before export. */
      batch_size: z.int().positive().default(512),
      flush_interval_ms: z.int().positive().default(2000),
      /** Spans held while the collector is slow; beyond it spans are dropped (and counted). */
      queue_max: z.int().positive().default(8192),
    })
    .prefault({}),
});

export type ObservabilityConfig = z.output<typeof observabilitySchema>;
