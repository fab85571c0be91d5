// generate()'s sampler (runtime/sample.ts) against the sorting one it replaced
// (tests/helpers/sample-oracle.ts): one draw from GPT-like logits, gaussian of standard deviation
// σ (GPT-2's are about 2 to 3 over its vocabulary), at vocabularies of 1k and 50,257, for topP
// 0.9 (the common setting), minP 0.05 and topK 40 + topP 0.9, at T 0.7 and 1. Twenty logit rows
// per case, drawn in turn; every draw is checked to give the oracle's token. Also prints how many
// tokens the cut keeps (the nucleus) and the time of the plain draw (no cut) for scale.
// Run: npx tsx bench/sampling.ts
import { drawToken, uniform, type Sampling } from '../runtime/sample.ts';
import { sortingSampleToken } from '../tests/helpers/sample-oracle.ts';
import { median, timeInterleaved } from './harness.ts';

const ROWS = 20;

/** Gaussian logits of standard deviation σ (Box–Muller on the seeded generator). */
function gaussianRows(n: number, sigma: number, seed: number): Float32Array[] {
  const u = uniform(seed, 0);
  return Array.from({ length: ROWS }, () => Float32Array.from({ length: n }, () => sigma * Math.sqrt(-2 * Math.log(1 - u())) * Math.cos(2 * Math.PI * u())));
}

/** How many tokens the cuts keep (ties at the cut aside): the rules applied to the sorted weights. */
function keptCount(l: Float32Array, o: Sampling): number {
  const max = l.reduce((a, b) => Math.max(a, b)), w = Array.from(l, (x) => Math.exp((x - max) / o.temperature)).sort((a, b) => b - a).slice(0, o.topK);
  const total = w.reduce((a, b) => a + b, 0);
  let k = w.length, mass = 0;
  if (o.topP !== undefined) for (k = 0; (mass += w[k++]!) < o.topP * total;);
  while (w[k - 1]! < (o.minP ?? 0)) k--;
  return k;
}

const cases: Array<[string, Omit<Sampling, 'temperature'>]> = [
  ['topP 0.9', { topP: 0.9 }],
  ['minP 0.05', { minP: 0.05 }],
  ['topK 40 + topP 0.9', { topK: 40, topP: 0.9 }],
  ['no cut', {}],
];
console.log('vocab    σ  T    options               kept*   sorting ms  now ms   speedup');
for (const n of [1000, 50257]) {
  for (const sigma of [2, 3]) {
    const rows = gaussianRows(n, sigma, n + sigma);
    for (const T of [0.7, 1]) {
      for (const [name, cut] of cases) {
        const o = { temperature: T, ...cut }, u = uniform(7, 0), us = Array.from({ length: ROWS }, () => u());
        rows.forEach((l, r) => {
          const want = sortingSampleToken(l, o, us[r]!), got = drawToken(l, o, us[r]!, 'bench');
          if (got !== want) throw new Error(`bench/sampling: vocab ${n} σ ${sigma} T ${T} ${name} row ${r}: drew ${got}, the sorting sampler ${want}`);
        });
        let a = 0, b = 0;
        const [old, now] = await timeInterleaved([
          () => { a = (a + 1) % ROWS; return sortingSampleToken(rows[a]!, o, us[a]!); },
          () => { b = (b + 1) % ROWS; return drawToken(rows[b]!, o, us[b]!, 'bench'); },
        ], { warmupMs: 150, budgetMs: n > 1000 ? 1500 : 400, rounds: 5 });
        const kept = median(rows.slice(0, 5).map((l) => keptCount(l, o)));
        console.log(`${String(n).padEnd(6)} ${String(sigma).padStart(2)}  ${String(T).padEnd(4)} ${name.padEnd(20)} ${String(kept).padStart(6)}  ${old!.medianMs.toFixed(3).padStart(10)}  ${now!.medianMs.toFixed(3).padStart(6)}  ${(old!.medianMs / now!.medianMs).toFixed(1).padStart(7)}×`);
      }
    }
  }
}
console.log('* kept: tokens the cuts keep (the median of 5 rows)');
