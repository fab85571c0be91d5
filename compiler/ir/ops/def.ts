// What an op is, in one place: its attributes, its type rule, its meaning (the reference
// semantics, PyTorch's, NaN and Inf included), its effects and what the passes may do with it.
// Each family of ops defines its ops in one file beside this one; ir/ops.ts registers them.
// The wasm side of an op (emission, scratch, packed operands) is in codegen/ops/<family>.ts.

import type { AttrValue, Graph, Node } from '../node.ts';
import type { AnyTensorData, TensorType } from '../types.ts';
import type { Dim } from '../dims.ts';

/** A value the reference interpreter computed. */
export interface Value { type: TensorType; data: AnyTensorData }

/** The attributes of an op that has none. */
export type NoAttrs = Record<string, never>;

/** A node whose attributes have its op's attribute type. */
export type NodeOf<A> = Node & { attrs: A };

/** What the passes may do with an op beyond its type rule (absent: no). */
export interface OpTraits {
  /** Not evaluated at compile time: several results, a body graph, or a copy that exists to be written. */
  noFold?: boolean;
  /** Not merged with an equal node: its value is not a function of its inputs and attributes alone. */
  noCse?: boolean;
  /** Reads element j of each input just before writing element j: may write over a same-shape input that dies. */
  overwritesInput?: boolean;
}

/** What an op's reference semantics may call back into (a body graph runs through the interpreter). */
export interface EvalContext {
  interpret(g: Graph, feeds: Record<string, AnyTensorData>): Record<string, AnyTensorData>;
}

export interface OpDef<A = Record<string, AttrValue>> {
  /** The output type (result 0) of the op on inputs of these types; throws ShapeError. */
  type(ins: readonly TensorType[], a: A): TensorType;
  /** The types of results 1, 2, … of a multi-result op (`proj` nodes read them); such an op is never folded. */
  secondary?(ins: readonly TensorType[], a: A): TensorType[];
  /** PyTorch's meaning in plain loops, accumulating in f64; every result, the primary first. */
  evaluate(n: NodeOf<A>, ins: Value[], ctx: EvalContext): AnyTensorData | AnyTensorData[];
  /**
   * Where inputs broadcast: [input, its dims that broadcast, the dims they meet] (right-aligned).
   * With named sizes, inferType checks each named dim meets itself (ir/symbolic.ts checkBroadcasts).
   */
  broadcasts?(ins: readonly TensorType[], out: TensorType, a: A): Array<[number, readonly Dim[], readonly Dim[]]>;
  /**
   * Symbolic dims of result 0 that probing cannot fit (a strided window's length over a run-time
   * size is a floor, ir/dims.ts windowsOf); undefined for a dim to fit. Checked against `type`.
   */
  dims?(ins: readonly TensorType[], a: A): Array<Dim | undefined>;
  /** The input whose buffer the op updates in place (its result is that buffer). */
  inPlace?: number;
  /** The result is input 0's buffer, read as another shape (no code, no memory of its own). */
  view?: boolean;
  traits?: OpTraits;
}

/** Defines an op with typed attributes `A` (the attribute values the node carries). */
export const defineOp = <A>(def: OpDef<A>): OpDef<A> => def;
