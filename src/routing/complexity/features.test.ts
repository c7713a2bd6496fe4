import { describe, expect, it } from 'vitest';
import { DEFAULT_FEATURE_CONFIG, DENSE_FEATURES, FeatureExtractor, denseRecord, extractFeatures, routedText, wordHash, type FeatureConfig } from './features.ts';

const fx = new FeatureExtractor();
const f = (prompt: string) => denseRecord(fx.extract({ prompt }).dense);

const MATHS = 'Solve for x: 3x^2 + 5x - 2 = 0. Then compute \\frac{x_1}{x_2} and give the answer to 3 decimal places (e.g. 0.125).';
const PROSE = 'Tell me a little about the history of the city where you grew up and what you liked about it.';
const CODE = 'Fix the bug in this function:\n```python\ndef add_items(items):\n    total = 0\n    for item in items:\n        total += item.price\n    return total\n```';
const MCQ = 'Which of the following is NOT a prime number?\nA. 2\nB. 3\nC. 9\nD. 11\nAnswer:';

describe('features', () => {
  it('has a fixed, unique list of dense feature names', () => {
    expect(new Set(DENSE_FEATURES).size).toBe(DENSE_FEATURES.length);
    expect(fx.extract({ prompt: PROSE }).dense).toHaveLength(DENSE_FEATURES.length);
  });

  it('is deterministic, and one extractor gives the same answer whatever it scored before', () => {
    const a = extractFeatures({ prompt: MATHS });
    fx.extract({ prompt: CODE });
    const b = fx.extract({ prompt: MATHS });
    expect(Array.from(b.dense)).toEqual(Array.from(a.dense));
    expect(Array.from(b.hashIndex.subarray(0, b.hashCount))).toEqual(Array.from(a.hashIndex));
    expect(Array.from(b.hashValue.subarray(0, b.hashCount))).toEqual(Array.from(a.hashValue));
  });

  it('gives every feature a finite value, even for empty or odd input', () => {
    for (const prompt of ['', ' ', '\n\n', '\ud800 lone surrogate', '\u0000\u0001', 'x'.repeat(50_000), '😀'.repeat(10)]) {
      const v = extractFeatures({ prompt });
      for (const x of v.dense) expect(Number.isFinite(x)).toBe(true);
      for (const x of v.hashValue) expect(Number.isFinite(x)).toBe(true);
    }
    expect(extractFeatures({}).hashCount).toBe(0);
  });

  it('scores a maths prompt higher on the maths features than prose', () => {
    const m = f(MATHS);
    const p = f(PROSE);
    expect(m.digit_ratio).toBeGreaterThan(p.digit_ratio);
    expect(m.log_numbers).toBeGreaterThan(p.log_numbers);
    expect(m.operator_ratio).toBeGreaterThan(p.operator_ratio);
    expect(m.log_equals).toBeGreaterThan(0);
    expect(m.log_latex).toBeGreaterThan(0);
    expect(m.log_decimals).toBeGreaterThan(0);
    expect(m.log_variables).toBeGreaterThan(0);
    expect(m.log_math_words).toBeGreaterThan(p.log_math_words);
  });

  it('scores code higher on the code features', () => {
    const c = f(CODE);
    const p = f(PROSE);
    expect(c.log_code_fences).toBeGreaterThan(0);
    expect(c.log_code_keywords).toBeGreaterThan(p.log_code_keywords);
    expect(c.log_identifiers).toBeGreaterThan(p.log_identifiers);
    expect(c.indented_line_ratio).toBeGreaterThan(0);
    expect(c.log_code_operators).toBeGreaterThan(0);
  });

  it('recognises multiple-choice questions and their options', () => {
    const q = f(MCQ);
    expect(q.mcq).toBe(1);
    expect(q.log_options).toBeCloseTo(Math.log1p(4), 12);
    expect(q.option_numeric_ratio).toBe(1);
    expect(q.log_negation_words).toBeGreaterThan(0);
    expect(q.log_caps_words).toBeGreaterThan(0);
    expect(f(PROSE).mcq).toBe(0);
    expect(f('Pick one:\nA) red\nB) blue\nC) green').mcq).toBe(1);
  });

  it('counts lists, numbered constraints, questions and paragraphs', () => {
    const r = f('Write a plan.\n\n1. Keep it short.\n2. Use at most 3 steps.\n3. Avoid jargon.\n- bonus: add a title\nWhy does it matter? How?');
    expect(r.log_numbered_items).toBeCloseTo(Math.log1p(3), 12);
    expect(r.log_list_items).toBeCloseTo(Math.log1p(4), 12);
    expect(r.log_question_marks).toBeCloseTo(Math.log1p(2), 12);
    expect(r.ends_with_question).toBe(1);
    expect(r.log_paragraphs).toBeGreaterThan(Math.log1p(1));
    expect(r.log_why_how).toBeGreaterThan(0);
  });

  it('gives non-English text meaningful script features and tokens', () => {
    const zh = f('请解释一下量子纠缠的基本原理，并举一个例子。');
    expect(zh.cjk_ratio).toBeGreaterThan(0.7);
    expect(zh.log_words).toBeGreaterThan(Math.log1p(10)); // one token per ideograph
    const ru = f('Объясните, пожалуйста, принцип работы квантового компьютера.');
    expect(ru.cyrillic_ratio).toBeGreaterThan(0.7);
    expect(ru.log_words).toBeCloseTo(Math.log1p(6), 12);
    const ar = f('ما هي عاصمة فرنسا؟');
    expect(ar.arabic_hebrew_ratio).toBeGreaterThan(0.6);
    const hi = f('भारत की राजधानी क्या है?');
    expect(hi.other_script_ratio).toBeGreaterThan(0.6);
    expect(f(PROSE).latin_letter_ratio).toBeGreaterThan(0.7);
    expect(f(PROSE).non_ascii_ratio).toBe(0);
  });

  it('has length features on a log scale, exact even past the scan cap', () => {
    const long = 'word '.repeat(20_000);
    const small = new FeatureExtractor({ ...DEFAULT_FEATURE_CONFIG, maxScanChars: 1000 });
    const r = denseRecord(small.extract({ prompt: long }).dense);
    expect(r.log_chars).toBeCloseTo(Math.log1p(long.length), 12);
    expect(r.log_approx_tokens).toBeCloseTo(Math.log1p(long.length / 4), 6);
    expect(f('abcd').log_chars).toBeCloseTo(Math.log1p(4), 12);
  });

  it('routes on the last user turn with the rest as context, and counts tools and images', () => {
    const messages = [
      { role: 'system' as const, content: 'You are terse.' },
      { role: 'user' as const, content: 'Hello there' },
      { role: 'assistant' as const, content: 'Hi! How can I help?' },
      {
        role: 'user' as const,
        content: [
          { type: 'text' as const, text: MATHS },
          { type: 'image_url' as const, image_url: { url: 'data:image/png;base64,AAAA' } },
        ],
      },
    ];
    const routed = routedText({ messages, tools: 2 });
    expect(routed.text).toBe(MATHS);
    expect(routed).toMatchObject({ messages: 4, userTurns: 2, assistantTurns: 1, systemChars: 14, contextChars: 30, tools: 2, images: 1 });
    const r = denseRecord(fx.extract({ messages, tools: 2 }).dense);
    expect(r.has_system).toBe(1);
    expect(r.has_assistant_turns).toBe(1);
    expect(r.log_messages).toBeCloseTo(Math.log1p(4), 12);
    expect(r.log_tools).toBeCloseTo(Math.log1p(2), 12);
    expect(r.log_images).toBeCloseTo(Math.log1p(1), 12);
    // the routed text's own features equal those of the bare prompt
    expect(r.digit_ratio).toBe(f(MATHS).digit_ratio);
    expect(denseRecord(fx.extract({ messages, images: 5 }).dense).log_images).toBeCloseTo(Math.log1p(5), 12);
    expect(routedText({ prompt: 'x' })).toMatchObject({ text: 'x', messages: 1, userTurns: 1 });
  });

  it('hashes words case-insensitively and L2-normalises the hashed block', () => {
    const a = extractFeatures({ prompt: 'Quantum Entanglement' });
    const b = extractFeatures({ prompt: 'quantum entanglement' });
    expect(Array.from(a.hashIndex).sort()).toEqual(Array.from(b.hashIndex).sort());
    // each block (words, characters) is L2-normalised on its own
    const wordDim = 1 << DEFAULT_FEATURE_CONFIG.hashing.wordBits;
    let wordNorm = 0;
    let charNorm = 0;
    a.hashIndex.forEach((i, k) => {
      if (i < wordDim) wordNorm += a.hashValue[k] ** 2;
      else charNorm += a.hashValue[k] ** 2;
    });
    expect(wordNorm).toBeCloseTo(1, 12);
    expect(charNorm).toBeCloseTo(1, 12);
    const wordsOnly: FeatureConfig = { ...DEFAULT_FEATURE_CONFIG, hashing: { ...DEFAULT_FEATURE_CONFIG.hashing, charBits: 0 } };
    expect(extractFeatures({ prompt: 'Quantum Entanglement' }, wordsOnly).hashCount).toBe(3); // two unigrams, one bigram
    expect(wordHash('Hello')).toBe(wordHash('hELLO'));
  });

  it('counts many distinct n-grams correctly (the count table grows)', () => {
    const config: FeatureConfig = { ...DEFAULT_FEATURE_CONFIG, hashing: { ...DEFAULT_FEATURE_CONFIG.hashing, charBits: 0 } };
    const words = Array.from({ length: 6000 }, (_, i) => `w${i.toString(36)}x`);
    const v = extractFeatures({ prompt: `${words.join(' ')} ${words.join(' ')}` }, config);
    for (let k = 0; k < v.hashCount; k++) {
      expect(v.hashIndex[k]).toBeGreaterThanOrEqual(0);
      expect(Number.isFinite(v.hashValue[k])).toBe(true);
    }
    let norm = 0;
    for (const x of v.hashValue) norm += x * x;
    expect(norm).toBeCloseTo(1, 9);
    expect(v.hashCount).toBeGreaterThan(6000);
    expect(new Set(v.hashIndex).size).toBe(v.hashCount);
  });

  it('can add character n-grams in their own block', () => {
    const config: FeatureConfig = { ...DEFAULT_FEATURE_CONFIG, hashing: { ...DEFAULT_FEATURE_CONFIG.hashing, wordBits: 10, charBits: 12, charNgramMin: 3, charNgramMax: 5 } };
    const v = extractFeatures({ prompt: 'abcdef' }, config);
    const words = Array.from(v.hashIndex).filter((i) => i < 1 << 10);
    const chars = Array.from(v.hashIndex).filter((i) => i >= 1 << 10);
    expect(words).toHaveLength(1);
    // 3-, 4- and 5-grams of "abcdef": 4 + 3 + 2 (some may collide)
    expect(chars.length).toBeGreaterThanOrEqual(8);
    for (const i of chars) expect(i).toBeLessThan((1 << 10) + (1 << 12));
  });
});
