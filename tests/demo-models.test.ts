// The demo's trained models (examples/web/models), compiled, against the outputs PyTorch saved
// when it trained them (examples/train/*.py → tests/fixtures/demo); and the page's helpers for
// sampling words (against generate(): the page samples with the runtime's sampler, which
// tests/sampling.test.ts tests) and turning drawings into digits-data-set pixels.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { loadDefinition } from '../compiler/cli/load.ts';
import { compileModel } from '../compiler/driver/compile.ts';
import { readSafetensors, type SafeTensor } from '../compiler/weights/safetensors.ts';
import { loadModelBytes, type Model } from '../runtime/model.ts';
import { classifyDigit, toDigitPixels } from '../examples/web/digits.ts';
import { encodeLetters, inventWord, VOCAB } from '../examples/web/words.ts';
import { uniform } from '../runtime/index.ts';
import { TEST_ISAS } from './helpers/e2e.ts';

const MODELS = join(import.meta.dirname, '../examples/web/models');
const fixture = (name: string) => readSafetensors(readFileSync(join(import.meta.dirname, 'fixtures/demo', name)), name);
const f32 = (t: SafeTensor | undefined) => t!.data as Float32Array;
const i32 = (t: SafeTensor | undefined) => t!.data as Int32Array;

function expectClose(got: ArrayLike<number>, want: ArrayLike<number>, what: string, tol = 1e-4): void {
  expect(got.length, what).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    if (!(Math.abs(got[i]! - want[i]!) <= tol + tol * Math.abs(want[i]!))) expect.fail(`${what}[${i}]: got ${got[i]}, PyTorch ${want[i]}`);
  }
}

async function compileFile(file: string): Promise<Map<string, Model>> {
  const { bytes } = await compileModel(await loadDefinition(join(MODELS, file)), { isas: TEST_ISAS });
  return new Map(await Promise.all(TEST_ISAS.map(async (isa) => [isa, await loadModelBytes(bytes, { isa })] as const)));
}

describe('trained digits CNN', () => {
  let models: Map<string, Model>;
  beforeAll(async () => { models = await compileFile('digits.model.ts'); });
  const io = fixture('digits_io.safetensors');
  const images = f32(io.get('images')), probs = f32(io.get('probs')), logits = f32(io.get('logits'));
  const predicted = i32(io.get('predicted')), labels = i32(io.get('labels')), n = labels.length;
  const info = JSON.parse(readFileSync(join(MODELS, 'digits.json'), 'utf8')) as { testAccuracy: number; testImages: number; samples: number[][] };

  test.each(TEST_ISAS)('%s: logits and probabilities of every test image match PyTorch; accuracy as reported', (isa) => {
    const m = models.get(isa)!;
    let correct = 0;
    for (let i = 0; i < n; i++) {
      const out = m.run({ x: images.slice(i * 64, i * 64 + 64) });
      expectClose(out.logits!, logits.subarray(i * 10, i * 10 + 10), `image ${i} logits`);
      expectClose(out.probs!, probs.subarray(i * 10, i * 10 + 10), `image ${i} probs`, 1e-5);
      const c = classifyDigit(m, images.slice(i * 64, i * 64 + 64));
      expect(c.predicted, `image ${i}`).toBe(predicted[i]);
      if (c.predicted === labels[i]) correct++;
    }
    expect(n).toBe(info.testImages);
    expect(correct / n).toBeCloseTo(info.testAccuracy, 4);
    expect(correct / n).toBeGreaterThan(0.95);
  });

  test('the page samples are test images of each class, classified correctly', () => {
    const m = models.get(TEST_ISAS[0]!)!;
    info.samples.forEach((s, d) => expect(classifyDigit(m, Float32Array.from(s)).predicted).toBe(d));
  });
});

describe('trained words GPT', () => {
  let models: Map<string, Model>;
  beforeAll(async () => { models = await compileFile('words.model.ts'); });
  const io = fixture('words_io.safetensors');
  const text = i32(io.get('input.tokens')), logits = f32(io.get('output.logits')), V = VOCAB.length, T = text.length;

  test.each(TEST_ISAS)('%s: run() logits of a 32-token text match PyTorch', (isa) => {
    expectClose(models.get(isa)!.run({ tokens: text }).logits!, logits, 'logits');
  });

  test.each(TEST_ISAS)('%s: prefill and decode from the KV cache give the same logits as PyTorch at every position', (isa) => {
    const m = models.get(isa)!;
    for (const k of [1, 5, 8, 9, 17, 32]) {
      m.reset();
      expectClose(m.prefill(text.subarray(0, k)), logits.subarray((k - 1) * V, k * V), `prefill(${k} tokens)`);
    }
    m.reset();
    let got = m.prefill(text.subarray(0, 1));
    for (let t = 1; t < T; t++) {
      got = m.decode(text[t]!);
      expectClose(got, logits.subarray(t * V, (t + 1) * V), `decode at position ${t}`);
    }
  });

  test.each(TEST_ISAS)('%s: greedy generation equals PyTorch greedy', (isa) => {
    for (let i = 0; io.has(`prompt${i}`); i++) {
      const prompt = i32(io.get(`prompt${i}`)), want = i32(io.get(`greedy${i}`));
      expect(Array.from(models.get(isa)!.generate(prompt, { maxNewTokens: want.length - prompt.length }))).toEqual(Array.from(want));
    }
  });

  test('invented words are letters, start as asked, and the same seed gives the same words', async () => {
    const m = models.get(TEST_ISAS[0]!)!;
    const words = async (seed: number, start: string) => {
      const random = uniform(seed), out: string[] = [];
      for (let i = 0; i < 20; i++) out.push((await inventWord(m, { start, temperature: 0.8, random })).word);
      return out;
    };
    const a = await words(3, 're');
    expect(await words(3, 're')).toEqual(a);
    expect(await words(4, 're')).not.toEqual(a);
    for (const w of a) expect(w).toMatch(/^re[a-z]*$/);
    // A trained model ends most words within a word's usual length.
    expect(a.filter((w) => w.length <= 16).length).toBeGreaterThanOrEqual(18);
  });

  test('a word is what generate() gives for the same prompt, temperature and seed (the page samples with the runtime\'s sampler)', async () => {
    const m = models.get(TEST_ISAS[0]!)!, capacity = m.manifest.generation!.capacity;
    // generate() keeps the boundary token that ends the word; the page drops it.
    const generated = (prompt: number[], o: { temperature?: number; seed?: number }) => {
      const out = Array.from(m.generate(prompt, { maxNewTokens: capacity - prompt.length, eosTokenId: 0, ...o }));
      return out.at(-1) === 0 ? out.slice(0, -1) : out;
    };
    let sampled = 0;
    for (const [start, temperature, seed] of [['', 0, 0], ['qu', 0, 0], ['', 0.8, 1], ['re', 0.8, 2], ['st', 1.2, 3], ['', 1.5, 4]] as const) {
      const prompt = [0, ...encodeLetters(start)];
      const { tokens } = await inventWord(m, { start, temperature, random: uniform(seed) });
      expect(tokens).toEqual(generated(prompt, { temperature, seed }));
      if (tokens.join() !== generated(prompt, {}).join()) sampled++;
    }
    expect(sampled).toBeGreaterThan(0); // not all greedy
  });
});

describe('page helpers', () => {
  test('encodeLetters names a character that is not a-z', () => {
    expect(encodeLetters('az')).toEqual([1, 26]);
    expect(() => encodeLetters('aB')).toThrow(/'B' at index 1 of 'aB' is not a lowercase letter a-z/);
  });

  test('toDigitPixels counts a 32-high bitmap in 4×4 blocks, at any drawing scale', () => {
    // Ink 24 columns wide (4..27) and 32 rows high: the bitmap as it is.
    const random = uniform(9);
    const bits = Uint8Array.from({ length: 32 * 32 }, (_, i) => {
      const x = i % 32, y = Math.floor(i / 32);
      return x >= 4 && x < 28 && (y === 0 || y === 31 || x === 4 || x === 27 || random() < 0.4) ? 255 : 0;
    });
    const want = new Float32Array(64);
    bits.forEach((b, i) => { if (b) want[(Math.floor(i / 32) >> 2) * 8 + ((i % 32) >> 2)] += 1; });
    expect(Array.from(toDigitPixels(bits, 32, 32))).toEqual(Array.from(want));
    // The same drawing at 8× on a wider pad, off-centre: cropped, scaled and centred back.
    const W = 300, H = 256, big = new Uint8Array(W * H);
    for (let y = 0; y < H; y++) for (let x = 0; x < 256; x++) big[y * W + x + 20] = bits[(y >> 3) * 32 + (x >> 3)]!;
    expect(Array.from(toDigitPixels(big, W, H))).toEqual(Array.from(want));
  });

  test('toDigitPixels: the height always fills the 32 rows; a wide drawing is narrowed to 24 columns', () => {
    const px = toDigitPixels(new Uint8Array(64 * 16).fill(255), 64, 16); // 32 rows × columns 4..27
    for (let r = 0; r < 8; r++) expect(Array.from(px.subarray(r * 8, r * 8 + 8))).toEqual([0, 16, 16, 16, 16, 16, 16, 0]);
  });

  test('toDigitPixels: a tall thin stroke is centred; an empty pad is zeros; wrong sizes are an error', () => {
    const W = 200, H = 200, ink = new Uint8Array(W * H);
    for (let y = 20; y < 180; y++) for (let x = 30; x < 50; x++) ink[y * W + x] = 255; // 20 × 160: bitmap columns 14-17 of 32
    const px = toDigitPixels(ink, W, H);
    for (let r = 0; r < 8; r++) expect(Array.from(px.subarray(r * 8, r * 8 + 8))).toEqual([0, 0, 0, 8, 8, 0, 0, 0]); // 2 columns × 4 rows per block
    expect(Array.from(toDigitPixels(new Uint8Array(16), 4, 4))).toEqual(new Array(64).fill(0));
    expect(() => toDigitPixels(new Uint8Array(10), 4, 4)).toThrow(/expected 4×4 = 16 ink values, got 10/);
  });
});
