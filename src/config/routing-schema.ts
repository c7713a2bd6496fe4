// The `routing:` section and the per-model routing fields: strategies, load balancing, retries,
// failover policy, circuit breakers, affinity, hedging and active probes.
import { z } from 'zod';

export const STRATEGIES = ['cost', 'latency', 'availability', 'balanced', 'quality'] as const;
export const BALANCERS = ['weighted', 'least_inflight', 'p2c', 'usage'] as const;
export const FAILOVER_ACTIONS = ['retry', 'next_deployment', 'next_group', 'fail'] as const;
/** Error classes an upstream attempt can end in, each with a configurable failover action. */
export const FAILOVER_CLASSES = [
  'rate_limit',
  'overloaded',
  'upstream',
  'timeout',
  'stream_cut',
  'auth',
  'permission',
  'not_found',
  'context_length',
  'content_policy',
  'bad_request',
] as const;

export const strategySchema = z.enum(STRATEGIES);
export const balancerSchema = z.enum(BALANCERS);
const actionSchema = z.enum(FAILOVER_ACTIONS);
const ms = () => z.int().positive();
const share = () => z.number().min(0).max(1);

export const weightsSchema = z.strictObject({
  cost: z.number().nonnegative().optional(),
  latency: z.number().nonnegative().optional(),
  availability: z.number().nonnegative().optional(),
  quality: z.number().nonnegative().optional(),
});

export const routingSchema = z.strictObject({
  strategy: strategySchema.default('balanced'),
  /** Overrides of the strategies' weightings, e.g. `balanced: { cost: 0.5, latency: 0.2 }`. */
  weights: z.partialRecord(strategySchema, weightsSchema).optional(),
  balancer: balancerSchema.default('weighted'),
  /** Candidates scoring within this fraction of the best are balanced by the balancer. */
  tie_tolerance: share().default(0.1),
  retries: z
    .strictObject({
      max_retries: z.int().min(0).max(10).default(2),
      base_delay_ms: ms().default(100),
      max_delay_ms: ms().default(2000),
      /** A Retry-After longer than this moves on instead of waiting. */
      max_retry_after_ms: ms().default(5000),
    })
    .prefault({}),
  failover: z.partialRecord(z.enum(FAILOVER_CLASSES), actionSchema).optional(),
  circuit_breaker: z
    .strictObject({
      failure_threshold: z.int().positive().optional(),
      failure_rate: share().optional(),
      min_requests: z.int().positive().optional(),
      window_ms: ms().optional(),
      cooldown_ms: ms().optional(),
      max_cooldown_ms: ms().optional(),
    })
    .optional(),
  affinity: z
    .strictObject({
      enabled: z.boolean().default(true),
      /** Overrides the per-provider prompt-cache lifetime. */
      ttl_ms: ms().optional(),
      /** Prompts shorter than this (in characters) are not pinned by prefix. */
      min_prefix_chars: z.int().positive().default(4096),
      max_entries: z.int().positive().default(100_000),
    })
    .prefault({}),
  hedging: z
    .strictObject({
      enabled: z.boolean().default(false),
      /** Start the backup no sooner than this, even if the primary's p90 is lower. */
      min_delay_ms: ms().default(50),
    })
    .prefault({}),
  /** `model: "auto"`: the candidate pool, the default cost–quality knob and the strategy among qualifiers. */
  auto: z
    .strictObject({
      /** Model groups auto may choose from; default: every configured chat model group with a known quality. */
      models: z.array(z.string().min(1)).optional(),
      /** 0…1: roughly the share of traffic sent to the premium tier; higher means more quality. */
      quality_target: share().default(0.3),
      strategy: strategySchema.default('cost'),
      /** Feedback-driven threshold shifts per task cluster (off by default). */
      learning: z
        .strictObject({
          enabled: z.boolean().default(false),
          min_samples: z.int().positive().default(20),
          /** Success rate of the cheaper tiers the shift aims for. */
          target_success: share().default(0.8),
          max_shift: share().default(0.2),
          /**
           * How often each replica re-reads the feedback aggregates every replica adds to (PostgreSQL
           * storage); read at start-up.
           */
          refresh_interval_ms: ms().default(10_000),
        })
        .prefault({}),
    })
    .prefault({}),
  active_probes: z
    .strictObject({
      enabled: z.boolean().default(false),
      interval_ms: ms().default(30_000),
    })
    .prefault({}),
});

export const modelTimeoutsSchema = z.strictObject({
  first_token_ms: ms().optional(),
  total_ms: ms().optional(),
});

export type RoutingConfig = z.output<typeof routingSchema>;
export type StrategyName = (typeof STRATEGIES)[number];
export type BalancerName = (typeof BALANCERS)[number];
export type FailoverAction = (typeof FAILOVER_ACTIONS)[number];
export type FailoverClass = (typeof FAILOVER_CLASSES)[number];
export type Weights = Required<z.output<typeof weightsSchema>>;
