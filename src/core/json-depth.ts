// A byte scan for the nesting depth of a JSON text, run before JSON.parse: everything downstream
// (validation, translation, serialisation) recurses, and a deeply nested body would overflow the stack.

/** Deepest nesting of arrays and objects accepted in a request body. */
export const MAX_JSON_DEPTH = 128;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACE = 0x7d;
const CLOSE_BRACKET = 0x5d;

/** True when `json` opens more than `limit` nested arrays/objects (brackets inside strings do not count). */
export function jsonDepthExceeds(json: Uint8Array, limit: number): boolean {
  // The depth is at most the number of opening brackets anywhere in the text: a body with no more
  // than `limit` of them (nearly all) is answered by the native byte search, without the JS scan.
  if (!moreOpenersThan(json instanceof Buffer ? json : Buffer.from(json.buffer, json.byteOffset, json.byteLength), limit)) return false;
  let depth = 0;
  let inString = false;
  for (let i = 0; i < json.length; i++) {
    const c = json[i];
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
    } else if (c === QUOTE) inString = true;
    else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      if (++depth > limit) return true;
    } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) depth--;
  }
  return false;
}

function moreOpenersThan(json: Buffer, limit: number): boolean {
  let count = 0;
  for (const opener of [OPEN_BRACE, OPEN_BRACKET]) {
    for (let at = json.indexOf(opener); at !== -1; at = json.indexOf(opener, at + 1)) {
      if (++count > limit) return true;
    }
  }
  return false;
}
