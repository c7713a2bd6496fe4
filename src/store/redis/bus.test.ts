import type { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { RedisBus, parseEnvelope, type BusEvent } from './bus.ts';
import { eventually, redisReachable, testConnection, uniquePrefix } from './testing.ts';

const up = await redisReachable('store/redis/bus.test.ts');
const connections: Redis[] = [];
const buses: RedisBus[] = [];

async function connection(): Promise<Redis> {
  const redis = await testConnection('bus-test');
  connections.push(redis);
  return redis;
}

async function bus(channel: string, options: Partial<ConstructorParameters<typeof RedisBus>[0]> = {}): Promise<RedisBus> {
  const b = new RedisBus({ redis: await connection(), channel, ...options });
  buses.push(b);
  return b;
}

afterAll(async () => {
  for (const b of buses) await b.close();
  for (const redis of connections) redis.disconnect();
});

describe.skipIf(!up)('RedisBus', () => {
  it('delivers another replica’s events within a second, and never a replica’s own', async () => {
    const channel = `${uniquePrefix('bus')}events`;
    const a = await bus(channel, { replicaId: 'replica-a' });
    const b = await bus(channel, { replicaId: 'replica-b' });
    const atA: Array<[BusEvent, string]> = [];
    const atB: Array<[BusEvent, number]> = [];
    await a.subscribe((event, meta) => atA.push([event, meta.origin]));
    await b.subscribe((event) => atB.push([event, performance.now()]));

    const latencies: number[] = [];
    for (let i = 0; i < 20; i++) {
      const sent = performance.now();
      await a.publish({ type: 'directory', entity: 'key', id: `key_${i}`, op: 'remove' });
      await eventually(() => atB.length === i + 1, 1000, `event ${i} at replica b`);
      latencies.push(atB[i][1] - sent);
    }
    latencies.sort((x, y) => x - y);
    console.info(`bus delivery latency over 20 events: median ${latencies[10].toFixed(2)} ms, max ${latencies[19].toFixed(2)} ms`);
    expect(latencies[19]).toBeLessThan(1000);
    expect(atB[3][0]).toEqual({ type: 'directory', entity: 'key', id: 'key_3', op: 'remove' });

    const health: BusEvent = { type: 'health', deploymentId: 'openai/gpt-4o@east', event: { type: 'circuit_open', until: 1_700_000_000_000 } };
    await b.publish(health);
    await b.publish({ type: 'config_reload' });
    await eventually(() => atA.length === 2, 1000, 'events at replica a');
    expect(atA).toEqual([
      [health, 'replica-b'],
      [{ type: 'config_reload' }, 'replica-b'],
    ]);
    // Neither saw its own events.
    expect(atB).toHaveLength(20);
  });

  it('re-subscribes after its subscriber connection drops, and says so', async () => {
    const channel = `${uniquePrefix('bus')}events`;
    const subscriberBase = await connection();
    const subscriber = subscriberBase.duplicate({ enableOfflineQueue: true, autoResubscribe: false, commandTimeout: undefined });
    connections.push(subscriber);
    let resubscribed = 0;
    const b = await bus(channel, { subscriber, onResubscribe: () => resubscribed++ });
    const a = await bus(channel);
    const seen: BusEvent[] = [];
    await b.subscribe((event) => seen.push(event));
    await a.publish({ type: 'config_reload' });
    await eventually(() => seen.length === 1, 1000, 'first event');

    subscriber.disconnect(true); // drop the socket; ioredis reconnects
    await eventually(() => resubscribed === 1, 5000, 're-subscription');
    await a.publish({ type: 'directory', entity: 'budget', id: 'bud_1', op: 'put' });
    await eventually(() => seen.length === 2, 1000, 'event after reconnect');
    expect(seen[1]).toEqual({ type: 'directory', entity: 'budget', id: 'bud_1', op: 'put' });
  });

  it('drops malformed or unknown messages and reports them', async () => {
    const channel = `${uniquePrefix('bus')}events`;
    const errors: unknown[] = [];
    const b = await bus(channel, { onError: (err) => errors.push(err) });
    const seen: BusEvent[] = [];
    await b.subscribe((event) => seen.push(event));
    const raw = connections[0];
    await raw.publish(channel, 'not json');
    await raw.publish(channel, JSON.stringify({ v: 1, origin: 'x', event: { type: 'directory', entity: 'planet', id: 'p', op: 'put' } }));
    await raw.publish(channel, JSON.stringify({ v: 1, origin: 'x', event: { type: 'health', deploymentId: 'd', event: { type: 'cooldown' } } }));
    await raw.publish(channel, JSON.stringify({ v: 1, origin: 'x', event: { type: 'config_reload' } }));
    await eventually(() => seen.length === 1 && errors.length === 3, 1000, 'messages');
    expect(seen).toEqual([{ type: 'config_reload' }]);
  });
});

describe('parseEnvelope', () => {
  it('round-trips every event type', () => {
    const events: BusEvent[] = [
      { type: 'directory', entity: 'org', id: 'o', op: 'put' },
      { type: 'health', deploymentId: 'd', event: { type: 'cooldown', until: 5 } },
      { type: 'health', deploymentId: 'd', event: { type: 'closed' } },
      { type: 'config_reload' },
    ];
    for (const event of events) expect(parseEnvelope(JSON.stringify({ v: 1, origin: 'r', event })).event).toEqual(event);
    expect(() => parseEnvelope(JSON.stringify({ v: 2, origin: 'r', event: { type: 'config_reload' } }))).toThrow(/malformed/);
  });
});
