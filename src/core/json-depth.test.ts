import { describe, expect, it } from 'vitest';
import { jsonDepthExceeds } from './json-depth.ts';

const bytes = (s: string) => Buffer.from(s);

describe('jsonDepthExceeds', () => {
  it('counts nested arrays and objects', () => {
    expect(jsonDepthExceeds(bytes('{"a":[{"b":[1]}]}'), 4)).toBe(false);
    expect(jsonDepthExceeds(bytes('{"a":[{"b":[1]}]}'), 3)).toBe(true);
    expect(jsonDepthExceeds(bytes('['.repeat(200) + ']'.repeat(200)), 128)).toBe(true);
  });

  it('ignores brackets inside strings, escaped quotes included', () => {
    expect(jsonDepthExceeds(bytes(`{"a":"${'[{'.repeat(500)}"}`), 2)).toBe(false);
    expect(jsonDepthExceeds(bytes(`{"a":"\\"[[[[","b":1}`), 1)).toBe(false);
    expect(jsonDepthExceeds(bytes(`{"a":"\\\\","b":[[1]]}`), 2)).toBe(true);
  });

  it('sibling containers do not add up', () => {
    expect(jsonDepthExceeds(bytes('[' + '[1],'.repeat(1000) + '[1]]'), 2)).toBe(false);
  });
});
