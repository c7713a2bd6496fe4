import { describe, expect, it } from 'vitest';
import { BoundedSet } from './bounded-set.ts';

describe('BoundedSet', () => {
  it('forgets the oldest entries beyond its capacity', () => {
    const set = new BoundedSet(3);
    for (const v of ['a', 'b', 'c', 'd']) set.add(v);
    expect(['a', 'b', 'c', 'd'].map((v) => set.has(v))).toEqual([false, true, true, true]);
    expect(set.size).toBe(3);
  });

  it('ignores re-adds and supports deletion', () => {
    const set = new BoundedSet(2);
    set.add('a');
    set.add('a');
    expect(set.size).toBe(1);
    set.delete('a');
    expect(set.has('a')).toBe(false);
  });

  it('does not let an old slot evict a value that was deleted and added again', () => {
    const set = new BoundedSet(2);
    set.add('a'); // slot 0
    set.delete('a');
    set.add('a'); // slot 1
    set.add('b'); // slot 0: its old 'a' no longer speaks for the live one
    expect([set.has('a'), set.has('b')]).toEqual([true, true]);
    set.add('c'); // slot 1: now 'a' goes
    expect([set.has('a'), set.has('b'), set.has('c')]).toEqual([false, true, true]);
  });

  it('rejects a useless capacity', () => {
    expect(() => new BoundedSet(0)).toThrow(RangeError);
  });
});
