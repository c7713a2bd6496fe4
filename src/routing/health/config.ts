// Tunables for deployment health, with every default in one place. Changing one here changes the
// router's behaviour everywhere; the docs quote these values.

/** The part of the health config a circuit breaker reads. */
export interface CircuitBreakerConfig {
  /** Consecutive circuit failures that open the circuit. */
  failureThreshold: number;
  /** Failure share over the window that opens the circuit, once `minRequests` outcomes are in it. */
  failureRate: number;
  /** Outcomes the window must hold before `failureRate` is judged. */
  minRequests: number;
  /** Span of the failure-rate and success-rate window. */
  windowMs: number;
  /** Ring buckets the window is split into; its resolution is `windowMs / windowBuckets`. */
  windowBuckets: number;
  /** First open period; each failed probe doubles it up to `maxCooldownMs`, closing resets it. */
  cooldownMs: number;
  maxCooldownMs: number;
}

export interface HealthConfig extends CircuitBreakerConfig {
  /** TTFT assumed until the first sample. */
  defaultTtftMs: number;
  /** Output tokens per second assumed until the first sample. */
  defaultTps: number;
  /** Half-life of the TTFT and tokens/s averages. */
  ewmaHalfLifeMs: number;
  /** Half-life of the peak TTFT's decay (toward lower samples, and back to the prior when idle). */
  peakHalfLifeMs: number;
  /** Shorter completions say too little about throughput to sample tokens/s. */
  minTpsTokens: number;
  /** TTFT samples kept for the p90. */
  latencySamples: number;
  /** Insertions between p90 recomputations (see RecentQuantiles). */
  quantileEvery: number;
  /** Cool-down after a 429 that carries no Retry-After. */
  defaultCooldownMs: number;
  /** Circuit open period after the provider rejected our credential (auth, permission). */
  authCooldownMs: number;
}

export const DEFAULT_HEALTH_CONFIG: Readonly<HealthConfig> = Object.freeze({
  failureThreshold: 5,
  failureRate: 0.5,
  minRequests: 10,
  windowMs: 60_000,
  windowBuckets: 60,
  cooldownMs: 30_000,
  maxCooldownMs: 300_000,
  defaultTtftMs: 800,
  defaultTps: 60,
  ewmaHalfLifeMs: 30_000,
  peakHalfLifeMs: 10_000,
  minTpsTokens: 8,
  latencySamples: 128,
  quantileEvery: 16,
  defaultCooldownMs: 5_000,
  authCooldownMs: 300_000,
});

const POSITIVE: readonly (keyof HealthConfig)[] = [
  'windowMs',
  'cooldownMs',
  'maxCooldownMs',
  'defaultTtftMs',
  'defaultTps',
  'ewmaHalfLifeMs',
  'peakHalfLifeMs',
];
const POSITIVE_INTEGER: readonly (keyof HealthConfig)[] = [
  'failureThreshold',
  'windowBuckets',
  'latencySamples',
  'quantileEvery',
];
const NON_NEGATIVE: readonly (keyof HealthConfig)[] = ['minRequests', 'minTpsTokens', 'defaultCooldownMs', 'authCooldownMs'];

/**
 * Fills missing (or undefined) fields from DEFAULT_HEALTH_CONFIG and rejects values the arithmetic
 * cannot live with (a zero half-life, an empty ring). Missing fields mean "default", not "unchanged".
 */
export function resolveHealthConfig(partial: Partial<HealthConfig> = {}): HealthConfig {
  const config: HealthConfig = { ...DEFAULT_HEALTH_CONFIG };
  for (const key of Object.keys(DEFAULT_HEALTH_CONFIG) as (keyof HealthConfig)[]) {
    const value = partial[key];
    if (value !== undefined) config[key] = value;
  }
  for (const key of POSITIVE) {
    if (!(Number.isFinite(config[key]) && config[key] > 0)) throw new RangeError(`health.${key} must be a positive number, got ${config[key]}`);
  }
  for (const key of POSITIVE_INTEGER) {
    if (!(Number.isInteger(config[key]) && config[key] > 0)) throw new RangeError(`health.${key} must be a positive integer, got ${config[key]}`);
  }
  for (const key of NON_NEGATIVE) {
    if (!(Number.isFinite(config[key]) && config[key] >= 0)) throw new RangeError(`health.${key} must be a non-negative number, got ${config[key]}`);
  }
  if (!(config.failureRate > 0 && config.failureRate <= 1)) throw new RangeError(`health.failureRate must be in (0, 1], got ${config.failureRate}`);
  if (config.maxCooldownMs < config.cooldownMs) {
    throw new RangeError(`health.maxCooldownMs (${config.maxCooldownMs}) must be at least health.cooldownMs (${config.cooldownMs})`);
  }
  return config;
}
