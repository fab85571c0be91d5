// reduce_sum/mean/max_f32 and argmax_f32 over [outer][n][inner] against oracle.reduce (f64).
// Sums: |got − want| ≤ 1e-6 + 1e-6·Σ|x| (f32 accumulation over ≤ 1000 terms of ±1 in 16
// partial sums); max and argmax exact, with PyTorch's NaN rules.
import { describe, it, expect, beforeAll } from 'vitest';
import { ISAS, kernels, randomF32, mismatches, type Kernels } from './harness.ts';
import * as oracle from './oracle.ts';

const shapes: [number, number, number][] = [[1, 1, 1], [1, 3, 1], [2, 5, 1], [3, 7, 1], [1, 8, 1], [2, 9, 1], [4, 17, 1],
  [3, 33, 1], [2, 100, 1], [1, 1000, 1], [2, 3, 2], [2, 5, 3], [1, 7, 4], [3, 9, 5], [2, 17, 8], [1, 33, 9], [2, 4, 17],
  [5, 1, 6], [1, 10, 64]];
const ops = [['reduce_sum_f32', 'sum'], ['reduce_mean_f32', 'mean'], ['reduce_max_f32', 'max'], ['argmax_f32', 'argmax']] as const;

describe.each(ISAS)('reduce %s', (isa) => {
  let K: Kernels;
  beforeAll(async () => { K = await kernels(isa); });
  it.each(ops.flatMap(([fn, op]) => shapes.map((s) => [fn, s.join('x'), s, op] as const)))('%s [%s]', (fn, _n, [outer, n, inner], op) => {
    K.reset();
    const x = randomF32(outer * n * inner, outer * 5 + n * 11 + inner);
    if (op === 'argmax' && n > 2) x[inner] = x[2 * inner] = 5;          // tie: the first index must win
    const px = K.put(x, 4), py = K.alloc(outer * inner, 8);
    K.fn(fn)(px, py, outer, n, inner);
    const want = oracle.reduce(x, outer, n, inner, op);
    const got = op === 'argmax' ? K.getI32(py, outer * inner) : K.get(py, outer * inner);
    const tol = op === 'sum' || op === 'mean' ? 1e-6 : 0;
    expect(mismatches(got, want.y, tol, tol, want.scale, `${fn} ${outer}x${n}x${inner}`)).toBe('');
  });
  it.each([1, 4, 5])('max and argmax treat NaN like PyTorch (inner=%i)', (inner) => {
    K.reset();
    const n = 23;
    const x = randomF32(2 * n * inner, 99);
    x[(0 * n + 7) * inner] = NaN; x[(0 * n + 11) * inner] = NaN;         // row 0, column 0: first NaN at 7
    const px = K.put(x), py = K.alloc(2 * inner);
    K.fn('reduce_max_f32')(px, py, 2, n, inner);
    expect(mismatches(K.get(py, 2 * inner), oracle.reduce(x, 2, n, inner, 'max').y, 0, 0)).toBe('');
    K.fn('argmax_f32')(px, py, 2, n, inner);
    const idx = K.getI32(py, 2 * inner);
    expect(idx[0]).toBe(7);
    expect(mismatches(idx, oracle.reduce(x, 2, n, inner, 'argmax').y, 0, 0)).toBe('');
  });
});
