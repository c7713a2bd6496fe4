import { describe, expect, it } from 'vitest';
import type { JsonObject } from '../../core/canonical.ts';
import { toGeminiParameters, toGeminiSchema } from './schema.ts';

describe('toGeminiSchema', () => {
  it('keeps the supported subset and drops what Gemini rejects', () => {
    expect(
      toGeminiSchema({
        $schema: 'https://json-schema.org/draft/2020-12/schema',
        $id: 'x',
        type: 'object',
        title: 'Order',
        description: 'An order',
        additionalProperties: false,
        properties: {
          id: { type: 'string', format: 'uuid', pattern: '^[a-f0-9-]+$', minLength: 1 },
          at: { type: 'string', format: 'date-time' },
          qty: { type: 'integer', minimum: 1, exclusiveMaximum: 100, multipleOf: 1, format: 'int32' },
          price: { type: 'number', format: 'double' },
          tags: { type: 'array', items: { type: 'string' }, uniqueItems: true, maxItems: 5 },
          meta: { type: 'object', properties: {}, additionalProperties: { type: 'string' } },
        },
        required: ['id', 'missing'],
      }),
    ).toEqual({
      type: 'OBJECT',
      title: 'Order',
      description: 'An order',
      properties: {
        id: { type: 'STRING', pattern: '^[a-f0-9-]+$', minLength: 1 },
        at: { type: 'STRING', format: 'date-time' },
        qty: { type: 'INTEGER', minimum: 1, format: 'int32' },
        price: { type: 'NUMBER', format: 'double' },
        tags: { type: 'ARRAY', items: { type: 'STRING' }, maxItems: 5 },
        meta: { type: 'OBJECT' },
      },
      required: ['id'],
    });
  });

  it('turns null unions into nullable and other unions into anyOf', () => {
    expect(toGeminiSchema({ type: ['string', 'null'] })).toEqual({ type: 'STRING', nullable: true });
    expect(toGeminiSchema({ type: ['string', 'number'] })).toEqual({ anyOf: [{ type: 'STRING' }, { type: 'NUMBER' }] });
    expect(toGeminiSchema({ description: 'maybe', anyOf: [{ type: 'integer' }, { type: 'null' }] })).toEqual({ type: 'INTEGER', description: 'maybe', nullable: true });
    expect(toGeminiSchema({ oneOf: [{ type: 'string' }, { type: 'boolean' }] })).toEqual({ anyOf: [{ type: 'STRING' }, { type: 'BOOLEAN' }] });
  });

  it('keeps string enums, converts const, drops numeric enums', () => {
    expect(toGeminiSchema({ enum: ['a', 'b', null] })).toEqual({ type: 'STRING', enum: ['a', 'b'], nullable: true });
    expect(toGeminiSchema({ const: 'fixed' })).toEqual({ type: 'STRING', enum: ['fixed'] });
    expect(toGeminiSchema({ type: 'integer', enum: [1, 2] })).toEqual({ type: 'INTEGER' });
  });

  it('inlines $ref definitions, merges allOf and cuts recursion', () => {
    const schema: JsonObject = {
      type: 'object',
      $defs: { Address: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } },
      properties: {
        home: { $ref: '#/$defs/Address', description: 'Home address' },
        work: { allOf: [{ $ref: '#/$defs/Address' }, { properties: { floor: { type: 'integer' } } }] },
      },
    };
    expect(toGeminiSchema(schema)).toEqual({
      type: 'OBJECT',
      properties: {
        home: { type: 'OBJECT', description: 'Home address', properties: { city: { type: 'STRING' } }, required: ['city'] },
        work: { type: 'OBJECT', properties: { city: { type: 'STRING' }, floor: { type: 'INTEGER' } }, required: ['city'] },
      },
    });
    const recursive = { type: 'object', properties: { child: { $ref: '#' } } };
    expect(JSON.stringify(toGeminiSchema(recursive))).toContain('"type":"OBJECT"');
  });

  it('omits parameters for functions that take none', () => {
    expect(toGeminiParameters({ type: 'object', properties: {} })).toBeUndefined();
    expect(toGeminiParameters({ type: 'object' })).toBeUndefined();
    expect(toGeminiParameters({ type: 'object', properties: { a: { type: 'boolean' } } })).toEqual({ type: 'OBJECT', properties: { a: { type: 'BOOLEAN' } } });
  });
});
