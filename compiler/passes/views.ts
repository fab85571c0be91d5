// Chains of reshape/transpose nodes, seen as one permutation of their source's elements.
// `simplifyChain` rewrites a chain whose net effect is no movement at all into one reshape (a
// free view), and a chain with several transposes whose net effect is a single transpose (of
// the source or of one of the chain's own reshapes) into that one transpose. Imported graphs
// split heads one way and merge them another (PyTorch's exporter: [L, B, E] → [L, B·H, d] →
// [B·H, L, d] and back); after attention recognition those chains cancel.
//
// Over named sizes (ir/dims.ts) the permutation cannot be computed element by element: it
// would hold at the one size it was computed at. There the chain is read as a permutation of
// *atoms*, dims that each reshape only groups or splits row-major ([seq, 4*batch, 8] →
// [seq, batch, 4, 8] splits the atom 4*batch into batch and 4): an atom is split where a
// reshape's dim divides it, several are grouped where their product is the dim, all as
// polynomial identities, so the permutation found holds at every size. A reshape that does not
// group or split whole atoms that way ([2*batch, 3] → [batch, 6]) leaves the chain alone.

import { divDims, mulDims, type Dim } from '../ir/dims.ts';
import type { Node } from '../ir/node.ts';
import { attrsOf } from '../ir/ops.ts';
import { dimsOf, numel, sameShape, strides, type Shape } from '../ir/types.ts';
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

/**
 * A chain over named sizes as a permutation of atoms (see the top of the file): `shape`, the
 * source regrouped into runs of atoms that stay together (the source's last axis apart from the
 * rest, so a row permutation shows as one), and `perm`, where each run goes; undefined when a
 * reshape does not group or split whole atoms.
 */
function atomTranspose(chain: readonly Node[]): { shape: Dim[]; perm: number[] } | undefined {
  const atoms: Dim[] = [];
  const fresh = (d: Dim) => atoms.push(d) - 1;
  // each axis is a run of atoms, row-major; an axis of 1 has none
  let srcAxes = dimsOf(chain[0]!.type).map((d) => (d === 1 ? [] : [fresh(d)]));
  let cur = srcAxes.map((a) => [...a]);
  for (const op of chain.slice(1)) {
    if (op.op === 'transpose') { cur = attrsOf(op, 'transpose').perm.map((p) => cur[p]!); continue; }
    const flat = cur.flat(), next: number[][] = [];
    let at = 0;
    for (const want of dimsOf(op.type)) {
      const axis: number[] = [];
      for (let rest: Dim = want; rest !== 1;) {
        const a = flat[at];
        if (a === undefined) return undefined;
        const x = atoms[a]!;
        const whole = x === rest ? 1 : divDims(rest, x), inner = whole === undefined ? divDims(x, rest) : undefined;
        if (whole !== undefined) { axis.push(a); at++; rest = whole; continue; }
        if (inner === undefined) return undefined;
        // split atom a into (rest, inner), row-major, wherever it is
        const o = fresh(rest), i = fresh(inner);
        srcAxes = srcAxes.map((ax) => ax.flatMap((y) => (y === a ? [o, i] : [y])));
        flat.splice(at, 1, o, i);
        axis.push(o); at++; rest = 1;
      }
      next.push(axis);
    }
    if (at !== flat.length) return undefined;
    cur = next;
  }
  const src = srcAxes.flat(), out = cur.flat(), last = new Set(srcAxes[srcAxes.length - 1] ?? []);
  if (src.length !== out.length || !src.every((a) => out.includes(a))) return undefined;
  // runs: atoms adjacent and in order both in the source and in the result
  const runs: number[][] = [];
  for (const a of out) {
    const run = runs[runs.length - 1], prev = run?.[run.length - 1];
    if (run && src.indexOf(a) === src.indexOf(prev!) + 1 && last.has(a) === last.has(prev!)) run.push(a);
    else runs.push([a]);
  }
  const bySrc = [...runs].sort((p, q) => src.indexOf(p[0]!) - src.indexOf(q[0]!));
  return { shape: bySrc.map((r) => r.map((a) => atoms[a]!).reduce<Dim>((p, d) => mulDims(p, d), 1)), perm: runs.map((r) => bySrc.indexOf(r)) };
}

/** The chain ending at n as one transpose: n = reshape(transpose(reshape(src, shape), perm)); identity perm when nothing moves. */
export function asTranspose(n: Node): { src: Node; shape: readonly Dim[]; perm: number[]; transposes: number } | undefined {
  if (!isViewOp(n)) return undefined;
  const chain = chainOf(n), src = chain[0]!, ops = chain.slice(1);
  const transposes = ops.filter((o) => o.op === 'transpose').length;
  if (chain.some((x) => x.type.dims)) {
    const t = atomTranspose(chain);
    return t && (isIdentity(t.perm) ? { src, shape: dimsOf(src.type), perm: [...src.type.shape.keys()], transposes } : { src, ...t, transposes });
  }
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
  const ops = chainOf(n).length - 1;
  if (ops < 2 && !(n.op === 'transpose' && isIdentity(n.attrs.perm as number[]))) return undefined;
  const t = asTranspose(n);
  if (!t) return undefined;
  if (isIdentity(t.perm)) return reshapeTo(t.src, dimsOf(n.type), n.label);
  if (t.transposes < 2) return undefined;
  return reshapeTo(builder(n.label)('transpose', [reshapeTo(t.src, t.shape)], { perm: t.perm }), dimsOf(n.type), n.label);
}
