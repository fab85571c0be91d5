// Recurrent layers over a whole sequence, one call per layer and direction, PyTorch semantics:
//   rnn   h = act(xp + hp)                                     act: RNN_TANH (0) or RNN_RELU (1)
//   lstm  i = σ(xi+hi) f = σ(xf+hf) g = tanh(xg+hg) o = σ(xo+ho);  c = f·c + i·g;  h = o·tanh(c)
//   gru   r = σ(xr+hr) z = σ(xz+hz) n = tanh(xn + r·hn);            h = (1−z)·n + z·h_prev
// where xp = x·W_ihᵀ + b_ih (projected by the caller for the whole sequence with one GEMM) and
// hp = h_prev·W_hhᵀ + b_hh (here, per step). hn includes b_hn: PyTorch's placement of the reset gate.
//
// Shape legend (pointers are byte addresses, strides in elements):
//   B batch, T time steps, H hidden size, G gates: rnn 1, lstm 4 (i f g o), gru 3 (r z n),
//   each gate H wide, in that order along the G·H axis.
//   xp       [B][T][ldx ≥ G·H]  row (b, t) at xp + (b·T + t)·ldx·4
//   w        W_hhᵀ [H][G·H] in gemm's panel layout (packGemmWeights(W_hh, H, G·H, 'nk', b_hh))
//   h0, c0   [B][H] initial state; 0 means zeros
//   y        [B][T][ldy ≥ H]    h_t of batch b at y + (b·T + t)·ldy·4; only H floats per row are
//            written, so two directions can share a [B][T][2H] buffer (reverse passes y + H·4)
//   hn, cn   [B][H] state after the last processed step (t = 0 when reversed); 0 means not written
//   scratch  rnn_scratch_floats(kind, B, H) floats, 16-byte aligned:
//            gates [B][G·H] | h [B][H] | c [B][H] (lstm only), each section rounded up to 4 floats
// Inputs are never written.
//
// Per step: one gemm_f32 of the scratch h [B][H] against w into the gates (M = B, so B = 1 takes
// the GEMV path), then one fused SIMD pass over the gates: nonlinearities, state update, h stored
// to y and back to scratch. For B = 1 the GEMV reads all of w every step (G·H·(H+1)·4 bytes, 1 MiB
// for an LSTM at H = 256, just over a 1 MiB L2): the time loop is bound by that stream; the gate
// pass is ~10% of a GRU step at H = 256 (bench/rnn.ts).
//
// Why h lives in scratch rather than gemm reading the previous y row in place (lda = T·ldy): the
// extra copy is B·H stores per step against G·H·H multiply-adds, and it keeps one code path for
// step 0 (h0 given or zero) and for the h_prev the GRU update reads. Measured: dropping those stores
// changes GRU B=1 H=256 T=64 by < 1%, below run-to-run noise.
import { gemm_f32 } from "./gemm";
import { load_f32x4_partial, store_f32x4_partial } from "./vec";
import { sigmoid_f32x4, tanh_f32x4, relu_f32x4, madd } from "./math";
import { ACT_NONE } from "./act";

export const RNN_KIND_RNN: i32 = 0;
export const RNN_KIND_LSTM: i32 = 1;
export const RNN_KIND_GRU: i32 = 2;
export const RNN_TANH: i32 = 0;
export const RNN_RELU: i32 = 1;

/** Gates per kind: rnn 1, lstm 4, gru 3. Traps on an unknown kind. */
@inline function rnn_gates(kind: i32): i32 {
  if (kind == RNN_KIND_RNN) return 1;
  if (kind == RNN_KIND_LSTM) return 4;
  if (kind == RNN_KIND_GRU) return 3;
  unreachable();
  return 0;
}

@inline function round4(n: i32): i32 { return (n + 3) & ~3; }

/**
 * Floats of scratch the kind (0 rnn, 1 lstm, 2 gru) needs for batch B and hidden size H:
 * round4(B·G·H) gates + round4(B·H) h + (lstm) round4(B·H) c. Same formula as rnnScratchBytes
 * in compiler/codegen/rnn-abi.ts.
 */
export function rnn_scratch_floats(kind: i32, B: i32, H: i32): i32 {
  const bh = round4(B * H);
  return round4(B * rnn_gates(kind) * H) + bh + (kind == RNN_KIND_LSTM ? bh : 0);
}

/** dst[0..n) = src[0..n), or zeros when src is 0. */
function copy_or_zero(dst: usize, src: usize, n: i32): void {
  const end = dst + (<usize>n << 2);
  if (src) {
    for (; dst + 16 <= end; dst += 16, src += 16) v128.store(dst, v128.load(src));
    for (; dst < end; dst += 4, src += 4) store<f32>(dst, load<f32>(src));
  } else {
    const z = f32x4.splat(0);
    for (; dst + 16 <= end; dst += 16) v128.store(dst, z);
    for (; dst < end; dst += 4) store<f32>(dst, 0);
  }
}

// ---------------------------------------------------------------------------------------------
// Fused cells: n (1–4) hidden units starting at the given pointers. x and g point at the first
// gate of the unit in xp and in the gemm output; the other gates are hb, 2·hb, 3·hb bytes further
// (hb = H·4). With n = 4 (the constant the main loop passes) the partial paths fold away.

// @ts-ignore: decorator
@inline function rnn_cell(x: usize, g: usize, h: usize, y: usize, n: i32, relu: bool): void {
  const s = f32x4.add(load_f32x4_partial(x, n), load_f32x4_partial(g, n));
  const v = relu ? relu_f32x4(s) : tanh_f32x4(s);
  store_f32x4_partial(h, v, n);
  store_f32x4_partial(y, v, n);
}

// @ts-ignore: decorator
@inline function lstm_cell(x: usize, g: usize, hb: usize, c: usize, h: usize, y: usize, n: i32): void {
  const i = sigmoid_f32x4(f32x4.add(load_f32x4_partial(x, n), load_f32x4_partial(g, n)));
  const f = sigmoid_f32x4(f32x4.add(load_f32x4_partial(x + hb, n), load_f32x4_partial(g + hb, n)));
  const gg = tanh_f32x4(f32x4.add(load_f32x4_partial(x + 2 * hb, n), load_f32x4_partial(g + 2 * hb, n)));
  const o = sigmoid_f32x4(f32x4.add(load_f32x4_partial(x + 3 * hb, n), load_f32x4_partial(g + 3 * hb, n)));
  const cn = madd(f, load_f32x4_partial(c, n), f32x4.mul(i, gg));
  const hv = f32x4.mul(o, tanh_f32x4(cn));
  store_f32x4_partial(c, cn, n);
  store_f32x4_partial(h, hv, n);
  store_f32x4_partial(y, hv, n);
}

// @ts-ignore: decorator
@inline function gru_cell(x: usize, g: usize, hb: usize, h: usize, y: usize, n: i32): void {
  const r = sigmoid_f32x4(f32x4.add(load_f32x4_partial(x, n), load_f32x4_partial(g, n)));
  const z = sigmoid_f32x4(f32x4.add(load_f32x4_partial(x + hb, n), load_f32x4_partial(g + hb, n)));
  const nn = tanh_f32x4(madd(r, load_f32x4_partial(g + 2 * hb, n), load_f32x4_partial(x + 2 * hb, n)));
  const hv = madd(z, f32x4.sub(load_f32x4_partial(h, n), nn), nn);          // (1−z)·n + z·h = n + z·(h − n)
  store_f32x4_partial(h, hv, n);
  store_f32x4_partial(y, hv, n);
}

// ---------------------------------------------------------------------------------------------
// Time loops. Per step and batch row b the pointers are: x = xp row (b, t), g = gates row b,
// h = scratch h row b, y = y row (b, t).

/** Row (b, t) of a [B][T][ld] tensor at base. */
@inline function seq_row(base: usize, b: i32, T: i32, t: i32, ld: i32): usize {
  return base + ((<usize>b * <usize>T + <usize>t) * <usize>ld << 2);
}

/**
 * Elman RNN over the sequence: h_t = act(xp_t + h_{t−1}·W_hhᵀ + b_hh), act RNN_TANH (0) or
 * RNN_RELU (1). See the banner for the operands.
 */
export function rnn_seq_f32(xp: usize, w: usize, h0: usize, y: usize, hn: usize, scratch: usize,
                            B: i32, T: i32, H: i32, ldx: i32, ldy: i32, reverse: i32, act: i32): void {
  if (B <= 0 || T <= 0 || H <= 0) return;
  const gates = scratch;
  const h = gates + (<usize>round4(B * H) << 2);
  copy_or_zero(h, h0, B * H);
  const relu = act == RNN_RELU;
  const hb = <usize>H << 2;
  for (let s = 0; s < T; s++) {
    const t = reverse ? T - 1 - s : s;
    gemm_f32(h, H, w, gates, H, B, H, H, 0, ACT_NONE);
    for (let b = 0; b < B; b++) {
      const x = seq_row(xp, b, T, t, ldx), yr = seq_row(y, b, T, t, ldy);
      const g = gates + <usize>b * hb, hr = h + <usize>b * hb;
      let j: usize = 0;
      if (relu) {
        for (; j + 16 <= hb; j += 16) rnn_cell(x + j, g + j, hr + j, yr + j, 4, true);
        if (j < hb) rnn_cell(x + j, g + j, hr + j, yr + j, <i32>(hb - j) >> 2, true);
      } else {
        for (; j + 16 <= hb; j += 16) rnn_cell(x + j, g + j, hr + j, yr + j, 4, false);
        if (j < hb) rnn_cell(x + j, g + j, hr + j, yr + j, <i32>(hb - j) >> 2, false);
      }
    }
  }
  if (hn) copy_or_zero(hn, h, B * H);
}

/** LSTM over the sequence (gates i, f, g, o). See the banner for the operands. */
export function lstm_seq_f32(xp: usize, w: usize, h0: usize, c0: usize, y: usize, hn: usize, cn: usize,
                             scratch: usize, B: i32, T: i32, H: i32, ldx: i32, ldy: i32, reverse: i32): void {
  if (B <= 0 || T <= 0 || H <= 0) return;
  const G = 4;
  const gates = scratch;
  const h = gates + (<usize>round4(B * G * H) << 2);
  const c = h + (<usize>round4(B * H) << 2);
  copy_or_zero(h, h0, B * H);
  copy_or_zero(c, c0, B * H);
  const hb = <usize>H << 2;
  for (let s = 0; s < T; s++) {
    const t = reverse ? T - 1 - s : s;
    gemm_f32(h, H, w, gates, G * H, B, G * H, H, 0, ACT_NONE);
    for (let b = 0; b < B; b++) {
      const x = seq_row(xp, b, T, t, ldx), yr = seq_row(y, b, T, t, ldy);
      const g = gates + <usize>b * G * hb, hr = h + <usize>b * hb, cr = c + <usize>b * hb;
      let j: usize = 0;
      for (; j + 16 <= hb; j += 16) lstm_cell(x + j, g + j, hb, cr + j, hr + j, yr + j, 4);
      if (j < hb) lstm_cell(x + j, g + j, hb, cr + j, hr + j, yr + j, <i32>(hb - j) >> 2);
    }
  }
  if (hn) copy_or_zero(hn, h, B * H);
  if (cn) copy_or_zero(cn, c, B * H);
}

/** GRU over the sequence (gates r, z, n). See the banner for the operands. */
export function gru_seq_f32(xp: usize, w: usize, h0: usize, y: usize, hn: usize, scratch: usize,
                            B: i32, T: i32, H: i32, ldx: i32, ldy: i32, reverse: i32): void {
  if (B <= 0 || T <= 0 || H <= 0) return;
  const G = 3;
  const gates = scratch;
  const h = gates + (<usize>round4(B * G * H) << 2);
  copy_or_zero(h, h0, B * H);
  const hb = <usize>H << 2;
  for (let s = 0; s < T; s++) {
    const t = reverse ? T - 1 - s : s;
    gemm_f32(h, H, w, gates, G * H, B, G * H, H, 0, ACT_NONE);
    for (let b = 0; b < B; b++) {
      const x = seq_row(xp, b, T, t, ldx), yr = seq_row(y, b, T, t, ldy);
      const g = gates + <usize>b * G * hb, hr = h + <usize>b * hb;
      let j: usize = 0;
      for (; j + 16 <= hb; j += 16) gru_cell(x + j, g + j, hb, hr + j, yr + j, 4);
      if (j < hb) gru_cell(x + j, g + j, hb, hr + j, yr + j, <i32>(hb - j) >> 2);
    }
  }
  if (hn) copy_or_zero(hn, h, B * H);
}
