// The complexity classifier behind `model: "auto"`: how much a prompt needs the strong model, in [0, 1].
// A logistic model over the features of features.ts, trained by scripts/train-classifier.ts into
// model.json. Scoring is deterministic, synchronous, allocation-light and never touches the network.
import { readFileSync } from 'node:fs';
import type { ChatMessage, ChatRequest } from '../../core/canonical.ts';
import { SubjectModel, type SubjectModelJson } from './subjects.ts';
import { DENSE_FEATURES, FeatureExtractor, NUM_DENSE, type DenseFeatureName, type FeatureConfig, type FeatureVector } from './features.ts';

export const MODEL_FORMAT = 'switchyard-complexity/1';

export interface ClassifierInput {
  prompt?: string;
  messages?: ChatMessage[];
  tools?: number;
  images?: number;
}

/** Where a model came from and how it was trained (written by scripts/train-classifier.ts). */
export interface ModelProvenance {
  dataFile: string;
  dataSha256: string;
  split: string;
  rows: Record<string, number>;
  excluded: Record<string, number>;
  label: string;
  hyperParameters: Record<string, number | string | boolean>;
  cv: Record<string, number | string>;
  trainedAt: string;
  trainer: string;
  notes?: string[];
}

/** The model.json shape. */
export interface ComplexityModel {
  format: typeof MODEL_FORMAT;
  features: FeatureConfig;
  /** Standardisation of the dense features: z = clip((x - mean) / std, -clip, clip). */
  dense: { names: string[]; mean: number[]; std: number[]; clip: number };
  weights: {
    bias: number;
    /** Dense weights applied to every prompt. */
    dense: number[];
    /** Extra dense weights for multiple-choice prompts (the `mcq` feature is 1)… */
    mcq: number[];
    /** …and for all other prompts. */
    open: number[];
    /** Multiplier of the hashed block's values for multiple-choice prompts (the feature scaling trained with)… */
    hashScale: number;
    /** …and for all other prompts. */
    openHashScale: number;
    /**
     * Non-zero weights of the hashed n-gram block, compactly: ascending indices as gaps (index[k] =
     * index[k - 1] + delta[k], starting from 0) and weights as integer multiples of `quantum`.
     */
    hashed: { quantum: number; delta: number[]; q: number[] };
    /**
     * Open prompts' own hashed weights, in the same form. `replace`: open prompts use these instead of
     * `hashed`; `add`: on top of `hashed` × `openHashScale`, unscaled. When absent, open prompts use
     * `hashed` × `openHashScale`.
     */
    openHashed?: { quantum: number; delta: number[]; q: number[]; mode: 'replace' | 'add' };
    /**
     * Length prior of open-ended prompts: added to the logit, times the standardised (clipped) `log_chars`,
     * for prompts that are neither multiple-choice nor shaped like a maths word problem (see
     * `isOpenEnded`). Absent = 0.
     */
    openLengthPrior?: number;
    /**
     * Strong-need floor: a non-multiple-choice prompt with strong-need markers (`hasStrongNeedMarkers`)
     * never loses score to the length prior and never scores below `bias` (an average prompt). Absent = off.
     */
    strongNeedFloor?: boolean;
    /**
     * Subject model of multiple-choice prompts (subjects.ts): naive Bayes over the word buckets, whose
     * expected subject gap Σ_s P(s | x) · gap_s, standardised by `mean` and `std` and clipped, adds
     * `weight` × that value to a multiple-choice prompt's logit. Absent = off.
     */
    subjects?: SubjectModelJson & { weight: number; mean: number; std: number };
  };
  provenance: ModelProvenance;
}

const MCQ_INDEX = DENSE_FEATURES.indexOf('mcq');
const CHARS_INDEX = DENSE_FEATURES.indexOf('log_chars');
const NUMBERS_INDEX = DENSE_FEATURES.indexOf('log_numbers');
const LINES_INDEX = DENSE_FEATURES.indexOf('log_lines');
/** log_lines of a two-line prompt (the dense features are log(1 + count)). */
const TWO_LINES = Math.log1p(2) - 1e-9;

const I = (name: DenseFeatureName): number => DENSE_FEATURES.indexOf(name);
const REASONING_INDEX = I('log_reasoning_words');
const LATEX_INDEX = I('log_latex');
const MATH_SYMBOLS_INDEX = I('log_math_symbols');
const EQUALS_INDEX = I('log_equals');
const VARIABLES_INDEX = I('log_variables');
const FENCES_INDEX = I('log_code_fences');
const CODE_OPERATORS_INDEX = I('log_code_operators');
const IDENTIFIERS_INDEX = I('log_identifiers');
const CODE_KEYWORDS_INDEX = I('log_code_keywords');
const BACKTICKS_INDEX = I('log_backticks');
const NUMBERED_INDEX = I('log_numbered_items');
/** log(1 + 2): "at least two" of a counted feature. */
const TWO = Math.log1p(2) - 1e-9;

/**
 * Whether a prompt carries a marker of strong need that the feature extractor already counts: a
 * reasoning/proof word (prove, derive, optimise, algorithm, step…), maths notation (LaTeX, a Unicode maths
 * symbol, an equation `=`, two single-letter variables), code (a fence, a code operator such as `==` `->`
 * `&&`, or a code-shaped identifier with a code keyword or backticks) or an explicit multi-step list (two
 * numbered items). Code keywords alone (from, this, new, select…) and constraint words (only, each, must…)
 * are too common in plain English to count.
 */
export function hasStrongNeedMarkers(dense: ArrayLike<number>): boolean {
  return (
    dense[REASONING_INDEX] > 0 ||
    dense[LATEX_INDEX] > 0 ||
    dense[MATH_SYMBOLS_INDEX] > 0 ||
    dense[EQUALS_INDEX] > 0 ||
    dense[VARIABLES_INDEX] >= TWO ||
    dense[FENCES_INDEX] > 0 ||
    dense[CODE_OPERATORS_INDEX] > 0 ||
    (dense[IDENTIFIERS_INDEX] > 0 && (dense[CODE_KEYWORDS_INDEX] > 0 || dense[BACKTICKS_INDEX] > 0)) ||
    dense[NUMBERED_INDEX] >= TWO
  );
}

/**
 * Whether the length prior applies: not a multiple-choice question, and not shaped like a maths word
 * problem (one paragraph with numbers in it, which the learned open block scores well). Writing, role
 * play, coding, extraction and explanation requests have no numbers or span several lines.
 */
export function isOpenEnded(dense: ArrayLike<number>): boolean {
  return !(dense[MCQ_INDEX] > 0.5) && (dense[NUMBERS_INDEX] === 0 || dense[LINES_INDEX] >= TWO_LINES);
}

function assertModel(model: ComplexityModel): void {
  const fail = (what: string): never => {
    throw new Error(`invalid complexity model: ${what}`);
  };
  if (model.format !== MODEL_FORMAT) fail(`format ${String(model.format)} (expected ${MODEL_FORMAT})`);
  const d = model.dense;
  if (!Array.isArray(d?.names) || d.mean?.length !== d.names.length || d.std?.length !== d.names.length) fail('dense block');
  const w = model.weights;
  if (!w || w.dense?.length !== d.names.length || w.mcq?.length !== d.names.length || w.open?.length !== d.names.length) fail('dense weights');
  if (!Number.isFinite(w.bias) || !Number.isFinite(w.hashScale) || !Number.isFinite(w.openHashScale)) fail('bias/hashScale/openHashScale');
  if (w.openLengthPrior !== undefined && !Number.isFinite(w.openLengthPrior)) fail('openLengthPrior');
  if (w.strongNeedFloor !== undefined && typeof w.strongNeedFloor !== 'boolean') fail('strongNeedFloor');
  if (!Array.isArray(w.hashed?.delta) || w.hashed.delta.length !== w.hashed.q?.length || !(w.hashed.quantum > 0)) fail('hashed weights');
  const o = w.openHashed;
  if (o !== undefined && (!Array.isArray(o.delta) || o.delta.length !== o.q?.length || !(o.quantum > 0) || (o.mode !== 'replace' && o.mode !== 'add'))) fail('open hashed weights');
  const sj = w.subjects;
  if (sj !== undefined && (!Number.isFinite(sj.weight) || !Number.isFinite(sj.mean) || !(sj.std >= 0))) fail('subject model weight/standardisation');
  const h = model.features?.hashing;
  if (!h || !(h.wordBits >= 0 && h.wordBits <= 24) || !(h.charBits >= 0 && h.charBits <= 24)) fail('hashing config');
}

/** Sigmoid that never overflows. */
function sigmoid(z: number): number {
  return z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z));
}

function unpackHashed({ quantum, delta, q }: { quantum: number; delta: number[]; q: number[] }, size: number): Float32Array {
  const out = new Float32Array(size);
  let i = 0;
  for (let k = 0; k < delta.length; k++) {
    i += delta[k];
    if (!Number.isInteger(i) || i < 0 || i >= out.length || (k > 0 && delta[k] <= 0)) {
      throw new Error(`invalid complexity model: hashed index ${i} out of range or not ascending`);
    }
    out[i] = q[k] * quantum;
  }
  return out;
}

const DEFAULT_MODEL_URL = new URL('./model.json', import.meta.url);
let defaultInstance: ComplexityClassifier | undefined;

export class ComplexityClassifier {
  readonly model: ComplexityModel;
  private readonly extractor: FeatureExtractor;
  private readonly buffer: FeatureVector;
  private readonly mean = new Float64Array(NUM_DENSE);
  private readonly invStd = new Float64Array(NUM_DENSE);
  private readonly wShared = new Float64Array(NUM_DENSE);
  private readonly wMcq = new Float64Array(NUM_DENSE);
  private readonly wOpen = new Float64Array(NUM_DENSE);
  /** Hashed weights (exact in float32: they are multiples of 2^-16), half the memory of float64. */
  private readonly hashed: Float32Array;
  /** The open prompts' own hashed weights (`hashed` itself when the model has no block of their own)… */
  private readonly openHashed: Float32Array;
  /** …used on top of `hashed` × openHashScale, or instead of it. */
  private readonly openHashedAdds: boolean;
  private readonly hashScale: number;
  private readonly openHashScale: number;
  private readonly clip: number;
  private readonly bias: number;
  private readonly openLengthPrior: number;
  private readonly strongNeedFloor: boolean;
  private readonly subjects: SubjectModel | undefined;
  private readonly subjectWeight: number;
  private readonly subjectMean: number;
  private readonly subjectInvStd: number;
  private readonly wordDim: number;

  /** The bundled model (src/routing/complexity/model.json), loaded once per process. */
  static default(): ComplexityClassifier {
    defaultInstance ??= new ComplexityClassifier(ComplexityClassifier.load(DEFAULT_MODEL_URL));
    return defaultInstance;
  }

  /** Reads and parses a model.json file. */
  static load(path: string | URL): ComplexityModel {
    return JSON.parse(readFileSync(path, 'utf8')) as ComplexityModel;
  }

  constructor(model: ComplexityModel) {
    assertModel(model);
    this.model = model;
    this.extractor = new FeatureExtractor(model.features);
    this.buffer = { dense: new Float64Array(NUM_DENSE), hashIndex: new Int32Array(1024), hashValue: new Float64Array(1024), hashCount: 0 };
    this.clip = model.dense.clip > 0 ? model.dense.clip : Infinity;
    this.bias = model.weights.bias;
    this.openLengthPrior = model.weights.openLengthPrior ?? 0;
    this.strongNeedFloor = model.weights.strongNeedFloor === true;
    // Dense features are matched by name, so a model stays usable when features are appended later
    // (a feature the model does not know gets weight 0).
    const position = new Map<string, number>(DENSE_FEATURES.map((name, i) => [name, i]));
    this.invStd.fill(0);
    model.dense.names.forEach((name, j) => {
      const i = position.get(name);
      if (i === undefined) throw new Error(`invalid complexity model: unknown dense feature ${name}`);
      this.mean[i] = model.dense.mean[j];
      this.invStd[i] = model.dense.std[j] > 0 ? 1 / model.dense.std[j] : 0;
      this.wShared[i] = model.weights.dense[j];
      this.wMcq[i] = model.weights.mcq[j];
      this.wOpen[i] = model.weights.open[j];
    });
    this.hashScale = model.weights.hashScale;
    this.openHashScale = model.weights.openHashScale;
    this.hashed = unpackHashed(model.weights.hashed, this.extractor.hashDim);
    this.openHashed = model.weights.openHashed ? unpackHashed(model.weights.openHashed, this.extractor.hashDim) : this.hashed;
    this.openHashedAdds = model.weights.openHashed?.mode === 'add';
    const sj = model.weights.subjects;
    this.wordDim = model.features.hashing.wordBits > 0 ? 1 << model.features.hashing.wordBits : 0;
    this.subjects = sj ? new SubjectModel(sj, this.wordDim) : undefined;
    this.subjectWeight = sj?.weight ?? 0;
    this.subjectMean = sj?.mean ?? 0;
    this.subjectInvStd = sj && sj.std > 0 ? 1 / sj.std : 0;
  }

  /** The standardised, clipped subject feature of a multiple-choice prompt (0 without a subject model). */
  private subjectTerm(v: FeatureVector): number {
    if (this.subjects === undefined || this.subjectInvStd === 0) return 0;
    let x = (this.subjects.expectedGap(v.hashIndex, v.hashCount, this.wordDim) - this.subjectMean) * this.subjectInvStd;
    if (x > this.clip) x = this.clip;
    else if (x < -this.clip) x = -this.clip;
    return this.subjectWeight * x;
  }

  /** The model's raw linear score (log-odds) of already extracted features. */
  logit(v: FeatureVector): number {
    const z = this.baseLogit(v);
    if (!this.strongNeedFloor || v.dense[MCQ_INDEX] > 0.5 || !hasStrongNeedMarkers(v.dense)) return z;
    // Brevity is no evidence of easiness for a proof, an equation or a bug report: the prior may only
    // raise such a prompt, and it never ranks below an average prompt (the bias: every feature at its mean).
    const learned = z - this.lengthPrior(v.dense);
    return Math.max(z, learned, this.bias);
  }

  /** The length prior's term for these features (0 unless the prompt is open-ended). */
  private lengthPrior(dense: ArrayLike<number>): number {
    if (this.openLengthPrior === 0 || !isOpenEnded(dense)) return 0;
    let x = (dense[CHARS_INDEX] - this.mean[CHARS_INDEX]) * this.invStd[CHARS_INDEX];
    if (x > this.clip) x = this.clip;
    else if (x < -this.clip) x = -this.clip;
    return this.openLengthPrior * x;
  }

  /** The learned logit plus the length prior, before the strong-need floor. */
  private baseLogit(v: FeatureVector): number {
    let z = this.bias;
    const mcq = v.dense[MCQ_INDEX] > 0.5;
    const gated = mcq ? this.wMcq : this.wOpen;
    const clip = this.clip;
    for (let i = 0; i < NUM_DENSE; i++) {
      let x = (v.dense[i] - this.mean[i]) * this.invStd[i];
      if (x > clip) x = clip;
      else if (x < -clip) x = -clip;
      z += x * (this.wShared[i] + gated[i]);
    }
    z += mcq ? this.subjectTerm(v) : this.lengthPrior(v.dense);
    if (!mcq && this.openHashedAdds) {
      const shared = this.hashed;
      const own = this.openHashed;
      let h = 0;
      let o = 0;
      for (let k = 0; k < v.hashCount; k++) {
        const i = v.hashIndex[k];
        h += shared[i] * v.hashValue[k];
        o += own[i] * v.hashValue[k];
      }
      return z + h * this.openHashScale + o;
    }
    const w = mcq ? this.hashed : this.openHashed;
    let h = 0;
    for (let k = 0; k < v.hashCount; k++) h += w[v.hashIndex[k]] * v.hashValue[k];
    return z + h * (mcq ? this.hashScale : this.openHashScale);
  }

  /** How much the input needs the strong model, in [0, 1] (higher = more). Deterministic. */
  score(input: ClassifierInput): number {
    const v = this.extractor.extract(input, this.buffer);
    // keep the grown buffers for the next call
    this.buffer.hashIndex = v.hashIndex;
    this.buffer.hashValue = v.hashValue;
    return sigmoid(this.logit(v));
  }

  /**
   * Scores a canonical request: routes on the last user turn, with the other turns, the tool count and
   * the image count as light context features.
   */
  scoreRequest(req: ChatRequest): number {
    return this.score({ messages: req.messages, tools: req.tools?.length ?? 0 });
  }
}
