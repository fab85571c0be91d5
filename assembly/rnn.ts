// Recurrent layers over a whole sequence, one call per layer and direction, PyTorch semantics:
//   rnn   h = act(xp + hp)                                     act: RNN_TANH (0) or RNN_RELU (1)
//   lstm  i = σ(xi+hi) f = σ(xf+hf) g = tanh(xg+hg) o = σ(xo+ho);  c = f·c + i·g;  h = o·tanh(c)
//   gru   r = σ(xr+hr) z = σ(xz+hz) n = tanh(xn + r·hn);            h = (1−z)·n + z·h_prev
// where xp = x·W_ihᵀ + b_ih (projected by the caller for the whole sequence with one GEMM) and
// hp = h_prev·W_hhᵀ + b_hh (here, per step). hn includes b_hn: PyTorch's placement of the reset gate.
//
// Shape legend (pointers are byte addresses, strides in elements):
//   B batch, T time steps, H hidden size, G gates: rnn 1, lstm 4 (i f g o), gru 3 (r z n),
//   each gate H wide, in that order along the G·H axis. U = ⌈H/8⌉ unit blocks of 8 hidden units.
//   xp       [B][T][ldx ≥ G·H]  row (b, t) at xp + (b·T + t)·ldx·4
//   w        W_hhᵀ in gemm's panel layout with the columns in unit-block order
//            (packRecurrentWeights(W_hh, b_hh, G, H) in compiler/codegen/pack.ts): panel u·G + g
//            holds gate g of units 8u..8u+7 (units past H are zero), so the G panels of a unit
//            block are adjacent and a range of unit blocks is a range of panels
//   h0, c0   [B][H] initial state; 0 means zeros
//   y        [B][T][ldy ≥ H]    h_t of batch b at y + (b·T + t)·ldy·4; only H floats per row are
//            written, so two directions can share a [B][T][2H] buffer (reverse passes y + H·4)
//   hn, cn   [B][H] state after the last processed step (t = 0 when reversed); 0 means not written
//   scratch  rnn_scratch_floats(kind, B, H) floats, 16-byte aligned, each section rounded up to
//            4 floats: gates [B][U·G·8] (panel order) | h ping [B][H] | h pong [B][H] | c [B][H]
//            (lstm only). Step s reads h from ping (s even) or pong and writes the other.
// Inputs are never written.
//
// Per step: h [B][H] times w into the gates (B = 1: GEMV, panel p paired with p + half as in
// gemm_f32, so the weights are two long streams; B > 1: gemm_f32), then one fused SIMD pass over
// the gates: nonlinearities, state update, h stored to y and to the other h buffer. For B = 1 the
// GEMV reads all of w every step (G·H·(H+1)·4 bytes, 1 MiB for an LSTM at H = 256, just over a
// 1 MiB L2): the time loop is bound by that stream; the gate pass is ~10% of a GRU step at H = 256
// (bench/rnn.ts).
//
// Threads (rnn_begin_f32 / {rnn,lstm,gru}_step_f32 / rnn_end_f32 with sync, tid, nt): thread tid
// owns a contiguous range of unit blocks: its panels of w (about 1/nt of the weights, which then
// stay in its own L2 from step to step), its gates, its units of c and of each h buffer. The
// ranges start as equal shares and move a block at a time toward the faster threads (below).
// Every thread needs all of h of the previous step, so the caller puts one barrier after begin
// and after each step but the last; with two h buffers that is the only barrier a step needs (a
// thread writing step s + 1's h never overwrites what a slower thread still reads for step s). Each column's dot
// product is computed by the same instructions in the same order whatever the split (the GEMV's
// odd panel runs the paired kernel against itself), so any nt gives bit-identical results.
// Where a 2-thread step's time goes, and what was tried to cut it: docs/architecture.md (Threads).
import { gemm_f32, gemv_ukernel_1x16 } from "./gemm";
import { load_f32x4_partial, store_f32x4_partial, touch_lines } from "./vec";
import { sigmoid_f32x4, tanh_f32x4, relu_f32x4, madd } from "./math";
import { ACT_NONE } from "./act";
import { barrier_waited } from "./threads";

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

/** Unit blocks of 8 hidden units. */
@inline function unit_blocks(H: i32): i32 { return (H + 7) >> 3; }

/** First unit block of thread tid's share of U blocks among nt threads (contiguous, sizes differ by ≤ 1). */
@inline function share(U: i32, tid: i32, nt: i32): i32 { return <i32>(<i64>U * tid / nt); }

// The threads' ranges of unit blocks move with their speed. Fixed equal shares wait for the
// slowest thread at every step, and here one of two threads often runs its steps ~30% slower
// than the other for a whole run. Which one changes from process to process, pinned to either
// core (a guess: its half of W_hh falls on pages that crowd some sets of its L2). In such runs
// moving ranges made a 2-thread LSTM 6–11% faster, in evenly matched runs ~1% slower
// (interleaved, bench:against). So on even steps s ≥ 2 each boundary between two threads moves
// one block toward the thread that waited less at the barrier after step s − 2
// (rnn_next_boundary). The waits arrive one barrier late, so moves come every other step: step
// s − 2 ran on the current ranges. Every thread reads the same waits (barrier_waited), so all
// agree on the ranges without a word of their own. Each thread's range is per instance, so per
// thread. Results do not depend on the ranges (see above).
let RANGE_LO: i32 = 0;
let RANGE_HI: i32 = 0;
let RANGE_MOVES: i32 = 0;
/** A wait difference worth moving a block for, in barrier spins (~0.4 ns each here): ~0.4 µs; a block of an LSTM at H = 256 is ~0.5 µs of a step. */
const BALANCE_SPINS: i32 = 1024;

/** This thread's range of unit blocks in its last recurrent node and how often it moved: lo | hi << 10 | moves << 20 (for tests). */
export function rnn_thread_range(): i32 { return RANGE_LO | (RANGE_HI << 10) | (RANGE_MOVES << 20); }

/**
 * Where a boundary between two threads goes next, from `at`: one block down (the thread above
 * takes one) when the thread above waited more than BALANCE_SPINS longer than the one below
 * (it is the faster), one block up in the opposite case, else it stays; never more than `slack`
 * blocks from its equal-share place `home`. A slack of (U/nt − 1) >> 1 keeps every range at
 * least one block long however all boundaries move.
 */
export function rnn_next_boundary(below: i32, above: i32, home: i32, slack: i32, at: i32): i32 {
  if (above - below > BALANCE_SPINS && at > home - slack) return at - 1;
  if (below - above > BALANCE_SPINS && at < home + slack) return at + 1;
  return at;
}

/** Boundary b (thread b's first block of U among nt) after one balancing decision. */
function balanced(sync: usize, U: i32, b: i32, nt: i32, at: i32): i32 {
  const next = rnn_next_boundary(barrier_waited(sync, b - 1), barrier_waited(sync, b), share(U, b, nt), (U / nt - 1) >> 1, at);
  if (next != at) RANGE_MOVES++;
  return next;
}

/**
 * Floats of scratch the kind (0 rnn, 1 lstm, 2 gru) needs for batch B and hidden size H:
 * round4(B·U·G·8) gates + 2·round4(B·H) h + (lstm) round4(B·H) c. Same formula as
 * rnnScratchBytes in compiler/codegen/rnn-abi.ts.
 */
export function rnn_scratch_floats(kind: i32, B: i32, H: i32): i32 {
  const bh = round4(B * H);
  return round4(B * unit_blocks(H) * rnn_gates(kind) * 8) + 2 * bh + (kind == RNN_KIND_LSTM ? bh : 0);
}

/** The scratch sections: gates, h ping, h pong, c. */
@inline function gates_at(scratch: usize): usize { return scratch; }
@inline function h_at(scratch: usize, kind: i32, B: i32, H: i32, which: i32): usize {
  return scratch + ((<usize>round4(B * unit_blocks(H) * rnn_gates(kind) * 8) + <usize>which * <usize>round4(B * H)) << 2);
}
@inline function c_at(scratch: usize, kind: i32, B: i32, H: i32): usize { return h_at(scratch, kind, B, H, 2); }

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

/** Units [8·u0, min(H, 8·u1)) of every batch row: dst[b][·] = src[b][·] (or zeros when src is 0); rows H apart. */
function copy_units(dst: usize, src: usize, B: i32, H: i32, u0: i32, u1: i32): void {
  const j0 = u0 << 3, j1 = min(H, u1 << 3);
  if (j1 <= j0) return;
  for (let b = 0; b < B; b++) {
    const off = (<usize>b * <usize>H + <usize>j0) << 2;
    copy_or_zero(dst + off, src ? src + off : 0, j1 - j0);
  }
}

// ---------------------------------------------------------------------------------------------
// Fused cells: n (1–4) hidden units starting at the given pointers. x points at the unit's first
// gate in xp (the others xs, 2·xs, 3·xs bytes further: xs = H·4); g at its first gate in the
// gates row (panel order: the others 32, 64, 96 bytes further). hp is h_prev, h the new h.

// @ts-ignore: decorator
@inline function rnn_cell(x: usize, g: usize, h: usize, y: usize, n: i32, relu: bool): void {
  const s = f32x4.add(load_f32x4_partial(x, n), load_f32x4_partial(g, n));
  const v = relu ? relu_f32x4(s) : tanh_f32x4(s);
  store_f32x4_partial(h, v, n);
  store_f32x4_partial(y, v, n);
}

// @ts-ignore: decorator
@inline function lstm_cell(x: usize, xs: usize, g: usize, c: usize, h: usize, y: usize, n: i32): void {
  const i = sigmoid_f32x4(f32x4.add(load_f32x4_partial(x, n), load_f32x4_partial(g, n)));
  const f = sigmoid_f32x4(f32x4.add(load_f32x4_partial(x + xs, n), load_f32x4_partial(g + 32, n)));
  const gg = tanh_f32x4(f32x4.add(load_f32x4_partial(x + 2 * xs, n), load_f32x4_partial(g + 64, n)));
  const o = sigmoid_f32x4(f32x4.add(load_f32x4_partial(x + 3 * xs, n), load_f32x4_partial(g + 96, n)));
  const cn = madd(f, load_f32x4_partial(c, n), f32x4.mul(i, gg));
  const hv = f32x4.mul(o, tanh_f32x4(cn));
  store_f32x4_partial(c, cn, n);
  store_f32x4_partial(h, hv, n);
  store_f32x4_partial(y, hv, n);
}

// @ts-ignore: decorator
@inline function gru_cell(x: usize, xs: usize, g: usize, hp: usize, h: usize, y: usize, n: i32): void {
  const r = sigmoid_f32x4(f32x4.add(load_f32x4_partial(x, n), load_f32x4_partial(g, n)));
  const z = sigmoid_f32x4(f32x4.add(load_f32x4_partial(x + xs, n), load_f32x4_partial(g + 32, n)));
  const nn = tanh_f32x4(madd(r, load_f32x4_partial(g + 64, n), load_f32x4_partial(x + 2 * xs, n)));
  const hv = madd(z, f32x4.sub(load_f32x4_partial(hp, n), nn), nn);          // (1−z)·n + z·h = n + z·(h − n)
  store_f32x4_partial(h, hv, n);
  store_f32x4_partial(y, hv, n);
}

/** The cells of n units of one kind (x, g, c, hp, h, y at the first unit; see the cells above). */
// @ts-ignore: decorator
@inline function cells(kind: i32, relu: bool, x: usize, xs: usize, g: usize, c: usize, hp: usize, h: usize, y: usize, n: i32): void {
  if (kind == RNN_KIND_LSTM) lstm_cell(x, xs, g, c, h, y, n);
  else if (kind == RNN_KIND_GRU) gru_cell(x, xs, g, hp, h, y, n);
  else if (relu) rnn_cell(x, g, h, y, n, true);
  else rnn_cell(x, g, h, y, n, false);
}

// ---------------------------------------------------------------------------------------------

/** Row (b, t) of a [B][T][ld] tensor at base. */
@inline function seq_row(base: usize, b: i32, T: i32, t: i32, ld: i32): usize {
  return base + ((<usize>b * <usize>T + <usize>t) * <usize>ld << 2);
}

/**
 * y[q0·8 .. q1·8) = x · panels [q0, q1) of w (depth k, bias included): panel p with panel p + half,
 * an odd last panel paired with itself (same instructions, stored twice), so every column's sum
 * is computed the same way whatever range it is part of.
 */
function gemv_panels(x: usize, w: usize, y: usize, k: i32, q0: i32, q1: i32): void {
  const pb = <usize>(k + 1) << 5;
  const h = (q1 - q0) >> 1;
  const hb = <usize>h * pb;
  let wp = w + <usize>q0 * pb, yp = y + (<usize>q0 << 5);
  for (let p = 0; p < h; p++) {
    gemv_ukernel_1x16(x, wp, hb, yp, yp + (<usize>h << 5), 8, k, 0, ACT_NONE);
    wp += pb;
    yp += 32;
  }
  if ((q1 - q0) & 1) {
    const q = q1 - 1;
    const yq = y + (<usize>q << 5);
    gemv_ukernel_1x16(x, w + <usize>q * pb, 0, yq, yq, 8, k, 0, ACT_NONE);
  }
}

/**
 * Thread tid of nt (one thread: 0, 1): its units of h0 and c0 (zeros when 0) into the scratch
 * state. Then a barrier before the first step.
 */
export function rnn_begin_f32(kind: i32, h0: usize, c0: usize, scratch: usize, B: i32, H: i32, sync: usize, tid: i32, nt: i32): void {
  if (B <= 0 || H <= 0) return;
  const U = unit_blocks(H), u0 = share(U, tid, nt), u1 = share(U, tid + 1, nt);
  RANGE_LO = u0;
  RANGE_HI = u1;
  RANGE_MOVES = 0;
  copy_units(h_at(scratch, kind, B, H, 0), h0, B, H, u0, u1);
  if (kind == RNN_KIND_LSTM) copy_units(c_at(scratch, kind, B, H), c0, B, H, u0, u1);
}

/**
 * Time step s (0..T−1; t = T−1−s when reversed) of thread tid of nt: its gate panels, then its
 * units of y, c and the next h. act: RNN_TANH or RNN_RELU (rnn only). A barrier must separate
 * two steps (see the banner). Inlined into one exported step per kind, so the kind is a constant
 * there and an artifact links only its own kind's cells.
 */
// @ts-ignore: decorator
@inline function step(kind: i32, act: i32, xp: usize, w: usize, y: usize, scratch: usize,
                      B: i32, T: i32, H: i32, ldx: i32, ldy: i32, reverse: i32, s: i32, sync: usize, tid: i32, nt: i32): void {
  if (B <= 0 || T <= 0 || H <= 0) return;
  const G = rnn_gates(kind), U = unit_blocks(H);
  let u0 = share(U, tid, nt), u1 = share(U, tid + 1, nt);
  // The ranges move on a real call on several threads, not on one thread or a test's slices (sync 0).
  const balance = ASC_FEATURE_THREADS && sync != 0 && nt > 1;
  if (balance) {
    if (s >= 2 && !(s & 1)) {
      if (tid > 0) RANGE_LO = balanced(sync, U, tid, nt, RANGE_LO);
      if (tid < nt - 1) RANGE_HI = balanced(sync, U, tid + 1, nt, RANGE_HI);
    }
    u0 = RANGE_LO;
    u1 = RANGE_HI;
  }
  if (u1 <= u0) return;
  const t = reverse ? T - 1 - s : s;
  const hp = h_at(scratch, kind, B, H, s & 1), hnext = h_at(scratch, kind, B, H, (s & 1) ^ 1);
  const c = c_at(scratch, kind, B, H);
  const gates = gates_at(scratch);
  const ldg = U * G * 8;
  const q0 = u0 * G, q1 = u1 * G;
  // The h of the step before, half of it just written by the other core, is read first by the
  // GEMV's k loop, a line every ~30 cycles, so only a few of the other core's lines would be on
  // their way at once: fetch them all first (vec.ts). With the two vCPUs far apart (a barrier
  // 0.5 µs), 2-thread LSTM 0.960–0.986× the time (five interleaved runs of 20–40 rounds,
  // 2026-12-03); one thread never does it. Taking this thread's lines of the next h and of y for
  // writing here as well (a store of 0 to each, overwritten by the cells) added nothing: 0.998×.
  if (balance) touch_lines(hp, B * H);
  if (B == 1) gemv_panels(hp, w, gates, H, q0, q1);
  else gemm_f32(hp, H, w + <usize>q0 * (<usize>(H + 1) << 5), gates + (<usize>q0 << 5), ldg, B, (q1 - q0) << 3, H, 0, ACT_NONE);
  const xs = <usize>H << 2, gs = <usize>G << 5;
  const relu = act == RNN_RELU;
  const j1 = min(H, u1 << 3);
  for (let b = 0; b < B; b++) {
    const x = seq_row(xp, b, T, t, ldx), yr = seq_row(y, b, T, t, ldy);
    const row = <usize>b * xs;
    // Unit j's gates: block j >> 3 (G panels of 32 bytes), lane j & 7; units j..j+3 (j % 4 = 0) are adjacent.
    let g = gates + <usize>b * (<usize>ldg << 2) + <usize>q0 * 32;
    for (let j = u0 << 3; j < j1; j += 8) {
      const o = <usize>j << 2;
      if (j + 8 <= H) {
        // A whole block: n = 4 is a constant here, so the cells' partial loads and stores fold
        // away (a variable n kept them: LSTM 16%, GRU 24% slower on one thread at H = 256).
        for (let half: usize = 0; half < 32; half += 16) {
          cells(kind, relu, x + o + half, xs, g + half, c + row + o + half, hp + row + o + half, hnext + row + o + half, yr + o + half, 4);
        }
      } else {
        for (let half = 0; half < 8 && j + half < H; half += 4) {
          const oh = o + (<usize>half << 2);
          cells(kind, relu, x + oh, xs, g + (<usize>half << 2), c + row + oh, hp + row + oh, hnext + row + oh, yr + oh, min(4, H - j - half));
        }
      }
      g += gs;
    }
  }
}

/** Step s of an LSTM layer (see step). */
export function lstm_step_f32(xp: usize, w: usize, y: usize, scratch: usize,
                              B: i32, T: i32, H: i32, ldx: i32, ldy: i32, reverse: i32, s: i32, sync: usize, tid: i32, nt: i32): void {
  step(RNN_KIND_LSTM, RNN_TANH, xp, w, y, scratch, B, T, H, ldx, ldy, reverse, s, sync, tid, nt);
}

/** Step s of a GRU layer (see step). */
export function gru_step_f32(xp: usize, w: usize, y: usize, scratch: usize,
                             B: i32, T: i32, H: i32, ldx: i32, ldy: i32, reverse: i32, s: i32, sync: usize, tid: i32, nt: i32): void {
  step(RNN_KIND_GRU, RNN_TANH, xp, w, y, scratch, B, T, H, ldx, ldy, reverse, s, sync, tid, nt);
}

/** Step s of an Elman RNN layer, act RNN_TANH or RNN_RELU (see step). */
export function rnn_step_f32(act: i32, xp: usize, w: usize, y: usize, scratch: usize,
                             B: i32, T: i32, H: i32, ldx: i32, ldy: i32, reverse: i32, s: i32, sync: usize, tid: i32, nt: i32): void {
  step(RNN_KIND_RNN, act, xp, w, y, scratch, B, T, H, ldx, ldy, reverse, s, sync, tid, nt);
}

/** Thread tid of nt, after the last step: its units of the final h and c into hn, cn (each 0: not written). */
export function rnn_end_f32(kind: i32, hn: usize, cn: usize, scratch: usize, B: i32, T: i32, H: i32, sync: usize, tid: i32, nt: i32): void {
  if (B <= 0 || T <= 0 || H <= 0) return;
  // The last step's ranges: each thread copies the units it wrote itself, so no barrier comes first.
  const balance = ASC_FEATURE_THREADS && sync != 0 && nt > 1;
  const U = unit_blocks(H), u0 = balance ? RANGE_LO : share(U, tid, nt), u1 = balance ? RANGE_HI : share(U, tid + 1, nt);
  if (hn) copy_units(hn, h_at(scratch, kind, B, H, T & 1), B, H, u0, u1);
  if (cn && kind == RNN_KIND_LSTM) copy_units(cn, c_at(scratch, kind, B, H), B, H, u0, u1);
}

/** The whole sequence on one thread. */
// @ts-ignore: decorator
@inline function seq_f32(kind: i32, act: i32, xp: usize, w: usize, h0: usize, c0: usize, y: usize, hn: usize, cn: usize,
                         scratch: usize, B: i32, T: i32, H: i32, ldx: i32, ldy: i32, reverse: i32): void {
  if (B <= 0 || T <= 0 || H <= 0) return;
  rnn_begin_f32(kind, h0, c0, scratch, B, H, 0, 0, 1);
  for (let s = 0; s < T; s++) {
    if (kind == RNN_KIND_LSTM) lstm_step_f32(xp, w, y, scratch, B, T, H, ldx, ldy, reverse, s, 0, 0, 1);
    else if (kind == RNN_KIND_GRU) gru_step_f32(xp, w, y, scratch, B, T, H, ldx, ldy, reverse, s, 0, 0, 1);
    else rnn_step_f32(act, xp, w, y, scratch, B, T, H, ldx, ldy, reverse, s, 0, 0, 1);
  }
  rnn_end_f32(kind, hn, cn, scratch, B, T, H, 0, 0, 1);
}

/**
 * Elman RNN over the sequence: h_t = act(xp_t + h_{t−1}·W_hhᵀ + b_hh), act RNN_TANH (0) or
 * RNN_RELU (1). See the banner for the operands.
 */
export function rnn_seq_f32(xp: usize, w: usize, h0: usize, y: usize, hn: usize, scratch: usize,
                            B: i32, T: i32, H: i32, ldx: i32, ldy: i32, reverse: i32, act: i32): void {
  seq_f32(RNN_KIND_RNN, act, xp, w, h0, 0, y, hn, 0, scratch, B, T, H, ldx, ldy, reverse);
}

/** LSTM over the sequence (gates i, f, g, o). See the banner for the operands. */
export function lstm_seq_f32(xp: usize, w: usize, h0: usize, c0: usize, y: usize, hn: usize, cn: usize,
                             scratch: usize, B: i32, T: i32, H: i32, ldx: i32, ldy: i32, reverse: i32): void {
  seq_f32(RNN_KIND_LSTM, RNN_TANH, xp, w, h0, c0, y, hn, cn, scratch, B, T, H, ldx, ldy, reverse);
}

/** GRU over the sequence (gates r, z, n). See the banner for the operands. */
export function gru_seq_f32(xp: usize, w: usize, h0: usize, y: usize, hn: usize, scratch: usize,
                            B: i32, T: i32, H: i32, ldx: i32, ldy: i32, reverse: i32): void {
  seq_f32(RNN_KIND_GRU, RNN_TANH, xp, w, h0, 0, y, hn, 0, scratch, B, T, H, ldx, ldy, reverse);
}
