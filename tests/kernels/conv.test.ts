// conv2d_f32 / im2col_packed_f32 against a direct-loop convolution (oracle.conv2d) and a dense
// im2col packed by packGemmWeights. Tolerance as gemm: 1e-5 + 1e-5·Σ|w·x|.
import { describe, it, expect, beforeAll } from 'vitest';
import { ISAS, kernels, randomF32, mismatches, type Kernels } from './harness.ts';
import * as oracle from './oracle.ts';
import { packGemmWeights, conv2dScratchBytes } from '../../compiler/codegen/pack.ts';

type Case = oracle.ConvShape & { bias: boolean; act: number };
const base = { n: 1, sh: 1, sw: 1, ph: 0, pw: 0, dh: 1, dw: 1, bias: true, act: 0 };
const cases: Case[] = [
  { ...base, c: 1, h: 5, w: 5, cout: 1, kh: 3, kw: 3 },
  { ...base, c: 3, h: 8, w: 8, cout: 4, kh: 3, kw: 3, ph: 1, pw: 1, act: 1 },
  { ...base, c: 3, h: 17, w: 19, cout: 5, kh: 3, kw: 3, ph: 1, pw: 1, bias: false },
  { ...base, c: 2, h: 28, w: 28, cout: 8, kh: 5, kw: 5, ph: 2, pw: 2, act: 1 },
  { ...base, c: 4, h: 9, w: 33, cout: 7, kh: 3, kw: 3, sh: 2, sw: 2, ph: 1, pw: 1, act: 2 },
  { ...base, c: 3, h: 32, w: 40, cout: 6, kh: 7, kw: 7, sh: 2, sw: 2, ph: 3, pw: 3 },
  { ...base, c: 2, h: 12, w: 13, cout: 3, kh: 3, kw: 3, dh: 2, dw: 2, ph: 2, pw: 2, act: 3 },
  { ...base, c: 5, h: 7, w: 7, cout: 9, kh: 1, kw: 1 },
  { ...base, n: 3, c: 3, h: 10, w: 11, cout: 17, kh: 3, kw: 2, sh: 1, sw: 3, ph: 0, pw: 1, act: 4 },
  { ...base, n: 2, c: 1, h: 1, w: 1, cout: 3, kh: 1, kw: 1 },
  { ...base, c: 2, h: 6, w: 30, cout: 2, kh: 2, kw: 4, sh: 3, sw: 1, ph: 1, pw: 0, dh: 1, dw: 3 },
  { ...base, c: 16, h: 14, w: 14, cout: 33, kh: 3, kw: 3, ph: 1, pw: 1, act: 1 },
  { ...base, c: 1, h: 4, w: 4, cout: 2, kh: 4, kw: 4, ph: 3, pw: 3 },
  { ...base, c: 3, h: 9, w: 20, cout: 1, kh: 3, kw: 3, sh: 2, sw: 2 },
];

function name(s: Case): string {
  return `n=${s.n} c=${s.c} ${s.h}x${s.w} → ${s.cout} k=${s.kh}x${s.kw} s=${s.sh},${s.sw} p=${s.ph},${s.pw} d=${s.dh},${s.dw}${s.bias ? ' bias' : ''} act=${s.act}`;
}

describe.each(ISAS)('conv %s', (isa) => {
  let K: Kernels;
  beforeAll(async () => { K = await kernels(isa); });

  it.each(cases.map((s) => [name(s), s] as const))('conv2d_f32 %s', (_n, s) => {
    K.reset();
    const { oh, ow } = oracle.convOut(s);
    const x = randomF32(s.n * s.c * s.h * s.w, 11), w = randomF32(s.cout * s.c * s.kh * s.kw, 12);
    const bias = s.bias ? randomF32(s.cout, 13) : undefined;
    const px = K.put(x, 4), pwt = K.put(w, 8), pb = bias ? K.put(bias, 12) : 0;
    const py = K.alloc(s.n * s.cout * oh * ow, 4);
    const scratchBytes = K.fn('conv2d_scratch_bytes')(s.c, s.kh, s.kw, oh, ow);
    expect(scratchBytes).toBe(conv2dScratchBytes(s.c, s.kh, s.kw, oh, ow));
    const scratch = K.alloc(scratchBytes / 4);
    K.fn('conv2d_f32')(px, pwt, pb, py, scratch, s.n, s.c, s.h, s.w, s.cout, s.kh, s.kw, s.sh, s.sw, s.ph, s.pw,
      s.dh, s.dw, oh, ow, s.act);
    const want = oracle.conv2d(x, w, bias, s, s.act);
    expect(mismatches(K.get(py, want.y.length), want.y, 1e-5, 1e-5, want.scale, name(s))).toBe('');
    // Threads' form: the shares of nt = 1–3 threads on one scratch, one after the other (they
    // need no barrier), write exactly (bit for bit) the one call's output and nothing past it.
    const one = K.get(py, want.y.length + 8);
    for (const nt of [1, 2, 3]) {
      const py2 = K.put(new Float32Array(want.y.length + 8).fill(NaN).fill(7.5, want.y.length), 4);
      const scratch2 = K.put(new Float32Array(scratchBytes / 4).fill(NaN));
      for (let tid = 0; tid < nt; tid++) {
        K.fn('conv2d_f32_part')(px, pwt, pb, py2, scratch2, s.n, s.c, s.h, s.w, s.cout, s.kh, s.kw, s.sh, s.sw, s.ph, s.pw,
          s.dh, s.dw, oh, ow, s.act, tid, nt);
      }
      const got = K.get(py2, want.y.length + 8), bad = got.findIndex((v, i) => (i < want.y.length ? !Object.is(v, one[i]) : v !== 7.5));
      expect(bad, `${nt} threads: y[${bad}] = ${got[bad]}, one call gave ${one[bad]}`).toBe(-1);
    }
  });

  it.each(cases.map((s) => [name(s), s] as const))('im2col_packed_f32 %s', (_n, s) => {
    K.reset();
    const { oh, ow } = oracle.convOut(s);
    const x = randomF32(s.c * s.h * s.w, 21);
    const px = K.put(x, 8);
    const floats = conv2dScratchBytes(s.c, s.kh, s.kw, oh, ow) / 4;
    const dst = K.put(new Float32Array(floats).fill(NaN), 4);
    K.fn('im2col_packed_f32')(px, s.c, s.h, s.w, s.kh, s.kw, s.sh, s.sw, s.ph, s.pw, s.dh, s.dw, oh, ow, dst);
    const dense = oracle.im2col(x, s);
    expect(K.get(dst, floats)).toEqual(packGemmWeights(dense, s.c * s.kh * s.kw, oh * ow, 'kn'));
  });
});
