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
 * Packs a recurrent layer's W_hh [G·H][H] (PyTorch's layout, gates stacked) and b_hh [G·H] for
 * assembly/rnn.ts: the gemm panel layout over G·U·8 columns (U = ⌈H/8⌉ blocks of 8 hidden units)
 * ordered by unit block, panel u·G + g holding gate g of units 8u..8u+7 (units past H zero), so
 * that a thread owning a range of units reads one contiguous range of panels.
 */
export function packRecurrentWeights(wHh: Float32Array, bHh: Float32Array | undefined, G: number, H: number): Float32Array {
  if (!Number.isInteger(G) || !Number.isInteger(H) || G < 1 || H < 1) {
    throw new Error(`packRecurrentWeights: expected integer G ≥ 1 and H ≥ 1, found G=${G}, H=${H}`);
  }
  if (wHh.length !== G * H * H) throw new Error(`packRecurrentWeights: W_hh expected ${G * H}×${H} = ${G * H * H} floats, found ${wHh.length}`);
  if (bHh && bHh.length !== G * H) throw new Error(`packRecurrentWeights: b_hh expected ${G * H} floats, found ${bHh.length}`);
  const U = Math.ceil(H / GEMM_NR), n = U * G * GEMM_NR;
  const w = new Float32Array(n * H), b = new Float32Array(n);
  for (let u = 0; u < U; u++) {
    for (let g = 0; g < G; g++) {
      for (let l = 0; l < GEMM_NR && u * GEMM_NR + l < H; l++) {
        const src = g * H + u * GEMM_NR + l, dst = (u * G + g) * GEMM_NR + l;
        w.set(wHh.subarray(src * H, (src + 1) * H), dst * H);
        if (bHh) b[dst] = bHh[src]!;
      }
    }
  }
  return packGemmWeights(w, H, n, 'nk', b);
}

/**
 * Bytes of scratch conv2d_f32 needs for one image: the im2col matrix (K = c·kh·kw rows,
 * N = oh·ow columns) in gemm panel layout. Same formula as conv2d_scratch_bytes in assembly/conv.ts.
 */
export function conv2dScratchBytes(c: number, kh: number, kw: number, oh: number, ow: number): number {
  return packedGemmFloats(c * kh * kw, oh * ow) * 4;
}
