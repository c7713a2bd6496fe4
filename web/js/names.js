// Team and key names for ids in analytics rows and request records, fetched once per page view. An id
// the caller may not read stays an id.
import { request } from './api.js';
import { can, canAny, KEY_READ } from './session.js';

/**
 * @param {'team' | 'key'} kind
 * @returns {Promise<(id: string | null) => string>}
 */
export async function namer(kind) {
  /** @type {Map<string, string>} */
  const names = new Map();
  try {
    if (kind === 'team' && can('team.read')) {
      /** @type {{ data: { id: string, name: string }[] }} */
      const teams = await request('GET', '/admin/v1/teams');
      for (const t of teams.data) names.set(t.id, t.name);
    }
    if (kind === 'key' && canAny(KEY_READ)) {
      /** @type {{ data: { id: string, name: string }[] }} */
      const keys = await request('GET', '/admin/v1/keys', { query: { include_revoked: 'true' } });
      for (const k of keys.data) names.set(k.id, k.name);
    }
  } catch {
    // Names are a convenience: without them the ids are shown.
  }
  return (id) => (id === null ? '(none)' : (names.get(id) ?? id));
}
