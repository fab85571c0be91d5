// What an ONNX op translation works with: values (IR tensors, or host values known at import
// time), the node's context (attributes by name, inputs, errors naming the node) and the
// conversions between host values and constants of the IR. Host values fold through the
// reference semantics, so shape arithmetic never reaches the compiled model. With sizes kept
// symbolic, shape arithmetic yields size values: int64 scalars or vectors whose entries are dims
// ('batch', 'batch*4', 7). Only the ops that understand them read them (Ctx.dims, Ctx.any);
// any other use is refused naming the size, so no op ever computes with a size's bound.

import type { Node } from '../ir/node.ts';
import { opTraits } from '../ir/ops.ts';
import { fmtShape, type AnyTensorData, type DType } from '../ir/types.ts';
import { isSymbolic, sizeNames, type Dim } from '../ir/dims.ts';
import { evalNode } from '../reference/interpret.ts';
import { constant, Tensor } from '../dsl/tensor.ts';
import { DT, dtypeName, OnnxError, UnsupportedError, type OnnxAttr, type OnnxNode, type OnnxTensor } from './proto.ts';

/** A value known at import time: ONNX's element type, dims and values (int64 as exact-enough numbers). */
export interface Host { readonly host: true; dtype: number; dims: number[]; data: OnnxTensor['data'] }
export type Val = Tensor | Host;
export { UnsupportedError };
export const isHost = (v: AnyVal): v is Host => (v as Host).host === true;
export const host = (dtype: number, dims: number[], data: OnnxTensor['data']): Host => ({ host: true, dtype, dims, data });

/**
 * An int64 scalar (dims []) or vector (dims [n]) known at compile time up to the symbolic sizes:
 * a Shape of a tensor with dims ['batch', 8] is [batch, 8]. At least one entry is symbolic
 * (`sizeValue` gives a Host otherwise), so an op that does not read size values cannot mistake
 * one for a constant.
 */
export interface SizeVal { readonly sizes: true; dims: [] | [number]; values: Dim[] }
/**
 * A zero-size tensor (a 0 in its dims): a graph input given so, a Split size of 0, a Slice that
 * leaves nothing, a Reshape or Expand to a shape with a 0, … The IR has no zero-size tensors, and
 * an empty tensor has no values to compute: its dtype and dims are all there is to it. The ops
 * where ONNX defines a result take it (ops/empty.ts; Concat drops it), yielding further empties or
 * constants (a reduction over the empty axis, its Shape); a graph input or output that is one is an
 * EmptyEdge of the IR graph. Any other op refuses it (Ctx.any), naming it and the node that made it.
 */
export interface EmptyVal { readonly empty: true; dtype: DType; dims: Dim[]; origin: string }
/** What a node input or output holds: a tensor, a host value, a size value or an empty tensor. */
export type AnyVal = Val | SizeVal | EmptyVal;
export const isSizeVal = (v: AnyVal | undefined): v is SizeVal => (v as SizeVal | undefined)?.sizes === true;
export const isEmptyVal = (v: AnyVal | undefined): v is EmptyVal => (v as EmptyVal | undefined)?.empty === true;
/** The refusal of an empty tensor where `where` needs a value (`what`: the input or output). */
export const emptyRefusal = (v: EmptyVal, where: string, what: string): UnsupportedError =>
  new UnsupportedError(`${where}: ${what} is an empty tensor ${fmtShape(v.dims)} (${v.origin}); this op does not take zero-size tensors (docs/onnx.md, Zero-size tensors, lists those that do)`);
/** An empty tensor of `dims`, made by `origin` (a node's output, a graph input). */
export const emptyVal = (dtype: DType, dims: Dim[], origin: string): EmptyVal => ({ empty: true, dtype, dims, origin });
/** Entries as a size value, or a host int64 when none is symbolic. */
export function sizeValue(values: Dim[], scalar = false): SizeVal | Host {
  const dims: [] | [number] = scalar ? [] : [values.length];
  return values.some(isSymbolic) ? { sizes: true, dims, values } : host(DT.INT64, dims, values as number[]);
}
/** The first symbolic size a value names (a tensor's dims, or a size value's entries). */
export function symbolicSizeOf(v: AnyVal | undefined): string | undefined {
  if (!v || isHost(v)) return undefined;
  const ds = isSizeVal(v) ? v.values : isEmptyVal(v) ? v.dims : v.node.type.dims ?? [];
  return ds.flatMap((d) => (isSymbolic(d) ? sizeNames(d) : []))[0];
}
/** How a refusal shows a size value: [batch, 8]. */
export const fmtSizes = (v: SizeVal): string => (v.dims.length ? `[${v.values.join(', ')}]` : String(v.values[0]));

/** A graph input the importer needs as a constant (a recurrent weight that is packed at compile time). */
export class NeedsConstantError extends OnnxError {
  override name = 'NeedsConstantError';
  constructor(message: string, readonly input: string) { super(message); }
}

/** What an op translation sees: its node, attributes by name, inputs as tensors or host values. */
export class Ctx {
  constructor(readonly node: OnnxNode, readonly opset: number, private readonly vals: (AnyVal | undefined)[], private readonly heard = new Set<string>()) {}
  /** The same node with other inputs (ops/empty.ts: stand-ins for empty ones); the attributes it reads count as read here. */
  withInputs(vals: (AnyVal | undefined)[]): Ctx { return new Ctx(this.node, this.opset, vals, this.heard); }
  /** Every input, as given (undefined for an absent one). */
  get inputs(): readonly (AnyVal | undefined)[] { return this.vals; }
  get where(): string { return `node '${this.node.name}' (${this.node.opType}, opset ${this.opset})`; }
  /** Number of inputs given (trailing optional inputs may be absent). */
  get count(): number { return this.vals.length; }
  has(i: number): boolean { return this.vals[i] !== undefined; }
  val(i: number, what = `input ${i}`): Val {
    const v = this.any(i, what);
    if (isSizeVal(v)) throw this.sizeRefusal(i, what);
    return v;
  }
  /** Input i, a size value included (for the ops that read them); an empty tensor is refused. */
  any(i: number, what = `input ${i}`): Val | SizeVal {
    const v = this.vals[i];
    if (!v) throw new OnnxError(`${this.where}: ${what} is missing`);
    if (isEmptyVal(v)) throw emptyRefusal(v, this.where, `${what} ('${this.node.inputs[i]}')`);
    return v;
  }
  isSizes(i: number): boolean { return isSizeVal(this.vals[i]); }
  /** Input i is an empty tensor (for the ops that take them: Concat, ops/empty.ts). */
  empty(i: number): EmptyVal | undefined { const v = this.vals[i]; return isEmptyVal(v) ? v : undefined; }
  /** Input i as dims: an int64 scalar or vector known at compile time, its entries sizes or numbers. */
  dims(i: number, what = `input ${i}`): Dim[] {
    if (this.isSizes(i)) return [...(this.vals[i] as SizeVal).values];
    const h = this.host(i, what);
    if (h.dims.length > 1 || !(h.dtype === DT.INT64 || h.dtype === DT.INT32)) throw new UnsupportedError(`${this.where}: ${what} must be an int64 scalar or vector, got ${dtypeName(h.dtype)}[${h.dims.join(', ')}]`);
    return Array.from(h.data as ArrayLike<number>, Number);
  }
  /** The error for a size value where an op needs a tensor or a constant. */
  sizeRefusal(i: number, what = `input ${i}`): UnsupportedError {
    const v = this.vals[i] as SizeVal, size = symbolicSizeOf(v)!;
    return new UnsupportedError(`${this.where}: ${what} ('${this.node.inputs[i]}') is ${fmtSizes(v)}, computed from the symbolic size '${size}'; ${this.node.opType} cannot use it here (it would need the size at compile time); give it a fixed size with { dims: { ${JSON.stringify(size)}: N } }`);
  }
  /** Input i as a tensor of the IR (a host value becomes a constant). */
  t(i: number, what?: string): Tensor { return toTensor(this.val(i, what), `${this.where} ${what ?? `input ${i}`}`); }
  /** Input i as a host value (it must be known at import time). */
  host(i: number, what = `input ${i}`, bindable = true): Host {
    // An empty tensor's value is known (it has none): an empty list of axes, pads, …
    const e = this.empty(i);
    if (e && !e.dims.some(isSymbolic)) return host(ONNX_OF[e.dtype], [...e.dims] as number[], e.dtype === 'f32' ? new Float32Array(0) : e.dtype === 'bool' ? new Uint8Array(0) : []);
    const v = this.val(i, what);
    if (isHost(v)) return v;
    const folded = foldTensor(v);
    if (folded) return folded;
    const msg = `${this.where}: ${what} ('${this.node.inputs[i]}') must be known at compile time (a constant or computed from static shapes)`;
    // Computed from constants but of a symbolic size: not folded (it would fold at the bounds).
    const size = symbolicSizeOf(v);
    if (size !== undefined) throw new UnsupportedError(`${msg}; it has the symbolic size '${size}' (${fmtShape(v.dims)}), so it is computed at run time; give it a fixed size with { dims: { ${JSON.stringify(size)}: N } }`);
    const from = bindable ? graphInputsOf(v.node) : [];
    if (from.length) throw new NeedsConstantError(`${msg}; it depends on the graph input${from.length > 1 ? 's' : ''} ${from.map((n) => `'${n}'`).join(', ')} (bind ${from.length > 1 ? 'them' : 'it'} with { constants })`, from[0]!);
    throw new UnsupportedError(`${msg}; it is computed at run time`);
  }
  /** Input i for a computation that runs only at compile time: a run-time value is unsupported (binding its inputs would not make the op run). */
  compileTime(i: number, what: string): Host { return this.host(i, what, false); }
  ints(i: number, what?: string): number[] { return Array.from(this.host(i, what).data, Number); }
  /** Every given input is known at compile time. */
  allConst(): boolean { return this.vals.every((v, i) => v === undefined || this.isConst(i)); }
  /** An empty tensor counts as one (its value is known: none), so a Concat of it and constants folds. */
  isConst(i: number): boolean { const v = this.vals[i]; return !!v && !isSizeVal(v) && (isHost(v) || isEmptyVal(v) || !!foldTensor(v)); }
  /** Input i must be a constant, e.g. a packed weight; a graph input gets a NeedsConstantError naming it. */
  constTensor(i: number, what: string): Tensor { return toTensor(this.host(i, what), `${this.where} ${what}`); }
  // heard (constructor): the attributes the translation read or declared (only()); any other one is refused after it (unheard).
  attr(name: string): OnnxAttr | undefined { this.heard.add(name); return this.node.attrs.get(name); }
  int(name: string, dflt: number): number { const a = this.attr(name); return a ? this.want(a, 'int', name) as number : dflt; }
  float(name: string, dflt: number): number { const a = this.attr(name); return a ? this.want(a, 'float', name) as number : dflt; }
  str(name: string, dflt: string): string { const a = this.attr(name); return a ? this.want(a, 'string', name) as string : dflt; }
  intList(name: string): number[] | undefined { const a = this.attr(name); return a ? this.want(a, 'ints', name) as number[] : undefined; }
  stringList(name: string): string[] | undefined { const a = this.attr(name); return a ? this.want(a, 'strings', name) as string[] : undefined; }
  floatList(name: string): number[] | undefined { const a = this.attr(name); return a ? this.want(a, 'floats', name) as number[] : undefined; }
  private want(a: OnnxAttr, kind: OnnxAttr['kind'], name: string): unknown {
    if (a.kind !== kind) throw new OnnxError(`${this.where}: attribute '${name}' must be ${kind}, got ${a.kind}`);
    return (a as { value: unknown }).value;
  }
  /** Refuses something this importer does not do, naming the node and what. */
  unsupported(what: string): never { throw new UnsupportedError(`${this.where}: ${what} is not supported`); }
  /** Refuses any attribute not in `known` (so an option we ignore cannot silently change the result). */
  only(...known: string[]): void {
    for (const k of known) this.heard.add(k);
    for (const k of this.node.attrs.keys()) if (!known.includes(k)) this.unsupported(`attribute '${k}'`);
  }
  /** After the translation: refuses an attribute it neither read nor declared (so none is ignored silently, on any op). */
  unheard(): void {
    for (const k of this.node.attrs.keys()) if (!this.heard.has(k)) this.unsupported(`attribute '${k}'`);
  }
}

const IR_OF: Record<number, DType | undefined> = { [DT.FLOAT]: 'f32', [DT.INT64]: 'i32', [DT.INT32]: 'i32', [DT.BOOL]: 'bool' };
export const ONNX_OF: Record<DType, number> = { f32: DT.FLOAT, i32: DT.INT64, bool: DT.BOOL };

/** The IR dtype of an ONNX element type (int64 runs as i32), or an error naming it. */
export function irDtype(t: number, where: string): DType {
  const d = IR_OF[t];
  if (!d) throw new UnsupportedError(`${where}: element type ${dtypeName(t)} is not supported (f32, int64/int32 as i32, bool)`);
  return d;
}

const hostTensors = new WeakMap<Host, Tensor>();
/** A host value as a constant of the IR: int64 values must fit i32. */
export function toTensor(v: Val, where: string): Tensor {
  if (!isHost(v)) return v;
  const hit = hostTensors.get(v);
  if (hit) return hit;
  const dtype = irDtype(v.dtype, where);
  let data: AnyTensorData;
  if (dtype === 'f32') data = v.data instanceof Float32Array ? v.data : Float32Array.from(v.data as ArrayLike<number>);
  else if (dtype === 'bool') data = v.data instanceof Uint8Array ? v.data : Uint8Array.from(v.data as ArrayLike<number>, (x) => (x ? 1 : 0));
  else {
    data = new Int32Array(v.data.length);
    for (let i = 0; i < v.data.length; i++) {
      const x = Number(v.data[i]);
      if (!(x >= -(2 ** 31) && x < 2 ** 31)) throw new UnsupportedError(`${where}: value ${x} at index ${i} does not fit int32 (int64 tensors run as i32)`);
      data[i] = x;
    }
  }
  const t = constant(data, v.dims, dtype, undefined, v);
  hostTensors.set(v, t);
  return t;
}

/** The graph inputs a value is computed from, by name. */
function graphInputsOf(n: Node): string[] {
  const seen = new Set<Node>(), out: string[] = [];
  const stack = [n];
  while (stack.length) {
    const m = stack.pop()!;
    if (seen.has(m)) continue;
    seen.add(m);
    if (m.op === 'input') out.push(m.label!); else stack.push(...m.inputs);
  }
  return out.sort();
}

const folded = new WeakMap<Node, AnyTensorData | null>();
function foldData(n: Node): AnyTensorData | undefined {
  if (n.op === 'const') return n.attrs.data as AnyTensorData;
  if (n.op === 'copy') return foldData(n.inputs[0]!);
  if (n.op === 'input' || n.op === 'state' || n.op === 'proj' || opTraits(n.op).noFold) return undefined;
  // A value of a run-time size (a constant broadcast to a symbolic batch) would fold at the bounds.
  if (n.type.dims) return undefined;
  const hit = folded.get(n);
  if (hit !== undefined) return hit ?? undefined;
  let r: AnyTensorData | undefined;
  const ins = n.inputs.map(foldData);
  if (ins.every((d) => d !== undefined)) r = evalNode(n, n.inputs.map((x, i) => ({ type: x.type, data: ins[i]! })))[0];
  folded.set(n, r ?? null);
  return r;
}
/** A tensor computed only from constants, as a host value (or undefined). */
export function foldTensor(t: Tensor): Host | undefined {
  // A tensor with symbolic sizes has no single value (its type's shape is only the bound).
  if (t.node.type.dims) return undefined;
  const d = foldData(t.node);
  return d ? host(ONNX_OF[t.dtype], [...t.maxShape], d) : undefined;
}

