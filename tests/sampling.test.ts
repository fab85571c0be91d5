// generate()'s sampler (runtime/sample.ts) on hand-made logits: temperature, topK, topP, minP
// and the seeded generator. Oracles: softmax(logits / T) computed here (a chi-square bound at
// fixed seeds, so it cannot flake), cut sets written out by hand, an independent Python
// implementation of the generator (fixtures/sampling/sfc32.py), and the sampler as it was
// before its cuts stopped sorting the whole vocabulary (helpers/sample-oracle.ts), which the
// runtime must match token for token. Also the sampler as exported to apps (argument checks).
// generate() itself, on a model: tests/gpt-batch.test.ts.
import { describe, expect, test } from 'vitest';
import { sampleToken, uniform, type Sampling } from '../runtime/sample.ts';
import { sortingSampleToken } from './helpers/sample-oracle.ts';
import * as api from '../runtime/index.ts';

/** Hand-made logits: a tie (tokens 1 and 6), a token never to draw (5). */
const L = Float32Array.of(2, 1, 0.5, 0, -1, -Infinity, 1, -3);

/** softmax(logits / T) over `kept` (all tokens when omitted), in f64. */
function softmax(logits: Float32Array, T: number, kept?: number[]): number[] {
  const e = Array.from(logits, (l, j) => (kept && !kept.includes(j) ? 0 : Math.exp(l / T)));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((x) => x / s);
}

/** Counts of each token over n draws from the stream (seed, 0). */
function counts(logits: Float32Array, o: Sampling, seed: number, n = 20000): number[] {
  const u = uniform(seed, 0), c = new Array<number>(logits.length).fill(0);
  for (let i = 0; i < n; i++) c[sampleToken(logits, o, u())]!++;
  return c;
}

/** Pearson's chi-square of the counts against probabilities p; a token of probability 0 drawn is Infinity. */
function chi2(c: number[], p: number[]): { stat: number; df: number } {
  const n = c.reduce((a, b) => a + b, 0);
  let stat = 0, df = -1;
  c.forEach((o, j) => {
    if (p[j] === 0) { if (o > 0) stat = Infinity; return; }
    stat += (o - n * p[j]!) ** 2 / (n * p[j]!);
    df++;
  });
  return { stat, df };
}
/** The chi-square distribution's 99.9% quantiles by degrees of freedom. */
const Q999 = [NaN, 10.83, 13.82, 16.27, 18.47, 20.52, 22.46];

describe('sampleToken on hand-made logits', () => {
  test('draws follow softmax(logits / T) (chi-square at a fixed seed), and the bound rejects a wrong temperature', () => {
    for (const [T, seed] of [[0.7, 1], [1, 2], [2.5, 3]] as const) {
      const c = counts(L, { temperature: T }, seed);
      expect(c[5]).toBe(0);
      const { stat, df } = chi2(c, softmax(L, T));
      expect(df).toBe(6);
      expect(stat).toBeLessThan(Q999[df]!);
      // The test can fail: the same draws are far from another temperature's distribution.
      expect(chi2(c, softmax(L, T * 1.3)).stat).toBeGreaterThan(5 * Q999[df]!);
    }
  });

  test('topK keeps exactly k tokens, the lower id first among equal logits', () => {
    // Logit 1 is tied between tokens 1 and 6: top 2 is {0, 1}, top 3 is {0, 1, 6}.
    for (const [k, kept] of [[1, [0]], [2, [0, 1]], [3, [0, 1, 6]], [4, [0, 1, 6, 2]]] as const) {
      const c = counts(L, { temperature: 0.8, topK: k }, 10 + k);
      const { stat, df } = chi2(c, softmax(L, 0.8, [...kept]));
      expect(df).toBe(kept.length - 1);
      if (df > 0) expect(stat).toBeLessThan(Q999[df]!);
      else expect(c[0]).toBe(20000);
    }
  });

  test('topK over a large vocabulary (the heap, not a sort) keeps the same set: the k largest logits, the lower id first among ties', () => {
    // 2,000 tokens on 40 logit values (one larger, last), so every cut falls inside a tie; the kept set is what a
    // stable sort by descending logit keeps. A draw with u just below the sum of the kept weights up
    // to token j (in id order) lands on j exactly when j is kept.
    const n = 2000, l = Float32Array.from({ length: n }, (_, j) => ((j * 7919) % 40) / 4 - 5);
    l[n - 1] = 6; // the largest last, and the first token tied with the next largest
    l[0] = 4.75;
    const order = [...l.keys()].sort((a, b) => l[b]! - l[a]! || a - b);
    for (const k of [1, 7, 40, 123, 499]) {
      const kept = new Set(order.slice(0, k)), T = 1.3, w = (j: number) => (kept.has(j) ? Math.exp((l[j]! - 6) / T) : 0);
      const total = [...l.keys()].reduce((a, j) => a + w(j), 0);
      let before = 0;
      const drawn = new Set<number>();
      for (let j = 0; j < n; j++) {
        if (!kept.has(j)) continue;
        before += w(j);
        drawn.add(sampleToken(l, { temperature: T, topK: k }, (before - w(j) / 2) / total));
      }
      expect([...drawn].sort((a, b) => a - b)).toEqual([...kept].sort((a, b) => a - b));
    }
  });

  test('topP keeps the fewest most likely tokens whose mass reaches p (the one crossing p is kept); minP those within a factor of the most likely', () => {
    // At T = 1 the probabilities, most likely first, are 0.4650 (token 0), 0.1711 (1), 0.1711 (6),
    // 0.1037 (2), 0.0629 (3), 0.0231 (4), 0.0031 (7): e^l / 15.892.
    const p = softmax(L, 1);
    expect(p[0]).toBeCloseTo(0.4650, 4);
    const cases: Array<[Partial<Sampling>, number[]]> = [
      [{ topP: 0.3 }, [0]], // token 0 alone reaches 0.3
      [{ topP: p[0]! - 1e-9 }, [0]], // just reached by token 0
      [{ topP: p[0]! + 1e-9 }, [0, 1]], // just not
      [{ topP: 0.5 }, [0, 1]], // token 1 crosses 0.5 (0.636); token 6 (the same logit) is not needed
      [{ topP: 0.7 }, [0, 1, 6]],
      [{ topP: 0.99 }, [0, 1, 6, 2, 3, 4]],
      [{ topK: 3, topP: 0.6 }, [0, 1]], // within the top 3 (mass 0.807), 0.6 of it is 0.484: tokens 0 and 1
      [{ minP: 0.3 }, [0, 1, 6]], // 0.1711 / 0.4650 = 0.368 ≥ 0.3; 0.1037 / 0.4650 = 0.223 < 0.3
      [{ minP: 0.2, topP: 0.5 }, [0, 1]],
      [{ minP: 1 }, [0]],
    ];
    cases.forEach(([o, kept], i) => {
      const c = counts(L, { temperature: 1, ...o }, 20 + i);
      expect(c.flatMap((n, j) => (n > 0 ? [j] : []))).toEqual([...kept].sort());
      const { stat, df } = chi2(c, softmax(L, 1, kept));
      if (df > 0) expect(stat).toBeLessThan(Q999[df]!);
    });
  });

  test('no cut (topK ≥ the vocabulary, topP 1, minP 0) draws exactly what no option draws', () => {
    const u = uniform(5, 0);
    for (let i = 0; i < 2000; i++) {
      const x = u(), want = sampleToken(L, { temperature: 0.9 }, x);
      for (const o of [{ topK: 8 }, { topK: 1000 }, { topP: 1 }, { minP: 0 }, { topK: 8, topP: 1, minP: 0 }]) {
        expect(sampleToken(L, { temperature: 0.9, ...o }, x)).toBe(want);
      }
    }
  });

  test('the same seed and stream give the same tokens; another seed or stream, others', () => {
    const draw = (seed: number, stream: number) => {
      const u = uniform(seed, stream);
      return Array.from({ length: 60 }, () => sampleToken(L, { temperature: 1.5 }, u()));
    };
    expect(draw(1, 0)).toEqual(draw(1, 0));
    expect(draw(2, 0)).not.toEqual(draw(1, 0));
    expect(draw(1, 1)).not.toEqual(draw(1, 0));
    expect(draw(2 ** 32 + 1, 0)).not.toEqual(draw(1, 0)); // the seed's high bits count
  });

  test('the generator draws what an independent implementation draws (so every platform draws the same)', () => {
    // Printed by tests/fixtures/sampling/sfc32.py.
    const want: Array<[number, number, number[]]> = [
      [0, 0, [0.9817317219131122, 0.5801159137713449, 0.48707062736056117]],
      [42, 0, [0.7010580966032915, 0.3602520223017406, 0.315607748023663]],
      [42, 1, [0.599076607289288, 0.137384183130132, 0.6470118268363843]],
      [9007199254740991, 2, [0.24552305039891453, 0.258600178984596, 0.4114273385975792]],
    ];
    for (const [seed, stream, xs] of want) {
      const u = uniform(seed, stream);
      expect(xs.map(() => u())).toEqual(xs);
    }
  });

  test('edges: −Infinity is never drawn, not even at u just below 1; extreme temperatures; NaN and +Infinity refused', () => {
    const l = Float32Array.of(0, 0, -Infinity, -Infinity);
    expect(sampleToken(l, { temperature: 1 }, 1 - 2 ** -53)).toBe(1);
    expect(sampleToken(l, { temperature: 1 }, 0)).toBe(0);
    expect(sampleToken(l, { temperature: 1 }, 0.5)).toBe(1);
    // A tiny temperature is the argmax (the first of the largest); a huge one is uniform over the finite logits.
    for (const x of [0, 0.3, 1 - 2 ** -53]) expect(sampleToken(L, { temperature: 1e-300 }, x)).toBe(0);
    const c = counts(L, { temperature: 1e300 }, 4, 7000);
    expect(c[5]).toBe(0);
    expect(chi2(c, L.map((v) => (v === -Infinity ? 0 : 1 / 7)) as unknown as number[]).stat).toBeLessThan(Q999[6]!);
    expect(() => sampleToken(Float32Array.of(0, NaN), { temperature: 1 }, 0.5)).toThrow('sampleToken(): logit NaN at vocabulary index 1; sampling needs finite logits (−Infinity for a token never to draw)');
    expect(() => sampleToken(Float32Array.of(Infinity, 0), { temperature: 1 }, 0.5)).toThrow('logit Infinity at vocabulary index 0');
    expect(() => sampleToken(Float32Array.of(-Infinity, -Infinity), { temperature: 1 }, 0.5)).toThrow('sampleToken(): every logit is −Infinity, there is no token to draw');
  });
});

describe('the cuts without sorting the vocabulary draw exactly what sorting it drew', () => {
  // Oracle: the sampler as it was (tests/helpers/sample-oracle.ts), which sorts the whole
  // vocabulary for topP and minP. The runtime sorts only the largest logits, down to a threshold
  // found from a histogram, and decides topP with bounds on the total weight, sorting all only
  // when they cannot decide; any slip in the threshold, the bounds or the running mass shows as
  // another token for some row here.
  /** Logit rows of many shapes: gaussian of several spreads, heavy ties, −Infinity, one token far ahead, huge values. */
  function row(n: number, kind: number, u: () => number): Float32Array {
    const g = () => Math.sqrt(-2 * Math.log(1 - u())) * Math.cos(2 * Math.PI * u());
    const l = Float32Array.from({ length: n }, () => {
      switch (kind) {
        case 0: return 2.5 * g(); // GPT-like
        case 1: return Math.floor(u() * 4); // four values: every cut falls in a tie
        case 2: return u() < 0.3 ? -Infinity : Math.round(3 * g()) / 2; // ties and tokens never to draw
        case 3: return 0.01 * g(); // nearly flat
        case 4: return 1e30 * g(); // huge spread
        default: return u() < 0.9 ? -Infinity : 20 * g(); // mostly −Infinity
      }
    });
    if (l.every((v) => v === -Infinity)) l[Math.floor(u() * n)] = 3; // at least one finite
    if (u() < 0.3) l[Math.floor(u() * n)] = 40; // one token far ahead
    return l;
  }

  test('random rows of 1 to 60,000 tokens: temperatures from 1e-300 to 1e300, topP near 0 and 1, minP, topK, u at the ends', () => {
    const u = uniform(2026, 0), pick = <T>(xs: readonly T[]): T => xs[Math.floor(u() * xs.length)]!;
    const temperatures = [1e-300, 1e-30, 0.01, 0.3, 0.7, 1, 1, 2, 1e30, 1e300];
    const topPs = [undefined, 1e-12, 0.01, 0.25, 0.5, 0.5, 0.9, 0.9, 0.95, 0.999, 1 - 2 ** -40, 1];
    const minPs = [undefined, undefined, undefined, 0, 1e-9, 0.05, 0.5, 1];
    let draws = 0, offArgmax = 0;
    // Large vocabularies are few (the oracle sorts each in ~10 ms); their rows draw at several u and options.
    for (const [n, rows] of [[1, 20], [2, 60], [3, 60], [5, 60], [17, 60], [100, 60], [1000, 40], [5000, 12], [60000, 4]] as const) {
      for (let r = 0; r < rows; r++) {
        const l = row(n, r % 6, u);
        for (let d = 0; d < 6; d++) {
          const o: Sampling = { temperature: pick(temperatures), topP: pick(topPs), minP: pick(minPs) };
          if (d === 5) o.topK = Math.max(1, Math.floor(u() * 1.5 * n));
          if (o.topP === undefined && !(o.minP! > 0)) o.topP = 0.9;
          const x = d === 0 ? 0 : d === 1 ? 1 - 2 ** -53 : u();
          const want = sortingSampleToken(l, o, x);
          expect(sampleToken(l, o, x), `n ${n} row ${r} ${JSON.stringify(o)} u ${x}`).toBe(want);
          draws++;
          if (want !== sortingSampleToken(l, { temperature: o.temperature }, 0)) offArgmax++;
        }
      }
    }
    expect(draws).toBe(2256);
    expect(offArgmax).toBeGreaterThan(draws / 4); // the draws are not all the argmax
  });

  test('exact ties with the nucleus boundary (mass = p × total), where the bounds cannot decide and the whole sort does', () => {
    // Equal logits: weights 1, total n, and p·n a whole number, so the running mass meets p·total exactly.
    for (const n of [4, 64, 4096, 40000]) {
      const l = new Float32Array(n).fill(1.5);
      for (const p of [0.25, 0.5, 0.75]) {
        for (const x of [0, 0.3, 0.6, 1 - 2 ** -53]) expect(sampleToken(l, { temperature: 0.8, topP: p }, x)).toBe(sortingSampleToken(l, { temperature: 0.8, topP: p }, x));
        // The cut keeps the first p·n tokens in id order (the one that reaches p·n is kept).
        expect(sampleToken(l, { temperature: 0.8, topP: p }, 1 - 2 ** -53)).toBe(p * n - 1);
      }
    }
  });
  test('p × total a few ulps from the running mass: only the total summed as the sort sums it decides', () => {
    // Logits 0, −x, −x (weights 1, w, w): the first two tokens' mass 1 + w, and p·(1 + 2w) from 3 ulps
    // below it to 3 above, so the cut keeps 2 tokens or 3 by the last bits of the total. The runtime
    // estimates the total without sorting (its weights come from a table and a polynomial, here
    // about 50 ulps low, x being just under a multiple of 1/64), so it must find it cannot decide
    // and sum as the sort does; trusting the estimate, or deciding inside its error, gives 2 for 3.
    let three = 0;
    for (let i = 0; i < 200; i++) {
      const l = Float32Array.of(0, -(i + 0.97) / 64, 0), T = 1;
      l[2] = l[1]!;
      const w = Math.exp(l[1]! / T), p0 = (1 + w) / (1 + w + w);
      for (let k = -3; k <= 3; k++) {
        const o = { temperature: T, topP: p0 + k * 2 ** -53 }, x = 1 - 2 ** -53, want = sortingSampleToken(l, o, x);
        expect(sampleToken(l, o, x), `x ${-l[1]!}, p ${o.topP}`).toBe(want);
        if (want === 2) three++;
      }
    }
    expect(three).toBeGreaterThan(200); // both outcomes occur
    expect(three).toBeLessThan(1200);
  });
});

describe('the exported sampler (simdflow/runtime: sampleToken, uniform)', () => {
  test('greedy without a temperature (or 0), as generate(): the first of the largest, the first NaN', () => {
    expect(api.sampleToken(L, {}, 0.99)).toBe(0);
    expect(api.sampleToken(L, { temperature: 0 }, 0.99)).toBe(0);
    expect(api.sampleToken(Float32Array.of(1, 3, 3), {}, 0)).toBe(1);
    expect(api.sampleToken(Float32Array.of(1, NaN, 3, NaN), { temperature: 0 }, 0)).toBe(1);
    // With a temperature it is the sampler tested above, seeded by uniform(seed) = uniform(seed, 0).
    const a = api.uniform(11), b = uniform(11, 0);
    for (let i = 0; i < 200; i++) expect(api.sampleToken(L, { temperature: 0.9, topP: 0.8 }, a())).toBe(sampleToken(L, { temperature: 0.9, topP: 0.8 }, b()));
  });

  test('misuse is a clear error naming what was expected and what was found', () => {
    const bad: Array<[() => unknown, string]> = [
      [() => api.sampleToken([1, 2] as unknown as Float32Array, { temperature: 1 }, 0.5), 'sampleToken(): logits must be a non-empty Float32Array (decode() returns one), got an array of 2'],
      [() => api.sampleToken(Float64Array.of(1, 2) as unknown as Float32Array, { temperature: 1 }, 0.5), 'logits must be a non-empty Float32Array (decode() returns one), got Float64Array(2)'],
      [() => api.sampleToken(new Float32Array(0), { temperature: 1 }, 0.5), 'logits must be a non-empty Float32Array (decode() returns one), got Float32Array(0)'],
      [() => api.sampleToken(L, null as never, 0.5), 'sampleToken(): expected an object of options (temperature, topK, topP, minP), got null'],
      [() => api.sampleToken(L, { temperature: 1, seed: 3 } as never, 0.5), "sampleToken(): unknown option 'seed' (allowed: temperature, topK, topP, minP)"],
      [() => api.sampleToken(L, { temperature: -1 }, 0.5), 'sampleToken(): temperature must be a finite number ≥ 0 (0 is greedy), got -1'],
      [() => api.sampleToken(L, { temperature: '1' as never }, 0.5), 'temperature must be a finite number ≥ 0 (0 is greedy), got "1"'],
      [() => api.sampleToken(L, { temperature: 1, topK: 0 }, 0.5), 'sampleToken(): topK must be a positive integer, got 0'],
      [() => api.sampleToken(L, { temperature: 1, topP: 0 }, 0.5), 'sampleToken(): topP must be a number in (0, 1], got 0'],
      [() => api.sampleToken(L, { temperature: 1, minP: 1.5 }, 0.5), 'sampleToken(): minP must be a number in [0, 1], got 1.5'],
      [() => api.sampleToken(L, { topP: 0.9 }, 0.5), 'sampleToken(): topP is for sampling, which needs a temperature > 0 (without one, generation is greedy)'],
      [() => api.sampleToken(L, { temperature: 1 }, 1), 'sampleToken(): u must be a number in [0, 1) (uniform(seed)() draws them), got 1'],
      [() => api.sampleToken(L, { temperature: 1 }, -0.1), 'u must be a number in [0, 1) (uniform(seed)() draws them), got -0.1'],
      [() => api.sampleToken(L, {}, NaN), 'u must be a number in [0, 1) (uniform(seed)() draws them), got NaN'],
      [() => api.sampleToken(L, { temperature: 1 }, undefined as never), 'u must be a number in [0, 1) (uniform(seed)() draws them), got undefined'],
      [() => api.uniform(-1), 'uniform(): seed must be an integer in [0, 2^53), got -1'],
      [() => api.uniform(2 ** 53), 'uniform(): seed must be an integer in [0, 2^53), got 9007199254740992'],
      [() => api.uniform(1.5), 'seed must be an integer in [0, 2^53), got 1.5'],
      [() => api.uniform('7' as never), 'seed must be an integer in [0, 2^53), got "7"'],
      [() => api.uniform(7, 2 ** 32), 'uniform(): stream must be an integer in [0, 2^32), got 4294967296'],
      [() => api.uniform(7, -1), 'uniform(): stream must be an integer in [0, 2^32), got -1'],
    ];
    for (const [f, message] of bad) expect(f).toThrow(message);
    expect(() => api.uniform(2 ** 53 - 1, 2 ** 32 - 1)).not.toThrow(); // the largest seed and stream
  });
});
