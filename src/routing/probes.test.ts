import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Catalog } from '../catalog/catalog.ts';
import { parseConfig } from '../config/index.ts';
import { UpstreamPools } from '../providers/upstream.ts';
import { buildRoutingContext, type RoutingContext } from '../server/routing-context.ts';
import { createSimulator, type SimServer } from '../sim/index.ts';
import { HealthRegistry } from './health/index.ts';
import { ActiveProber } from './probes.ts';

let sim: SimServer;
let ctx: RoutingContext;
const pools = new UpstreamPools();
const health = new HealthRegistry();

beforeAll(async () => {
  sim = createSimulator('openai', { apiKey: 'k' });
  await sim.listen();
  const config = parseConfig(
    `
routing:
  circuit_breaker: { failure_threshold: 2, cooldown_ms: 50 }
  active_probes: { enabled: true, interval_ms: 1000 }
providers: [ { name: p, type: openai, base_url: "${sim.url}/v1", api_key: k } ]
models: [ { name: m, deployments: [ { provider: p, model: gpt-4o-mini } ] } ]
`,
    { env: {} },
  );
  ctx = buildRoutingContext(config, Catalog.default(), health, undefined);
});

afterAll(async () => {
  await pools.close();
  await sim.close();
});

describe('active probes', () => {
  it('closes the circuit of a recovered deployment with a one-token request, and keeps a failing one open', async () => {
    const prober = new ActiveProber(pools, health, () => ctx);
    const h = health.get('m/p/gpt-4o-mini');
    for (let i = 0; i < 2; i++) {
      h.onStart(Date.now());
      h.onFailure(Date.now(), 'upstream');
    }
    expect(h.circuitState(Date.now())).toBe('open');
    await new Promise((r) => setTimeout(r, 60));
    sim.setKnobs({ errorRates: { 503: 1 } });
    const before = sim.requestCount;
    await prober.probeAll();
    expect(sim.requestCount).toBe(before + 1);
    expect(h.circuitState(Date.now())).toBe('open');
    await new Promise((r) => setTimeout(r, 120));
    sim.setKnobs({ errorRates: {} });
    await prober.probeAll();
    expect(h.circuitState(Date.now())).toBe('closed');
    const probe = sim.received.at(-1)?.body as { max_tokens?: number };
    expect(probe.max_tokens).toBe(1);
    prober.stop();
  });
});
