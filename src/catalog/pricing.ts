// Cost of a request in USD from a model's per-million-token prices and the usage the provider reported.
import type { Usage } from '../core/canonical.ts';

/** USD per 1M tokens. A null/absent cache price means "not priced separately": billed at the input price. */
export interface ModelPrice {
  inputPerMtok: number;
  outputPerMtok: number;
  cachedInputPerMtok?: number | null;
  cacheWritePerMtok?: number | null;
}

const PER_MTOK = 1e-6;
const ROUND = 1e10;

/** Rounds to 1e-10 USD so sums of per-token products compare and print cleanly. */
function roundUsd(usd: number): number {
  return Math.round(usd * ROUND) / ROUND;
}

/**
 * Cost of one request. `prompt_tokens` includes cache reads (`cached_tokens`) and cache writes
 * (`cache_creation_tokens`); each part is billed at its own price and the remainder at the input price.
 * Reasoning tokens are part of `completion_tokens`, so they need no separate term.
 */
export function computeCost(price: ModelPrice, usage: Usage): number {
  const details = usage.prompt_tokens_details;
  const cached = details?.cached_tokens ?? 0;
  const written = details?.cache_creation_tokens ?? 0;
  const written1h = Math.min(details?.cache_creation_1h_tokens ?? 0, written);
  // Providers occasionally report cache counts that exceed the prompt total; never bill negative tokens.
  const uncached = Math.max(0, usage.prompt_tokens - cached - written);
  const input = price.inputPerMtok;
  const usd =
    uncached * input +
    cached * (price.cachedInputPerMtok ?? input) +
    (written - written1h) * (price.cacheWritePerMtok ?? input) +
    written1h * cacheWrite1hPrice(price) +
    usage.completion_tokens * price.outputPerMtok;
  return roundUsd(usd * PER_MTOK);
}

/**
 * 1-hour cache writes: Anthropic (and Bedrock) bill them at twice the input price, where 5-minute
 * writes cost the catalog's `cache_write` (1.25x). A model without a separate write price bills
 * every write at the input price.
 */
export function cacheWrite1hPrice(price: ModelPrice): number {
  return price.cacheWritePerMtok == null ? price.inputPerMtok : 2 * price.inputPerMtok;
}

/**
 * Pre-flight estimate: every prompt token at the input price plus a full `maxOutputTokens` of output.
 * Cache reads can only lower the real cost; cache writes (priced above input, e.g. 1.25x for Anthropic)
 * are not assumed, because whether a request writes the cache is unknown before it runs.
 */
export function maxCost(price: ModelPrice, promptTokens: number, maxOutputTokens: number): number {
  return roundUsd((promptTokens * price.inputPerMtok + maxOutputTokens * price.outputPerMtok) * PER_MTOK);
}
