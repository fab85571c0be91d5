// layernorm_f32 against oracle.layernorm (f64): with/without gamma, beta, residual; in place on x
// and on residual; a row with a large mean relative to its spread (where one-pass variance
// fails). Tolerance 1e-5 absolute + 1e-5 relative: outputs are O(1) standardised values whose
// error is a few f32 ulps of the inputs' relative size to the std.
import { describe, it, expect, beforeAll } from 'vitest';
import { ISAS, kernels, randomF32, mismatches, type Kernels } from './harness.ts';
import * as oracle from './oracle.ts';

interface Case { rows: number; n: number; gamma: boolean; beta: boolean; residual: boolean; inPlace: 'no' | 'x' | 'residual';
  eps: number }
const cases: Case[] = [];
let i = 0;
for (const n of [1, 3, 5, 7, 8, 9, 17, 33, 100, 768]) for (const rows of [1, 3]) {
  const k = i++;
  const residual = k % 3 !== 0;
  cases.push({ rows, n, gamma: k % 4 !== 1, beta: k % 4 !== 2, residual, eps: k % 2 ? 1e-5 : 1e-12,
    inPlace: residual ? (['no', 'x', 'residual'] as const)[k % 3] : (k % 2 ? 'x' : 'no') });
}
const name = (c: Case) => `rows=${c.rows} n=${c.n}${c.gamma ? ' gamma' : ''}${c.beta ? ' beta' : ''}${c.residual ? ' residual' : ''} eps=${c.eps} in-place=${c.inPlace}`;

describe.each(ISAS)('layernorm_f32 %s', (isa) => {
  let K: Kernels;
  beforeAll(async () => { K = await kernels(isa); });
  it.each(cases.map((c) => [name(c), c] as const))('%s', (_n, c) => {
    K.reset();
    const x = randomF32(c.rows * c.n, c.n * 3 + c.rows, -2, 3);
    const res = c.residual ? randomF32(c.rows * c.n, c.n + 1) : undefined;
    const g = c.gamma ? randomF32(c.n, 5, 0.5, 1.5) : undefined, b = c.beta ? randomF32(c.n, 6) : undefined;
    const px = K.put(x, 4), pr = res ? K.put(res, 8) : 0;
    const pg = g ? K.put(g, 12) : 0, pb = b ? K.put(b, 4) : 0;
    const py = c.inPlace === 'x' ? px : c.inPlace === 'residual' ? pr : K.alloc(x.length, 8);
    K.fn('layernorm_f32')(px, pg, pb, py, c.rows, c.n, c.eps, pr);
    const want = oracle.layernorm(x, g, b, c.rows, c.n, Math.fround(c.eps), res);
    expect(mismatches(K.get(py, x.length), want, 1e-5, 1e-5, undefined, name(c))).toBe('');
  });
  it('large mean, small spread (two-pass variance)', () => {
    K.reset();
    const n = 512;
    const x = Float32Array.from(randomF32(n, 77), (v) => 1000 + 0.01 * v);
    const px = K.put(x), py = K.alloc(n);
    K.fn('layernorm_f32')(px, 0, 0, py, 1, n, 1e-5, 0);
    // Rounding μ to f32 alone would shift every output by up to ½ulp(1000)/σ ≈ 5e-3; the kernel
    // works relative to x[0] and must stay near f32 accuracy.
    expect(mismatches(K.get(py, n), oracle.layernorm(x, undefined, undefined, 1, n, Math.fround(1e-5)), 1e-4, 1e-4)).toBe('');
  });
});
