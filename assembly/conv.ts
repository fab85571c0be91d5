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

// Per-column (top, left) input corners of the current panel: iy0[8] then ix0[8].
const CORNERS: usize = memory.data(64, 16);

/** Bytes of scratch conv2d_f32 needs (one image's im2col matrix in panel layout). */
export function conv2d_scratch_bytes(c: i32, kh: i32, kw: i32, oh: i32, ow: i32): i32 {
  const kk = c * kh * kw, nn = oh * ow;
  return ((nn + 7) >> 3) * 8 * (kk + 1) * 4;
}

/** Writes im2col(x) for one image (x: [c][h][w]) into dst in gemm panel layout. */
export function im2col_packed_f32(x: usize, c: i32, h: i32, w: i32, kh: i32, kw: i32, sh: i32, sw: i32,
                                  ph: i32, pw: i32, dh: i32, dw: i32, oh: i32, ow: i32, dst: usize): void {
  const nn = oh * ow;
  const zero = f32x4.splat(0);
  const plane = <usize>h * <usize>w << 2;
  const rowb = <usize>w << 2;
  let d = dst;
  for (let j0 = 0; j0 < nn; j0 += 8) {
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
      // Columns straddle output rows (or the last partial panel): per-column corners.
      for (let l = 0; l < 8; l++) {
        const j = j0 + l;
        const oy = j / ow, ox = j - oy * ow;
        // Columns past N get a corner far outside the image, so every tap reads as padding.
        store<i32>(CORNERS + (<usize>l << 2), l < cols ? oy * sh - ph : -0x40000000);
        store<i32>(CORNERS + (<usize>l << 2), l < cols ? ox * sw - pw : -0x40000000, 32);
      }
      let xc = x;
      for (let ci = 0; ci < c; ci++) {
        for (let ky = 0; ky < kh; ky++) {
          for (let kx = 0; kx < kw; kx++) {
            for (let l = 0; l < 8; l++) {
              const iy = load<i32>(CORNERS + (<usize>l << 2)) + ky * dh;
              const ix = load<i32>(CORNERS + (<usize>l << 2), 32) + kx * dw;
              store<f32>(d + (<usize>l << 2), <u32>iy < <u32>h && <u32>ix < <u32>w
                ? load<f32>(xc + <usize>iy * rowb + (<usize>ix << 2)) : 0);
            }
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
  const kk = c * kh * kw, nn = oh * ow;
  const xImage = <usize>c * <usize>h * <usize>wi << 2;
  const yImage = <usize>cout * <usize>nn << 2;
  for (let b = 0; b < n; b++) {
    im2col_packed_f32(x + <usize>b * xImage, c, h, wi, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow, scratch);
    gemm_f32(w, kk, scratch, y + <usize>b * yImage, nn, cout, nn, kk, bias, act);
  }
}
