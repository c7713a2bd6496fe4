import { describe, expect, it } from 'vitest';
import { assignTiers, requiredTier } from './auto.ts';
import { percentileOf } from './complexity/scorer.ts';
import { deployment, group } from './testing.ts';

describe('auto tiers', () => {
  it('maps a prompt percentile to a required tier with the cost–quality knob', () => {
    expect(requiredTier(0.95, 0.3)).toBe('premium');
    expect(requiredTier(0.5, 0.3)).toBe('standard');
    expect(requiredTier(0.2, 0.3)).toBe('economy');
    expect(requiredTier(0.99, 0)).toBe('economy');
    expect(requiredTier(0.1, 0.6)).toBe('standard');
    expect(requiredTier(0.5, 1)).toBe('premium');
  });

  it('splits the pool into quality tertiles', () => {
    const g = (name: string, quality: number) => ({ group: group(name, [deployment({ id: name, quality })]), quality });
    const tiers = assignTiers([g('a', 0.8), g('b', 0.5), g('c', 0.6), g('d', 0.7), g('e', 0.55), g('f', 0.9)]);
    expect(tiers.map((t) => `${t.group.name}:${t.tier}`)).toEqual(['b:economy', 'e:economy', 'c:standard', 'd:standard', 'a:premium', 'f:premium']);
    expect(assignTiers([g('x', 0.3), g('y', 0.9)]).map((t) => t.tier)).toEqual(['economy', 'premium']);
  });

  it('reads percentiles off the calibration quantiles', () => {
    const q = [0, 0.2, 0.4, 0.6, 0.8];
    expect(percentileOf(-1, q)).toBe(0);
    expect(percentileOf(0.3, q)).toBeCloseTo(0.375, 10);
    expect(percentileOf(0.8, q)).toBe(1);
    expect(percentileOf(0.42, undefined)).toBe(0.42);
  });
});

describe('bundled calibration', () => {
  it('was computed for the bundled model (rerun scripts/calibrate-classifier.ts after retraining)', async () => {
    const { createHash } = await import('node:crypto');
    const { readFileSync } = await import('node:fs');
    const model = readFileSync(new URL('./complexity/model.json', import.meta.url));
    const calibration = JSON.parse(readFileSync(new URL('./complexity/calibration.json', import.meta.url), 'utf8')) as { provenance: { model_sha256: string }; quantiles: number[] };
    expect(calibration.provenance.model_sha256).toBe(createHash('sha256').update(model).digest('hex'));
    expect(calibration.quantiles).toHaveLength(101);
    expect([...calibration.quantiles].sort((a, b) => a - b)).toEqual(calibration.quantiles);
  });
});
