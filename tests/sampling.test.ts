// generate()'s sampler (runtime/sample.ts) on hand-made logits: temperature, topK, topP, minP
// and the seeded generator. Oracles: softmax(logits / T) computed here (a chi-square bound at
// fixed seeds, so it cannot flake), cut sets written out by hand, and an independent Python
// implementation of the generator (fixtures/sampling/sfc32.py). generate() itself, on a model:
// tests/gpt-batch.test.ts.
import { describe, expect, test } from 'vitest';
import { sampleToken, uniform, type Sampling } from '../runtime/sample.ts';

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
