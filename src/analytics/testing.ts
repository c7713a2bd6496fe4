// Test and benchmark support: deterministic synthetic request records.
import type { UsageRecord } from '../usage/record.ts';
import { mulberry32 } from '../core/random.ts';

export interface SyntheticOptions {
  /** Start of the time range (epoch ms) and its length. */
  from: number;
  spanMs: number;
  seed?: number;
  /** Records in the whole data set when generated in chunks (`startIndex` onwards); default `count`. */
  total?: number;
  /** Virtual keys (default 160): each belongs to one team and user and prefers two models and a strategy. */
  keys?: number;
}

const MODELS = [
  { model: 'gpt-4o', provider: 'openai', inPrice: 2.5, outPrice: 10 },
  { model: 'gpt-4o-mini', provider: 'openai', inPrice: 0.15, outPrice: 0.6 },
  { model: 'claude-sonnet-4', provider: 'anthropic', inPrice: 3, outPrice: 15 },
  { model: 'claude-haiku-3.5', provider: 'anthropic', inPrice: 0.8, outPrice: 4 },
  { model: 'gemini-2.5-flash', provider: 'gemini', inPrice: 0.3, outPrice: 2.5 },
  { model: 'gemini-2.5-pro', provider: 'gemini', inPrice: 1.25, outPrice: 10 },
  { model: 'deepseek-chat', provider: 'deepseek', inPrice: 0.27, outPrice: 1.1 },
  { model: 'llama-3.3-70b', provider: 'groq', inPrice: 0.59, outPrice: 0.79 },
];
const TIERS = ['small', 'medium', 'large'];
const STATUSES = [200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 429, 500, 499];

/** `count` records spread evenly over the range, i-th record at a deterministic position. */
export function* syntheticRecords(count: number, options: SyntheticOptions, startIndex = 0): Generator<UsageRecord> {
  const rand = mulberry32((options.seed ?? 7) + startIndex);
  const total = options.total ?? startIndex + count;
  const keys = options.keys ?? 160;
  for (let i = startIndex; i < startIndex + count; i++) {
    // Traffic as it looks in practice: a key belongs to one team and user, mostly uses its two
    // preferred models, and either always routes with model "auto" or never does.
    const key = Math.floor(rand() * keys);
    const team = key % 8;
    const user = team * 10 + (key % 5);
    const m = MODELS[rand() < 0.9 ? (key + Math.floor(rand() * 2)) % MODELS.length : Math.floor(rand() * MODELS.length)];
    const status = STATUSES[Math.floor(rand() * STATUSES.length)];
    const auto = key % 5 < 2;
    const prompt = 50 + Math.floor(rand() * 2000);
    const completion = status === 200 ? 10 + Math.floor(rand() * 800) : 0;
    const cost = (prompt * m.inPrice + completion * m.outPrice) / 1e6;
    const latency = 80 + rand() * rand() * 6000;
    const stream = rand() < 0.5;
    yield {
      requestId: `req_${i.toString(36).padStart(10, '0')}`,
      ts: options.from + Math.floor((i / total) * options.spanMs),
      dialect: rand() < 0.8 ? 'openai' : 'anthropic',
      operation: 'chat',
      requestedModel: auto ? 'auto' : m.model,
      orgId: 'org_default',
      teamId: `team_${team}`,
      userId: `user_${user}`,
      keyId: `key_${key}`,
      modelGroup: m.model,
      strategy: auto ? 'cost' : 'balanced',
      autoTier: auto ? TIERS[Math.floor(rand() * TIERS.length)] : undefined,
      complexity: auto ? rand() : undefined,
      candidates: `${m.model}/${m.provider}/${m.model}:0.912;${m.model}/backup/${m.model}!circuit_open`,
      routeReason: 'strategy:balanced;balancer:weighted',
      deployment: `${m.model}/${m.provider}/${m.model}`,
      provider: m.provider,
      providerModel: m.model,
      status,
      errorClass: status === 200 ? undefined : status === 429 ? 'rate_limit' : status === 499 ? 'client_abandoned' : 'upstream',
      stream,
      promptTokens: prompt,
      completionTokens: completion,
      cachedTokens: rand() < 0.2 ? Math.floor(prompt / 2) : 0,
      costUsd: cost,
      baselineCostUsd: (prompt * 3 + completion * 15) / 1e6,
      usageEstimated: false,
      latencyMs: latency,
      ttftMs: stream ? latency * 0.2 : undefined,
      attempts: status === 200 ? 1 : 2,
      fallbackReason: status === 200 ? undefined : 'rate_limit',
      clientAbandoned: status === 499,
    };
  }
}
