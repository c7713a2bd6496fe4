// Test fixtures for the routing engine: deployments and model groups built without HTTP or a
// config file, a fake health lookup with fixed live signals that records executor events, and small
// helpers for requests, plans and deterministic randomness. Test-only; nothing in src imports it.
import { routingSchema, type RoutingConfig } from '../config/routing-schema.ts';
import type { ChatRequest } from '../core/canonical.ts';
import type { ErrorClass } from '../core/errors.ts';
import { adapterFor } from '../providers/index.ts';
import type { ProviderType } from '../providers/types.ts';
import type { AttemptHealth } from './executor.ts';
import type { Capabilities, Deployment, ModelGroup } from './registry.ts';
import type { RouteOptions } from './route-options.ts';
import type { HealthLookup, HealthSignals, PlanInput, RoutePlan } from './router.ts';
import { DEFAULT_WEIGHTS } from './strategies.ts';

export interface PriceSpec {
  inputPerMtok: number;
  outputPerMtok: number;
  cachedInputPerMtok?: number | null;
}

export interface DeploymentSpec {
  id?: string;
  group?: string;
  provider?: string;
  providerType?: ProviderType;
  model?: string;
  /** null: no known price. */
  price?: PriceSpec | null;
  quality?: number | null;
  contextWindow?: number;
  capabilities?: Capabilities;
  weight?: number;
  priority?: number;
  rpm?: number;
  tpm?: number;
}

/** A deployment as the registry would build it, with a real adapter and an unreachable endpoint. */
export function deployment(spec: DeploymentSpec = {}): Deployment {
  const group = spec.group ?? 'g';
  const provider = spec.provider ?? 'p';
  const model = spec.model ?? 'm';
  const providerType = spec.providerType ?? 'openai';
  const d: Deployment = {
    id: spec.id ?? `${group}/${provider}/${model}`,
    group,
    target: {
      endpoint: { name: provider, type: providerType, origin: 'http://127.0.0.1:1', basePath: '', headers: {} },
      model,
    },
    adapter: adapterFor(providerType),
    price: spec.price === null ? undefined : { inputPerMtok: 1, outputPerMtok: 2, ...spec.price },
    weight: spec.weight ?? 1,
    priority: spec.priority ?? 0,
    capabilities: spec.capabilities ?? {},
    quality: spec.quality === undefined ? 0.5 : spec.quality,
  };
  if (spec.contextWindow !== undefined) d.contextWindow = spec.contextWindow;
  if (spec.rpm !== undefined) d.rpm = spec.rpm;
  if (spec.tpm !== undefined) d.tpm = spec.tpm;
  return d;
}

/** A model group with min/max context windows computed like `buildRegistry` (unknown = Infinity). */
export function group(name: string, deployments: readonly Deployment[], extra: Partial<ModelGroup> = {}): ModelGroup {
  const windows = deployments.map((d) => d.contextWindow ?? Number.POSITIVE_INFINITY);
  return {
    name,
    mode: 'chat',
    aliases: [],
    fallbacks: [],
    deployments,
    minContextWindow: Math.min(...windows),
    maxContextWindow: Math.max(...windows),
    created: 0,
    ownedBy: deployments[0]?.target.endpoint.name ?? 'switchyard',
    ...extra,
  };
}

/** Fixed live signals of one deployment. */
export interface SignalValues {
  /** False: the latency signals are still priors (no traffic measured). */
  measured: boolean;
  ttft: number;
  p90: number;
  tps: number;
  successRate: number;
  circuitState: 'closed' | 'open' | 'half_open';
  available: boolean;
  inFlight: number;
  rpm: number;
  tpm: number;
  cooldownUntil: number;
  peakLatency: number;
}

export const DEFAULT_SIGNALS: Readonly<SignalValues> = Object.freeze({
  measured: true,
  ttft: 500,
  p90: 750,
  tps: 50,
  successRate: 1,
  circuitState: 'closed',
  available: true,
  inFlight: 0,
  rpm: 0,
  tpm: 0,
  cooldownUntil: 0,
  peakLatency: 500,
});

export type HealthEventKind = 'start' | 'failure' | 'abandon';

export interface RecordedEvent {
  id: string;
  kind: HealthEventKind;
  errorClass?: ErrorClass;
  retryAfterMs?: number;
}

/** Signals that never change on their own: what the test set is what the router reads. */
export class FakeSignals implements HealthSignals, AttemptHealth {
  values: SignalValues;

  constructor(
    readonly id: string,
    private readonly log: RecordedEvent[],
    values: Partial<SignalValues> = {},
  ) {
    this.values = { ...DEFAULT_SIGNALS, ...values };
  }

  get measured(): boolean {
    return this.values.measured;
  }
  available(): boolean {
    return this.values.available;
  }
  circuitState(): 'closed' | 'open' | 'half_open' {
    return this.values.circuitState;
  }
  ttftMs(): number {
    return this.values.ttft;
  }
  ttftP90Ms(): number {
    return this.values.p90;
  }
  peakLatencyMs(): number {
    return this.values.peakLatency;
  }
  tokensPerSecond(): number {
    return this.values.tps;
  }
  successRate(): number {
    return this.values.successRate;
  }
  get inFlight(): number {
    return this.values.inFlight;
  }
  get cooldownUntil(): number {
    return this.values.cooldownUntil;
  }

  recoversAt(now: number): number {
    return Math.max(this.values.cooldownUntil, now);
  }
  rpm(): number {
    return this.values.rpm;
  }
  tpm(): number {
    return this.values.tpm;
  }

  onStart(): boolean {
    this.log.push({ id: this.id, kind: 'start' });
    return false;
  }
  onFailure(_now: number, errorClass: ErrorClass, retryAfterMs?: number): void {
    const event: RecordedEvent = { id: this.id, kind: 'failure', errorClass };
    if (retryAfterMs !== undefined) event.retryAfterMs = retryAfterMs;
    this.log.push(event);
  }
  onAbandon(): void {
    this.log.push({ id: this.id, kind: 'abandon' });
  }
}

/** A `HealthLookup` (and executor health) whose signals per deployment id are set by the test. */
export class FakeHealth implements HealthLookup {
  readonly events: RecordedEvent[] = [];
  private readonly entries = new Map<string, FakeSignals>();

  get(id: string): FakeSignals {
    let entry = this.entries.get(id);
    if (!entry) {
      entry = new FakeSignals(id, this.events);
      this.entries.set(id, entry);
    }
    return entry;
  }

  set(id: string, values: Partial<SignalValues>): this {
    const entry = this.get(id);
    entry.values = { ...entry.values, ...values };
    return this;
  }

  /** Events of one kind, optionally for one deployment. */
  count(kind: HealthEventKind, id?: string): number {
    return this.events.filter((e) => e.kind === kind && (id === undefined || e.id === id)).length;
  }
}

/** A routing config with defaults for everything not given (validated by the real schema). */
export function routingConfig(overrides: Record<string, unknown> = {}): RoutingConfig {
  return routingSchema.parse(overrides);
}

/** A one-message chat request. */
export function chat(overrides: Partial<ChatRequest> = {}): ChatRequest {
  return { model: 'g', messages: [{ role: 'user', content: 'hello' }], ...overrides };
}

export function noOptions(extra: Partial<RouteOptions> = {}): RouteOptions {
  return { require: [], ...extra };
}

/** A full PlanInput with sensible defaults. */
export function planInput(g: ModelGroup, extra: Partial<PlanInput> = {}): PlanInput {
  return {
    req: chat({ model: g.name, max_tokens: 1000 }),
    group: g,
    fallbacks: [],
    options: noOptions(),
    strategy: 'balanced',
    promptTokens: 1000,
    now: 1_000_000,
    ...extra,
  };
}

/** A route plan over the given tiers in the given order, without the router (for executor tests). */
export function planOf(...groups: ModelGroup[]): RoutePlan {
  return {
    strategy: 'balanced',
    weights: DEFAULT_WEIGHTS.balanced,
    balancer: 'weighted',
    promptTokens: 10,
    expectedOutputTokens: 10,
    tiers: groups.map((g) => ({
      group: g,
      order: g.deployments.map((d) => ({ deployment: d, score: 1, signals: { costUsd: 0, latencyMs: 0, availability: 1, quality: null, cachedTokens: 0 } })),
      excluded: [],
    })),
  };
}

/** Returns the given values in turn, then repeats the last one. */
export function sequence(...values: number[]): () => number {
  let i = 0;
  return () => values[Math.min(i++, values.length - 1)];
}

/** Ids of a plan's first tier in attempt order. */
export function ids(plan: RoutePlan, tier = 0): string[] {
  return plan.tiers[tier].order.map((c) => c.deployment.id);
}
