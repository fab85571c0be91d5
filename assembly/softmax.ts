// Softmax and log-softmax over the middle axis of an [outer][n][inner] tensor (PyTorch
// softmax(x, dim) with dim's size n, outer = product of the sizes before it, inner = after it):
//   y[o][j][i] = e^(x[o][j][i] − m) / Σ_j' e^(x[o][j'][i] − m),   m = max_j x[o][j][i]
//   log-softmax: y = (x − m) − log Σ_j' e^(x[o][j'][i] − m)   (in that order: exact x − m first)
// inner == 1 (the last axis) is the fast contiguous path: max, then exp + sum (writing y), then
// scale by 1/sum. inner > 1 vectorises across inner, 4 columns at a time, scalar for the rest.
// y == x (in place) is allowed: every pass reads an element before, or only, writing it.
// A row containing NaN gives NaN everywhere (through the sum); an all −inf row gives NaN, as in
// PyTorch.
import { exp_nonpos_f32x4, exp_nonpos_f32 } from "./math";
import { hmax_f32x4, hsum_f32x4 } from "./vec";

/** Max of n contiguous floats (NaNs ignored: they poison the exp sum anyway). */
@inline function row_max(x: usize, n: i32): f32 {
  let m0 = f32x4.splat(-Infinity), m1 = m0;
  let j = 0;
  for (; j + 8 <= n; j += 8) {
    const p = x + (<usize>j << 2);
    m0 = f32x4.pmax(m0, v128.load(p)); m1 = f32x4.pmax(m1, v128.load(p, 16));
  }
  let m = hmax_f32x4(f32x4.pmax(m0, m1));
  for (; j < n; j++) { const v = load<f32>(x + (<usize>j << 2)); m = v > m ? v : m; }
  return m;
}

/** Σ e^(x − m) over n contiguous floats, also stored to y when `write`. */
// @ts-ignore: decorator
@inline function row_exp_sum(x: usize, y: usize, n: i32, m: f32, write: bool): f32 {
  const vm = f32x4.splat(m);
  let s0 = f32x4.splat(0), s1 = s0;
  let j = 0;
  for (; j + 8 <= n; j += 8) {
    const o = <usize>j << 2;
    const e0 = exp_nonpos_f32x4(f32x4.sub(v128.load(x + o), vm));
    const e1 = exp_nonpos_f32x4(f32x4.sub(v128.load(x + o, 16), vm));
    if (write) { v128.store(y + o, e0); v128.store(y + o, e1, 16); }
    s0 = f32x4.add(s0, e0); s1 = f32x4.add(s1, e1);
  }
  let s = hsum_f32x4(f32x4.add(s0, s1));
  for (; j < n; j++) {
    const o = <usize>j << 2;
    const e = exp_nonpos_f32(load<f32>(x + o) - m);
    if (write) store<f32>(y + o, e);
    s += e;
  }
  return s;
}

/** y[0..n) *= r (contiguous). */
@inline function row_scale(y: usize, n: i32, r: f32): void {
  const vr = f32x4.splat(r);
  let j = 0;
  for (; j + 4 <= n; j += 4) { const p = y + (<usize>j << 2); v128.store(p, f32x4.mul(v128.load(p), vr)); }
  for (; j < n; j++) { const p = y + (<usize>j << 2); store<f32>(p, load<f32>(p) * r); }
}

/** y[0..n) = (x[0..n) − m) − l (contiguous). Not x − (m + l): m + l would round to ulp(m). */
@inline function row_sub2(x: usize, y: usize, n: i32, m: f32, l: f32): void {
  const vm = f32x4.splat(m), vl = f32x4.splat(l);
  let j = 0;
  for (; j + 4 <= n; j += 4) { const o = <usize>j << 2; v128.store(y + o, f32x4.sub(f32x4.sub(v128.load(x + o), vm), vl)); }
  for (; j < n; j++) { const o = <usize>j << 2; store<f32>(y + o, (load<f32>(x + o) - m) - l); }
}

// @ts-ignore: decorator
@inline function softmax_any(x: usize, y: usize, outer: i32, n: i32, inner: i32, log: bool): void {
  if (outer <= 0 || n <= 0 || inner <= 0) return;
  if (inner == 1) {
    const rowb = <usize>n << 2;
    for (let o = 0; o < outer; o++) {
      const xr = x + <usize>o * rowb, yr = y + <usize>o * rowb;
      const m = row_max(xr, n);
      if (log) {
        row_sub2(xr, yr, n, m, Mathf.log(row_exp_sum(xr, yr, n, m, false)));
      } else {
        row_scale(yr, n, 1 / row_exp_sum(xr, yr, n, m, true));
      }
    }
    return;
  }
  // [n][inner] slabs: 4 columns of inner per vector, stepping by the row stride inner.
  const colb = <usize>inner << 2;
  const slab = <usize>n * colb;
  for (let o = 0; o < outer; o++) {
    const xs = x + <usize>o * slab, ys = y + <usize>o * slab;
    let i = 0;
    for (; i + 4 <= inner; i += 4) {
      const xc = xs + (<usize>i << 2), yc = ys + (<usize>i << 2);
      let vm = f32x4.splat(-Infinity);
      for (let j = 0; j < n; j++) vm = f32x4.pmax(vm, v128.load(xc + <usize>j * colb));
      let vs = f32x4.splat(0);
      for (let j = 0; j < n; j++) {
        const o2 = <usize>j * colb;
        const e = exp_nonpos_f32x4(f32x4.sub(v128.load(xc + o2), vm));
        if (!log) v128.store(yc + o2, e);
        vs = f32x4.add(vs, e);
      }
      if (log) {
        const ls = f32x4(
          Mathf.log(f32x4.extract_lane(vs, 0)), Mathf.log(f32x4.extract_lane(vs, 1)),
          Mathf.log(f32x4.extract_lane(vs, 2)), Mathf.log(f32x4.extract_lane(vs, 3)));
        for (let j = 0; j < n; j++) {
          const o2 = <usize>j * colb;
          v128.store(yc + o2, f32x4.sub(f32x4.sub(v128.load(xc + o2), vm), ls));
        }
      } else {
        const r = f32x4.div(f32x4.splat(1), vs);
        for (let j = 0; j < n; j++) {
          const o2 = <usize>j * colb;
          v128.store(yc + o2, f32x4.mul(v128.load(yc + o2), r));
        }
      }
    }
    for (; i < inner; i++) {
      const xc = xs + (<usize>i << 2), yc = ys + (<usize>i << 2);
      let m: f32 = -Infinity;
      for (let j = 0; j < n; j++) { const v = load<f32>(xc + <usize>j * colb); m = v > m ? v : m; }
      let s: f32 = 0;
      for (let j = 0; j < n; j++) {
        const o2 = <usize>j * colb;
        const e = exp_nonpos_f32(load<f32>(xc + o2) - m);
        if (!log) store<f32>(yc + o2, e);
        s += e;
      }
      if (log) {
        const ls = Mathf.log(s);
        for (let j = 0; j < n; j++) { const o2 = <usize>j * colb; store<f32>(yc + o2, (load<f32>(xc + o2) - m) - ls); }
      } else {
        const r: f32 = 1 / s;
        for (let j = 0; j < n; j++) { const o2 = <usize>j * colb; store<f32>(yc + o2, load<f32>(yc + o2) * r); }
      }
    }
  }
}

/** softmax over the middle axis of x [outer][n][inner] into y (may equal x). */
export function softmax_f32(x: usize, y: usize, outer: i32, n: i32, inner: i32): void {
  softmax_any(x, y, outer, n, inner, false);
}

/** log-softmax over the middle axis of x [outer][n][inner] into y (may equal x). */
export function logsoftmax_f32(x: usize, y: usize, outer: i32, n: i32, inner: i32): void {
  softmax_any(x, y, outer, n, inner, true);
}
