// matmul_f32 (both operands at run time, optional Bᵀ, alpha) against oracle.matmul.
// Tolerance 1e-5 + 1e-5·|alpha|·Σ|a·b| (see gemm.test.ts for why the magnitude sum); canaries
// around C check nothing past column n or row m is written.
import { describe, it, expect, beforeAll } from 'vitest';
import { ISAS, kernels, randomF32, mismatches, type Kernels } from './harness.ts';
import * as oracle from './oracle.ts';

interface MatmulCase { m: number; n: number; k: number; lda: number; ldb: number; ldc: number; transB: boolean;
  alpha: number; misalign: number }

const CANARY = -4321.25;
const cases: MatmulCase[] = [];
let seq = 0;
for (const m of [1, 2, 3, 4, 5, 8, 9, 17, 33]) for (const n of [1, 3, 4, 5, 7, 8, 9, 17, 33]) for (const k of [1, 3, 8, 17, 64]) {
  const i = seq++;
  const transB = i % 2 === 1;
  cases.push({ m, n, k, lda: k + (i % 3 === 0 ? 2 : 0), ldb: (transB ? k : n) + (i % 4 === 0 ? 3 : 0),
    ldc: n + (i % 5 === 0 ? 4 : 0), transB, alpha: i % 3 === 1 ? 0.125 : 1, misalign: (i % 4) * 4 });
}
// Depth beyond one packed block (KC = 512), k = 0, attention-like shapes.
for (const transB of [false, true]) {
  cases.push({ m: 7, n: 13, k: 1100, lda: 1100, ldb: transB ? 1100 : 13, ldc: 15, transB, alpha: 0.5, misalign: 4 });
  cases.push({ m: 1, n: 13, k: 1030, lda: 1030, ldb: transB ? 1031 : 14, ldc: 13, transB, alpha: -2, misalign: 8 });
  cases.push({ m: 5, n: 6, k: 0, lda: 1, ldb: 6, ldc: 7, transB, alpha: 1, misalign: 0 });
  cases.push({ m: 1, n: 6, k: 0, lda: 1, ldb: 6, ldc: 6, transB, alpha: 1, misalign: 0 });
  cases.push({ m: 77, n: 77, k: 64, lda: 192, ldb: transB ? 192 : 77, ldc: 77, transB, alpha: 0.125, misalign: 12 });
}

function name(c: MatmulCase): string {
  return `m=${c.m} n=${c.n} k=${c.k} lda=${c.lda} ldb=${c.ldb} ldc=${c.ldc}${c.transB ? ' Bᵀ' : ''} alpha=${c.alpha}${c.misalign ? ` +${c.misalign}B` : ''}`;
}

function run(K: Kernels, c: MatmulCase, seed: number): string {
  K.reset();
  const a = randomF32(c.m * c.lda, seed);
  const b = randomF32((c.transB ? c.n : c.k) * c.ldb, seed + 1);
  const pa = K.put(a, c.misalign), pb = K.put(b, (c.misalign + 4) % 16);
  const pc = K.put(new Float32Array((c.m + 1) * c.ldc).fill(CANARY), c.misalign);
  K.fn('matmul_f32')(pa, pb, pc, c.m, c.n, c.k, c.lda, c.ldb, c.ldc, c.transB ? 1 : 0, c.alpha);
  const want = oracle.matmul(a, b, c.m, c.n, c.k, c.lda, c.ldb, c.transB, c.alpha);
  const out = K.get(pc, (c.m + 1) * c.ldc);
  const got = new Float32Array(c.m * c.n);
  for (let i = 0; i <= c.m; i++) for (let j = 0; j < c.ldc; j++) {
    const v = out[i * c.ldc + j]!;
    if (i < c.m && j < c.n) got[i * c.n + j] = v;
    else if (v !== CANARY) return `wrote C[${i}][${j}] = ${v} outside the m×n view`;
  }
  return mismatches(got, want.c, 1e-5, 1e-5, want.scale, name(c));
}

describe.each(ISAS)('matmul_f32 %s', (isa) => {
  let K: Kernels;
  beforeAll(async () => { K = await kernels(isa); });
  it.each(cases.map((c, i) => [name(c), c, i] as const))('%s', (_n, c, i) => {
    expect(run(K, c, 5000 + i)).toBe('');
  });
});
