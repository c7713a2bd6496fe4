// Reads the configuration file: YAML → `${VAR}` interpolation → schema validation, with every problem
// reported by field path and source line.
import { readFileSync } from 'node:fs';
import { LineCounter, parseDocument, type Document } from 'yaml';
import { z } from 'zod';
import { DEFAULT_CONFIG_SOURCE } from './defaults.ts';
import { providersFromEnv } from './env-providers.ts';
import { ConfigError, formatPath } from './errors.ts';
import { interpolateValue, type Env, type InterpolationResult } from './interpolate.ts';
import { describeIssues, valueAt } from './issues.ts';
import { decryptTree } from '../secrets/config.ts';
import { createConfigSchema, type SwitchyardConfig } from './schema.ts';
import { lineLocator, type LineOf } from './yaml-lines.ts';

export { ConfigError, type ConfigIssue } from './errors.ts';

export interface ParseOptions {
  /** Variables for interpolation and provider auto-detection; defaults to `process.env`. */
  env?: Env;
  /** Name used in error messages; defaults to `switchyard.yaml`. */
  sourceName?: string;
}

type ConfigSchema = ReturnType<typeof createConfigSchema>;
type Issue = z.core.$ZodIssue;

/** Loads and validates a configuration file. Throws ConfigError (also when the file cannot be read). */
export function loadConfig(path: string, env: Env = process.env): SwitchyardConfig {
  return parseConfig(readSource(path), { env, sourceName: path });
}

/**
 * Parses and validates configuration text. Deployments may reference providers the environment
 * auto-enables; they are not added to the result — `mergeEnvProviders` does that.
 */
export function parseConfig(text: string, opts: ParseOptions = {}): SwitchyardConfig {
  const env = opts.env ?? process.env;
  const source = opts.sourceName ?? DEFAULT_CONFIG_SOURCE;
  const { data, lineOf } = readYaml(text, source);
  const interpolation = interpolateValue(data ?? {}, env);
  if (interpolation.issues.length > 0) {
    const issues = interpolation.issues.map((i) => ({ path: formatPath(i.path), line: lineOf(i.path), message: i.message }));
    throw new ConfigError(source, issues);
  }
  // `enc:v1:…` values (AES-256-GCM, SWITCHYARD_SECRET_KEY) are opened here, after interpolation.
  const decryption = decryptTree(interpolation.value, env);
  if (decryption.length > 0) {
    throw new ConfigError(source, decryption.map((i) => ({ path: formatPath(i.path), line: lineOf(i.path), message: i.message })));
  }
  const schema = createConfigSchema({ implicitProviders: providersFromEnv(env) });
  const result = validate(schema, interpolation);
  if (result.success) return result.data;
  throw new ConfigError(source, describeIssues(result.error.issues, { schema, lineOf, interpolation, data: result.input }));
}

/** Parses the YAML into plain data; `null` for an empty document. */
function readYaml(text: string, source: string): { data: unknown; lineOf: LineOf } {
  const counter = new LineCounter();
  const doc = parseDocument(text, { lineCounter: counter, merge: true, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const issues = doc.errors.map((err) => ({
      path: '',
      line: counter.linePos(err.pos[0]).line,
      message: `YAML syntax error: ${err.message}`,
    }));
    throw new ConfigError(source, issues);
  }
  return { data: toPlainData(doc, source), lineOf: lineLocator(doc, counter) };
}

function readSource(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new ConfigError(path, [{ path: '', message: `cannot read configuration file: ${reason}` }]);
  }
}

function toPlainData(doc: Document, source: string): unknown {
  try {
    return doc.toJS({ maxAliasCount: 1000 });
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new ConfigError(source, [{ path: '', message: `YAML error: ${reason}` }]);
  }
}

type Validation = { success: true; data: SwitchyardConfig } | { success: false; error: z.ZodError; input: unknown };

/**
 * Interpolated values are strings, so `port: ${PORT}` is a string "4000". Where the schema wants a
 * number or boolean and the string is one, it is converted and validation re-run: typing follows the
 * schema, never the look of a value (a numeric-looking api_key stays a string).
 */
function validate(schema: ConfigSchema, interpolation: InterpolationResult): Validation {
  const first = schema.safeParse(interpolation.value);
  if (first.success) return first;
  const coerced = coerceInterpolated(interpolation, first.error.issues);
  if (coerced === undefined) return { success: false, error: first.error, input: interpolation.value };
  const second = schema.safeParse(coerced);
  return second.success ? second : { success: false, error: second.error, input: coerced };
}

function coerceInterpolated(interpolation: InterpolationResult, issues: readonly Issue[]): unknown {
  const interpolated = new Set(interpolation.interpolated.map(formatPath));
  const fixes = issues.flatMap((issue) => {
    if (issue.code !== 'invalid_type' || !interpolated.has(formatPath(issue.path))) return [];
    const value = coerceScalar(valueAt(interpolation.value, issue.path), issue.expected);
    return value === undefined ? [] : [{ path: issue.path, value }];
  });
  if (fixes.length === 0) return undefined;
  const copy = structuredClone(interpolation.value);
  for (const fix of fixes) setValueAt(copy, fix.path, fix.value);
  return copy;
}

const NUMBER_TEXT = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

function coerceScalar(value: unknown, expected: string): number | boolean | undefined {
  if (typeof value !== 'string') return undefined;
  const text = value.trim();
  if (expected === 'number' && NUMBER_TEXT.test(text)) return Number(text);
  if (expected === 'boolean' && (text === 'true' || text === 'false')) return text === 'true';
  return undefined;
}

function setValueAt(root: unknown, path: readonly PropertyKey[], value: unknown): void {
  const parent = valueAt(root, path.slice(0, -1));
  if (typeof parent === 'object' && parent !== null) (parent as Record<PropertyKey, unknown>)[path[path.length - 1]] = value;
}
