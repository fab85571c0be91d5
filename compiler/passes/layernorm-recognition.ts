// layernorm-recognition: LayerNorm written out in primitive ops, as torch.onnx exports it
// below opset 17 (ReduceMean, Sub, Pow 2, ReduceMean, Add eps, Sqrt, Div, then Mul γ, Add β),
// becomes one `layernorm` node, so imported graphs get the fused kernel (one pass over each
// row instead of nine) and residual-fusion can then absorb a residual add.
//
// Matched, over trailing axes k…r−1 (the same axes, kept, in both means):
//   d = x − mean(x);  y = d / sqrt(mean(d²) + eps)   (or d · rsqrt(…); d² as pow(d, 2) or d·d)
//   out = y · γ + β,  y · γ,  y + β  or  y,   γ and β covering exactly those trailing dims.
// Several trailing axes are flattened into one (a reshape, free). It never fires on a
// normalisation over other axes, an unbiased variance (a sum divided by n − 1), or a γ/β that
// broadcasts differently; intermediate values used elsewhere are still computed for those
// users (correct, only slower). Over named sizes, shapes are compared by dims and the normalised
// trailing dims must be fixed (the kernel's row length).

import { node, rewrite, users, type Graph, type Node } from '../ir/node.ts';
import { dimsOf, numel, sameDims } from '../ir/types.ts';
import { builder, coversTrailing, isScalar, otherInput, reshapeTo, scalarOf } from './match.ts';
import type { Pass } from './pass.ts';

interface Norm { x: Node; k: number; eps: number }

/** The mean of `of` over trailing axes from k with keepdim, returning k. */
function trailingMean(n: Node | undefined, of?: Node): number | undefined {
  if (!n || n.op !== 'mean' || !n.attrs.keepdim || (of && n.inputs[0] !== of)) return undefined;
  const r = n.type.shape.length, axes = [...(n.attrs.axes as number[])].sort((a, b) => a - b);
  if (!axes.length || axes[axes.length - 1] !== r - 1 || axes.some((a, i) => a !== axes[0]! + i)) return undefined;
  return axes[0]!;
}

/** y = (x − mean x) / sqrt(mean((x − mean x)²) + eps), the normalised value without γ, β. */
function matchNormalized(y: Node): Norm | undefined {
  let d: Node | undefined, den: Node | undefined;
  if (y.op === 'div' && y.inputs[1]!.op === 'sqrt') [d, den] = [y.inputs[0], y.inputs[1]!.inputs[0]];
  else if (y.op === 'mul') {
    const r = y.inputs.find((i) => i.op === 'rsqrt');
    if (r) [d, den] = [otherInput(y, r), r.inputs[0]];
  }
  if (!d || !den || d.op !== 'sub' || den.op !== 'add') return undefined;
  const [x, mu] = d.inputs as [Node, Node];
  const k = trailingMean(mu, x);
  if (k === undefined || x.type.dtype !== 'f32' || !sameDims(x.type, y.type)) return undefined;
  if (dimsOf(x.type).slice(k).some((d) => typeof d !== 'number')) return undefined; // a row of run-time length
  const epsNode = den.inputs.find((i) => scalarOf(i) !== undefined);
  const v = epsNode && otherInput(den, epsNode);
  const eps = scalarOf(epsNode);
  if (!v || eps === undefined || !(eps >= 0) || eps === Infinity || trailingMean(v) !== k) return undefined;
  const sq = v.inputs[0]!;
  const squares = (sq.op === 'pow' && sq.inputs[0] === d && isScalar(sq.inputs[1], 2)) || (sq.op === 'mul' && sq.inputs[0] === d && sq.inputs[1] === d);
  return squares ? { x, k, eps } : undefined;
}

/** The operand of `n` (mul or add) that is a γ/β for the trailing dims of `y`'s norm, if any. */
function affineOperand(n: Node, y: Node, norm: Norm): Node | undefined {
  const p = otherInput(n, y);
  if (!p || p === y || p.type.dtype !== 'f32' || !sameDims(n.type, y.type)) return undefined;
  return coversTrailing(dimsOf(p.type), dimsOf(y.type), norm.k) ? p : undefined;
}

/** The shortest decimal that rounds to the same f32 (an exported 1e-5 reads back as 9.99999974e-6). */
function niceEps(e: number): number {
  for (let p = 1; p < 10; p++) { const d = Number(e.toPrecision(p)); if (Math.fround(d) === Math.fround(e)) return d; }
  return e;
}

function fuse(out: Node, norm: Norm, gamma: Node | undefined, beta: Node | undefined): Node {
  const { x, k, eps } = norm, shape = dimsOf(x.type), N = numel(x.type.shape.slice(k));
  const flat = [...shape.slice(0, k), N];
  const b = builder(out.label);
  const vec = (t: Node | undefined, fill: number) =>
    t ? reshapeTo(t, [N]) : node('const', [], { dtype: 'f32', shape: [N] }, { data: new Float32Array(N).fill(fill) }, fill ? 'ones' : 'zeros');
  const ln = b('layernorm', [reshapeTo(x, flat), vec(gamma, 1), vec(beta, 0)], { eps: niceEps(eps) });
  return reshapeTo(ln, shape);
}

export const layernormRecognition: Pass = {
  name: 'layernorm-recognition',
  description: 'a LayerNorm decomposed into mean/sub/pow/sqrt/div (and γ, β) → one layernorm',
  run(g: Graph) {
    const u = users(g), outs = new Set(g.outputs.map((o) => o.node));
    // Fire on the outermost node of a match: skip y (or y·γ) when its only user extends it.
    const sole = (n: Node) => (u.get(n)?.length === 1 && !outs.has(n) ? u.get(n)![0] : undefined);
    const scaled = (m: Node | undefined, y: Node, norm: Norm) => m?.op === 'mul' && affineOperand(m, y, norm) !== undefined;
    const shifted = (a: Node | undefined, y: Node, norm: Norm) => a?.op === 'add' && affineOperand(a, y, norm) !== undefined;
    return rewrite(g, (n) => {
      const norm = matchNormalized(n);
      if (norm) {
        const next = sole(n);
        return scaled(next, n, norm) || shifted(next, n, norm) ? undefined : fuse(n, norm, undefined, undefined);
      }
      if (n.op === 'mul') {
        for (const y of n.inputs) {
          const nm = matchNormalized(y);
          const gamma = nm && affineOperand(n, y, nm);
          if (nm && gamma) return shifted(sole(n), n, nm) ? undefined : fuse(n, nm, gamma, undefined);
        }
      }
      if (n.op === 'add') {
        for (const m of n.inputs) {
          const y = m.op === 'mul' ? m.inputs.find((i) => matchNormalized(i)) : undefined;
          const nm = y && matchNormalized(y), gamma = nm && affineOperand(m, y!, nm), beta = nm && gamma && affineOperand(n, m, nm);
          if (nm && gamma && beta) return fuse(n, nm, gamma, beta);
          const ny = matchNormalized(m), b0 = ny && affineOperand(n, m, ny);
          if (ny && b0) return fuse(n, ny, undefined, b0);
        }
      }
      return undefined;
    });
  },
};
