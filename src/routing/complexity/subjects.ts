// A compact multinomial naive Bayes subject model over hashed word n-gram buckets, for the complexity
// classifier's multiple-choice side: P(subject | prompt) from the word buckets the feature extractor already
// produces, and the expected quality gap of the prompt's subject, Σ_s P(s | x) · gap_s, as one extra feature.
//
// Each prompt counts as the set of its distinct word buckets (binary multinomial naive Bayes). With add-α
// smoothing, log P(w | s) = log(α / (N_s + αV)) + log(1 + c_ws / α), where c_ws is the number of training
// prompts of subject s that contain bucket w, N_s = Σ_w c_ws and V the vocabulary (kept buckets + 1 for every
// unseen one). Only the pairs (w, s) with c_ws > 0 differ from the per-subject constant, so the model stores
// those pairs plus per-subject constants, and scoring a prompt costs one pass over its buckets plus one
// softmax over the subjects.

/** The subject model as stored in model.json (`weights.subjects`). */
export interface SubjectModelJson {
  /** Subject (category) names, in index order. */
  names: string[];
  /** log P(s) (training prompt share). */
  logPrior: number[];
  /** N_s: summed bucket counts of each subject. */
  total: number[];
  /** Expected quality gap of each subject (shrunk training mean), the value the posterior averages. */
  gap: number[];
  /** Add-α smoothing. */
  alpha: number;
  /** Vocabulary size V used in the smoothing (kept buckets + 1). */
  vocabulary: number;
  /** Posterior temperature: P(s | x) ∝ exp(score_s / temperature). */
  temperature: number;
  /** Kept buckets as ascending gaps (bucket[k] = bucket[k - 1] + delta[k], from 0)… */
  delta: number[];
  /** …how many (subject, count) entries each kept bucket has… */
  entries: number[];
  /** …and the entries, bucket after bucket, each as one integer: subject index + subjects × (c_ws − 1). */
  entry: number[];
}

/** Subject index and count c_ws of a stored entry. */
export function decodeEntry(entry: number, subjects: number): { subject: number; count: number } {
  const subject = entry % subjects;
  return { subject, count: (entry - subject) / subjects + 1 };
}

export interface SubjectFitOptions {
  alpha: number;
  temperature: number;
  /** Buckets seen in fewer training prompts than this (over all subjects) are treated as unseen. */
  minDocs: number;
}

/**
 * Fits the subject model. `docs[k]` lists the distinct bucket ids of training prompt k (any non-negative
 * integers below `buckets`), `labels[k]` its subject index, `gap[s]` the value of subject s.
 */
export function fitSubjectModel(docs: ArrayLike<number>[], labels: ArrayLike<number>, names: string[], gap: ArrayLike<number>, buckets: number, o: SubjectFitOptions): SubjectModelJson {
  const S = names.length;
  if (gap.length !== S) throw new Error('fitSubjectModel: one gap per subject');
  const docCount = new Int32Array(buckets);
  const prior = new Float64Array(S);
  let keys = 0;
  for (let k = 0; k < docs.length; k++) {
    const d = docs[k];
    for (let j = 0; j < d.length; j++) docCount[d[j]]++;
    keys += d.length;
    prior[labels[k]]++;
  }
  // (bucket, subject) pairs of the kept buckets, sorted and run-length counted
  const pairs = new Float64Array(keys);
  let n = 0;
  for (let k = 0; k < docs.length; k++) {
    const d = docs[k];
    for (let j = 0; j < d.length; j++) if (docCount[d[j]] >= o.minDocs) pairs[n++] = d[j] * S + labels[k];
  }
  const sorted = pairs.subarray(0, n).sort();
  const delta: number[] = [];
  const entries: number[] = [];
  const entry: number[] = [];
  const total = new Array<number>(S).fill(0);
  let previousBucket = 0;
  let lastBucket = -1;
  for (let i = 0; i < n; ) {
    const key = sorted[i];
    let j = i + 1;
    while (j < n && sorted[j] === key) j++;
    const bucket = Math.floor(key / S);
    const s = key - bucket * S;
    if (bucket !== lastBucket) {
      delta.push(bucket - previousBucket);
      entries.push(0);
      previousBucket = bucket;
      lastBucket = bucket;
    }
    entries[entries.length - 1]++;
    entry.push(s + S * (j - i - 1));
    total[s] += j - i;
    i = j;
  }
  const docsTotal = Math.max(1, docs.length);
  return {
    names: [...names],
    logPrior: Array.from(prior, (c) => Math.log((c + 1) / (docsTotal + S))),
    total,
    gap: Array.from(gap),
    alpha: o.alpha,
    vocabulary: delta.length + 1,
    temperature: o.temperature,
    delta,
    entries,
    entry,
  };
}

/** Scoring side of the subject model: bucket → entries lookup, per-subject constants, reusable buffers. */
export class SubjectModel {
  readonly size: number;
  /** Entries of bucket b: offset[b] .. offset[b + 1] (empty for buckets the model does not keep). */
  private readonly offset: Int32Array;
  private readonly subject: Uint16Array;
  private readonly logRatio: Float64Array;
  private readonly base: Float64Array;
  private readonly unseen: Float64Array;
  private readonly gap: Float64Array;
  private readonly invTemperature: number;
  private readonly score: Float64Array;

  /** `buckets`: the bucket id space (e.g. the hashed dimension); ids at or above it are ignored. */
  constructor(json: SubjectModelJson, buckets: number) {
    const S = json.names.length;
    if (S === 0 || S > 65535 || json.logPrior.length !== S || json.total.length !== S || json.gap.length !== S) throw new Error('invalid subject model: subject tables');
    if (json.delta.length !== json.entries.length || !Array.isArray(json.entry) || !(json.alpha > 0) || !(json.temperature > 0) || !(json.vocabulary >= 1)) {
      throw new Error('invalid subject model: bucket tables');
    }
    this.size = S;
    this.subject = new Uint16Array(json.entry.length);
    this.logRatio = new Float64Array(json.entry.length);
    json.entry.forEach((code, e) => {
      if (!Number.isInteger(code) || code < 0) throw new Error('invalid subject model: entry');
      const { subject, count } = decodeEntry(code, S);
      this.subject[e] = subject;
      this.logRatio[e] = Math.log1p(count / json.alpha);
    });
    this.unseen = Float64Array.from(json.total, (t) => Math.log(json.alpha / (t + json.alpha * json.vocabulary)));
    this.base = Float64Array.from(json.logPrior);
    this.gap = Float64Array.from(json.gap);
    this.invTemperature = 1 / json.temperature;
    this.score = new Float64Array(S);
    // one prefix table: a bucket's entries end where the next bucket's begin (one cache line per lookup)
    this.offset = new Int32Array(buckets + 1);
    let b = 0;
    let e = 0;
    let filled = 0;
    for (let k = 0; k < json.delta.length; k++) {
      b += json.delta[k];
      if (!Number.isInteger(b) || b < 0 || b >= buckets || (k > 0 && json.delta[k] <= 0)) throw new Error(`invalid subject model: bucket ${b} out of range or not ascending`);
      while (filled <= b) this.offset[filled++] = e;
      e += json.entries[k];
    }
    while (filled <= buckets) this.offset[filled++] = e;
    if (e !== json.entry.length) throw new Error('invalid subject model: entry count');
  }

  /**
   * Log-posterior scores (unnormalised, before the temperature) of the prompt with these distinct buckets
   * (`ids[0..count)`, ids at or above `limit` are skipped), into `out` (length = subjects).
   */
  logScores(ids: ArrayLike<number>, count: number, limit: number, out: Float64Array = this.score): Float64Array {
    const S = this.size;
    let n = 0;
    for (let s = 0; s < S; s++) out[s] = this.base[s];
    for (let k = 0; k < count; k++) {
      const b = ids[k];
      if (b >= limit) continue;
      n++;
      const last = this.offset[b + 1];
      for (let e = this.offset[b]; e < last; e++) out[this.subject[e]] += this.logRatio[e];
    }
    for (let s = 0; s < S; s++) out[s] += n * this.unseen[s];
    return out;
  }

  /** P(s | prompt) (with the temperature), into `out`. */
  posterior(ids: ArrayLike<number>, count: number, limit: number, out: Float64Array = new Float64Array(this.size)): Float64Array {
    const score = this.logScores(ids, count, limit, this.score);
    let max = -Infinity;
    for (let s = 0; s < this.size; s++) if (score[s] > max) max = score[s];
    let sum = 0;
    for (let s = 0; s < this.size; s++) {
      const p = Math.exp((score[s] - max) * this.invTemperature);
      out[s] = p;
      sum += p;
    }
    for (let s = 0; s < this.size; s++) out[s] /= sum;
    return out;
  }

  /** Σ_s P(s | prompt) · gap_s: the expected gap of the prompt's subject. */
  expectedGap(ids: ArrayLike<number>, count: number, limit: number): number {
    const score = this.logScores(ids, count, limit, this.score);
    let max = -Infinity;
    for (let s = 0; s < this.size; s++) if (score[s] > max) max = score[s];
    let sum = 0;
    let weighted = 0;
    for (let s = 0; s < this.size; s++) {
      const p = Math.exp((score[s] - max) * this.invTemperature);
      sum += p;
      weighted += p * this.gap[s];
    }
    return weighted / sum;
  }
}
