// Inventing words with the character-level GPT (models/words.model.ts): tokens, seeded
// sampling on top of the runtime's decode() logits, one word per fresh KV cache.
// Shared by the page and the tests; needs only the browser-safe runtime's Model.
import type { Model } from 'simdflow/runtime';

/** Token 0 is the word boundary, 1..26 are 'a'..'z'. */
export const BOUNDARY = 0;
export const VOCAB = '.abcdefghijklmnopqrstuvwxyz';

export function encodeLetters(letters: string): number[] {
  return [...letters].map((c, i) => {
    const t = VOCAB.indexOf(c);
    if (t < 1) throw new Error(`words: '${c}' at index ${i} of '${letters}' is not a lowercase letter a-z`);
    return t;
  });
}

/** mulberry32: a small seeded generator of uniform numbers in [0, 1). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A token drawn from softmax(logits / temperature); temperature 0 is the argmax. */
export function sampleToken(logits: Float32Array, temperature: number, random: () => number): number {
  if (!(temperature >= 0)) throw new Error(`words: temperature must be ≥ 0, got ${temperature}`);
  let best = 0;
  for (let i = 1; i < logits.length; i++) if (logits[i]! > logits[best]!) best = i;
  if (temperature === 0) return best;
  const p = Array.from(logits, (l) => Math.exp((l - logits[best]!) / temperature));
  let u = random() * p.reduce((a, b) => a + b, 0);
  for (let i = 0; i < p.length; i++) if ((u -= p[i]!) < 0) return i;
  return best; // u landed on the rounding error of the sum
}

export interface InventedWord {
  word: string; tokens: number[];
  /** Model calls (one prefill, then one decode per letter but the last) and their time with sampling, ms. */
  calls: number; ms: number;
}

/**
 * One word: from a fresh cache holding the boundary token and `start` letters, sample letters
 * until the model ends the word or the cache is full. `onLetter` sees each letter as it
 * streams (the page awaits a repaint there); `ms` counts only the model calls and sampling.
 */
export async function inventWord(model: Model, o: { start?: string; temperature: number; random: () => number; onLetter?: (letter: string) => void | Promise<void> }): Promise<InventedWord> {
  const prompt = [BOUNDARY, ...encodeLetters(o.start ?? '')];
  const capacity = model.manifest.generation!.capacity;
  model.reset();
  const tokens = [...prompt];
  let t0 = performance.now(), ms = 0, calls = 1;
  let logits = model.prefill(prompt);
  for (;;) {
    const next = sampleToken(logits, o.temperature, o.random);
    ms += performance.now() - t0;
    if (next === BOUNDARY) break;
    tokens.push(next);
    await o.onLetter?.(VOCAB[next]!);
    if (tokens.length >= capacity) break;
    t0 = performance.now();
    logits = model.decode(next);
    calls++;
  }
  return { word: tokens.slice(1).map((t) => VOCAB[t]).join(''), tokens, calls, ms };
}
