// One row per request: what was asked, where it went, what it cost and how it ended.
import type { DialectName } from '../dialects/types.ts';

export interface UsageRecord {
  requestId: string;
  /** Unix ms when the request arrived. */
  ts: number;
  dialect: DialectName;
  operation: 'chat' | 'embeddings' | 'responses';
  requestedModel: string;
  /** Who: empty for the master key. */
  orgId?: string;
  teamId?: string;
  userId?: string;
  keyId?: string;
  modelGroup?: string;
  /** Routing strategy applied. */
  strategy?: string;
  /** Compact candidate list: `deployment:score` for eligible ones, `deployment!reason` for excluded. */
  candidates?: string;
  /** Why the first candidate was chosen (strategy and balancer, affinity, degraded). */
  routeReason?: string;
  /** `model: "auto"`: the classifier's score and the quality tier it required. */
  complexity?: number;
  autoTier?: string;
  deployment?: string;
  provider?: string;
  providerModel?: string;
  status: number;
  errorClass?: string;
  stream: boolean;
  promptTokens: number;
  completionTokens: number;
  cachedTokens: number;
  costUsd: number;
  /** True when the provider reported no usage and the gateway estimated it. */
  usageEstimated: boolean;
  latencyMs: number;
  ttftMs?: number;
  attempts: number;
  fallbackReason?: string;
  clientAbandoned: boolean;
  /** Served from the response cache: no provider call, cost 0, tokens as in the cached response. */
  cacheHit?: boolean;
}

/** Accepts records on the request path without blocking it; writes happen in batches elsewhere. */
export interface UsageSink {
  record(record: UsageRecord): void;
  /**
   * Optional: resolves once every record passed so far would survive a crash of this process
   * (undefined when it already would). Awaited before a response's last bytes go out.
   */
  durable?(): Promise<void> | undefined;
  flush(): Promise<void>;
  close(): Promise<void>;
}
