// maxpool2d_f32 / avgpool2d_f32 against oracle.pool2d (PyTorch semantics, incl. ceil-mode output
// sizes whose last window hangs past the padding). Max is exact; averages within 1e-6 relative +
// 1e-6 absolute (f32 sums of ≤ 49 terms vs f64).
import { describe, it, expect, beforeAll } from 'vitest';
import { ISAS, kernels, randomF32, mismatches, type Kernels } from './harness.ts';
import * as oracle from './oracle.ts';

interface PoolCase { nc: number; h: number; w: number; kh: number; kw: number; sh: number; sw: number; ph: number; pw: number;
  ceil: boolean }
const cases: PoolCase[] = [
  { nc: 1, h: 1, w: 1, kh: 1, kw: 1, sh: 1, sw: 1, ph: 0, pw: 0, ceil: false },
  { nc: 3, h: 8, w: 8, kh: 2, kw: 2, sh: 2, sw: 2, ph: 0, pw: 0, ceil: false },
  { nc: 2, h: 7, w: 7, kh: 2, kw: 2, sh: 2, sw: 2, ph: 0, pw: 0, ceil: true },
  { nc: 2, h: 28, w: 28, kh: 2, kw: 2, sh: 2, sw: 2, ph: 0, pw: 0, ceil: false },
  { nc: 4, h: 17, w: 33, kh: 3, kw: 3, sh: 2, sw: 2, ph: 1, pw: 1, ceil: false },
  { nc: 2, h: 16, w: 35, kh: 3, kw: 3, sh: 2, sw: 2, ph: 1, pw: 1, ceil: true },
  { nc: 3, h: 9, w: 21, kh: 3, kw: 3, sh: 1, sw: 1, ph: 1, pw: 1, ceil: false },
  { nc: 2, h: 10, w: 19, kh: 5, kw: 4, sh: 1, sw: 1, ph: 2, pw: 2, ceil: false },
  { nc: 5, h: 5, w: 9, kh: 3, kw: 2, sh: 3, sw: 3, ph: 1, pw: 1, ceil: true },
  { nc: 1, h: 12, w: 40, kh: 7, kw: 7, sh: 2, sw: 1, ph: 3, pw: 3, ceil: true },
  { nc: 2, h: 6, w: 6, kh: 6, kw: 6, sh: 1, sw: 1, ph: 0, pw: 0, ceil: false },
  { nc: 2, h: 11, w: 11, kh: 3, kw: 3, sh: 2, sw: 2, ph: 0, pw: 0, ceil: true },
  { nc: 3, h: 4, w: 100, kh: 1, kw: 3, sh: 1, sw: 2, ph: 0, pw: 1, ceil: true },
];
const name = (c: PoolCase) => `${c.nc}x${c.h}x${c.w} k=${c.kh}x${c.kw} s=${c.sh},${c.sw} p=${c.ph},${c.pw}${c.ceil ? ' ceil' : ''}`;

describe.each(ISAS)('pool %s', (isa) => {
  let K: Kernels;
  beforeAll(async () => { K = await kernels(isa); });
  const modes = ['max', 'avg', 'avg-exclude-pad'] as const;
  it.each(modes.flatMap((mode) => cases.map((c) => [mode, name(c), c] as const)))('%s %s', (mode, _n, c) => {
    K.reset();
    const oh = oracle.poolOut(c.h, c.kh, c.sh, c.ph, c.ceil), ow = oracle.poolOut(c.w, c.kw, c.sw, c.pw, c.ceil);
    const x = randomF32(c.nc * c.h * c.w, c.h * 31 + c.w, -4, 4);
    const px = K.put(x, 4), py = K.alloc(c.nc * oh * ow, 8);
    if (mode === 'max') K.fn('maxpool2d_f32')(px, py, c.nc, c.h, c.w, c.kh, c.kw, c.sh, c.sw, c.ph, c.pw, oh, ow);
    else K.fn('avgpool2d_f32')(px, py, c.nc, c.h, c.w, c.kh, c.kw, c.sh, c.sw, c.ph, c.pw, oh, ow, mode === 'avg' ? 1 : 0);
    const want = oracle.pool2d(x, c.nc, c.h, c.w, c.kh, c.kw, c.sh, c.sw, c.ph, c.pw, oh, ow, mode);
    const tol = mode === 'max' ? 0 : 1e-6;
    expect(mismatches(K.get(py, want.length), want, tol, tol, undefined, `${mode} ${name(c)}`)).toBe('');
  });
  it('max propagates NaN like PyTorch', () => {
    K.reset();
    const x = randomF32(2 * 8 * 12, 3);
    x[5 * 12 + 6] = NaN; x[96 + 1] = NaN;      // one in a vector-path window, one at an edge
    const px = K.put(x), py = K.alloc(2 * 4 * 6);
    K.fn('maxpool2d_f32')(px, py, 2, 8, 12, 2, 2, 2, 2, 0, 0, 4, 6);
    const want = oracle.pool2d(x, 2, 8, 12, 2, 2, 2, 2, 0, 0, 4, 6, 'max');
    expect(mismatches(K.get(py, want.length), want, 0, 0)).toBe('');
  });
});
