// attention-lowering: decides, per attention node, between the fused kernel and the
// decomposed graph (split heads, QKᵀ matmul, scale and mask, softmax, PV matmul, merge
// heads), and rewrites the node into the decomposed graph when that is faster.
// The fused kernel never materialises the scores of more than a block of query rows and
// needs no head transposes; the decomposed form runs large GEMM-shaped matmuls instead.
// Cost model, from bench/attention.ts on this machine (unfused time ÷ fused time, against
// the decomposed kernels reading strided views, i.e. without even the head copies):
//   L 7, d 8: 2.3–2.6×;  L 16–64, d 64: 1.06–1.22×;  L 128, d 64: 1.04–1.08×;  L 512: 0.98–1.03×;
//   decode (Lq 1, Lk 128–512): 1.17–1.39×;  d 128: 0.94 (plain SIMD) – 1.01 (relaxed);
//   causal: the fused kernel skips masked key blocks (0.5× the non-causal time), the decomposed
//   graph cannot. The decomposed graph also pays the head split/merge copies. Fused never
//   loses by more than ~6%, so 'auto' keeps it everywhere; 'unfused' forces the decomposition
//   (tests prove both agree). Attention over a KV cache is always fused: its causal bound is
//   dynamic, which no static mask expresses.

import { node, rewrite, type Attrs, type Node } from '../ir/node.ts';
import { attrsOf, inferType } from '../ir/ops.ts';
import { attentionDims } from '../ir/ops/attention.ts';
import type { Pass, PassContext } from './pass.ts';

export type AttentionChoice = 'auto' | 'fused' | 'unfused';

function build(label: string | undefined) {
  return (op: string, inputs: Node[], attrs: Attrs = {}) => node(op, inputs, inferType(op, inputs, attrs), attrs, label);
}

/** The decomposed graph of one (non-cached) attention node. */
export function decomposeAttention(n: Node): Node {
  const b = build(n.label), a = attrsOf(n, 'attention'), lay = a.layout;
  const { B, Lq, Lk, H, d, dv } = attentionDims(n.inputs.map((i) => i.type), a);
  const E = H * d;
  const slice = (x: Node, start: number, end: number) => b('slice', [x], { axis: 2, start, end, step: 1 });
  const [q, k, v] = lay === 'qkv' ? [slice(n.inputs[0]!, 0, E), slice(n.inputs[0]!, E, 2 * E), slice(n.inputs[0]!, 2 * E, 3 * E)]
    : lay === 'q_kv' ? [n.inputs[0]!, slice(n.inputs[1]!, 0, E), slice(n.inputs[1]!, E, 2 * E)]
    : [n.inputs[0]!, n.inputs[1]!, n.inputs[2]!];
  const heads = (x: Node, L: number, w: number) => b('transpose', [b('reshape', [x], { shape: [B, L, H, w] })], { perm: [0, 2, 1, 3] });
  const qh = heads(q, Lq, d), kt = b('transpose', [b('reshape', [k], { shape: [B, Lk, H, d] })], { perm: [0, 2, 3, 1] }), vh = heads(v, Lk, dv);
  const scale = node('const', [], { dtype: 'f32', shape: [] }, { data: Float32Array.of(a.scale) }, 'scale');
  let s = b('mul', [b('matmul', [qh, kt]), scale]);
  const ninf = node('const', [], { dtype: 'f32', shape: [] }, { data: Float32Array.of(-Infinity) }, '-inf');
  const nIn = lay === 'qkv' ? 1 : lay === 'q_kv' ? 2 : 3;
  if (a.mask) s = b('where', [n.inputs[nIn]!, ninf, s]);
  if (a.causal) {
    const m = new Uint8Array(Lq * Lk);
    for (let i = 0; i < Lq; i++) for (let j = i + 1; j < Lk; j++) m[i * Lk + j] = 1;
    s = b('where', [node('const', [], { dtype: 'bool', shape: [Lq, Lk] }, { data: m }, 'causal mask'), ninf, s]);
  }
  const o = b('matmul', [b('softmax', [s], { axis: 3 }), vh]);
  return b('reshape', [b('transpose', [o], { perm: [0, 2, 1, 3] })], { shape: [B, Lq, H * dv] });
}

export const attentionLowering: Pass = {
  name: 'attention-lowering',
  description: 'keep fused attention where it is faster, else decompose it into matmul/softmax/matmul',
  run(g, ctx?: PassContext) {
    const choice = ctx?.attention ?? 'auto';
    if (choice === 'fused' || choice === 'auto') return g;
    // Named (run-time) sizes cannot be decomposed: the decomposed graph's causal mask is a constant of one size.
    const named = g.nodes.find((n) => n.op === 'attention' && !n.attrs.cached && n.type.dims);
    if (named) throw new Error(`attention: 'unfused' cannot decompose attention over run-time sizes${named.label ? ` (at ${named.label})` : ''}; use 'auto' or 'fused', or compile with fixed sizes`);
    return rewrite(g, (n) => (n.op === 'attention' && !n.attrs.cached ? decomposeAttention(n) : undefined));
  },
};
