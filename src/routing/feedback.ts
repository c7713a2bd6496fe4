// Learning from production: outcomes reported through POST /v1/feedback, aggregated per (task
// cluster, model). An optional policy shifts auto-routing's cost–quality knob per cluster when the
// cheaper tiers' observed success rate there is high (send more to cheap models) or low (fewer).
// With a store, the aggregates survive restarts: loaded once at start, increments written in batches
// off the request path.
import type { ChatRequest } from '../core/canonical.ts';
import { contentText } from '../core/canonical.ts';
import type { QualityTier } from './auto.ts';

export type TaskCluster = 'code' | 'math' | 'choice' | 'extraction' | 'translation' | 'writing' | 'chat';

const CODE = /```|\b(function|def|class|return|import|const|SELECT|public static|#include)\b|[{};]\s*$/m;
const MATH = /\d\s*[-+*/^=]\s*\d|\\frac|\\sum|\bsolve\b|\bequation\b|\bprobability\b|\bintegral\b/i;
const CHOICE = /(^|\n)\s*\(?[A-D][).:]\s+\S/;
const EXTRACTION = /\b(extract|list all|find all|parse|fields?|json)\b/i;
const TRANSLATION = /\btranslat(e|ion)\b|\binto (english|french|german|spanish|chinese|japanese)\b/i;
const WRITING = /\b(write|essay|story|poem|blog|email|draft|rewrite)\b/i;

/** A coarse, language-light task label of the last user turn; cheap enough for every request. */
export function taskCluster(req: ChatRequest): TaskCluster {
  let text = '';
  for (let i = req.messages.length - 1; i >= 0; i--) {
    const m = req.messages[i];
    if (m.role === 'user') {
      text = contentText(m.content).slice(0, 4000);
      break;
    }
  }
  if (CODE.test(text)) return 'code';
  if (MATH.test(text)) return 'math';
  if (CHOICE.test(text)) return 'choice';
  if (TRANSLATION.test(text)) return 'translation';
  if (EXTRACTION.test(text)) return 'extraction';
  if (WRITING.test(text)) return 'writing';
  return 'chat';
}

export interface RoutedOutcome {
  cluster: TaskCluster;
  model: string;
  tier?: QualityTier;
  /** Key that made the request; feedback must come from the same key (or the master key). */
  keyId?: string;
}

export interface LearningConfig {
  enabled: boolean;
  min_samples: number;
  target_success: number;
  max_shift: number;
}

interface Tally {
  n: number;
  success: number;
}

/** One persisted aggregate: per (cluster, model), or per cluster for the cheaper tiers (`model` empty). */
export interface FeedbackAggregate {
  scope: 'model' | 'cheap_tiers';
  cluster: string;
  model: string;
  n: number;
  success: number;
}

/** Where the aggregates live between restarts (src/store/sqlite/feedback-store.ts). */
export interface FeedbackStore {
  /** Every aggregate; read once, at start-up. */
  load(): FeedbackAggregate[];
  /** Adds these increments to the stored aggregates, atomically. */
  add(increments: readonly FeedbackAggregate[]): void;
}

export interface FeedbackBookOptions {
  store?: FeedbackStore;
  /** Longest time an increment waits in memory before it is written (default 1 s). */
  flushIntervalMs?: number;
  /** Called when a write fails (the increments are kept and retried). Must not throw. */
  onError?: (error: Error) => void;
}

const CLUSTER_LIST: readonly TaskCluster[] = ['code', 'math', 'choice', 'extraction', 'translation', 'writing', 'chat'];
const CLUSTERS: ReadonlySet<string> = new Set<string>(CLUSTER_LIST);
/** Index 0: no tier (not auto-routed). */
const TIER_LIST: ReadonlyArray<QualityTier | undefined> = [undefined, 'economy', 'standard', 'premium'];

/**
 * Remembers recent auto-routed requests (bounded) so feedback can find them, and aggregates the
 * outcomes per cluster and model, and per cluster for the cheaper tiers.
 */
export class FeedbackBook {
  /**
   * Remembered requests live in slots of a ring: the slot of each request id, and per slot its id
   * and outcome spread over arrays, so remembering a request allocates no object (~45 bytes per
   * request held instead of ~100). The oldest id is the one in the next slot, never found with
   * `keys().next()`: V8 leaves deleted slots at the front of a Map, so that call scanned tens of
   * thousands of them per request once the book was full (~25 µs per request).
   */
  private readonly slots = new Map<string, number>();
  private readonly ids: Array<string | undefined>;
  private readonly models: string[];
  private readonly keyIds: Array<string | undefined>;
  /** Cluster index × 4 + tier index. */
  private readonly codes: Uint8Array;
  private next = 0;
  private readonly byModel = new Map<string, Tally>();
  private readonly cheapByCluster = new Map<TaskCluster, Tally>();
  private readonly store: FeedbackStore | undefined;
  private readonly flushIntervalMs: number;
  private readonly onError: (error: Error) => void;
  /** Increments not yet written, keyed like the aggregates. */
  private pending = new Map<string, FeedbackAggregate>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly maxRecent = 100_000,
    options: FeedbackBookOptions = {},
  ) {
    this.store = options.store;
    this.flushIntervalMs = options.flushIntervalMs ?? 1000;
    this.onError = options.onError ?? (() => {});
    this.ids = new Array<string | undefined>(maxRecent);
    this.models = new Array<string>(maxRecent);
    this.keyIds = new Array<string | undefined>(maxRecent);
    this.codes = new Uint8Array(maxRecent);
    for (const a of this.store?.load() ?? []) {
      if (!CLUSTERS.has(a.cluster) || !(a.n > 0)) continue;
      const tally = { n: a.n, success: Math.min(a.n, Math.max(0, a.success)) };
      if (a.scope === 'model') this.byModel.set(`${a.cluster}\u0000${a.model}`, tally);
      else this.cheapByCluster.set(a.cluster as TaskCluster, tally);
    }
  }

  /** Called for every routed request; the oldest are forgotten first. */
  remember(requestId: string, outcome: RoutedOutcome): void {
    let slot = this.slots.get(requestId);
    if (slot === undefined) {
      slot = this.next;
      const oldest = this.ids[slot];
      if (oldest !== undefined) this.slots.delete(oldest);
      this.ids[slot] = requestId;
      this.slots.set(requestId, slot);
      this.next = (this.next + 1) % this.maxRecent;
    }
    this.models[slot] = outcome.model;
    this.keyIds[slot] = outcome.keyId;
    this.codes[slot] = CLUSTER_LIST.indexOf(outcome.cluster) * 4 + TIER_LIST.indexOf(outcome.tier);
  }

  lookup(requestId: string): RoutedOutcome | undefined {
    const slot = this.slots.get(requestId);
    if (slot === undefined) return undefined;
    const code = this.codes[slot];
    const outcome: RoutedOutcome = { cluster: CLUSTER_LIST[code >> 2], model: this.models[slot] };
    const tier = TIER_LIST[code & 3];
    if (tier !== undefined) outcome.tier = tier;
    const keyId = this.keyIds[slot];
    if (keyId !== undefined) outcome.keyId = keyId;
    return outcome;
  }

  /** Records a score in [0, 1] (thumbs up = 1, down = 0); ≥ 0.5 counts as a success. */
  record(outcome: RoutedOutcome, score: number): void {
    const success = score >= 0.5 ? 1 : 0;
    bump(this.byModel, `${outcome.cluster}\u0000${outcome.model}`, success);
    this.queue('model', outcome.cluster, outcome.model, success);
    if (outcome.tier && outcome.tier !== 'premium') {
      bump(this.cheapByCluster, outcome.cluster, success);
      this.queue('cheap_tiers', outcome.cluster, '', success);
    }
  }

  /** Writes the pending increments now. */
  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (!this.store || this.pending.size === 0) return;
    const batch = this.pending;
    this.pending = new Map();
    try {
      this.store.add([...batch.values()]);
    } catch (error) {
      // Keep them for the next attempt, merged with whatever arrived meanwhile.
      for (const [key, a] of batch) {
        const later = this.pending.get(key);
        this.pending.set(key, later ? { ...a, n: a.n + later.n, success: a.success + later.success } : a);
      }
      this.onError(error instanceof Error ? error : new Error(String(error)));
      this.schedule();
    }
  }

  /** Flushes and stops the timer (shutdown). */
  close(): void {
    this.flush();
  }

  private queue(scope: FeedbackAggregate['scope'], cluster: string, model: string, success: number): void {
    if (!this.store) return;
    const key = `${scope}\u0000${cluster}\u0000${model}`;
    const a = this.pending.get(key);
    if (a) {
      a.n++;
      a.success += success;
    } else this.pending.set(key, { scope, cluster, model, n: 1, success });
    this.schedule();
  }

  private schedule(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => this.flush(), this.flushIntervalMs);
    this.timer.unref();
  }

  stats(): Array<{ cluster: string; model: string; n: number; success_rate: number }> {
    return [...this.byModel.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([k, t]) => {
        const [cluster, model] = k.split('\u0000');
        return { cluster, model, n: t.n, success_rate: t.success / t.n };
      });
  }

  /**
   * Shift of the quality knob for a cluster: negative (more traffic to cheap tiers) when the cheap
   * tiers succeed above the target there, positive when below; zero until enough samples.
   */
  shift(cluster: TaskCluster, config: LearningConfig): number {
    if (!config.enabled) return 0;
    const t = this.cheapByCluster.get(cluster);
    if (!t || t.n < config.min_samples) return 0;
    const rate = t.success / t.n;
    return Math.max(-config.max_shift, Math.min(config.max_shift, config.target_success - rate));
  }
}

function bump<K>(map: Map<K, Tally>, key: K, success: number): void {
  const t = map.get(key);
  if (t) {
    t.n++;
    t.success += success;
  } else map.set(key, { n: 1, success });
}
