// `${VAR}` interpolation over the parsed YAML tree. Substituting into the raw text instead would let a
// secret containing quotes, colons or newlines change the document's structure.
//
// Rules:
// - `${VAR}` is replaced by the variable's value; `${VAR:-text}` falls back to `text`.
// - A variable set to the empty string counts as unset (like an unset key in a shell `.env`).
// - `$${` is a literal `${`; any other `$` is kept as is.
// - A string that references an unset variable without a default is itself unset: the key is
//   omitted from its mapping (so an optional field such as `master_key` is simply absent), or the
//   item becomes `undefined` in a sequence (so validation reports it). The loader names the
//   variable when validation then fails on that field.
// - Only string values are interpolated, never mapping keys.

export type Env = Readonly<Record<string, string | undefined>>;

export type PathSegment = string | number;

/** A field left unset because of the variables it referenced. */
export interface UnsetField {
  path: PathSegment[];
  variables: string[];
}

export interface InterpolationIssue {
  path: PathSegment[];
  message: string;
}

export interface InterpolationResult {
  value: unknown;
  unset: UnsetField[];
  /** Paths of strings that contained at least one variable reference. */
  interpolated: PathSegment[][];
  issues: InterpolationIssue[];
}

export type StringInterpolation =
  | { ok: true; value: string | undefined; unset: string[]; substituted: boolean }
  | { ok: false; message: string };

/** Reads a variable, treating the empty string as unset. */
export function readEnv(env: Env, name: string): string | undefined {
  const value = env[name];
  return value === undefined || value === '' ? undefined : value;
}

// An escape, a complete reference, or a dangling `${` (the second alternative failed to close).
const TOKEN = /\$\$\{|\$\{([^}]*)\}|\$\{/g;
const REFERENCE = /^([A-Za-z_][A-Za-z0-9_]*)(?::-([\s\S]*))?$/;

export function interpolateString(text: string, env: Env): StringInterpolation {
  if (!text.includes('${')) return { ok: true, value: text, unset: [], substituted: false };
  const unset: string[] = [];
  let error: string | undefined;
  let substituted = false;
  const value = text.replace(TOKEN, (match: string, body: string | undefined) => {
    if (match === '$${') return '${';
    const reference = body === undefined ? null : REFERENCE.exec(body);
    if (reference === null) {
      error ??= body === undefined ? 'unterminated "${"' : `invalid variable reference "${match}"`;
      return match;
    }
    substituted = true;
    const [, name, fallback] = reference;
    const resolved = readEnv(env, name) ?? fallback;
    if (resolved === undefined) unset.push(name);
    return resolved ?? '';
  });
  if (error !== undefined) return { ok: false, message: `${error} (write "$\${" for a literal "\${")` };
  return { ok: true, value: unset.length > 0 ? undefined : value, unset, substituted };
}

/** Interpolates every string in a plain JSON-like tree; the input is not modified. */
export function interpolateValue(value: unknown, env: Env): InterpolationResult {
  const result: InterpolationResult = { value: undefined, unset: [], interpolated: [], issues: [] };
  result.value = walk(value, [], env, result);
  return result;
}

function walk(value: unknown, path: PathSegment[], env: Env, acc: InterpolationResult): unknown {
  if (typeof value === 'string') return interpolateLeaf(value, path, env, acc);
  if (Array.isArray(value)) return value.map((item, i) => walk(item, [...path, i], env, acc));
  if (isPlainObject(value)) return walkObject(value, path, env, acc);
  return value;
}

function walkObject(value: Record<string, unknown>, path: PathSegment[], env: Env, acc: InterpolationResult) {
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    const resolved = walk(item, [...path, key], env, acc);
    if (resolved !== undefined || item === undefined) out[key] = resolved;
  }
  return out;
}

function interpolateLeaf(text: string, path: PathSegment[], env: Env, acc: InterpolationResult): string | undefined {
  const result = interpolateString(text, env);
  if (!result.ok) {
    acc.issues.push({ path, message: result.message });
    return text;
  }
  if (result.substituted) acc.interpolated.push(path);
  if (result.unset.length > 0) acc.unset.push({ path, variables: result.unset });
  return result.value;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
