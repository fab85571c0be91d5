// Plain-loop f64 reference for the fused attention kernel (assembly/attention.ts): PyTorch's
// scaled dot-product attention, computed per (b, h, i) straight from the strided indexing.
// Shape legend:
//   B batch, H heads, Lq query rows, Lk key rows (capacity), d per-head q/k width, dv per-head v/o
//   q[b,i,h,c] = q[qOff + b·bsq + i·ldq + h·d + c]     (k, v likewise with their own strides; v, o dv)
//   mask[b,h,i,j] = mask[b·mbs + h·mhs + i·mrs + j] ≠ 0: key j NOT attended (PyTorch's bool mask)
//   o [B][Lq][H·dv], dense
// Keys j ≥ kvLen do not exist; with causal, keys j > qOffset + i are masked.
// softmax(s) = e^(s − max)/Σ e^(s − max), then o = Σ_j p_j·v_j: a row with every key masked has
// max −∞ and p = NaN (PyTorch's result); with no keys at all (kvLen = 0) o is an empty sum, 0.

export interface AttentionProblem {
  B: number; H: number; Lq: number; Lk: number; d: number; dv: number;
  q: Float32Array; qOff: number; ldq: number; bsq: number;
  k: Float32Array; kOff: number; ldk: number; bsk: number;
  v: Float32Array; vOff: number; ldv: number; bsv: number;
  mask?: Uint8Array; mbs: number; mhs: number; mrs: number;
  scale: number; causal: boolean; kvLen: number; qOffset: number;
}

/** o [B][Lq][H·dv] in f64. */
export function attentionForward(p: AttentionProblem): Float64Array {
  const { B, H, Lq, d, dv, q, k, v, mask } = p;
  const E = H * dv;
  const o = new Float64Array(B * Lq * E);
  const s = new Float64Array(Math.max(p.kvLen, 0));
  for (let b = 0; b < B; b++) for (let h = 0; h < H; h++) for (let i = 0; i < Lq; i++) {
    const qi = p.qOff + b * p.bsq + i * p.ldq + h * d;
    let m = -Infinity;
    for (let j = 0; j < p.kvLen; j++) {
      const masked = (mask !== undefined && mask[b * p.mbs + h * p.mhs + i * p.mrs + j] !== 0) ||
        (p.causal && j > p.qOffset + i);
      if (masked) { s[j] = -Infinity; continue; }
      const kj = p.kOff + b * p.bsk + j * p.ldk + h * d;
      let dot = 0;
      for (let c = 0; c < d; c++) dot += q[qi + c]! * k[kj + c]!;
      s[j] = p.scale * dot;
      m = Math.max(m, s[j]!);
    }
    let sum = 0;
    for (let j = 0; j < p.kvLen; j++) { s[j] = Math.exp(s[j]! - m); sum += s[j]!; }   // NaN when m = −∞
    const oi = (b * Lq + i) * E + h * dv;
    for (let j = 0; j < p.kvLen; j++) {
      const pj = s[j]! / sum, vj = p.vOff + b * p.bsv + j * p.ldv + h * dv;
      for (let c = 0; c < dv; c++) o[oi + c] += pj * v[vj + c]!;
    }
  }
  return o;
}
