// The op registry: every op's one definition (ir/ops/<family>.ts: attributes, type rule,
// results, reference semantics, effects, traits), by name. Shape inference, the verifier, the
// DSL, the reference interpreter and the passes all ask here, so each rule lives in one place;
// the wasm side of each op is registered the same way in codegen/ops/index.ts.

import type { Attrs, Node } from './node.ts';
import type { TensorType } from './types.ts';
import type { OpDef, OpTraits } from './ops/def.ts';
import { ShapeError, windowOut } from './ops/rules.ts';
import { ATTENTION_OPS } from './ops/attention.ts';
import { CONTROL_OPS } from './ops/control.ts';
import { ELEMENTWISE_OPS } from './ops/elementwise.ts';
import { LINALG_OPS } from './ops/linalg.ts';
import { RECURRENT_OPS } from './ops/recurrent.ts';
import { REDUCE_OPS } from './ops/reduce.ts';
import { SHAPE_OPS } from './ops/shape.ts';
import { SCATTER_OPS } from './ops/scatter.ts';
import { checkBroadcasts, symbolicTypes } from './symbolic.ts';

export { ShapeError, windowOut };
export type { OpDef, OpTraits };

/** Every op defined in ir/ops/<family>.ts (attributes, type rule, semantics, effects, traits), by name. */
export const OP_DEFS = { ...ATTENTION_OPS, ...CONTROL_OPS, ...ELEMENTWISE_OPS, ...LINALG_OPS, ...RECURRENT_OPS, ...REDUCE_OPS, ...SHAPE_OPS, ...SCATTER_OPS };
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

/** Nodes that are IR structure rather than ops: sources carry their type (and a constant its data); `proj` reads result `index` ≥ 1 of a multi-result node. */
const STRUCTURAL: Record<string, OpTraits> = { input: { noCse: true }, state: { noCse: true }, const: {}, proj: { noFold: true } };

/** Ops that update an input's buffer in place, and which input: their result is that buffer. */
export const inPlaceInput = (op: string): number | undefined => opDef(op)?.inPlace;
/** Ops whose result is a view of input 0's buffer (reshape). */
export const isView = (op: string): boolean => opDef(op)?.view === true;

/** What the passes may do with an op (a multi-result op is never folded). */
export const opTraits = (op: string): OpTraits => {
  const d = opDef(op);
  return d ? { ...(d.secondary ? { noFold: true } : {}), ...d.traits } : { ...STRUCTURAL[op] };
};

/** The types of results 1, 2, … of a multi-result node (none for other nodes). */
export function secondaryTypes(n: Node): TensorType[] {
  const d = opDef(n.op), f = d?.secondary;
  return f ? symbolicTypes(n.op, n.inputs.map((i) => i.type), n.attrs, (ins, a) => [d.type(ins, a), ...f(ins, a)], d.dims).slice(1) : [];
}

export const isKnownOp = (op: string): boolean => isOpName(op) || Object.hasOwn(STRUCTURAL, op);

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
  const d = opDef(op);
  if (!d) throw new ShapeError(`unknown op '${op}'`);
  const ts = inputs.map((i) => ('type' in i ? i.type : i));
  const t = symbolicTypes(op, ts, attrs, (ins, a) => [d.type(ins, a)], d.dims)[0]!;
  if (d.broadcasts && ts.some((x) => x.dims)) checkBroadcasts(op, d.broadcasts(ts, t, attrs));
  return t;
}
