import { describe, expect, it } from 'vitest';
import { formatCost } from './completions.ts';

describe('formatCost', () => {
  it('prints up to 10 decimals without trailing zeros', () => {
    expect(formatCost(0)).toBe('0');
    expect(formatCost(0.0000615)).toBe('0.0000615');
    expect(formatCost(12)).toBe('12');
    expect(formatCost(100)).toBe('100');
    expect(formatCost(1.5)).toBe('1.5');
    expect(formatCost(1e-12)).toBe('0');
    expect(formatCost(0.12345678912)).toBe('0.1234567891');
  });

  it('matches toFixed(10) with the trailing zeros and dot removed', () => {
    for (let i = 0; i < 10_000; i++) {
      const cost = Math.random() ** 4 * 10 ** Math.floor(Math.random() * 8 - 4);
      expect(formatCost(cost)).toBe(cost === 0 ? '0' : cost.toFixed(10).replace(/\.?0+$/, ''));
    }
  });
});
