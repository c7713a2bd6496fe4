// POST /admin/v1/replay: who may replay which traffic. Replaying reads a whole org's usage, so it needs
// `usage.read.org`; a user replays their own org's traffic, the master key any org's (or all of it).
import type { z } from 'zod';
import { GatewayError } from '../core/errors.ts';
import { can, type Actor } from '../governance/roles.ts';
import type { ReplayReport, ReplayRunner } from './runner.ts';
import type { replayBody } from './schema.ts';

export async function adminReplay(actor: Actor, runner: ReplayRunner | undefined, body: z.output<typeof replayBody>): Promise<ReplayReport> {
  let orgId = body.org_id;
  if (actor.kind === 'user') {
    if (orgId !== undefined && orgId !== actor.user.orgId) throw new GatewayError('not_found', `no org ${orgId}`, { param: 'org_id', code: 'org_not_found' });
    orgId = actor.user.orgId;
    if (!can(actor, 'usage.read.org', { orgId })) {
      throw new GatewayError('permission', "permission denied: your role may not replay traffic (it needs usage.read.org: the whole org's usage)", { code: 'permission_denied' });
    }
  }
  if (!runner) throw new GatewayError('not_found', 'policy replay is not enabled on this gateway (it needs the usage store)', { code: 'replay_disabled' });
  return runner.run({ from: body.from, to: body.to, policy: body.policy, orgId, maxRecords: body.max_records });
}
