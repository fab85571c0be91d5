// Chains of reshape/transpose nodes, seen as one permutation of their source's elements.
// `simplifyChain` rewrites a chain whose net effect is no movement at all into one reshape (a
// free view), and a chain with several transposes whose net effect is a single transpose (of
// the source or of one of the chain's own reshapes) into that one transpose. Imported graphs
// split heads one way and merge them another (PyTorch's exporter: [L, B, E] → [L, B·H, d] →
// [B·H, L, d] and back); after attention recognition those chains cancel.

import type { Node } from '../ir/node.ts';
import { numel, sameShape, strides, type Shape } from '../ir/types.ts';
import { builder, reshapeTo } from './match.ts';

/** Beyond this many elements a chain is left alone (the permutation is computed element by element). */
const MAX_ELEMENTS = 1 << 22;

const isViewOp = (n: Node) => n.op === 'reshape' || n.op === 'transpose';

/** The chain ending at n, source first: [source, op1, …, n]. */
function chainOf(n: Node): Node[] {
  const c = [n];
  while (isViewOp(c[0]!)) c.unshift(c[0]!.inputs[0]!);
  return c;
}

/** For each flat index of transpose(x: shape, perm), the flat index in x. */
function transposeIndex(shape: Shape, perm: readonly number[]): Int32Array {
  const out = perm.map((p) => shape[p]!), st = strides(shape), n = numel(shape), r = shape.length;
  const idx = new Array<number>(r).fill(0), res = new Int32Array(n);
  let off = 0;
  for (let i = 0; i < n; i++) {
    res[i] = off;
    for (let d = r - 1; d >= 0; d--) {
      off += st[perm[d]!]!;
      if (++idx[d]! < out[d]!) break;
      off -= st[perm[d]!]! * out[d]!;
      idx[d] = 0;
    }
  }
  return res;
}

function permutations(r: number): number[][] {
  if (r === 0) return [[]];
  return permutations(r - 1).flatMap((p) => Array.from({ length: r }, (_, i) => [...p.slice(0, i), r - 1, ...p.slice(i)]));
}

const isIdentity = (perm: readonly number[]) => perm.every((p, i) => p === i);

/** The chain ending at n as one transpose: n = reshape(transpose(reshape(src, shape), perm)); identity perm when nothing moves. */
export function asTranspose(n: Node): { src: Node; shape: Shape; perm: number[]; transposes: number } | undefined {
  if (!isViewOp(n)) return undefined;
  const chain = chainOf(n), src = chain[0]!, ops = chain.slice(1);
  if (chain.some((x) => x.type.dims)) return undefined; // permutations are computed at one size
  const transposes = ops.filter((o) => o.op === 'transpose').length;
  const identity = (sh: Shape) => ({ src, shape: sh, perm: [...sh.keys()], transposes });
  if (transposes === 0) return identity(src.type.shape);
  const total = numel(src.type.shape);
  if (total > MAX_ELEMENTS) return undefined;
  // map[i]: the source element at flat position i of n
  let map: Int32Array = Int32Array.from({ length: total }, (_, i) => i);
  for (const o of ops) {
    if (o.op !== 'transpose') continue;
    const t = transposeIndex(o.inputs[0]!.type.shape, o.attrs.perm as number[]);
    map = Int32Array.from(t, (j) => map[j]!);
  }
  if (map.every((v, i) => v === i)) return identity(src.type.shape);
  const shapes = [src.type.shape, ...ops.map((o) => o.type.shape)].filter((s, i, all) => s.length <= 6 && all.findIndex((t) => sameShape(t, s)) === i);
  for (const sh of shapes) {
    for (const perm of permutations(sh.length)) {
      if (isIdentity(perm)) continue;
      const t = transposeIndex(sh, perm);
      let same = true;
      for (let i = 0; i < total && same; i++) same = t[i] === map[i];
      if (same) return { src, shape: sh, perm, transposes };
    }
  }
  return undefined;
}

/** A simpler equivalent of the view chain ending at n, or undefined when there is none. */
export function simplifyChain(n: Node): Node | undefined {
  if (!isViewOp(n)) return undefined;
  const chain = chainOf(n), ops = chain.length - 1;
  // The permutation is computed at one size: a chain over sizes chosen at run time is left alone.
  if (chain.some((x) => x.type.dims)) return undefined;
  if (ops < 2 && !(n.op === 'transpose' && isIdentity(n.attrs.perm as number[]))) return undefined;
  const t = asTranspose(n);
  if (!t) return undefined;
  if (isIdentity(t.perm)) return reshapeTo(t.src, n.type.shape, n.label);
  if (t.transposes < 2) return undefined;
  return reshapeTo(builder(n.label)('transpose', [reshapeTo(t.src, t.shape)], { perm: t.perm }), n.type.shape, n.label);
}
