// Same-dialect requests can go upstream as the client's own bytes when preparing the body for the
// target changed nothing: no JSON.stringify of a prompt the gateway only had to read.

type Body = Record<string, unknown>;

/**
 * True when `prepared` (what the adapter would serialise: a shallow copy of the client's body with the
 * target's model, stream flags and quirks applied) holds exactly the keys and values of `original`,
 * the client's parsed body. Values are compared by identity, except `stream_options`, which prepared
 * bodies rebuild (compared one level deep). A JSON reader then sees the same request in the client's bytes.
 */
export function unchangedBody(prepared: Body, original: Body): boolean {
  let keys = 0;
  for (const key in original) {
    keys++;
    const before = original[key];
    const after = prepared[key];
    if (before === after) continue;
    if (key === 'stream_options' && shallowEqual(before, after)) continue;
    return false;
  }
  for (const key in prepared) {
    if (prepared[key] !== undefined) keys--;
  }
  return keys === 0;
}

function shallowEqual(a: unknown, b: unknown): boolean {
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null || Array.isArray(a) || Array.isArray(b)) return false;
  const x = a as Body;
  const y = b as Body;
  let keys = 0;
  for (const key in x) {
    keys++;
    if (x[key] !== y[key]) return false;
  }
  for (const key in y) if (y[key] !== undefined) keys--;
  return keys === 0;
}
