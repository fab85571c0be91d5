// Reductions over the middle axis of an [outer][n][inner] tensor (PyTorch sum/mean/amax/argmax
// over one dim: n = that dim's size, outer/inner = products of the sizes before/after it):
//   reduce_sum_f32   y[o][i] = Σ_j x[o][j][i]
//   reduce_mean_f32  y[o][i] = Σ_j x[o][j][i] / n                   (n = 0 gives NaN, like torch)
//   reduce_max_f32   y[o][i] = max_j x[o][j][i]; NaN if any is NaN (−inf for n = 0)
//   argmax_f32       y[o][i] = first j of the max, as i32; a NaN counts as the max (torch rule)
// y is [outer][inner]. inner == 1 is the contiguous path (16 lanes of partial sums, summed
// pairwise at the end); inner > 1 vectorises across inner, 4 columns at a time, scalar for the rest.
// Sums accumulate in f32 in a different order than a plain loop: expect ~n·2^-24·Σ|x| error.

import { hsum_f32x4 } from "./vec";

const OP_SUM: i32 = 0;
const OP_MAX: i32 = 1;

/** Lane-wise max that keeps NaN: pmax plus a NaN mask OR-ed in (all-ones lanes are NaN). */
@inline function max_nan(m: v128, v: v128): v128 {
  return v128.or(f32x4.pmax(m, v), f32x4.ne(v, v));
}

@inline function scalar_max_nan(m: f32, v: f32): f32 { return v > m || v != v ? v : m; }

// @ts-ignore: decorator
@inline function reduce_any(x: usize, y: usize, outer: i32, n: i32, inner: i32, op: i32, scale: f32): void {
  if (outer <= 0 || inner <= 0) return;
  const isMax = op == OP_MAX;
  const init: f32 = isMax ? -Infinity : 0;
  if (inner == 1) {
    const rowb = <usize>max(n, 0) << 2;
    for (let o = 0; o < outer; o++) {
      const xr = x + <usize>o * rowb;
      let a0 = f32x4.splat(init), a1 = a0, a2 = a0, a3 = a0;
      let j = 0;
      for (; j + 16 <= n; j += 16) {
        const p = xr + (<usize>j << 2);
        if (isMax) {
          a0 = max_nan(a0, v128.load(p)); a1 = max_nan(a1, v128.load(p, 16));
          a2 = max_nan(a2, v128.load(p, 32)); a3 = max_nan(a3, v128.load(p, 48));
        } else {
          a0 = f32x4.add(a0, v128.load(p)); a1 = f32x4.add(a1, v128.load(p, 16));
          a2 = f32x4.add(a2, v128.load(p, 32)); a3 = f32x4.add(a3, v128.load(p, 48));
        }
      }
      for (; j + 4 <= n; j += 4) {
        const v = v128.load(xr + (<usize>j << 2));
        a0 = isMax ? max_nan(a0, v) : f32x4.add(a0, v);
      }
      let r: f32;
      if (isMax) {
        const m = max_nan(max_nan(a0, a1), max_nan(a2, a3));
        r = scalar_max_nan(scalar_max_nan(f32x4.extract_lane(m, 0), f32x4.extract_lane(m, 1)),
                           scalar_max_nan(f32x4.extract_lane(m, 2), f32x4.extract_lane(m, 3)));
        for (; j < n; j++) r = scalar_max_nan(r, load<f32>(xr + (<usize>j << 2)));
      } else {
        r = hsum_f32x4(f32x4.add(f32x4.add(a0, a1), f32x4.add(a2, a3)));
        for (; j < n; j++) r += load<f32>(xr + (<usize>j << 2));
        r *= scale;
      }
      store<f32>(y + (<usize>o << 2), r);
    }
    return;
  }
  const colb = <usize>inner << 2;
  const slab = <usize>max(n, 0) * colb;
  const vscale = f32x4.splat(scale);
  for (let o = 0; o < outer; o++) {
    const xs = x + <usize>o * slab, ys = y + <usize>o * colb;
    let i = 0;
    for (; i + 4 <= inner; i += 4) {
      const xc = xs + (<usize>i << 2);
      let a = f32x4.splat(init);
      for (let j = 0; j < n; j++) {
        const v = v128.load(xc + <usize>j * colb);
        a = isMax ? max_nan(a, v) : f32x4.add(a, v);
      }
      v128.store(ys + (<usize>i << 2), isMax ? a : f32x4.mul(a, vscale));
    }
    for (; i < inner; i++) {
      const xc = xs + (<usize>i << 2);
      let r = init;
      for (let j = 0; j < n; j++) {
        const v = load<f32>(xc + <usize>j * colb);
        r = isMax ? scalar_max_nan(r, v) : r + v;
      }
      store<f32>(ys + (<usize>i << 2), isMax ? r : r * scale);
    }
  }
}

/** y [outer][inner] = Σ over the middle axis of x [outer][n][inner]. */
export function reduce_sum_f32(x: usize, y: usize, outer: i32, n: i32, inner: i32): void {
  reduce_any(x, y, outer, n, inner, OP_SUM, 1);
}

/** y [outer][inner] = mean over the middle axis of x [outer][n][inner]. */
export function reduce_mean_f32(x: usize, y: usize, outer: i32, n: i32, inner: i32): void {
  reduce_any(x, y, outer, n, inner, OP_SUM, n > 0 ? <f32>1 / <f32>n : NaN);
}

/** y [outer][inner] = max over the middle axis of x [outer][n][inner] (NaN-propagating). */
export function reduce_max_f32(x: usize, y: usize, outer: i32, n: i32, inner: i32): void {
  reduce_any(x, y, outer, n, inner, OP_MAX, 1);
}

/** y (i32) [outer][inner] = index of the first max over the middle axis (first NaN if any). */
export function argmax_f32(x: usize, y: usize, outer: i32, n: i32, inner: i32): void {
  if (outer <= 0 || inner <= 0) return;
  if (inner == 1) {
    // Contiguous rows: SIMD max (NaN-propagating), then the first index holding it.
    reduce_any(x, y, outer, n, 1, OP_MAX, 1);
    const rowb = <usize>max(n, 0) << 2;
    for (let o = 0; o < outer; o++) {
      const xr = x + <usize>o * rowb;
      const m = load<f32>(y + (<usize>o << 2));
      let j = 0;
      if (m != m) { while (j < n && load<f32>(xr + (<usize>j << 2)) == load<f32>(xr + (<usize>j << 2))) j++; }
      else { while (j < n && load<f32>(xr + (<usize>j << 2)) != m) j++; }
      store<i32>(y + (<usize>o << 2), j < n ? j : 0);
    }
    return;
  }
  const colb = <usize>inner << 2;
  const slab = <usize>max(n, 0) * colb;
  for (let o = 0; o < outer; o++) {
    const xs = x + <usize>o * slab, ys = y + <usize>o * colb;
    let i = 0;
    // 4 columns at a time: best value and index per lane; replace when strictly greater, or when
    // the new value is NaN and the best is not (so the first NaN wins and stays).
    for (; i + 4 <= inner; i += 4) {
      const xc = xs + (<usize>i << 2);
      let best = f32x4.splat(-Infinity);
      let idx = i32x4.splat(0);
      for (let j = 0; j < n; j++) {
        const v = v128.load(xc + <usize>j * colb);
        const take = v128.or(f32x4.gt(v, best), v128.andnot(f32x4.ne(v, v), f32x4.ne(best, best)));
        best = v128.bitselect(v, best, take);
        idx = v128.bitselect(i32x4.splat(j), idx, take);
      }
      v128.store(ys + (<usize>i << 2), idx);
    }
    for (; i < inner; i++) {
      const xc = xs + (<usize>i << 2);
      let best: f32 = -Infinity;
      let bi = 0;
      for (let j = 0; j < n; j++) {
        const v = load<f32>(xc + <usize>j * colb);
        if (v > best || (v != v && best == best)) { best = v; bi = j; }
      }
      store<i32>(ys + (<usize>i << 2), bi);
    }
  }
}
