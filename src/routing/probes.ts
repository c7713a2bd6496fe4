// Optional active health probes: a tiny request to each deployment whose circuit is open and due for
// a half-open probe, so a recovered provider rejoins without waiting for live traffic to risk it.
import { GatewayError, asGatewayError } from '../core/errors.ts';
import type { UpstreamPools } from '../providers/upstream.ts';
import type { RoutingContext } from '../server/routing-context.ts';
import type { HealthRegistry } from './health/index.ts';
import type { Deployment } from './registry.ts';

const PROBE_TIMEOUT_MS = 10_000;

export class ActiveProber {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly pools: UpstreamPools,
    private readonly health: HealthRegistry,
    private readonly context: () => RoutingContext,
  ) {}

  /** (Re)starts or stops the probe timer according to the current config. */
  configure(): void {
    this.stop();
    const probes = this.context().config.routing.active_probes;
    if (!probes.enabled) return;
    this.timer = setInterval(() => void this.probeAll(), probes.interval_ms);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  async probeAll(now = Date.now()): Promise<void> {
    const { registry } = this.context();
    const due: Deployment[] = [];
    for (const group of registry.groups) {
      if (group.mode !== 'chat') continue;
      for (const d of group.deployments) {
        const h = this.health.get(d.id);
        if (h.circuitState(now) === 'half_open' && h.available(now)) due.push(d);
      }
    }
    await Promise.all(due.map((d) => this.probe(d)));
  }

  /** One minimal completion; its outcome feeds the circuit like live traffic would. */
  async probe(deployment: Deployment): Promise<boolean> {
    const health = this.health.get(deployment.id);
    const started = performance.now();
    health.onStart(Date.now());
    try {
      const request = deployment.adapter.chatRequest({ model: deployment.target.model, messages: [{ role: 'user', content: 'ping' }], max_tokens: 1 }, deployment.target);
      const upstream = await this.pools.send(deployment.target.endpoint, request, AbortSignal.timeout(PROBE_TIMEOUT_MS), { headersMs: PROBE_TIMEOUT_MS, bodyMs: PROBE_TIMEOUT_MS });
      const text = await upstream.body.text();
      if (upstream.status >= 300) throw deployment.adapter.error(upstream.status, upstream.headers, text, deployment.target);
      const duration = performance.now() - started;
      health.onSuccess(Date.now(), { ttftMs: duration, durationMs: duration, completionTokens: 0, totalTokens: 0 });
      return true;
    } catch (err) {
      const error = err instanceof GatewayError ? err : asGatewayError(err);
      health.onFailure(Date.now(), error.errorClass, error.retryAfterMs);
      return false;
    }
  }
}
