// softmax_f32 / logsoftmax_f32 over [outer][n][inner] against oracle.softmax (f64), in place and
// not, contiguous (inner = 1) and strided. Tolerance: softmax 1e-6 absolute + 1e-5 relative
// (outputs are in [0, 1]; exp is good to ~1e-7 relative, the f32 sum adds ~n·6e-8);
// log-softmax 1e-5 absolute + 1e-6 relative (x − max − log Σ, each term ≲ 1e-6 of its size).
import { describe, it, expect, beforeAll } from 'vitest';
import { ISAS, kernels, randomF32, mismatches, type Kernels } from './harness.ts';
import * as oracle from './oracle.ts';

const shapes: [number, number, number][] = [[1, 1, 1], [1, 3, 1], [2, 5, 1], [3, 7, 1], [1, 8, 1], [2, 9, 1], [4, 17, 1],
  [3, 33, 1], [2, 100, 1], [1, 1000, 1], [2, 3, 2], [2, 5, 3], [1, 7, 4], [3, 9, 5], [2, 17, 8], [1, 33, 9], [2, 4, 17],
  [5, 1, 6], [1, 10, 64]];

describe.each(ISAS)('softmax %s', (isa) => {
  let K: Kernels;
  beforeAll(async () => { K = await kernels(isa); });
  const variants = [['softmax_f32', false], ['logsoftmax_f32', true]] as const;
  it.each(variants.flatMap(([fn, log]) => shapes.flatMap((s) => [false, true].map((inPlace) => [fn, s.join('x'), s, log, inPlace] as const))))(
    '%s [%s] in place=%s', (fn, _n, [outer, n, inner], log, inPlace) => {
      K.reset();
      const x = randomF32(outer * n * inner, outer * 7 + n * 13 + inner, -8, 8);
      const px = K.put(x, 4), py = inPlace ? px : K.alloc(x.length, 8);
      K.fn(fn)(px, py, outer, n, inner);
      const want = oracle.softmax(x, outer, n, inner, log);
      const [rtol, atol] = log ? [1e-6, 1e-5] : [1e-5, 1e-6];
      expect(mismatches(K.get(py, x.length), want, rtol, atol, undefined, `${fn} ${outer}x${n}x${inner}`)).toBe('');
    });
  it.each(variants)('%s: large logits do not overflow; NaN poisons its row only', (fn, log) => {
    K.reset();
    const x = Float32Array.from([1000, 999, -1000, 0, 1, 2, NaN, 3, 50, 60, 70, 80]);
    const px = K.put(x), py = K.alloc(x.length);
    K.fn(fn)(px, py, 3, 4, 1);
    const y = K.get(py, 12);
    const want = oracle.softmax(x, 3, 4, 1, log);
    expect(mismatches(y.subarray(0, 4), want.subarray(0, 4), 1e-5, 1e-5)).toBe('');
    expect(Array.from(y.subarray(4, 8)).every(Number.isNaN)).toBe(true);
    expect(mismatches(y.subarray(8), want.subarray(8), 1e-5, 1e-5)).toBe('');
  });
});
