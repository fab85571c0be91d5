// attention-recognition: scaled dot-product attention written out in primitive ops —
// softmax(q·kᵀ · scale [+ additive mask | masked fill]) · v over [G, L, d] or [B, H, L, d]
// heads, as torch.onnx exports nn.MultiheadAttention and as hand-written ONNX graphs spell it —
// becomes the fused `attention` node (heads interleaved in the last dimension), so imported
// models get the kernel that never materialises the score matrix.
//
// The fused node's q, k, v are the heads merged back to [B, L, H·d] by an explicit
// reshape/transpose chain from the matched operands, and its result is split into heads again
// for the original consumers; view chains that cancel (the graph's own split followed by our
// merge) then collapse to free reshapes (views.ts; transpose-sinking and view-simplification
// finish the job), and attention-packing then reads q, k, v from one packed projection. H is read
// off the projection the heads were split from (its last dimension ÷ d); any H with B·H = G
// would be correct.
//
// Scales: scalar mul/div on the scores, or on q or k (also inside their view chains) multiply
// the attention scale; the total must be positive (a masked −∞ score stays −∞). Masks: a bool
// `where(m, −∞, s)`, or an additive f32 mask that is a constant of only 0 and −∞ or
// `where(m, −∞, 0)`; a constant mask equal to the causal one (j > i) becomes `causal`. Left
// alone: softmax probabilities used elsewhere (the head-averaged attention weights of
// nn.MultiheadAttention: the fused kernel would not save them), masks with any other values,
// softmax over another axis, matmuls that broadcast their batch dimensions, and unbatched
// rank-2 products (softmax(x·xᵀ)·x chains are not what exporters write for attention).
//
// Named sizes (a symbolic import's batch and seq): everything is matched and rebuilt by dims
// (ir/dims.ts), never by the bounds: G = 4*batch heads regroup as B = batch, H = 4 only where the
// dims algebra divides (else H = 1, which is always right), the per-head widths d and dv must be
// fixed, and a mask known at compile time is read only where it holds for every size: a constant
// sliced to its top-left corner (slices from 0, reshapes that add or drop 1s, where(m, true,
// false)) is causal or empty at every size when the whole constant is.

import { divDims, numelDims, type Dim } from '../ir/dims.ts';
import { node, rewrite, users, type Graph, type Node } from '../ir/node.ts';
import { attrsOf } from '../ir/ops.ts';
import { broadcastShapes, dimsOf, sameDims, sameShape } from '../ir/types.ts';
import { builder, otherInput, reshapeTo, scalarOf } from './match.ts';
import type { Pass } from './pass.ts';
import { simplifyChain } from './views.ts';

interface Peeled { x: Node; scale: number }

const isView = (n: Node) => n.op === 'reshape' || n.op === 'transpose';

/** Scalar multiplications inside a view chain, moved out: x = scale · views(source). */
function peelScale(x: Node): Peeled {
  const steps: Node[] = [];
  let scale = 1, cur = x;
  for (;;) {
    if (isView(cur)) { steps.unshift(cur); cur = cur.inputs[0]!; continue; }
    const c = cur.op === 'mul' ? cur.inputs.find((i) => scalarOf(i) !== undefined) : cur.op === 'div' ? cur.inputs[1] : undefined;
    const v = scalarOf(c);
    if (c && v !== undefined && (cur.op === 'mul' || c === cur.inputs[1]) && sameDims(otherInput(cur, c)!.type, cur.type)) {
      scale *= cur.op === 'mul' ? v : 1 / v;
      cur = otherInput(cur, c)!;
      continue;
    }
    break;
  }
  if (scale === 1) return { x, scale };
  for (const s of steps) cur = node(s.op, [cur], s.type, s.attrs, s.label);
  return { x: cur, scale };
}

const lastDim = (n: Node): Dim => { const d = dimsOf(n.type); return d[d.length - 1]!; };

/** The one value of every element of m at every size (a constant fill, or an expand or reshape of one), else undefined. */
function uniformOf(m: Node): number | undefined {
  let c = m;
  while (c.op === 'expand' || c.op === 'reshape' || c.op === 'copy') c = c.inputs[0]!;
  if (c.op !== 'const') return undefined;
  const d = c.attrs.data as ArrayLike<number>;
  for (let i = 1; i < d.length; i++) if (d[i] !== d[0]) return undefined;
  return d[0];
}

/** The bool mask of an additive f32 mask (0 = attend, −∞ = not), or undefined. */
function boolOfAdditive(m: Node): Node | undefined {
  if (m.op === 'mul' && scalarOf(m.inputs[1]) === 1) return boolOfAdditive(m.inputs[0]!);
  if (m.op === 'mul' && scalarOf(m.inputs[0]) === 1) return boolOfAdditive(m.inputs[1]!);
  if (m.op === 'const' && m.type.dtype === 'f32') {
    const d = m.attrs.data as Float32Array;
    if (!d.every((v) => v === 0 || v === -Infinity)) return undefined;
    return node('const', [], { dtype: 'bool', shape: m.type.shape }, { data: Uint8Array.from(d, (v) => (v === 0 ? 0 : 1)) }, m.label ?? 'mask');
  }
  if (m.op === 'where' && m.inputs[0]!.type.dtype === 'bool' && scalarOf(m.inputs[1]) === -Infinity) {
    if (uniformOf(m.inputs[2]!) === 0) return m.inputs[0];
  }
  return undefined;
}

/** The fused kernel's leading layout for G head groups: [B, H] with B·H = G (for every size). */
function headsOf(G: Dim, d: number, ...sources: Node[]): number {
  for (const s of sources) {
    let src = s;
    while (isView(src)) src = src.inputs[0]!;
    const E = lastDim(src);
    if (typeof E === 'number' && E % d === 0 && divDims(G, E / d) !== undefined) return E / d;
  }
  return 1;
}

/**
 * m over named sizes as the top-left corner of a constant, for every size: m[i…] = C[i…] where
 * C is `data` laid out as `shape` (m's rank); undefined when m is not known to be one.
 */
function cornerOf(m: Node): { data: ArrayLike<number>; shape: number[] } | undefined {
  const x = m.inputs[0];
  if (m.op === 'const') return { data: m.attrs.data as ArrayLike<number>, shape: [...m.type.shape] };
  if (m.op === 'copy') return cornerOf(x!);
  if (m.op === 'slice') {
    const a = attrsOf(m, 'slice'), sym = (m.attrs.sym as { values: Record<string, unknown> } | undefined)?.values ?? {};
    return a.start === 0 && a.step === 1 && !('start' in sym) && !('step' in sym) ? cornerOf(x!) : undefined;
  }
  if (m.op === 'where' && m.type.dtype === 'bool' && uniformOf(m.inputs[1]!) === 1 && uniformOf(m.inputs[2]!) === 0 && sameDims(m.type, m.inputs[0]!.type)) {
    return cornerOf(m.inputs[0]!); // where(c, true, false) is c
  }
  if (m.op !== 'reshape') return undefined;
  // a reshape that only adds or drops 1s, over a constant not sliced on those axes
  const inner = cornerOf(x!), xd = dimsOf(x!.type), md = dimsOf(m.type);
  if (!inner || xd.some((d, i) => d === 1 && inner.shape[i] !== 1)) return undefined;
  const kept = xd.map((d, i) => [d, inner.shape[i]!] as const).filter(([d]) => d !== 1);
  if (!sameShape(kept.map(([d]) => d), md.filter((d) => d !== 1))) return undefined;
  let k = 0;
  return { data: inner.data, shape: md.map((d) => (d === 1 ? 1 : kept[k++]![1])) };
}

/** All-true? Causal (j > i) over every leading index? At every size, for a mask over named sizes. */
function constMaskKind(m: Node, Lq: Dim, Lk: Dim): 'none' | 'causal' | undefined {
  let d: ArrayLike<number>, q: number, k: number;
  const md = dimsOf(m.type), mq = md.length >= 2 ? md[md.length - 2]! : 1, mk = md[md.length - 1]!;
  if (m.type.dims) {
    const c = cornerOf(m);
    if (!c) return undefined;
    [d, q, k] = [c.data, c.shape.length >= 2 ? c.shape[c.shape.length - 2]! : 1, c.shape[c.shape.length - 1]!];
  } else {
    let c = m;
    while (c.op === 'copy' || c.op === 'reshape') c = c.inputs[0]!; // same data in the same order
    if (c.op !== 'const') return undefined;
    [d, q, k] = [c.attrs.data as Uint8Array, mq as number, mk as number];
  }
  if (Array.prototype.every.call(d, (v: number) => v === 0)) return 'none';
  if (mq !== Lq || mk !== Lk) return undefined;
  // every top-left corner of a causal plane is causal
  for (let o = 0; o < d.length; o += q * k) for (let i = 0; i < q; i++) for (let j = 0; j < k; j++) if (d[o + i * k + j] !== (j > i ? 1 : 0)) return undefined;
  return 'causal';
}

interface Match { q: Peeled; kt: Peeled; v: Node; scale: number; mask?: Node }

/** softmax(scores) · v at `o`, with the scores taken apart. */
function matchAttention(o: Node, soleUse: (n: Node) => boolean): Match | undefined {
  if (o.op !== 'matmul' || o.type.dtype !== 'f32') return undefined;
  const [p, v] = o.inputs as [Node, Node];
  const r = p.type.shape.length;
  if (p.op !== 'softmax' || r < 3 || attrsOf(p, 'softmax').axis !== r - 1 || !soleUse(p)) return undefined;
  if (v.type.shape.length !== r || !sameShape(dimsOf(v.type).slice(0, -2), dimsOf(p.type).slice(0, -2))) return undefined;
  let s = p.inputs[0]!, scale = 1, mask: Node | undefined;
  const S = dimsOf(s.type);
  for (;;) {
    const c = s.op === 'mul' ? s.inputs.find((i) => scalarOf(i) !== undefined) : s.op === 'div' ? s.inputs[1] : undefined;
    const cv = scalarOf(c);
    if (c && cv !== undefined && (s.op === 'mul' || c === s.inputs[1]) && sameShape(dimsOf(otherInput(s, c)!.type), S)) {
      scale *= s.op === 'mul' ? cv : 1 / cv;
      s = otherInput(s, c)!;
    } else if (s.op === 'where' && s.inputs[0]!.type.dtype === 'bool' && scalarOf(s.inputs[1]) === -Infinity && sameShape(dimsOf(s.inputs[2]!.type), S) && !mask) {
      mask = s.inputs[0]!;
      s = s.inputs[2]!;
    } else if (s.op === 'add' && !mask) {
      const [a, b] = s.inputs as [Node, Node];
      const m = sameShape(dimsOf(a.type), S) ? boolOfAdditive(b) : undefined;
      const m2 = !m && sameShape(dimsOf(b.type), S) ? boolOfAdditive(a) : undefined;
      if (!m && !m2) return undefined;
      mask = m ?? m2;
      s = m ? a : b;
    } else break;
  }
  if (s.op !== 'matmul' || !sameShape(dimsOf(s.type), S) || !(scale > 0) || scale === Infinity) return undefined;
  const [q, kt] = s.inputs as [Node, Node];
  const lead = (x: Node) => dimsOf(x.type).slice(0, -2);
  if (q.type.shape.length !== r || kt.type.shape.length !== r || !sameShape(lead(q), S.slice(0, -2)) || !sameShape(lead(kt), S.slice(0, -2))) return undefined;
  if (mask && !broadcastShapes(dimsOf(mask.type), S)) return undefined;
  return { q: peelScale(q), kt: peelScale(kt), v, scale, mask };
}

function fuse(o: Node, m: Match): Node | undefined {
  const b = builder(o.label);
  const S = dimsOf(o.inputs[0]!.type), r = S.length, lead = S.slice(0, -2), G = numelDims(lead);
  const Lq = S[r - 2]!, Lk = S[r - 1]!, d = lastDim(m.q.x), dv = lastDim(m.v);
  if (typeof d !== 'number' || typeof dv !== 'number') return undefined; // the kernel's per-head widths are fixed
  const H = headsOf(G, d, m.q.x, m.kt.x, m.v), B = divDims(G, H)!;
  // [G, L, w] heads → [B, L, H·w] interleaved
  const merge = (x: Node, L: Dim, w: number) => {
    const flat = reshapeTo(b('transpose', [reshapeTo(x, [B, H, L, w])], { perm: [0, 2, 1, 3] }), [B, L, H * w]);
    return simplifyChain(flat) ?? flat;
  };
  const q = merge(m.q.x, Lq, d);
  const kHeads = b('transpose', [reshapeTo(m.kt.x, [G, d, Lk])], { perm: [0, 2, 1] });
  const k = merge(kHeads, Lk, d), v = merge(m.v, Lk, dv);
  let maskIn: Node | undefined, causal = false;
  if (m.mask) {
    const kind = constMaskKind(m.mask, Lq, Lk);
    if (kind === 'causal') causal = true;
    else if (kind !== 'none') {
      const ms: Dim[] = [...Array<number>(r - m.mask.type.shape.length).fill(1), ...dimsOf(m.mask.type)];
      const ml = ms.slice(0, -2), mq = ms[r - 2]!, mk = ms[r - 1]!;
      if (mk !== Lk) return undefined;
      if (ml.every((x) => x === 1)) maskIn = reshapeTo(m.mask, [1, 1, mq, Lk]);
      else if (sameShape(ml, lead)) maskIn = reshapeTo(m.mask, [B, H, mq, Lk]);
      else if (lead.length === 2 && lead[0] === B && lead[1] === H) maskIn = reshapeTo(m.mask, [ml[0]!, ml[1]!, mq, Lk]);
      else return undefined;
    }
  }
  const scale = m.scale * m.q.scale * m.kt.scale;
  if (!(scale > 0) || scale === Infinity) return undefined; // a masked −∞ score must stay −∞ whatever was scaled
  const attrs = { heads: H, scale, ...(causal ? { causal: true } : {}), ...(maskIn ? { mask: true } : {}) };
  const rest = maskIn ? [maskIn] : [];
  const out = b('attention', [q, k, v, ...rest], { ...attrs, layout: 'separate' });
  // back to the consumers' [lead…, Lq, dv] heads
  const split = b('transpose', [reshapeTo(out, [B, Lq, H, dv])], { perm: [0, 2, 1, 3] });
  return reshapeTo(split, dimsOf(o.type));
}

export const attentionRecognition: Pass = {
  name: 'attention-recognition',
  description: 'softmax(q·kᵀ·scale + mask)·v over split heads → the fused attention op',
  run(g: Graph) {
    const u = users(g), outs = new Set(g.outputs.map((o) => o.node));
    const soleUse = (n: Node) => u.get(n)?.length === 1 && !outs.has(n);
    return rewrite(g, (n) => {
      const m = matchAttention(n, soleUse);
      return m ? fuse(n, m) : undefined;
    });
  },
};
