import { existsSync, readFileSync, statSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { ChatRequest } from '../../core/canonical.ts';
import { ComplexityClassifier, hasStrongNeedMarkers, isOpenEnded, MODEL_FORMAT, type ComplexityModel } from './classifier.ts';
import { cleanRows, loadRoutingData, resolveDataFile } from './data.ts';
import { DEFAULT_FEATURE_CONFIG, DENSE_FEATURES } from './features.ts';
import { evaluateRouting } from './metrics.ts';
import { bundledCalibration, percentileOf } from './scorer.ts';

const MODEL_URL = new URL('./model.json', import.meta.url);
const PROMPTS = [
  'hi',
  'What is the capital of France?',
  'Prove that there are infinitely many primes p such that p + 2 is also prime, or explain why this is open.',
  'A store sells pencils at $0.25 each. If Maria buys 3 dozen pencils and pays with a $20 bill, how much change does she get?',
  'Which of the following is NOT a prime number?\nA. 2\nB. 3\nC. 9\nD. 11\nAnswer:',
  '```ts\nfunction f(x: number) { return x * 2 }\n```\nWhy does this not compile under strict mode?',
  '请解释一下量子纠缠。',
  '',
];

/** A tiny hand-made model: only the length feature and one hashed word carry weight. */
function tinyModel(): ComplexityModel {
  const n = DENSE_FEATURES.length;
  const zeros = () => new Array<number>(n).fill(0);
  const dense = zeros();
  dense[DENSE_FEATURES.indexOf('log_chars')] = 1;
  const std = new Array<number>(n).fill(1);
  std[DENSE_FEATURES.indexOf('log_chars')] = 2;
  return {
    format: MODEL_FORMAT,
    features: { ...DEFAULT_FEATURE_CONFIG, hashing: { ...DEFAULT_FEATURE_CONFIG.hashing, wordBits: 12 } },
    dense: { names: [...DENSE_FEATURES], mean: zeros(), std, clip: 5 },
    weights: { bias: -4, dense, mcq: zeros(), open: zeros(), hashScale: 1, openHashScale: 1, hashed: { quantum: 1 / 65536, delta: [], q: [] } },
    provenance: { dataFile: 'x', dataSha256: 'x', split: 'train', rows: {}, excluded: {}, label: 'x', hyperParameters: {}, cv: {}, trainedAt: '2026-01-01', trainer: 'test' },
  };
}

describe('ComplexityClassifier', () => {
  it('loads the bundled model.json once, with provenance, under 2 MB', () => {
    expect(statSync(MODEL_URL).size).toBeLessThan(2 * 1024 * 1024);
    const a = ComplexityClassifier.default();
    expect(ComplexityClassifier.default()).toBe(a);
    const model = JSON.parse(readFileSync(MODEL_URL, 'utf8')) as ComplexityModel;
    expect(model.format).toBe(MODEL_FORMAT);
    expect(model.dense.names).toEqual([...DENSE_FEATURES]);
    const p = model.provenance;
    expect(p.split).toBe('train');
    expect(p.dataSha256).toMatch(/^[0-9a-f]{64}$/);
    expect(p.dataFile).toMatch(/routellm_gpt4_vs_mixtral\.jsonl$/);
    expect(p.label.length).toBeGreaterThan(50);
    expect(p.trainedAt).toMatch(/^\d{4}-\d{2}-\d{2}/);
    expect(Object.keys(p.rows).sort()).toEqual(['gsm8k', 'mmlu', 'mt_bench']);
    expect(typeof p.cv.objective).toBe('number');
    expect(typeof p.hyperParameters.lambda).toBe('number');
  });

  it('scores in [0, 1], deterministically and independently of what it scored before', () => {
    const c = ComplexityClassifier.default();
    const first = PROMPTS.map((prompt) => c.score({ prompt }));
    for (const s of first) {
      expect(s).toBeGreaterThanOrEqual(0);
      expect(s).toBeLessThanOrEqual(1);
    }
    const reversed = [...PROMPTS].reverse().map((prompt) => c.score({ prompt })).reverse();
    expect(reversed).toEqual(first);
    const fresh = new ComplexityClassifier(ComplexityClassifier.load(MODEL_URL));
    expect(PROMPTS.map((prompt) => fresh.score({ prompt }))).toEqual(first);
    expect(c.score({ prompt: 'x'.repeat(200_000) })).toBeGreaterThanOrEqual(0);
  });

  it('scoreRequest routes on the last user turn with tool and image counts', () => {
    const c = ComplexityClassifier.default();
    const req: ChatRequest = {
      model: 'auto',
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'hello' },
        { role: 'assistant', content: 'Hi!' },
        { role: 'user', content: [{ type: 'text', text: PROMPTS[3] }, { type: 'image_url', image_url: { url: 'https://example.com/a.png' } }] },
      ],
      tools: [{ type: 'function', function: { name: 'calc' } }],
    };
    const s = c.scoreRequest(req);
    expect(s).toBe(c.score({ messages: req.messages, tools: 1, images: 1 }));
    expect(s).toBe(c.scoreRequest(structuredClone(req)));
    expect(s).toBeGreaterThanOrEqual(0);
    expect(s).toBeLessThanOrEqual(1);
  });

  it('applies a hand-made model exactly: sigmoid(bias + w · clip(standardised features))', () => {
    const c = new ComplexityClassifier(tinyModel());
    const expected = (chars: number) => 1 / (1 + Math.exp(-(-4 + Math.min(5, Math.log1p(chars) / 2))));
    expect(c.score({ prompt: 'abc' })).toBeCloseTo(expected(3), 12);
    expect(c.score({ prompt: 'a'.repeat(1000) })).toBeCloseTo(expected(1000), 12);
    // a longer prompt needs the strong model more under this model
    expect(c.score({ prompt: 'a'.repeat(1000) })).toBeGreaterThan(c.score({ prompt: 'abc' }));
    // standardised features are clipped at ±clip
    expect(c.score({ prompt: 'a'.repeat(100_000) })).toBeCloseTo(1 / (1 + Math.exp(-(-4 + 5))), 12);
  });

  it("gives open prompts their own hashed weights, instead of or on top of the shared ones", async () => {
    const { FeatureExtractor } = await import('./features.ts');
    const m = tinyModel();
    m.weights.dense = new Array<number>(DENSE_FEATURES.length).fill(0);
    m.weights.bias = 0;
    const fx = new FeatureExtractor(m.features);
    // The first hashed feature of a one-word prompt, and its value.
    const v = fx.extract({ prompt: 'apples' });
    const index = v.hashIndex[0];
    const value = v.hashValue[0];
    m.weights.hashed = { quantum: 1 / 65536, delta: [index], q: [65536] }; // shared weight 1
    m.weights.openHashScale = 0.5;
    const logit = (c: ComplexityClassifier) => Math.log(c.score({ prompt: 'apples' }) / (1 - c.score({ prompt: 'apples' })));
    expect(logit(new ComplexityClassifier(m))).toBeCloseTo(0.5 * value, 9);
    m.weights.openHashed = { quantum: 1 / 65536, delta: [index], q: [2 * 65536], mode: 'replace' }; // own weight 2
    expect(logit(new ComplexityClassifier(m))).toBeCloseTo(0.5 * 2 * value, 9);
    m.weights.openHashed.mode = 'add';
    expect(logit(new ComplexityClassifier(m))).toBeCloseTo(0.5 * value + 2 * value, 9);
    // Multiple-choice prompts never use the open block.
    const mcq = 'Pick one: apples\nA. 1\nB. 2\nC. 3\nD. 4\nAnswer:';
    const withOpen = new ComplexityClassifier(m).score({ prompt: mcq });
    delete m.weights.openHashed;
    expect(new ComplexityClassifier(m).score({ prompt: mcq })).toBe(withOpen);
  });

  it('adds the length prior to open-ended prompts only, not to multiple-choice questions or maths word problems', async () => {
    const { FeatureExtractor } = await import('./features.ts');
    const m = tinyModel();
    m.weights.dense = new Array<number>(DENSE_FEATURES.length).fill(0);
    m.weights.bias = 0;
    m.features.hashing.wordBits = 0;
    const plain = new ComplexityClassifier(m);
    m.weights.openLengthPrior = 1.5;
    const withPrior = new ComplexityClassifier(m);
    const logit = (c: ComplexityClassifier, prompt: string) => {
      const s = c.score({ prompt });
      return Math.log(s / (1 - s));
    };
    const fx = new FeatureExtractor(m.features);
    const charsZ = (prompt: string) => fx.extract({ prompt }).dense[DENSE_FEATURES.indexOf('log_chars')] / 2; // mean 0, std 2
    const openEnded = [
      'Write a persuasive essay about public libraries.',
      'Extract the dates from this text:\nOn 12 May 2021 we met; on 3 June 2022 we parted.',
      '```py\nprint(1 + 2)\n```\nWhat does this print?',
    ];
    for (const prompt of openEnded) {
      expect(isOpenEnded(fx.extract({ prompt }).dense)).toBe(true);
      expect(logit(withPrior, prompt) - logit(plain, prompt)).toBeCloseTo(1.5 * charsZ(prompt), 9);
    }
    const notOpenEnded = [
      PROMPTS[3], // a one-paragraph maths word problem
      'Which of the following is a prime number?\nA. 4\nB. 6\nC. 7\nD. 8\nAnswer:',
    ];
    for (const prompt of notOpenEnded) {
      expect(isOpenEnded(fx.extract({ prompt }).dense)).toBe(false);
      expect(withPrior.score({ prompt })).toBe(plain.score({ prompt }));
    }
    // The prior is clipped like every standardised feature.
    expect(logit(withPrior, 'word '.repeat(50_000))).toBeCloseTo(1.5 * 5, 9);
  });

  it('floors prompts with strong-need markers: the length prior only raises them, and never below the bias', async () => {
    const { FeatureExtractor } = await import('./features.ts');
    const m = tinyModel();
    m.weights.dense = new Array<number>(DENSE_FEATURES.length).fill(0);
    m.weights.bias = 0.25;
    m.features.hashing.wordBits = 0;
    m.dense.mean[DENSE_FEATURES.indexOf('log_chars')] = 6; // ~400 characters is average
    m.weights.openLengthPrior = 1.5;
    const priorOnly = new ComplexityClassifier(m);
    m.weights.strongNeedFloor = true;
    const floored = new ComplexityClassifier(m);
    const logit = (c: ComplexityClassifier, prompt: string) => {
      const s = c.score({ prompt });
      return Math.log(s / (1 - s));
    };
    const fx = new FeatureExtractor(m.features);
    const marked = (prompt: string) => hasStrongNeedMarkers(fx.extract({ prompt }).dense);
    const short = ['Prove there are infinitely many primes.', 'If p = q then q = p, right?', 'Fix: `xs.map(f)` returns undefined', '```py\nprint(1)\n```'];
    for (const prompt of short) {
      expect(marked(prompt)).toBe(true);
      // the length prior pulls these (open-ended ones) below the bias; the floor restores it
      expect(logit(priorOnly, prompt)).toBeLessThan(0.25);
      expect(logit(floored, prompt)).toBeCloseTo(0.25, 9);
    }
    // A long marked prompt keeps the prior's boost.
    const long = `Prove the following claim. ${'Every step must be justified carefully. '.repeat(40)}`;
    expect(marked(long)).toBe(true);
    expect(logit(floored, long)).toBeCloseTo(logit(priorOnly, long), 9);
    expect(logit(floored, long)).toBeGreaterThan(1);
    // Unmarked prompts and multiple-choice questions are untouched.
    const unmarked = ['hi', "Translate 'good morning' to French.", 'Write a haiku about autumn.', 'What is the capital of France?'];
    for (const prompt of unmarked) {
      expect(marked(prompt)).toBe(false);
      expect(floored.score({ prompt })).toBe(priorOnly.score({ prompt }));
    }
    const mcq = 'Prove which is prime: x = ?\nA. 4\nB. 6\nC. 7\nD. 8\nAnswer:';
    expect(floored.score({ prompt: mcq })).toBe(priorOnly.score({ prompt: mcq }));
    // Plain-English uses of code keywords (from, this, new) are not code.
    expect(marked('Write a new letter from this office to the staff.')).toBe(false);
  });

  it('keeps short hard prompts out of the bottom decile and trivial ones in it (bundled model and calibration)', () => {
    const c = ComplexityClassifier.default();
    const calibration = bundledCalibration();
    expect(calibration).toBeDefined();
    const percentile = (prompt: string) => percentileOf(c.score({ prompt }), calibration);
    const hard = [
      'Prove there are infinitely many primes.',
      'Why does this throw?\n```js\nconst xs = [1, 2, 3];\nfor (let i = 0; i <= xs.length; i++) console.log(xs[i].toFixed(2));\n```',
      'Solve for x: 3x^2 - 5x + 2 = 0.',
    ];
    for (const prompt of hard) expect(percentile(prompt), prompt).toBeGreaterThan(0.1);
    for (const prompt of ['hi', "Translate 'good morning' to French."]) expect(percentile(prompt), prompt).toBeLessThan(0.1);
  });

  it('rejects malformed models', () => {
    expect(() => new ComplexityClassifier({ ...tinyModel(), format: 'nope' } as unknown as ComplexityModel)).toThrow(/format/);
    const m = tinyModel();
    m.weights.dense = [1];
    expect(() => new ComplexityClassifier(m)).toThrow(/dense weights/);
    const h = tinyModel();
    h.weights.hashed = { quantum: 1, delta: [1 << 20], q: [1] };
    expect(() => new ComplexityClassifier(h)).toThrow(/out of range/);
    const u = tinyModel();
    u.dense.names[0] = 'no_such_feature';
    expect(() => new ComplexityClassifier(u)).toThrow(/unknown dense feature/);
    const o = tinyModel();
    o.weights.openHashed = { quantum: 1, delta: [1], q: [1], mode: 'sideways' as 'add' };
    expect(() => new ComplexityClassifier(o)).toThrow(/open hashed weights/);
    const l = tinyModel();
    l.weights.openLengthPrior = Number.NaN;
    expect(() => new ComplexityClassifier(l)).toThrow(/openLengthPrior/);
    const f = tinyModel();
    f.weights.strongNeedFloor = 'yes' as unknown as boolean;
    expect(() => new ComplexityClassifier(f)).toThrow(/strongNeedFloor/);
  });

  const dataFile = resolveDataFile();
  it.skipIf(!existsSync(dataFile))('ranks training prompts better than prompt length (in-sample sanity check)', () => {
    const c = ComplexityClassifier.default();
    const rows = cleanRows(loadRoutingData(dataFile).rows, 'train');
    for (const bench of ['mmlu', 'gsm8k']) {
      const sel = rows.filter((r) => r.benchmark === bench);
      const strong = sel.map((r) => r.strong_score);
      const weak = sel.map((r) => r.weak_score);
      const ours = evaluateRouting(sel.map((r) => c.score({ prompt: r.prompt })), strong, weak).apgr;
      const length = evaluateRouting(sel.map((r) => r.prompt.length), strong, weak).apgr;
      expect(ours).toBeGreaterThan(length);
    }
  });
});
