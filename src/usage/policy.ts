// Per-team usage settings resolved once per configuration snapshot: the savings baseline model and
// whether bodies are logged. Lookups on the request path are two map reads.
import type { UsageConfig } from './config.ts';

export interface TeamRef {
  id: string;
  name?: string;
}

export class UsagePolicy {
  private readonly teams: UsageConfig['teams'];

  constructor(readonly config: UsageConfig) {
    this.teams = config.teams;
  }

  private team(team: TeamRef | undefined): UsageConfig['teams'][string] | undefined {
    if (!team) return undefined;
    return this.teams[team.id] ?? (team.name !== undefined ? this.teams[team.name] : undefined);
  }

  /** The model group savings are measured against for this team; undefined = most expensive candidate. */
  baselineModel(team: TeamRef | undefined): string | undefined {
    return this.team(team)?.baseline_model ?? this.config.baseline_model;
  }

  logBodies(team: TeamRef | undefined): boolean {
    return this.team(team)?.log_bodies ?? this.config.body_logging.all_teams;
  }

  get maxBodyBytes(): number {
    return this.config.body_logging.max_bytes;
  }
}

const cache = new WeakMap<UsageConfig, UsagePolicy>();

/** The policy of a configuration snapshot (built on first use, then shared). */
export function usagePolicy(config: UsageConfig): UsagePolicy {
  let policy = cache.get(config);
  if (!policy) {
    policy = new UsagePolicy(config);
    cache.set(config, policy);
  }
  return policy;
}
