// JSON Schema (as OpenAI clients write it) → Gemini `Schema`, the OpenAPI 3.0 subset that
// `functionDeclarations[].parameters` and `generationConfig.responseSchema` accept. Gemini parses these
// fields as protobuf messages, so any keyword outside the subset is a 400 ("Unknown name …"): the
// conversion keeps an allow-list instead of stripping a deny-list.
//
// Kept as is: title, description, pattern, default, example, propertyOrdering, minItems, maxItems,
// minLength, maxLength, minProperties, maxProperties, minimum, maximum, properties, required, items.
// Rewritten: type (upper-cased; a `null` member becomes `nullable: true`; several types become anyOf),
// anyOf/oneOf (→ anyOf, a `{type:"null"}` member becomes nullable), allOf (merged), const (→ enum),
// enum (strings only; Gemini rejects numeric enums, so those are dropped), format (only the values
// Gemini accepts per type), $ref (resolved against $defs/definitions and inlined), prefixItems (→ items),
// examples (→ example).
// Dropped: everything else, notably $schema, $id, $defs, definitions, $comment, additionalProperties,
// unevaluatedProperties, patternProperties, propertyNames, dependentRequired, dependentSchemas, not,
// if/then/else, exclusiveMinimum, exclusiveMaximum, multipleOf, uniqueItems, contains, readOnly,
// writeOnly, deprecated, contentEncoding, contentMediaType.
import type { JsonObject, JsonValue } from '../../core/canonical.ts';

const COPIED = new Set([
  'title',
  'description',
  'pattern',
  'default',
  'example',
  'propertyOrdering',
  'minItems',
  'maxItems',
  'minLength',
  'maxLength',
  'minProperties',
  'maxProperties',
  'minimum',
  'maximum',
]);

const TYPES = new Map([
  ['string', 'STRING'],
  ['number', 'NUMBER'],
  ['integer', 'INTEGER'],
  ['boolean', 'BOOLEAN'],
  ['array', 'ARRAY'],
  ['object', 'OBJECT'],
]);

const FORMATS: Record<string, ReadonlySet<string>> = {
  STRING: new Set(['enum', 'date-time']),
  NUMBER: new Set(['float', 'double']),
  INTEGER: new Set(['int32', 'int64']),
};

/** Recursive $refs are unrolled this deep, then cut to a bare object. */
const MAX_DEPTH = 16;

export function isJsonObject(value: JsonValue | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function toGeminiSchema(schema: JsonObject): JsonObject {
  return convert(schema, schema, 0);
}

/** Function parameters; undefined when the function takes none (Gemini rejects an empty OBJECT). */
export function toGeminiParameters(schema: JsonObject): JsonObject | undefined {
  const converted = toGeminiSchema(schema);
  return isJsonObject(converted.properties) ? converted : undefined;
}

function convert(input: JsonObject, root: JsonObject, depth: number): JsonObject {
  if (depth > MAX_DEPTH) return { type: 'OBJECT' };
  let node = input;
  if (typeof node.$ref === 'string') node = inlineRef(node, node.$ref, root);
  if (Array.isArray(node.allOf)) node = mergeAllOf(node, node.allOf, root);

  const out: JsonObject = {};
  let nullable = node.nullable === true;
  for (const key of Object.keys(node)) if (COPIED.has(key)) out[key] = node[key];
  if (out.example === undefined && Array.isArray(node.examples) && node.examples.length > 0) out.example = node.examples[0];

  const types: string[] = [];
  const rawType = node.type;
  for (const t of Array.isArray(rawType) ? rawType : rawType === undefined ? [] : [rawType]) {
    if (t === 'null') nullable = true;
    else if (typeof t === 'string' && TYPES.has(t)) types.push(TYPES.get(t) as string);
  }

  const enumValues = node.const !== undefined ? [node.const] : Array.isArray(node.enum) ? node.enum : undefined;
  if (enumValues) {
    const strings: string[] = [];
    let allStrings = true;
    for (const value of enumValues) {
      if (value === null) nullable = true;
      else if (typeof value === 'string') strings.push(value);
      else allStrings = false;
    }
    if (allStrings && strings.length > 0) {
      out.enum = strings;
      types.length = 0;
      types.push('STRING');
    }
  }

  if (isJsonObject(node.properties)) {
    const properties: JsonObject = {};
    for (const [name, value] of Object.entries(node.properties)) {
      if (isJsonObject(value)) properties[name] = convert(value, root, depth + 1);
    }
    if (Object.keys(properties).length > 0) {
      out.properties = properties;
      if (Array.isArray(node.required)) out.required = node.required.filter((name) => typeof name === 'string' && name in properties);
    }
    if (types.length === 0) types.push('OBJECT');
  }

  const items = isJsonObject(node.items) ? node.items : Array.isArray(node.prefixItems) && isJsonObject(node.prefixItems[0]) ? node.prefixItems[0] : undefined;
  if (items) {
    out.items = convert(items, root, depth + 1);
    if (types.length === 0) types.push('ARRAY');
  }

  const union = Array.isArray(node.anyOf) ? node.anyOf : Array.isArray(node.oneOf) ? node.oneOf : undefined;
  if (union) {
    const members: JsonObject[] = [];
    for (const member of union) {
      if (!isJsonObject(member)) continue;
      if (member.type === 'null') nullable = true;
      else members.push(convert(member, root, depth + 1));
    }
    // `anyOf: [X, {type: null}]` is how JSON Schema spells an optional X: flatten it.
    if (members.length === 1 && types.length === 0) Object.assign(out, members[0], pickDescription(out));
    else if (members.length > 0) out.anyOf = members;
  } else if (types.length > 1) {
    out.anyOf = types.map((type) => ({ type }));
    types.length = 0;
  }

  if (types.length === 1) {
    out.type = types[0];
    const format = node.format;
    if (typeof format === 'string' && FORMATS[types[0]]?.has(format)) out.format = format;
  }
  if (nullable) out.nullable = true;
  return out;
}

function pickDescription(out: JsonObject): JsonObject {
  return out.description === undefined ? {} : { description: out.description };
}

function inlineRef(node: JsonObject, ref: string, root: JsonObject): JsonObject {
  const { $ref: _ref, ...siblings } = node;
  const target = resolveRef(ref, root);
  // Keywords written beside a $ref (usually a description) refine the referenced schema.
  return target ? { ...target, ...siblings } : siblings;
}

function resolveRef(ref: string, root: JsonObject): JsonObject | undefined {
  if (!ref.startsWith('#/')) return undefined;
  let current: JsonValue | undefined = root;
  for (const raw of ref.slice(2).split('/')) {
    if (!isJsonObject(current)) return undefined;
    current = current[raw.replaceAll('~1', '/').replaceAll('~0', '~')];
  }
  return isJsonObject(current) ? current : undefined;
}

function mergeAllOf(node: JsonObject, allOf: JsonValue[], root: JsonObject): JsonObject {
  const { allOf: _allOf, ...merged } = node;
  const properties: JsonObject = isJsonObject(merged.properties) ? { ...merged.properties } : {};
  const required = new Set<string>();
  if (Array.isArray(merged.required)) for (const name of merged.required) if (typeof name === 'string') required.add(name);
  for (const raw of allOf) {
    if (!isJsonObject(raw)) continue;
    const member = typeof raw.$ref === 'string' ? inlineRef(raw, raw.$ref, root) : raw;
    for (const [key, value] of Object.entries(member)) {
      if (key === 'properties' && isJsonObject(value)) Object.assign(properties, value);
      else if (key === 'required' && Array.isArray(value)) {
        for (const name of value) if (typeof name === 'string') required.add(name);
      } else if (merged[key] === undefined) merged[key] = value;
    }
  }
  if (Object.keys(properties).length > 0) merged.properties = properties;
  if (required.size > 0) merged.required = [...required];
  return merged;
}
