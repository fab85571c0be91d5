// Fused multi-head scaled dot-product attention (PyTorch's F.scaled_dot_product_attention, the core
// of nn.MultiheadAttention), heads interleaved in the last dimension, so no head split/merge copies:
//   s_j = scale · q[b,i,h,:]·k[b,j,h,:]        for keys j < kvLen
//   s_j = −∞  where mask[b,h,i,j] ≠ 0 (true = NOT attended) or (causal and j > qOffset + i)
//   o[b,i,h,:] = Σ_j p_j · v[b,j,h,:],   p = softmax(s) = e^(s − max s) / Σ e^(s − max s)
// A row whose every key is masked has max s = −∞, so s − max is NaN and its o is NaN, as in
// PyTorch; that is not special-cased. With no keys at all (kvLen ≤ 0) o is 0, PyTorch's result for
// Lk = 0 (an empty softmax times an empty V).
//
// Shape legend (pointers are byte addresses; strides in elements unless marked bytes):
//   B batch, H heads, Lq query rows, Lk key rows (capacity), d per-head q/k width, dv per-head v/o
//   q  row (b, i) at q + (b·bsq + i·ldq)·4, head h = the d floats from element h·d
//   k  row (b, j) at k + (b·bsk + j·ldk)·4, head h = the d floats from element h·d
//   v  row (b, j) at v + (b·bsv + j·ldv)·4, head h = the dv floats from element h·dv
//   o  row (b, i) at o + (b·bso + i·ldo)·4, head h = the dv floats from element h·dv; only those
//      are written, so o (and q, k, v) may be views, e.g. into one packed QKV buffer (ldq = 3E)
//   mask  u8, 1 = masked, or 0 for none; mask[b,h,i,j] at byte mask + b·mbs + h·mhs + i·mrs + j
//         (byte strides, 0 broadcasts: key_padding_mask [B,Lk] is mbs = Lk, mhs = mrs = 0)
//   kvLen  keys j < kvLen exist (a KV cache of capacity Lk filled up to kvLen); clamped to Lk,
//          since the scratch is sized by Lk. Nothing at or past key kvLen (or a row's causal
//          limit) is read.
//   qOffset  absolute position of query row 0 for the causal rule (decode: Lq = 1, qOffset = pos)
//   scratch  attention_scratch_floats(Lq, Lk) floats, 16-byte aligned, any contents
//            (attentionScratchBytes in compiler/codegen/attention-abi.ts)
// Inputs are never written.
//
// Per (b, h), query rows go in blocks of 8 (MR), keys only up to the block's last row's limit jBlk
// (kvLen, or its causal limit: a causal block skips the keys none of its rows sees):
//   1. Q^T [d][8] = scale·q of the 8 rows, transposed into scratch (128-deep chunks of d);
//   2. S^T [jBlk][8] = K·Q^T by 8 rows × 4 keys tiles: per depth step 2 Q^T loads, 4 key splats,
//      8 madds; the 8 rows are the lanes, so no horizontal sums;
//   3. softmax down the columns of S^T (mask and per-row causal limits → −∞, max, e^(s − max), Σ
//      per lane: again no horizontal work), P^T in place, 1/Σ aside;
//   4. o = (P·V)·(1/Σ) by 4 rows × 8 dv columns tiles: 2 V loads, 4 p splats at constant offsets
//      of one P^T row, 8 madds per key (the matmul 4x8 micro-kernel shape).
// The last 1–3 rows (all rows when Lq < 4, e.g. decode's Lq = 1) go one at a time: 1 row × 4 keys
// dot tiles (reduced by a 4×4 transpose-add), a row softmax, P·V 16 columns (64 contiguous bytes
// of each V row) per pass, then 8 and a partial 1–7.
// Whole rows of scores rather than an online softmax over key blocks: exact two passes, no rescaling;
// the price is 32·Lk bytes of S^T (16 KiB at Lk = 512).
//
// Register budget (V8 gives wasm 15 xmm): every inner loop keeps ≤ 14 v128 live counting all of an
// iteration's loads, because TurboFan hoists an iteration's loads to its top. Unrolling the depth
// loop of step 2 four times (24 loads in flight) spilled 10 vectors and lost 20%.
// Measured (bench/attention.ts; plain / relaxed SIMD) against matmul_f32 + softmax_f32 + matmul_f32
// per head through the same strided views (no head copies): d = 64 at L = 16–64 1.06–1.22×, L = 128
// 1.04 / 1.08×, L = 256–512 0.98–1.07× (both sides at ~50–55 GFLOP/s: matmul-bound, the saved S
// traffic is small); d = 128 0.94 / 1.01×; L = 7 d = 8 2.3–2.5×; decode (Lq = 1) 1.2–1.4×.
// Causal self-attention takes ~0.5× the non-causal time (skipped keys); the unfused sequence cannot.
import { madd, exp_nonpos_f32x4 } from "./math";
import { load_f32x4_partial, store_f32x4_partial, store_row8 } from "./vec";

/** Query rows per block: the lanes of two f32x4 per S^T row (the codegen reads this for scratch). */
export const ATTENTION_ROW_BLOCK: i32 = 8;
/** Depth of a Q^T chunk in scratch; d > 128 accumulates S^T over chunks. */
export const ATTENTION_QT_DEPTH: i32 = 128;
const MR = ATTENTION_ROW_BLOCK;
const DC = ATTENTION_QT_DEPTH;

@inline function round4(n: i32): i32 { return (n + 3) & ~3; }

/**
 * Floats of scratch for Lq query rows over Lk keys. Lq ≥ 4: S^T [round4(Lk)][8] | Q^T [128][8] |
 * 8 row limits, later 1/Σ. Lq < 4 (rows one at a time): one row of round4(Lk) scores.
 */
export function attention_scratch_floats(Lq: i32, Lk: i32): i32 {
  const lk4 = round4(max(Lk, 1));
  return Lq >= 4 ? MR * lk4 + MR * DC + MR : lk4;
}

/** [Σa, Σb, Σc, Σd]: four horizontal sums at once (unpck + shufps shapes, one instruction each on x64). */
@inline function hsum4(a: v128, b: v128, c: v128, d: v128): v128 {
  const ab = f32x4.add(i32x4.shuffle(a, b, 0, 4, 1, 5), i32x4.shuffle(a, b, 2, 6, 3, 7)); // [a02 b02 a13 b13]
  const cd = f32x4.add(i32x4.shuffle(c, d, 0, 4, 1, 5), i32x4.shuffle(c, d, 2, 6, 3, 7));
  return f32x4.add(i32x4.shuffle(ab, cd, 0, 1, 4, 5), i32x4.shuffle(ab, cd, 2, 3, 6, 7));
}

/**
 * Copies dc floats of each of `rows` q rows (stride ldqb), times scale, into the columns of Q^T
 * [dc][8] by 4x4 transposes. Columns past `rows` repeat the last row: their scores are computed
 * (and masked, exponentiated) like the others but never stored to o.
 */
function pack_qt(qt: usize, q: usize, ldqb: usize, rows: i32, dc: i32, scale: f32): void {
  const vs = f32x4.splat(scale);
  const last = q + <usize>(rows - 1) * ldqb;
  for (let g = 0; g < MR; g += 4) {
    const q0 = g < rows ? q + <usize>g * ldqb : last;
    const q1 = g + 1 < rows ? q0 + ldqb : last, q2 = g + 2 < rows ? q1 + ldqb : last, q3 = g + 3 < rows ? q2 + ldqb : last;
    let p = qt + (<usize>g << 2);
    let c = 0;
    for (; c + 4 <= dc; c += 4) {
      const o = <usize>c << 2;
      const x0 = f32x4.mul(v128.load(q0 + o), vs), x1 = f32x4.mul(v128.load(q1 + o), vs);
      const x2 = f32x4.mul(v128.load(q2 + o), vs), x3 = f32x4.mul(v128.load(q3 + o), vs);
      const t0 = i32x4.shuffle(x0, x1, 0, 4, 1, 5), t1 = i32x4.shuffle(x0, x1, 2, 6, 3, 7);
      const t2 = i32x4.shuffle(x2, x3, 0, 4, 1, 5), t3 = i32x4.shuffle(x2, x3, 2, 6, 3, 7);
      v128.store(p, i32x4.shuffle(t0, t2, 0, 1, 4, 5)); v128.store(p, i32x4.shuffle(t0, t2, 2, 3, 6, 7), 32);
      v128.store(p, i32x4.shuffle(t1, t3, 0, 1, 4, 5), 64); v128.store(p, i32x4.shuffle(t1, t3, 2, 3, 6, 7), 96);
      p += 128;
    }
    for (; c < dc; c++) {
      const o = <usize>c << 2;
      v128.store(p, f32x4.mul(f32x4(load<f32>(q0 + o), load<f32>(q1 + o), load<f32>(q2 + o), load<f32>(q3 + o)), vs));
      p += 32;
    }
  }
}

/**
 * S^T rows j..j+3 (8 query rows each) over one depth chunk: st[j'] (+)= Σ_c k_j'[c]·Q^T[c], Q^T from
 * qt [dc][8], keys k0..k3 (pointers already at the chunk). `add`: accumulate into st (later chunks).
 * Phantom keys alias a real one; their rows of st are written but never read.
 */
// @ts-ignore: decorator
@inline function qk_tile_8x4(qt: usize, k0: usize, k1: usize, k2: usize, k3: usize, dc: i32, st: usize, add: bool): void {
  let a00 = f32x4.splat(0), a01 = a00, a10 = a00, a11 = a00, a20 = a00, a21 = a00, a30 = a00, a31 = a00;
  let c = 0;
  for (; c < dc; c++) {
    const y0 = v128.load(qt), y1 = v128.load(qt, 16);
    let x = v128.load32_splat(k0); a00 = madd(x, y0, a00); a01 = madd(x, y1, a01);
    x = v128.load32_splat(k1); a10 = madd(x, y0, a10); a11 = madd(x, y1, a11);
    x = v128.load32_splat(k2); a20 = madd(x, y0, a20); a21 = madd(x, y1, a21);
    x = v128.load32_splat(k3); a30 = madd(x, y0, a30); a31 = madd(x, y1, a31);
    qt += 32; k0 += 4; k1 += 4; k2 += 4; k3 += 4;
  }
  if (add) {
    a00 = f32x4.add(a00, v128.load(st)); a01 = f32x4.add(a01, v128.load(st, 16));
    a10 = f32x4.add(a10, v128.load(st, 32)); a11 = f32x4.add(a11, v128.load(st, 48));
    a20 = f32x4.add(a20, v128.load(st, 64)); a21 = f32x4.add(a21, v128.load(st, 80));
    a30 = f32x4.add(a30, v128.load(st, 96)); a31 = f32x4.add(a31, v128.load(st, 112));
  }
  v128.store(st, a00); v128.store(st, a01, 16); v128.store(st, a10, 32); v128.store(st, a11, 48);
  v128.store(st, a20, 64); v128.store(st, a21, 80); v128.store(st, a30, 96); v128.store(st, a31, 112);
}

/**
 * Softmax down the columns of S^T [jBlk][8] (column r = query row i0 + r) in place → P^T (not yet
 * divided by Σ), and 1/Σ per column to inv [8]. Column r's keys are j < its limit, the i32 lanes
 * of (end0, end1), also in memory at inv on entry; jMin is the smallest. Mask bytes (mr ≠ 0) of
 * row r at mr + r·mrs + j.
 */
function softmax_cols(st: usize, inv: usize, jBlk: i32, jMin: i32, end0: v128, end1: v128,
                      mr: usize, mrs: usize, rows: i32): void {
  const ninf = f32x4.splat(-Infinity);
  if (mr) {
    for (let r = 0; r < rows; r++) {
      const m = mr + <usize>r * mrs, e = load<i32>(inv + (<usize>r << 2));
      let p = st + (<usize>r << 2);
      let j = 0;
      for (; j + 4 <= e; j += 4) {
        if (load<u32>(m + <usize>j)) {    // any of 4 keys masked
          if (load<u8>(m + <usize>j)) store<f32>(p, -Infinity);
          if (load<u8>(m + <usize>j, 1)) store<f32>(p, -Infinity, 32);
          if (load<u8>(m + <usize>j, 2)) store<f32>(p, -Infinity, 64);
          if (load<u8>(m + <usize>j, 3)) store<f32>(p, -Infinity, 96);
        }
        p += 128;
      }
      for (; j < e; j++) { if (load<u8>(m + <usize>j)) store<f32>(p, -Infinity); p += 32; }
    }
  }
  let m0 = ninf, m1 = ninf;
  let p = st;
  let j = 0;
  for (; j < jMin; j++) { m0 = f32x4.pmax(m0, v128.load(p)); m1 = f32x4.pmax(m1, v128.load(p, 16)); p += 32; }
  for (; j < jBlk; j++) {
    // Keys past some rows' causal limit: −∞ in those columns.
    const vj = i32x4.splat(j);
    const x0 = v128.bitselect(v128.load(p), ninf, i32x4.gt_s(end0, vj));
    const x1 = v128.bitselect(v128.load(p, 16), ninf, i32x4.gt_s(end1, vj));
    v128.store(p, x0); v128.store(p, x1, 16);
    m0 = f32x4.pmax(m0, x0); m1 = f32x4.pmax(m1, x1);
    p += 32;
  }
  // e^(s − max), Σ per column. An all −∞ column has max −∞: s − max is NaN, and so is its o.
  let s0 = f32x4.splat(0), s1 = s0;
  p = st;
  for (j = 0; j < jBlk; j++) {
    const e0 = exp_nonpos_f32x4(f32x4.sub(v128.load(p), m0)), e1 = exp_nonpos_f32x4(f32x4.sub(v128.load(p, 16), m1));
    v128.store(p, e0); v128.store(p, e1, 16);
    s0 = f32x4.add(s0, e0); s1 = f32x4.add(s1, e1);
    p += 32;
  }
  const one = f32x4.splat(1);
  v128.store(inv, f32x4.div(one, s0)); v128.store(inv, f32x4.div(one, s1), 16);
}

/**
 * P·V for 4 query rows (columns g..g+3 of P^T, pt = P^T + 4g) and one chunk of cols (1–8) dv
 * columns: o_r = (Σ_{j<jBlk} p_r[j]·v_j)·inv_r; only the first `rows` rows are stored.
 * `full` (compile-time): cols == 8.
 */
// @ts-ignore: decorator
@inline function pv_tile_4x8(pt: usize, inv: usize, vh: usize, ldvb: usize, jBlk: i32, cols: i32, full: bool,
                             o: usize, ldob: usize, rows: i32): void {
  let c00 = f32x4.splat(0), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00;
  let pv = vh, pp = pt;
  for (let j = 0; j < jBlk; j++) {
    let v0: v128, v1: v128;
    if (full) { v0 = v128.load(pv); v1 = v128.load(pv, 16); }
    else { v0 = load_f32x4_partial(pv, cols); v1 = load_f32x4_partial(pv + 16, cols - 4); }
    let x = v128.load32_splat(pp); c00 = madd(x, v0, c00); c01 = madd(x, v1, c01);
    x = v128.load32_splat(pp, 4); c10 = madd(x, v0, c10); c11 = madd(x, v1, c11);
    x = v128.load32_splat(pp, 8); c20 = madd(x, v0, c20); c21 = madd(x, v1, c21);
    x = v128.load32_splat(pp, 12); c30 = madd(x, v0, c30); c31 = madd(x, v1, c31);
    pv += ldvb; pp += 32;
  }
  let x = v128.load32_splat(inv);
  store_row8(o, f32x4.mul(c00, x), f32x4.mul(c01, x), cols);
  if (rows > 1) { x = v128.load32_splat(inv, 4); store_row8(o + ldob, f32x4.mul(c10, x), f32x4.mul(c11, x), cols); }
  if (rows > 2) { x = v128.load32_splat(inv, 8); store_row8(o + 2 * ldob, f32x4.mul(c20, x), f32x4.mul(c21, x), cols); }
  if (rows > 3) { x = v128.load32_splat(inv, 12); store_row8(o + 3 * ldob, f32x4.mul(c30, x), f32x4.mul(c31, x), cols); }
}

/**
 * A block of `rows` (4–8) query rows of head (b, h), with S^T in the scratch: pack scale·Q^T per
 * depth chunk, S^T by 8x4 tiles, softmax down its columns, P·V by 4x8 tiles.
 */
function attention_block8(qr: usize, ldqb: usize, kh: usize, ldkb: usize, vh: usize, ldvb: usize, or: usize, ldob: usize,
                          mr: usize, mrs: usize, scratch: usize, lk4: i32, rows: i32, d: i32, dv: i32, scale: f32,
                          causal: i32, kvLen: i32, i0: i32, qOffset: i32): void {
  const st = scratch, qt = st + (<usize>(MR * lk4) << 2), inv = qt + (<usize>(MR * DC) << 2);
  // Each row's key limit, to inv for softmax_cols (which replaces them by 1/Σ); phantom rows
  // (r ≥ rows) take the last real row's.
  let jMin = kvLen, jBlk = 0;
  for (let r = 0; r < MR; r++) {
    let e = kvLen;
    if (causal) e = min(e, qOffset + i0 + min(r, rows - 1) + 1);
    e = max(e, 0);
    store<i32>(inv + (<usize>r << 2), e);
    jMin = min(jMin, e); jBlk = max(jBlk, e);
  }
  jMin = max(jMin, 0);
  const end0 = v128.load(inv), end1 = v128.load(inv, 16);
  for (let c0 = 0; c0 < d; c0 += DC) {
    const dc = min(DC, d - c0);
    pack_qt(qt, qr + (<usize>c0 << 2), ldqb, rows, dc, scale);
    const kc = kh + (<usize>c0 << 2);
    for (let j = 0; j < jBlk; j += 4) {
      const k0 = kc + <usize>j * ldkb;
      const k1 = j + 1 < jBlk ? k0 + ldkb : k0;
      const k2 = j + 2 < jBlk ? k1 + ldkb : k1;
      const k3 = j + 3 < jBlk ? k2 + ldkb : k2;
      const s = st + (<usize>j << 5);
      if (c0 == 0) qk_tile_8x4(qt, k0, k1, k2, k3, dc, s, false);
      else qk_tile_8x4(qt, k0, k1, k2, k3, dc, s, true);
    }
  }
  if (d <= 0) {
    for (let j = 0; j < jBlk; j++) { const s = st + (<usize>j << 5); v128.store(s, f32x4.splat(0)); v128.store(s, f32x4.splat(0), 16); }
  }
  softmax_cols(st, inv, jBlk, jMin, end0, end1, mr, mrs, rows);
  for (let g = 0; g < rows; g += 4) {
    const pt = st + (<usize>g << 2), ig = inv + (<usize>g << 2), og = or + <usize>g * ldob;
    const rg = rows - g;
    let c = 0;
    for (; c + 8 <= dv; c += 8) {
      const co = <usize>c << 2;
      pv_tile_4x8(pt, ig, vh + co, ldvb, jBlk, 8, true, og + co, ldob, rg);
    }
    if (c < dv) {
      const co = <usize>c << 2;
      pv_tile_4x8(pt, ig, vh + co, ldvb, jBlk, dv - c, false, og + co, ldob, rg);
    }
  }
}

/** Scores of one query row q against 4 keys k0..k3 over d, stored as one vector at s. */
// @ts-ignore: decorator
@inline function qk_tile_1x4(q: usize, k0: usize, k1: usize, k2: usize, k3: usize, d: i32, s: usize, vscale: v128): void {
  let a0 = f32x4.splat(0), a1 = a0, a2 = a0, a3 = a0;
  let kk = 0;
  for (; kk + 4 <= d; kk += 4) {
    const y = v128.load(q);
    a0 = madd(y, v128.load(k0), a0); a1 = madd(y, v128.load(k1), a1);
    a2 = madd(y, v128.load(k2), a2); a3 = madd(y, v128.load(k3), a3);
    q += 16; k0 += 16; k1 += 16; k2 += 16; k3 += 16;
  }
  if (kk < d) {
    const n = d - kk;
    const y = load_f32x4_partial(q, n);
    a0 = madd(y, load_f32x4_partial(k0, n), a0); a1 = madd(y, load_f32x4_partial(k1, n), a1);
    a2 = madd(y, load_f32x4_partial(k2, n), a2); a3 = madd(y, load_f32x4_partial(k3, n), a3);
  }
  const r = hsum4(a0, a1, a2, a3);
  v128.store(s, f32x4.mul(r, vscale));
}

/**
 * One row of n scores s[0..n) → softmax probabilities in place, over s[0..round4(n)) (the padding
 * lanes are set to −∞, so they become 0). Mask bytes m (0: none) for keys j < n.
 */
function softmax_row(s: usize, m: usize, n: i32): void {
  const ninf = f32x4.splat(-Infinity);
  let j = 0;
  if (m) {
    for (; j + 4 <= n; j += 4) {
      const p = s + (<usize>j << 2);
      const bytes = v128.load32_zero(m + <usize>j);
      const masked = i32x4.ne(i32x4.extend_low_i16x8_u(i16x8.extend_low_i8x16_u(bytes)), i32x4.splat(0));
      v128.store(p, v128.bitselect(ninf, v128.load(p), masked));
    }
    for (; j < n; j++) if (load<u8>(m + <usize>j)) store<f32>(s + (<usize>j << 2), -Infinity);
  }
  // Max; padding lanes become −∞ (written back so the exp pass sees them).
  let vm0 = ninf, vm1 = ninf;
  j = 0;
  for (; j + 8 <= n; j += 8) {
    const p = s + (<usize>j << 2);
    vm0 = f32x4.pmax(vm0, v128.load(p)); vm1 = f32x4.pmax(vm1, v128.load(p, 16));
  }
  const n4 = round4(n);
  const vend = i32x4.splat(n);
  for (; j < n4; j += 4) {
    const p = s + (<usize>j << 2);
    const idx = i32x4.add(i32x4.splat(j), i32x4(0, 1, 2, 3));
    const x = v128.bitselect(v128.load(p), ninf, i32x4.lt_s(idx, vend));
    v128.store(p, x);
    vm0 = f32x4.pmax(vm0, x);
  }
  vm0 = f32x4.pmax(vm0, vm1);
  vm0 = f32x4.pmax(vm0, i32x4.shuffle(vm0, vm0, 2, 3, 0, 1));
  vm0 = f32x4.pmax(vm0, i32x4.shuffle(vm0, vm0, 1, 0, 3, 2));  // max in every lane
  // e^(s − max), Σ. An all −∞ row has max −∞: s − max is NaN, and so are its p and o.
  let sum0 = f32x4.splat(0), sum1 = sum0;
  j = 0;
  for (; j + 8 <= n4; j += 8) {
    const p = s + (<usize>j << 2);
    const e0 = exp_nonpos_f32x4(f32x4.sub(v128.load(p), vm0));
    const e1 = exp_nonpos_f32x4(f32x4.sub(v128.load(p, 16), vm0));
    v128.store(p, e0); v128.store(p, e1, 16);
    sum0 = f32x4.add(sum0, e0); sum1 = f32x4.add(sum1, e1);
  }
  if (j < n4) {
    const p = s + (<usize>j << 2);
    const e = exp_nonpos_f32x4(f32x4.sub(v128.load(p), vm0));
    v128.store(p, e);
    sum0 = f32x4.add(sum0, e);
  }
  // Normalised here rather than o at the end: one multiply per score; the row path is not hot.
  let t = f32x4.add(sum0, sum1);
  t = f32x4.add(t, i32x4.shuffle(t, t, 2, 3, 0, 1));
  t = f32x4.add(t, i32x4.shuffle(t, t, 1, 0, 3, 2));
  const inv = f32x4.div(f32x4.splat(1), t);
  for (j = 0; j < n4; j += 4) {
    const p = s + (<usize>j << 2);
    v128.store(p, f32x4.mul(v128.load(p), inv));
  }
}

/** P·V for one row, one chunk of cols (1–8) columns: two key streams (even/odd j) so the madd chains overlap. */
// @ts-ignore: decorator
@inline function pv_tile_1x8(s: usize, vh: usize, ldvb: usize, jBlk: i32, cols: i32, full: bool, o: usize): void {
  let a0 = f32x4.splat(0), a1 = a0, b0 = a0, b1 = a0;
  let pv = vh, ps = s;
  let j = 0;
  for (; j + 2 <= jBlk; j += 2) {
    const x = v128.load32_splat(ps), y = v128.load32_splat(ps, 4);
    const pw = pv + ldvb;
    if (full) {
      a0 = madd(x, v128.load(pv), a0); a1 = madd(x, v128.load(pv, 16), a1);
      b0 = madd(y, v128.load(pw), b0); b1 = madd(y, v128.load(pw, 16), b1);
    } else {
      a0 = madd(x, load_f32x4_partial(pv, cols), a0); a1 = madd(x, load_f32x4_partial(pv + 16, cols - 4), a1);
      b0 = madd(y, load_f32x4_partial(pw, cols), b0); b1 = madd(y, load_f32x4_partial(pw + 16, cols - 4), b1);
    }
    pv = pw + ldvb; ps += 8;
  }
  if (j < jBlk) {
    const x = v128.load32_splat(ps);
    if (full) { a0 = madd(x, v128.load(pv), a0); a1 = madd(x, v128.load(pv, 16), a1); }
    else { a0 = madd(x, load_f32x4_partial(pv, cols), a0); a1 = madd(x, load_f32x4_partial(pv + 16, cols - 4), a1); }
  }
  store_row8(o, f32x4.add(a0, b0), f32x4.add(a1, b1), cols);
}

/** P·V for one row, 16 columns: 64 contiguous bytes of each V row per pass, not two passes of 32. */
// @ts-ignore: decorator
@inline function pv_tile_1x16(s: usize, vh: usize, ldvb: usize, n: i32, o: usize): void {
  let a0 = f32x4.splat(0), a1 = a0, a2 = a0, a3 = a0;
  let pv = vh, ps = s;
  for (let j = 0; j < n; j++) {
    const x = v128.load32_splat(ps);
    a0 = madd(x, v128.load(pv), a0); a1 = madd(x, v128.load(pv, 16), a1);
    a2 = madd(x, v128.load(pv, 32), a2); a3 = madd(x, v128.load(pv, 48), a3);
    pv += ldvb; ps += 4;
  }
  v128.store(o, a0); v128.store(o, a1, 16); v128.store(o, a2, 32); v128.store(o, a3, 48);
}

/** One query row of head (b, h), scores in a row of scratch: 1x4 dot tiles, softmax, 1x16/1x8 P·V tiles. */
function attention_row(q: usize, kh: usize, ldkb: usize, vh: usize, ldvb: usize, o: usize, m: usize, s: usize,
                       d: i32, dv: i32, vscale: v128, rowEnd: i32): void {
  for (let j = 0; j < rowEnd; j += 4) {
    const k0 = kh + <usize>j * ldkb;
    const k1 = j + 1 < rowEnd ? k0 + ldkb : k0;
    const k2 = j + 2 < rowEnd ? k1 + ldkb : k1;
    const k3 = j + 3 < rowEnd ? k2 + ldkb : k2;
    qk_tile_1x4(q, k0, k1, k2, k3, d, s + (<usize>j << 2), vscale);
  }
  softmax_row(s, m, rowEnd);
  let c = 0;
  for (; c + 16 <= dv; c += 16) {
    const co = <usize>c << 2;
    pv_tile_1x16(s, vh + co, ldvb, rowEnd, o + co);
  }
  for (; c + 8 <= dv; c += 8) {
    const co = <usize>c << 2;
    pv_tile_1x8(s, vh + co, ldvb, rowEnd, 8, true, o + co);
  }
  if (c < dv) {
    const co = <usize>c << 2;
    pv_tile_1x8(s, vh + co, ldvb, rowEnd, dv - c, false, o + co);
  }
}

/** Fused scaled dot-product attention over all (b, h); see the banner for the layouts. */
export function attention_f32(q: usize, k: usize, v: usize, o: usize, mask: usize, scratch: usize,
                              B: i32, H: i32, Lq: i32, Lk: i32, d: i32, dv: i32,
                              ldq: i32, ldk: i32, ldv: i32, ldo: i32,
                              bsq: i32, bsk: i32, bsv: i32, bso: i32,
                              mbs: i32, mhs: i32, mrs: i32,
                              scale: f32, causal: i32, kvLen: i32, qOffset: i32): void {
  attention_f32_part(q, k, v, o, mask, scratch, B, H, Lq, Lk, d, dv, ldq, ldk, ldv, ldo, bsq, bsk, bsv, bso,
                     mbs, mhs, mrs, scale, causal, kvLen, qOffset, 0, 1);
}

/**
 * Thread tid's share of attention_f32 when nt threads split it: the work items are the 8-row
 * query blocks and the 1–3 single last rows of every (b, h), in that order, and thread tid takes
 * items tid, tid + nt, tid + 2·nt, … (round robin: a causal head's late blocks see more keys, so
 * contiguous ranges would load the last thread most). Each item is computed exactly as on one
 * thread, so the result is bit-identical for any nt. `scratch` is this thread's own.
 */
export function attention_f32_part(q: usize, k: usize, v: usize, o: usize, mask: usize, scratch: usize,
                                   B: i32, H: i32, Lq: i32, Lk: i32, d: i32, dv: i32,
                                   ldq: i32, ldk: i32, ldv: i32, ldo: i32,
                                   bsq: i32, bsk: i32, bsv: i32, bso: i32,
                                   mbs: i32, mhs: i32, mrs: i32,
                                   scale: f32, causal: i32, kvLen: i32, qOffset: i32, tid: i32, nt: i32): void {
  if (B <= 0 || H <= 0 || Lq <= 0 || dv <= 0) return;
  kvLen = min(kvLen, Lk);
  d = max(d, 0);
  const ldqb = <usize>ldq << 2, ldkb = <usize>ldk << 2, ldvb = <usize>ldv << 2, ldob = <usize>ldo << 2;
  const lk4 = round4(max(Lk, 1));
  const vscale = f32x4.splat(scale);
  let item = 0;
  for (let b = 0; b < B; b++) {
    const qb = q + (<usize>b * <usize>bsq << 2), kb = k + (<usize>b * <usize>bsk << 2);
    const vb = v + (<usize>b * <usize>bsv << 2), ob = o + (<usize>b * <usize>bso << 2);
    for (let h = 0; h < H; h++) {
      const qh = qb + (<usize>(h * d) << 2), kh = kb + (<usize>(h * d) << 2);
      const vh = vb + (<usize>(h * dv) << 2), oh = ob + (<usize>(h * dv) << 2);
      const mh = mask ? mask + <usize>b * <usize>mbs + <usize>h * <usize>mhs : 0;
      let i0 = 0;
      for (; i0 + 4 <= Lq; i0 += MR) {
        if (item++ % nt != tid) continue;
        const rows = min(MR, Lq - i0);
        attention_block8(qh + <usize>i0 * ldqb, ldqb, kh, ldkb, vh, ldvb, oh + <usize>i0 * ldob, ldob,
                         mask ? mh + <usize>i0 * <usize>mrs : 0, <usize>mrs, scratch, lk4, rows, d, dv, scale,
                         causal, kvLen, i0, qOffset);
      }
      for (; i0 < Lq; i0++) {      // the last 1–3 rows (all of them when Lq < 4) one at a time
        if (item++ % nt != tid) continue;
        let rowEnd = kvLen;
        if (causal) rowEnd = min(rowEnd, qOffset + i0 + 1);
        attention_row(qh + <usize>i0 * ldqb, kh, ldkb, vh, ldvb, oh + <usize>i0 * ldob,
                      mask ? mh + <usize>i0 * <usize>mrs : 0, scratch, d, dv, vscale, max(rowEnd, 0));
      }
    }
  }
}
