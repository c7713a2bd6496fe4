import { describe, expect, it } from 'vitest';
import type { ModelGroup } from '../routing/registry.ts';
import { baselineCost } from './baseline.ts';

const group = (name: string, prices: Array<[number, number] | undefined>): ModelGroup =>
  ({
    name,
    deployments: prices.map((p) => ({ price: p ? { inputPerMtok: p[0], outputPerMtok: p[1] } : undefined })),
  }) as unknown as ModelGroup;

const usage = { prompt_tokens: 1_000_000, completion_tokens: 1_000_000, total_tokens: 2_000_000 };

describe('savings baseline', () => {
  it('defaults to the most expensive priced deployment among the candidates', () => {
    const cheap = group('mini', [[0.15, 0.6]]);
    const dear = group('big', [[2.5, 10], undefined, [3, 15]]);
    expect(baselineCost(usage, 0.75, [cheap, dear])).toBe(18);
  });

  it('uses the configured baseline model, even when it is cheaper than the model served', () => {
    const served = group('big', [[3, 15]]);
    expect(baselineCost(usage, 18, [served], group('mini', [[0.15, 0.6]]))).toBeCloseTo(0.75, 10);
  });

  it('falls back to the actual cost when nothing is priced', () => {
    expect(baselineCost(usage, 0.5, [group('x', [undefined])], group('y', [undefined]))).toBe(0.5);
  });
});
