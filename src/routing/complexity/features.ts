// Feature extraction for the complexity classifier: one pass over the prompt's characters, no regular
// expressions, no per-word strings. It produces
//   - a fixed list of dense, mostly language-independent features (DENSE_FEATURES), raw (the model
//     standardises them), and
//   - hashed word uni/bi-grams and character n-grams (the hashing trick), as a sparse vector whose
//     values are log(1 + count), L2-normalised within each block.
// The extractor keeps its scratch buffers between calls, so a call allocates only its output.
import type { ChatMessage } from '../../core/canonical.ts';

/** What the classifier sees: a bare prompt, or chat messages (the last user turn is the prompt). */
export interface FeatureInput {
  prompt?: string;
  messages?: ChatMessage[];
  /** Number of tool definitions offered with the request. */
  tools?: number;
  /** Number of images in the request; counted from the messages' image parts when absent. */
  images?: number;
}

export interface HashingConfig {
  /** log2 of the word n-gram block size (0 = no word features). */
  wordBits: number;
  /** 1 = unigrams, 2 = unigrams and bigrams. */
  wordNgrams: number;
  /** log2 of the character n-gram block size (0 = no character features). */
  charBits: number;
  charNgramMin: number;
  charNgramMax: number;
}

export interface FeatureConfig {
  hashing: HashingConfig;
  /** Prompts longer than this are analysed on their head and tail only (length features stay exact). */
  maxScanChars: number;
}

export const DEFAULT_FEATURE_CONFIG: FeatureConfig = {
  hashing: { wordBits: 18, wordNgrams: 2, charBits: 16, charNgramMin: 4, charNgramMax: 4 },
  maxScanChars: 24_000,
};

/** Names of the dense features, in vector order. */
export const DENSE_FEATURES = [
  // length and shape
  'log_chars',
  'log_approx_tokens',
  'log_words',
  'log_lines',
  'log_paragraphs',
  'log_sentences',
  'words_per_sentence',
  'mean_word_len',
  'long_word_ratio',
  'unique_word_ratio',
  'log_commas',
  // structure
  'log_list_items',
  'log_numbered_items',
  'log_options',
  'mcq',
  'option_mean_len',
  'option_numeric_ratio',
  'option_len_spread',
  'log_pipes',
  'log_question_marks',
  'ends_with_question',
  'log_quotes',
  'log_parens',
  'log_colons',
  // mathematics
  'digit_ratio',
  'log_numbers',
  'max_number_digits',
  'log_decimals',
  'log_fractions',
  'log_percents',
  'log_currency',
  'operator_ratio',
  'log_equals',
  'log_latex',
  'log_math_symbols',
  'log_variables',
  'log_units',
  'log_math_words',
  'log_multiplier_words',
  'log_comparison_words',
  'log_distributive_words',
  'log_number_words',
  'log_conditional_words',
  'question_position',
  // code
  'log_code_fences',
  'log_backticks',
  'bracket_ratio',
  'indented_line_ratio',
  'log_identifiers',
  'log_code_keywords',
  'log_code_operators',
  // question type and task
  'log_why_how',
  'log_reasoning_words',
  'log_creative_words',
  'log_transform_words',
  'log_constraint_words',
  'log_negation_words',
  'log_caps_words',
  // subject cues
  'log_law_words',
  'log_medicine_words',
  'log_science_words',
  'log_ethics_words',
  'log_history_words',
  'log_economics_words',
  'log_computing_words',
  // scripts and character classes
  'latin_letter_ratio',
  'non_ascii_ratio',
  'cjk_ratio',
  'cyrillic_ratio',
  'arabic_hebrew_ratio',
  'other_script_ratio',
  'uppercase_ratio',
  'whitespace_ratio',
  'punctuation_ratio',
  // conversation and request
  'log_messages',
  'log_user_turns',
  'has_system',
  'log_system_chars',
  'log_context_chars',
  'has_assistant_turns',
  'log_tools',
  'log_images',
] as const;

export type DenseFeatureName = (typeof DENSE_FEATURES)[number];
export const NUM_DENSE = DENSE_FEATURES.length;
const IDX = Object.fromEntries(DENSE_FEATURES.map((name, i) => [name, i])) as Record<DenseFeatureName, number>;

/** A feature vector: dense raw features plus the non-zero hashed features. */
export interface FeatureVector {
  dense: Float64Array;
  /** Indices into the hashed space: word block first ([0, 2^wordBits)), then the character block. */
  hashIndex: Int32Array;
  hashValue: Float64Array;
  /** Number of valid entries in hashIndex/hashValue. */
  hashCount: number;
}

// ---------------------------------------------------------------------------------------------
// Hashing

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

function fnvStep(h: number, c: number): number {
  return Math.imul(h ^ c, FNV_PRIME);
}

/** murmur3 finaliser: spreads the bits of a 32-bit hash. */
function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Lower-cases one UTF-16 code unit for the common alphabets (ASCII, Latin-1, Greek, Cyrillic). */
function lowerCode(c: number): number {
  if (c >= 65 && c <= 90) return c + 32;
  if (c < 0xc0) return c;
  if (c <= 0xde && c !== 0xd7) return c + 32;
  if (c >= 0x391 && c <= 0x3a9) return c + 32;
  if (c >= 0x410 && c <= 0x42f) return c + 32;
  if (c >= 0x400 && c <= 0x40f) return c + 80;
  return c;
}

/** Hash of a word as the tokenizer computes it (lower-cased FNV-1a over UTF-16 code units). */
export function wordHash(word: string): number {
  let h = FNV_OFFSET;
  for (let i = 0; i < word.length; i++) h = fnvStep(h, lowerCode(word.charCodeAt(i)));
  return h >>> 0;
}

// ---------------------------------------------------------------------------------------------
// Lexicons: small English cue-word groups, looked up by word hash (no string is built per word).

const G_UNITS = 1 << 0;
const G_MATH = 1 << 1;
const G_CODE = 1 << 2;
const G_WHY = 1 << 3;
const G_REASON = 1 << 4;
const G_CREATIVE = 1 << 5;
const G_TRANSFORM = 1 << 6;
const G_CONSTRAINT = 1 << 7;
const G_NEGATION = 1 << 8;
const G_LAW = 1 << 10;
const G_MEDICINE = 1 << 11;
const G_SCIENCE = 1 << 12;
const G_ETHICS = 1 << 13;
const G_HISTORY = 1 << 14;
const G_ECONOMICS = 1 << 15;
const G_COMPUTING = 1 << 16;
const G_MULTIPLIER = 1 << 17;
const G_COMPARISON = 1 << 18;
const G_DISTRIBUTIVE = 1 << 19;
const G_NUMBER_WORD = 1 << 20;
const G_CONDITIONAL = 1 << 21;
const NUM_GROUPS = 22;

const LEXICON_WORDS: ReadonlyArray<readonly [number, string]> = [
  [G_UNITS, 'km kg cm mm mg ml m g l lb lbs oz ft feet foot inch inches mile miles meter meters metre metres kilometer kilometers gram grams kilogram kilograms liter liters litre litres gallon gallons hour hours minute minutes second seconds day days week weeks month months year years mph kmh celsius fahrenheit dollar dollars cent cents euro euros pound pounds acre acres degree degrees volt volts watt watts joule joules newton newtons mol'],
  [G_MATH, 'solve equation equations integral derivative probability sum product prime integer integers polynomial matrix matrices vector vectors theorem lemma calculate compute evaluate value function functions root roots ratio fraction divisible modulo remainder factor factors expression simplify inequality sequence series limit converge geometric arithmetic triangle circle angle area perimeter volume radius diameter slope graph variance mean median expected logarithm exponent square cube sqrt log sin cos tan'],
  [G_CODE, 'def return function const let var class import from public private static void int float double string bool boolean struct enum interface extends implements elif lambda println printf cout cin include namespace async await yield null nil none true false self this new try catch except finally throw raise select where join insert update delete typedef template fn impl pub mut println! console'],
  [G_WHY, 'why how explain explanation explains'],
  [G_REASON, 'prove proof derive justify analyze analyse analysis evaluate compare contrast critique reasoning reason logic logical infer deduce implies therefore hence assume suppose hypothesis optimal optimize optimise algorithm complexity step steps strategy tradeoff trade-off argue argument'],
  [G_CREATIVE, 'write story poem essay email letter compose imagine pretend roleplay character describe creative blog tweet slogan joke song lyrics narrative fiction dialogue persuasive speech haiku limerick'],
  [G_TRANSFORM, 'summarize summarise summary extract translate rewrite rephrase paraphrase list classify format json yaml csv table convert correct edit proofread outline bullet identify'],
  [G_CONSTRAINT, 'must should exactly only least most without ensure each every all both neither either unless except within maximum minimum limit words sentences'],
  [G_NEGATION, 'not no never except false incorrect none cannot nor neither unlikely least'],
  [G_MULTIPLIER, 'times twice half halves double doubled triple tripled thrice quarter quarters third thirds'],
  [G_COMPARISON, 'remaining remainder rest left more less fewer'],
  [G_DISTRIBUTIVE, 'each every per'],
  [G_NUMBER_WORD, 'one two three four five six seven eight nine ten eleven twelve fifteen twenty thirty fifty hundred thousand million dozen dozens'],
  [G_CONDITIONAL, 'if unless otherwise whether'],
  [G_LAW, 'law laws legal court courts plaintiff defendant statute contract contracts constitutional constitution jury liable liability tort negligence judge appeal evidence testimony prosecution criminal crime guilty defense defence lawsuit breach property tenant landlord ownership deed federal amendment'],
  [G_MEDICINE, 'patient patients clinical diagnosis symptoms disease diseases treatment therapy drug drugs dose blood cell cells protein proteins gene genes dna rna enzyme tissue muscle nerve infection virus bacteria cancer syndrome physician hospital mg pain chronic acute'],
  [G_SCIENCE, 'energy velocity force mass electron electrons proton neutron atom atoms molecule molecules reaction acid base charge electric magnetic field wave frequency temperature pressure gravity orbit planet star quantum particle photon chemical compound element momentum acceleration'],
  [G_ETHICS, 'moral morally ethical ethics wrong scenario scenarios virtue duty utilitarian kant philosopher philosophy justice rights obligation'],
  [G_HISTORY, 'century war wars empire president government treaty revolution king queen dynasty colonial independence ancient medieval republic parliament election political policy nation'],
  [G_ECONOMICS, 'price prices market markets demand supply gdp inflation interest tax taxes cost costs profit revenue economy economic investment income bank monetary fiscal firm firms accounting'],
  [G_COMPUTING, 'code program programming python javascript java software computer algorithm data database network bug compile runtime api server memory cpu binary bit bits byte bytes'],
];

/** Open-addressing table word hash → group bits (faster than a Map keyed by 32-bit unsigned numbers). */
const LEX_SLOTS = 4096;
const LEX_KEYS = new Int32Array(LEX_SLOTS);
const LEX_GROUPS = new Int32Array(LEX_SLOTS);
for (const [group, words] of LEXICON_WORDS) {
  for (const word of words.split(' ')) {
    if (!word) continue;
    const key = wordHash(word) | 0;
    let slot = key & (LEX_SLOTS - 1);
    while (LEX_GROUPS[slot] !== 0 && LEX_KEYS[slot] !== key) slot = (slot + 1) & (LEX_SLOTS - 1);
    LEX_KEYS[slot] = key;
    LEX_GROUPS[slot] |= group;
  }
}

function lexiconGroups(h: number): number {
  const key = h | 0;
  let slot = key & (LEX_SLOTS - 1);
  while (LEX_GROUPS[slot] !== 0) {
    if (LEX_KEYS[slot] === key) return LEX_GROUPS[slot];
    slot = (slot + 1) & (LEX_SLOTS - 1);
  }
  return 0;
}

// ---------------------------------------------------------------------------------------------
// Character classes

const C_OTHER = 0;
const C_UPPER = 1;
const C_LOWER = 2;
const C_DIGIT = 3;
const C_SPACE = 4;
const C_NEWLINE = 5;
const C_PUNCT = 6;

/** Classes of the ASCII range; everything from 128 up is classified in code. */
const ASCII_CLASS = (() => {
  const t = new Uint8Array(128);
  for (let c = 0; c < 128; c++) {
    if (c >= 65 && c <= 90) t[c] = C_UPPER;
    else if (c >= 97 && c <= 122) t[c] = C_LOWER;
    else if (c >= 48 && c <= 57) t[c] = C_DIGIT;
    else if (c === 10) t[c] = C_NEWLINE;
    else if (c === 32 || c === 9 || c === 13 || c === 11 || c === 12) t[c] = C_SPACE;
    else if (c > 32 && c < 127) t[c] = C_PUNCT;
    else t[c] = C_OTHER;
  }
  return t;
})();

const S_NONE = 0;
const S_LATIN = 1;
const S_CJK = 2;
const S_CYRILLIC = 3;
const S_ARABIC_HEBREW = 4;
const S_OTHER_LETTER = 5;
const S_MATH = 6;
const S_PUNCT = 7;
const S_SPACE = 8;

/** Script of a non-ASCII code unit. */
function scriptOf(c: number): number {
  if (c < 0x250) return c === 0xa0 ? S_SPACE : c < 0xc0 ? (c === 0xb1 || c === 0xb2 || c === 0xb3 || c === 0xb9 || c === 0xbc || c === 0xbd || c === 0xbe ? S_MATH : S_PUNCT) : c === 0xd7 || c === 0xf7 ? S_MATH : S_LATIN;
  if (c < 0x370) return S_LATIN; // IPA, modifiers, combining marks
  if (c < 0x400) return S_MATH; // Greek letters: in prompts mostly mathematical
  if (c < 0x530) return S_CYRILLIC;
  if (c < 0x590) return S_OTHER_LETTER; // Armenian
  if (c < 0x900) return S_ARABIC_HEBREW; // Hebrew, Arabic, Syriac, Thaana
  if (c < 0x1100) return S_OTHER_LETTER; // Indic scripts, Thai, Lao, Tibetan, Georgian…
  if (c < 0x1200) return S_CJK; // Hangul Jamo
  if (c < 0x1e00) return S_OTHER_LETTER;
  if (c < 0x2000) return S_LATIN; // Latin Extended Additional, Greek Extended
  if (c < 0x2070) return c <= 0x200b || c === 0x202f || c === 0x205f ? S_SPACE : S_PUNCT;
  if (c < 0x20a0) return S_MATH; // super/subscripts
  if (c < 0x2190) return S_PUNCT; // currency, letterlike
  if (c < 0x2300) return S_MATH; // arrows, mathematical operators
  if (c < 0x2e80) return c >= 0x27c0 && c < 0x2800 ? S_MATH : c >= 0x2900 && c < 0x2b00 ? S_MATH : S_PUNCT;
  if (c < 0x3000) return S_CJK;
  if (c < 0x3040) return c === 0x3000 ? S_SPACE : S_PUNCT; // CJK punctuation
  if (c < 0xa000) return S_CJK; // kana, CJK ideographs
  if (c < 0xac00) return S_OTHER_LETTER;
  if (c < 0xd800) return S_CJK; // Hangul syllables
  if (c < 0xe000) return S_OTHER_LETTER; // surrogates: astral-plane text (emoji count here too)
  if (c < 0xf900) return S_PUNCT; // private use
  if (c < 0xfb00) return S_CJK;
  if (c < 0xfb50) return S_LATIN;
  if (c < 0xfe00) return S_ARABIC_HEBREW;
  if (c >= 0xff01 && c <= 0xff5e) return S_LATIN; // full-width ASCII
  return S_PUNCT;
}

function isWordScript(s: number): boolean {
  return s === S_LATIN || s === S_CYRILLIC || s === S_ARABIC_HEBREW || s === S_OTHER_LETTER;
}

// ---------------------------------------------------------------------------------------------
// Input handling

/** The text to route on plus light context statistics. */
export interface RoutedText {
  text: string;
  messages: number;
  userTurns: number;
  assistantTurns: number;
  systemChars: number;
  contextChars: number;
  tools: number;
  images: number;
}

function partsText(content: ChatMessage['content']): string {
  if (content == null) return '';
  if (typeof content === 'string') return content;
  let out = '';
  for (const part of content) {
    if (part.type === 'text') out = out.length === 0 ? part.text : `${out}\n${part.text}`;
  }
  return out;
}

function partsLength(content: ChatMessage['content']): number {
  if (content == null) return 0;
  if (typeof content === 'string') return content.length;
  let n = 0;
  for (const part of content) if (part.type === 'text') n += part.text.length;
  return n;
}

function imageParts(content: ChatMessage['content']): number {
  if (content == null || typeof content === 'string') return 0;
  let n = 0;
  for (const part of content) if (part.type === 'image_url') n++;
  return n;
}

/**
 * Picks the text the classifier routes on: `prompt` when given, else the last user turn (as RouteLLM
 * routes on the first/only user turn), else the last message with text. Other turns only contribute
 * counts and lengths.
 */
export function routedText(input: FeatureInput): RoutedText {
  const messages = input.messages ?? [];
  let lastUser = -1;
  let lastText = -1;
  let userTurns = 0;
  let assistantTurns = 0;
  let images = 0;
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i];
    if (m.role === 'user') {
      userTurns++;
      lastUser = i;
      images += imageParts(m.content);
    } else if (m.role === 'assistant') assistantTurns++;
    if (partsLength(m.content) > 0) lastText = i;
  }
  const chosen = input.prompt !== undefined ? -1 : lastUser >= 0 ? lastUser : lastText;
  const text = input.prompt ?? (chosen >= 0 ? partsText(messages[chosen].content) : '');
  let systemChars = 0;
  let contextChars = 0;
  for (let i = 0; i < messages.length; i++) {
    if (i === chosen) continue;
    const m = messages[i];
    const n = partsLength(m.content);
    if (m.role === 'system' || m.role === 'developer') systemChars += n;
    else contextChars += n;
  }
  const messageCount = messages.length > 0 ? messages.length : text.length > 0 ? 1 : 0;
  return {
    text,
    messages: messageCount,
    userTurns: input.prompt !== undefined && userTurns === 0 ? 1 : userTurns,
    assistantTurns,
    systemChars,
    contextChars,
    tools: Math.max(0, input.tools ?? 0),
    images: Math.max(0, input.images ?? images),
  };
}

// ---------------------------------------------------------------------------------------------
// The extractor

const LN = Math.log1p;
/** Smallest per-call count table; a call's table has room for 4 features per analysed character. */
const MIN_TABLE_BITS = 10;
const MIN_TABLE_SLOTS = 1 << MIN_TABLE_BITS;
/** log(1 + n) for small integer counts (same values as Math.log1p). */
const LOG1P_TABLE = Float64Array.from({ length: 256 }, (_, n) => Math.log1p(n));
const SEEN_SLOTS = 16384;
/** Distinct words tracked per call (keeps the probe table sparse). */
const SEEN_CAP = 8192;

/** Stateful extractor: reuses its scratch buffers, so one instance must not be shared across threads. */
export class FeatureExtractor {
  readonly config: FeatureConfig;
  readonly wordDim: number;
  readonly charDim: number;
  private readonly wordMask: number;
  private readonly charMask: number;
  /**
   * Per-call counts of the hashed features in a small open-addressing table (bucket index → count):
   * it stays in cache, unlike a dense array of the hashed dimension. `touched` lists the used slots in
   * first-seen order.
   */
  private tKeys: Int32Array = new Int32Array(MIN_TABLE_SLOTS).fill(-1);
  private tVals: Float64Array = new Float64Array(MIN_TABLE_SLOTS);
  private touched: Int32Array = new Int32Array(MIN_TABLE_SLOTS);
  /** Count tables by log2 size, kept for reuse: a call picks one sized for its text, so it rarely grows. */
  private readonly tables: Array<{ keys: Int32Array; vals: Float64Array; touched: Int32Array } | undefined> = [];
  private nTouched = 0;
  private readonly groupCounts = new Float64Array(NUM_GROUPS);
  /** Small open-addressing set of unigram hashes, for the unique-word ratio. */
  private readonly seen = new Int32Array(SEEN_SLOTS);
  private readonly seenStamp = new Int32Array(SEEN_SLOTS);
  private stamp = 0;
  private readonly ring = new Int32Array(8);

  constructor(config: FeatureConfig = DEFAULT_FEATURE_CONFIG) {
    this.config = config;
    const h = config.hashing;
    this.wordDim = h.wordBits > 0 ? 1 << h.wordBits : 0;
    this.charDim = h.charBits > 0 ? 1 << h.charBits : 0;
    this.wordMask = this.wordDim - 1;
    this.charMask = this.charDim - 1;
  }

  get hashDim(): number {
    return this.wordDim + this.charDim;
  }

  private bump(index: number): void {
    const keys = this.tKeys;
    const mask = keys.length - 1;
    let slot = (Math.imul(index, 0x9e3779b1) >>> 16) & mask;
    for (;;) {
      const k = keys[slot];
      if (k === index) {
        this.tVals[slot] += 1;
        return;
      }
      if (k === -1) break;
      slot = (slot + 1) & mask;
    }
    keys[slot] = index;
    this.tVals[slot] = 1;
    this.touched[this.nTouched++] = slot;
    if (this.nTouched * 2 > keys.length) this.grow();
  }

  /** Switches to the (clean) pooled table of 2^bits slots. */
  private useTable(bits: number): void {
    let t = this.tables[bits];
    if (!t) {
      const size = 1 << bits;
      t = { keys: new Int32Array(size).fill(-1), vals: new Float64Array(size), touched: new Int32Array(size) };
      this.tables[bits] = t;
    }
    this.tKeys = t.keys;
    this.tVals = t.vals;
    this.touched = t.touched;
  }

  /** Moves the counts to the table twice the size, keeping first-seen order, and cleans the old one. */
  private grow(): void {
    const oldKeys = this.tKeys;
    const oldVals = this.tVals;
    const oldTouched = this.touched;
    const n = this.nTouched;
    this.useTable(Math.log2(oldKeys.length) + 1);
    const mask = this.tKeys.length - 1;
    for (let t = 0; t < n; t++) {
      const index = oldKeys[oldTouched[t]];
      let slot = (Math.imul(index, 0x9e3779b1) >>> 16) & mask;
      while (this.tKeys[slot] !== -1) slot = (slot + 1) & mask;
      this.tKeys[slot] = index;
      this.tVals[slot] = oldVals[oldTouched[t]];
      this.touched[t] = slot;
      oldKeys[oldTouched[t]] = -1;
    }
  }

  /** Returns true when the unigram hash was not seen before in this call. */
  private firstSight(h: number): boolean {
    if (this.uniqueWords >= SEEN_CAP) return false;
    const key = h | 0;
    const size = this.seen.length;
    let slot = key & (size - 1);
    for (let probe = 0; probe < size; probe++) {
      if (this.seenStamp[slot] !== this.stamp) {
        this.seenStamp[slot] = this.stamp;
        this.seen[slot] = key;
        return true;
      }
      if (this.seen[slot] === key) return false;
      slot = (slot + 1) & (size - 1);
    }
    return false;
  }

  /** Extracts the features of one input. With `out`, its buffers are reused when large enough. */
  extract(input: FeatureInput, out?: FeatureVector): FeatureVector {
    const routed = routedText(input);
    const dense = out?.dense ?? new Float64Array(NUM_DENSE);
    dense.fill(0);
    this.nTouched = 0;
    this.groupCounts.fill(0);
    this.stamp = (this.stamp + 1) | 0;
    if (this.stamp === 0) {
      this.seenStamp.fill(0);
      this.stamp = 1;
    }

    const text = routed.text;
    const max = this.config.maxScanChars;
    const analysed = Math.min(text.length, max);
    let bits = MIN_TABLE_BITS;
    while (1 << bits < 4 * analysed + 64 && bits < 24) bits++;
    this.useTable(bits);
    if (text.length <= max) this.scan(text, 0, text.length, dense);
    else {
      const head = Math.floor(max * 0.75);
      this.scan(text, 0, head, dense);
      this.scan(text, text.length - (max - head), text.length, dense);
    }
    this.finishDense(routed, dense);

    // Hashed block values: log(1 + count), L2-normalised per block.
    let wordNorm = 0;
    let charNorm = 0;
    const keys = this.tKeys;
    const vals = this.tVals;
    for (let k = 0; k < this.nTouched; k++) {
      const slot = this.touched[k];
      const count = vals[slot];
      const v = count < LOG1P_TABLE.length ? LOG1P_TABLE[count] : Math.log1p(count);
      vals[slot] = v;
      if (keys[slot] < this.wordDim) wordNorm += v * v;
      else charNorm += v * v;
    }
    wordNorm = wordNorm > 0 ? 1 / Math.sqrt(wordNorm) : 0;
    charNorm = charNorm > 0 ? 1 / Math.sqrt(charNorm) : 0;
    let hashIndex = out?.hashIndex;
    let hashValue = out?.hashValue;
    if (!hashIndex || hashIndex.length < this.nTouched) hashIndex = new Int32Array(Math.max(this.nTouched, 256));
    if (!hashValue || hashValue.length < this.nTouched) hashValue = new Float64Array(hashIndex.length);
    for (let k = 0; k < this.nTouched; k++) {
      const slot = this.touched[k];
      const idx = keys[slot];
      hashIndex[k] = idx;
      hashValue[k] = vals[slot] * (idx < this.wordDim ? wordNorm : charNorm);
      keys[slot] = -1;
    }
    const result = out ?? { dense, hashIndex, hashValue, hashCount: 0 };
    result.dense = dense;
    result.hashIndex = hashIndex;
    result.hashValue = hashValue;
    result.hashCount = this.nTouched;
    return result;
  }

  // Per-call accumulators (fields so that scan() can run over head and tail separately).
  private chars = 0;
  private letters = 0;
  private upper = 0;
  private digits = 0;
  private spaces = 0;
  private punct = 0;
  private nonAscii = 0;
  private scripts = new Float64Array(9);
  private words = 0;
  private wordLetters = 0;
  private longWords = 0;
  private uniqueWords = 0;
  private capsWords = 0;
  private identifiers = 0;
  private variables = 0;
  private numbers = 0;
  private maxDigits = 0;
  private decimals = 0;
  private lines = 0;
  private paragraphs = 0;
  private sentences = 0;
  private listItems = 0;
  private numberedItems = 0;
  private options = 0;
  private optionChars = 0;
  private optionNumeric = 0;
  private optionMin = 0;
  private optionMax = 0;
  private indented = 0;
  private fences = 0;
  private codeOps = 0;
  private operators = 0;
  private latex = 0;
  private lastQuestion = -1;
  private prevWordHash = 0;
  private havePrevWord = false;

  private resetAccumulators(): void {
    this.chars = 0;
    this.letters = 0;
    this.upper = 0;
    this.digits = 0;
    this.spaces = 0;
    this.punct = 0;
    this.nonAscii = 0;
    this.scripts.fill(0);
    this.words = 0;
    this.wordLetters = 0;
    this.longWords = 0;
    this.uniqueWords = 0;
    this.capsWords = 0;
    this.identifiers = 0;
    this.variables = 0;
    this.numbers = 0;
    this.maxDigits = 0;
    this.decimals = 0;
    this.lines = 0;
    this.paragraphs = 0;
    this.sentences = 0;
    this.listItems = 0;
    this.numberedItems = 0;
    this.options = 0;
    this.optionChars = 0;
    this.optionNumeric = 0;
    this.optionMin = Infinity;
    this.optionMax = 0;
    this.indented = 0;
    this.fences = 0;
    this.codeOps = 0;
    this.operators = 0;
    this.latex = 0;
    this.lastQuestion = -1;
    this.havePrevWord = false;
  }

  private emitWord(h: number): void {
    const hashing = this.config.hashing;
    if (this.wordDim > 0) {
      this.bump(fmix(h ^ 0x5bd1e995) & this.wordMask);
      if (hashing.wordNgrams >= 2 && this.havePrevWord) {
        this.bump(fmix(Math.imul(this.prevWordHash, 0x9e3779b1) ^ h) & this.wordMask);
      }
    }
    this.prevWordHash = h;
    this.havePrevWord = true;
    if (this.firstSight(h)) this.uniqueWords++;
    const groups = lexiconGroups(h);
    if (groups !== 0) {
      for (let g = 0; g < NUM_GROUPS; g++) if (groups & (1 << g)) this.groupCounts[g]++;
    }
  }

  private scan(text: string, from: number, to: number, dense: Float64Array): void {
    if (from === 0) this.resetAccumulators();
    if (this.charDim > 0) this.charNgrams(text, from, to);

    let lineStart = true;
    let lineIsOption = false;
    let optStart = 0;
    let optDigits = 0;
    let optLetters = 0;
    let blankRun = 0;
    let lineHasText = false;
    let lineFirst = -1;

    let i = from;
    this.chars += to - from;
    while (i < to) {
      const c = text.charCodeAt(i);
      // ---- line starts: lists, options, indentation, fences
      if (lineStart) {
        lineStart = false;
        this.lines++;
        let j = i;
        let indent = 0;
        while (j < to) {
          const d = text.charCodeAt(j);
          if (d === 32) indent++;
          else if (d === 9) indent += 4;
          else break;
          j++;
        }
        if (indent >= 2 && j < to && text.charCodeAt(j) !== 10) this.indented++;
        if (j < to) {
          const d = text.charCodeAt(j);
          const d1 = j + 1 < to ? text.charCodeAt(j + 1) : 0;
          const d2 = j + 2 < to ? text.charCodeAt(j + 2) : 0;
          if ((d === 45 || d === 42 || d === 0x2022 || d === 43) && d1 === 32) this.listItems++;
          else if (d === 96 && d1 === 96 && d2 === 96) this.fences++;
          else if (d >= 48 && d <= 57) {
            let k = j + 1;
            while (k < to && k < j + 3 && text.charCodeAt(k) >= 48 && text.charCodeAt(k) <= 57) k++;
            const e = k < to ? text.charCodeAt(k) : 0;
            if ((e === 46 || e === 41) && k + 1 < to && text.charCodeAt(k + 1) === 32) {
              this.numberedItems++;
              this.listItems++;
            }
          } else {
            // options: "A. ", "A) ", "(A) ", "a) "
            let k = j;
            if (d === 40) k++;
            const e = k < to ? text.charCodeAt(k) : 0;
            const f = k + 1 < to ? text.charCodeAt(k + 1) : 0;
            const g = k + 2 < to ? text.charCodeAt(k + 2) : 0;
            if (((e >= 65 && e <= 72) || (e >= 97 && e <= 104)) && (f === 46 || f === 41) && (g === 32 || g === 9)) {
              lineIsOption = true;
              optStart = k + 3;
              optDigits = 0;
              optLetters = 0;
            }
          }
        }
      }

      let cls: number;
      let script = S_NONE;
      if (c < 128) cls = ASCII_CLASS[c];
      else {
        this.nonAscii++;
        script = scriptOf(c);
        this.scripts[script]++;
        cls = script === S_SPACE ? C_SPACE : script === S_PUNCT || script === S_MATH ? C_PUNCT : C_OTHER;
      }

      if (cls === C_NEWLINE) {
        if (lineIsOption) this.finishOption(i - optStart, optDigits, optLetters);
        lineIsOption = false;
        if (!lineHasText) blankRun++;
        else blankRun = 0;
        if (blankRun === 1 && i > from) this.paragraphs++;
        lineHasText = false;
        lineStart = true;
        this.spaces++;
        i++;
        continue;
      }
      if (cls === C_SPACE) {
        this.spaces++;
        i++;
        continue;
      }
      if (!lineHasText) lineFirst = i;
      lineHasText = true;

      // ---- tokens: words (letters, digits, underscore; CJK one character per token) and numbers
      if (cls === C_DIGIT) {
        let h = fnvStep(FNV_OFFSET, 35); // '#'
        let nd = 0;
        let j = i;
        let decimal = false;
        while (j < to) {
          const d = text.charCodeAt(j);
          if (d >= 48 && d <= 57) {
            nd++;
            j++;
          } else if ((d === 46 || d === 44) && j + 1 < to) {
            const e = text.charCodeAt(j + 1);
            if (e >= 48 && e <= 57) {
              if (d === 46) decimal = true;
              j++;
            } else break;
          } else break;
        }
        // letters glued to digits (e.g. "3x", "10kg", "v2") stay one token: hash the shape
        while (j < to) {
          const d = text.charCodeAt(j);
          const dc = d < 128 ? ASCII_CLASS[d] : C_OTHER;
          if (dc === C_LOWER || dc === C_UPPER || d === 95) {
            h = fnvStep(h, lowerCode(d));
            j++;
          } else break;
        }
        this.digits += nd;
        if (lineIsOption) optDigits += nd;
        this.numbers++;
        if (decimal) this.decimals++;
        if (nd > this.maxDigits) this.maxDigits = nd;
        h = fnvStep(h, 48 + Math.min(nd, 6));
        if (decimal) h = fnvStep(h, 46);
        this.words++;
        this.emitWord(h >>> 0);
        i = j;
        continue;
      }
      if (cls === C_UPPER || cls === C_LOWER || c === 95 || (cls === C_OTHER && isWordScript(script))) {
        let h = FNV_OFFSET;
        let len = 0;
        let nUpper = 0;
        let nLower = 0;
        let underscore = false;
        let camel = false;
        let prevLower = false;
        let j = i;
        while (j < to) {
          const d = text.charCodeAt(j);
          let dc: number;
          if (d < 128) dc = ASCII_CLASS[d];
          else {
            const s = scriptOf(d);
            dc = isWordScript(s) ? C_LOWER : C_OTHER;
            if (dc === C_OTHER) break;
            if (j !== i) {
              this.nonAscii++;
              this.scripts[s]++;
            }
          }
          if (dc === C_UPPER) {
            nUpper++;
            if (prevLower) camel = true;
            prevLower = false;
          } else if (dc === C_LOWER) {
            nLower++;
            prevLower = true;
          } else if (d === 95) underscore = true;
          else if (dc === C_DIGIT) {
            prevLower = false;
            this.digits++;
          }
          else if (d === 39 && j + 1 < to && j > i) {
            // apostrophe inside a word ("don't"): keep going
            const e = text.charCodeAt(j + 1);
            if (!((e >= 97 && e <= 122) || (e >= 65 && e <= 90))) break;
          } else break;
          h = fnvStep(h, lowerCode(d));
          len++;
          j++;
        }
        const letters = nUpper + nLower;
        this.letters += letters;
        this.upper += nUpper;
        if (lineIsOption) optLetters += letters;
        this.words++;
        this.wordLetters += len;
        if (len >= 9) this.longWords++;
        if (nUpper >= 2 && nLower === 0) this.capsWords++;
        const next = j < to ? text.charCodeAt(j) : 0;
        const prev = i > from ? text.charCodeAt(i - 1) : 0;
        const prev2 = i - 2 >= from ? text.charCodeAt(i - 2) : 0;
        const memberAccess = prev === 46 && prev2 < 128 && (ASCII_CLASS[prev2] === C_UPPER || ASCII_CLASS[prev2] === C_LOWER);
        if (underscore || camel || next === 40 || memberAccess) {
          this.identifiers++;
        }
        if (len === 1 && c >= 97 && c <= 122 && c !== 97 && c !== 105) this.variables++;
        this.emitWord(h >>> 0);
        i = j;
        continue;
      }
      if (cls === C_OTHER && script === S_CJK) {
        // each ideograph / kana / hangul syllable is a token; bigrams give the words
        this.words++;
        this.wordLetters++;
        this.letters++;
        this.emitWord(fnvStep(FNV_OFFSET, c) >>> 0);
        i++;
        continue;
      }

      // ---- punctuation and symbols
      this.punct++;
      const n1 = i + 1 < to ? text.charCodeAt(i + 1) : 0;
      switch (c) {
        case 46: // .
        case 33: // !
        case 63: // ?
        case 0x3002: // 。
        case 0xff1f: // ？
        case 0xff01: // ！
          if (n1 === 0 || n1 === 32 || n1 === 10 || n1 === 9 || n1 === 34 || n1 === 41 || i + 1 >= to || c > 127) this.sentences++;
          if (c === 63 || c === 0xff1f) {
            dense[IDX.log_question_marks]++;
            this.lastQuestion = i;
          }
          if (c === 46 && n1 === 46) this.punct--; // ellipsis counts once
          break;
        case 44: // ,
        case 0xff0c:
        case 0x3001:
          dense[IDX.log_commas]++;
          break;
        case 36: // $
          if (n1 >= 48 && n1 <= 57) dense[IDX.log_currency]++;
          else this.latex++;
          break;
        case 0x20ac: // €
        case 0xa3: // £
        case 0xa5: // ¥
          dense[IDX.log_currency]++;
          break;
        case 37: // %
          dense[IDX.log_percents]++;
          break;
        case 92: // backslash: LaTeX command
          if ((n1 >= 65 && n1 <= 90) || (n1 >= 97 && n1 <= 122) || n1 === 91 || n1 === 40) this.latex++;
          break;
        case 47: {
          // a/b between digits is a fraction, otherwise an operator when spaced
          const p = i > from ? text.charCodeAt(i - 1) : 0;
          if (p >= 48 && p <= 57 && n1 >= 48 && n1 <= 57) dense[IDX.log_fractions]++;
          else if (p === 32 && n1 === 32) this.operators++;
          break;
        }
        case 61: // =
          if (n1 === 61 || n1 === 62) this.codeOps++;
          else if (i > from && (text.charCodeAt(i - 1) === 33 || text.charCodeAt(i - 1) === 61 || text.charCodeAt(i - 1) === 60 || text.charCodeAt(i - 1) === 62 || text.charCodeAt(i - 1) === 43 || text.charCodeAt(i - 1) === 45)) {
            // part of ==, !=, <=, >=, +=, -= already counted or an operator
          } else {
            dense[IDX.log_equals]++;
            this.operators++;
          }
          break;
        case 43: // +
          if (n1 === 43 || n1 === 61) this.codeOps++;
          else this.operators++;
          break;
        case 42: // *
        case 94: // ^
          if (!(c === 42 && (n1 === 42 || n1 === 32) && i === lineFirst)) this.operators++;
          break;
        case 45: {
          // - : an operator when between digits/spaces, -> is code
          if (n1 === 62) this.codeOps++;
          else {
            const p = i > from ? text.charCodeAt(i - 1) : 0;
            if ((p === 32 || (p >= 48 && p <= 57)) && (n1 === 32 || (n1 >= 48 && n1 <= 57)) && i !== lineFirst) this.operators++;
          }
          break;
        }
        case 60: // <
        case 62: // >
          if (n1 === 61) this.operators++;
          else if (c === 62 || n1 === 32) this.operators++;
          break;
        case 38: // &
          if (n1 === 38) this.codeOps++;
          break;
        case 124: // |
          dense[IDX.log_pipes]++;
          if (n1 === 124) this.codeOps++;
          break;
        case 58: // :
          dense[IDX.log_colons]++;
          if (n1 === 58) this.codeOps++;
          break;
        case 34: // "
        case 0x201c:
        case 0x201d:
          dense[IDX.log_quotes]++;
          break;
        case 40: // (
        case 41: // )
          dense[IDX.log_parens]++;
          break;
        case 123: // {
        case 125: // }
        case 91: // [
        case 93: // ]
        case 59: // ;
          dense[IDX.bracket_ratio]++;
          break;
        case 96: // `
          dense[IDX.log_backticks]++;
          break;
        default:
          if (script === S_MATH) this.operators++;
      }
      i++;
    }
    if (lineIsOption) this.finishOption(to - optStart, optDigits, optLetters);
  }

  /** Character n-grams over normalised characters (lower case, digits -> 0, whitespace runs -> one space). */
  private charNgrams(text: string, from: number, to: number): void {
    const cMin = Math.max(1, this.config.hashing.charNgramMin);
    const cMax = Math.min(this.config.hashing.charNgramMax, this.ring.length);
    const ring = this.ring;
    let ringLen = 0;
    let ringPos = 0;
    let last = -1;
    for (let i = from; i < to; i++) {
      const c = text.charCodeAt(i);
      let norm: number;
      if (c === 32 || c === 10 || c === 9 || c === 13 || c === 0xa0 || c === 0x3000) norm = 32;
      else if (c >= 48 && c <= 57) norm = 48;
      else norm = lowerCode(c);
      if (norm === 32 && last === 32) continue;
      last = norm;
      ring[ringPos] = norm;
      ringPos = (ringPos + 1) & 7;
      if (ringLen < 8) ringLen++;
      // hash the n-grams ending here newest character first, so each longer n-gram extends the shorter
      let h = FNV_OFFSET;
      const top = cMax < ringLen ? cMax : ringLen;
      for (let n = 1; n <= top; n++) {
        h = fnvStep(h, ring[(ringPos - n) & 7]);
        if (n >= cMin) this.bump(this.wordDim + (fmix((h + n) | 0) & this.charMask));
      }
    }
  }

  private finishOption(len: number, digits: number, letters: number): void {
    const n = Math.max(0, len);
    this.options++;
    this.optionChars += n;
    if (digits > 0 && digits >= letters) this.optionNumeric++;
    if (n < this.optionMin) this.optionMin = n;
    if (n > this.optionMax) this.optionMax = n;
  }

  private finishDense(r: RoutedText, d: Float64Array): void {
    const text = r.text;
    const totalChars = text.length;
    const chars = Math.max(1, this.chars);
    const words = this.words;
    const s = this.scripts;
    const g = this.groupCounts;
    // approximate tokens: ~4 characters per token for alphabetic text, ~1 per CJK character
    const cjk = s[S_CJK];
    const approxTokens = (totalChars - cjk * (totalChars / chars)) / 4 + cjk * (totalChars / chars);

    d[IDX.log_chars] = LN(totalChars);
    d[IDX.log_approx_tokens] = LN(approxTokens);
    d[IDX.log_words] = LN(words);
    d[IDX.log_lines] = LN(totalChars > 0 ? this.lines : 0);
    d[IDX.log_paragraphs] = LN(totalChars > 0 ? this.paragraphs + 1 : 0);
    const sentences = words > 0 ? Math.max(1, this.sentences) : 0;
    d[IDX.log_sentences] = LN(sentences);
    d[IDX.words_per_sentence] = sentences > 0 ? LN(words / sentences) : 0;
    d[IDX.mean_word_len] = words > 0 ? Math.min(20, this.wordLetters / words) / 10 : 0;
    d[IDX.long_word_ratio] = words > 0 ? this.longWords / words : 0;
    d[IDX.unique_word_ratio] = words > 0 ? this.uniqueWords / words : 0;
    d[IDX.log_commas] = LN(d[IDX.log_commas]);

    d[IDX.log_list_items] = LN(this.listItems);
    d[IDX.log_numbered_items] = LN(this.numberedItems);
    d[IDX.log_options] = LN(this.options);
    const trimmedEnd = trimEndIndex(text);
    const mcq = this.options >= 2 && (endsWithAnswerCue(text, trimmedEnd) || this.options >= 3);
    d[IDX.mcq] = mcq ? 1 : 0;
    d[IDX.option_mean_len] = this.options > 0 ? LN(this.optionChars / this.options) : 0;
    d[IDX.option_numeric_ratio] = this.options > 0 ? this.optionNumeric / this.options : 0;
    d[IDX.option_len_spread] = this.options > 1 ? LN(this.optionMax) - LN(this.optionMin) : 0;
    d[IDX.log_pipes] = LN(d[IDX.log_pipes]);
    d[IDX.log_question_marks] = LN(d[IDX.log_question_marks]);
    d[IDX.ends_with_question] = trimmedEnd > 0 && (text.charCodeAt(trimmedEnd - 1) === 63 || text.charCodeAt(trimmedEnd - 1) === 0xff1f) ? 1 : 0;
    d[IDX.log_quotes] = LN(d[IDX.log_quotes]);
    d[IDX.log_parens] = LN(d[IDX.log_parens]);
    d[IDX.log_colons] = LN(d[IDX.log_colons]);

    d[IDX.digit_ratio] = this.digits / chars;
    d[IDX.log_numbers] = LN(this.numbers);
    d[IDX.max_number_digits] = Math.min(this.maxDigits, 12) / 6;
    d[IDX.log_decimals] = LN(this.decimals);
    d[IDX.log_fractions] = LN(d[IDX.log_fractions]);
    d[IDX.log_percents] = LN(d[IDX.log_percents]);
    d[IDX.log_currency] = LN(d[IDX.log_currency]);
    d[IDX.operator_ratio] = Math.min(0.5, this.operators / chars) * 10;
    d[IDX.log_equals] = LN(d[IDX.log_equals]);
    d[IDX.log_latex] = LN(this.latex);
    d[IDX.log_math_symbols] = LN(s[S_MATH]);
    d[IDX.log_variables] = LN(this.variables);
    d[IDX.log_units] = LN(g[0]);
    d[IDX.log_math_words] = LN(g[1]);
    d[IDX.log_multiplier_words] = LN(g[17]);
    d[IDX.log_comparison_words] = LN(g[18]);
    d[IDX.log_distributive_words] = LN(g[19]);
    d[IDX.log_number_words] = LN(g[20]);
    d[IDX.log_conditional_words] = LN(g[21]);
    d[IDX.question_position] = this.lastQuestion >= 0 && totalChars > 0 ? (this.lastQuestion + 1) / totalChars : 0;

    d[IDX.log_code_fences] = LN(this.fences);
    d[IDX.log_backticks] = LN(d[IDX.log_backticks]);
    d[IDX.bracket_ratio] = Math.min(0.5, d[IDX.bracket_ratio] / chars) * 10;
    d[IDX.indented_line_ratio] = this.lines > 0 ? this.indented / this.lines : 0;
    d[IDX.log_identifiers] = LN(this.identifiers);
    d[IDX.log_code_keywords] = LN(g[2]);
    d[IDX.log_code_operators] = LN(this.codeOps);

    d[IDX.log_why_how] = LN(g[3]);
    d[IDX.log_reasoning_words] = LN(g[4]);
    d[IDX.log_creative_words] = LN(g[5]);
    d[IDX.log_transform_words] = LN(g[6]);
    d[IDX.log_constraint_words] = LN(g[7]);
    d[IDX.log_negation_words] = LN(g[8]);
    d[IDX.log_caps_words] = LN(this.capsWords);

    d[IDX.log_law_words] = LN(g[10]);
    d[IDX.log_medicine_words] = LN(g[11]);
    d[IDX.log_science_words] = LN(g[12]);
    d[IDX.log_ethics_words] = LN(g[13]);
    d[IDX.log_history_words] = LN(g[14]);
    d[IDX.log_economics_words] = LN(g[15]);
    d[IDX.log_computing_words] = LN(g[16]);

    const letters = Math.max(1, this.letters);
    d[IDX.latin_letter_ratio] = (this.letters - (s[S_CJK] + s[S_CYRILLIC] + s[S_ARABIC_HEBREW] + s[S_OTHER_LETTER])) / chars;
    if (d[IDX.latin_letter_ratio] < 0) d[IDX.latin_letter_ratio] = 0;
    d[IDX.non_ascii_ratio] = this.nonAscii / chars;
    d[IDX.cjk_ratio] = s[S_CJK] / chars;
    d[IDX.cyrillic_ratio] = s[S_CYRILLIC] / chars;
    d[IDX.arabic_hebrew_ratio] = s[S_ARABIC_HEBREW] / chars;
    d[IDX.other_script_ratio] = s[S_OTHER_LETTER] / chars;
    d[IDX.uppercase_ratio] = this.upper / letters;
    d[IDX.whitespace_ratio] = this.spaces / chars;
    d[IDX.punctuation_ratio] = this.punct / chars;

    d[IDX.log_messages] = LN(r.messages);
    d[IDX.log_user_turns] = LN(r.userTurns);
    d[IDX.has_system] = r.systemChars > 0 ? 1 : 0;
    d[IDX.log_system_chars] = LN(r.systemChars);
    d[IDX.log_context_chars] = LN(r.contextChars);
    d[IDX.has_assistant_turns] = r.assistantTurns > 0 ? 1 : 0;
    d[IDX.log_tools] = LN(r.tools);
    d[IDX.log_images] = LN(r.images);
  }
}

function trimEndIndex(text: string): number {
  let end = text.length;
  while (end > 0) {
    const c = text.charCodeAt(end - 1);
    if (c === 32 || c === 10 || c === 9 || c === 13) end--;
    else break;
  }
  return end;
}

const ANSWER_CUE = 'answer:';

function endsWithAnswerCue(text: string, end: number): boolean {
  if (end < ANSWER_CUE.length) return false;
  const start = end - ANSWER_CUE.length;
  for (let k = 0; k < ANSWER_CUE.length; k++) {
    if (lowerCode(text.charCodeAt(start + k)) !== ANSWER_CUE.charCodeAt(k)) return false;
  }
  return true;
}

/** Convenience: extracts one input's features into fresh arrays. */
export function extractFeatures(input: FeatureInput, config: FeatureConfig = DEFAULT_FEATURE_CONFIG): FeatureVector {
  const v = new FeatureExtractor(config).extract(input);
  return { dense: v.dense, hashIndex: v.hashIndex.slice(0, v.hashCount), hashValue: v.hashValue.slice(0, v.hashCount), hashCount: v.hashCount };
}

/** Dense features as a name → value record (for inspection and tests). */
export function denseRecord(dense: Float64Array): Record<DenseFeatureName, number> {
  const out = {} as Record<DenseFeatureName, number>;
  for (let i = 0; i < NUM_DENSE; i++) out[DENSE_FEATURES[i]] = dense[i];
  return out;
}
