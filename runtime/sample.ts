// Sampling for Model.generate(): a seeded generator and one draw from softmax(logits / T), cut
// as Hugging Face's samplers cut, in their order (top_k, top_p, min_p), computed in f64.
// No Node-only imports: this runs in browsers too.

import { describe } from './format.ts';

export interface Sampling { temperature: number; topK?: number; topP?: number; minP?: number }

/**
 * Uniform numbers in [0, 1) on the 2^-53 grid from sfc32 (Doty-Humphrey's small fast counting
 * generator: 32-bit integer operations only, so every platform draws the same numbers), keyed by
 * a seed in [0, 2^53) and a stream number: generate() gives each sequence its own stream, so a
 * sequence that stops does not shift the others' draws.
 */
export function uniform(seed: number, stream: number): () => number {
  let a = seed >>> 0, b = seed / 4294967296 >>> 0, c = stream >>> 0, d = 1;
  const next = () => {
    const t = (a + b | 0) + d | 0;
    d = d + 1 | 0;
    a = b ^ b >>> 9;
    b = c + (c << 3) | 0;
    c = (c << 21 | c >>> 11) + t | 0;
    return t >>> 0;
  };
  for (let i = 0; i < 15; i++) next(); // mixes the seed through the state (PractRand's advice: 12 or more)
  return () => ((next() >>> 5) * 67108864 + (next() >>> 6)) / 9007199254740992;
}

/**
 * The token drawn for `u` (uniform in [0, 1)) from softmax(logits / temperature), each weight
 * exp((logit − max) / T) in f64. The cuts keep the most likely tokens (by logit, the lower id
 * first among equal logits): topK the first k (exactly k: Hugging Face keeps every token tied
 * with the k-th), topP the fewest whose mass within the top k reaches p (the token that crosses
 * p is kept), minP those at least minP times as likely as the most likely. The draw inverts the
 * kept weights' running sum in token-id order, so no cut (topK ≥ the vocabulary, topP 1, minP 0)
 * draws exactly what no option draws. A −Infinity logit is never drawn; NaN and +Infinity are
 * refused with an error that `where` starts.
 */
export function sampleToken(logits: Float32Array, o: Sampling, u: number, where = 'sampleToken()'): number {
  const n = logits.length, T = o.temperature, w = new Float64Array(n);
  let max = -Infinity, keep = Math.min(o.topK ?? n, n), b = -Infinity, ties = n;
  for (let j = 0; j < n; j++) {
    const l = logits[j]!;
    if (!(l < Infinity)) throw new Error(`${where}: logit ${l} at vocabulary index ${j}; sampling needs finite logits (−Infinity for a token never to draw)`);
    if (l > max) max = l;
  }
  if (max === -Infinity) throw new Error(`${where}: every logit is −Infinity, there is no token to draw`);
  if (keep < n || o.topP! < 1 || o.minP! > 0) {
    // How many of the most likely to keep, counted on the kept logits in descending order.
    const s = largest(logits, keep), ws = (i: number) => Math.exp((s[i]! - max) / T);
    let total = 0, mass = 0, i = 0;
    for (; i < keep; i++) total += ws(i);
    for (i = 0; i < keep && (mass += ws(i)) < o.topP! * total;) i++;
    if (o.topP! < 1) keep = i + 1;
    for (i = 0; i < keep && ws(i) >= (o.minP ?? 0);) i++;
    keep = i;
    // The cut falls among tokens of logit b: the first `ties` of them in id order stay.
    b = s[keep - 1]!;
    ties = 0;
    for (i = 0; i < keep; i++) if (s[i] === b) ties++;
  }
  let x = 0, last = 0;
  for (let j = 0; j < n; j++) {
    const l = logits[j]!;
    if (l > b || (l === b && ties-- > 0)) x += w[j] = Math.exp((l - max) / T);
  }
  x *= u;
  for (let j = 0; j < n; j++) {
    if (w[j]! > 0) {
      if ((x -= w[j]!) < 0) return j;
      last = j;
    }
  }
  return last; // u × the sum rounded up to the sum
}

/**
 * The `k` largest of `xs` (no NaN), in descending order: a min-heap of k (O(n log k), for
 * top-k over a vocabulary of 50k, ~10× faster than sorting it), or a sort when k is most of n.
 */
function largest(xs: Float32Array, k: number): Float32Array {
  const n = xs.length;
  if (k * 4 > n) return Float32Array.from(xs).sort().reverse().subarray(0, k);
  const h = xs.slice(0, k);
  const down = (i: number) => {
    for (let c; (c = 2 * i + 1) < k; i = c) {
      if (c + 1 < k && h[c + 1]! < h[c]!) c++;
      if (!(h[c]! < h[i]!)) break;
      const t = h[i]!; h[i] = h[c]!; h[c] = t;
    }
  };
  for (let i = (k >> 1) - 1; i >= 0; i--) down(i);
  for (let j = k; j < n; j++) if (xs[j]! > h[0]!) { h[0] = xs[j]!; down(0); }
  return h.sort().reverse();
}

/** generate()'s sampling options, checked: undefined for greedy (no temperature, or 0). */
export function samplingOf(where: string, o: Record<string, unknown>): (Sampling & { seed: number }) | undefined {
  const { temperature: T, topK, topP, minP, seed } = o;
  const num = (v: unknown): v is number => typeof v === 'number';
  const check = (ok: boolean, name: string, what: string) => {
    if (o[name] !== undefined && !ok) throw new Error(`${where}: ${name} must be ${what}, got ${describe(o[name])}`);
  };
  check(num(T) && T >= 0 && T < Infinity, 'temperature', 'a finite number ≥ 0 (0 is greedy)');
  check(Number.isInteger(topK) && (topK as number) > 0, 'topK', 'a positive integer');
  check(num(topP) && topP > 0 && topP <= 1, 'topP', 'a number in (0, 1]');
  check(num(minP) && minP >= 0 && minP <= 1, 'minP', 'a number in [0, 1]');
  check(Number.isSafeInteger(seed) && (seed as number) >= 0, 'seed', 'an integer in [0, 2^53)');
  const k = ['topK', 'topP', 'minP', 'seed'].find((x) => o[x] !== undefined);
  if (T === undefined && k) throw new Error(`${where}: ${k} is for sampling, which needs a temperature > 0 (without one, generation is greedy)`);
  // Greedy is the limit of sampling as the temperature falls to 0, whatever the cuts: the argmax is always kept.
  if (!T) return undefined;
  return { temperature: T as number, topK: topK as number | undefined, topP: topP as number | undefined, minP: minP as number | undefined, seed: (seed as number | undefined) ?? Math.floor(Math.random() * 2 ** 53) };
}
