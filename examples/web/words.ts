// Inventing words with the character-level GPT (models/words.model.ts): tokens, and the
// runtime's seeded sampler (sampleToken, uniform) over its decode() logits, one word per fresh
// KV cache. Shared by the page and the tests; needs only the browser-safe runtime.
import { sampleToken, type Model } from 'simdflow/runtime';

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
export async function inventWord(model: Model, o: {
  start?: string; temperature: number;
  /** Uniform numbers in [0, 1), one per letter drawn: uniform(seed) from simdflow/runtime reproduces a run. */
  random: () => number;
  onLetter?: (letter: string) => void | Promise<void>;
}): Promise<InventedWord> {
  const prompt = [BOUNDARY, ...encodeLetters(o.start ?? '')];
  const capacity = model.manifest.generation!.capacity;
  model.reset();
  const tokens = [...prompt];
  let t0 = performance.now(), ms = 0, calls = 1;
  let logits = model.prefill(prompt);
  for (;;) {
    const next = sampleToken(logits, { temperature: o.temperature }, o.random());
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
