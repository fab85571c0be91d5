// The op table: for every op, how its output type follows from its inputs and attributes.
// Shape inference, the verifier and the DSL all go through `inferType`, so a shape rule
// lives in exactly one place.

import type { Attrs, Graph, Node } from './node.ts';
import { fmtType, normAxis, sameShape, type TensorType } from './types.ts';
import type { OpDef, OpTraits } from './ops/def.ts';
import { fail, ShapeError, windowOut } from './ops/rules.ts';
import { ATTENTION_OPS } from './ops/attention.ts';
import { ELEMENTWISE_OPS } from './ops/elementwise.ts';
import { LINALG_OPS } from './ops/linalg.ts';
import { RECURRENT_OPS } from './ops/recurrent.ts';
import { REDUCE_OPS } from './ops/reduce.ts';
import { SHAPE_OPS } from './ops/shape.ts';

export { ShapeError, windowOut };
export type { OpDef, OpTraits };

/** Every op defined in ir/ops/<family>.ts (attributes, type rule, semantics, effects, traits), by name. */
export const OP_DEFS = { ...ATTENTION_OPS, ...ELEMENTWISE_OPS, ...LINALG_OPS, ...RECURRENT_OPS, ...REDUCE_OPS, ...SHAPE_OPS };
export type OpName = keyof typeof OP_DEFS;
/** The attribute type of op K. */
export type AttrsOf<K extends OpName> = (typeof OP_DEFS)[K] extends OpDef<infer A> ? A : never;
export const isOpName = (op: string): op is OpName => Object.hasOwn(OP_DEFS, op);
/** The attributes of `n`, typed by its op (which must be `op`). */
export function attrsOf<K extends OpName>(n: Node, op: K): AttrsOf<K> {
  if (n.op !== op) throw new Error(`attrsOf: node %${n.id} is ${n.op}, not ${op}`);
  return n.attrs as AttrsOf<K>;
}
/** The definition of `op` (the registry's one cast from typed attributes to the node's). */
export const opDef = (op: string): OpDef | undefined => (isOpName(op) ? OP_DEFS[op] as unknown as OpDef : undefined);

type Infer = (ins: readonly TensorType[], a: Attrs) => TensorType;

/** Ops with more than one result declare the types of results 1, 2, … here; `proj` reads them. */
const SECONDARY: Record<string, (ins: readonly TensorType[], a: Attrs) => TensorType[]> = {};

const OPS: Record<string, Infer> = {
};

// A counted loop over a body graph (greedy decoding runs this way, inside wasm):
//   inputs  [carried initial values…, captured values…]
//   body    inputs [carried…, t: i32[], captured…] → outputs [next carried…, emitted…]
//   results the emitted values of every step, stacked along `axis` (a new dimension of size steps).
function loopResults(ins: readonly TensorType[], a: Attrs): TensorType[] {
  const body = a.body as Graph, nc = a.carried as number, steps = a.steps as number, axis = a.axis as number;
  const bi = body.inputs, bo = body.outputs;
  if (!(steps >= 1)) fail('loop', `steps must be >= 1, got ${steps}`);
  if (bi.length !== ins.length + 1) fail('loop', `body takes ${bi.length} inputs, the loop passes ${ins.length} + t`);
  const same = (x: TensorType, y: TensorType) => x.dtype === y.dtype && sameShape(x.shape, y.shape);
  ins.forEach((t, i) => { const b = bi[i < nc ? i : i + 1]!; if (!same(t, b.type)) fail('loop', `input ${i} is ${fmtType(t)} but the body expects ${fmtType(b.type)}`); });
  if (bi[nc]!.type.dtype !== 'i32' || bi[nc]!.type.shape.length !== 0) fail('loop', 'the body input after the carried values must be t: i32[]');
  for (let i = 0; i < nc; i++) if (!same(bo[i]!.node.type, ins[i]!)) fail('loop', `carried value ${bo[i]!.name} changes type: ${fmtType(ins[i]!)} → ${fmtType(bo[i]!.node.type)}`);
  if (bo.length <= nc) fail('loop', 'the body emits nothing');
  return bo.slice(nc).map((o) => {
    const s = o.node.type.shape, ax = normAxis(axis, s.length + 1);
    return { dtype: o.node.type.dtype, shape: [...s.slice(0, ax), steps, ...s.slice(ax)] };
  });
}
OPS.loop = (ins, a) => loopResults(ins, a)[0]!;
SECONDARY.loop = (ins, a) => loopResults(ins, a).slice(1);



/** Ops that update an input's buffer in place, and which input: their result is that buffer. */
export const inPlaceInput = (op: string): number | undefined => opDef(op)?.inPlace;

const TRAITS: Record<string, OpTraits> = {
  input: { noCse: true }, state: { noCse: true }, proj: { noFold: true },
  loop: { noFold: true, noCse: true },
};
export const opTraits = (op: string): OpTraits => {
  const d = opDef(op);
  if (d) return { ...(d.secondary ? { noFold: true } : {}), ...d.traits };
  return { ...(op in SECONDARY ? { noFold: true } : {}), ...TRAITS[op] };
};

const SOURCES = new Set(['input', 'const', 'state']);


export function secondaryTypes(n: Node): TensorType[] {
  const f = opDef(n.op)?.secondary ?? SECONDARY[n.op];
  return f ? f(n.inputs.map((i) => i.type), n.attrs) : [];
}

export const isKnownOp = (op: string): boolean => isOpName(op) || op in OPS || SOURCES.has(op) || op === 'proj';

/** The output type of `op` applied to `inputs`; throws ShapeError naming the op and shapes. */
export function inferType(op: string, inputs: readonly Node[] | readonly TensorType[], attrs: Attrs): TensorType {
  if (op === 'proj') {
    // Result `index` (≥ 1) of a multi-result node.
    const p = inputs[0] as Node | undefined;
    if (!p || !('op' in p)) throw new ShapeError('proj: needs the producing node');
    const t = secondaryTypes(p)[(attrs.index as number) - 1];
    if (!t) throw new ShapeError(`proj: ${p.op} has no result ${String(attrs.index)}`);
    return t;
  }
  const f = opDef(op)?.type ?? OPS[op];
  if (!f) throw new ShapeError(`unknown op '${op}'`);
  const ts = inputs.map((i) => ('type' in i ? i.type : i));
  return f(ts, attrs);
}

