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
