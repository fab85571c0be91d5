// Sampling for Model.generate(): a seeded generator and one draw from softmax(logits / T), cut
// as Hugging Face's samplers cut, in their order (top_k, top_p, min_p), computed in f64.
// No Node-only imports: this runs in browsers too.

import { describe, knownOptions, typedKind } from './format.ts';

export interface Sampling { temperature: number; topK?: number; topP?: number; minP?: number }

/**
 * Uniform numbers in [0, 1) on the 2^-53 grid from sfc32 (Doty-Humphrey's small fast counting
 * generator: 32-bit integer operations only, so every platform draws the same numbers), keyed by
 * a seed in [0, 2^53) and a stream number: generate() gives each sequence its own stream (its
 * index in the batch), so a sequence that stops does not shift the others' draws.
 */
export function uniform(seed: number, stream = 0): () => number {
  check('uniform()', 'seed', seed, isSeed(seed), SEED);
  check('uniform()', 'stream', stream, Number.isInteger(stream) && stream >= 0 && stream < 2 ** 32, 'an integer in [0, 2^32)');
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

/** drawToken()'s kept tokens and their weights, in id order, kept between calls: fresh arrays for a 50k vocabulary cost more than the draw. */
let ids = new Int32Array(0), weights = new Float64Array(0);

/**
 * The token drawn for `u` (uniform in [0, 1)) from softmax(logits / temperature), each weight
 * exp((logit − max) / T) in f64. The cuts keep the most likely tokens (by logit, the lower id
 * first among equal logits): topK the first k (exactly k: Hugging Face keeps every token tied
 * with the k-th), topP the fewest whose mass within the top k reaches p (the token that crosses
 * p is kept), minP those at least minP times as likely as the most likely. The draw inverts the
 * kept weights' running sum in token-id order, so no cut (topK ≥ the vocabulary, topP 1, minP 0)
 * draws exactly what no option draws. A −Infinity logit is never drawn; NaN and +Infinity are
 * refused with an error that `where` starts. topP and minP sort only the largest logits (likely(),
 * 5 to 20× faster than sorting a 50k vocabulary), drawing exactly the tokens the whole sort drew.
 */
export function drawToken(logits: Float32Array, o: Sampling, u: number, where: string): number {
  const n = logits.length, T = o.temperature;
  let max = -Infinity, keep = Math.min(o.topK ?? n, n), b = -Infinity, ties = n;
  for (let j = 0; j < n; j++) {
    const l = logits[j]!;
    if (!(l < Infinity)) throw new Error(`${where}: logit ${l} at vocabulary index ${j}; sampling needs finite logits (−Infinity for a token never to draw)`);
    if (l > max) max = l;
  }
  if (max === -Infinity) throw new Error(`${where}: every logit is −Infinity, there is no token to draw`);
  if (keep < n || o.topP! < 1 || o.minP! > 0) {
    // s: the largest logits in descending order. Without topK the few largest usually decide
    // (likely()); else, or when they do not, s holds all `keep` largest.
    let s!: Float32Array, k = 0;
    if (keep === n) { const c = likely(logits, max, o); k = cut(s = c, n, max, o, c.lo, c.hi); }
    if (!k) k = cut(s = largest(logits, keep), keep, max, o);
    // The cut falls among tokens of logit b: the first `ties` of them in id order stay.
    b = s[k - 1]!;
    ties = 0;
    for (let i = 0; i < k; i++) if (s[i] === b) ties++;
  }
  if (n > ids.length) { ids = new Int32Array(n); weights = new Float64Array(n); }
  let x = 0, m = 0, last = 0;
  for (let j = 0; j < n; j++) {
    const l = logits[j]!;
    if (l > b || (l === b && ties-- > 0)) { x += weights[m] = Math.exp((l - max) / T); ids[m++] = j; }
  }
  x *= u;
  for (let i = 0; i < m; i++) {
    if (weights[i]! > 0) {
      if ((x -= weights[i]!) < 0) return ids[i]!;
      last = ids[i]!;
    }
  }
  return last; // u × the sum rounded up to the sum
}

/**
 * How many of the `keep` largest logits the cuts keep, given `s`, the largest in descending order:
 * all `keep` (then their total weight, summed largest first, is computed here) or fewer, with
 * bounds lo ≤ total ≤ hi. The running mass is summed as the total is, so topP crosses at the
 * same token however s was found. 0 when s is too short, or the bounds too wide, to decide.
 */
function cut(s: Float32Array, keep: number, max: number, o: Sampling, lo?: number, hi?: number): number {
  const ws = (i: number) => Math.exp((s[i]! - max) / o.temperature), p = o.topP ?? 1;
  let mass = 0, i = 0;
  if (lo === undefined) {
    for (lo = 0; i < keep; i++) lo += ws(i);
    hi = lo;
  }
  if (p < 1) {
    for (i = 0; (mass += ws(i)) < p * lo; i++) if (i + 1 === s.length) return 0;
    if (!(mass >= p * hi!)) return 0;
    keep = i + 1;
  }
  for (i = 0; i < keep && ws(i) >= (o.minP ?? 0);) i++;
  return i === s.length && i < keep ? 0 : i;
}

/** e^(−i/64) for i < 4096: likely()'s weights, e^−d for d < 64 from these and a polynomial. */
let E: Float64Array | undefined;

/**
 * The largest logits in descending order, enough of them for topP and minP to decide: the
 * vocabulary sorted, but only down to a threshold, and the largest below it (so the result is a
 * prefix of the whole sort). The threshold comes from a histogram of the weights by log-weight (8
 * buckets per e), down to where the buckets hold p of the total, or one bucket past minP. `lo` and
 * `hi` bound the total as the whole sort sums it: each weight here is within 3e-14 of Math.exp's
 * (table, then Taylor to degree 5: r^6/720 < 2.1e-14), those below e^-64 are left out, and sums in
 * any two orders differ by at most 2(n − 1)·2^-53 of the total.
 */
function likely(logits: Float32Array, max: number, o: Sampling): Float32Array & { lo: number; hi: number } {
  const n = logits.length, T = o.temperature, p = o.topP ?? 1, h = new Float64Array(512), kept: number[] = [], err = 1e-12 + n * 2 ** -50;
  E ??= Float64Array.from({ length: 4096 }, (_, i) => Math.exp(-i / 64));
  let total = 0, B = 0, next = -Infinity;
  for (let j = 0; j < n; j++) {
    const d = (max - logits[j]!) / T;
    if (d < 64) {
      const i = d * 64 | 0, r = d - i / 64, e = E[i]! * (((((-r / 120 + 1 / 24) * r - 1 / 6) * r + 0.5) * r - 1) * r + 1);
      total += e;
      h[i >> 3]! += e;
    }
  }
  if (p < 1) for (let mass = 0; B < 511 && (mass += h[B]!) < p * total;) B++;
  else B = -Math.log(o.minP!) * 8;
  const t = max - (B + 2) / 8 * T;
  for (let j = 0; j < n; j++) {
    const l = logits[j]!;
    if (l >= t) kept.push(l);
    else if (l > next) next = l;
  }
  if (kept.length < n) kept.push(next);
  return Object.assign(Float32Array.from(kept).sort().reverse(), { lo: total * (1 - err), hi: total * (1 + err) });
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

/**
 * The token `u` (uniform in [0, 1): see uniform()) draws from `logits` (decode()'s) with
 * generate()'s options and rules: the argmax without a temperature (or 0), else drawToken().
 */
export function sampleToken(logits: Float32Array, options: Omit<Sampling, 'temperature'> & { temperature?: number }, u: number): number {
  const where = 'sampleToken()';
  check(where, 'logits', logits, typedKind.call(logits) === 'Float32Array' && logits.length > 0, 'a non-empty Float32Array (decode() returns one)');
  knownOptions(where, options, ['temperature', 'topK', 'topP', 'minP']);
  const s = samplingOf(where, options as Record<string, unknown>);
  check(where, 'u', u, typeof u === 'number' && u >= 0 && u < 1, 'a number in [0, 1) (uniform(seed)() draws them)');
  return s ? drawToken(logits, s, u, where) : argmax(logits);
}

/** PyTorch's argmax: the first of the largest, and the first NaN if there is one. */
export function argmax(l: Float32Array): number {
  let best = 0;
  for (let j = 1; j < l.length && l[best] === l[best]; j++) if (!(l[j]! <= l[best]!)) best = j;
  return best;
}

const isSeed = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0, SEED = 'an integer in [0, 2^53)';
function check(where: string, name: string, v: unknown, ok: boolean, what: string): void {
  if (!ok) throw new Error(`${where}: ${name} must be ${what}, got ${describe(v)}`);
}

/** generate()'s sampling options, checked: undefined for greedy (no temperature, or 0). */
export function samplingOf(where: string, o: Record<string, unknown>): (Sampling & { seed: number }) | undefined {
  const { temperature: T, topK, topP, minP, seed } = o;
  const num = (v: unknown): v is number => typeof v === 'number';
  const opt = (name: string, ok: boolean, what: string) => o[name] === undefined || check(where, name, o[name], ok, what);
  opt('temperature', num(T) && T >= 0 && T < Infinity, 'a finite number ≥ 0 (0 is greedy)');
  opt('topK', Number.isInteger(topK) && (topK as number) > 0, 'a positive integer');
  opt('topP', num(topP) && topP > 0 && topP <= 1, 'a number in (0, 1]');
  opt('minP', num(minP) && minP >= 0 && minP <= 1, 'a number in [0, 1]');
  opt('seed', isSeed(seed), SEED);
  const k = ['topK', 'topP', 'minP', 'seed'].find((x) => o[x] !== undefined);
  if (T === undefined && k) throw new Error(`${where}: ${k} is for sampling, which needs a temperature > 0 (without one, generation is greedy)`);
  // Greedy is the limit of sampling as the temperature falls to 0, whatever the cuts: the argmax is always kept.
  if (!T) return undefined;
  return { temperature: T as number, topK: topK as number | undefined, topP: topP as number | undefined, minP: minP as number | undefined, seed: (seed as number | undefined) ?? Math.floor(Math.random() * 2 ** 53) };
}
