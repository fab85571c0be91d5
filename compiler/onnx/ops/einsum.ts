// ONNX Einsum (torch.einsum), as numpy (ONNX's reference) reads the equation, onto existing DSL
// ops. Each operand's repeated label becomes its diagonal (a strided slice of the flattened
// axes); a label no later operand or the output needs is summed away; two operands contract as
// ONE batched matmul: [batch…, free of A, contracted] · [batch…, contracted, free of B] (a
// broadcasting mul when nothing is contracted); more than two contract left to right; a final
// permute puts the output's labels in order. Labels broadcast as in numpy: a size 1 meets any
// size (an ellipsis' dims align from the right). The output without '->' is the ellipsis' dims,
// then the letters used once, sorted (uppercase first).

import { canonDim, isSymbolic, numelDims, type Dim } from '../../ir/dims.ts';
import type { Tensor } from '../../dsl/tensor.ts';
import { OnnxError } from '../proto.ts';
import { Ctx, UnsupportedError } from '../ctx.ts';
import { f32Input } from './common.ts';

/** A tensor and the label of each axis: letters, and '.k' for the k-th dim an ellipsis stands for. */
interface Term { t: Tensor; labels: string[] }

const TERM = /^([A-Za-z]*)(\.\.\.)?([A-Za-z]*)$/;
const show = (l: string): string => (l.startsWith('.') ? `'...' dim ${l.slice(1)}` : `'${l}'`);
const sameDim = (a: Dim, b: Dim): boolean => canonDim(a) === canonDim(b);

/** The equation's labels per input and for the output; refuses a malformed one (OnnxError naming the equation). */
export function parseEquation(where: string, equation: string, ranks: readonly number[]): { ins: string[][]; out: string[] } {
  const bad = (why: string): never => { throw new OnnxError(`${where}: equation '${equation}': ${why}`); };
  const eq = equation.replace(/\s+/g, '');
  const sides = eq.split('->');
  if (sides.length > 2) bad("more than one '->'");
  const terms = sides[0]!.split(',').map((t, i) => {
    const m = TERM.exec(t) ?? bad(`term '${t}' of input ${i} is not letters with at most one '...'`);
    return { pre: [...m[1]!], ell: m[2] !== undefined, post: [...m[3]!] };
  });
  if (terms.length !== ranks.length) bad(`${terms.length} input term${terms.length === 1 ? '' : 's'} for ${ranks.length} input${ranks.length === 1 ? '' : 's'}`);
  const ellDims = terms.map((t, i) => {
    const n = t.pre.length + t.post.length, k = ranks[i]! - n;
    if (t.ell ? k < 0 : k !== 0) bad(`term ${i} has ${n} label${n === 1 ? '' : 's'}${t.ell ? " and '...'" : ''} for input ${i} of rank ${ranks[i]}`);
    return t.ell ? k : 0;
  });
  const E = Math.max(0, ...ellDims);
  const ell = (k: number) => Array.from({ length: k }, (_, j) => `.${E - k + j}`);
  const ins = terms.map((t, i) => [...t.pre, ...ell(ellDims[i]!), ...t.post]);
  const letters = ins.flat().filter((l) => !l.startsWith('.'));
  if (sides.length === 1) {
    const once = [...new Set(letters)].filter((l) => letters.indexOf(l) === letters.lastIndexOf(l));
    return { ins, out: [...ell(E), ...once.sort()] };
  }
  const m = TERM.exec(sides[1]!) ?? bad(`the output '${sides[1]}' is not letters with at most one '...'`);
  if (!m[2] && E > 0) bad(`the inputs' '...' stands for ${E} dim${E === 1 ? '' : 's'} but the output has no '...'`);
  const out = [...m[1]!, ...(m[2] ? ell(E) : []), ...m[3]!];
  for (const l of out) {
    if (!l.startsWith('.') && !letters.includes(l)) bad(`output label '${l}' is in no input`);
    if (out.indexOf(l) !== out.lastIndexOf(l)) bad(`output label '${l}' appears twice`);
  }
  return { ins, out };
}

export function einsum(c: Ctx): Tensor {
  c.only('equation');
  const equation = c.attr('equation') ? c.str('equation', '') : c.unsupported("Einsum without its 'equation' attribute");
  if (c.count === 0) throw new OnnxError(`${c.where}: Einsum needs at least one input`);
  const xs = Array.from({ length: c.count }, (_, i) => f32Input(c, i, `input ${i}`));
  const { ins, out } = parseEquation(c.where, equation, xs.map((x) => x.rank));
  const eq = `equation '${equation}'`;
  // Every label's size: a repeated label's sizes within an input are equal; across inputs they
  // agree or one is 1 (broadcast); a symbolic size meets only itself or 1.
  const size = new Map<string, { d: Dim; input: number }>();
  ins.forEach((ls, i) => {
    const mine = new Map<string, Dim>();
    ls.forEach((l, ax) => {
      const d = xs[i]!.dims[ax]!, prev = mine.get(l);
      if (prev !== undefined && !sameDim(prev, d)) throw new OnnxError(`${c.where}: ${eq}: label ${show(l)} repeats in input ${i} (a diagonal) with the sizes ${prev} and ${d}; they must be equal`);
      mine.set(l, d);
    });
    for (const [l, d] of mine) {
      const seen = size.get(l);
      if (!seen || sameDim(seen.d, d) || d === 1) { if (!seen) size.set(l, { d, input: i }); continue; }
      if (seen.d === 1) { size.set(l, { d, input: i }); continue; }
      const msg = `${c.where}: ${eq}: label ${show(l)} is ${seen.d} in input ${seen.input} but ${d} in input ${i}`;
      if (isSymbolic(d) || isSymbolic(seen.d)) throw new UnsupportedError(`${msg}; a symbolic size must meet the same size or 1`);
      throw new OnnxError(`${msg} (sizes must agree or be 1)`);
    }
  });

  const terms = xs.map((t, i) => diagonal(c, eq, { t, labels: ins[i]! }));
  const need = (from: number) => new Set([...out, ...terms.slice(from).flatMap((t) => t.labels)]);
  let acc = terms[0]!;
  for (let i = 1; i < terms.length; i++) acc = contract(acc, terms[i]!, need(i + 1));
  acc = sumAway(acc, new Set(out));
  return acc.t.permute(out.map((l) => acc.labels.indexOf(l)));
}

/**
 * A label repeated within a term as one axis, its diagonal: the k repeated axes moved last and
 * flattened to n^k, where the diagonal is every (n^k − 1)/(n − 1)-th element (a strided slice).
 */
function diagonal(c: Ctx, eq: string, term: Term): Term {
  const l = term.labels.find((x, i) => term.labels.indexOf(x) !== i);
  if (l === undefined) return term;
  const { t, labels } = term;
  const rest = labels.flatMap((x, i) => (x === l ? [] : [i])), reps = labels.flatMap((x, i) => (x === l ? [i] : []));
  const n = t.dims[reps[0]!]!;
  if (isSymbolic(n)) c.unsupported(`${eq}: the diagonal of label ${show(l)} of the symbolic size '${n}'`);
  const nk = n ** reps.length;
  let flat = t.permute([...rest, ...reps]).reshape(...rest.map((i) => t.dims[i]!), nk);
  if (n > 1) flat = flat.slice(-1, 0, nk, (nk - 1) / (n - 1));
  return diagonal(c, eq, { t: flat, labels: [...rest.map((i) => labels[i]!), l] });
}

/** Sums the labels not in `keep` (each appears once in the term by now). */
function sumAway(term: Term, keep: ReadonlySet<string>): Term {
  const axes = term.labels.flatMap((l, i) => (keep.has(l) ? [] : [i]));
  if (!axes.length) return term;
  return { t: term.t.sum(axes), labels: term.labels.filter((l) => keep.has(l)) };
}

const dimOf = (term: Term, l: string): Dim => term.t.dims[term.labels.indexOf(l)]!;
const arrange = (term: Term, order: readonly string[]): Tensor => term.t.permute(order.map((l) => term.labels.indexOf(l)));

/**
 * a and b contracted over the labels they share that `keep` (later operands, the output) does
 * not need: labels in one only are summed first; then one batched matmul of
 * [batch…, free(a), contracted] and [batch…, contracted, free(b)], the free and contracted axes
 * each flattened to one (a shared label of size 1 on one side broadcasts: matmul's batch dims
 * do; a contracted one is expanded first).
 */
function contract(a0: Term, b0: Term, keep: ReadonlySet<string>): Term {
  const a = sumAway(a0, new Set([...keep, ...b0.labels])), b = sumAway(b0, new Set([...keep, ...a0.labels]));
  const inA = new Set(a.labels), inB = new Set(b.labels);
  const batch = a.labels.filter((l) => inB.has(l) && keep.has(l)), con = a.labels.filter((l) => inB.has(l) && !keep.has(l));
  const fa = a.labels.filter((l) => !inB.has(l)), fb = b.labels.filter((l) => !inA.has(l));
  const dims = (t: Term, ls: readonly string[]) => ls.map((l) => dimOf(t, l));
  const wide = (l: string): Dim => (dimOf(a, l) === 1 ? dimOf(b, l) : dimOf(a, l));
  const labels = [...batch, ...fa, ...fb];
  if (!con.length) {
    // An outer product over the batch labels: a broadcasting mul.
    const ta = arrange(a, [...batch, ...fa]).reshape(...dims(a, batch), ...dims(a, fa), ...fb.map(() => 1));
    const tb = arrange(b, [...batch, ...fb]).reshape(...dims(b, batch), ...fa.map(() => 1), ...dims(b, fb));
    return { t: ta.mul(tb), labels };
  }
  const full = (t: Term): Tensor => {
    const ds = t.labels.map((l) => (con.includes(l) ? wide(l) : dimOf(t, l)));
    return ds.every((d, i) => sameDim(d, t.t.dims[i]!)) ? t.t : t.t.expand(...ds);
  };
  const ea: Term = { t: full(a), labels: a.labels }, eb: Term = { t: full(b), labels: b.labels };
  const k = numelDims(dims(ea, con));
  const ta = arrange(ea, [...batch, ...fa, ...con]).reshape(...dims(a, batch), numelDims(dims(a, fa)), k);
  const tb = arrange(eb, [...batch, ...con, ...fb]).reshape(...dims(b, batch), k, numelDims(dims(b, fb)));
  return { t: ta.matmul(tb).reshape(...batch.map(wide), ...dims(a, fa), ...dims(b, fb)), labels };
}
