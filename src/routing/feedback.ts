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

/** The columns of a stored usage record that feedback needs (analytics' `StoredRecord`). */
export interface RecordedRequest {
  status: number;
  task_cluster: string | null;
  served_group: string | null;
  auto_tier: string | null;
  key_id: string | null;
}

/**
 * What a stored usage record says about a routed request, as the book would have remembered it;
 * undefined for records feedback cannot refer to (failed, never routed, or written before the task
 * cluster was recorded).
 */
export function recordedOutcome(record: RecordedRequest | undefined): RoutedOutcome | undefined {
  if (!record || record.status >= 400 || !record.served_group || !CLUSTERS.has(record.task_cluster ?? '')) return undefined;
  const outcome: RoutedOutcome = { cluster: record.task_cluster as TaskCluster, model: record.served_group };
  const tier = TIER_LIST.find((t) => t !== undefined && t === record.auto_tier);
  if (tier !== undefined) outcome.tier = tier;
  if (record.key_id !== null) outcome.keyId = record.key_id;
  return outcome;
}

/**
 * The archive over a store of usage records (analytics' `getRequest`, SQLite or PostgreSQL) fed by
 * `sink`: catching up is the sink's flush, which writes the records still queued in memory. `scores`
 * writes a request's score into its record (src/store/{sqlite,postgres}/feedback-store.ts).
 */
export function usageRecordArchive(
  records: { getRequest(requestId: string): Promise<RecordedRequest | undefined> },
  sink: { flush(): Promise<void> },
  scores: Pick<FeedbackArchive, 'rate'>,
): FeedbackArchive {
  return {
    find: async (requestId) => recordedOutcome(await records.getRequest(requestId)),
    catchUp: () => sink.flush(),
    rate: (requestId, score) => scores.rate(requestId, score),
  };
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

/**
 * Where the aggregates live between restarts: the SQLite usage database (src/store/sqlite/
 * feedback-store.ts) or PostgreSQL, shared by every replica (src/store/postgres/feedback-store.ts).
 */
export interface FeedbackStore {
  /** Every aggregate. */
  load(): Promise<FeedbackAggregate[]>;
  /** Adds these increments to the stored aggregates, atomically. */
  add(increments: readonly FeedbackAggregate[]): Promise<void>;
  /** Other replicas add to the same aggregates: the book re-reads them periodically. */
  readonly shared?: boolean;
}

/**
 * Where feedback finds the requests it refers to: the usage records, every replica's. With one, the
 * book remembers no request itself. Never called on the request path.
 */
export interface FeedbackArchive {
  /** The outcome of a request whose usage record is stored; undefined when none is (yet). */
  find(requestId: string): Promise<RoutedOutcome | undefined>;
  /** Stores the records still queued in this process, so `find` knows every request it served. */
  catchUp(): Promise<void>;
  /**
   * Sets the request's score in its usage record and returns the one it replaced: null for its
   * first rating, undefined when there is no such record. Atomic per request, across replicas.
   */
  rate(requestId: string, score: number): Promise<number | null | undefined>;
}

export interface FeedbackBookOptions {
  store?: FeedbackStore;
  archive?: FeedbackArchive;
  /** Longest time an increment waits in memory before it is written (default 1 s). */
  flushIntervalMs?: number;
  /** How often a shared store's aggregates are re-read, so every replica learns from all feedback (default 10 s). */
  refreshIntervalMs?: number;
  /** Called when a read or write fails (unwritten increments are kept and retried). Must not throw. */
  onError?: (error: Error) => void;
}

/** How many routed requests a book without an archive remembers by default. */
export const DEFAULT_REMEMBERED = 20_000;

const CLUSTER_LIST: readonly TaskCluster[] = ['code', 'math', 'choice', 'extraction', 'translation', 'writing', 'chat'];
const CLUSTERS: ReadonlySet<string> = new Set<string>(CLUSTER_LIST);
/** Index 0: no tier (not auto-routed). */
const TIER_LIST: ReadonlyArray<QualityTier | undefined> = [undefined, 'economy', 'standard', 'premium'];

/**
 * Finds the routed requests feedback refers to, and aggregates the outcomes per cluster and model,
 * and per cluster for the cheaper tiers. With an archive (the usage records) the book remembers no
 * request itself: a request not found there yet has its record still queued, so the archive catches
 * up and is asked again; that costs the request path nothing and finds requests served by any
 * replica. Without one it remembers the most recent requests (bounded). With a store, `open()` loads
 * the aggregates and every read or write of the store runs one at a time, off the request path.
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
  /** The latest score given to the request in each slot; NaN before any. */
  private readonly scores: Float64Array;
  private next = 0;
  private readonly byModel = new Map<string, Tally>();
  private readonly cheapByCluster = new Map<TaskCluster, Tally>();
  private readonly store: FeedbackStore | undefined;
  private readonly archive: FeedbackArchive | undefined;
  private readonly flushIntervalMs: number;
  private readonly refreshIntervalMs: number;
  private readonly onError: (error: Error) => void;
  /** Increments not yet written, keyed like the aggregates. */
  private pending = new Map<string, FeedbackAggregate>();
  private timer: NodeJS.Timeout | undefined;
  private refreshTimer: NodeJS.Timeout | undefined;
  /** The store's reads and writes, chained so a re-read never overlaps a write. */
  private io: Promise<void> = Promise.resolve();

  constructor(
    private readonly maxRecent = DEFAULT_REMEMBERED,
    options: FeedbackBookOptions = {},
  ) {
    this.store = options.store;
    this.archive = options.archive;
    this.flushIntervalMs = options.flushIntervalMs ?? 1000;
    this.refreshIntervalMs = options.refreshIntervalMs ?? 10_000;
    this.onError = options.onError ?? (() => {});
    const capacity = this.archive ? 0 : maxRecent;
    this.ids = new Array<string | undefined>(capacity);
    this.models = new Array<string>(capacity);
    this.keyIds = new Array<string | undefined>(capacity);
    this.codes = new Uint8Array(capacity);
    this.scores = new Float64Array(capacity);
  }

  /** Whether `remember` keeps anything (false with an archive): callers can skip building outcomes. */
  get remembers(): boolean {
    return this.archive === undefined;
  }

  /** Loads the stored aggregates; with a shared store, re-reads them every `refreshIntervalMs`. */
  async open(): Promise<void> {
    const store = this.store;
    if (!store) return;
    await this.serially(async () => this.rebuild(await store.load())).catch((error: unknown) => this.report(error));
    if (store.shared && !this.refreshTimer) {
      this.refreshTimer = setInterval(() => void this.refresh(), this.refreshIntervalMs);
      this.refreshTimer.unref();
    }
  }

  /** Writes what is pending, then replaces the aggregates with the store's (every replica's feedback). */
  refresh(): Promise<void> {
    const store = this.store;
    if (!store) return Promise.resolve();
    return this.serially(async () => {
      await this.write();
      this.rebuild(await store.load());
    }).catch((error: unknown) => this.report(error));
  }

  /** Called for every routed request; the oldest are forgotten first. A no-op with an archive. */
  remember(requestId: string, outcome: RoutedOutcome): void {
    if (this.archive) return;
    let slot = this.slots.get(requestId);
    if (slot === undefined) {
      slot = this.next;
      const oldest = this.ids[slot];
      if (oldest !== undefined) this.slots.delete(oldest);
      this.ids[slot] = requestId;
      this.scores[slot] = Number.NaN;
      this.slots.set(requestId, slot);
      this.next = (this.next + 1) % this.maxRecent;
    }
    this.models[slot] = outcome.model;
    this.keyIds[slot] = outcome.keyId;
    this.codes[slot] = CLUSTER_LIST.indexOf(outcome.cluster) * 4 + TIER_LIST.indexOf(outcome.tier);
  }

  /** The archive's outcome of a request (after it caught up, if needed), else what this book remembers. */
  async find(requestId: string): Promise<RoutedOutcome | undefined> {
    const archive = this.archive;
    if (!archive) return this.lookup(requestId);
    const found = await archive.find(requestId);
    if (found) return found;
    await archive.catchUp();
    return archive.find(requestId);
  }

  /** Only what this book remembers. */
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

  /**
   * Rates a request `find` returned: its latest score replaces any earlier one, so rating a request
   * again changes its outcome but never counts it twice. Returns the score it replaced (null: none).
   */
  async rate(requestId: string, outcome: RoutedOutcome, score: number): Promise<number | null> {
    let previous: number | null = null;
    if (this.archive) previous = (await this.archive.rate(requestId, score)) ?? null;
    else {
      const slot = this.slots.get(requestId);
      if (slot !== undefined) {
        previous = Number.isNaN(this.scores[slot]) ? null : this.scores[slot];
        this.scores[slot] = score;
      }
    }
    this.record(outcome, score, previous);
    return previous;
  }

  /**
   * Counts a score in [0, 1] (thumbs up = 1, down = 0; ≥ 0.5 is a success); with `previous`, a
   * request rated before: its earlier score's success is taken back and it is not counted again.
   */
  record(outcome: RoutedOutcome, score: number, previous: number | null = null): void {
    const n = previous === null ? 1 : 0;
    const success = (score >= 0.5 ? 1 : 0) - (previous !== null && previous >= 0.5 ? 1 : 0);
    if (n === 0 && success === 0) return;
    add(this.byModel, `${outcome.cluster}\u0000${outcome.model}`, n, success);
    this.queue('model', outcome.cluster, outcome.model, n, success);
    if (outcome.tier && outcome.tier !== 'premium') {
      add(this.cheapByCluster, outcome.cluster, n, success);
      this.queue('cheap_tiers', outcome.cluster, '', n, success);
    }
  }

  /** Writes the pending increments now. */
  flush(): Promise<void> {
    return this.serially(() => this.write());
  }

  /** Stops the timers and writes what is pending (shutdown). */
  async close(): Promise<void> {
    if (this.refreshTimer) clearInterval(this.refreshTimer);
    this.refreshTimer = undefined;
    await this.flush();
  }

  private async write(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (!this.store || this.pending.size === 0) return;
    const batch = this.pending;
    this.pending = new Map();
    try {
      await this.store.add([...batch.values()]);
    } catch (error) {
      // Keep them for the next attempt, merged with whatever arrived meanwhile.
      for (const [key, a] of batch) {
        const later = this.pending.get(key);
        this.pending.set(key, later ? { ...a, n: a.n + later.n, success: a.success + later.success } : a);
      }
      this.report(error);
      this.schedule();
    }
  }

  /** The stored aggregates plus the increments not yet written. */
  private rebuild(stored: readonly FeedbackAggregate[]): void {
    // Summed per aggregate first: a pending re-rating carries n = 0 and a success of ±1.
    const totals = new Map<string, FeedbackAggregate>();
    for (const a of [...stored, ...this.pending.values()]) {
      const key = `${a.scope}\u0000${a.cluster}\u0000${a.model}`;
      const t = totals.get(key);
      if (t) {
        t.n += a.n;
        t.success += a.success;
      } else totals.set(key, { ...a });
    }
    this.byModel.clear();
    this.cheapByCluster.clear();
    for (const a of totals.values()) {
      if (!CLUSTERS.has(a.cluster) || !(a.n > 0)) continue;
      const success = Math.min(a.n, Math.max(0, a.success));
      if (a.scope === 'model') add(this.byModel, `${a.cluster}\u0000${a.model}`, a.n, success);
      else if (a.scope === 'cheap_tiers') add(this.cheapByCluster, a.cluster as TaskCluster, a.n, success);
    }
  }

  private serially(task: () => Promise<void>): Promise<void> {
    const run = this.io.then(task);
    this.io = run.catch(() => {});
    return run;
  }

  private report(error: unknown): void {
    this.onError(error instanceof Error ? error : new Error(String(error)));
  }

  private queue(scope: FeedbackAggregate['scope'], cluster: string, model: string, n: number, success: number): void {
    if (!this.store) return;
    const key = `${scope}\u0000${cluster}\u0000${model}`;
    const a = this.pending.get(key);
    if (a) {
      a.n += n;
      a.success += success;
    } else this.pending.set(key, { scope, cluster, model, n, success });
    this.schedule();
  }

  private schedule(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => void this.flush(), this.flushIntervalMs);
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

function add<K>(map: Map<K, Tally>, key: K, n: number, success: number): void {
  const t = map.get(key);
  if (t) {
    t.n += n;
    t.success += success;
  } else map.set(key, { n, success });
}
