// Health of every deployment the router has seen, created on first use.
import type { HealthConfig } from './config.ts';
import { resolveHealthConfig } from './config.ts';
import type { HealthChangeListener, HealthEvent, HealthSnapshot } from './deployment-health.ts';
import { DeploymentHealth } from './deployment-health.ts';

export type { HealthConfig } from './config.ts';
export { DEFAULT_HEALTH_CONFIG } from './config.ts';

export class HealthRegistry {
  private readonly entries = new Map<string, DeploymentHealth>();
  private current: HealthConfig;
  private readonly onChange: HealthChangeListener | undefined;

  /** `onChange` receives every local change of every deployment, for broadcasting to replicas. */
  constructor(config: Partial<HealthConfig> = {}, onChange?: HealthChangeListener) {
    this.current = resolveHealthConfig(config);
    this.onChange = onChange;
  }

  get config(): Readonly<HealthConfig> {
    return this.current;
  }

  /** The deployment's health, created with the current config on first use. */
  get(id: string): DeploymentHealth {
    let health = this.entries.get(id);
    if (!health) {
      health = new DeploymentHealth(id, this.current, this.onChange);
      this.entries.set(id, health);
    }
    return health;
  }

  /** Without creating an entry. */
  peek(id: string): DeploymentHealth | undefined {
    return this.entries.get(id);
  }

  /** Forgets a deployment removed from the config. */
  delete(id: string): boolean {
    return this.entries.delete(id);
  }

  /** New config (missing fields take defaults) for new entries and, see DeploymentHealth.configure, existing ones. */
  configure(config: Partial<HealthConfig>): void {
    const next = resolveHealthConfig(config);
    for (const health of this.entries.values()) health.configure(next);
    this.current = next;
  }

  /** Applies another replica's event (see DeploymentHealth.applyRemote). */
  applyRemote(now: number, id: string, event: HealthEvent): void {
    this.get(id).applyRemote(now, event);
  }

  snapshot(now: number): Record<string, HealthSnapshot> {
    // fromEntries defines own properties, so no id can reach the prototype.
    return Object.fromEntries(Array.from(this.entries, ([id, health]) => [id, health.snapshot(now)]));
  }
}
