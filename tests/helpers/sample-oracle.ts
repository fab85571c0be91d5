// Today's sampler (runtime/sample.ts at d5f28fc), kept verbatim as the oracle for the faster
// cuts: it sorts the whole vocabulary for topP and minP. tests/sampling.test.ts checks that the
// runtime draws exactly its tokens; bench/sampling.ts times both.
import type { Sampling } from '../../runtime/sample.ts';

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
export function sortingSampleToken(logits: Float32Array, o: Sampling, u: number, where = 'sampleToken()'): number {
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
