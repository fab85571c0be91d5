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
//          since the scratch holds Lk scores a row
//   qOffset  absolute position of query row 0 for the causal rule (decode: Lq = 1, qOffset = pos)
//   scratch  attention_scratch_floats(Lq, Lk) floats, 16-byte aligned: min(Lq, 4) rows of
//            round4(Lk) scores (attentionScratchBytes in compiler/codegen/attention-abi.ts)
// Inputs are never written.
//
// Per (b, h), query rows go in blocks of 4 (MR). For a block, only keys j < jBlk (the last row's
// limit: kvLen, or its causal limit) are touched:
//   1. scores S[4][jBlk] = scale·q·kᵀ, 4 rows × 2 keys per register tile (8 dot accumulators over
//      d, f32x4; each K row loaded once per block), reduced with a 4×4 transpose-add;
//   2. per row: mask and per-row causal limit to −∞, max, p = exp(s − max)/Σ in place;
//   3. o = P·V by 4 rows × 8 dv columns tiles (each V row loaded once per block and column chunk),
//      the matmul 4x8 micro-kernel shape with p splatted from S.
// Blocks of fewer rows (Lq mod 4, and decode's Lq = 1) run each row alone: 1 row × 4 keys for the
// scores, 1 row × 8 columns with two key streams for P·V, so no work is spent on phantom rows.
// Whole rows of scores (not an online softmax over key blocks): two exact passes, no rescaling;
// the price is 16·round4(Lk) bytes of scores per block, which stays in L1 up to Lk ≈ 2K.
import { madd, exp_f32x4 } from "./math";

const MR: i32 = 4;

@inline function round4(n: i32): i32 { return (n + 3) & ~3; }

/** Floats of scratch for Lq query rows over Lk keys: min(Lq, 4) rows of round4(Lk) scores. */
export function attention_scratch_floats(Lq: i32, Lk: i32): i32 {
  return min(max(Lq, 1), MR) * round4(max(Lk, 1));
}

/** Loads n floats at p into the low lanes (n ≥ 4: a full load), zeros elsewhere; never reads past p + 4n. */
@inline function load_n(p: usize, n: i32): v128 {
  if (n >= 4) return v128.load(p);
  if (n == 3) return v128.load32_lane(p, v128.load64_zero(p), 2, 8);
  if (n == 2) return v128.load64_zero(p);
  if (n == 1) return v128.load32_zero(p);
  return f32x4.splat(0);
}

/** Stores the first n (0–4) lanes of x at p. */
@inline function store_n(p: usize, x: v128, n: i32): void {
  if (n >= 4) {
    v128.store(p, x);
  } else if (n >= 2) {
    v128.store64_lane(p, x, 0);
    if (n == 3) v128.store32_lane(p, x, 2, 8);
  } else if (n == 1) {
    v128.store32_lane(p, x, 0);
  }
}

/** [Σa, Σb, Σc, Σd]: four horizontal sums at once (unpck + shufps shapes, one instruction each on x64). */
@inline function hsum4(a: v128, b: v128, c: v128, d: v128): v128 {
  const ab = f32x4.add(i32x4.shuffle(a, b, 0, 4, 1, 5), i32x4.shuffle(a, b, 2, 6, 3, 7)); // [a02 b02 a13 b13]
  const cd = f32x4.add(i32x4.shuffle(c, d, 0, 4, 1, 5), i32x4.shuffle(c, d, 2, 6, 3, 7));
  return f32x4.add(i32x4.shuffle(ab, cd, 0, 1, 4, 5), i32x4.shuffle(ab, cd, 2, 3, 6, 7));
}

/**
 * Scores of 4 query rows (q0..q3) against 2 keys (k0, k1) over d: scale·q_r·k_c stored at
 * s_r + 4c. k1 may equal k0 (odd key count; the extra score lands in S's padding).
 */
// @ts-ignore: decorator
@inline function qk_tile_4x2(q0: usize, q1: usize, q2: usize, q3: usize, k0: usize, k1: usize, d: i32,
                             s0: usize, s1: usize, s2: usize, s3: usize, vscale: v128): void {
  let a00 = f32x4.splat(0), a01 = a00, a10 = a00, a11 = a00, a20 = a00, a21 = a00, a30 = a00, a31 = a00;
  let kk = 0;
  for (; kk + 8 <= d; kk += 8) {
    let x0 = v128.load(k0), x1 = v128.load(k1);
    let y = v128.load(q0); a00 = madd(y, x0, a00); a01 = madd(y, x1, a01);
    y = v128.load(q1); a10 = madd(y, x0, a10); a11 = madd(y, x1, a11);
    y = v128.load(q2); a20 = madd(y, x0, a20); a21 = madd(y, x1, a21);
    y = v128.load(q3); a30 = madd(y, x0, a30); a31 = madd(y, x1, a31);
    x0 = v128.load(k0, 16); x1 = v128.load(k1, 16);
    y = v128.load(q0, 16); a00 = madd(y, x0, a00); a01 = madd(y, x1, a01);
    y = v128.load(q1, 16); a10 = madd(y, x0, a10); a11 = madd(y, x1, a11);
    y = v128.load(q2, 16); a20 = madd(y, x0, a20); a21 = madd(y, x1, a21);
    y = v128.load(q3, 16); a30 = madd(y, x0, a30); a31 = madd(y, x1, a31);
    q0 += 32; q1 += 32; q2 += 32; q3 += 32; k0 += 32; k1 += 32;
  }
  for (; kk < d; kk += 4) {   // 1–7 floats left: one or two steps, partial loads (zero lanes add 0·0)
    const n = d - kk;
    const x0 = load_n(k0, n), x1 = load_n(k1, n);
    let y = load_n(q0, n); a00 = madd(y, x0, a00); a01 = madd(y, x1, a01);
    y = load_n(q1, n); a10 = madd(y, x0, a10); a11 = madd(y, x1, a11);
    y = load_n(q2, n); a20 = madd(y, x0, a20); a21 = madd(y, x1, a21);
    y = load_n(q3, n); a30 = madd(y, x0, a30); a31 = madd(y, x1, a31);
    q0 += 16; q1 += 16; q2 += 16; q3 += 16; k0 += 16; k1 += 16;
  }
  const r01 = f32x4.mul(hsum4(a00, a01, a10, a11), vscale);   // [s00 s01 s10 s11]
  const r23 = f32x4.mul(hsum4(a20, a21, a30, a31), vscale);
  v128.store64_lane(s0, r01, 0); v128.store64_lane(s1, r01, 1);
  v128.store64_lane(s2, r23, 0); v128.store64_lane(s3, r23, 1);
}

/** Scores of one query row q against 4 keys k0..k3 over d, stored as one vector at s. */
// @ts-ignore: decorator
@inline function qk_tile_1x4(q: usize, k0: usize, k1: usize, k2: usize, k3: usize, d: i32, s: usize, vscale: v128): void {
  let a0 = f32x4.splat(0), a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0;
  let kk = 0;
  for (; kk + 8 <= d; kk += 8) {
    let y = v128.load(q);
    a0 = madd(y, v128.load(k0), a0); a1 = madd(y, v128.load(k1), a1);
    a2 = madd(y, v128.load(k2), a2); a3 = madd(y, v128.load(k3), a3);
    y = v128.load(q, 16);
    b0 = madd(y, v128.load(k0, 16), b0); b1 = madd(y, v128.load(k1, 16), b1);
    b2 = madd(y, v128.load(k2, 16), b2); b3 = madd(y, v128.load(k3, 16), b3);
    q += 32; k0 += 32; k1 += 32; k2 += 32; k3 += 32;
  }
  for (; kk < d; kk += 4) {
    const n = d - kk;
    const y = load_n(q, n);
    a0 = madd(y, load_n(k0, n), a0); a1 = madd(y, load_n(k1, n), a1);
    a2 = madd(y, load_n(k2, n), a2); a3 = madd(y, load_n(k3, n), a3);
    q += 16; k0 += 16; k1 += 16; k2 += 16; k3 += 16;
  }
  const r = hsum4(f32x4.add(a0, b0), f32x4.add(a1, b1), f32x4.add(a2, b2), f32x4.add(a3, b3));
  v128.store(s, f32x4.mul(r, vscale));
}

/**
 * One row of scores s[0..round4(jBlk)) → softmax probabilities in place. Applies the mask bytes m
 * (0: none) to keys j < rowEnd and −∞ to keys rowEnd ≤ j < round4(jBlk) (causal limit, S's padding).
 */
function softmax_row(s: usize, m: usize, rowEnd: i32, jBlk: i32): void {
  const ninf = f32x4.splat(-Infinity);
  let j = 0;
  if (m) {
    for (; j + 4 <= rowEnd; j += 4) {
      const p = s + (<usize>j << 2);
      const bytes = v128.load32_zero(m + <usize>j);
      const masked = i32x4.ne(i32x4.extend_low_i16x8_u(i16x8.extend_low_i8x16_u(bytes)), i32x4.splat(0));
      v128.store(p, v128.bitselect(ninf, v128.load(p), masked));
    }
    for (; j < rowEnd; j++) if (load<u8>(m + <usize>j)) store<f32>(s + (<usize>j << 2), -Infinity);
  }
  // Max; lanes at or past rowEnd become −∞ (written back so the exp pass sees them).
  let vm0 = ninf, vm1 = ninf;
  j = 0;
  for (; j + 8 <= rowEnd; j += 8) {
    const p = s + (<usize>j << 2);
    vm0 = f32x4.pmax(vm0, v128.load(p)); vm1 = f32x4.pmax(vm1, v128.load(p, 16));
  }
  const n4 = round4(jBlk);
  const vend = i32x4.splat(rowEnd);
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
    const e0 = exp_f32x4(f32x4.sub(v128.load(p), vm0));
    const e1 = exp_f32x4(f32x4.sub(v128.load(p, 16), vm0));
    v128.store(p, e0); v128.store(p, e1, 16);
    sum0 = f32x4.add(sum0, e0); sum1 = f32x4.add(sum1, e1);
  }
  if (j < n4) {
    const p = s + (<usize>j << 2);
    const e = exp_f32x4(f32x4.sub(v128.load(p), vm0));
    v128.store(p, e);
    sum0 = f32x4.add(sum0, e);
  }
  // Normalise here, not o at the end: P·V's tiles then keep no 1/Σ live beside 8 accumulators.
  let t = f32x4.add(sum0, sum1);
  t = f32x4.add(t, i32x4.shuffle(t, t, 2, 3, 0, 1));
  t = f32x4.add(t, i32x4.shuffle(t, t, 1, 0, 3, 2));
  const inv = f32x4.div(f32x4.splat(1), t);
  for (j = 0; j < n4; j += 4) {
    const p = s + (<usize>j << 2);
    v128.store(p, f32x4.mul(v128.load(p), inv));
  }
}

/** Stores the first cols (1–8) floats of (x0, x1) at p. */
@inline function store_row8(p: usize, x0: v128, x1: v128, cols: i32): void {
  if (cols == 8) { v128.store(p, x0); v128.store(p, x1, 16); }
  else if (cols > 4) { v128.store(p, x0); store_n(p + 16, x1, cols - 4); }
  else store_n(p, x0, cols);
}

/**
 * P·V for 4 rows, one chunk of cols (1–8) columns: o_r[0..cols) = Σ_{j<jBlk} p_r[j]·v_j, p from the
 * score rows s (stride ldsb bytes), V rows from vh (stride ldvb). `full` (compile-time): cols == 8.
 */
// @ts-ignore: decorator
@inline function pv_tile_4x8(s: usize, ldsb: usize, vh: usize, ldvb: usize, jBlk: i32, cols: i32, full: bool,
                             o0: usize, o1: usize, o2: usize, o3: usize): void {
  let c00 = f32x4.splat(0), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00;
  let p0 = s, p1 = s + ldsb, p2 = p1 + ldsb, p3 = p2 + ldsb;
  let pv = vh;
  for (let j = 0; j < jBlk; j++) {
    let v0: v128, v1: v128;
    if (full) { v0 = v128.load(pv); v1 = v128.load(pv, 16); }
    else { v0 = load_n(pv, cols); v1 = load_n(pv + 16, cols - 4); }
    let x = v128.load32_splat(p0); c00 = madd(x, v0, c00); c01 = madd(x, v1, c01);
    x = v128.load32_splat(p1); c10 = madd(x, v0, c10); c11 = madd(x, v1, c11);
    x = v128.load32_splat(p2); c20 = madd(x, v0, c20); c21 = madd(x, v1, c21);
    x = v128.load32_splat(p3); c30 = madd(x, v0, c30); c31 = madd(x, v1, c31);
    pv += ldvb; p0 += 4; p1 += 4; p2 += 4; p3 += 4;
  }
  store_row8(o0, c00, c01, cols);
  store_row8(o1, c10, c11, cols);
  store_row8(o2, c20, c21, cols);
  store_row8(o3, c30, c31, cols);
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
      a0 = madd(x, load_n(pv, cols), a0); a1 = madd(x, load_n(pv + 16, cols - 4), a1);
      b0 = madd(y, load_n(pw, cols), b0); b1 = madd(y, load_n(pw + 16, cols - 4), b1);
    }
    pv = pw + ldvb; ps += 8;
  }
  if (j < jBlk) {
    const x = v128.load32_splat(ps);
    if (full) { a0 = madd(x, v128.load(pv), a0); a1 = madd(x, v128.load(pv, 16), a1); }
    else { a0 = madd(x, load_n(pv, cols), a0); a1 = madd(x, load_n(pv + 16, cols - 4), a1); }
  }
  store_row8(o, f32x4.add(a0, b0), f32x4.add(a1, b1), cols);
}

/** One block of `rows` (1–4) query rows of head (b, h): scores, softmax, P·V into o. */
function attention_block(qr: usize, ldqb: usize, kh: usize, ldkb: usize, vh: usize, ldvb: usize, or: usize, ldob: usize,
                         mr: usize, mrs: usize, s: usize, ldsb: usize, rows: i32, d: i32, dv: i32, vscale: v128,
                         causal: i32, kvLen: i32, i0: i32, qOffset: i32): void {
  // Keys the last (most permissive) row may see; earlier rows' causal limits are applied as −∞.
  let jBlk = kvLen;
  if (causal) jBlk = min(jBlk, qOffset + i0 + rows);
  jBlk = max(jBlk, 0);
  if (rows == MR) {
    const q1 = qr + ldqb, q2 = q1 + ldqb, q3 = q2 + ldqb;
    const s1 = s + ldsb, s2 = s1 + ldsb, s3 = s2 + ldsb;
    let j = 0;
    for (; j < jBlk; j += 2) {
      const k0 = kh + <usize>j * ldkb;
      const k1 = j + 1 < jBlk ? k0 + ldkb : k0;
      const o = <usize>j << 2;
      qk_tile_4x2(qr, q1, q2, q3, k0, k1, d, s + o, s1 + o, s2 + o, s3 + o, vscale);
    }
  } else {
    for (let r = 0; r < rows; r++) {
      const q = qr + <usize>r * ldqb, sr = s + <usize>r * ldsb;
      for (let j = 0; j < jBlk; j += 4) {
        const k0 = kh + <usize>j * ldkb;
        const k1 = j + 1 < jBlk ? k0 + ldkb : k0;
        const k2 = j + 2 < jBlk ? k1 + ldkb : k1;
        const k3 = j + 3 < jBlk ? k2 + ldkb : k2;
        qk_tile_1x4(q, k0, k1, k2, k3, d, sr + (<usize>j << 2), vscale);
      }
    }
  }
  for (let r = 0; r < rows; r++) {
    let rowEnd = kvLen;
    if (causal) rowEnd = min(rowEnd, qOffset + i0 + r + 1);
    softmax_row(s + <usize>r * ldsb, mr ? mr + <usize>r * mrs : 0, max(rowEnd, 0), jBlk);
  }
  if (rows == MR) {
    const o1 = or + ldob, o2 = o1 + ldob, o3 = o2 + ldob;
    let c = 0;
    for (; c + 8 <= dv; c += 8) {
      const co = <usize>c << 2;
      pv_tile_4x8(s, ldsb, vh + co, ldvb, jBlk, 8, true, or + co, o1 + co, o2 + co, o3 + co);
    }
    if (c < dv) {
      const co = <usize>c << 2;
      pv_tile_4x8(s, ldsb, vh + co, ldvb, jBlk, dv - c, false, or + co, o1 + co, o2 + co, o3 + co);
    }
  } else {
    for (let r = 0; r < rows; r++) {
      const sr = s + <usize>r * ldsb, orr = or + <usize>r * ldob;
      let c = 0;
      for (; c + 8 <= dv; c += 8) {
        const co = <usize>c << 2;
        pv_tile_1x8(sr, vh + co, ldvb, jBlk, 8, true, orr + co);
      }
      if (c < dv) {
        const co = <usize>c << 2;
        pv_tile_1x8(sr, vh + co, ldvb, jBlk, dv - c, false, orr + co);
      }
    }
  }
}

/** Fused scaled dot-product attention over all (b, h); see the banner for the layouts. */
export function attention_f32(q: usize, k: usize, v: usize, o: usize, mask: usize, scratch: usize,
                              B: i32, H: i32, Lq: i32, Lk: i32, d: i32, dv: i32,
                              ldq: i32, ldk: i32, ldv: i32, ldo: i32,
                              bsq: i32, bsk: i32, bsv: i32, bso: i32,
                              mbs: i32, mhs: i32, mrs: i32,
                              scale: f32, causal: i32, kvLen: i32, qOffset: i32): void {
  if (B <= 0 || H <= 0 || Lq <= 0 || dv <= 0) return;
  kvLen = min(kvLen, Lk);
  d = max(d, 0);
  const ldqb = <usize>ldq << 2, ldkb = <usize>ldk << 2, ldvb = <usize>ldv << 2, ldob = <usize>ldo << 2;
  const ldsb = <usize>round4(max(Lk, 1)) << 2;
  const vscale = f32x4.splat(scale);
  for (let b = 0; b < B; b++) {
    const qb = q + (<usize>b * <usize>bsq << 2), kb = k + (<usize>b * <usize>bsk << 2);
    const vb = v + (<usize>b * <usize>bsv << 2), ob = o + (<usize>b * <usize>bso << 2);
    for (let h = 0; h < H; h++) {
      const qh = qb + (<usize>(h * d) << 2), kh = kb + (<usize>(h * d) << 2);
      const vh = vb + (<usize>(h * dv) << 2), oh = ob + (<usize>(h * dv) << 2);
      const mh = mask ? mask + <usize>b * <usize>mbs + <usize>h * <usize>mhs : 0;
      for (let i0 = 0; i0 < Lq; i0 += MR) {
        const rows = min(MR, Lq - i0);
        attention_block(qh + <usize>i0 * ldqb, ldqb, kh, ldkb, vh, ldvb, oh + <usize>i0 * ldob, ldob,
                        mask ? mh + <usize>i0 * <usize>mrs : 0, <usize>mrs, scratch, ldsb, rows, d, dv, vscale,
                        causal, kvLen, i0, qOffset);
      }
    }
  }
}
