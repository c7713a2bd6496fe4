// Learning from production: outcomes reported through POST /v1/feedback, aggregated per (task
// cluster, model). An optional policy shifts auto-routing's cost–quality knob per cluster when the
// cheaper tiers' observed success rate there is high (send more to cheap models) or low (fewer).
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

/**
 * Remembers recent auto-routed requests (bounded) so feedback can find them, and aggregates the
 * outcomes per cluster and model, and per cluster for the cheaper tiers.
 */
export class FeedbackBook {
  private readonly recent = new Map<string, RoutedOutcome>();
  /**
   * Request ids in the order they were first remembered. The oldest is found here, not with
   * `recent.keys().next()`: V8 leaves deleted slots at the front of a Map, so that call scanned
   * tens of thousands of them per request once the book was full (~25 µs per request).
   */
  private readonly order: Array<string | undefined> = [];
  private next = 0;
  private readonly byModel = new Map<string, Tally>();
  private readonly cheapByCluster = new Map<TaskCluster, Tally>();

  constructor(private readonly maxRecent = 100_000) {}

  /** Called for every routed request; the oldest are forgotten first. */
  remember(requestId: string, outcome: RoutedOutcome): void {
    if (!this.recent.has(requestId)) {
      const oldest = this.order[this.next];
      if (oldest !== undefined) this.recent.delete(oldest);
      this.order[this.next] = requestId;
      this.next = (this.next + 1) % this.maxRecent;
    }
    this.recent.set(requestId, outcome);
  }

  lookup(requestId: string): RoutedOutcome | undefined {
    return this.recent.get(requestId);
  }

  /** Records a score in [0, 1] (thumbs up = 1, down = 0); ≥ 0.5 counts as a success. */
  record(outcome: RoutedOutcome, score: number): void {
    const success = score >= 0.5 ? 1 : 0;
    bump(this.byModel, `${outcome.cluster}\u0000${outcome.model}`, success);
    if (outcome.tier && outcome.tier !== 'premium') bump(this.cheapByCluster, outcome.cluster, success);
  }

  stats(): Array<{ cluster: string; model: string; n: number; success_rate: number }> {
    return [...this.byModel.entries()].map(([k, t]) => {
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
