// A structural check that a tool's parameters (or a response format's schema) is a JSON Schema at all:
// keywords whose shape the spec fixes must have that shape. Providers reject malformed schemas with
// opaque errors, or worse accept them and let the model improvise; the client deserves a 400 naming the
// spot. It does not validate semantics (that is the provider's job) and unknown keywords pass.
import { badRequest, type GatewayError } from '../core/errors.ts';

const TYPES: ReadonlySet<string> = new Set(['string', 'number', 'integer', 'boolean', 'object', 'array', 'null']);
const SCHEMA_MAPS = ['properties', 'patternProperties', '$defs', 'definitions', 'dependentSchemas'] as const;
const SCHEMA_LISTS = ['anyOf', 'oneOf', 'allOf', 'prefixItems'] as const;
const SUBSCHEMAS = ['not', 'additionalProperties', 'additionalItems', 'contains', 'propertyNames', 'if', 'then', 'else', 'unevaluatedProperties', 'unevaluatedItems'] as const;
const STRINGS = ['title', 'description', '$ref', 'pattern', 'format', '$schema', '$id'] as const;
const COUNTS = ['minLength', 'maxLength', 'minItems', 'maxItems', 'minProperties', 'maxProperties'] as const;
const NUMBERS = ['minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum', 'multipleOf'] as const;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The first structural problem of `schema` as `[path, message]`, or undefined when it looks like JSON Schema. */
export function jsonSchemaProblem(schema: unknown, path: string): [string, string] | undefined {
  if (typeof schema === 'boolean') return undefined;
  if (!isObject(schema)) return [path, 'a JSON Schema must be an object'];
  const type = schema.type;
  if (type !== undefined) {
    const list = Array.isArray(type) ? type : [type];
    if (list.length === 0 || !list.every((t) => typeof t === 'string' && TYPES.has(t))) {
      return [`${path}.type`, `must be one of ${[...TYPES].join(', ')} (or a list of them)`];
    }
  }
  for (const key of STRINGS) if (schema[key] !== undefined && typeof schema[key] !== 'string') return [`${path}.${key}`, 'must be a string'];
  for (const key of COUNTS) {
    const v = schema[key];
    if (v !== undefined && !(typeof v === 'number' && Number.isInteger(v) && v >= 0)) return [`${path}.${key}`, 'must be a non-negative integer'];
  }
  for (const key of NUMBERS) if (schema[key] !== undefined && typeof schema[key] !== 'number') return [`${path}.${key}`, 'must be a number'];
  if (schema.required !== undefined && !(Array.isArray(schema.required) && schema.required.every((r) => typeof r === 'string'))) {
    return [`${path}.required`, 'must be a list of property names'];
  }
  if (schema.enum !== undefined && !Array.isArray(schema.enum)) return [`${path}.enum`, 'must be a list'];
  for (const key of SCHEMA_MAPS) {
    const map = schema[key];
    if (map === undefined) continue;
    if (!isObject(map)) return [`${path}.${key}`, 'must be an object mapping names to schemas'];
    for (const name in map) {
      const problem = jsonSchemaProblem(map[name], `${path}.${key}.${name}`);
      if (problem) return problem;
    }
  }
  for (const key of SCHEMA_LISTS) {
    const list = schema[key];
    if (list === undefined) continue;
    if (!Array.isArray(list) || list.length === 0) return [`${path}.${key}`, 'must be a non-empty list of schemas'];
    for (let i = 0; i < list.length; i++) {
      const problem = jsonSchemaProblem(list[i], `${path}.${key}.${i}`);
      if (problem) return problem;
    }
  }
  for (const key of SUBSCHEMAS) {
    if (schema[key] === undefined) continue;
    const problem = jsonSchemaProblem(schema[key], `${path}.${key}`);
    if (problem) return problem;
  }
  const items = schema.items;
  if (items !== undefined) {
    if (Array.isArray(items)) {
      for (let i = 0; i < items.length; i++) {
        const problem = jsonSchemaProblem(items[i], `${path}.items.${i}`);
        if (problem) return problem;
      }
    } else {
      const problem = jsonSchemaProblem(items, `${path}.items`);
      if (problem) return problem;
    }
  }
  return undefined;
}

/** Throws a 400 naming the first structural problem of the schema at `param`. */
export function assertJsonSchema(schema: unknown, param: string): void {
  const problem = jsonSchemaProblem(schema, param);
  if (problem) throw notJsonSchema(problem);
}

function notJsonSchema([where, message]: [string, string]): GatewayError {
  return badRequest(`'${where}' is not valid JSON Schema: ${message}`, where, 'invalid_schema');
}
