// 2-D max and average pooling over NCHW planes (PyTorch MaxPool2d / AvgPool2d, dilation 1).
// Shape legend: nc = batch·channels planes, each h × w in and oh × ow out; kh kw window, sh sw
// stride, ph pw padding. oh/ow come from the caller, so ceil_mode is expressed through them.
//   max: padding is −inf; NaN propagates (a window containing NaN yields NaN, as in PyTorch).
//   avg: divisor as PyTorch avg_pool2d: with countIncludePad the window clipped to the padded
//        bounds [−ph, h + ph) × [−pw, w + pw) (in ceil mode the last window can hang past them),
//        otherwise the number of real input elements under the window.
// Max uses pmax (a single maxps; wasm's NaN-propagating f32x4.max lowers to ~8 instructions in
// V8 and made 3x3/s1 max pooling 2x slower than average pooling) and ORs a NaN mask on the side.
// Vector path: 4 adjacent outputs per f32x4 when the stride is 1 (straight loads) or 2 (two loads
// and an even-lane shuffle) and the four windows lie inside the row; scalar elsewhere.

const MODE_MAX: i32 = 0;
const MODE_AVG_INCLUDE_PAD: i32 = 1;
const MODE_AVG_EXCLUDE_PAD: i32 = 2;

// @ts-ignore: decorator
@inline function pool_f32(x: usize, y: usize, nc: i32, h: i32, w: i32, kh: i32, kw: i32, sh: i32, sw: i32,
                          ph: i32, pw: i32, oh: i32, ow: i32, mode: i32): void {
  const isMax = mode == MODE_MAX;
  const init: f32 = isMax ? -Infinity : 0;
  const rowb = <usize>w << 2;
  const reach = kw + (sw == 1 ? 3 : 7);   // input columns a 4-wide vector step reads past ix0
  let xp = x, yp = y;
  for (let p = 0; p < nc; p++) {
    for (let oy = 0; oy < oh; oy++) {
      const hs = oy * sh - ph;
      const ys = max(hs, 0), ye = min(hs + kh, h);
      const rowsPadded = min(hs + kh, h + ph) - hs;
      const yrow = yp + (<usize>(oy * ow) << 2);
      let ox = 0;
      while (ox < ow) {
        const ix0 = ox * sw - pw;
        if (sw <= 2 && ox + 8 <= ow && ix0 >= 0 && ix0 + 4 * sw + reach <= w) {
          // 8 outputs: two independent accumulator chains (one chain is add/max-latency bound).
          let acc0 = f32x4.splat(init), acc1 = acc0;
          let nan0 = f32x4.splat(0), nan1 = nan0;
          for (let iy = ys; iy < ye; iy++) {
            const r = xp + <usize>iy * rowb + (<usize>ix0 << 2);
            for (let kx = 0; kx < kw; kx++) {
              const s = r + (<usize>kx << 2);
              let v0: v128, v1: v128;
              if (sw == 1) {
                v0 = v128.load(s); v1 = v128.load(s, 16);
              } else {
                v0 = i32x4.shuffle(v128.load(s), v128.load(s, 16), 0, 2, 4, 6);
                v1 = i32x4.shuffle(v128.load(s, 32), v128.load(s, 48), 0, 2, 4, 6);
              }
              if (isMax) {
                acc0 = f32x4.pmax(acc0, v0); acc1 = f32x4.pmax(acc1, v1);
                nan0 = v128.or(nan0, f32x4.ne(v0, v0)); nan1 = v128.or(nan1, f32x4.ne(v1, v1));
              } else {
                acc0 = f32x4.add(acc0, v0); acc1 = f32x4.add(acc1, v1);
              }
            }
          }
          if (isMax) {
            acc0 = v128.or(acc0, nan0); acc1 = v128.or(acc1, nan1);
          } else {
            const rows = mode == MODE_AVG_INCLUDE_PAD ? rowsPadded : ye - ys;
            const d = f32x4.splat(<f32>(rows * kw));
            acc0 = f32x4.div(acc0, d); acc1 = f32x4.div(acc1, d);
          }
          v128.store(yrow + (<usize>ox << 2), acc0);
          v128.store(yrow + (<usize>ox << 2), acc1, 16);
          ox += 8;
        } else if (sw <= 2 && ox + 4 <= ow && ix0 >= 0 && ix0 + reach <= w) {
          let acc = f32x4.splat(init);
          let nan = f32x4.splat(0);
          for (let iy = ys; iy < ye; iy++) {
            const r = xp + <usize>iy * rowb + (<usize>ix0 << 2);
            for (let kx = 0; kx < kw; kx++) {
              const s = r + (<usize>kx << 2);
              const v = sw == 1 ? v128.load(s) : i32x4.shuffle(v128.load(s), v128.load(s, 16), 0, 2, 4, 6);
              if (isMax) {
                acc = f32x4.pmax(acc, v);                   // one maxps; NaN tracked on the side
                nan = v128.or(nan, f32x4.ne(v, v));
              } else {
                acc = f32x4.add(acc, v);
              }
            }
          }
          if (isMax) {
            acc = v128.or(acc, nan);                        // all-ones lanes are NaN
          } else {
            const rows = mode == MODE_AVG_INCLUDE_PAD ? rowsPadded : ye - ys;
            acc = f32x4.div(acc, f32x4.splat(<f32>(rows * kw)));
          }
          v128.store(yrow + (<usize>ox << 2), acc);
          ox += 4;
        } else {
          const xs = max(ix0, 0), xe = min(ix0 + kw, w);
          let acc = init;
          for (let iy = ys; iy < ye; iy++) {
            const r = xp + <usize>iy * rowb;
            for (let ix = xs; ix < xe; ix++) {
              const v = load<f32>(r + (<usize>ix << 2));
              acc = isMax ? select<f32>(v, acc, v > acc || v != v) : acc + v;
            }
          }
          if (!isMax) {
            const div = mode == MODE_AVG_INCLUDE_PAD ? rowsPadded * (min(ix0 + kw, w + pw) - ix0) : (ye - ys) * (xe - xs);
            acc /= <f32>div;
          }
          store<f32>(yrow + (<usize>ox << 2), acc);
          ox++;
        }
      }
    }
    xp += <usize>h * rowb;
    yp += <usize>(oh * ow) << 2;
  }
}

/** y[p][oy][ox] = max over the window (−inf padding). x [nc][h][w], y [nc][oh][ow]. */
export function maxpool2d_f32(x: usize, y: usize, nc: i32, h: i32, w: i32, kh: i32, kw: i32, sh: i32, sw: i32,
                              ph: i32, pw: i32, oh: i32, ow: i32): void {
  pool_f32(x, y, nc, h, w, kh, kw, sh, sw, ph, pw, oh, ow, MODE_MAX);
}

/** y[p][oy][ox] = mean over the window; divisor per countIncludePad (PyTorch default 1). */
export function avgpool2d_f32(x: usize, y: usize, nc: i32, h: i32, w: i32, kh: i32, kw: i32, sh: i32, sw: i32,
                              ph: i32, pw: i32, oh: i32, ow: i32, countIncludePad: i32): void {
  if (countIncludePad) pool_f32(x, y, nc, h, w, kh, kw, sh, sw, ph, pw, oh, ow, MODE_AVG_INCLUDE_PAD);
  else pool_f32(x, y, nc, h, w, kh, kw, sh, sw, ph, pw, oh, ow, MODE_AVG_EXCLUDE_PAD);
}

/** The window cells j in [0, k) whose position p0 + j·dil lies in [0, n): [first, end). */
@inline function inside(p0: i32, k: i32, dil: i32, n: i32): i64 {
  const lo = p0 < 0 ? (dil - 1 - p0) / dil : 0, hi = min(k, (n - 1 - p0) / dil + 1);
  return (<i64>lo << 32) | <i64><u32>hi;
}

/**
 * A max pool with indices over up to 3 axes (a 1-D or 2-D pool passes size 1, kernel 1 for the
 * leading ones): x [nc][id][ih][iw] → y, yi [nc][od][oh][ow]. PyTorch's CPU loop: a cell inside
 * the input takes the window when larger than the best so far or NaN (first of ties, last NaN);
 * the best starts at −inf on the window's first cell inside the input. An index is
 * d·qd + h·qh + w·qw (the caller's plane strides). yi = 0: nothing reads the indices. The loop
 * visits only the window's cells inside the input and keeps the winner's offset in the plane,
 * turned into (d, h, w) once per output.
 */
export function maxpool_indices_f32(x: usize, y: usize, yi: usize, nc: i32, id: i32, ih: i32, iw: i32, od: i32, oh: i32, ow: i32,
                                    kd: i32, kh: i32, kw: i32, sd: i32, sh: i32, sw: i32, pd: i32, ph: i32, pw: i32,
                                    dd: i32, dh: i32, dw: i32, qd: i32, qh: i32, qw: i32): void {
  const hw = ih * iw, plane = <usize>id * hw;
  let out: usize = 0;
  for (let p = 0; p < nc; p++) {
    const xp = x + <usize>p * plane * 4;
    for (let a = 0; a < od; a++) {
      const d0 = a * sd - pd, rd = inside(d0, kd, dd, id), ilo = <i32>(rd >> 32), ihi = <i32>rd;
      for (let b = 0; b < oh; b++) {
        const h0 = b * sh - ph, rh = inside(h0, kh, dh, ih), jlo = <i32>(rh >> 32), jhi = <i32>rh;
        for (let c = 0; c < ow; c++) {
          const w0 = c * sw - pw, rw = inside(w0, kw, dw, iw), klo = <i32>(rw >> 32), khi = <i32>rw;
          const df = d0 + ilo * dd, hf = h0 + jlo * dh, wf = w0 + klo * dw;
          let best: f32 = -Infinity, at = df * qd + hf * qh + wf * qw;
          if (ilo < ihi && jlo < jhi && klo < khi) {
            let off = (df * ih + hf) * iw + wf;
            for (let i = ilo; i < ihi; i++) {
              for (let j = jlo; j < jhi; j++) {
                const base = ((d0 + i * dd) * ih + h0 + j * dh) * iw, row = xp + (<usize>base << 2);
                for (let k = klo; k < khi; k++) {
                  const wx = w0 + k * dw, v = load<f32>(row + (<usize>wx << 2));
                  if (v > best || v != v) { best = v; off = base + wx; }
                }
              }
            }
            const dz = off / hw, rest = off - dz * hw, hy = rest / iw;
            at = dz * qd + hy * qh + (rest - hy * iw) * qw;
          }
          store<f32>(y + (out << 2), best);
          if (yi) store<i32>(yi + (out << 2), at);
          out++;
        }
      }
    }
  }
}
