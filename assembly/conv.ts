// 2-D convolution (NCHW, PyTorch Conv2d semantics with groups = 1) as im2col + packed GEMM.
//   y[b][co][oy][ox] = act( bias[co] + Σ_{ci,ky,kx} w[co][ci][ky][kx] ·
//                           x[b][ci][oy·sh − ph + ky·dh][ox·sw − pw + kx·dw] )   (0 outside x)
// Shape legend: n batch, c input channels, h × w (wi) input size, cout output channels,
// kh × kw kernel, sh sw stride, ph pw padding, dh dw dilation, oh × ow output size (the caller's:
// floor or ceil mode is decided when oh/ow are computed). K = c·kh·kw, N = oh·ow.
//
// im2col_packed_f32 writes the K × N im2col matrix straight into gemm's panel layout (8 columns
// per panel, zero bias header, zero past N), so one image is
//   gemm_f32(w, K, scratch, y, N, cout, N, K, bias, act)
// with the conv weight [cout][c][kh][kw] row-major as A (no weight packing needed) and the conv
// bias as gemm's rowBias. Scratch for one image: conv2d_scratch_bytes(c, kh, kw, oh, ow).
// Panels whose 8 output pixels lie in one output row take a vector path (stride 1: two loads;
// stride 2: four loads and two even-lane shuffles) when the 8 inputs are inside the row.
import { gemm_f32 } from "./gemm";

/** Bytes of scratch conv2d_f32 needs (one image's im2col matrix in panel layout). */
export function conv2d_scratch_bytes(c: i32, kh: i32, kw: i32, oh: i32, ow: i32): i32 {
  const kk = c * kh * kw, nn = oh * ow;
  return ((nn + 7) >> 3) * 8 * (kk + 1) * 4;
}

/** Writes im2col(x) for one image (x: [c][h][w]) into dst in gemm panel layout. */
export function im2col_packed_f32(x: usize, c: i32, h: i32, w: i32, kh: i32, kw: i32, sh: i32, sw: i32,
                                  ph: i32, pw: i32, dh: i32, dw: i32, oh: i32, ow: i32, dst: usize): void {
  im2col_panels_f32(x, c, h, w, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow, dst, 0, (oh * ow + 7) >> 3);
}

/** x[iy][ix] of one channel plane (rows rowb bytes apart), or 0 outside h × w. */
// @ts-ignore: decorator
@inline function tap(xc: usize, iy: i32, ix: i32, h: i32, w: i32, rowb: usize): f32 {
  return <u32>iy < <u32>h && <u32>ix < <u32>w ? load<f32>(xc + <usize>iy * rowb + (<usize>ix << 2)) : 0;
}

/** Panels [p0, p1) of im2col_packed_f32's output, each at its place in dst (touching no other panel). */
function im2col_panels_f32(x: usize, c: i32, h: i32, w: i32, kh: i32, kw: i32, sh: i32, sw: i32,
                           ph: i32, pw: i32, dh: i32, dw: i32, oh: i32, ow: i32, dst: usize, p0: i32, p1: i32): void {
  const nn = oh * ow;
  const zero = f32x4.splat(0);
  const plane = <usize>h * <usize>w << 2;
  const rowb = <usize>w << 2;
  let d = dst + <usize>p0 * (<usize>(c * kh * kw + 1) << 5);
  for (let j0 = p0 << 3; j0 < min(nn, p1 << 3); j0 += 8) {
    const cols = min(8, nn - j0);
    const oy0 = j0 / ow, ox0 = j0 - oy0 * ow;
    v128.store(d, zero); v128.store(d, zero, 16);
    d += 32;
    if (cols == 8 && ox0 + 8 <= ow) {
      // One output row: input row iy = oy0·sh − ph + ky·dh, columns ix0 + l·sw.
      const iyBase = oy0 * sh - ph, ixBase = ox0 * sw - pw;
      let xc = x;
      for (let ci = 0; ci < c; ci++) {
        for (let ky = 0; ky < kh; ky++) {
          const iy = iyBase + ky * dh;
          if (<u32>iy >= <u32>h) {
            for (let kx = 0; kx < kw; kx++) { v128.store(d, zero); v128.store(d, zero, 16); d += 32; }
            continue;
          }
          const xr = xc + <usize>iy * rowb;
          for (let kx = 0; kx < kw; kx++) {
            const ix0 = ixBase + kx * dw;
            if (sw == 1 && ix0 >= 0 && ix0 + 8 <= w) {
              const s = xr + (<usize>ix0 << 2);
              v128.store(d, v128.load(s)); v128.store(d, v128.load(s, 16), 16);
            } else if (sw == 2 && ix0 >= 0 && ix0 + 16 <= w) {
              const s = xr + (<usize>ix0 << 2);
              v128.store(d, i32x4.shuffle(v128.load(s), v128.load(s, 16), 0, 2, 4, 6));
              v128.store(d, i32x4.shuffle(v128.load(s, 32), v128.load(s, 48), 0, 2, 4, 6), 16);
            } else {
              for (let l = 0; l < 8; l++) {
                const ix = ix0 + l * sw;
                store<f32>(d + (<usize>l << 2), <u32>ix < <u32>w ? load<f32>(xr + (<usize>ix << 2)) : 0);
              }
            }
            d += 32;
          }
        }
        xc += plane;
      }
    } else {
      // Columns straddle output rows (or the last partial panel): per-column (top, left) input
      // corners in lanes (registers, not static memory: threads run this at the same time).
      // Columns past N get a corner far outside the image, so every tap reads as padding.
      let cy0 = i32x4.splat(-0x40000000), cy1 = cy0, cx0 = cy0, cx1 = cy0;
      for (let l = 0; l < cols; l++) {
        const j = j0 + l;
        const oy = j / ow, ox = j - oy * ow;
        const iy = oy * sh - ph, ix = ox * sw - pw;
        if (l == 0) { cy0 = i32x4.replace_lane(cy0, 0, iy); cx0 = i32x4.replace_lane(cx0, 0, ix); }
        else if (l == 1) { cy0 = i32x4.replace_lane(cy0, 1, iy); cx0 = i32x4.replace_lane(cx0, 1, ix); }
        else if (l == 2) { cy0 = i32x4.replace_lane(cy0, 2, iy); cx0 = i32x4.replace_lane(cx0, 2, ix); }
        else if (l == 3) { cy0 = i32x4.replace_lane(cy0, 3, iy); cx0 = i32x4.replace_lane(cx0, 3, ix); }
        else if (l == 4) { cy1 = i32x4.replace_lane(cy1, 0, iy); cx1 = i32x4.replace_lane(cx1, 0, ix); }
        else if (l == 5) { cy1 = i32x4.replace_lane(cy1, 1, iy); cx1 = i32x4.replace_lane(cx1, 1, ix); }
        else if (l == 6) { cy1 = i32x4.replace_lane(cy1, 2, iy); cx1 = i32x4.replace_lane(cx1, 2, ix); }
        else { cy1 = i32x4.replace_lane(cy1, 3, iy); cx1 = i32x4.replace_lane(cx1, 3, ix); }
      }
      let xc = x;
      for (let ci = 0; ci < c; ci++) {
        for (let ky = 0; ky < kh; ky++) {
          const y0 = i32x4.add(cy0, i32x4.splat(ky * dh)), y1 = i32x4.add(cy1, i32x4.splat(ky * dh));
          for (let kx = 0; kx < kw; kx++) {
            const x0 = i32x4.add(cx0, i32x4.splat(kx * dw)), x1 = i32x4.add(cx1, i32x4.splat(kx * dw));
            store<f32>(d, tap(xc, i32x4.extract_lane(y0, 0), i32x4.extract_lane(x0, 0), h, w, rowb));
            store<f32>(d, tap(xc, i32x4.extract_lane(y0, 1), i32x4.extract_lane(x0, 1), h, w, rowb), 4);
            store<f32>(d, tap(xc, i32x4.extract_lane(y0, 2), i32x4.extract_lane(x0, 2), h, w, rowb), 8);
            store<f32>(d, tap(xc, i32x4.extract_lane(y0, 3), i32x4.extract_lane(x0, 3), h, w, rowb), 12);
            store<f32>(d, tap(xc, i32x4.extract_lane(y1, 0), i32x4.extract_lane(x1, 0), h, w, rowb), 16);
            store<f32>(d, tap(xc, i32x4.extract_lane(y1, 1), i32x4.extract_lane(x1, 1), h, w, rowb), 20);
            store<f32>(d, tap(xc, i32x4.extract_lane(y1, 2), i32x4.extract_lane(x1, 2), h, w, rowb), 24);
            store<f32>(d, tap(xc, i32x4.extract_lane(y1, 3), i32x4.extract_lane(x1, 3), h, w, rowb), 28);
            d += 32;
          }
        }
        xc += plane;
      }
    }
  }
}

/**
 * Batched conv2d: for each image, im2col into scratch (conv2d_scratch_bytes) then one gemm.
 * x [n][c][h][wi], w [cout][c][kh][kw], bias [cout] or 0, y [n][cout][oh][ow].
 */
export function conv2d_f32(x: usize, w: usize, bias: usize, y: usize, scratch: usize,
                           n: i32, c: i32, h: i32, wi: i32, cout: i32, kh: i32, kw: i32,
                           sh: i32, sw: i32, ph: i32, pw: i32, dh: i32, dw: i32, oh: i32, ow: i32, act: i32): void {
  conv2d_f32_part(x, w, bias, y, scratch, n, c, h, wi, cout, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow, act, 0, 1);
}

/**
 * Thread tid's share of conv2d_f32 when nt threads split it by output pixels: a contiguous range
 * of the 8-pixel panels of every image, whose im2col panels it writes into its own part of the
 * shared scratch and multiplies by all filters, so the threads need no barrier between the two.
 * Every output is the same 4x8 tile sum as on one thread (bit-identical for any nt). With one
 * output channel gemm takes its GEMV path, whose panel pairing depends on the range, so thread 0
 * then does all of it.
 */
export function conv2d_f32_part(x: usize, w: usize, bias: usize, y: usize, scratch: usize,
                                n: i32, c: i32, h: i32, wi: i32, cout: i32, kh: i32, kw: i32,
                                sh: i32, sw: i32, ph: i32, pw: i32, dh: i32, dw: i32, oh: i32, ow: i32, act: i32,
                                tid: i32, nt: i32): void {
  const kk = c * kh * kw, nn = oh * ow;
  if (cout == 1) { if (tid != 0) return; nt = 1; }
  const panels = (nn + 7) >> 3;
  const p0 = <i32>(<i64>panels * tid / nt), p1 = <i32>(<i64>panels * (tid + 1) / nt);
  if (p1 <= p0) return;
  const j0 = p0 << 3, cols = min(nn, p1 << 3) - j0;
  const xImage = <usize>c * <usize>h * <usize>wi << 2;
  const yImage = <usize>cout * <usize>nn << 2;
  const panelsAt = scratch + <usize>p0 * (<usize>(kk + 1) << 5);
  for (let b = 0; b < n; b++) {
    im2col_panels_f32(x + <usize>b * xImage, c, h, wi, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow, scratch, p0, p1);
    gemm_f32(w, kk, panelsAt, y + <usize>b * yImage + (<usize>j0 << 2), nn, cout, cols, kk, bias, act);
  }
}
