// gemm_f32 (packed B, fused bias + activation) and the weight packers, against oracle.gemm.
// Tolerance: |got − want| ≤ 1e-5 + 1e-5·(Σ|a·b| + |bias|) before activation. f32 accumulation
// error is bounded by k·2^-24·Σ|a·b| in the worst case and ~√k·2^-24 typically, so 1e-5 of the
// magnitude sum covers k up to a few thousand; the absolute 1e-5 covers the activations' own
// ≤2e-6 error. Every case fills C with a canary and checks nothing past column n or row m changed.
import { describe, it, expect, beforeAll } from 'vitest';
import { ISAS, kernels, randomF32, mismatches, type Kernels } from './harness.ts';
import * as oracle from './oracle.ts';
import { packGemmWeights, packedGemmFloats } from '../../compiler/codegen/pack.ts';

interface GemmCase { m: number; n: number; k: number; lda: number; ldc: number; colBias: boolean; rowBias: boolean;
  act: number; misalign: number }

const CANARY = 12345.5;
const cases: GemmCase[] = [];
const Ms = [1, 2, 3, 4, 5, 7, 8, 9, 17, 33];
const Ns = [1, 3, 5, 7, 8, 9, 17, 33];
const Ks = [1, 3, 17, 100];
let seq = 0;
for (const m of Ms) for (const n of Ns) for (const k of Ks) {
  const i = seq++;
  cases.push({ m, n, k, lda: k + (i % 3 === 0 ? 3 : 0), ldc: n + (i % 2 ? 5 : 0), colBias: i % 4 !== 1,
    rowBias: i % 3 === 2, act: i % 5, misalign: (i % 4) * 4 });
}
// M = 1 (GEMV) pairs panel p with panel p + half, an odd last panel alone, and steps depth by 2
// (pairs) or 4 (the lone panel): odd and even panel counts, the partial panel paired or alone,
// against every k mod 4 remainder, with and without whole steps before it.
for (const n of [1, 3, 7, 8, 9, 15, 16, 17, 24, 25, 31, 33, 40, 100, 257]) {
  for (const k of [1, 2, 3, 4, 5, 6, 7, 8, 9, 15, 16, 17, 33, 100, 257]) {
    const i = seq++;
    cases.push({ m: 1, n, k, lda: k, ldc: n + (i % 2 ? 3 : 0), colBias: i % 4 !== 1, rowBias: i % 3 !== 0,
      act: i % 5, misalign: (i % 4) * 4 });
  }
}
// Edge and blocking cases: k = 0 (bias only), several row blocks (m > GEMM_MC), every activation
// on a big tile, long k.
for (const act of [0, 1, 2, 3, 4]) {
  cases.push({ m: 0 + 1, n: 20, k: 0, lda: 1, ldc: 20, colBias: true, rowBias: true, act, misalign: 0 });
  cases.push({ m: 6, n: 20, k: 0, lda: 1, ldc: 21, colBias: true, rowBias: true, act, misalign: 4 });
  cases.push({ m: 37, n: 45, k: 64, lda: 70, ldc: 50, colBias: true, rowBias: true, act, misalign: 8 });
}
cases.push({ m: 70, n: 24, k: 1100, lda: 1100, ldc: 24, colBias: true, rowBias: false, act: 0, misalign: 0 });
cases.push({ m: 1, n: 40, k: 1027, lda: 1027, ldc: 40, colBias: true, rowBias: true, act: 1, misalign: 12 });
cases.push({ m: 130, n: 9, k: 300, lda: 301, ldc: 9, colBias: false, rowBias: true, act: 4, misalign: 4 });

function name(c: GemmCase): string {
  return `m=${c.m} n=${c.n} k=${c.k} lda=${c.lda} ldc=${c.ldc}${c.colBias ? ' colBias' : ''}${c.rowBias ? ' rowBias' : ''} act=${c.act}${c.misalign ? ` +${c.misalign}B` : ''}`;
}

function runGemm(K: Kernels, c: GemmCase, seed: number): string {
  K.reset();
  const a = randomF32(c.m * c.lda, seed);
  const b = randomF32(c.k * c.n, seed + 1);
  const cb = c.colBias ? randomF32(c.n, seed + 2) : undefined;
  const rb = c.rowBias ? randomF32(c.m, seed + 3) : undefined;
  const packed = packGemmWeights(b, c.k, c.n, 'kn', cb);
  const pa = K.put(a, c.misalign), pw = K.put(packed, c.misalign);
  const pc = K.put(new Float32Array((c.m + 1) * c.ldc).fill(CANARY), c.misalign);
  const prb = rb ? K.put(rb, c.misalign) : 0;
  K.fn('gemm_f32')(pa, c.lda, pw, pc, c.ldc, c.m, c.n, c.k, prb, c.act);
  const want = oracle.gemm(a, c.lda, b, c.n, c.m, c.n, c.k, cb, rb, c.act);
  const out = K.get(pc, (c.m + 1) * c.ldc);
  const got = new Float32Array(c.m * c.n);
  for (let i = 0; i <= c.m; i++) for (let j = 0; j < c.ldc; j++) {
    const v = out[i * c.ldc + j]!;
    if (i < c.m && j < c.n) got[i * c.n + j] = v;
    else if (v !== CANARY) return `wrote C[${i}][${j}] = ${v} outside the m×n view`;
  }
  return mismatches(got, want.c, 1e-5, 1e-5, want.scale, name(c));
}

describe.each(ISAS)('gemm_f32 %s', (isa) => {
  let K: Kernels;
  beforeAll(async () => { K = await kernels(isa); });
  it.each(cases.map((c, i) => [name(c), c, i] as const))('%s', (_n, c, i) => {
    expect(runGemm(K, c, 1000 + i)).toBe('');
  });
});

describe('packGemmWeights', () => {
  it('nk (PyTorch Linear.weight) packs the transpose of kn', () => {
    const k = 13, n = 19;
    const b = randomF32(k * n, 7), bias = randomF32(n, 8);
    const bt = new Float32Array(n * k);
    for (let kk = 0; kk < k; kk++) for (let j = 0; j < n; j++) bt[j * k + kk] = b[kk * n + j]!;
    expect(packGemmWeights(bt, k, n, 'nk', bias)).toEqual(packGemmWeights(b, k, n, 'kn', bias));
  });
  it('lays out bias header, k rows of 8 and zero padding', () => {
    const k = 2, n = 10;
    const b = Float32Array.from({ length: k * n }, (_, i) => i + 1);
    const bias = Float32Array.from({ length: n }, (_, i) => -(i + 1));
    const p = packGemmWeights(b, k, n, 'kn', bias);
    expect(p.length).toBe(packedGemmFloats(k, n));
    expect(Array.from(p.subarray(0, 24))).toEqual([-1, -2, -3, -4, -5, -6, -7, -8, 1, 2, 3, 4, 5, 6, 7, 8,
      11, 12, 13, 14, 15, 16, 17, 18]);
    expect(Array.from(p.subarray(24, 48))).toEqual([-9, -10, 0, 0, 0, 0, 0, 0, 9, 10, 0, 0, 0, 0, 0, 0,
      19, 20, 0, 0, 0, 0, 0, 0]);
  });
  it('rejects a B of the wrong size', () => {
    expect(() => packGemmWeights(new Float32Array(5), 2, 3, 'kn')).toThrow(/expected 2×3 = 6 floats, found 5/);
  });
});

describe.each(ISAS)('pack_gemm_f32 %s', (isa) => {
  let K: Kernels;
  beforeAll(async () => { K = await kernels(isa); });
  it.each([[1, 1, 1], [5, 8, 8], [7, 13, 16], [33, 17, 20], [4, 3, 9]])('k=%i n=%i ldb=%i matches packGemmWeights', (k, n, ldb) => {
    K.reset();
    const b = randomF32(k * ldb, k * 100 + n);
    const dense = new Float32Array(k * n);
    for (let kk = 0; kk < k; kk++) for (let j = 0; j < n; j++) dense[kk * n + j] = b[kk * ldb + j]!;
    const pb = K.put(b, 4);
    const dst = K.put(new Float32Array(packedGemmFloats(k, n)).fill(CANARY), 8);
    K.fn('pack_gemm_f32')(pb, ldb, k, n, dst);
    expect(K.get(dst, packedGemmFloats(k, n))).toEqual(packGemmWeights(dense, k, n, 'kn'));
  });
});
