import v8 from 'node:v8';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { applyHeapGrowth } from './heap-growth.ts';

describe('applyHeapGrowth', () => {
  afterEach(() => vi.restoreAllMocks());

  it('sets the V8 flag once per value, and 0 hands the choice back to V8', () => {
    const set = vi.spyOn(v8, 'setFlagsFromString').mockImplementation(() => undefined);
    expect(applyHeapGrowth(25)).toBe('--heap-growing-percent=25');
    expect(applyHeapGrowth(25)).toBeUndefined();
    expect(applyHeapGrowth(0)).toBe('--heap-growing-percent=0');
    expect(set.mock.calls).toEqual([['--heap-growing-percent=25'], ['--heap-growing-percent=0']]);
  });

  it('refuses what is not a whole, non-negative percentage', () => {
    expect(() => applyHeapGrowth(-1)).toThrow(RangeError);
    expect(() => applyHeapGrowth(2.5)).toThrow(RangeError);
  });
});
