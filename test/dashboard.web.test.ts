// The dashboard's pure browser modules, in Node: CSV escaping, the candidates parser and the
// role checks the UI uses to hide controls. (The browser test covers the pages themselves.)
import { describe, expect, it } from 'vitest';

// Plain JS modules with JSDoc types; imported through a computed path so the Node type-check does
// not try to read them (web/tsconfig.json type-checks them for the browser).
const load = <T>(file: string): Promise<T> => import(new URL(`../web/js/${file}`, import.meta.url).href) as Promise<T>;

interface Csv {
  csvCell(value: unknown): string;
  toCsv(header: string[], rows: unknown[][]): string;
}
interface Analytics {
  parseCandidates(raw: unknown): Array<{ deployment: string; score: number | null; excluded: string | null; affinity: boolean }>;
}
type Grant = { permission: string; reach: 'all' | 'org' | 'team' | 'own'; team_id: string | null };
interface Session {
  setMe(me: unknown): void;
  can(permission: string, target?: { teamId?: string | null; ownerUserId?: string | null }): boolean;
  canAny(permissions: string[], target?: { teamId?: string | null; ownerUserId?: string | null }): boolean;
  KEY_MANAGE: string[];
}

describe('csv', () => {
  it('quotes what needs quoting and neutralises spreadsheet formulas', async () => {
    const { csvCell, toCsv } = await load<Csv>('csv.js');
    expect(csvCell('plain')).toBe('plain');
    expect(csvCell('a,b')).toBe('"a,b"');
    expect(csvCell('say "hi"')).toBe('"say ""hi"""');
    expect(csvCell('two\nlines')).toBe('"two\nlines"');
    expect(csvCell('=HYPERLINK("http://x")')).toBe(`"'=HYPERLINK(""http://x"")"`);
    expect(csvCell('+1 rpm')).toBe("'+1 rpm");
    expect(csvCell('@team')).toBe("'@team");
    expect(csvCell(-0.25)).toBe('-0.25');
    expect(csvCell('-3')).toBe('-3');
    expect(csvCell(null)).toBe('');
    expect(csvCell(['gpt-4o*', 'claude-*'])).toBe('"[""gpt-4o*"",""claude-*""]"');
    expect(toCsv(['a', 'b'], [[1, 'x'], [2, null]])).toBe('a,b\r\n1,x\r\n2,\r\n');
  });
});

describe('parseCandidates', () => {
  it('reads the compact form, with colons inside deployment ids', async () => {
    const { parseCandidates } = await load<Analytics>('analytics.js');
    const compact = 'bedrock-claude/bedrock/anthropic.claude-sonnet-4-5-20250929-v1:0:0.912*;gpt-4o/east/gpt-4o:0.400;gpt-4o/west/gpt-4o!circuit_open';
    expect(parseCandidates(compact)).toEqual([
      { deployment: 'bedrock-claude/bedrock/anthropic.claude-sonnet-4-5-20250929-v1:0', score: 0.912, excluded: null, affinity: true },
      { deployment: 'gpt-4o/east/gpt-4o', score: 0.4, excluded: null, affinity: false },
      { deployment: 'gpt-4o/west/gpt-4o', score: null, excluded: 'circuit_open', affinity: false },
    ]);
    expect(parseCandidates('')).toEqual([]);
    expect(parseCandidates(null)).toEqual([]);
  });

  it('takes the analytics API list as it is', async () => {
    const { parseCandidates } = await load<Analytics>('analytics.js');
    const list = [{ deployment: 'a/b/c', score: 1, excluded: null, affinity: false }, { deployment: 'a/d/c', score: null, excluded: 'provider_ignored', affinity: false }];
    expect(parseCandidates(list)).toEqual(list);
  });
});

describe('session grants', () => {
  it('a team admin may manage their team’s keys and their own, nothing else', async () => {
    const session = await load<Session>('session.js');
    const grants: Grant[] = [
      { permission: 'key.manage.team', reach: 'team', team_id: 'team_a' },
      { permission: 'key.manage.own', reach: 'own', team_id: null },
      { permission: 'budget.read', reach: 'team', team_id: 'team_a' },
    ];
    session.setMe({ kind: 'user', key_id: 'key_1', grants, user: { id: 'user_1', org_id: 'org', email: 'a@example.com', name: null, role: 'member', teams: [{ team_id: 'team_a', role: 'team_admin' }] } });
    expect(session.canAny(session.KEY_MANAGE, { teamId: 'team_a', ownerUserId: 'someone' })).toBe(true);
    expect(session.canAny(session.KEY_MANAGE, { teamId: 'team_b', ownerUserId: 'someone' })).toBe(false);
    expect(session.canAny(session.KEY_MANAGE, { teamId: null, ownerUserId: 'user_1' })).toBe(true);
    expect(session.can('budget.manage')).toBe(false);
    expect(session.can('budget.read')).toBe(true);
  });

  it('the master key may do everything', async () => {
    const session = await load<Session>('session.js');
    session.setMe({ kind: 'master', user: null, key_id: null, grants: [{ permission: 'key.manage.any', reach: 'all', team_id: null }] });
    expect(session.can('key.manage.any', { teamId: 'anything' })).toBe(true);
  });
});
