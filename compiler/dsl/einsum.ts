// torch.einsum onto existing DSL ops; ONNX's Einsum (onnx/ops/einsum.ts) calls it with numpy's
// stricter rule. Each operand's repeated label becomes its diagonal (a strided slice of the
// flattened axes); a label no later operand or the output needs is summed away; two operands
// contract as ONE batched matmul: [batch…, free of A, contracted] · [batch…, contracted, free of B]
// (a broadcasting mul when nothing is contracted); more than two contract left to right; a final
// permute puts the output's labels in order. Labels broadcast as in torch and numpy: a size 1 meets
// any size (an ellipsis' dims align from the right). The output without '->' is the ellipsis'
// dims, then the letters used once, sorted (uppercase first). An input '...' that an explicit
// output drops is summed (torch); numpy, and so ONNX, refuses it.

import { canonDim, isSymbolic, numelDims, type Dim } from '../ir/dims.ts';
import { describeValue } from '../ir/print.ts';
import { fmtShape } from '../ir/types.ts';
import { ModelDefinitionError, Tensor, where } from './tensor.ts';

/** How a caller's rules differ from torch's, and the errors it raises. */
export interface EinsumRules {
  /** numpy's rule (ONNX's reference): an input '...' that an explicit output leaves out is an error, not summed. */
  ellipsisInOutput?: boolean;
  /** The error for a malformed equation or sizes that disagree (`msg` starts with the equation). */
  malformed?: (msg: string) => Error;
  /** The error for a well-formed case that is not supported (a symbolic size's diagonal, a symbolic size against another). */
  unsupported?: (msg: string) => Error;
}

/** A tensor and the label of each axis: letters, and '.k' for the k-th dim an ellipsis stands for. */
interface Term { t: Tensor; labels: string[] }

const TERM = /^([A-Za-z]*)(\.\.\.)?([A-Za-z]*)$/;
const show = (l: string): string => (l.startsWith('.') ? `'...' dim ${l.slice(1)}` : `'${l}'`);
const sameDim = (a: Dim, b: Dim): boolean => canonDim(a) === canonDim(b);
const plural = (n: number, w: string) => `${n} ${w}${n === 1 ? '' : 's'}`;
const dslError = (msg: string) => new ModelDefinitionError(`einsum: ${msg}${where()}`);

/**
 * torch.einsum(equation, ...operands) on f32 tensors (the operands may also come as one array).
 * `F.einsum('bij,bjk->bik', a, b)` is a batched matmul; `'ii->i'` a diagonal; `'...ij->ij'` sums
 * the ellipsis' dims.
 */
export function einsum(equation: string, ...operands: Tensor[] | [readonly Tensor[]]): Tensor {
  const xs = (operands.length === 1 && Array.isArray(operands[0]) ? [...operands[0]] : operands) as unknown[];
  if (typeof equation !== 'string') throw dslError(`the equation must be a string, got ${describeValue(equation)}`);
  xs.forEach((x, i) => {
    if (!(x instanceof Tensor)) throw dslError(`equation '${equation}': operand ${i} must be a tensor, got ${describeValue(x)}`);
    if (x.dtype !== 'f32') throw dslError(`equation '${equation}': operand ${i} must be f32 (einsum contracts with matmul), got ${x.dtype}${fmtShape(x.dims)}`);
  });
  return einsumWith(equation, xs as Tensor[], {});
}

/** einsum under a caller's rules (ONNX's: numpy's ellipsis rule, its own errors). */
export function einsumWith(equation: string, xs: readonly Tensor[], rules: EinsumRules): Tensor {
  const malformed = rules.malformed ?? dslError, unsupported = rules.unsupported ?? dslError;
  const eq = `equation '${equation}'`;
  const { ins, out } = parseEquation(equation, xs.map((x) => x.rank), rules.ellipsisInOutput === true, malformed);
  // Every label's size: a repeated label's sizes within an input are equal; across inputs they
  // agree or one is 1 (broadcast); a symbolic size meets only itself or 1.
  const size = new Map<string, { d: Dim; input: number }>();
  ins.forEach((ls, i) => {
    const mine = new Map<string, Dim>();
    ls.forEach((l, ax) => {
      const d = xs[i]!.dims[ax]!, prev = mine.get(l);
      if (prev !== undefined && !sameDim(prev, d)) throw malformed(`${eq}: label ${show(l)} repeats in input ${i} (a diagonal) with the sizes ${prev} and ${d}; they must be equal`);
      mine.set(l, d);
    });
    for (const [l, d] of mine) {
      const seen = size.get(l);
      if (!seen || sameDim(seen.d, d) || d === 1) { if (!seen) size.set(l, { d, input: i }); continue; }
      if (seen.d === 1) { size.set(l, { d, input: i }); continue; }
      const msg = `${eq}: label ${show(l)} is ${seen.d} in input ${seen.input} but ${d} in input ${i}`;
      if (isSymbolic(d) || isSymbolic(seen.d)) throw unsupported(`${msg}; a symbolic size must meet the same size or 1`);
      throw malformed(`${msg} (sizes must agree or be 1)`);
    }
  });

  const terms = xs.map((t, i) => diagonal(eq, { t, labels: ins[i]! }, unsupported));
  const need = (from: number) => new Set([...out, ...terms.slice(from).flatMap((t) => t.labels)]);
  let acc = terms[0]!;
  for (let i = 1; i < terms.length; i++) acc = contract(acc, terms[i]!, need(i + 1));
  acc = sumAway(acc, new Set(out));
  return acc.t.permute(out.map((l) => acc.labels.indexOf(l)));
}

/** The equation's labels per input and for the output; a malformed one is `malformed`'s error naming the equation. */
function parseEquation(equation: string, ranks: readonly number[], ellipsisInOutput: boolean, malformed: (msg: string) => Error): { ins: string[][]; out: string[] } {
  const bad = (why: string): never => { throw malformed(`equation '${equation}': ${why}`); };
  const eq = equation.replace(/\s+/g, '');
  const sides = eq.split('->');
  if (sides.length > 2) bad("more than one '->'");
  const terms = sides[0]!.split(',').map((t, i) => {
    const m = TERM.exec(t) ?? bad(`term '${t}' of input ${i} is not letters with at most one '...'`);
    return { pre: [...m[1]!], ell: m[2] !== undefined, post: [...m[3]!] };
  });
  if (terms.length !== ranks.length) bad(`${plural(terms.length, 'input term')} for ${plural(ranks.length, 'input')}`);
  const ellDims = terms.map((t, i) => {
    const n = t.pre.length + t.post.length, k = ranks[i]! - n;
    if (t.ell ? k < 0 : k !== 0) bad(`term ${i} has ${plural(n, 'label')}${t.ell ? " and '...'" : ''} for input ${i} of rank ${ranks[i]}`);
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
  if (ellipsisInOutput && !m[2] && E > 0) bad(`the inputs' '...' stands for ${plural(E, 'dim')} but the output has no '...'`);
  const out = [...m[1]!, ...(m[2] ? ell(E) : []), ...m[3]!];
  for (const l of out) {
    if (!l.startsWith('.') && !letters.includes(l)) bad(`output label '${l}' is in no input`);
    if (out.indexOf(l) !== out.lastIndexOf(l)) bad(`output label '${l}' appears twice`);
  }
  return { ins, out };
}

/**
 * A label repeated within a term as one axis, its diagonal: the k repeated axes moved last and
 * flattened to n^k, where the diagonal is every (n^k − 1)/(n − 1)-th element (a strided slice).
 */
function diagonal(eq: string, term: Term, unsupported: (msg: string) => Error): Term {
  const l = term.labels.find((x, i) => term.labels.indexOf(x) !== i);
  if (l === undefined) return term;
  const { t, labels } = term;
  const rest = labels.flatMap((x, i) => (x === l ? [] : [i])), reps = labels.flatMap((x, i) => (x === l ? [i] : []));
  const n = t.dims[reps[0]!]!;
  if (isSymbolic(n)) throw unsupported(`${eq}: the diagonal of label ${show(l)} of the symbolic size '${n}' is not supported`);
  const nk = n ** reps.length;
  let flat = t.permute([...rest, ...reps]).reshape(...rest.map((i) => t.dims[i]!), nk);
  if (n > 1) flat = flat.slice(-1, 0, nk, (nk - 1) / (n - 1));
  return diagonal(eq, { t: flat, labels: [...rest.map((i) => labels[i]!), l] }, unsupported);
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
