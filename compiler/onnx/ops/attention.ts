// ONNX Attention (opset 23/24), decomposed into matmul / softmax exactly as ONNX's function body
// orders it: qk = (q·scale)·kᵀ (scale defaults to 1/√d); softcap: c·tanh(qk / c); + bias (the
// float mask, or a bool mask as 0 / −∞ with true = attend, plus the causal mask, row i at
// position past + i); softmax over the keys; a row whose bias masks every key gives 0 when the
// mask is known at compile time (a run-time mask that masks a whole row gives NaN, as PyTorch's
// SDPA does: listed as a known difference); then · v. GQA: query head h reads kv head
// ⌊h / (H / kvH)⌋ (a broadcast matmul over [B, kvH, G, …]). past_key/past_value are
// concatenated before the keys (present_key/present_value).
// Shape legend: B batch, H query heads, kvH kv heads, G = H / kvH, L queries, S keys (past + new), d, dv head sizes.

import { canonDim, type Dim } from '../../ir/dims.ts';
import { fmtShape } from '../../ir/types.ts';
import { cat, constant, record, type Tensor } from '../../dsl/tensor.ts';
import { Ctx, foldTensor, type Val } from '../ctx.ts';
import { fixedAxes } from './common.ts';
import { gatherBy } from './shapes.ts';

function attention(c: Ctx): (Val | undefined)[] {
  c.only('is_causal', 'kv_num_heads', 'q_num_heads', 'qk_matmul_output_mode', 'scale', 'softcap', 'softmax_precision');
  const q0 = c.t(0, 'Q'), k0 = c.t(1, 'K'), v0 = c.t(2, 'V');
  for (const [w, t] of [['Q', q0], ['K', k0], ['V', v0]] as const) if (t.dtype !== 'f32' || (t.rank !== 3 && t.rank !== 4)) c.unsupported(`${w} ${t.dtype}[${t.maxShape}]`);
  const threeD = q0.rank === 3;
  // [B, L, heads·d] → [B, heads, L, d]
  const heads4 = (t: Tensor, h: number, what: string) => {
    if (t.rank === 4) return t;
    if (!(h >= 1) || t.maxSize(2) % h) c.unsupported(`${what} of shape [${t.maxShape}] with ${h} heads`);
    return t.reshape(t.maxSize(0), t.maxSize(1), h, t.maxSize(2) / h).permute(0, 2, 1, 3);
  };
  let q = heads4(q0, c.int('q_num_heads', 0), 'Q'), k = heads4(k0, c.int('kv_num_heads', 0), 'K'), v = heads4(v0, c.int('kv_num_heads', 0), 'V');
  const [B, H, L, d] = q.maxShape as [number, number, number, number];
  const kvH = k.maxSize(1);
  if (v.maxSize(1) !== kvH || H % kvH) c.unsupported(`${H} query heads over ${kvH} kv heads (K [${k.maxShape}], V [${v.maxShape}])`);
  const past = c.has(4) ? c.t(4, 'past_key').maxSize(2) : 0;
  if (c.has(4) !== c.has(5)) c.unsupported('past_key without past_value (or the reverse)');
  if (c.has(4)) { k = cat([c.t(4, 'past_key'), k], 2); v = cat([c.t(5, 'past_value'), v], 2); }
  const S = k.maxSize(2), G = H / kvH;
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
  if (bias && bias.maxSize(-1) < S) bias = cat([bias, constant(new Float32Array(bias.maxShape.slice(0, -1).reduce((a, b) => a * b, 1) * (S - bias.maxSize(-1))).fill(-Infinity), [...bias.maxShape.slice(0, -1), S - bias.maxSize(-1)], 'f32', 'mask-pad')], -1);
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
  const y = G === 1 ? p.matmul(v) : p.reshape(B, kvH, G, L, S).matmul(v.unsqueeze(2)).reshape(B, H, L, v.maxSize(3));
  const Y = threeD ? y.permute(0, 2, 1, 3).reshape(B, L, H * v.maxSize(3)) : y;
  const mode = c.int('qk_matmul_output_mode', 0);
  const qkOut = [raw, capped, bias ? capped.add(bias) : capped, p][mode] ?? c.unsupported(`qk_matmul_output_mode ${mode}`);
  return [Y, k, v, qkOut];
}

// ONNX RotaryEmbedding (opset 23), as ONNX's reference computes it: x as [B, S, heads, d] (3-D
// [B, S, heads·d] with num_heads) or [B, heads, S, d] (4-D; taken as it is, cos and sin get the heads
// axis at 1 instead of transposing x twice); its first r = rotary_embedding_dim (0: d) channels
// rotate, the rest pass through. cos, sin [B, S, r/2]: rows of the caches [max_pos, r/2] at
// position_ids [B, S] (Gather's rule: a negative id counts from the end, one out of range is refused
// at compile time or traps at run time), or the caches themselves without position_ids.
// x1, x2: the halves of the rotated part, or its even and odd channels (interleaved);
// real = cos·x1 − sin·x2, imag = sin·x1 + cos·x2, put back in x1's and x2's places.
// A symbolic batch or sequence is taken; heads and head size must be fixed.
function rotaryEmbedding(c: Ctx): Tensor {
  c.only('interleaved', 'num_heads', 'rotary_embedding_dim');
  const x0 = c.t(0, 'input');
  if (x0.dtype !== 'f32' || (x0.rank !== 3 && x0.rank !== 4)) c.unsupported(`input ${x0.dtype}${fmtShape(x0.dims)} (f32 of rank 3 or 4)`);
  fixedAxes(c, x0, 'input', x0.rank === 3 ? [2] : [1, 3], 'RotaryEmbedding splits heads and channels at fixed sizes');
  const interleaved = c.int('interleaved', 0), numHeads = c.int('num_heads', 0);
  if (interleaved !== 0 && interleaved !== 1) c.unsupported(`interleaved ${interleaved} (0 or 1)`);
  const threeD = x0.rank === 3, heads = threeD ? 2 : 1;
  const B = x0.dim(0), S = x0.dim(threeD ? 1 : 2);
  if (threeD && (!(numHeads >= 1) || x0.maxSize(2) % numHeads)) c.unsupported(`num_heads ${numHeads} for a 3-D input ${fmtShape(x0.dims)} (it must divide the hidden size ${x0.maxSize(2)})`);
  if (!threeD && numHeads !== 0 && numHeads !== x0.maxSize(1)) c.unsupported(`num_heads ${numHeads} for a 4-D input ${fmtShape(x0.dims)} of ${x0.maxSize(1)} heads`);
  const x = threeD ? x0.reshape(B, S, numHeads, x0.maxSize(2) / numHeads) : x0;
  const d = x.maxSize(3), given = c.int('rotary_embedding_dim', 0), r = given || d, half = r / 2;
  if (!(r > 0 && r <= d && r % 2 === 0)) c.unsupported(`rotary_embedding_dim ${given}${given ? '' : ' (the whole head)'} for a head size of ${d} (it must be even and at most the head size; 0 for the whole head)`);
  const same = (a: Dim, b: Dim) => canonDim(a) === canonDim(b);
  // cos or sin as [B, S, r/2], then with a heads axis of 1.
  const table = (i: number, what: string): Tensor => {
    const cache = c.t(i, what);
    if (cache.dtype !== 'f32') c.unsupported(`${what} of type ${cache.dtype}`);
    if (c.has(3) && cache.rank !== 2) c.unsupported(`${what} ${fmtShape(cache.dims)} with position_ids (it must be [max_position_id + 1, ${half}])`);
    if (c.has(3)) fixedAxes(c, cache, what, [0], 'position_ids index it');
    const t = c.has(3) ? gatherBy(c, cache, 0, 3, 'position_ids') : cache;
    const [tb, ts, th] = t.dims;
    if (t.rank !== 3 || !same(th!, half) || !(same(tb!, B) || tb === 1) || !(same(ts!, S) || ts === 1)) {
      c.unsupported(`${what} ${c.has(3) ? `at position_ids ${fmtShape(c.t(3).dims)} of shape` : 'of shape'} ${fmtShape(t.dims)} for an input of batch ${B} and sequence ${S} (it must be [${B}, ${S}, ${half}]: rotary_embedding_dim / 2)`);
    }
    return t.unsqueeze(heads);
  };
  const cos = table(1, 'cos_cache'), sin = table(2, 'sin_cache');
  const rot = r === d ? x : x.slice(3, 0, r);
  const [x1, x2] = interleaved ? [rot.slice(3, 0, r, 2), rot.slice(3, 1, r, 2)] : [rot.slice(3, 0, half), rot.slice(3, half, r)];
  const real = cos.mul(x1).sub(sin.mul(x2)), imag = sin.mul(x1).add(cos.mul(x2));
  const rotated = interleaved ? cat([real.unsqueeze(4), imag.unsqueeze(4)], 4).reshape(...rot.dims) : cat([real, imag], 3);
  const y = r === d ? rotated : cat([rotated, x.slice(3, r, d)], 3);
  return threeD ? y.reshape(...x0.dims) : y;
}

export const ATTENTION = { Attention: attention, RotaryEmbedding: rotaryEmbedding };
