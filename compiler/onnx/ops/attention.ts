// ONNX Attention (opset 23/24), decomposed into matmul / softmax exactly as ONNX's function body
// orders it: qk = (q·scale)·kᵀ (scale defaults to 1/√d); softcap: c·tanh(qk / c); + bias (the
// float mask, or a bool mask as 0 / −∞ with true = attend, plus the causal mask, row i at
// position past + i); softmax over the keys; a row whose bias masks every key gives 0 when the
// mask is known at compile time (a run-time mask that masks a whole row gives NaN, as PyTorch's
// SDPA does: listed as a known difference); then · v. GQA: query head h reads kv head
// ⌊h / (H / kvH)⌋ (a broadcast matmul over [B, kvH, G, …]). past_key/past_value are
// concatenated before the keys (present_key/present_value).
// Shape legend: B batch, H query heads, kvH kv heads, G = H / kvH, L queries, S keys (past + new), d, dv head sizes.

import { cat, constant, record, type Tensor } from '../../dsl/tensor.ts';
import { Ctx, foldTensor, type Val } from '../ctx.ts';

function attention(c: Ctx): (Val | undefined)[] {
  c.only('is_causal', 'kv_num_heads', 'q_num_heads', 'qk_matmul_output_mode', 'scale', 'softcap', 'softmax_precision');
  const q0 = c.t(0, 'Q'), k0 = c.t(1, 'K'), v0 = c.t(2, 'V');
  for (const [w, t] of [['Q', q0], ['K', k0], ['V', v0]] as const) if (t.dtype !== 'f32' || (t.rank !== 3 && t.rank !== 4)) c.unsupported(`${w} ${t.dtype}[${t.shape}]`);
  const threeD = q0.rank === 3;
  // [B, L, heads·d] → [B, heads, L, d]
  const heads4 = (t: Tensor, h: number, what: string) => {
    if (t.rank === 4) return t;
    if (!(h >= 1) || t.size(2) % h) c.unsupported(`${what} of shape [${t.shape}] with ${h} heads`);
    return t.reshape(t.size(0), t.size(1), h, t.size(2) / h).permute(0, 2, 1, 3);
  };
  let q = heads4(q0, c.int('q_num_heads', 0), 'Q'), k = heads4(k0, c.int('kv_num_heads', 0), 'K'), v = heads4(v0, c.int('kv_num_heads', 0), 'V');
  const [B, H, L, d] = q.shape as [number, number, number, number];
  const kvH = k.size(1);
  if (v.size(1) !== kvH || H % kvH) c.unsupported(`${H} query heads over ${kvH} kv heads (K [${k.shape}], V [${v.shape}])`);
  const past = c.has(4) ? c.t(4, 'past_key').size(2) : 0;
  if (c.has(4) !== c.has(5)) c.unsupported('past_key without past_value (or the reverse)');
  if (c.has(4)) { k = cat([c.t(4, 'past_key'), k], 2); v = cat([c.t(5, 'past_value'), v], 2); }
  const S = k.size(2), G = H / kvH;
  const scale = c.attr('scale') ? c.float('scale', 1) : 1 / Math.sqrt(d);
  // qk [B, H, L, S]: q as [B, kvH, G, L, d] against kᵀ as [B, kvH, 1, d, S].
  const qg = G === 1 ? q : q.reshape(B, kvH, G, L, d);
  const kt = G === 1 ? k.mT : k.mT.unsqueeze(2);
  let qk = qg.mul(scale).matmul(kt);
  if (G !== 1) qk = qk.reshape(B, H, L, S);
  const raw = qk;
  const softcap = c.float('softcap', 0);
  if (softcap > 0) qk = qk.div(softcap).tanh().mul(softcap);
  const capped = qk;

  // The bias: the mask, the causal mask and nonpad_kv_seqlen, all as additive 0 / −∞ (or the float mask's values).
  let bias: Tensor | undefined;
  if (c.has(3)) {
    const m = c.t(3, 'attn_mask');
    bias = m.dtype === 'bool' ? record('where', [m, constant(new Float32Array([0]), [], 'f32'), constant(new Float32Array([-Infinity]), [], 'f32')])
      : m.dtype === 'f32' ? m : c.unsupported(`attn_mask of type ${m.dtype}`);
  }
  // A mask shorter than the keys leaves the rest masked.
  if (bias && bias.size(-1) < S) bias = cat([bias, constant(new Float32Array(bias.shape.slice(0, -1).reduce((a, b) => a * b, 1) * (S - bias.size(-1))).fill(-Infinity), [...bias.shape.slice(0, -1), S - bias.size(-1)], 'f32', 'mask-pad')], -1);
  // With nonpad_kv_seqlen, batch b holds lens[b] valid keys and its queries end there (causal offset lens[b] − L).
  let lens: number[] | undefined;
  if (c.has(6)) {
    if (!c.isConst(6)) c.constTensor(6, 'nonpad_kv_seqlen'); // a NeedsConstantError naming the input
    lens = c.ints(6, 'nonpad_kv_seqlen');
  }
  const extra = new Float32Array(B * L * S);
  const causal = c.int('is_causal', 0) === 1;
  for (let b = 0; b < B; b++) {
    const off = lens ? lens[b]! - L : past;
    for (let i = 0; i < L; i++) for (let j = 0; j < S; j++) {
      if ((causal && j > i + off) || (lens && j >= lens[b]!)) extra[(b * L + i) * S + j] = -Infinity;
    }
  }
  const useExtra = causal || !!lens;
  if (useExtra) {
    const e = constant(extra, [B, 1, L, S], 'f32', 'attention-mask');
    bias = bias ? bias.add(e) : e;
  }
  if (bias) qk = qk.add(bias);
  let p = qk.softmax(-1);
  // Rows the bias masks entirely: 0 (known only for a compile-time bias).
  const hb = bias ? foldTensor(bias) : undefined;
  if (hb) {
    const bs = hb.dims, S2 = bs[bs.length - 1]!, rows = hb.data.length / S2;
    const dead = new Uint8Array(rows);
    let any = false;
    for (let r = 0; r < rows; r++) {
      let all = true;
      for (let j = 0; j < S2; j++) if (Number(hb.data[r * S2 + j]) !== -Infinity) { all = false; break; }
      dead[r] = all ? 1 : 0; any ||= all;
    }
    if (any) p = record('where', [constant(dead, [...bs.slice(0, -1), 1], 'bool', 'masked-rows'), constant(new Float32Array([0]), [], 'f32'), p]);
  }
  const y = G === 1 ? p.matmul(v) : p.reshape(B, kvH, G, L, S).matmul(v.unsqueeze(2)).reshape(B, H, L, v.size(3));
  const Y = threeD ? y.permute(0, 2, 1, 3).reshape(B, L, H * v.size(3)) : y;
  const mode = c.int('qk_matmul_output_mode', 0);
  const qkOut = [raw, capped, bias ? capped.add(bias) : capped, p][mode] ?? c.unsupported(`qk_matmul_output_mode ${mode}`);
  return [Y, k, v, qkOut];
}

export const ATTENTION = { Attention: attention };
