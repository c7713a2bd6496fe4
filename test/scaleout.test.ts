// Multi-replica mode end to end: THREE `switchyard serve` processes on different ports, sharing the
// machine's real PostgreSQL and Redis, in front of a simulator. Limits hold across replicas under 600
// concurrent requests, admin changes and health reach every replica within a second, and usage
// survives SIGKILL (all but in-flight requests) and SIGTERM (everything).
import { afterAll, beforeAll, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { createSimulator, type SimServer } from '../src/sim/index.ts';
import {
  acknowledged,
  admin,
  call,
  chat,
  clusterConfig,
  clusterScope,
  describeWithPostgresAndRedis,
  errorCode,
  MASTER,
  sleep,
  drain,
  startReplica,
  storedRequestIds,
  within,
  writeConfig,
  type ClusterScope,
  type Replica,
  type Reply,
} from './support/cluster.ts';
import { killAll } from './support/process.ts';

let scope: ClusterScope;
let sim: SimServer;
let flaky: SimServer;
let slow: SimServer;
let locked: SimServer;
let configPath: string;
let configText: string;
let replicas: Replica[] = [];
const measured: Record<string, number> = {};

function models(extra = ''): string {
  return `  - { name: gpt-4o-mini, deployments: [ { provider: sim, model: gpt-4o-mini } ] }
  - name: steered
    strategy: cost
    deployments:
      - { provider: flaky, model: gpt-4o-mini, priority: 0 }
      - { provider: sim, model: gpt-4o-mini, priority: 1 }
  - { name: slow, deployments: [ { provider: slow, model: gpt-4o-mini } ] }
  - name: guarded
    strategy: cost
    deployments:
      - { provider: locked, model: gpt-4o-mini, priority: 0 }
      - { provider: sim, model: gpt-4o-mini, priority: 1 }
  - { name: cheap, deployments: [ { provider: sim, model: gpt-4o-mini } ] }
  - { name: mid, deployments: [ { provider: sim, model: gpt-4.1-mini } ] }
  - { name: strong, deployments: [ { provider: sim, model: gpt-4.1 } ] }
${extra}`;
}

/** Auto-routing over three tiers, learning from feedback after three outcomes, re-read every 200 ms. */
const ROUTING = `routing:
  auto:
    models: [cheap, mid, strong]
    quality_target: 0.3
    learning: { enabled: true, min_samples: 3, target_success: 0.8, max_shift: 0.2, refresh_interval_ms: 200 }
`;

await describeWithPostgresAndRedis('scale-out: three replicas on PostgreSQL and Redis', () => {
  beforeAll(async () => {
    scope = await clusterScope('three');
    sim = createSimulator('openai', { ttftMs: 15, outputTokens: 12, tokensPerSecond: 2000 });
    flaky = createSimulator('openai', { rateLimitRate: 1, retryAfterSeconds: 120 });
    const simUrl = (await sim.listen(0, '127.0.0.1')).url;
    const flakyUrl = (await flaky.listen(0, '127.0.0.1')).url;
    // Streams that last about a second, to be in flight when a replica gets SIGTERM.
    slow = createSimulator('openai', { outputTokens: 20, tokensPerSecond: 20 });
    const slowUrl = (await slow.listen(0, '127.0.0.1')).url;
    // Rejects the gateway's credential: the first 401 forces its circuit open.
    locked = createSimulator('openai', { apiKey: 'not-the-configured-key' });
    const lockedUrl = (await locked.listen(0, '127.0.0.1')).url;
    const providers = `  - { name: sim, type: openai, base_url: "${simUrl}/v1", api_key: k }
  - { name: flaky, type: openai, base_url: "${flakyUrl}/v1", api_key: k }
  - { name: slow, type: openai, base_url: "${slowUrl}/v1", api_key: k }
  - { name: locked, type: openai, base_url: "${lockedUrl}/v1", api_key: k }`;
    configText = clusterConfig({ scope, providers, models: models(), routing: ROUTING });
    configPath = writeConfig(scope, 'switchyard.yaml', configText);
    // Started together, as a Deployment's pods are: migrations and the default org must not race.
    replicas = await Promise.all(['a', 'b', 'c'].map((name) => startReplica(name, configPath, scope)));
  }, 60_000);

  afterAll(async () => {
    killAll();
    await sim?.close();
    await flaky?.close();
    await slow?.close();
    await locked?.close();
    await scope?.cleanup();
    if (Object.keys(measured).length > 0) console.info('[scaleout] measured', measured);
  });

  it('a key created on replica A works on B and C at once', async () => {
    const [a, b, c] = replicas;
    const created = await admin(a.url, 'POST', 'keys', { name: 'everywhere' });
    expect(created.status).toBe(201);
    const secret = created.json.key as string;
    for (const r of [b, c]) {
      await within(1000, async () => (await chat(r.url, secret)).status === 200, `key usable on ${r.name}`);
    }
  });

  it('600 concurrent requests across the replicas: spend stays within the hard budget, admissions within the RPM limit', async () => {
    const [a, b, c] = replicas;
    const budgetUsd = 0.0008;
    const budgeted = await admin(a.url, 'POST', 'keys', { name: 'budgeted', budget: { max_usd: budgetUsd, period: 'total', hard: true } });
    const limited = await admin(a.url, 'POST', 'keys', { name: 'rpm-60', limits: { rpm: 60 } });
    expect([budgeted.status, limited.status]).toEqual([201, 201]);
    const budgetKey = budgeted.json.key as string;
    const rpmKey = limited.json.key as string;
    // Both keys must be known everywhere before the burst.
    for (const r of [b, c]) {
      await within(1000, async () => (await call(r.url, 'GET', '/v1/models', rpmKey)).status === 200 && (await call(r.url, 'GET', '/v1/models', budgetKey)).status === 200, 'keys propagated');
    }
    const targets = [a, b, c];
    const started = performance.now();
    const replies = await Promise.all(
      Array.from({ length: 600 }, (_, i) => {
        const key = i % 2 === 0 ? budgetKey : rpmKey;
        return chat(targets[i % 3].url, key, { maxTokens: 12 }).then((reply) => ({ reply, key, replica: targets[i % 3].name }));
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    measured.burst600_seconds = Number(seconds.toFixed(2));
    measured.burst600_req_per_s_per_replica = Math.round(600 / seconds / 3);

    const rpm = replies.filter((r) => r.key === rpmKey);
    const rpmAdmitted = rpm.filter((r) => r.reply.status === 200);
    const rpmRefused = rpm.filter((r) => r.reply.status === 429);
    expect(rpmAdmitted.length).toBeLessThanOrEqual(60);
    expect(rpmAdmitted.length).toBeGreaterThan(50);
    const other = rpm.filter((r) => r.reply.status !== 200 && r.reply.status !== 429).map((r) => `${r.reply.status} ${r.reply.error ?? r.reply.body.slice(0, 200)}`);
    expect(other).toEqual([]);
    // Admissions came from every replica: the limit is shared, not per replica.
    expect(new Set(rpmAdmitted.map((r) => r.replica)).size).toBe(3);

    const spend = replies.filter((r) => r.key === budgetKey);
    const paid = spend.filter((r) => r.reply.status === 200);
    const refused = spend.filter((r) => r.reply.status === 402 || errorCode(r.reply) === 'budget_exceeded');
    expect(paid.length).toBeGreaterThan(10);
    expect(refused.length).toBeGreaterThan(0);
    expect(paid.length + refused.length).toBe(300);
    const total = paid.reduce((sum, r) => sum + Number(r.reply.headers['x-switchyard-cost-usd']), 0);
    expect(total).toBeGreaterThan(0);
    expect(total).toBeLessThanOrEqual(budgetUsd + 1e-12);
    // The shared counters agree with what clients were charged.
    const status = await admin(b.url, 'GET', `keys/${budgeted.json.id as string}`);
    expect(status.json.spend_usd as number).toBeCloseTo(total, 9);
    expect(status.json.spend_usd as number).toBeLessThanOrEqual(budgetUsd + 1e-12);
  });

  it('a concurrency limit of 4 holds across the replicas', async () => {
    const [a, b, c] = replicas;
    const created = await admin(a.url, 'POST', 'keys', { name: 'four-at-a-time', limits: { max_concurrency: 4 } });
    const secret = created.json.key as string;
    for (const r of [b, c]) await within(1000, async () => (await call(r.url, 'GET', '/v1/models', secret)).status === 200, `key on ${r.name}`);
    // Twelve one-second streams at once, four per replica: only four may run anywhere.
    const replies = await Promise.all(Array.from({ length: 12 }, (_, i) => chat(replicas[i % 3].url, secret, { model: 'slow', stream: true })));
    const admitted = replies.filter((r) => r.status === 200);
    const refused = replies.filter((r) => r.status === 429 && errorCode(r) === 'concurrency_limit_exceeded');
    expect(admitted.length).toBeLessThanOrEqual(4);
    expect(admitted.length).toBeGreaterThan(0);
    expect(admitted.length + refused.length).toBe(12);
    // The slots came back: the next one is admitted.
    expect((await chat(b.url, secret)).status).toBe(200);
  });

  it('a key revoked through replica A is refused by B and C within one second', async () => {
    const [a, b, c] = replicas;
    const created = await admin(a.url, 'POST', 'keys', { name: 'to-revoke' });
    const secret = created.json.key as string;
    for (const r of [b, c]) await within(1000, async () => (await chat(r.url, secret)).status === 200, `key usable on ${r.name}`);
    const revokedAt = performance.now();
    expect((await admin(a.url, 'DELETE', `keys/${created.json.id as string}`)).status).toBeLessThan(300);
    const refusedIn = await Promise.all(
      [b, c].map(async (r) => {
        await within(1000, async () => {
          const reply = await chat(r.url, secret);
          return reply.status === 401 && errorCode(reply) === 'revoked_api_key';
        }, `revocation on ${r.name}`);
        return performance.now() - revokedAt;
      }),
    );
    measured.revocation_visible_ms = Math.round(Math.max(...refusedIn));
    for (const ms of refusedIn) expect(ms).toBeLessThan(1000);
  });

  it('policy and budget changes made on replica A apply on B and C within one second', async () => {
    const [a, b, c] = replicas;
    const created = await admin(a.url, 'POST', 'keys', { name: 'governed' });
    const secret = created.json.key as string;
    const keyId = created.json.id as string;
    const visible = async (url: string) => (JSON.parse((await call(url, 'GET', '/v1/models', secret)).body) as { data?: Array<{ id: string }> }).data?.map((m) => m.id) ?? [];
    for (const r of [b, c]) await within(1000, async () => (await visible(r.url)).includes('steered'), `key on ${r.name}`);

    // Policy: the key may only use gpt-4o-mini from now on.
    expect((await admin(a.url, 'PATCH', `keys/${keyId}`, { models: ['gpt-4o-mini'] })).status).toBe(200);
    for (const r of [b, c]) {
      await within(1000, async () => {
        const ids = await visible(r.url);
        return ids.includes('gpt-4o-mini') && !ids.includes('steered');
      }, `policy on ${r.name}`);
    }

    // Budget: a new hard budget too small for any request is enforced at once everywhere…
    const budget = await admin(a.url, 'POST', 'budgets', { scope: 'key', scope_id: keyId, max_usd: 1e-9, period: 'total', hard: true });
    expect(budget.status).toBe(201);
    for (const r of [b, c]) await within(1000, async () => errorCode(await chat(r.url, secret)) === 'budget_exceeded', `budget on ${r.name}`);
    // …and raising it is too.
    expect((await admin(a.url, 'PATCH', `budgets/${budget.json.id as string}`, { max_usd: 10 })).status).toBe(200);
    for (const r of [b, c]) await within(1000, async () => (await chat(r.url, secret)).status === 200, `raised budget on ${r.name}`);
  });

  it('a provider 429 cool-down seen by replica A steers B and C away from it', async () => {
    const [a, b, c] = replicas;
    const first = await chat(a.url, MASTER, { model: 'steered' });
    expect(first.status).toBe(200);
    expect(first.headers['x-switchyard-provider']).toBe('sim');
    expect(Number(first.headers['x-switchyard-attempts'])).toBeGreaterThanOrEqual(2);
    const flakyCalls = flaky.received.length;
    for (const r of [b, c]) {
      await within(1000, async () => {
        const plan = await call(r.url, 'POST', '/v1/route/explain', MASTER, { model: 'steered', messages: [{ role: 'user', content: 'hi' }] });
        const body = JSON.parse(plan.body) as { groups: Array<{ candidates: Array<{ provider: string; health: { cooldown_until: number | null } }> }> };
        return body.groups[0].candidates.some((cand) => cand.provider === 'flaky' && cand.health.cooldown_until !== null);
      }, `cool-down on ${r.name}`);
      const reply = await chat(r.url, MASTER, { model: 'steered' });
      expect(reply.status).toBe(200);
      expect(reply.headers['x-switchyard-attempts']).toBe('1');
    }
    // B and C never tried the rate-limited provider themselves.
    expect(flaky.received.length).toBe(flakyCalls);
  });

  it('a circuit opened on replica A (the provider rejected our credential) is open on B and C', async () => {
    const [a, b, c] = replicas;
    const first = await chat(a.url, MASTER, { model: 'guarded' });
    expect(first.status).toBe(200);
    expect(first.headers['x-switchyard-provider']).toBe('sim');
    const lockedCalls = locked.received.length;
    expect(lockedCalls).toBeGreaterThan(0);
    for (const r of [b, c]) {
      await within(1000, async () => {
        const plan = await call(r.url, 'POST', '/v1/route/explain', MASTER, { model: 'guarded', messages: [{ role: 'user', content: 'hi' }] });
        const body = JSON.parse(plan.body) as { groups: Array<{ candidates: Array<{ provider: string; health: { state: string } }> }> };
        return body.groups[0].candidates.some((cand) => cand.provider === 'locked' && cand.health.state === 'open');
      }, `open circuit on ${r.name}`);
      const reply = await chat(r.url, MASTER, { model: 'guarded' });
      expect(reply.status).toBe(200);
      expect(reply.headers['x-switchyard-attempts']).toBe('1');
    }
    expect(locked.received.length).toBe(lockedCalls);
  });

  it('feedback sent to any replica finds the request wherever it was served, and every replica learns from it', async () => {
    const [a, b, c] = replicas;
    const ask = (r: Replica): Promise<Reply> =>
      call(r.url, 'POST', '/v1/chat/completions', MASTER, { model: 'auto', messages: [{ role: 'user', content: 'Say hello to the cluster.' }], max_tokens: 8 });
    const served: string[] = [];
    for (let i = 0; i < 3; i++) {
      const reply = await ask(a);
      expect(reply.status).toBe(200);
      expect(reply.headers['x-switchyard-auto-tier']).toBe('economy');
      served.push(reply.requestId ?? '');
    }
    // B and C never saw these requests: they find them in the shared usage records once written.
    for (const [i, id] of served.entries()) {
      const r = i === 1 ? c : b;
      let answer: Reply | undefined;
      await within(5000, async () => (answer = await call(r.url, 'POST', '/v1/feedback', MASTER, { request_id: id, rating: 'down' })).status !== 404, `request ${id} found on ${r.name}`);
      expect(answer?.status).toBe(200);
      expect(JSON.parse(answer?.body ?? '{}')).toMatchObject({ object: 'feedback', request_id: id, score: 0, cluster: 'chat', model: 'cheap', tier: 'economy' });
    }
    // The cheap tier failed every time on 'chat': every replica, A included, moves that cluster up a tier.
    for (const r of [a, b, c]) await within(5000, async () => (await ask(r)).headers['x-switchyard-auto-tier'] === 'standard', `learned on ${r.name}`);
    const unknown = await call(c.url, 'POST', '/v1/feedback', MASTER, { request_id: 'req_0000000000000000000000000000dead', rating: 'up' });
    expect([unknown.status, errorCode(unknown)]).toEqual([404, 'unknown_request']);
  });

  it('SIGHUP on replica A makes every replica re-read its config within one second', async () => {
    const [a, b, c] = replicas;
    writeFileSync(configPath, clusterConfig({ scope, providers: configText.split('providers:\n')[1].split('models:\n')[0].trimEnd(), models: models('  - { name: added-on-reload, deployments: [ { provider: sim, model: gpt-4o-mini } ] }'), routing: ROUTING }));
    a.proc.child.kill('SIGHUP');
    for (const r of [a, b, c]) {
      await within(1000, async () => (await call(r.url, 'GET', '/v1/models', MASTER)).body.includes('added-on-reload'), `reload on ${r.name}`);
    }
  });

  it('under load, SIGKILL loses no acknowledged usage record (journal recovered on restart) and SIGTERM loses none', async () => {
    const [a, b, c] = replicas;
    const loadStart = Date.now();
    const acked = new Map<string, Set<string>>(replicas.map((r) => [r.name, new Set<string>()]));
    // Requests sent to B that got no acknowledged answer; those sent before B died were in flight then.
    const unansweredB: number[] = [];
    let diedAt = 0;
    void b.proc.exit.then(() => (diedAt = performance.now()));
    let stop = false;
    let sent = 0;
    const worker = async (w: number): Promise<void> => {
      for (let i = 0; !stop; i++) {
        const target = replicas[(w + i) % 3];
        const stream = i % 4 === 0;
        const startedAt = performance.now();
        sent++;
        const reply: Reply = await chat(target.url, MASTER, { stream });
        const ok = acknowledged(reply, stream) && reply.requestId !== undefined;
        if (ok && reply.requestId) acked.get(target.name)?.add(reply.requestId);
        if (target.name === 'b' && !ok) unansweredB.push(startedAt);
        if (reply.status === 0) await sleep(5);
      }
    };
    const workers = Array.from({ length: 48 }, (_, w) => worker(w));
    const ackedBy = (name: string) => acked.get(name)?.size ?? 0;
    // Mid-load, however slow the machine: each replica has answered a good number of requests first.
    await within(15_000, async () => ackedBy('b') >= 25, 'load on B');
    b.proc.child.kill('SIGKILL');
    const cBefore = ackedBy('c');
    await within(15_000, async () => ackedBy('c') >= cBefore + 10, 'load on C after the kill');
    // SIGTERM mid-load: stops accepting, finishes what it has (streams included), flushes, exits 0.
    const slowStreams = [chat(c.url, MASTER, { model: 'slow', stream: true }), chat(c.url, MASTER, { model: 'slow', stream: true })];
    await sleep(300);
    const terminated = drain(c);
    await sleep(800);
    stop = true;
    await Promise.all(workers);
    await terminated;
    // The streams in flight at SIGTERM ran to their end, and were acknowledged.
    for (const reply of await Promise.all(slowStreams)) {
      expect(acknowledged(reply, true)).toBe(true);
      if (reply.requestId) acked.get('c')?.add(reply.requestId);
    }
    expect(await b.proc.exit).toBe(null);
    const inFlightAtKill = unansweredB.filter((t) => t < diedAt).length;
    measured.load_requests_sent = sent;

    // What SIGKILL left in memory is lost to PostgreSQL until the replica restarts on its own journal
    // (a Kubernetes container restart keeps the pod's emptyDir; compose keeps the volume).
    const storedAfterKill = await storedRequestIds(scope.pool);
    measured.sigkill_in_flight = inFlightAtKill;
    measured.sigkill_acked_not_yet_stored = [...(acked.get('b') ?? [])].filter((id) => !storedAfterKill.has(id)).length;
    const restarted = await startReplica('b', configPath, scope);
    expect(restarted.proc.output()).toMatch(/recovered from the journal|listening on/);
    await drain(restarted);
    await drain(a);

    const stored = await storedRequestIds(scope.pool);
    const missing = (name: string) => [...(acked.get(name) ?? [])].filter((id) => !stored.has(id));
    for (const name of ['a', 'b', 'c']) expect(acked.get(name)?.size).toBeGreaterThanOrEqual(25);
    expect(missing('c')).toEqual([]);
    expect(missing('a')).toEqual([]);
    // The contract allows losing the in-flight requests' records; the journal loses none that was acknowledged.
    expect(missing('b')).toEqual([]);
    // Records without an acknowledgement can only be requests that were in flight when B was killed.
    const allAcked = new Set([...acked.values()].flatMap((set) => [...set]));
    const unacknowledged = [...(await storedRequestIds(scope.pool, loadStart))].filter((id) => !allAcked.has(id));
    measured.stored_without_ack = unacknowledged.length;
    expect(unacknowledged.length).toBeLessThanOrEqual(inFlightAtKill);
  }, 60_000);
});
