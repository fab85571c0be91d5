// f32 GEMM against packed weights, with fused bias and activation:
//   C[i][j] = act( Σ_k A[i][k]·B[k][j] + colBias[j] + rowBias[i] )
//
// Shapes: A [m][k] (row stride lda), B [k][n] packed into `w`, C [m][n] (row stride ldc ≥ n;
// C may be a view into a wider tensor: nothing past column n or row m is ever written).
// All pointers are byte addresses, 4-byte aligned is enough; strides are in elements.
//
// Packed B ("panel layout", NR = 8), produced by packGemmWeights (compiler/codegen/pack.ts), by
// pack_gemm_f32 below, or by im2col_packed_f32 (conv.ts):
//   for each panel p of 8 columns, in column order:   8 floats  column bias of columns 8p..8p+7
//                                                     k × 8 floats  B[kk][8p..8p+7]
//   columns past n are zero (bias and weights). One panel is 8·(k+1) floats.
//
// Kernels:
//   gemm_ukernel_4x8   4 rows × 8 columns: 8 f32x4 accumulators, 2 B loads and 4 A splats per k
//                      (14 live v128: V8 gives wasm 15 xmm registers; 6x8 or 4x12 spill). k is not
//                      unrolled: unrolled by 2, binaryen fuses the two steps into one expression
//                      that keeps 4 B vectors live, V8 spills, and 512³ drops to 40 GFLOP/s. The
//                      four A rows advance as four pointers (see the loop): ~61 GFLOP/s at 512³,
//                      ~95% of a register-only mul+add loop, with or without relaxed SIMD.
//                      1–3 row remainders run the same kernel with the missing rows aliased to the
//                      last real row (identical values, so the duplicate stores are harmless).
//   gemv_ukernel_1x16  m = 1, two panels per pass, 2 k per step: x[k], x[k+1] come from one 8-byte
//                      load and are splat by shuffles (ALU, not the 2 load ports the weights need),
//                      so a step is 8 weight loads + 1. Each half-row's 2 products are summed off
//                      the chain, then added once to one of 4 accumulators. Why so few: TurboFan
//                      unrolls the loop ×2 and schedules all of a body's loads before its
//                      arithmetic, so the body's loads and the accumulators are live together in
//                      15 xmm; the old 8-accumulator 1x8 spilled two accumulators, putting a
//                      store→load round trip on their chains (~60 GB/s of weights, 1 MB).
//                      The driver pairs panel p with panel p + ⌊panels/2⌋: the weights are read as
//                      two long sequential streams. Pairing adjacent panels instead restarts a
//                      stream every 2 panels, and the prefetchers lose ~10% (L2) to 30% (DRAM).
//   gemv_ukernel_1x8   the odd last panel: 4 k per step from one v128 load of x, 2 accumulators,
//                      4-product trees.
//                      GEMV reaches ~85–90% of a plain read of the same bytes from L2, ~100% from
//                      L3 (bench/kernels.ts prints both).
// The driver walks blocks of GEMM_MC rows; inside a block each 8-column panel (8·(k+1) floats,
// L1-resident for k ≲ 900) is swept down the block's rows, whose A strip stays in L2.
import { madd, act_f32x4 } from "./math";
import { ACT_NONE } from "./act";
import { store_row8 } from "./vec";
import { claim, part_lo } from "./threads";

/** Floats in one packed panel of 8 columns over depth k (bias header included). */
@inline function panel_floats(k: i32): i32 { return (k + 1) << 3; }

// Kept out of line: the epilogue calls it 8 times per tile, inlining gelu 8× only grows code.
function act_v(v: v128, act: i32): v128 { return act_f32x4(v, act); }

/** One 4x8 tile: rows (1–4) of A from `a`, one packed panel `wp`, cols (1–8) of C stored. */
// @ts-ignore: decorator
@inline function gemm_ukernel_4x8(a: usize, lda: usize, wp: usize, c: usize, ldc: usize,
                                  rows: i32, cols: i32, k: i32, rb: usize, act: i32): void {
  const a0 = a;
  const a1 = rows > 1 ? a0 + lda : a0;
  const a2 = rows > 2 ? a1 + lda : a1;
  const a3 = rows > 3 ? a2 + lda : a2;
  let c00 = v128.load(wp), c01 = v128.load(wp, 16);
  let c10 = c00, c11 = c01, c20 = c00, c21 = c01, c30 = c00, c31 = c01;
  let w = wp + 32;
  // Four bumped row pointers, not a0 + ka, ...: V8 folds neither form into the address, and the
  // shared-offset form costs one more add per k (54 vs 64 GFLOP/s at 512³ without relaxed SIMD).
  let q0 = a0, q1 = a1, q2 = a2, q3 = a3;
  for (let kk = 0; kk < k; kk++) {
    const b0 = v128.load(w), b1 = v128.load(w, 16);
    let x = v128.load32_splat(q0);
    c00 = madd(x, b0, c00); c01 = madd(x, b1, c01);
    x = v128.load32_splat(q1);
    c10 = madd(x, b0, c10); c11 = madd(x, b1, c11);
    x = v128.load32_splat(q2);
    c20 = madd(x, b0, c20); c21 = madd(x, b1, c21);
    x = v128.load32_splat(q3);
    c30 = madd(x, b0, c30); c31 = madd(x, b1, c31);
    w += 32;
    q0 += 4; q1 += 4; q2 += 4; q3 += 4;
  }
  if (rb) {
    const rb1 = rows > 1 ? rb + 4 : rb;
    const rb2 = rows > 2 ? rb1 + 4 : rb1;
    const rb3 = rows > 3 ? rb2 + 4 : rb2;
    let r = v128.load32_splat(rb);
    c00 = f32x4.add(c00, r); c01 = f32x4.add(c01, r);
    r = v128.load32_splat(rb1);
    c10 = f32x4.add(c10, r); c11 = f32x4.add(c11, r);
    r = v128.load32_splat(rb2);
    c20 = f32x4.add(c20, r); c21 = f32x4.add(c21, r);
    r = v128.load32_splat(rb3);
    c30 = f32x4.add(c30, r); c31 = f32x4.add(c31, r);
  }
  if (act != ACT_NONE) {
    c00 = act_v(c00, act); c01 = act_v(c01, act);
    c10 = act_v(c10, act); c11 = act_v(c11, act);
    c20 = act_v(c20, act); c21 = act_v(c21, act);
    c30 = act_v(c30, act); c31 = act_v(c31, act);
  }
  const p0 = c;
  const p1 = rows > 1 ? p0 + ldc : p0;
  const p2 = rows > 2 ? p1 + ldc : p1;
  const p3 = rows > 3 ? p2 + ldc : p2;
  if (cols == 8) {
    v128.store(p3, c30); v128.store(p3, c31, 16);
    v128.store(p2, c20); v128.store(p2, c21, 16);
    v128.store(p1, c10); v128.store(p1, c11, 16);
    v128.store(p0, c00); v128.store(p0, c01, 16);
  } else {
    store_row8(p3, c30, c31, cols);
    store_row8(p2, c20, c21, cols);
    store_row8(p1, c10, c11, cols);
    store_row8(p0, c00, c01, cols);
  }
}

/** act(s + rb), act(t + rb) stored as the first `cols` (1–8) floats at y. */
// @ts-ignore: decorator
@inline function gemv_store(y: usize, s: v128, t: v128, cols: i32, rb: f32, act: i32): void {
  if (rb != 0) {
    const r = f32x4.splat(rb);
    s = f32x4.add(s, r); t = f32x4.add(t, r);
  }
  if (act != ACT_NONE) {
    s = act_v(s, act); t = act_v(t, act);
  }
  store_row8(y, s, t, cols);
}

/** x0·w0 + x1·w1 + x2·w2 + x3·w3, summed off the accumulator chain (see banner). */
// @ts-ignore: decorator
@inline function dot4(x0: v128, w0: v128, x1: v128, w1: v128, x2: v128, w2: v128, x3: v128, w3: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) {
    return madd(x3, w3, madd(x2, w2, madd(x1, w1, f32x4.mul(x0, w0))));
  } else {
    return f32x4.add(f32x4.add(f32x4.mul(x0, w0), f32x4.mul(x1, w1)), f32x4.add(f32x4.mul(x2, w2), f32x4.mul(x3, w3)));
  }
}

/** y[0..cols) = act(x·panel + bias + rb): one row of A against one packed panel. */
// @ts-ignore: decorator
@inline function gemv_ukernel_1x8(x: usize, wp: usize, y: usize, cols: i32, k: i32, rb: f32, act: i32): void {
  let s = v128.load(wp), t = v128.load(wp, 16);
  let w = wp + 32;
  let xa = x;
  let kk = k;
  while (kk >= 4) {
    const xv = v128.load(xa);
    const x0 = i32x4.shuffle(xv, xv, 0, 0, 0, 0), x1 = i32x4.shuffle(xv, xv, 1, 1, 1, 1);
    const x2 = i32x4.shuffle(xv, xv, 2, 2, 2, 2), x3 = i32x4.shuffle(xv, xv, 3, 3, 3, 3);
    s = f32x4.add(s, dot4(x0, v128.load(w), x1, v128.load(w, 32), x2, v128.load(w, 64), x3, v128.load(w, 96)));
    t = f32x4.add(t, dot4(x0, v128.load(w, 16), x1, v128.load(w, 48), x2, v128.load(w, 80), x3, v128.load(w, 112)));
    w += 128;
    xa += 16;
    kk -= 4;
  }
  while (kk > 0) {
    const v = v128.load32_splat(xa);
    s = madd(v, v128.load(w), s); t = madd(v, v128.load(w, 16), t);
    w += 32;
    xa += 4;
    kk--;
  }
  gemv_store(y, s, t, cols, rb, act);
}

/** x0·w0 + x1·w1 (relaxed: one of the two products fused). */
// @ts-ignore: decorator
@inline function dot2(x0: v128, w0: v128, x1: v128, w1: v128): v128 {
  return ASC_FEATURE_RELAXED_SIMD ? madd(x1, w1, f32x4.mul(x0, w0)) : f32x4.add(f32x4.mul(x0, w0), f32x4.mul(x1, w1));
}

/**
 * Two panels at once, wp (8 full columns, out to y) and wp + dq (`cols` columns, out to y2):
 * each 2-k step loads x[k], x[k+1] once for 8 weight vectors. The driver pairs panel p with panel
 * p + half, so the weights are read as two long sequential streams (see banner).
 */
// @ts-ignore: decorator
@inline export function gemv_ukernel_1x16(x: usize, wp: usize, dq: usize, y: usize, y2: usize, cols: i32, k: i32,
                                   rb: f32, act: i32): void {
  let s = v128.load(wp), t = v128.load(wp, 16);
  let u = v128.load(wp + dq), v = v128.load(wp + dq, 16);
  let w = wp + 32;
  let xa = x;
  let kk = k;
  while (kk >= 2) {
    const xv = v128.load64_zero(xa);
    const x0 = i32x4.shuffle(xv, xv, 0, 0, 0, 0), x1 = i32x4.shuffle(xv, xv, 1, 1, 1, 1);
    const q = w + dq;
    s = f32x4.add(s, dot2(x0, v128.load(w), x1, v128.load(w, 32)));
    t = f32x4.add(t, dot2(x0, v128.load(w, 16), x1, v128.load(w, 48)));
    u = f32x4.add(u, dot2(x0, v128.load(q), x1, v128.load(q, 32)));
    v = f32x4.add(v, dot2(x0, v128.load(q, 16), x1, v128.load(q, 48)));
    w += 64;
    xa += 8;
    kk -= 2;
  }
  if (kk > 0) {
    const x0 = v128.load32_splat(xa);
    const q = w + dq;
    s = madd(x0, v128.load(w), s); t = madd(x0, v128.load(w, 16), t);
    u = madd(x0, v128.load(q), u); v = madd(x0, v128.load(q, 16), v);
  }
  gemv_store(y, s, t, 8, rb, act);
  gemv_store(y2, u, v, cols, rb, act);
}

/**
 * Rows per cache block: the block's A strip (about GEMM_MC_FLOATS floats) should stay in L2; a
 * claimed tile's height when split (compiler/codegen/ops/linalg.ts gemmTiles uses it too).
 */
export const GEMM_MC_FLOATS: i32 = 16384;
export const GEMM_MC_MIN: i32 = 16;
@inline function gemm_mc(k: i32): i32 {
  const mc = (GEMM_MC_FLOATS / max(k, 1)) & ~3;
  return max(mc, GEMM_MC_MIN);
}

/**
 * C = act(A·B + colBias + rowBias), B packed (see banner). rowBias = 0 for none.
 * a, w, c, rowBias: byte addresses; lda, ldc: row strides in elements.
 */
export function gemm_f32(a: usize, lda: i32, w: usize, c: usize, ldc: i32,
                         m: i32, n: i32, k: i32, rowBias: usize, act: i32): void {
  gemm_f32_part(a, lda, w, c, ldc, m, n, k, rowBias, act, 0, 0, 1);
}

/**
 * Multiply-adds in one claimed tile of a split GEMM (m ≥ 2): at most GEMM_TILE_MACS (~80 µs of
 * one core's work here), fewer where that would leave a thread under GEMM_TILES_PER_THREAD
 * tiles, down to GEMM_MIN_TILE_MACS (~5 µs; a claim moves one line between the cores).
 * compiler/codegen/ops/linalg.ts (gemmTiles) counts the tiles with the same formula.
 */
export const GEMM_TILE_MACS: i32 = 1048576;      // 2^20
export const GEMM_MIN_TILE_MACS: i32 = 65536;    // 2^16
export const GEMM_TILES_PER_THREAD: i32 = 16;

/**
 * Thread `tid`'s share of gemm_f32 when `nt` threads split it. m = 1: a contiguous range of the
 * panel pairs (the odd last panel goes to the last thread), each thread's slice of the weights
 * the same every call (claimed 64 KB tiles made a 2-thread GPT decode step 1.28× slower).
 * m ≥ 2: tiles of a row block (gemm_mc rows) by a run of 8-column panels, taken through claim()
 * (assembly/threads.ts, `sync` its region), so a thread on a slower core takes fewer. Every
 * element is computed by the same tile with the same depth order as on one thread, so the result
 * is bit-identical for any nt and whoever takes a tile.
 */
export function gemm_f32_part(a: usize, lda: i32, w: usize, c: usize, ldc: i32,
                              m: i32, n: i32, k: i32, rowBias: usize, act: i32, sync: usize, tid: i32, nt: i32): void {
  if (m <= 0 || n <= 0) return;
  const k0 = max(k, 0);
  const pb = <usize>panel_floats(k0) << 2;
  const panels = (n + 7) >> 3;
  if (m == 1) {
    const rb: f32 = rowBias ? load<f32>(rowBias) : 0;
    // Panel p with panel p + h; an odd last panel alone.
    const h = panels >> 1;
    const hb = <usize>h * pb;
    const p0 = part_lo(h, tid, nt), p1 = part_lo(h, tid + 1, nt);
    let wp = w + <usize>p0 * pb;
    for (let p = p0; p < p1; p++) {
      const j2 = (p + h) << 3;
      gemv_ukernel_1x16(a, wp, hb, c + (<usize>p << 5), c + (<usize>j2 << 2), min(8, n - j2), k0, rb, act);
      wp += pb;
    }
    const j = h << 4;
    if (j < n && tid == nt - 1) gemv_ukernel_1x8(a, w + (hb << 1), c + (<usize>j << 2), n - j, k0, rb, act);
    return;
  }
  // Tiles of a row block (mc rows) by `per` panels, row block by row block: on one thread each
  // tile is a whole row block (the loop order from before threads); on several, ~GEMM_TILE_MACS.
  // One loop for both, so the tile's code is inlined once.
  // (A build without threads, where nt is always 1, has no atomics: claim() is not compiled there.)
  const mc = gemm_mc(k0), shared = ASC_FEATURE_THREADS && nt > 1;
  const tileMacs = shared ? <i32>min<i64>(GEMM_TILE_MACS, max<i64>(GEMM_MIN_TILE_MACS, <i64>m * n * k0 / (nt * GEMM_TILES_PER_THREAD))) : 0;
  const per = shared ? min(panels, max(1, tileMacs / max(1, min(mc, m) * 8 * max(k0, 1)))) : panels;
  const runs = (panels + per - 1) / per, tiles = ((m + mc - 1) / mc) * runs;
  for (let t = shared ? claim(sync, tiles, nt) : 0; t >= 0 && t < tiles; t = shared ? claim(sync, tiles, nt) : t + 1) {
    const i0 = (t / runs) * mc, p0 = (t % runs) * per;
    gemm_tile(a, lda, w, c, ldc, min(m, i0 + mc), n, k0, rowBias, act, i0, p0, min(panels, p0 + per));
  }
}

/** Rows [i0, i1) by panels [p0, p1) of gemm_f32: each panel's rows in 4-row ukernel calls from i0. */
// @ts-ignore: decorator
@inline function gemm_tile(a: usize, lda: i32, w: usize, c: usize, ldc: i32, i1: i32, n: i32, k0: i32,
                           rowBias: usize, act: i32, i0: i32, p0: i32, p1: i32): void {
  const ldab = <usize>lda << 2, ldcb = <usize>ldc << 2;
  const pb = <usize>panel_floats(k0) << 2;
  let wp = w + <usize>p0 * pb;
  for (let j = p0 << 3, j1 = min(n, p1 << 3); j < j1; j += 8) {
    const cols = min(8, n - j);
    for (let i = i0; i < i1; i += 4) {
      gemm_ukernel_4x8(a + <usize>i * ldab, ldab, wp, c + <usize>i * ldcb + (<usize>j << 2), ldcb,
                       min(4, i1 - i), cols, k0, rowBias ? rowBias + (<usize>i << 2) : 0, act);
    }
    wp += pb;
  }
}

/**
 * Packs B [k][n] (row stride ldb elements) at run time into the panel layout at dst, with zero
 * column bias. dst must hold ceil(n/8)·8·(k+1) floats.
 */
export function pack_gemm_f32(b: usize, ldb: i32, k: i32, n: i32, dst: usize): void {
  const ldbb = <usize>ldb << 2;
  const zero = f32x4.splat(0);
  let d = dst;
  for (let j = 0; j < n; j += 8) {
    const cols = min(8, n - j);
    v128.store(d, zero); v128.store(d, zero, 16);
    d += 32;
    let s = b + (<usize>j << 2);
    for (let kk = 0; kk < k; kk++) {
      if (cols == 8) {
        v128.store(d, v128.load(s)); v128.store(d, v128.load(s, 16), 16);
      } else {
        v128.store(d, zero); v128.store(d, zero, 16);
        for (let l = 0; l < cols; l++) store<f32>(d + (<usize>l << 2), load<f32>(s + (<usize>l << 2)));
      }
      d += 32;
      s += ldbb;
    }
  }
}
