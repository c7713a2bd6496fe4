import { describe, expect, it } from 'vitest';
import { jsonSchemaProblem } from './json-schema.ts';

describe('jsonSchemaProblem', () => {
  it('accepts ordinary tool schemas', () => {
    const schema = {
      type: 'object',
      properties: { city: { type: 'string', description: 'name' }, days: { type: ['integer', 'null'], minimum: 1 }, tags: { type: 'array', items: { type: 'string' } } },
      required: ['city'],
      additionalProperties: false,
      $defs: { unit: { enum: ['c', 'f'] } },
      anyOf: [{ required: ['city'] }, true],
    };
    expect(jsonSchemaProblem(schema, 'p')).toBeUndefined();
    expect(jsonSchemaProblem({}, 'p')).toBeUndefined();
  });

  it('names the first malformed keyword', () => {
    expect(jsonSchemaProblem({ type: 42 }, 'p')?.[0]).toBe('p.type');
    expect(jsonSchemaProblem({ type: 'text' }, 'p')?.[0]).toBe('p.type');
    expect(jsonSchemaProblem({ properties: 'x' }, 'p')?.[0]).toBe('p.properties');
    expect(jsonSchemaProblem({ properties: { a: { type: 'object', properties: { b: 7 } } } }, 'p')?.[0]).toBe('p.properties.a.properties.b');
    expect(jsonSchemaProblem({ required: 'a' }, 'p')?.[0]).toBe('p.required');
    expect(jsonSchemaProblem({ anyOf: [] }, 'p')?.[0]).toBe('p.anyOf');
    expect(jsonSchemaProblem({ items: [{ type: 'nope' }] }, 'p')?.[0]).toBe('p.items.0.type');
    expect(jsonSchemaProblem({ maxLength: -1 }, 'p')?.[0]).toBe('p.maxLength');
    expect(jsonSchemaProblem([], 'p')?.[0]).toBe('p');
  });
});
