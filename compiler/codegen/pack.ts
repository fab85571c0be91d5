// Weight packing for the hand-written kernels in assembly/ (compile/load time, plain TypeScript).
//
// gemm panel layout (NR = 8), read by gemm_f32 in assembly/gemm.ts:
//   for each panel p of 8 output columns, in column order:
//     8 floats   column bias of columns 8p..8p+7 (0 without bias)
//     k × 8      B[kk][8p..8p+7] for kk = 0..k-1
//   columns past n are zero-padded; one panel is 8·(k+1) floats.
// Shapes: B is [k][n] ('kn') or its transpose [n][k] ('nk', i.e. PyTorch Linear.weight
// [out][in], so a Linear layer packs without a separate transpose).

/** GEMM weight panels are NR = 8 columns wide: 8 bias floats, then K rows of 8 floats. */
export const GEMM_NR = 8;

/** Floats in the packed form of a k×n B operand (bias headers included). */
export const packedGemmFloats = (k: number, n: number): number => Math.ceil(n / GEMM_NR) * (GEMM_NR + k * GEMM_NR);

/** Packs B (and an optional column bias of length n) into the gemm panel layout. */
export function packGemmWeights(b: Float32Array, k: number, n: number, layout: 'kn' | 'nk',
                                bias?: Float32Array): Float32Array {
  if (!Number.isInteger(k) || !Number.isInteger(n) || k < 0 || n < 0) {
    throw new Error(`packGemmWeights: expected non-negative integer k, n; found k=${k}, n=${n}`);
  }
  if (b.length !== k * n) {
    throw new Error(`packGemmWeights: B (${layout}) expected ${k}×${n} = ${k * n} floats, found ${b.length}`);
  }
  if (bias && bias.length !== n) {
    throw new Error(`packGemmWeights: bias expected ${n} floats, found ${bias.length}`);
  }
  const out = new Float32Array(packedGemmFloats(k, n));
  const panel = GEMM_NR * (k + 1);
  for (let j0 = 0, p = 0; j0 < n; j0 += GEMM_NR, p += panel) {
    const cols = Math.min(GEMM_NR, n - j0);
    for (let l = 0; l < cols; l++) {
      const j = j0 + l;
      if (bias) out[p + l] = bias[j]!;
      for (let kk = 0; kk < k; kk++) {
        out[p + GEMM_NR * (kk + 1) + l] = layout === 'kn' ? b[kk * n + j]! : b[j * k + kk]!;
      }
    }
  }
  return out;
}

/**
 * Bytes of scratch conv2d_f32 needs for one image: the im2col matrix (K = c·kh·kw rows,
 * N = oh·ow columns) in gemm panel layout. Same formula as conv2d_scratch_bytes in assembly/conv.ts.
 */
export function conv2dScratchBytes(c: number, kh: number, kw: number, oh: number, ow: number): number {
  return packedGemmFloats(c * kh * kw, oh * ow) * 4;
}
