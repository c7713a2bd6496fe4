// The admin API's replay request and response, as zod schemas (validation and the OpenAPI document).
import { z } from 'zod';
import { responseComponents } from '../admin/schemas.ts';

const time = z.union([z.string().min(1).max(64), z.number()]);

export const replayBody = z.strictObject({
  from: time.meta({ description: 'ISO time, epoch ms, or a duration back from now (`7d`, `24h`)' }),
  to: time.optional().meta({ description: 'Same forms; default now' }),
  policy: z
    .union([z.string().min(1).max(1_000_000), z.record(z.string(), z.unknown())])
    .meta({ description: 'The policy: YAML text or an object with `routing:` and optionally `models:` (config-file syntax)' }),
  org_id: z.string().min(1).max(128).optional().meta({ description: "Master key only: one org's traffic (users always replay their own org's)" }),
  max_records: z.int().positive().max(2_000_000).optional().meta({ description: 'Read at most this many records, oldest first (default 200000)' }),
});

const side = z.object({
  requests: z.number(),
  cost_usd: z.number(),
  cost_per_1k_requests_usd: z.number(),
  unpriced_requests: z.number(),
  latency_ms: z.object({ mean: z.number(), p50: z.number(), p95: z.number() }),
  quality: z.object({ mean: z.number().nullable(), known_share: z.number() }),
  auto: z.object({ requests: z.number(), tiers: z.record(z.string(), z.number()), expected_gain_captured: z.number().nullable() }),
  models: z.array(z.object({ model: z.string(), requests: z.number(), share: z.number(), cost_usd: z.number() })),
});

export const replayResponse = z.object({
  object: z.literal('replay.report'),
  window: z.object({ from: z.string(), to: z.string() }),
  org_id: z.string().nullable(),
  policy: z.object({
    strategy: z.string(),
    auto: z.object({ quality_target: z.number(), strategy: z.string(), models: z.array(z.string()).nullable() }),
    models: z.array(z.string()).nullable(),
  }),
  records: z.object({ read: z.number(), replayed: z.number(), truncated: z.boolean(), skipped: z.record(z.string(), z.number()) }),
  recorded: side,
  estimated: side,
  change: z.object({
    cost_usd: z.number(),
    cost_ratio: z.number().nullable(),
    latency_p50_ms: z.number(),
    latency_p95_ms: z.number(),
    quality: z.number().nullable(),
    rerouted: z.number(),
    rerouted_share: z.number(),
    latency_from_priors: z.number(),
  }),
  auto_pool: z.array(z.object({ model: z.string(), quality: z.number(), tier: z.string() })),
});
responseComponents.add(replayResponse, { id: 'ReplayReport', description: 'What a routing policy would have done with recorded traffic' });
