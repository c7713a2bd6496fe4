// Turns schema issues into ConfigIssues: the user's path, the source line, and wording that says what
// to change (with "did you mean" for typos).
import { z } from 'zod';
import { formatPath, type ConfigIssue } from './errors.ts';
import type { InterpolationResult } from './interpolate.ts';
import { closestMatch } from './suggest.ts';
import type { LineOf } from './yaml-lines.ts';

type Issue = z.core.$ZodIssue;

export interface IssueContext {
  /** The schema that produced the issues, consulted for the fields an object accepts. */
  schema: z.ZodType;
  lineOf: LineOf;
  interpolation: InterpolationResult;
  /** The data that was validated. */
  data: unknown;
}

export function describeIssues(issues: readonly Issue[], ctx: IssueContext): ConfigIssue[] {
  const unset = new Map(ctx.interpolation.unset.map((u) => [formatPath(u.path), u.variables]));
  return issues.flatMap((issue): ConfigIssue[] => {
    if (issue.code === 'unrecognized_keys') return issue.keys.map((key) => unknownKey([...issue.path, key], ctx));
    const path = formatPath(issue.path);
    const message = withUnsetHint(messageFor(issue, ctx.data), unset.get(path));
    return [{ path, line: ctx.lineOf(issue.path), message }];
  });
}

function messageFor(issue: Issue, data: unknown): string {
  if (issue.code === 'invalid_type') {
    const given = valueAt(data, issue.path);
    return given === undefined ? 'required' : `expected ${describeExpected(issue.expected)}, got ${describeValue(given)}`;
  }
  if (issue.code === 'invalid_value') return expectedOneOf(issue.values.map(String), valueAt(data, issue.path));
  return issue.message;
}

const EXPECTED_WORDING: Record<string, string> = {
  object: 'a mapping',
  array: 'a list',
  string: 'a string',
  number: 'a number',
  int: 'an integer',
  boolean: 'true or false',
};

function describeExpected(expected: string): string {
  return EXPECTED_WORDING[expected] ?? expected;
}

// Names the kind of value only: the value itself may be a secret.
function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'number' && !Number.isInteger(value)) return 'a fractional number';
  return `a ${typeof value}`;
}

function expectedOneOf(options: string[], given: unknown): string {
  const suggestion = typeof given === 'string' ? closestMatch(given, options) : undefined;
  const expected = `expected one of ${options.join(', ')}`;
  return suggestion === undefined ? expected : `${expected} (did you mean "${suggestion}"?)`;
}

function unknownKey(path: PropertyKey[], ctx: IssueContext): ConfigIssue {
  const known = knownKeysAt(ctx.schema, path.slice(0, -1));
  const suggestion = closestMatch(String(path[path.length - 1]), known);
  const hint = suggestion === undefined ? `expected one of: ${known.join(', ')}` : `did you mean "${suggestion}"?`;
  return { path: formatPath(path), line: ctx.lineOf(path), message: `unknown field (${hint})` };
}

function withUnsetHint(message: string, variables: string[] | undefined): string {
  if (variables === undefined) return message;
  const subject = variables.length === 1 ? `environment variable ${variables[0]} is` : `environment variables ${variables.join(', ')} are`;
  return `${message} (${subject} not set)`;
}

/** Field names the schema accepts for the object at `path`, for "did you mean". */
function knownKeysAt(schema: z.ZodType, path: readonly PropertyKey[]): string[] {
  let current: z.ZodType | undefined = schema;
  for (const segment of path) {
    const node: z.ZodType = unwrap(current);
    if (node instanceof z.ZodObject) current = (node.shape as Record<PropertyKey, z.ZodType | undefined>)[segment];
    else if (node instanceof z.ZodArray) current = node.element as z.ZodType;
    else return [];
    if (current === undefined) return [];
  }
  const node = unwrap(current);
  return node instanceof z.ZodObject ? Object.keys(node.shape) : [];
}

function unwrap(schema: z.ZodType): z.ZodType {
  let current = schema;
  while (current instanceof z.ZodOptional || current instanceof z.ZodDefault || current instanceof z.ZodPrefault) {
    current = current.unwrap() as z.ZodType;
  }
  return current;
}

/** The value at `path` in plain data, or undefined. */
export function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let current = root;
  for (const segment of path) {
    if (typeof current !== 'object' || current === null) return undefined;
    current = (current as Record<PropertyKey, unknown>)[segment];
  }
  return current;
}
