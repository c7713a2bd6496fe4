import { describe, expect, it } from 'vitest';
import type { Usage } from '../core/canonical.ts';
import { computeCost, maxCost, type ModelPrice } from './pricing.ts';

// Claude Sonnet 4.5 list prices: $3 in, $15 out, $0.30 cache read, $3.75 cache write (per 1M tokens).
const sonnet: ModelPrice = { inputPerMtok: 3, outputPerMtok: 15, cachedInputPerMtok: 0.3, cacheWritePerMtok: 3.75 };
const gpt4oMini: ModelPrice = { inputPerMtok: 0.15, outputPerMtok: 0.6 };

function usage(prompt: number, completion: number, details?: Usage['prompt_tokens_details']): Usage {
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion, prompt_tokens_details: details };
}

describe('computeCost', () => {
  it('bills plain prompt and completion tokens', () => {
    // 1000 * 0.15 + 500 * 0.60 = 150 + 300 = 450 micro-USD
    expect(computeCost(gpt4oMini, usage(1000, 500))).toBe(0.00045);
  });

  it('splits prompt tokens into uncached, cache-read and cache-write parts', () => {
    // prompt 10,000 = 6,000 cached + 2,000 written + 2,000 plain; 1,000 completion.
    // 2000*3 + 6000*0.3 + 2000*3.75 + 1000*15 = 6000 + 1800 + 7500 + 15000 = 30,300 micro-USD
    const u = usage(10_000, 1_000, { cached_tokens: 6_000, cache_creation_tokens: 2_000 });
    expect(computeCost(sonnet, u)).toBe(0.0303);
  });

  it('bills 1-hour cache writes at twice the input price, the rest of the writes at the 5-minute price', () => {
    // prompt 5,000 = 1,000 plain + 4,000 written (3,000 with the 1-hour TTL); 0 completion.
    // 1000*3 + 1000*3.75 + 3000*6 = 3000 + 3750 + 18000 = 24,750 micro-USD
    const u = usage(5_000, 0, { cached_tokens: 0, cache_creation_tokens: 4_000, cache_creation_1h_tokens: 3_000 });
    expect(computeCost(sonnet, u)).toBe(0.02475);
    // Without a separate write price every write is billed at the input price.
    expect(computeCost(gpt4oMini, u)).toBe(0.00075);
  });

  it('falls back to the input price when cache prices are unknown', () => {
    // all 1,000 prompt tokens at 0.15 whatever their cache status, 0 completion
    const u = usage(1_000, 0, { cached_tokens: 400, cache_creation_tokens: 100 });
    expect(computeCost(gpt4oMini, u)).toBe(0.00015);
    expect(computeCost({ ...gpt4oMini, cachedInputPerMtok: null, cacheWritePerMtok: null }, u)).toBe(0.00015);
  });

  it('uses the cached price when only cache reads are reported', () => {
    // 1,000 plain at 0.15 + 3,000 cached at 0.075 = 150 + 225 = 375 micro-USD
    const price: ModelPrice = { inputPerMtok: 0.15, outputPerMtok: 0.6, cachedInputPerMtok: 0.075 };
    expect(computeCost(price, usage(4_000, 0, { cached_tokens: 3_000 }))).toBe(0.000375);
  });

  it('never bills negative uncached tokens when cache counts exceed the prompt', () => {
    // 100 cached at 0.3 + 50 written at 3.75 = 30 + 187.5 = 217.5 micro-USD
    const u = usage(120, 0, { cached_tokens: 100, cache_creation_tokens: 50 });
    expect(computeCost(sonnet, u)).toBe(0.0002175);
  });

  it('rounds away float noise', () => {
    // 0.1 + 0.2 style noise: 3 tokens at $0.1/M and 3 at $0.2/M = 0.9 micro-USD
    const price: ModelPrice = { inputPerMtok: 0.1, outputPerMtok: 0.2 };
    expect(computeCost(price, usage(3, 3))).toBe(0.0000009);
  });

  it('returns 0 for empty usage', () => {
    expect(computeCost(sonnet, usage(0, 0))).toBe(0);
  });
});

describe('maxCost', () => {
  it('bills all prompt tokens at the input price and the full output cap', () => {
    // 2,000 * 3 + 4,096 * 15 = 6,000 + 61,440 = 67,440 micro-USD
    expect(maxCost(sonnet, 2_000, 4_096)).toBe(0.06744);
  });
});
