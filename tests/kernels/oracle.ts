// Plain-loop f64 references for every kernel in assembly/: the oracle the SIMD kernels are tested
// against. Written for obviousness, not speed. Shape legend:
//   m, n, k    GEMM rows of A/C, columns of B/C, depth;  A [m][k], B [k][n], C [m][n]
//   outer, n, inner   a tensor viewed as [outer][n][inner], reducing/normalising the middle axis
//   N C H W    batch, channels, height, width (NCHW); kh kw kernel, sh sw stride, ph pw padding,
//              dh dw dilation, oh ow output size

export const ACT = { none: 0, relu: 1, sigmoid: 2, tanh: 3, gelu: 4 } as const;

/** erf in f64: 2/√π·e^{−z²}·Σ 2^n z^{2n+1}/(2n+1)!! (all terms positive), ±1 beyond |z| = 6. */
export function erf(z: number): number {
  if (Number.isNaN(z)) return NaN;
  const a = Math.abs(z);
  if (a > 6) return Math.sign(z);
  let term = a, sum = a;
  for (let n = 1; n < 500; n++) {
    term *= 2 * a * a / (2 * n + 1);
    sum += term;
    if (term < 1e-17 * sum) break;
  }
  return Math.sign(z) * 2 / Math.sqrt(Math.PI) * Math.exp(-a * a) * sum;
}

export function sigmoid(x: number): number { return x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x)); }
export function gelu(x: number): number { return 0.5 * x * (1 + erf(x / Math.SQRT2)); }

export function act(x: number, code: number): number {
  switch (code) {
    case ACT.relu: return Number.isNaN(x) ? x : Math.max(x, 0);
    case ACT.sigmoid: return sigmoid(x);
    case ACT.tanh: return Math.tanh(x);
    case ACT.gelu: return gelu(x);
    default: return x;
  }
}

/**
 * C[i][j] = act(Σ A[i][kk]·B[kk][j] + colBias[j] + rowBias[i]). Returns the values and, per element,
 * the error scale Σ|A·B| + |biases| (what f32 rounding error is proportional to).
 */
export function gemm(a: Float32Array, lda: number, b: Float32Array, ldb: number, m: number, n: number, k: number,
                     colBias?: Float32Array, rowBias?: Float32Array, code = 0): { c: Float64Array; scale: Float64Array } {
  const c = new Float64Array(m * n), scale = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = (colBias ? colBias[j]! : 0) + (rowBias ? rowBias[i]! : 0);
      let mag = Math.abs(colBias ? colBias[j]! : 0) + Math.abs(rowBias ? rowBias[i]! : 0);
      for (let kk = 0; kk < k; kk++) {
        const p = a[i * lda + kk]! * b[kk * ldb + j]!;
        s += p;
        mag += Math.abs(p);
      }
      c[i * n + j] = act(s, code);
      scale[i * n + j] = mag;
    }
  }
  return { c, scale };
}

/** C = alpha·A·B (B [k][n], stride ldb) or alpha·A·Bᵀ (B [n][k], stride ldb); also Σ|terms|·|alpha|. */
export function matmul(a: Float32Array, b: Float32Array, m: number, n: number, k: number, lda: number, ldb: number,
                       transB: boolean, alpha: number): { c: Float64Array; scale: Float64Array } {
  const c = new Float64Array(m * n), scale = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0, mag = 0;
      for (let kk = 0; kk < k; kk++) {
        const p = a[i * lda + kk]! * (transB ? b[j * ldb + kk]! : b[kk * ldb + j]!);
        s += p;
        mag += Math.abs(p);
      }
      c[i * n + j] = alpha * s;
      scale[i * n + j] = Math.abs(alpha) * mag;
    }
  }
  return { c, scale };
}

export interface ConvShape { n: number; c: number; h: number; w: number; cout: number; kh: number; kw: number;
  sh: number; sw: number; ph: number; pw: number; dh: number; dw: number }

/** PyTorch output size (floor mode). */
export function convOut(s: ConvShape): { oh: number; ow: number } {
  return { oh: Math.floor((s.h + 2 * s.ph - s.dh * (s.kh - 1) - 1) / s.sh) + 1,
           ow: Math.floor((s.w + 2 * s.pw - s.dw * (s.kw - 1) - 1) / s.sw) + 1 };
}

/** im2col of image 0 as a dense [K][N] matrix, K = c·kh·kw rows (ci, ky, kx), N = oh·ow. */
export function im2col(x: Float32Array, s: ConvShape): Float32Array {
  const { oh, ow } = convOut(s);
  const K = s.c * s.kh * s.kw, N = oh * ow;
  const out = new Float32Array(K * N);
  for (let ci = 0; ci < s.c; ci++) for (let ky = 0; ky < s.kh; ky++) for (let kx = 0; kx < s.kw; kx++) {
    const row = (ci * s.kh + ky) * s.kw + kx;
    for (let oy = 0; oy < oh; oy++) for (let ox = 0; ox < ow; ox++) {
      const iy = oy * s.sh - s.ph + ky * s.dh, ix = ox * s.sw - s.pw + kx * s.dw;
      out[row * N + oy * ow + ox] = iy >= 0 && iy < s.h && ix >= 0 && ix < s.w ? x[(ci * s.h + iy) * s.w + ix]! : 0;
    }
  }
  return out;
}

/** Direct convolution, NCHW, groups = 1; also Σ|terms| per output for the tolerance. */
export function conv2d(x: Float32Array, w: Float32Array, bias: Float32Array | undefined, s: ConvShape,
                       code = 0): { y: Float64Array; scale: Float64Array } {
  const { oh, ow } = convOut(s);
  const y = new Float64Array(s.n * s.cout * oh * ow), scale = new Float64Array(y.length);
  for (let b = 0; b < s.n; b++) for (let co = 0; co < s.cout; co++) for (let oy = 0; oy < oh; oy++) for (let ox = 0; ox < ow; ox++) {
    let acc = bias ? bias[co]! : 0, mag = Math.abs(acc);
    for (let ci = 0; ci < s.c; ci++) for (let ky = 0; ky < s.kh; ky++) for (let kx = 0; kx < s.kw; kx++) {
      const iy = oy * s.sh - s.ph + ky * s.dh, ix = ox * s.sw - s.pw + kx * s.dw;
      if (iy < 0 || iy >= s.h || ix < 0 || ix >= s.w) continue;
      const p = w[((co * s.c + ci) * s.kh + ky) * s.kw + kx]! * x[((b * s.c + ci) * s.h + iy) * s.w + ix]!;
      acc += p;
      mag += Math.abs(p);
    }
    const o = ((b * s.cout + co) * oh + oy) * ow + ox;
    y[o] = act(acc, code);
    scale[o] = mag;
  }
  return { y, scale };
}

/** PyTorch pooling output size (dilation 1), floor or ceil mode. */
export function poolOut(inp: number, k: number, s: number, p: number, ceil: boolean): number {
  const num = inp + 2 * p - k;
  let o = (ceil ? Math.ceil(num / s) : Math.floor(num / s)) + 1;
  if (ceil && (o - 1) * s >= inp + p) o--;
  return o;
}

/** PyTorch max_pool2d / avg_pool2d (dilation 1) on [nc][h][w]; mode 'max' | 'avg' | 'avg-exclude-pad'. */
export function pool2d(x: Float32Array, nc: number, h: number, w: number, kh: number, kw: number, sh: number, sw: number,
                       ph: number, pw: number, oh: number, ow: number, mode: 'max' | 'avg' | 'avg-exclude-pad'): Float64Array {
  const y = new Float64Array(nc * oh * ow);
  for (let p = 0; p < nc; p++) for (let oy = 0; oy < oh; oy++) for (let ox = 0; ox < ow; ox++) {
    let hs = oy * sh - ph, ws = ox * sw - pw;
    let he = Math.min(hs + kh, h + ph), we = Math.min(ws + kw, w + pw);
    const poolSize = (he - hs) * (we - ws);
    hs = Math.max(hs, 0); ws = Math.max(ws, 0); he = Math.min(he, h); we = Math.min(we, w);
    let acc = mode === 'max' ? -Infinity : 0;
    for (let iy = hs; iy < he; iy++) for (let ix = ws; ix < we; ix++) {
      const v = x[(p * h + iy) * w + ix]!;
      acc = mode === 'max' ? (v > acc || Number.isNaN(v) ? v : acc) : acc + v;
    }
    y[(p * oh + oy) * ow + ox] = mode === 'max' ? acc : acc / (mode === 'avg' ? poolSize : (he - hs) * (we - ws));
  }
  return y;
}

/** softmax / log-softmax over the middle axis of [outer][n][inner], in f64. */
export function softmax(x: Float32Array, outer: number, n: number, inner: number, log: boolean): Float64Array {
  const y = new Float64Array(outer * n * inner);
  for (let o = 0; o < outer; o++) for (let i = 0; i < inner; i++) {
    const at = (j: number) => (o * n + j) * inner + i;
    let m = -Infinity;
    for (let j = 0; j < n; j++) m = Math.max(m, x[at(j)]!);
    let s = 0;
    for (let j = 0; j < n; j++) s += Math.exp(x[at(j)]! - m);
    for (let j = 0; j < n; j++) y[at(j)] = log ? x[at(j)]! - m - Math.log(s) : Math.exp(x[at(j)]! - m) / s;
  }
  return y;
}

/** sum | mean | max | argmax over the middle axis of [outer][n][inner]; also Σ|x| per output. */
export function reduce(x: Float32Array, outer: number, n: number, inner: number,
                       op: 'sum' | 'mean' | 'max' | 'argmax'): { y: Float64Array; scale: Float64Array } {
  const y = new Float64Array(outer * inner), scale = new Float64Array(outer * inner);
  for (let o = 0; o < outer; o++) for (let i = 0; i < inner; i++) {
    let s = 0, mag = 0, best = -Infinity, bi = 0;
    for (let j = 0; j < n; j++) {
      const v = x[(o * n + j) * inner + i]!;
      s += v; mag += Math.abs(v);
      if (v > best || (Number.isNaN(v) && !Number.isNaN(best))) { best = v; bi = j; }
    }
    y[o * inner + i] = op === 'sum' ? s : op === 'mean' ? s / n : op === 'max' ? best : bi;
    scale[o * inner + i] = op === 'mean' ? mag / n : mag;
  }
  return { y, scale };
}

/** PyTorch LayerNorm over rows of n (biased variance, eps inside the sqrt), of x + residual if given. */
export function layernorm(x: Float32Array, gamma: Float32Array | undefined, beta: Float32Array | undefined, rows: number,
                          n: number, eps: number, residual?: Float32Array): Float64Array {
  const y = new Float64Array(rows * n);
  for (let r = 0; r < rows; r++) {
    const s = Array.from({ length: n }, (_, j) => x[r * n + j]! + (residual ? residual[r * n + j]! : 0));
    const mean = s.reduce((a, v) => a + v, 0) / n;
    const v = s.reduce((a, t) => a + (t - mean) ** 2, 0) / n;
    for (let j = 0; j < n; j++) {
      y[r * n + j] = (s[j]! - mean) / Math.sqrt(v + eps) * (gamma ? gamma[j]! : 1) + (beta ? beta[j]! : 0);
    }
  }
  return y;
}
