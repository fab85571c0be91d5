// Control: a counted loop over a body graph, and a run-time check of values.
//
// The counted loop (greedy decoding runs this way, inside wasm):
//   inputs  [carried initial values…, captured values…]
//   body    inputs [carried…, t: i32[], captured…] → outputs [next carried…, emitted…]
//   results the emitted values of every step, stacked along `axis` (a new dimension of size steps);
//           with `final`, then the carried values after the last step.
// `steps` is a number, or a size chosen at run time: its value at the bounds in `steps` (what the
// results are planned for) and its dim ('T', 'T+1') in `sym` (ir/symbolic.ts), so the results'
// stacked dim is that dim and the counter runs to the run-time value. `reverse` runs t from
// steps − 1 down to 0 (an emitted value still goes to position t): a backward recurrence over a
// run-time length, which no flip of a fixed size could put back in order.

import type { Graph } from '../node.ts';
import { allocData, fmtType, normAxis, numel, sameShape, type AnyTensorData, type TensorType } from '../types.ts';
import { defineOp } from './def.ts';
import { evalDim, sizeNames, SIZE_NAME, type Dim, type Sizes } from '../dims.ts';
import { symAttrsOf, typeAt } from '../symbolic.ts';
import { arity, fail, raise, wantDtype } from './rules.ts';

export interface LoopAttrs {
  body: Graph;
  /** How many of the inputs (and body outputs) are carried values. */
  carried: number;
  steps: number;
  /** Where the steps dimension goes in each emitted result. */
  axis: number;
  /** t runs from steps − 1 down to 0. */
  reverse?: boolean;
  /** The carried values after the last step are results too, after the emitted ones. */
  final?: boolean;
}

/** The loop's count: a number, or the dim of a size chosen at run time. */
export const loopSteps = (a: LoopAttrs): Dim => (symAttrsOf(a as never)?.values.steps as Dim | undefined) ?? a.steps;

/**
 * The sizes the body's symbolic dims take for these inputs (the type rules run on static
 * inputs: at the bounds, or at the probe sizes of ir/symbolic.ts), read off the body inputs'
 * dims: a dim that is a single name gives it; one with a single name still unknown (2*N, N*T
 * once T is known) gives it by search up to its bound. (Only single names were read at first:
 * a loop carrying a value of 2*N rows then compiled at no size but the bound.)
 */
function bodySizes(ins: readonly TensorType[], body: Graph, nc: number): Record<string, number> {
  const sizes: Record<string, number> = {};
  const dims: Array<{ d: string; v: number; max: Sizes }> = [];
  ins.forEach((t, i) => {
    const b = body.inputs[i < nc ? i : i + 1]!.type;
    b.dims?.forEach((d, k) => {
      if (typeof d !== 'string' || t.shape[k] === undefined) return;
      if (SIZE_NAME.test(d)) sizes[d] ??= t.shape[k]!;
      else dims.push({ d, v: t.shape[k]!, max: b.max ?? {} });
    });
  });
  for (let found = true; found;) {
    found = false;
    for (const { d, v, max } of dims) {
      const unknown = sizeNames(d).filter((n) => sizes[n] === undefined);
      if (unknown.length !== 1) continue;
      const n = unknown[0]!;
      for (let x = 1; x <= (max[n] ?? 0); x++) if (evalDim(d, { ...sizes, [n]: x }) === v) { sizes[n] = x; found = true; break; }
    }
  }
  return sizes;
}

function loopResults(ins: readonly TensorType[], a: LoopAttrs): TensorType[] {
  const body = a.body, nc = a.carried, steps = a.steps, axis = a.axis;
  const bi = body.inputs, bo = body.outputs;
  if (!(Number.isInteger(steps) && steps >= 1)) fail('loop', `steps must be an integer >= 1, got ${steps}`);
  if (bi.length !== ins.length + 1) fail('loop', `body takes ${bi.length} inputs, the loop passes ${ins.length} + t`);
  // This rule types the results from the body's sizes, read off its inputs: a count chosen at run
  // time inside the body may name none of them, and its results would be typed at its bound.
  const inner = body.nodes.find((m) => m.op === 'loop' && symAttrsOf(m.attrs)?.values.steps !== undefined);
  if (inner) fail('loop', `a loop over a count chosen at run time (${String(symAttrsOf(inner.attrs)!.values.steps)}) inside a loop's body is not supported`);
  const sizes = bodySizes(ins, body, nc), at = (t: TensorType) => (t.dims ? typeAt(t, { ...t.max, ...sizes }) : t);
  const same = (x: TensorType, y: TensorType) => x.dtype === y.dtype && sameShape(x.shape, at(y).shape);
  ins.forEach((t, i) => { const b = bi[i < nc ? i : i + 1]!; if (!same(t, b.type)) fail('loop', `input ${i} is ${fmtType(t)} but the body expects ${fmtType(at(b.type))}`); });
  if (bi[nc]!.type.dtype !== 'i32' || bi[nc]!.type.shape.length !== 0) fail('loop', 'the body input after the carried values must be t: i32[]');
  for (let i = 0; i < nc; i++) if (!same(ins[i]!, bo[i]!.node.type)) fail('loop', `carried value ${bo[i]!.name} changes type: ${fmtType(ins[i]!)} → ${fmtType(at(bo[i]!.node.type))}`);
  if (bo.length <= nc && !a.final) fail('loop', 'the body emits nothing');
  if (bo.length === 0) fail('loop', 'the loop has no results: it carries and emits nothing');
  return [...bo.slice(nc).map((o) => {
    const s = at(o.node.type).shape, ax = normAxis(axis, s.length + 1);
    return { dtype: o.node.type.dtype, shape: [...s.slice(0, ax), steps, ...s.slice(ax)] };
  }), ...(a.final ? ins.slice(0, nc) : [])];
}

const loop = defineOp<LoopAttrs>({
  type: (ins, a) => loopResults(ins, a)[0]!,
  secondary: (ins, a) => loopResults(ins, a).slice(1),
  evaluate: (n, ins, ctx) => {
    const body = n.attrs.body, nc = n.attrs.carried, steps = n.attrs.steps;
    const names = body.inputs.map((i) => i.label!);
    let carried = ins.slice(0, nc).map((v) => v.data);
    const captured = ins.slice(nc).map((v) => v.data);
    const emits = body.outputs.slice(nc);
    const types = loopResults(n.inputs.map((i) => i.type), n.attrs);
    const stacked = emits.map((_, j) => allocData(types[j]!));
    for (let s = 0; s < steps; s++) {
      const t = n.attrs.reverse ? steps - 1 - s : s;
      const feeds: Record<string, AnyTensorData> = {};
      carried.forEach((d, i) => { feeds[names[i]!] = d; });
      feeds[names[nc]!] = Int32Array.of(t);
      captured.forEach((d, i) => { feeds[names[nc + 1 + i]!] = d; });
      const out = ctx.interpret(body, feeds);
      carried = body.outputs.slice(0, nc).map((o) => out[o.name]!);
      emits.forEach((o, j) => {
        const e = out[o.name]!, s = o.node.type.shape, ax = n.attrs.axis;
        const inner = numel(s.slice(ax)), outer = e.length / inner;
        for (let q = 0; q < outer; q++) for (let i = 0; i < inner; i++) stacked[j]![(q * steps + t) * inner + i] = e[q * inner + i]!;
      });
    }
    return n.attrs.final ? [...stacked, ...carried.map((d) => d.slice())] : stacked;
  },
  traits: { noFold: true, noCse: true },
});

/**
 * check(x, ok, v): x unchanged (a copy) when every element of `ok` holds; otherwise an error at
 * run time, `error` (an indexError, ir/ops/rules.ts) with {0} the element of `v` at the first
 * `ok` that is false (row-major order) and {1} that element's flat position. `ok` and `v` have one
 * shape. For argument checks on values known only when the code runs (PyTorch raising on
 * embedding_bag's offsets): the values checked flow through x to the nodes that need them
 * checked, so the check runs before them.
 */
export interface CheckAttrs { error: string }

const check = defineOp<CheckAttrs>({
  type: (ins, a) => {
    arity('check', ins, 3);
    const [x, ok, v] = ins as [TensorType, TensorType, TensorType];
    wantDtype('check', 'condition', ok, 'bool');
    wantDtype('check', 'value', v, 'i32');
    if (!sameShape(ok.shape, v.shape)) fail('check', `condition ${fmtType(ok)} and value ${fmtType(v)} must have one shape`);
    if (typeof a.error !== 'string' || a.error === '') fail('check', `error must be a message, got ${String(a.error)}`);
    return x;
  },
  evaluate: (n, [x, ok, v]) => {
    const at = ok!.data.findIndex((b) => !b);
    if (at >= 0) raise(n.attrs.error, v!.data[at]!, at);
    return x!.data.slice();
  },
});

export const CONTROL_OPS = { loop, check };
