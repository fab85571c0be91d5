// Layer normalisation over the last axis (PyTorch LayerNorm(n), elementwise affine optional),
// optionally of a residual sum (the transformer "add & norm"):
//   s = x + residual (or x),  μ = mean(s),  σ² = mean((s − μ)²)   (biased),
//   y = (s − μ) / sqrt(σ² + eps) · gamma + beta
// Shapes: x, residual, y [rows][n] contiguous; gamma, beta [n], either may be 0 (identity).
// Two passes for the statistics (mean, then squared deviations: no cancellation, unlike
// E[s²] − μ²), one to write y. Everything is computed relative to the row's first element K:
// μ = K + δ and s − μ = (s − K) − δ, where s − K is exact for s near K (Sterbenz) and δ is small,
// so a row like 1000 + 0.01·noise keeps full accuracy; plain f32 (s − μ) would lose ~1% of the
// spread to the rounding of μ alone. With a residual the sum is written to y first and the later
// passes read y, so y may alias x or residual (in place). Where Σ (s − μ)² overflows f32, rstd is
// 1/sqrt(inf) = 0 and y = beta, as in torch (whose Welford sums give NaN instead for some such rows).
import { hsum_f32x4 } from "./vec";
import { part_lo } from "./threads";

// @ts-ignore: decorator
@inline function layernorm_row(src: usize, y: usize, n: i32, k: f32, delta: f32, rstd: f32, gamma: usize, beta: usize,
                               hasG: bool, hasB: bool): void {
  const vk = f32x4.splat(k), vd = f32x4.splat(delta), vr = f32x4.splat(rstd);
  let j = 0;
  for (; j + 4 <= n; j += 4) {
    const o = <usize>j << 2;
    let t = f32x4.mul(f32x4.sub(f32x4.sub(v128.load(src + o), vk), vd), vr);
    if (hasG) t = f32x4.mul(t, v128.load(gamma + o));
    if (hasB) t = f32x4.add(t, v128.load(beta + o));
    v128.store(y + o, t);
  }
  for (; j < n; j++) {
    const o = <usize>j << 2;
    let t = ((load<f32>(src + o) - k) - delta) * rstd;
    if (hasG) t *= load<f32>(gamma + o);
    if (hasB) t += load<f32>(beta + o);
    store<f32>(y + o, t);
  }
}

/** y = LayerNorm(x (+ residual)) row by row; see the banner. residual/gamma/beta: 0 for none. */
export function layernorm_f32(x: usize, gamma: usize, beta: usize, y: usize, rows: i32, n: i32, eps: f32,
                              residual: usize): void {
  if (rows <= 0 || n <= 0) return;
  const rowb = <usize>n << 2;
  const inv_n: f32 = <f32>1 / <f32>n;
  for (let r = 0; r < rows; r++) {
    const xr = x + <usize>r * rowb, yr = y + <usize>r * rowb;
    // Pass 1: Σ (s − K) (writing s = x + residual to y when there is a residual).
    const rr = residual + <usize>r * rowb;
    const k: f32 = residual ? load<f32>(xr) + load<f32>(rr) : load<f32>(xr);
    const vk = f32x4.splat(k);
    let s0 = f32x4.splat(0), s1 = s0;
    let j = 0;
    let src = xr;
    if (residual) {
      for (; j + 8 <= n; j += 8) {
        const o = <usize>j << 2;
        const a = f32x4.add(v128.load(xr + o), v128.load(rr + o));
        const b = f32x4.add(v128.load(xr + o, 16), v128.load(rr + o, 16));
        v128.store(yr + o, a); v128.store(yr + o, b, 16);
        s0 = f32x4.add(s0, f32x4.sub(a, vk)); s1 = f32x4.add(s1, f32x4.sub(b, vk));
      }
      src = yr;
    } else {
      for (; j + 8 <= n; j += 8) {
        const o = <usize>j << 2;
        s0 = f32x4.add(s0, f32x4.sub(v128.load(xr + o), vk)); s1 = f32x4.add(s1, f32x4.sub(v128.load(xr + o, 16), vk));
      }
    }
    let sum = hsum_f32x4(f32x4.add(s0, s1));
    for (; j < n; j++) {
      const o = <usize>j << 2;
      let v = load<f32>(xr + o);
      if (residual) { v += load<f32>(rr + o); store<f32>(yr + o, v); }
      sum += v - k;
    }
    const delta = sum * inv_n;                      // μ − K
    // Pass 2: Σ ((s − K) − δ)².
    const vd = f32x4.splat(delta);
    let q0 = f32x4.splat(0), q1 = q0;
    j = 0;
    for (; j + 8 <= n; j += 8) {
      const o = <usize>j << 2;
      const d0 = f32x4.sub(f32x4.sub(v128.load(src + o), vk), vd);
      const d1 = f32x4.sub(f32x4.sub(v128.load(src + o, 16), vk), vd);
      q0 = f32x4.add(q0, f32x4.mul(d0, d0)); q1 = f32x4.add(q1, f32x4.mul(d1, d1));
    }
    let ss = hsum_f32x4(f32x4.add(q0, q1));
    for (; j < n; j++) { const d = (load<f32>(src + (<usize>j << 2)) - k) - delta; ss += d * d; }
    const rstd: f32 = <f32>1 / Mathf.sqrt(ss * inv_n + eps);
    // Pass 3: normalise and apply the affine part.
    if (gamma) {
      if (beta) layernorm_row(src, yr, n, k, delta, rstd, gamma, beta, true, true);
      else layernorm_row(src, yr, n, k, delta, rstd, gamma, beta, true, false);
    } else {
      if (beta) layernorm_row(src, yr, n, k, delta, rstd, gamma, beta, false, true);
      else layernorm_row(src, yr, n, k, delta, rstd, gamma, beta, false, false);
    }
  }
}

/** Thread `tid`'s share of layernorm_f32 when `nt` threads split it: a contiguous range of rows, each computed as on one thread. */
export function layernorm_f32_part(x: usize, gamma: usize, beta: usize, y: usize, rows: i32, n: i32, eps: f32,
                                   residual: usize, tid: i32, nt: i32): void {
  const lo = part_lo(rows, tid, nt), hi = part_lo(rows, tid + 1, nt);
  const skip = <usize>lo * (<usize>max(n, 0) << 2);
  layernorm_f32(x + skip, gamma, beta, y + skip, hi - lo, n, eps, residual ? residual + skip : 0);
}
