import { describe, expect, it } from 'vitest';
import { interpolateString, interpolateValue } from './interpolate.ts';

describe('interpolateString', () => {
  it('substitutes set variables', () => {
    expect(interpolateString('Bearer ${TOKEN}', { TOKEN: 'abc' })).toEqual({ ok: true, value: 'Bearer abc', unset: [], substituted: true });
  });

  it('leaves strings without references alone', () => {
    expect(interpolateString('p$ss$word', {})).toEqual({ ok: true, value: 'p$ss$word', unset: [], substituted: false });
  });

  it('makes the whole string unset when a variable without default is unset', () => {
    expect(interpolateString('http://${HOST}:8080', {})).toEqual({ ok: true, value: undefined, unset: ['HOST'], substituted: true });
  });

  it('treats an empty variable as unset', () => {
    expect(interpolateString('${KEY}', { KEY: '' })).toMatchObject({ ok: true, value: undefined, unset: ['KEY'] });
  });

  it('uses the default when unset or empty', () => {
    expect(interpolateString('${PORT:-4000}', {})).toMatchObject({ ok: true, value: '4000' });
    expect(interpolateString('${PORT:-4000}', { PORT: '' })).toMatchObject({ ok: true, value: '4000' });
    expect(interpolateString('${PORT:-4000}', { PORT: '5000' })).toMatchObject({ ok: true, value: '5000' });
    expect(interpolateString('${URL:-http://h:1/v1}', {})).toMatchObject({ ok: true, value: 'http://h:1/v1' });
    expect(interpolateString('x${EMPTY:-}y', {})).toMatchObject({ ok: true, value: 'xy' });
  });

  it('unescapes $${ to a literal ${', () => {
    expect(interpolateString('$${NOT_A_VAR} and ${A}', { A: '1', NOT_A_VAR: 'no' })).toMatchObject({ ok: true, value: '${NOT_A_VAR} and 1' });
  });

  it('does not re-interpolate substituted values', () => {
    expect(interpolateString('${A}', { A: '${B}', B: 'leak' })).toMatchObject({ ok: true, value: '${B}' });
  });

  it('rejects malformed references', () => {
    expect(interpolateString('${not valid}', {})).toMatchObject({ ok: false });
    expect(interpolateString('${1ABC}', {})).toMatchObject({ ok: false });
    expect(interpolateString('abc ${OPEN', {})).toMatchObject({ ok: false, message: expect.stringContaining('unterminated') });
  });
});

describe('interpolateValue', () => {
  it('walks mappings and sequences, omitting unset mapping values and keeping unset sequence items', () => {
    const input = { a: '${SET}', b: '${UNSET}', list: ['${SET}', '${UNSET}'], n: 3, nested: { c: '${SET}' }, '${SET}': 'key' };
    const result = interpolateValue(input, { SET: 'v' });
    expect(result.value).toEqual({ a: 'v', list: ['v', undefined], n: 3, nested: { c: 'v' }, '${SET}': 'key' });
    expect(result.unset).toEqual([
      { path: ['b'], variables: ['UNSET'] },
      { path: ['list', 1], variables: ['UNSET'] },
    ]);
    expect(result.interpolated).toContainEqual(['nested', 'c']);
    expect(result.issues).toEqual([]);
  });

  it('does not modify its input', () => {
    const input = { a: '${SET}' };
    interpolateValue(input, { SET: 'v' });
    expect(input).toEqual({ a: '${SET}' });
  });

  it('reports malformed references with their path', () => {
    expect(interpolateValue({ x: [{ y: '${bad name}' }] }, {}).issues).toEqual([
      { path: ['x', 0, 'y'], message: expect.stringContaining('invalid variable reference') },
    ]);
  });
});
