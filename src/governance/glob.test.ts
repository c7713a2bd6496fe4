import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compileGlobs } from './glob.ts';

describe('compileGlobs', () => {
  it.each([
    ['gpt-4o', 'gpt-4o', true],
    ['gpt-4o', 'gpt-4o-mini', false],
    ['gpt-4o*', 'gpt-4o-mini', true],
    ['gpt-4o*', 'gpt-4o', true],
    ['*-mini', 'gpt-4o-mini', true],
    ['*-mini', 'openai/gpt-4o-mini', true],
    ['*-mini', 'gpt-4o-mini-2024', false],
    ['anthropic/*', 'anthropic/claude-sonnet-4', true],
    ['anthropic/*', 'claude-sonnet-4', false],
    ['anthropic/*', 'bedrock/anthropic/claude', false],
    ['*/claude-*', 'bedrock/claude-3', true],
    ['gpt-?o', 'gpt-4o', true],
    ['gpt-?o', 'gpt-44o', false],
    ['gpt-?o', 'gpt-o', false],
    ['*', '', true],
    ['*', 'anything/at all', true],
    ['a*b*c', 'abc', true],
    ['a*b*c', 'aXbYc', true],
    ['a*b*c', 'aXcYb', false],
    ['a*bc*bc', 'abcbc', true],
    ['a*bc*bc', 'abc', false],
    ['**x', 'x', true],
    ['GPT-4*', 'gpt-4o', true],
    ['gpt-4o', 'GPT-4O', true],
    ['gpt.4o', 'gpt-4o', false],
    ['gpt-[4]o', 'gpt-4o', false],
    ['gpt-[4]o', 'gpt-[4]o', true],
  ])('%s vs %s → %s', (pattern, name, expected) => {
    expect(compileGlobs([pattern]).matches(name)).toBe(expected);
  });

  it('matches any pattern of the list; an empty list matches nothing', () => {
    const m = compileGlobs(['claude-*', 'gpt-4o']);
    expect(m.matches('claude-haiku')).toBe(true);
    expect(m.matches('gpt-4o')).toBe(true);
    expect(m.matches('gemini-pro')).toBe(false);
    expect(m.matchesAny(['x', 'gpt-4o'])).toBe(true);
    const none = compileGlobs([]);
    expect(none.empty).toBe(true);
    expect(none.matches('')).toBe(false);
  });

  it('agrees with a regular-expression reference on random patterns and names', () => {
    const alphabet = fc.constantFrom('a', 'b', '/', '-', '*', '?');
    const nameChars = fc.constantFrom('a', 'b', '/', '-');
    fc.assert(
      fc.property(fc.string({ unit: alphabet, maxLength: 8 }), fc.string({ unit: nameChars, maxLength: 12 }), (pattern, name) => {
        const source = pattern.replace(/[-/]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
        const reference = new RegExp(`^${source}$`, 's').test(name);
        expect(compileGlobs([pattern]).matches(name)).toBe(reference);
      }),
      { numRuns: 2000 },
    );
  });

  it('stays fast on hostile names (no backtracking blow-up)', () => {
    const m = compileGlobs(['*a*a*a*a*a*a*b']);
    const name = 'a'.repeat(100_000);
    const started = performance.now();
    expect(m.matches(name)).toBe(false);
    expect(performance.now() - started).toBeLessThan(200);
  });
});
