// Coordination between gateway replicas over Redis pub/sub: directory invalidations (a key revoked
// on one replica is refused by all), deployment health changes (a circuit opened by one replica is
// open on all), and config reloads. Delivery is at most once and typically within milliseconds;
// a replica that was disconnected may have missed messages, which `onResubscribe` reports so it can
// reload what it caches.
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { HealthEvent } from '../../routing/health/deployment-health.ts';

export type DirectoryEntity = 'key' | 'team' | 'user' | 'org' | 'budget';

export type BusEvent =
  | { type: 'directory'; entity: DirectoryEntity; id: string; op: 'put' | 'remove' }
  | { type: 'health'; deploymentId: string; event: HealthEvent }
  | { type: 'config_reload' };

/** What travels on the channel: the event and the replica that published it. */
export interface BusEnvelope {
  v: 1;
  origin: string;
  event: BusEvent;
}

export type BusHandler = (event: BusEvent, meta: { origin: string }) => void;

export interface RedisBusOptions {
  /** Connection used to PUBLISH (may be shared with the counters). */
  redis: Redis;
  /**
   * Dedicated connection for SUBSCRIBE (a subscribed connection can run nothing else). Default:
   * `redis.duplicate()`, owned and closed by the bus.
   */
  subscriber?: Redis;
  /** Channel name; replicas of one deployment share it (default `switchyard:events`). */
  channel?: string;
  /** This replica's id; events it published itself are not delivered back to it. */
  replicaId?: string;
  /**
   * Called after the subscriber reconnected and subscribed again. Messages published while it was
   * disconnected are lost (pub/sub keeps nothing), so reload the directory and config here.
   */
  onResubscribe?: () => void;
  /** A message that could not be parsed, or a handler that threw. */
  onError?: (error: unknown) => void;
}

const ENTITIES: ReadonlySet<string> = new Set<DirectoryEntity>(['key', 'team', 'user', 'org', 'budget']);

export class RedisBus {
  readonly replicaId: string;
  readonly channel: string;
  private readonly redis: Redis;
  private readonly subscriber: Redis;
  private readonly ownsSubscriber: boolean;
  private readonly handlers = new Set<BusHandler>();
  private subscribed: Promise<void> | undefined;
  private everReady = false;
  private closed = false;

  constructor(private readonly options: RedisBusOptions) {
    this.redis = options.redis;
    this.replicaId = options.replicaId ?? randomUUID();
    this.channel = options.channel ?? 'switchyard:events';
    this.ownsSubscriber = options.subscriber === undefined;
    // The subscriber queues its SUBSCRIBE until connected (unlike the fail-fast command connection),
    // and this class re-subscribes itself after a reconnect, so it knows when that is done.
    this.subscriber = options.subscriber ?? this.redis.duplicate({ enableOfflineQueue: true, autoResubscribe: false, commandTimeout: undefined });
    if (this.ownsSubscriber) this.subscriber.on('error', (err: Error) => void err);
    this.subscriber.on('message', this.onMessage);
    this.subscriber.on('ready', this.onReady);
    this.everReady = this.subscriber.status === 'ready';
  }

  /** Sends the event to every other replica. Rejects when Redis is unreachable. */
  async publish(event: BusEvent): Promise<void> {
    const envelope: BusEnvelope = { v: 1, origin: this.replicaId, event };
    await this.redis.publish(this.channel, JSON.stringify(envelope));
  }

  /**
   * Calls `handler` for every event another replica publishes. Resolves once the subscription is
   * live (events published after that are delivered); the returned function unsubscribes.
   */
  async subscribe(handler: BusHandler): Promise<() => void> {
    if (this.closed) throw new Error('bus is closed');
    this.handlers.add(handler);
    this.subscribed ??= this.subscriber.subscribe(this.channel).then(() => undefined);
    try {
      await this.subscribed;
    } catch (err) {
      this.subscribed = undefined;
      this.handlers.delete(handler);
      throw err;
    }
    return () => {
      this.handlers.delete(handler);
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.handlers.clear();
    this.subscriber.off('message', this.onMessage);
    this.subscriber.off('ready', this.onReady);
    if (this.ownsSubscriber) this.subscriber.disconnect();
    else if (this.subscribed) await this.subscriber.unsubscribe(this.channel).catch(() => undefined);
  }

  private readonly onReady = (): void => {
    if (!this.everReady) {
      this.everReady = true;
      return;
    }
    if (!this.subscribed || this.closed) return;
    this.subscriber.subscribe(this.channel).then(
      () => this.options.onResubscribe?.(),
      (err: unknown) => this.options.onError?.(err),
    );
  };

  private readonly onMessage = (channel: string, message: string): void => {
    if (channel !== this.channel) return;
    let envelope: BusEnvelope;
    try {
      envelope = parseEnvelope(message);
    } catch (err) {
      this.options.onError?.(err);
      return;
    }
    if (envelope.origin === this.replicaId) return;
    for (const handler of this.handlers) {
      try {
        handler(envelope.event, { origin: envelope.origin });
      } catch (err) {
        this.options.onError?.(err);
      }
    }
  };
}

/** Validates a message from the channel (another version of the gateway may have sent it). */
export function parseEnvelope(message: string): BusEnvelope {
  const value: unknown = JSON.parse(message);
  if (!isRecord(value) || value.v !== 1 || typeof value.origin !== 'string' || !isRecord(value.event)) throw new Error(`malformed bus message: ${message.slice(0, 200)}`);
  const event = parseEvent(value.event);
  if (!event) throw new Error(`unknown bus event: ${message.slice(0, 200)}`);
  return { v: 1, origin: value.origin, event };
}

function parseEvent(e: Record<string, unknown>): BusEvent | undefined {
  switch (e.type) {
    case 'directory':
      if (typeof e.entity !== 'string' || !ENTITIES.has(e.entity) || typeof e.id !== 'string' || (e.op !== 'put' && e.op !== 'remove')) return undefined;
      return { type: 'directory', entity: e.entity as DirectoryEntity, id: e.id, op: e.op };
    case 'health': {
      if (typeof e.deploymentId !== 'string' || !isRecord(e.event)) return undefined;
      const health = parseHealth(e.event);
      return health ? { type: 'health', deploymentId: e.deploymentId, event: health } : undefined;
    }
    case 'config_reload':
      return { type: 'config_reload' };
    default:
      return undefined;
  }
}

function parseHealth(h: Record<string, unknown>): HealthEvent | undefined {
  if (h.type === 'closed') return { type: 'closed' };
  if ((h.type === 'circuit_open' || h.type === 'cooldown') && typeof h.until === 'number' && Number.isFinite(h.until)) return { type: h.type, until: h.until };
  return undefined;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
