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

  it('answers the same for plain Uint8Arrays and for bodies with few brackets (the quick count)', () => {
    const deep = new TextEncoder().encode('{"a":[{"b":[1]}]}');
    expect(jsonDepthExceeds(deep, 3)).toBe(true);
    expect(jsonDepthExceeds(deep, 4)).toBe(false);
    expect(jsonDepthExceeds(deep.subarray(5), 2)).toBe(true);
    expect(jsonDepthExceeds(bytes('{"messages":[{"role":"user","content":"hi"}]}'), 3)).toBe(false);
    expect(jsonDepthExceeds(bytes('['.repeat(3)), 2)).toBe(true);
  });
});
