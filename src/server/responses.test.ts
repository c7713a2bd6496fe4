import { describe, expect, it } from 'vitest';
import { GatewayError } from '../core/errors.ts';
import type { ConversationItem } from '../dialects/responses/types.ts';
import type { StoredResponse } from '../store/responses/types.ts';
import { listInputItems } from './responses.ts';

const items: ConversationItem[] = ['a', 'b', 'c', 'd', 'e'].map((id) => ({ id, type: 'message', role: 'user', content: [{ type: 'input_text', text: id }] }));
const record = { input: items } as unknown as StoredResponse;
const ids = (q: string): string[] => listInputItems(record, new URLSearchParams(q)).data.map((i) => i.id);

describe('listInputItems', () => {
  it('lists newest first by default, oldest first with order=asc', () => {
    expect(ids('')).toEqual(['e', 'd', 'c', 'b', 'a']);
    expect(ids('order=asc')).toEqual(['a', 'b', 'c', 'd', 'e']);
  });

  it('pages with limit and after, reporting has_more and the ids at both ends', () => {
    expect(listInputItems(record, new URLSearchParams('order=asc&limit=2'))).toMatchObject({ object: 'list', first_id: 'a', last_id: 'b', has_more: true });
    expect(ids('order=asc&limit=2&after=b')).toEqual(['c', 'd']);
    expect(listInputItems(record, new URLSearchParams('order=asc&limit=2&after=d'))).toMatchObject({ first_id: 'e', last_id: 'e', has_more: false });
    expect(listInputItems(record, new URLSearchParams('after=a'))).toMatchObject({ data: [], first_id: null, last_id: null, has_more: false });
  });

  it('refuses bad parameters with a 400 naming them', () => {
    for (const [q, param] of [['limit=0', 'limit'], ['limit=101', 'limit'], ['limit=x', 'limit'], ['order=up', 'order'], ['after=zz', 'after']]) {
      const attempt = (): unknown => listInputItems(record, new URLSearchParams(q));
      expect(attempt).toThrow(GatewayError);
      try {
        attempt();
      } catch (err) {
        expect((err as GatewayError).param).toBe(param);
        expect((err as GatewayError).status).toBe(400);
      }
    }
  });
});
