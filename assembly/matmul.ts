// f32 matrix product of two run-time operands (attention Q·Kᵀ and P·V, batched matmuls):
//   C = alpha · A·B        transB = 0: B is [k][n], row stride ldb
//   C = alpha · A·Bᵀ       transB ≠ 0: B is [n][k], row stride ldb  (C[i][j] = Σ A[i][kk]·B[j][kk])
// Shapes: A [m][k] (row stride lda), C [m][n] (row stride ldc); strides in elements, pointers are
// byte addresses (4-byte aligned is enough). Nothing past column n or row m of C is written.
//
// m ≥ 2: each 8-column panel of B, KC rows deep at a time, is copied (transposed if transB, zero
// padded past n) into a static panel buffer in gemm's layout, then swept down all rows of A by the
// same 4x8 register tile as gemm_f32 (matmul_ukernel_4x8). Depth blocks after the first add into C.
// m = 1 reads B in place: 1x8 column blocks (transB = 0) or four dot products at a time (transB).
//
// Surprising: matmul_f32's panel buffer is static data (memory.data, 16 KiB above --memoryBase),
// one thread's: threads splitting a matmul (matmul_f32_part) each pass a panel of their own.
import { madd } from "./math";
import { load_f32x4_partial, store_row8, hsum_f32x4, zero_f32 } from "./vec";
import { part_lo } from "./threads";

const KC: i32 = 512;
const PANEL: usize = memory.data(KC * 8 * 4, 16);
/** Bytes of one thread's panel buffer for matmul_f32_part. */
export const MATMUL_PANEL_BYTES: i32 = 16384; // KC·8 floats

/** Copies B[k0..k0+kc)[j0..j0+cols) (or its transposed source) into PANEL, rows of 8, zero padded. */
function pack_panel(panel: usize, b: usize, ldbb: usize, transB: i32, k0: i32, kc: i32, j0: i32, cols: i32): void {
  let d = panel;
  if (!transB) {
    let s = b + <usize>k0 * ldbb + (<usize>j0 << 2);
    if (cols == 8) {
      for (let kk = 0; kk < kc; kk++) {
        v128.store(d, v128.load(s)); v128.store(d, v128.load(s, 16), 16);
        s += ldbb; d += 32;
      }
    } else {
      for (let kk = 0; kk < kc; kk++) {
        v128.store(d, load_f32x4_partial(s, cols)); v128.store(d, load_f32x4_partial(s + 16, cols - 4), 16);
        s += ldbb; d += 32;
      }
    }
  } else {
    // PANEL[kk][l] = B[j0 + l][k0 + kk]: walk the 8 source rows, scatter into the panel columns.
    zero_f32(panel, <usize>kc << 5);
    for (let l = 0; l < cols; l++) {
      let s = b + <usize>(j0 + l) * ldbb + (<usize>k0 << 2);
      let p = panel + (<usize>l << 2);
      let kk = 0;
      for (; kk + 4 <= kc; kk += 4) {
        const v = v128.load(s);
        v128.store32_lane(p, v, 0); v128.store32_lane(p, v, 1, 32);
        v128.store32_lane(p, v, 2, 64); v128.store32_lane(p, v, 3, 96);
        s += 16; p += 128;
      }
      for (; kk < kc; kk++) {
        store<f32>(p, load<f32>(s));
        s += 4; p += 32;
      }
    }
  }
}

/** Stores (v0, v1)·alpha as the first `cols` floats of a C row, adding the old values if accumulate. */
@inline function finish_row8(p: usize, v0: v128, v1: v128, cols: i32, alpha: v128, accumulate: bool): void {
  v0 = f32x4.mul(v0, alpha); v1 = f32x4.mul(v1, alpha);
  if (accumulate) {
    v0 = f32x4.add(v0, load_f32x4_partial(p, cols));
    v1 = f32x4.add(v1, load_f32x4_partial(p + 16, cols - 4));
  }
  store_row8(p, v0, v1, cols);
}

/** One 4x8 tile over kc: rows (1–4) of A from a, the packed panel, cols (1–8) of C. */
// @ts-ignore: decorator
@inline function matmul_ukernel_4x8(panel: usize, a: usize, ldab: usize, c: usize, ldcb: usize, rows: i32, cols: i32, kc: i32,
                                    alpha: v128, accumulate: bool): void {
  const a0 = a;
  const a1 = rows > 1 ? a0 + ldab : a0;
  const a2 = rows > 2 ? a1 + ldab : a1;
  const a3 = rows > 3 ? a2 + ldab : a2;
  let c00 = f32x4.splat(0), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00;
  let w = panel;
  // Four bumped row pointers, not a0 + ka, ...: V8 folds neither form into the address, and the
  // shared-offset form costs one more add per k (54 vs 64 GFLOP/s at 512³ without relaxed SIMD).
  let q0 = a0, q1 = a1, q2 = a2, q3 = a3;
  for (let kk = 0; kk < kc; kk++) {
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
  const p0 = c;
  const p1 = rows > 1 ? p0 + ldcb : p0;
  const p2 = rows > 2 ? p1 + ldcb : p1;
  const p3 = rows > 3 ? p2 + ldcb : p2;
  // Only real rows: an aliased row store would re-read C already updated when accumulating.
  if (rows > 3) finish_row8(p3, c30, c31, cols, alpha, accumulate);
  if (rows > 2) finish_row8(p2, c20, c21, cols, alpha, accumulate);
  if (rows > 1) finish_row8(p1, c10, c11, cols, alpha, accumulate);
  finish_row8(p0, c00, c01, cols, alpha, accumulate);
}

/** m = 1, B [k][n]: C[j] = alpha·Σ a[kk]·B[kk][j], 8 columns at a time straight from B. */
function matmul_1xn(a: usize, b: usize, c: usize, n: i32, k: i32, ldbb: usize, alpha: v128): void {
  for (let j = 0; j < n; j += 8) {
    const cols = min(8, n - j);
    let s0 = f32x4.splat(0), t0 = s0, s1 = s0, t1 = s0;
    let p = b + (<usize>j << 2);
    let x = a;
    let kk = 0;
    if (cols == 8) {
      for (; kk + 2 <= k; kk += 2) {
        let v = v128.load32_splat(x);
        s0 = madd(v, v128.load(p), s0); t0 = madd(v, v128.load(p, 16), t0);
        p += ldbb;
        v = v128.load32_splat(x, 4);
        s1 = madd(v, v128.load(p), s1); t1 = madd(v, v128.load(p, 16), t1);
        p += ldbb; x += 8;
      }
      if (kk < k) {
        const v = v128.load32_splat(x);
        s0 = madd(v, v128.load(p), s0); t0 = madd(v, v128.load(p, 16), t0);
      }
    } else {
      for (; kk < k; kk++) {
        const v = v128.load32_splat(x);
        s0 = madd(v, load_f32x4_partial(p, cols), s0); t0 = madd(v, load_f32x4_partial(p + 16, cols - 4), t0);
        p += ldbb; x += 4;
      }
    }
    finish_row8(c + (<usize>j << 2), f32x4.add(s0, s1), f32x4.add(t0, t1), cols, alpha, false);
  }
}

/** m = 1, B [n][k]: C[j] = alpha·dot(a, B[j]), four rows of B per pass. */
function matmul_1xn_transb(a: usize, b: usize, c: usize, n: i32, k: i32, ldbb: usize, alpha: f32): void {
  let j = 0;
  for (; j + 4 <= n; j += 4) {
    const r0 = b + <usize>j * ldbb, r1 = r0 + ldbb, r2 = r1 + ldbb, r3 = r2 + ldbb;
    let s0 = f32x4.splat(0), s1 = s0, s2 = s0, s3 = s0;
    let o: usize = 0;
    let kk = 0;
    for (; kk + 4 <= k; kk += 4) {
      const x = v128.load(a + o);
      s0 = madd(x, v128.load(r0 + o), s0); s1 = madd(x, v128.load(r1 + o), s1);
      s2 = madd(x, v128.load(r2 + o), s2); s3 = madd(x, v128.load(r3 + o), s3);
      o += 16;
    }
    let d0 = hsum_f32x4(s0), d1 = hsum_f32x4(s1), d2 = hsum_f32x4(s2), d3 = hsum_f32x4(s3);
    for (; kk < k; kk++) {
      const x = load<f32>(a + o);
      d0 += x * load<f32>(r0 + o); d1 += x * load<f32>(r1 + o);
      d2 += x * load<f32>(r2 + o); d3 += x * load<f32>(r3 + o);
      o += 4;
    }
    const p = c + (<usize>j << 2);
    store<f32>(p, alpha * d0); store<f32>(p, alpha * d1, 4); store<f32>(p, alpha * d2, 8); store<f32>(p, alpha * d3, 12);
  }
  for (; j < n; j++) {
    const r = b + <usize>j * ldbb;
    let s = f32x4.splat(0);
    let o: usize = 0;
    let kk = 0;
    for (; kk + 4 <= k; kk += 4) { s = madd(v128.load(a + o), v128.load(r + o), s); o += 16; }
    let d = hsum_f32x4(s);
    for (; kk < k; kk++) { d += load<f32>(a + o) * load<f32>(r + o); o += 4; }
    store<f32>(c + (<usize>j << 2), alpha * d);
  }
}

/** C = alpha·A·B (transB = 0) or alpha·A·Bᵀ (transB ≠ 0). See the banner for layouts. */
export function matmul_f32(a: usize, b: usize, c: usize, m: i32, n: i32, k: i32,
                           lda: i32, ldb: i32, ldc: i32, transB: i32, alpha: f32): void {
  matmul_f32_part(a, b, c, m, n, k, lda, ldb, ldc, transB, alpha, PANEL, 0, 1);
}

/**
 * Below this many 8-column blocks of C, a split matmul of m ≥ 2 rows goes by rows (groups of 4, the
 * tile's height, so each row is in the same tile as on one thread), every thread packing each
 * panel of B for itself; from it, by column blocks. compiler/codegen/ops/linalg.ts reads it.
 */
export const MATMUL_ROW_SPLIT_BELOW: i32 = 4;

/**
 * Thread `tid`'s share of matmul_f32 when `nt` threads split it: contiguous runs of 8-column
 * blocks of C, or of 4-row groups when m ≥ 2 and C has fewer than MATMUL_ROW_SPLIT_BELOW blocks;
 * `panel` is its own KC·8-float panel buffer (PANEL is one thread's). Each element's summation is
 * the same as on one thread, so the result is bit-identical for any nt.
 */
export function matmul_f32_part(a: usize, b: usize, c: usize, m: i32, n: i32, k: i32,
                                lda: i32, ldb: i32, ldc: i32, transB: i32, alpha: f32,
                                panel: usize, tid: i32, nt: i32): void {
  if (m <= 0 || n <= 0) return;
  const blocks = (n + 7) >> 3;
  let j0 = 0, j1 = n, i0 = 0, i1 = m;
  if (m >= 2 && blocks < MATMUL_ROW_SPLIT_BELOW) {
    const groups = (m + 3) >> 2;
    i0 = part_lo(groups, tid, nt) << 2; i1 = min(m, part_lo(groups, tid + 1, nt) << 2);
    if (i0 >= i1) return;
  } else {
    j0 = part_lo(blocks, tid, nt) << 3; j1 = min(n, part_lo(blocks, tid + 1, nt) << 3);
    if (j0 >= j1) return;
  }
  const ldab = <usize>lda << 2, ldbb = <usize>ldb << 2, ldcb = <usize>ldc << 2;
  const va = f32x4.splat(alpha);
  const cj0 = c + (<usize>j0 << 2), w = j1 - j0;
  if (k <= 0) {
    for (let i = i0; i < i1; i++) zero_f32(cj0 + <usize>i * ldcb, <usize>w << 2);
    return;
  }
  if (m == 1) {
    if (transB) matmul_1xn_transb(a, b + <usize>j0 * ldbb, cj0, w, k, ldbb, alpha);
    else matmul_1xn(a, b + (<usize>j0 << 2), cj0, w, k, ldbb, va);
    return;
  }
  for (let j = j0; j < j1; j += 8) {
    const cols = min(8, n - j);
    for (let k0 = 0; k0 < k; k0 += KC) {
      const kc = min(KC, k - k0);
      pack_panel(panel, b, ldbb, transB, k0, kc, j, cols);
      const ak = a + (<usize>k0 << 2);
      const cj = c + (<usize>j << 2);
      for (let i = i0; i < i1; i += 4) {
        matmul_ukernel_4x8(panel, ak + <usize>i * ldab, ldab, cj + <usize>i * ldcb, ldcb, min(4, i1 - i), cols, kc,
                           va, k0 > 0);
      }
    }
  }
}
