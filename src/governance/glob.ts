// Glob lists over model and provider names, compiled once (when a policy is loaded) and matched on the
// hot path without regular expressions: exact names by set lookup, wildcard patterns by a linear
// segment scan, so a hostile 100 KB model name costs microseconds, never catastrophic backtracking.

/** A compiled list of glob patterns; a name matches the list when it matches any pattern. */
export interface GlobMatcher {
  /** The patterns as written. */
  readonly patterns: readonly string[];
  /** True when the list has no patterns (it matches nothing). */
  readonly empty: boolean;
  matches(name: string): boolean;
  matchesAny(names: readonly string[]): boolean;
  /** `matches` for a name already lower-cased (callers testing one name against many lists). */
  matchesFolded(folded: string): boolean;
}

/**
 * One wildcard pattern, split at `*` into segments that must appear in order: the first anchored at
 * the start, the last at the end. `?` inside a segment matches any one character.
 */
interface WildPattern {
  readonly head: string;
  readonly middle: readonly string[];
  readonly tail: string;
  /** Characters the name needs at least (head + middle + tail). */
  readonly minLength: number;
  /** No `*` at all: the pattern must match the whole name character by character. */
  readonly anchoredOnly: boolean;
}

const ANY_ONE = '?';

/**
 * Compiles glob patterns: `*` matches any run of characters (including `/`, so `*-mini` also
 * matches `openai/gpt-4o-mini`), `?` matches one character, everything else is literal. Matching
 * ignores case, so a deny of `GPT-4*` cannot be sidestepped by spelling.
 */
export function compileGlobs(patterns: readonly string[]): GlobMatcher {
  const exact = new Set<string>();
  const wild: WildPattern[] = [];
  for (const raw of patterns) {
    const pattern = raw.toLowerCase();
    if (!pattern.includes('*') && !pattern.includes(ANY_ONE)) exact.add(pattern);
    else wild.push(compileOne(pattern));
  }
  const matchesFolded = (folded: string): boolean => {
    if (exact.has(folded)) return true;
    for (const p of wild) if (matchWild(p, folded)) return true;
    return false;
  };
  const matches = (name: string): boolean => matchesFolded(name.toLowerCase());
  return {
    patterns: [...patterns],
    empty: patterns.length === 0,
    matches,
    matchesAny: (names) => names.some(matches),
    matchesFolded,
  };
}

/** True when the pattern names a deployment as `<provider>/<model>` rather than a model alone. */
export function isQualifiedPattern(pattern: string): boolean {
  return pattern.includes('/');
}

function compileOne(pattern: string): WildPattern {
  const parts = pattern.split('*');
  if (parts.length === 1) return { head: pattern, middle: [], tail: '', minLength: pattern.length, anchoredOnly: true };
  const head = parts[0];
  const tail = parts[parts.length - 1];
  // Consecutive stars leave empty segments; they constrain nothing.
  const middle = parts.slice(1, -1).filter((s) => s.length > 0);
  const minLength = head.length + tail.length + middle.reduce((n, s) => n + s.length, 0);
  return { head, middle, tail, minLength, anchoredOnly: false };
}

function matchWild(p: WildPattern, name: string): boolean {
  if (p.anchoredOnly) return name.length === p.head.length && segmentAt(p.head, name, 0);
  if (name.length < p.minLength) return false;
  if (!segmentAt(p.head, name, 0)) return false;
  const tailStart = name.length - p.tail.length;
  if (!segmentAt(p.tail, name, tailStart)) return false;
  // Leftmost placement of each middle segment is optimal: it leaves the most room for the rest.
  let from = p.head.length;
  for (const segment of p.middle) {
    const at = findSegment(segment, name, from, tailStart);
    if (at < 0) return false;
    from = at + segment.length;
  }
  return true;
}

function segmentAt(segment: string, name: string, at: number): boolean {
  for (let i = 0; i < segment.length; i++) {
    const c = segment.charCodeAt(i);
    if (c !== 63 /* ? */ && c !== name.charCodeAt(at + i)) return false;
  }
  return true;
}

/** First index ≥ from where the segment fits entirely before `end`, or -1. */
function findSegment(segment: string, name: string, from: number, end: number): number {
  for (let at = from; at + segment.length <= end; at++) if (segmentAt(segment, name, at)) return at;
  return -1;
}
