// Symbolic tensors. While a model's forward() runs inside `trace`, every tensor operation
// records a node; shapes and dtypes are checked as the node is made, so a mistake throws
// at the line that made it, naming the module path and the shapes.

import { node as mkNode, type Attrs, type Node } from '../ir/node.ts';
import { inferType, secondaryTypes, ShapeError, type AttrsOf, type OpName } from '../ir/ops.ts';
import { dimsOf, DTYPE_BYTES, fmtShape, normAxis as irNormAxis, numel, sameShape, type DType, type Shape } from '../ir/types.ts';
import { addDims, canonDim, divDims, evalDim, isSymbolic, leastDim, mulDims, numelDims, sizeNames, windowsOf, type Dim, type Sizes } from '../ir/dims.ts';
import type { SymAttrs } from '../ir/symbolic.ts';
import { describeValue } from '../ir/print.ts';
import * as M from './maths.ts';
import * as S from './scatter.ts';
import * as U from './utilities.ts';
import * as St from './statistics.ts';
import * as G from './sampling.ts';
import * as R from './rounding.ts';
import * as L from './literals.ts';

/** The tensor argument of expand_as, view_as, reshape_as and type_as. */
function like(op: string, other: unknown): Tensor {
  if (!(other instanceof Tensor)) throw new ModelDefinitionError(`${op}: expected a tensor, got ${describeValue(other)}${where()}`);
  return other;
}

/** dynamicSlice's and dynamicUpdate's index: a tensor (its dtype and shape are the op's to check). */
function runTimeIndex(op: string, index: unknown): void {
  if (!(index instanceof Tensor)) throw new ModelDefinitionError(`${op}: index must be an i32 tensor (a position known at run time; slice() takes a number), got ${describeValue(index)}${where()}`);
}

/** An axis in [-rank, rank), or an error naming the module (the IR's RangeError has no location). */
function normAxis(axis: number, rank: number): number {
  // A tensor here is torch.max(x, other)'s: its JSON was the message (a graph node, constants and all).
  if ((axis as unknown) instanceof Tensor) throw new ModelDefinitionError(`dim must be an integer, got a tensor ${(axis as unknown as Tensor).dtype}${fmtShape((axis as unknown as Tensor).dims)} (the elementwise max or min of two tensors is maximum(other) or minimum(other))${where()}`);
  // PyTorch's keyword (x.sum(dim=1)) written as an object: dims are positional here.
  const keyword = typeof axis === 'object' && axis !== null && Object.keys(axis).join() === 'dim' ? ` (PyTorch's dim=${JSON.stringify((axis as { dim: unknown }).dim)} is positional here)` : '';
  if (!Number.isInteger(axis)) throw new ModelDefinitionError(`dim must be an integer, got ${typeof axis === 'string' || (typeof axis === 'object' && axis !== null && !((axis as unknown) instanceof SymSize)) ? JSON.stringify(axis)?.slice(0, 100) : describeValue(axis)}${keyword}${where()}`);
  try { return irNormAxis(axis, rank); } catch (e) {
    if (e instanceof RangeError) throw new ModelDefinitionError(`dim ${axis} is out of range for a tensor of rank ${rank} (${rank ? `expected a dim in [${-rank}, ${rank - 1}]` : 'a 0-d tensor has no dims: unsqueeze(0) or reshape(1) it first'})${where()}`);
    throw e;
  }
}

/** The module path stack (pushed by Module.call) gives errors their location. */
const scopes: string[] = [];
export const pushScope = (s: string): void => { scopes.push(s); };
export const popScope = (): void => { scopes.pop(); };
export const currentScope = (): string => scopes[scopes.length - 1] ?? '';

/** A shape/dtype error raised while defining a model, with the module path it happened in. */
export class ModelDefinitionError extends Error {
  override name = 'ModelDefinitionError';
}

export function where(): string {
  const s = currentScope();
  return s ? ` in ${s}` : '';
}

/**
 * A size chosen at run time as x.size(i) and x.shape give it, torch's SymInt: ops take it in place
 * of a number, as the run-time size (x.div(n), x.lt(n), x.view(n, -1), x.expand(n, -1),
 * zeros([n]), full([b], n), arange(n), x.slice(1, 0, n)). JavaScript arithmetic or comparison on it
 * could only use its bound, a number the model does not have at run time (x.sum(1) / T divided by
 * 512 whatever T was), so it throws; as text it is its name.
 */
export class SymSize {
  constructor(readonly dim: Dim, readonly bound: number, private readonly of: string) {}
  [Symbol.toPrimitive](hint: string): string {
    if (hint === 'string') return String(this.dim);
    throw new ModelDefinitionError(`${this.of} is '${this.dim}', a size chosen at run time (at most ${this.bound}): JavaScript arithmetic or comparison on it would use its bound, not the size. Give it to an op as it is (x.div(n), x.view(n, -1), zeros([n]), arange(n)); for a shape use -1, flatten, or sizes by name (x.dims; x.reshape('B*T', -1) has B·T rows); for the bound, maxSize(i)${where()}`);
  }
}
/**
 * The array also read from its end as Python reads it, so a port's x.shape[-1] is the last dim
 * (a plain array gives undefined there); the negative indices are not enumerable, so spreading,
 * JSON and equality see the array alone.
 */
function fromTheEnd<T>(a: T[]): T[] {
  for (let i = 1; i <= a.length; i++) Object.defineProperty(a, String(-i), { value: a[a.length - i] });
  return a;
}

/** A dim given to an op: a SymSize is its named size. */
export const asDim = <T>(d: T): T | Dim => (d instanceof SymSize ? d.dim : d);
/** An operand given to an op: a SymSize is the run-time size as an i32 scalar (sizeScalar). */
export const asOperand = <T>(v: T): T | Tensor => (v instanceof SymSize ? sizeScalar(v) : v);

interface TraceState { nodes: Node[]; consts: Map<object, Node>; bounds: Record<string, number>; least: Record<string, number> }
let tracing: TraceState | undefined;

/** The bounds of the named sizes of the entry being traced. */
export const traceBounds = (): Sizes => tracing?.bounds ?? {};
/** The declared least values (above 1) of the named sizes of the entry being traced. */
export const traceLeast = (): Sizes => tracing?.least ?? {};
/** The least value a dim takes in the entry being traced (each size it names at its declared minimum, else 1). */
export const leastSize = (d: Dim): number => leastDim(d, traceLeast());
/** Why a dim may be as small as leastSize says, for an error message. */
export function leastWhy(d: Dim): string {
  const declared = sizeNames(d).filter((k) => traceLeast()[k] !== undefined);
  return declared.length ? `declared minimum ${declared.map((k) => `${k} ≥ ${traceLeast()[k]}`).join(', ')}` : 'every size runs from 1 to its bound';
}

export function withTrace<T>(fn: () => T, bounds: Record<string, number> = {}, least: Record<string, number> = {}): { result: T; state: TraceState } {
  if (tracing) throw new ModelDefinitionError('trace() cannot be nested');
  const state: TraceState = { nodes: [], consts: new Map(), bounds, least };
  tracing = state;
  try { return { result: fn(), state }; } finally { tracing = undefined; }
}

/** Traces a sub-graph (a loop body) inside the current trace; constants stay shared. */
export function withSubTrace<T>(fn: () => T): { result: T; nodes: Node[] } {
  const outer = active();
  const state: TraceState = { nodes: [], consts: outer.consts, bounds: outer.bounds, least: outer.least };
  tracing = state;
  try { return { result: fn(), nodes: state.nodes }; } finally { tracing = outer; }
}

function active(): TraceState {
  if (!tracing) throw new ModelDefinitionError('tensor operations run only inside trace() (call the model through trace or compile)');
  return tracing;
}

/** Records op `op` on `inputs`, its attributes typed by the op's definition. */
export function record<K extends OpName>(op: K, inputs: Tensor[], attrs?: AttrsOf<K>): Tensor;
export function record(op: 'proj', inputs: Tensor[], attrs: { index: number }): Tensor;
export function record(op: string, inputs: Tensor[], typed: unknown = {}): Tensor {
  const st = active();
  let attrs = typed as Attrs;
  // Symbolic attributes carry the declared minimums of their sizes, as input types do (a node made
  // only from them, zeros of [B, T], has no input to take them from).
  const sym = attrs.sym as SymAttrs | undefined, least = sym && !sym.min ? Object.keys(sym.max).filter((k) => st.least[k] !== undefined) : [];
  if (least.length) attrs = { ...attrs, sym: { ...sym!, min: Object.fromEntries(least.map((k) => [k, st.least[k]!])) } };
  let type;
  try {
    type = inferType(op, inputs.map((t) => t.node), attrs);
  } catch (e) {
    if (e instanceof ShapeError) throw new ModelDefinitionError(`${e.message}${where()}`);
    throw e;
  }
  const n = mkNode(op, inputs.map((t) => t.node), type, attrs, currentScope() || undefined);
  st.nodes.push(n);
  return new Tensor(n);
}

/** Records an op with several results; returns them all, the primary first. */
export function recordMulti<K extends OpName>(op: K, inputs: Tensor[], attrs: AttrsOf<K>): Tensor[] {
  const primary = (record as (op: string, inputs: Tensor[], attrs: unknown) => Tensor)(op, inputs, attrs);
  return [primary, ...secondaryTypes(primary.node).map((_, i) => record('proj', [primary], { index: i + 1 }))];
}

/** f32 zeros; dims with named sizes (bounded by `max`) give zeros of the run-time size. */
export function zeros(shape: readonly Dim[], max: Sizes = {}): Tensor { return filled('zeros', shape, 0, max); }
/** torch.ones: f32 ones (named sizes as in zeros). */
export function ones(shape: readonly Dim[], max: Sizes = {}): Tensor { return filled('ones', shape, 1, max); }
/** torch.full: f32 `value` everywhere (NaN, ±inf and −0 kept; named sizes as in zeros). */
export function full(shape: readonly Dim[], value: number, max: Sizes = {}): Tensor {
  // A run-time size as the value: torch's full((b,), T) of an int, an i32 here.
  if ((value as unknown) instanceof SymSize) return sizeScalar(value as unknown as SymSize).reshape(...shape.map(() => 1)).expand(...shape, max);
  if (typeof value !== 'number') throw new ModelDefinitionError(`full: fill value must be a number, got ${describeValue(value)}${where()}`);
  return filled('full', shape, value, max);
}
/**
 * torch.zeros_like / ones_like / full_like: of `t`'s dims and dtype, as torch (they were always f32:
 * torch.min(large, torch.full_like(large, 3)) of T5's bucket turned its i32 indices into floats).
 * For i32 the value is truncated (full_like(i, 2.7) is 2) and must fit; for bool it is value ≠ 0.
 */
export const zerosLike = (t: Tensor): Tensor => asDtypeOf(t, filled('zeros_like', likeDims('zeros_like', t), 0, t.bounds));
export const onesLike = (t: Tensor): Tensor => asDtypeOf(t, filled('ones_like', likeDims('ones_like', t), 1, t.bounds));
export const fullLike = (t: Tensor, value: number): Tensor => {
  const dims = likeDims('full_like', t);
  if ((value as unknown) instanceof SymSize) return full(dims, value, t.bounds).cast(t.dtype); // a run-time size, of t's dtype
  if (typeof value !== 'number') throw new ModelDefinitionError(`full_like: fill value must be a number, got ${describeValue(value)}${where()}`);
  const v = t.dtype === 'i32' ? Math.trunc(value) : t.dtype === 'bool' ? Number(value !== 0) : value;
  if (t.dtype === 'i32' && !(v >= -(2 ** 31) && v < 2 ** 31)) throw new ModelDefinitionError(`full_like: ${value} does not fit the i32 tensor it is like (torch: 'value cannot be converted to type int without overflow')${where()}`);
  // An i32 value as itself: through an f32 fill, values past 2^24 lost their low bits.
  if (t.dtype === 'i32') return constant(Int32Array.of(v), dims.map(() => 1), 'i32', String(v)).expand(dims, t.bounds);
  return asDtypeOf(t, full(dims, v, t.bounds));
};
const asDtypeOf = (t: Tensor, f: Tensor): Tensor => (t.dtype === 'f32' ? f : f.cast(t.dtype));
const likeDims = (op: string, t: Tensor): readonly Dim[] => {
  if (!(t instanceof Tensor)) throw new ModelDefinitionError(`${op}: expected a tensor, got ${describeValue(t)}${where()}`);
  return t.rank ? t.dims : [1];
};
function filled(op: string, given: readonly Dim[], value: number, max: Sizes): Tensor {
  const shape = Array.isArray(given) ? given.map(asDim) : given;
  // (A number here, zeros(['B', 4], 7) from JavaScript, reached expand as one more dim: [B, 4, 7].)
  // torch's zeros(2, 3): the sizes one by one, where an array goes here.
  if ((op === 'zeros' || op === 'ones') && !Array.isArray(given) && (typeof given === 'number' || (given as unknown) instanceof SymSize)) {
    throw new ModelDefinitionError(`${op}: shape must be an array of positive integers or size names, got ${describeValue(given)} (torch's ${op}(2, 3) is ${op}([2, 3]) here)${where()}`);
  }
  if (typeof max !== 'object' || max === null || Array.isArray(max) || Object.values(max).some((b) => !Number.isInteger(b) || (b as number) < 1)) {
    throw new ModelDefinitionError(`${op}: max must be an object of bounds for named sizes, such as { B: 8 }, got ${describeValue(max)}${where()}`);
  }
  if (!Array.isArray(shape) || shape.some((d) => (typeof d === 'number' ? !Number.isInteger(d) || d < 1 : typeof d !== 'string'))) {
    throw new ModelDefinitionError(`${op}: shape must be an array of positive integers or size names, got ${Array.isArray(shape) ? `[${shape.map((d) => JSON.stringify(d)).join(', ').slice(0, 60)}]` : describeValue(shape)}`);
  }
  // Up to 64 KiB a constant (ops such as the recurrent ones need their zeros as one); past that one
  // value, broadcast, so a large block (a transposed conv's spread input) is not stored in the
  // artifact (constant folding keeps the broadcast: it stops at the same growth).
  if (!shape.some(isSymbolic) && numel(shape as number[]) * 4 <= 64 * 1024) return constant(new Float32Array(numel(shape as number[])).fill(value), shape as number[], 'f32', op);
  const one = constant(Float32Array.of(value), shape.map(() => 1), 'f32', op);
  return one.expand(...shape, max);
}
/**
 * torch.eye: an f32 [n, m] identity. n or m may be a size chosen at run time (eye(adj.dim(-1)), a
 * GCN's A + I over a run-time graph): then the positions are counted at run time and compared.
 */
export function eye(n: Dim, m: Dim = n): Tensor {
  [n, m] = [asDim(n), asDim(m)];
  if (isSymbolic(n) || isSymbolic(m)) {
    const pos = (d: Dim) => (isSymbolic(d) ? ones([d]).cumsum(0) : arange(d as number).cast('f32'));
    const ok = (d: Dim) => (isSymbolic(d) ? sizeNames(d).every((k) => traceBounds()[k] !== undefined) : Number.isInteger(d) && (d as number) >= 1);
    if (!ok(n) || !ok(m)) throw new ModelDefinitionError(`eye: sizes must be positive integers or sizes of the model's inputs, got ${describeValue(n)} and ${describeValue(m)}${where()}`);
    return pos(n).sub(isSymbolic(n) ? 1 : 0).unsqueeze(1).eq(pos(m).sub(isSymbolic(m) ? 1 : 0).unsqueeze(0)).float();
  }
  for (const [name, v] of [['n', n], ['m', m]] as const) if (!Number.isInteger(v) || (v as number) < 1 || (v as number) > 4096) throw new ModelDefinitionError(`eye: ${name} must be an integer in [1, 4096] or a size chosen at run time, got ${describeValue(v)}${where()}`);
  const N = n as number, M = m as number, data = new Float32Array(N * M);
  for (let i = 0; i < Math.min(N, M); i++) data[i * M + i] = 1;
  return constant(data, [N, M], 'f32', 'eye');
}
/**
 * torch.linspace: `steps` f32 values from start to end, as PyTorch's kernel computes them: step =
 * (end − start)/(steps − 1), the first half start + i·step, the second end − (steps − 1 − i)·step.
 */
export function linspace(start: number, end: number, steps: number): Tensor {
  for (const [name, v] of [['start', start], ['end', end]] as const) if (typeof v !== 'number' || !Number.isFinite(v)) throw new ModelDefinitionError(`linspace: ${name} must be a finite number, got ${describeValue(v)}${where()}`);
  if (!Number.isInteger(steps) || steps < 1 || steps > 2 ** 26) throw new ModelDefinitionError(`linspace: steps must be an integer in [1, 2^26], got ${describeValue(steps)}${where()}`);
  const f = Math.fround, a = f(start), b = f(end), step = steps > 1 ? f((b - a) / (steps - 1)) : 0, half = steps > 1 ? Math.floor(steps / 2) : 1;
  return constant(Float32Array.from({ length: steps }, (_, i) => (i < half ? f(a + f(step * i)) : f(b - f(step * (steps - i - 1))))), [steps], 'f32', 'linspace');
}
/**
 * torch.triu_indices / tril_indices(row, col, offset = 0): the [2, n] i32 (row, column) indices of
 * the elements on and above (below) diagonal `offset` of a row × col matrix, in row-major order (a
 * DLRM's pairwise interactions: z.flatten(1).indexSelect(1, i.select(0, 0).mul(col).add(i.select(0, 1)))).
 */
export const triuIndices = (row: number, col: number, offset = 0): Tensor => triangleIndices('triu_indices', row, col, offset, (i, j) => j - i >= offset);
export const trilIndices = (row: number, col: number, offset = 0): Tensor => triangleIndices('tril_indices', row, col, offset, (i, j) => j - i <= offset);
function triangleIndices(op: string, row: number, col: number, offset: number, keep: (i: number, j: number) => boolean): Tensor {
  for (const [name, v] of [['row', row], ['col', col]] as const) if (!Number.isInteger(v) || v < 0 || v > 4096) throw new ModelDefinitionError(`${op}: ${name} must be an integer in [0, 4096], got ${describeValue(v)}${where()}`);
  if (!Number.isInteger(offset)) throw new ModelDefinitionError(`${op}: offset must be an integer, got ${describeValue(offset)}${where()}`);
  const is: number[] = [], js: number[] = [];
  for (let i = 0; i < row; i++) for (let j = 0; j < col; j++) if (keep(i, j)) { is.push(i); js.push(j); }
  if (!is.length) throw new ModelDefinitionError(`${op}(${row}, ${col}, ${offset}) holds no elements (torch gives an empty [2, 0]; a tensor here has no empty dims)${where()}`);
  return ints([...is, ...js], [2, is.length]);
}
/** An i32 constant (token ids, positions). */
export function ints(values: ArrayLike<number> | readonly unknown[], shape?: Shape): Tensor {
  ({ values, shape } = L.unnest('ints', values as ArrayLike<number>, shape)); shape ??= [values?.length];   // (torch.tensor([[1, 2], [3, 4]]) too)
  const ok = (Array.isArray(values) || ArrayBuffer.isView(values)) && Array.prototype.every.call(values, (v: unknown) => Number.isInteger(v) && (v as number) === ((v as number) | 0));
  if (!ok) throw new ModelDefinitionError(`ints: expected an array of 32-bit integers, got ${describeValue(values)}${ArrayBuffer.isView(values) || Array.isArray(values) ? ` holding ${describeValue(Array.prototype.find.call(values, (v: unknown) => !(Number.isInteger(v) && (v as number) === ((v as number) | 0))))}` : ''}${where()}`);
  return constant(Int32Array.from(values as ArrayLike<number>), shape, 'i32', `ints[${shape}]`);
}
/**
 * An f32 constant of the given values, torch.tensor([…]) of floats (ALiBi's slopes, a normalisation's
 * mean and std, a buffer computed in __init__), of `shape` (default: a vector); values are rounded to
 * f32 as torch's float32 (1e39 is Infinity).
 */
export function floats(values: ArrayLike<number> | readonly unknown[], shape?: Shape): Tensor {
  ({ values, shape } = L.unnest('floats', values as ArrayLike<number>, shape)); shape ??= [values?.length];   // (torch.tensor([[1., 0.], [0., 1.]]) too)
  const ok = (Array.isArray(values) || ArrayBuffer.isView(values)) && Array.prototype.every.call(values, (v: unknown) => typeof v === 'number');
  if (!ok) throw new ModelDefinitionError(`floats: expected an array of numbers, got ${describeValue(values)}${ArrayBuffer.isView(values) || Array.isArray(values) ? ` holding ${describeValue(Array.prototype.find.call(values, (v: unknown) => typeof v !== 'number'))}` : ''}${where()}`);
  if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 1) || numel(shape) !== values.length) throw new ModelDefinitionError(`floats: shape must be positive integers holding the ${values.length} values, got ${Array.isArray(shape) ? fmtShape(shape) : describeValue(shape)}${where()}`);
  return constant(Float32Array.from(values as ArrayLike<number>), shape, 'f32', `floats[${shape}]`);
}
/**
 * 0, 1, …, n−1 as i32 (n at most 2^26: a constant of the model, among its weights); as torch.arange,
 * arange(start, end, step = 1) for integers: start, start + step, … short of end (at least one value).
 */
export function arange(n: number): Tensor;
export function arange(start: number, end: number, step?: number): Tensor;
export function arange(a: number, end?: number, step?: number): Tensor {
  // Up to a run-time size (arange(T), arange(0, T), arange(s, T, step)): the values up to its bound from s, cut at the size.
  if ((a as unknown) instanceof SymSize && end === undefined && step === undefined) return arange(0, a);
  if ((end as unknown) instanceof SymSize && Number.isInteger(step ?? 1) && (step ?? 1) >= 1) {
    const n = end as unknown as SymSize;
    if (!Number.isInteger(a) || a < 0 || a >= leastSize(n.dim)) throw new ModelDefinitionError(`arange: start ${describeValue(a)} before the run-time end '${n.dim}' must be an integer in [0, ${leastSize(n.dim)}), below the least '${n.dim}' (${leastWhy(n.dim)})${where()}`);
    // With a step (arange(0, T, 2)): every step-th of them, as x[s:T:step] takes.
    return arange(n.bound).slice(0, 0, n.dim).slice(0, a, undefined, step ?? 1);
  }
  if (end === undefined && step === undefined) {
    if (!Number.isInteger(a) || a < 1 || a > 2 ** 26) throw new ModelDefinitionError(`arange: n must be an integer in [1, 2^26], got ${describeValue(a)}${where()}`);
    return ints(Int32Array.from({ length: a }, (_, i) => i));
  }
  // (Extra arguments were ignored: arange(2, 5), torch's [2, 3, 4], gave [0, 1].)
  const int32 = (v: unknown) => Number.isInteger(v) && (v as number) === ((v as number) | 0);
  const bad = [['start', a], ['end', end], ['step', step ?? 1]].find(([, v]) => !int32(v));
  if (bad) throw new ModelDefinitionError(`arange: ${bad[0]} must be a 32-bit integer (the DSL's arange is i32), got ${describeValue(bad[1])}${where()}`);
  const d = step ?? 1, count = Math.ceil((end! - a) / d);
  if (d === 0 || !(count >= 1 && count <= 2 ** 26)) throw new ModelDefinitionError(`arange(${a}, ${end}, ${d}): ${d === 0 ? 'step must not be 0' : `holds ${Math.max(count, 0)} values; it must hold 1 to 2^26`}${where()}`);
  return ints(Int32Array.from({ length: count }, (_, i) => a + i * d));
}

/** A constant, deduplicated per trace by the object that owns its data (e.g. a Parameter). */
export function constant(data: Float32Array | Int32Array | Uint8Array, shape: Shape, dtype: DType, label?: string, owner?: object): Tensor {
  const st = active();
  const key = owner ?? data;
  const hit = st.consts.get(key);
  if (hit) return new Tensor(hit);
  if (data.length !== numel(shape)) throw new ModelDefinitionError(`constant ${label ?? ''} has ${data.length} values for shape ${fmtShape(shape)}`);
  const n = mkNode('const', [], { dtype, shape: [...shape] }, { data }, label);
  st.consts.set(key, n);
  return new Tensor(n);
}

/**
 * torch's integer pow (an i32 or bool base, an integer exponent): an i32 result, int64's low 32
 * bits (the IR's i32 pow multiplies modulo 2^32). A negative number exponent is refused as torch
 * raises ('Integers to negative integer powers are not allowed'); a negative exponent in a tensor
 * gives torch's 1, ±1 or 0 (1/a^|b| truncated: 1 for a = 1, ±1 for a = −1, else 0, 0 itself too).
 */
function intPow(x: Tensor, other: Operand): Tensor {
  const a = x.cast('i32');
  if (typeof other === 'number') {
    if (other < 0) throw new ModelDefinitionError(`pow: integers to negative integer powers are not allowed (torch raises), got ${x.dtype}${fmtShape(x.dims)} to ${other}; cast first: x.float().pow(${other})${where()}`);
    if (other !== (other | 0)) throw new ModelDefinitionError(`pow: exponent ${other} does not fit the DSL's 32-bit integers${where()}`);
    return record('pow', [a, intScalar(other)]);
  }
  if (!(other instanceof Tensor)) throw new ModelDefinitionError(`pow: expected a tensor or a number, got ${describeValue(other)}${where()}`);
  const b = other.cast('i32');
  // The IR's pow raises for 0 to a negative power; torch gives 0 there, as 2 to it gives.
  return record('pow', [record('where', [a.eq(0).logicalAnd(b.lt(0)), intScalar(2), a]), b]);
}

/** An i32 or bool tensor as f32, as torch promotes integers for its float functions (torch.sqrt(int tensor) is float32). */
const floatOf = (t: Tensor): Tensor => (t.dtype === 'f32' ? t : t.cast('f32'));

export const scalar = (v: number): Tensor => constant(new Float32Array([v]), [], 'f32', String(v));
/** An i32 scalar constant (v a 32-bit integer). */
export const intScalar = (v: number): Tensor => constant(Int32Array.of(v), [], 'i32', String(v));
/** A tensor as dtype[dims] (i32[B, 3]), anything else as describeValue gives it: for error messages. */
export const describeOperand = (t: unknown): string => (t instanceof Tensor ? `${t.dtype}${fmtShape(t.dims)}` : describeValue(t));

/** A number as a scalar for an op with `like`: i32 when `like` is i32 and the number a 32-bit integer (torch's int tensor + 1 stays int), else f32. */
export const scalarLike = (v: number, like: Tensor | number): Tensor =>
  like instanceof Tensor && like.dtype === 'i32' && v === (v | 0) ? intScalar(v) : scalar(v);

type Operand = Tensor | number;
/** A method called with more arguments than it takes (from JavaScript): PyTorch refuses them, and they were ignored. */
const extraArgs = (op: string, given: number, takes: number, what: string): void => {
  if (given > takes) throw new ModelDefinitionError(`${op}: takes ${what}, got ${given} arguments${where()}`);
};
/** var/std's options (or `unbiased` alone as a boolean, PyTorch's positional form). */
export interface VarOptions { unbiased?: boolean; correction?: number; keepdim?: boolean }
/** A tensor operand, or a number made a scalar of `self`'s kind; anything else is an error naming the op. */
const lift = (op: string, x: Operand, self: Tensor): Tensor => {
  if (typeof x === 'number') return scalarLike(x, self);
  if (x instanceof SymSize) return sizeScalar(x);
  if (!(x instanceof Tensor)) throw new ModelDefinitionError(`${op}: expected a tensor or a number, got ${describeValue(x)}${where()}`);
  return x;
};
/** A reduction's dims: one, a list, or all of them (none given, or an empty list, as torch's sum(dim=[])). */
/** A reduction's dims (all of them when none are given); a dim named twice is refused, as torch refuses it. */
function dims(d: number | number[] | undefined, rank: number): number[] {
  if (d === undefined || (Array.isArray(d) && d.length === 0)) return [...Array(rank).keys()];
  return distinctAxes(Array.isArray(d) ? d : [d], rank);
}

/** The dims `d` as axes in [0, rank), each named once (torch refuses a repeated dim). */
function distinctAxes(d: readonly number[], rank: number): number[] {
  const axes = d.map((a) => normAxis(a, rank));
  const twice = axes.findIndex((a, i) => axes.indexOf(a) !== i);
  if (twice >= 0) throw new ModelDefinitionError(`dim ${axes[twice]} appears more than once in the dims [${d.join(', ')}]${where()}`);
  return axes;
}

/** PyTorch takes a shape as arguments or as one list (x.reshape(2, 3) or x.reshape([2, 3])): the dims either way. */
function asDims<T>(given: T[] | [readonly T[]]): T[] {
  return (given.length === 1 && Array.isArray(given[0]) ? [...given[0]] : given) as T[];
}

/** torch's type promotion for arithmetic: i32 with f32 (a tensor, or a number that is not a 32-bit integer) computes in f32. */
function promoted(op: string, a: Tensor, o: Operand): [Tensor, Tensor] {
  let b = lift(op, o, a);
  if (a.dtype === 'bool' || b.dtype === 'bool') {
    // torch promotes a bool operand to the other's type (with a number, an int if it is
    // integral, else a float); two bools are computed here as 0/1 i32s (see boolArith).
    if (op === 'sub') throw new ModelDefinitionError(`sub: torch does not subtract bool tensors (${a.dtype}${fmtShape(a.dims)} − ${b.dtype}${fmtShape(b.dims)}); to invert a mask use m.logicalNot()${where()}`);
    if (typeof o === 'number' && a.dtype === 'bool') b = Number.isInteger(o) && o === (o | 0) ? intScalar(o) : scalar(o);
    if (a.dtype === 'bool') a = a.cast(b.dtype === 'bool' ? 'i32' : b.dtype);
    if (b.dtype === 'bool') b = b.cast(a.dtype);
  }
  if (a.dtype === 'i32' && b.dtype === 'f32') return [a.cast('f32'), b];
  if (a.dtype === 'f32' && b.dtype === 'i32') return [a, b.cast('f32')];
  return [a, b];
}
const asF32 = (t: Tensor) => (t.dtype === 'i32' ? t.cast('f32') : t);
/** Two bools stay a bool in torch (+ is or, × and, max or, min and): the 0/1 i32 result cast back (1 + 1 was a bool 2). */
const boolArith = (a: Tensor, o: Operand, r: Tensor): Tensor => (a.dtype === 'bool' && o instanceof Tensor && o.dtype === 'bool' ? r.cast('bool') : r);
/** torch's logical ops read any non-zero value (NaN too) as true. */
const truth = (t: Tensor): Tensor => (t.dtype === 'bool' ? t : t.ne(0));

export class Tensor {
  constructor(readonly node: Node) {}

  /**
   * The shape, as torch's x.shape: numbers, and a SymSize for each dim chosen at run time (see
   * size). `maxShape` gives the bounds, what memory is planned for; `dims` the named shape.
   */
  get shape(): Shape { return this.size(); }
  /** The shape at the bounds: a dim chosen at run time is its bound here. */
  get maxShape(): Shape { return this.node.type.shape; }
  /** One dim of `maxShape` (negative counts from the end). */
  maxSize(d: number): number { return this.maxShape[normAxis(d, this.rank)]!; }
  /** The shape with named sizes ('B', 'B*T', …) where the size is chosen at run time. */
  get dims(): readonly Dim[] { return dimsOf(this.node.type); }
  /** One dim of `dims` (negative counts from the end); without one, torch's x.dim(): the number of dims. */
  dim(): number;
  dim(d: number): Dim;
  dim(d?: number): Dim { return d === undefined ? this.rank : this.dims[normAxis(d, this.rank)]!; }
  /** torch's x.ndim: the number of dims. */
  get ndim(): number { return this.rank; }
  /** torch's x.numel(): the element count, a SymSize (the product of the sizes) where a dim is chosen at run time. */
  numel(): number {
    const n = numelDims(this.dims);
    return isSymbolic(n) ? (new SymSize(n, numel(this.maxShape), `numel() of ${this.dtype}${fmtShape(this.dims)}`) as unknown as number) : (n as number);
  }
  nelement(): number { return this.numel(); }
  /** The bounds of the named sizes this tensor's dims use. */
  get bounds(): Sizes { return this.node.type.max ?? {}; }
  get dtype(): DType { return this.node.type.dtype; }
  get rank(): number { return this.maxShape.length; }
  /**
   * Size of one dimension (negative counts from the end); without one the shape, as torch's
   * x.size() (`const [b, c] = x.size()`, a squeeze-excite's). A size chosen at run time is a
   * SymSize, torch's SymInt: typed as a number, it goes to ops in place of one (x.div(n),
   * x.view(n, -1)), and JavaScript arithmetic on it throws rather than compute with its bound.
   */
  size(): Shape;
  size(d: number): number;
  size(d?: number): number | Shape {
    if (d === undefined) return fromTheEnd(this.dims.map((_, i) => this.size(i)));
    const a = normAxis(d, this.rank), dim = this.dims[a]!;
    return isSymbolic(dim) ? (new SymSize(dim, this.maxShape[a]!, `size(${a}) of ${this.dtype}${fmtShape(this.dims)}`) as unknown as number) : this.maxShape[a]!;
  }

  add(other: Operand): Tensor { return boolArith(this, other, record('add', promoted('add', this, other))); }
  sub(other: Operand): Tensor { return record('sub', promoted('sub', this, other)); }
  mul(other: Operand): Tensor { return boolArith(this, other, record('mul', promoted('mul', this, other))); }
  /** True division, as torch's /: integer operands are divided as f32 (7 / 2 = 3.5); with { roundingMode: 'trunc' | 'floor' } torch.div's rounding (rounding.ts). */
  div(other: Operand, o?: R.DivOptions): Tensor { return o === undefined ? record('div', promoted('div', this, other).map(asF32)) : R.divRounded(this, other, o); }
  maximum(other: Operand): Tensor { return boolArith(this, other, record('maximum', promoted('maximum', this, other))); }
  /** torch.fmod: C's fmod, the sign of the dividend (exact); an i32 by zero raises, as torch's. */
  fmod(other: Operand): Tensor { return record('fmod', promoted('fmod', this, other)); }
  /**
   * torch.remainder (Python's %): the sign of the divisor. As torch 1.13 computes it: fmod, plus
   * the divisor where the two signs differ (exact, so remainder(1e10, 3) = 1; remainder(2, −inf) = −inf).
   */
  remainder(other: Operand): Tensor {
    const [a, b] = promoted('remainder', this, other);
    if (a.dtype === 'i32') return record('remainder', [a, b]);
    const m = record('fmod', [a, b]);
    return record('where', [m.ne(0).logicalAnd(m.lt(0).ne(b.lt(0))), m.add(b), m]);
  }
  /** torch.floor_divide (torch 1.13 rounds down, as //; an i32 zero divisor raises when the code runs): utilities.ts. */
  floorDivide(other: Operand): Tensor { return U.floorDivide(this, other); }
  /** torch.outer: the 1-D x and other as a matrix of every product, [n, m]. */
  outer(other: Tensor): Tensor {
    if (!(other instanceof Tensor) || this.rank !== 1 || other.rank !== 1) throw new ModelDefinitionError(`outer: two 1-D tensors, got ${this.dtype}${fmtShape(this.dims)} and ${other instanceof Tensor ? `${other.dtype}${fmtShape(other.dims)}` : describeValue(other)}${where()}`);
    return this.unsqueeze(1).mul(other.unsqueeze(0));
  }
  /** torch.cross (torch.linalg.cross with dim defaulting to the first dim of size 3, torch 1.13's): utilities.ts. */
  cross(other: Tensor, dim?: number): Tensor { return U.cross(this, other, dim); }
  minimum(other: Operand): Tensor { return boolArith(this, other, record('minimum', promoted('minimum', this, other))); }
  /** torch.clamp: min(max(x, min), max), so max wins where min > max; NaN stays NaN (a lone NaN number bound: see below). */
  clamp(min?: Operand, max?: Operand): Tensor {
    if (min === undefined && max === undefined) throw new ModelDefinitionError(`clamp: at least one of min and max must be given${where()}`);
    [min, max] = [asOperand(min), asOperand(max)];
    // Errors name clamp and the bound, not the maximum/minimum under it.
    const bound = (name: string, v: Operand) => {
      if (typeof v !== 'number' && !(v instanceof Tensor)) throw new ModelDefinitionError(`clamp: ${name} must be a number or a tensor, got ${describeValue(v)}${where()}`);
      const d = typeof v === 'number' ? 'f32' : v.dtype;
      if (this.dtype === 'bool' || d === 'bool') throw new ModelDefinitionError(`clamp: takes f32 or i32, got ${this.dtype === 'bool' ? `a bool input ${fmtShape(this.dims)}` : `a bool ${name}`}${where()}`);
    };
    if (min !== undefined) bound('min', min);
    if (max !== undefined) bound('max', max);
    // PyTorch 1.13: one bound alone that is the number NaN leaves x as it is (clamp_min/clamp_max
    // compare, and NaN compares false); with both bounds a NaN makes every element NaN (as here).
    if ((min === undefined || max === undefined) && Number.isNaN(min ?? max)) return this;
    const lo = min === undefined ? this : this.maximum(min);
    return max === undefined ? lo : lo.minimum(max);
  }
  /** torch.pow: a number exponent of 0.5 or −0.5 is sqrt or rsqrt, as torch computes it (pow(−inf, 0.5) is NaN, pow(−0, −0.5) −inf). */
  pow(other: Operand): Tensor {
    // An integer base to a float exponent is float pow in torch (an int tensor ** 0.5); it was refused by sqrt's name.
    if (this.dtype !== 'f32' && ((typeof other === 'number' && !Number.isInteger(other)) || (other instanceof Tensor && other.dtype === 'f32'))) return this.float().pow(other);
    if (other === 0.5) return this.sqrt();
    if (other === -0.5) return this.rsqrt();
    if (this.dtype === 'i32' || this.dtype === 'bool') return intPow(this, other);
    return record('pow', promoted('pow', this, other));
  }
  /** torch.lt / le / gt / ge / eq / ne (<, <=, >, >=, ==, !=), promoting as add does: a bool tensor. NaN compares false except by ne; −0 equals 0. */
  lt(other: Operand): Tensor { return record('lt', promoted('lt', this, other)); }
  le(other: Operand): Tensor { return record('le', promoted('le', this, other)); }
  gt(other: Operand): Tensor { return record('gt', promoted('gt', this, other)); }
  ge(other: Operand): Tensor { return record('ge', promoted('ge', this, other)); }
  eq(other: Operand): Tensor { return record('eq', promoted('eq', this, other)); }
  ne(other: Operand): Tensor { return record('ne', promoted('ne', this, other)); }
  /** torch.neg; of an i32 tensor 0 − x (as torch's int neg, −(−2^31) wraps to −2^31: the IR's neg is f32). */
  neg(): Tensor { return this.dtype === 'i32' ? scalarLike(0, this).sub(this) : record('neg', [this]); }
  /** torch.logical_not (PyTorch's ~ on a bool mask): true where the value is 0 (false). */
  logicalNot(): Tensor { return truth(this).eq(0); }
  /** torch.logical_and / logical_or / logical_xor (&, |, ^ on bool masks), broadcast; any non-zero value is true. */
  logicalAnd(other: Tensor): Tensor { return truth(this).mul(truth(lift('logical_and', other, this))); }
  logicalOr(other: Tensor): Tensor { return truth(this).add(truth(lift('logical_or', other, this))); }
  logicalXor(other: Tensor): Tensor { return truth(this).ne(truth(lift('logical_xor', other, this))); }
  /** torch.bitwise_and / or / xor / not (&, |, ^, ~) of i32 or bool, and bitwise_left_shift / right_shift (<<, >>) of i32: utilities.ts. */
  bitwiseAnd(other: Operand | boolean): Tensor { return U.bitwise('and', this, other); }
  bitwiseOr(other: Operand | boolean): Tensor { return U.bitwise('or', this, other); }
  bitwiseXor(other: Operand | boolean): Tensor { return U.bitwise('xor', this, other); }
  bitwiseNot(): Tensor { return U.bitwiseNot(this); }
  bitwiseLeftShift(other: Operand): Tensor { return U.shift('left', this, other); }
  bitwiseRightShift(other: Operand): Tensor { return U.shift('right', this, other); }
  relu(): Tensor { return record('relu', [this]); }
  tanh(): Tensor { return record('tanh', [floatOf(this)]); }
  sigmoid(): Tensor { return record('sigmoid', [floatOf(this)]); }
  exp(): Tensor { return record('exp', [floatOf(this)]); }
  log(): Tensor { return record('log', [floatOf(this)]); }
  sqrt(): Tensor { return record('sqrt', [floatOf(this)]); }
  /**
   * torch.log10 / log2: log(x) times 1/ln 10 or 1/ln 2, within 2 ulp of torch's (a spectrogram's
   * dB). NaN, ±Inf and 0 as torch: log10(0) = −Inf.
   */
  log10(): Tensor { return this.log().mul(1 / Math.LN10); }
  log2(): Tensor { return this.log().mul(1 / Math.LN2); }
  /**
   * torch.log1p, keeping the relative precision of tiny x as torch's does (log(1 + x) gave 0 for
   * |x| < 6e-8 and lost digits up to ~1e-3): with u = 1 + x rounded, log(u) · x / (u − 1) cancels
   * u's rounding error (Goldberg), and u = 1 gives x itself (−0 too). log1p(−1) = −Inf, +Inf and NaN as torch.
   */
  log1p(): Tensor {
    if (this.dtype !== 'f32') return floatOf(this).log1p();
    const u = this.add(1), d = u.sub(1);
    return record('where', [d.eq(0), this, record('where', [u.eq(Infinity), u, u.log().mul(this.div(d))])]);
  }
  /**
   * torch.expm1, keeping the relative precision of tiny x (exp(x) − 1 gave 0 for |x| < 3e-8): with
   * u = exp(x) rounded, (u − 1) · x / log(u) (Kahan); u = 1 gives x itself (−0 too), u − 1 = −1
   * gives −1 (x ≤ −17: −Inf too), u = Inf gives Inf; NaN stays NaN.
   */
  expm1(): Tensor {
    if (this.dtype !== 'f32') return floatOf(this).expm1();
    const u = this.exp(), d = u.sub(1);
    return record('where', [u.eq(1), this, record('where', [d.eq(-1), d, record('where', [u.eq(Infinity), u, d.mul(this.div(u.log()))])])]);
  }
  rsqrt(): Tensor { return record('rsqrt', [floatOf(this)]); }
  /** torch's lerp, hypot, logit, xlogy, nan_to_num, exp2, logaddexp(2), sinc, heaviside, erfc, erfinv, copysign, frac, signbit, deg2rad, rad2deg, isclose (maths.ts). */
  lerp(end: Operand, weight: Operand): Tensor { return M.lerp(this, end, weight); }
  hypot(other: Operand): Tensor { return M.hypot(this, other); }
  logit(eps?: number): Tensor { return M.logit(this, eps); }
  xlogy(other: Operand): Tensor { return M.xlogy(this, other); }
  nanToNum(o?: M.NanToNumOptions): Tensor { return M.nanToNum(this, o); }
  exp2(): Tensor { return M.exp2(this); }
  logaddexp(other: Operand): Tensor { return M.logaddexp(this, other); }
  logaddexp2(other: Operand): Tensor { return M.logaddexp(this, other, true); }
  sinc(): Tensor { return M.sinc(this); }
  heaviside(values: Operand): Tensor { return M.heaviside(this, values); }
  erfc(): Tensor { return M.erfc(this); }
  erfinv(): Tensor { return M.erfinv(this); }
  copysign(other: Operand): Tensor { return M.copysign(this, other); }
  frac(): Tensor { return M.frac(this); }
  signbit(): Tensor { return M.signbit(this); }
  deg2rad(): Tensor { return M.deg2rad(this); }
  rad2deg(): Tensor { return M.rad2deg(this); }
  isclose(other: Operand, o?: M.IsCloseOptions): Tensor { return M.isclose(this, other, o); }
  /** torch.reciprocal: 1 / x. */
  reciprocal(): Tensor { return record('recip', [floatOf(this)]); }
  /** torch.abs; of an i32 tensor max(x, −x) (a T5 relative position bucket: abs(2^31) wraps as torch's). */
  abs(): Tensor { return this.dtype === 'i32' ? this.maximum(this.neg()) : record('abs', [this]); }
  erf(): Tensor { return record('erf', [floatOf(this)]); }
  gelu(): Tensor { return record('gelu', [this]); }
  /** torch.floor / ceil / trunc / round (halves to even: round(2.5) = 2) of an f32 tensor; NaN, ±Inf and the sign of zero are kept. */
  floor(): Tensor { return record('floor', [this]); }
  ceil(): Tensor { return record('ceil', [this]); }
  trunc(): Tensor { return record('trunc', [this]); }
  round(): Tensor { return record('round', [this]); }
  /** torch.sin / cos (radians): NaN and ±Inf give NaN, sin(−0) = −0. */
  sin(): Tensor { return record('sin', [floatOf(this)]); }
  cos(): Tensor { return record('cos', [floatOf(this)]); }
  /** torch.tan: NaN for NaN and ±Inf, tan(−0) = −0. */
  tan(): Tensor { return record('tan', [floatOf(this)]); }
  /** torch.asin / acos / atan: asin and acos NaN outside [−1, 1], atan(±Inf) = ±π/2. */
  asin(): Tensor { return record('asin', [floatOf(this)]); }
  acos(): Tensor { return record('acos', [floatOf(this)]); }
  atan(): Tensor { return record('atan', [floatOf(this)]); }
  /**
   * torch.atan2(y = this, x = other): the angle of (x, y) in [−π, π], as C's atan2 (its zeros
   * and infinities included): atan(y/x), plus π with y's sign where x is negative or −0; the two
   * pairs where y/x is NaN without a NaN operand taken apart: (±0, ±0) gives ±0 or ±π, (±inf,
   * ±inf) ±π/4 or ±3π/4. Audio phase, headings.
   */
  atan2(other: Operand): Tensor {
    const [y, x] = promoted('atan2', this, other).map(asF32) as [Tensor, Tensor];
    const signbit = (t: Tensor) => t.lt(0).logicalOr(t.eq(0).logicalAnd(t.reciprocal().lt(0)));
    const negY = signbit(y), negX = signbit(x);
    const withSignOfY = (c: number) => record('where', [negY, scalarLike(-c, y), scalarLike(c, y)]);
    const q = y.div(x).atan(), turned = record('where', [negX, q.add(withSignOfY(Math.PI)), q]);
    const zeros = record('where', [negX, withSignOfY(Math.PI), y]);
    const infs = record('where', [negX, withSignOfY(3 * Math.PI / 4), withSignOfY(Math.PI / 4)]);
    return record('where', [y.eq(0).logicalAnd(x.eq(0)), zeros, record('where', [y.isinf().logicalAnd(x.isinf()), infs, turned])]);
  }
  /** torch.sinh / cosh: ±Inf where the value is beyond f32 (|x| > 89.4). */
  sinh(): Tensor { return record('sinh', [floatOf(this)]); }
  cosh(): Tensor { return record('cosh', [floatOf(this)]); }
  /** torch.asinh / acosh / atanh: acosh NaN below 1, atanh ±Inf at ±1 and NaN beyond. */
  asinh(): Tensor { return record('asinh', [floatOf(this)]); }
  acosh(): Tensor { return record('acosh', [floatOf(this)]); }
  atanh(): Tensor { return record('atanh', [floatOf(this)]); }

  matmul(other: Tensor): Tensor {
    if (!(other instanceof Tensor)) throw new ModelDefinitionError(`matmul: expected a tensor, got ${describeValue(other)}${where()}`);
    if (this.rank === 1 && other instanceof Tensor && other.rank === 1) return this.unsqueeze(0).matmul(other.unsqueeze(1)).reshape(); // a dot product, []
    if (this.rank === 1) return this.unsqueeze(0).matmul(other).squeeze(-2);
    if (other.rank === 1) return this.matmul(other.unsqueeze(1)).squeeze(-1);
    return record('matmul', [this, other]);
  }
  /** torch.bmm: [b, n, m] @ [b, m, p] with one batch (no broadcasting, as torch refuses it). */
  bmm(other: Tensor): Tensor {
    const ok = other instanceof Tensor && this.rank === 3 && other.rank === 3 && canonDim(this.dims[0]!) === canonDim(other.dims[0]!) && canonDim(this.dims[2]!) === canonDim(other.dims[1]!);
    if (!ok) throw new ModelDefinitionError(`bmm: expected [b, n, m] and [b, m, p] tensors, got ${fmtShape(this.dims)} and ${other instanceof Tensor ? fmtShape(other.dims) : describeValue(other)}${where()}`);
    return this.matmul(other);
  }
  /** torch's addmm / addmv / baddbmm / addbmm with this as input: beta·this + alpha·product (utilities.ts: beta = 0 ignores this, NaN too). */
  addmm(mat1: Tensor, mat2: Tensor, o: U.ScaleOptions = {}): Tensor { return U.addProduct('addmm', this, mat1, mat2, o); }
  addmv(mat: Tensor, vec: Tensor, o: U.ScaleOptions = {}): Tensor { return U.addProduct('addmv', this, mat, vec, o); }
  baddbmm(batch1: Tensor, batch2: Tensor, o: U.ScaleOptions = {}): Tensor { return U.addProduct('baddbmm', this, batch1, batch2, o); }
  addbmm(batch1: Tensor, batch2: Tensor, o: U.ScaleOptions = {}): Tensor { return U.addProduct('addbmm', this, batch1, batch2, o); }
  /** torch's expand_as, view_as, reshape_as and type_as: to the other tensor's dims or dtype. */
  expandAs(other: Tensor): Tensor { return this.expand(like('expand_as', other).dims, other.bounds); }
  viewAs(other: Tensor): Tensor { return this.view(like('view_as', other).dims); }
  reshapeAs(other: Tensor): Tensor { return this.reshape(like('reshape_as', other).dims); }
  typeAs(other: Tensor): Tensor { return this.cast(like('type_as', other).dtype); }
  /** torch.clip: clamp's other name. */
  clip(min?: Operand, max?: Operand): Tensor { return this.clamp(min, max); }
  /**
   * torch.diagonal(offset = 0, dim1 = 0, dim2 = 1): the elements (i, i + offset) of dims dim1 and
   * dim2, as a new last dim (those two removed). Over sizes chosen at run time, the main diagonal
   * of a square of one size.
   */
  diagonal(offset = 0, dim1 = 0, dim2 = 1): Tensor {
    if (!Number.isInteger(offset)) throw new ModelDefinitionError(`diagonal: offset must be an integer, got ${describeValue(offset)}${where()}`);
    const a = normAxis(dim1, this.rank), b = normAxis(dim2, this.rank);
    if (a === b) throw new ModelDefinitionError(`diagonal: dim1 and dim2 must differ, both are ${a}${where()}`);
    const rest = [...Array(this.rank).keys()].filter((k) => k !== a && k !== b);
    if (isSymbolic(this.dims[a]!) || isSymbolic(this.dims[b]!)) {
      // A square of one run-time size (an InfoNCE's similarities over a run-time batch): element (i, i), read by a gather at i.
      if (offset !== 0 || canonDim(this.dims[a]!) !== canonDim(this.dims[b]!)) throw new ModelDefinitionError(`diagonal: over sizes chosen at run time dims ${a} and ${b} of ${fmtShape(this.dims)} must be the same size and the offset 0, got offset ${offset}${where()}`);
      const sq = this.permute(...rest, a, b), i = ones([this.dims[a]!], this.bounds).cumsum(0).cast('i32').sub(1);
      const idx = i.reshape(...rest.map(() => 1), this.dims[a]!, 1).expand([...rest.map((r) => this.dims[r]!), this.dims[a]!, 1], this.bounds);
      return sq.gather(rest.length + 1, idx).squeeze(-1);
    }
    const n = this.maxSize(a), m = this.maxSize(b), count = offset >= 0 ? Math.min(n, m - offset) : Math.min(n + offset, m);
    if (count < 1) throw new ModelDefinitionError(`diagonal: offset ${offset} leaves no elements of ${n} × ${m} (torch gives an empty tensor; a tensor here has no empty dims)${where()}`);
    const flat = this.permute(...rest, a, b).flatten(rest.length);
    return gatherAlong(flat, rest.length, Array.from({ length: count }, (_, i) => (offset >= 0 ? i * m + i + offset : (i - offset) * m + i)));
  }
  /** torch.diag: of a 1-D tensor, the square matrix with it on diagonal `diagonal`; of a 2-D one, that diagonal. */
  diag(diagonal = 0): Tensor {
    if (this.rank === 2) return this.diagonal(diagonal);
    if (this.rank !== 1) throw new ModelDefinitionError(`diag: expected a 1-D or 2-D tensor, got ${fmtShape(this.dims)}${where()}`);
    if (!Number.isInteger(diagonal)) throw new ModelDefinitionError(`diag: diagonal must be an integer, got ${describeValue(diagonal)}${where()}`);
    if (isSymbolic(this.dims[0]!)) {
      if (diagonal !== 0) throw new ModelDefinitionError(`diag: over a size chosen at run time ${fmtShape(this.dims)} the diagonal must be 0, got ${diagonal}${where()}`);
      // (zeros off the diagonal whatever the values: a NaN times 0 would not be one)
      const n = this.dims[0]!;
      return this.unsqueeze(0).expand([n, n], this.bounds).maskedFill(eye(n).eq(0), 0);
    }
    const n = this.maxSize(0), N = n + Math.abs(diagonal);
    const at = Array.from({ length: n }, (_, i) => (diagonal >= 0 ? i * N + i + diagonal : (i - diagonal) * N + i));
    const z = this.dtype === 'bool' ? zeros([N * N]).gt(0) : this.dtype === 'i32' ? zeros([N * N]).int() : zeros([N * N]);
    return S.scatter(z, 0, ints(at), this).reshape(N, N);
  }

  /** A view as `shape`: numbers (one may be -1) or dims (`x.reshape(x.dim(0), -1)`, `'B*T'`). */
  reshape(...given: Dim[] | [readonly Dim[]]): Tensor {
    const shape = asDims(given).map(asDim);
    const bad = shape.findIndex((d) => !Number.isInteger(d) && typeof d !== 'string');
    if (bad >= 0) throw new ModelDefinitionError(`reshape: sizes must be integers (one may be -1) or size names, got ${describeValue(shape[bad])} in [${shape.map(describeValue).join(', ')}]${where()}`);
    if (this.node.type.dims || shape.some(isSymbolic)) return this.reshapeSymbolic(shape);
    return this.reshapeStatic(shape as number[]);
  }
  private reshapeStatic(shape: number[]): Tensor {
    const known = shape.filter((d) => d !== -1).reduce((a, b) => a * b, 1);
    const free = shape.filter((d) => d === -1).length;
    if (free > 1) throw new ModelDefinitionError(`reshape: at most one -1 in ${fmtShape(shape)}${where()}`);
    const total = numel(this.maxShape);
    if (free === 1 && (known === 0 || total % known !== 0)) throw new ModelDefinitionError(`reshape: cannot reshape ${fmtShape(this.maxShape)} to ${fmtShape(shape)}${where()}`);
    const out = shape.map((d) => (d === -1 ? total / known : d));
    if (out.every((d, i) => d === this.maxShape[i]) && out.length === this.rank) return this;
    return record('reshape', [this], { shape: out });
  }
  private reshapeSymbolic(target: Dim[]): Tensor {
    const bad = (why: string) => new ModelDefinitionError(`reshape: cannot reshape ${fmtShape(this.dims)} to ${fmtShape(target)}: ${why}${where()}`);
    let dims: Dim[];
    const max = { ...this.bounds };
    for (const d of target) {
      if (typeof d === 'number') { if (!Number.isInteger(d) || (d < 1 && d !== -1)) throw bad(`${d} is not a size`); continue; }
      let c: Dim;
      try { c = canonDim(d); } catch { throw bad(`'${d}' is not a size name or a polynomial of size names`); }
      for (const n of sizeNames(c)) if (max[n] === undefined) throw bad(`size '${n}' is not one of this tensor's sizes (${Object.keys(max).join(', ') || 'none'})`);
    }
    if (target.filter((d) => d === -1).length > 1) throw bad('at most one -1');
    if (target.some(isSymbolic)) {
      const known = numelDims(target.filter((d) => d !== -1).map(canonDim));
      const free = target.includes(-1) ? divDims(numelDims(this.dims), known) : undefined;
      if (target.includes(-1) && free === undefined) throw bad(`the -1 is not a whole number of elements (${fmtShape(this.dims)} / ${known})`);
      dims = target.map((d) => (d === -1 ? free! : canonDim(d)));
    } else {
      dims = this.matchDims(target as number[], bad);
    }
    if (canonDim(numelDims(dims)) !== canonDim(numelDims(this.dims))) throw bad('the element counts differ');
    if (sameShape(dims, this.dims)) return this;
    const shape = dims.map((d) => evalDim(d, max));
    const sym: SymAttrs = { values: { shape: dims }, max: Object.fromEntries(Object.entries(max).filter(([n]) => dims.some((d) => sizeNames(d).includes(n)))) };
    return record('reshape', [this], { shape, sym } as never);
  }
  /**
   * The symbolic dims of a reshape given as numbers at the bounds (as modules compute it from
   * `shape`): dims are grouped where the running products agree; a group of one output dim
   * takes the product of its input dims, a group that keeps its dims keeps their names.
   */
  private matchDims(target: number[], bad: (why: string) => Error): Dim[] {
    const total = numel(this.maxShape);
    const known = target.filter((d) => d !== -1).reduce((a, b) => a * b, 1);
    const out = target.map((d) => (d === -1 ? total / known : d));
    if (!Number.isInteger(total / known) || numel(out) !== total) throw bad('the element counts differ');
    const ins = this.dims.map((d, i) => ({ d, n: this.maxShape[i]! })).filter((x) => x.d !== 1);
    const res: Dim[] = out.map((d) => d);
    // A group split into fixed sizes and the -1 (Swin's windows.view(-1, nW, …) of a run-time 4·N):
    // the -1 is the group's size divided by the others when that divides exactly (4·N / 4 = N).
    // A fixed size that is a multiple of a size's bound may be that size read at its bound (x.maxSize(0),
    // or a number computed from it): view(B, -1) of [4·N] at N ≤ 2 means [N, 4], not [2, 2·N]; that one is refused.
    const splitByFree = (group: Dim[], gj: number[]): boolean => {
      const free = gj.filter((o) => target[o] === -1), fixed = gj.filter((o) => o !== free[0]).map((o) => out[o]!);
      if (free.length !== 1) return false;
      const bounds = group.flatMap(sizeNames).map((n) => this.bounds[n] ?? 1).filter((b) => b > 1);
      if (fixed.some((v) => bounds.some((b) => v % b === 0))) return false;
      const q = divDims(numelDims(group), fixed.reduce((a, v) => a * v, 1));
      if (q === undefined) return false;
      res[free[0]!] = q;
      return true;
    };
    const outIdx = out.map((_, j) => j).filter((j) => out[j] !== 1);
    let i = 0, j = 0;
    while (i < ins.length || j < outIdx.length) {
      const gi = [ins[i++]!], gj = [outIdx[j++]!];
      let pi = gi[0]?.n ?? 1, pj = out[gj[0]!] ?? 1;
      while (pi !== pj) {
        if (pi < pj && i < ins.length) { gi.push(ins[i]!); pi *= ins[i++]!.n; }
        else if (pj < pi && j < outIdx.length) { gj.push(outIdx[j]!); pj *= out[outIdx[j++]!]!; }
        else throw bad('the dims do not line up');
      }
      if (!gi.some((x) => isSymbolic(x.d))) continue;
      if (gj.length === 1) res[gj[0]!] = numelDims(gi.map((x) => x.d));
      else if (gi.length === gj.length && gj.every((o, k) => out[o] === gi[k]!.n)) gj.forEach((o, k) => { res[o] = gi[k]!.d; });
      else if (splitByFree(gi.map((x) => x.d), gj)) continue;
      else throw bad(`how ${fmtShape(gi.map((x) => x.d))} splits into ${fmtShape(gj.map((o) => out[o]!))} depends on the sizes; give the dims by name, e.g. reshape(${gj.map(() => "'…'").join(', ')})`);
    }
    return res;
  }
  view(...shape: Dim[] | [readonly Dim[]]): Tensor { return this.reshape(...asDims(shape)); }
  /** Broadcast to `dims` (a copy); named sizes in `dims` take their bounds from this tensor or from `max`. */
  expand(...given: Array<Dim | Sizes | readonly Dim[]>): Tensor {
    const args = (Array.isArray(given[0]) ? [...given[0], ...given.slice(1)] : given).map(asDim) as Array<Dim | Sizes>;
    const last = args[args.length - 1];
    const max: Record<string, number> = { ...traceBounds(), ...this.bounds, ...(typeof last === 'object' ? last : {}) };
    const wanted = (typeof last === 'object' && last !== null ? args.slice(0, -1) : args) as Dim[];
    const bad = wanted.findIndex((d) => !Number.isInteger(d) && typeof d !== 'string');
    // (No sizes at all is a scalar's own shape: torch's scalar.expand([]).)
    if (bad >= 0 || (wanted.length === 0 && this.rank > 0)) throw new ModelDefinitionError(`expand: sizes must be integers (-1 keeps a dim) or size names, got ${bad < 0 ? 'none' : describeValue(wanted[bad])}${where()}`);
    // torch's -1: this dim keeps its size (only where the tensor has a dim, not a new leading one).
    const lead = wanted.length - this.rank;
    const dims = wanted.map((d, i) => {
      if (d !== -1) return d;
      if (i < lead) throw new ModelDefinitionError(`expand: -1 is not allowed in a new leading dim (dim ${i} of ${fmtShape(wanted)} for a tensor ${fmtShape(this.dims)})${where()}`);
      return this.dims[i - lead]!;
    });
    for (const d of dims) for (const k of sizeNames(d)) if (max[k] === undefined) throw new ModelDefinitionError(`expand: size '${k}' has no bound here${where()}`);
    if (sameShape(dims, this.dims)) return this;
    const sym = dims.some(isSymbolic) ? { sym: { values: { shape: dims }, max: Object.fromEntries(Object.entries(max).filter(([k]) => dims.some((d) => sizeNames(d).includes(k)))) } } : {};
    return record('expand', [this], { shape: dims.map((d) => evalDim(d, max)), ...sym } as never);
  }
  flatten(start = 0, end = -1): Tensor {
    extraArgs('flatten', arguments.length, 2, 'start_dim and end_dim');
    // torch flattens a 0-d tensor to [1], its dims taken as those of one dim (0 or -1).
    if (this.rank === 0) { normAxis(start, 1); normAxis(end, 1); return this.reshape(1); }
    const s = normAxis(start, this.rank), e = normAxis(end, this.rank);
    if (s > e) throw new ModelDefinitionError(`flatten: start_dim ${start} comes after end_dim ${end} for a tensor of rank ${this.rank}${where()}`);
    const mid = numelDims(this.dims.slice(s, e + 1));
    return this.reshape(...this.dims.slice(0, s), mid, ...this.dims.slice(e + 1));
  }
  /** torch.unflatten: dim `dim` as the dims `sizes` (one may be -1); a dim chosen at run time is split only into sizes chosen at run time (x.size(0), …). */
  unflatten(dim: number, sizes: readonly number[]): Tensor {
    const ax = normAxis(dim, this.rank), n = this.dims[ax]!;
    // Sizes chosen at run time (x.unflatten(0, (B, T)) of a flatten(0, 1)): the named shape, which reshape checks.
    if (Array.isArray(sizes) && sizes.some((v) => (v as unknown) instanceof SymSize)) return this.reshape(...this.dims.slice(0, ax), ...sizes.map(asDim), ...this.dims.slice(ax + 1));
    if (!Array.isArray(sizes) || sizes.length === 0 || !sizes.every((v) => Number.isInteger(v) && (v >= 1 || v === -1))) {
      throw new ModelDefinitionError(`unflatten: sizes must be a non-empty list of positive integers (one may be -1), got ${Array.isArray(sizes) ? `[${sizes.slice(0, 6).map(describeValue).join(', ')}]` : describeValue(sizes)}${where()}`);
    }
    if (sizes.filter((v) => v === -1).length > 1) throw new ModelDefinitionError(`unflatten: only one size may be -1, got [${sizes.join(', ')}]${where()}`);
    if (typeof n !== 'number') throw new ModelDefinitionError(`unflatten: dim ${dim} of ${fmtShape(this.dims)} is the size ${n} chosen at run time; unflatten needs a fixed size${where()}`);
    const known = sizes.filter((v) => v !== -1).reduce((a, b) => a * b, 1);
    if (sizes.includes(-1) ? n % known !== 0 : known !== n) {
      throw new ModelDefinitionError(`unflatten: sizes [${sizes.join(', ')}] do not multiply up to the size of dim ${dim} (${n}) of ${fmtShape(this.dims)}${where()}`);
    }
    return this.reshape(...this.dims.slice(0, ax), ...sizes.map((v) => (v === -1 ? n / known : v)), ...this.dims.slice(ax + 1));
  }
  unsqueeze(d: number): Tensor {
    extraArgs('unsqueeze', arguments.length, 1, 'one dim (unsqueeze twice for two)');
    const a = normAxis(d, this.rank + 1);
    return this.reshape(...this.dims.slice(0, a), 1, ...this.dims.slice(a));
  }
  /** Drops size-1 dimensions: all of them, or those among `d` (PyTorch: a named dim that is not 1 stays). */
  squeeze(d?: number | number[], ...more: number[]): Tensor {
    // squeeze(0, 1) is squeeze([0, 1]), as PyTorch 2 takes it (dims after the first were ignored).
    if (more.length) d = [...(Array.isArray(d) ? d : [d!]), ...more];
    const axes = d === undefined ? [...this.maxShape.keys()] : (Array.isArray(d) ? d : [d]).map((a) => normAxis(a, this.rank));
    return this.reshape(...this.dims.filter((n, i) => n !== 1 || !axes.includes(i)));
  }
  permute(...given: number[] | [readonly number[]]): Tensor {
    const p = asDims(given).map((a) => normAxis(a, this.rank));
    // As torch: one entry per dim, each once (a prefix like permute(0) was the identity here, silently).
    if (p.length !== this.rank || new Set(p).size !== p.length) {
      throw new ModelDefinitionError(`permute: dims [${asDims(given).join(', ')}] must name each of the ${this.rank} dims of ${fmtShape(this.dims)} once${where()}`);
    }
    if (p.every((v, i) => v === i)) return this;
    return record('transpose', [this], { perm: p });
  }
  transpose(d0: number, d1: number): Tensor {
    extraArgs('transpose', arguments.length, 2, 'two dims (permute for more)');
    const p = [...Array(this.rank).keys()];
    const a = normAxis(d0, this.rank), b = normAxis(d1, this.rank);
    [p[a], p[b]] = [p[b]!, p[a]!];
    return this.permute(...p);
  }
  /** torch.movedim / moveaxis (dims as an int or a list), swapaxes / swapdims (transpose's other names). */
  movedim(source: number | number[], destination: number | number[]): Tensor { return U.movedim(this, source, destination); }
  moveaxis(source: number | number[], destination: number | number[]): Tensor { return U.movedim(this, source, destination); }
  swapaxes(axis0: number, axis1: number): Tensor { return this.transpose(axis0, axis1); }
  swapdims(dim0: number, dim1: number): Tensor { return this.transpose(dim0, dim1); }
  /** Transpose of the last two dimensions. */
  get mT(): Tensor { return this.transpose(-2, -1); }
  /** torch.t: a 2-D tensor transposed; 0-D and 1-D ones as they are. */
  t(): Tensor {
    if (this.rank > 2) throw new ModelDefinitionError(`t: expects a tensor of at most 2 dims, got ${fmtShape(this.dims)} (transpose(a, b) or mT for the last two)${where()}`);
    return this.rank === 2 ? this.transpose(0, 1) : this;
  }
  /** torch's .T: the dims reversed. */
  get T(): Tensor { return this.permute(...[...Array(this.rank).keys()].reverse()); }

  /**
   * torch.sum over dims. i32 and bool (torch: an int64 count) sum exactly as i32, wrapping as
   * every i32 add (the IR's sum is f32 only): each axis's total is element 0 of its reverse running
   * sum, which serves sizes chosen at run time too.
   */
  sum(dim?: number | number[], keepdim = false): Tensor {
    if (this.dtype === 'f32') return reduce('sum', this, dims(dim, this.rank), keepdim);
    if (typeof keepdim !== 'boolean') throw new ModelDefinitionError(`sum: keepdim must be true or false, got ${describeValue(keepdim)}${where()}`);
    const axes = [...new Set(dims(dim, this.rank))];
    let y = this.dtype === 'bool' ? this.cast('i32') : this;
    for (const a of axes) y = scan(y, a, false, true).slice(a, 0, 1);
    return keepdim ? y : y.squeeze(axes);
  }
  mean(dim?: number | number[], keepdim = false): Tensor { return reduce('mean', this, dims(dim, this.rank), keepdim); }
  /** torch.any / all (whole tensor, or one dim with keepdim): bool; NaN is true. count_nonzero: i32. aminmax: { min, max }. nansum / nanmean: NaN skipped. (utilities.ts) */
  any(dim?: number, keepdim = false): Tensor { return U.anyAll('any', this, dim, keepdim); }
  all(dim?: number, keepdim = false): Tensor { return U.anyAll('all', this, dim, keepdim); }
  countNonzero(dim?: number | number[]): Tensor { return U.countNonzero(this, dim); }
  aminmax(o: { dim?: number; keepdim?: boolean } = {}): { min: Tensor; max: Tensor } { return U.aminmax(this, o); }
  nansum(dim?: number | number[], keepdim = false): Tensor { return U.nansum(this, dim, keepdim); }
  nanmean(dim?: number | number[], keepdim = false): Tensor { return U.nanmean(this, dim, keepdim); }
  /** Unpacking a tensor (torch's `values, indices = x.max(dim)`, `a, b = x`) was a raw TypeError; it would have to be a wrong answer (rows of the values) if it iterated. */
  [Symbol.iterator](): never { throw new ModelDefinitionError(`a tensor cannot be unpacked or iterated (const [a, b] = x, for (const r of x)): torch's \`values, indices = x.max(dim)\` (or min) is x.max(dim) / x.min(dim) for the values and x.argmax(dim) / x.argmin(dim) for the indices; torch's \`a, b = x\` or \`for row in x\` is x.unbind(0)${where()}`); }
  /**
   * JavaScript arithmetic or comparison on a tensor (torch's h * 0.5, x + y, x > 0) read it as NaN
   * or text: x.add(h * 0.5) added NaN to every value of a model that compiled and ran. As text it is its type.
   */
  [Symbol.toPrimitive](hint: string): string {
    if (hint === 'string') return `tensor ${this.dtype}${fmtShape(this.dims)}`;
    throw new ModelDefinitionError(`a tensor cannot be used in JavaScript arithmetic or comparison (torch's h * 0.5, x + y, x > 0): use its methods, h.mul(0.5), x.add(y), x.gt(0)${where()}`);
  }
  /** torch.amax over dims (values only); i32 exactly, by halving (the IR's max reduces f32). */
  max(dim?: number | number[], keepdim = false): Tensor {
    if (this.dtype !== 'i32') return reduce('max', this, dims(dim, this.rank), keepdim);
    if (typeof keepdim !== 'boolean') throw new ModelDefinitionError(`max: keepdim must be true or false, got ${describeValue(keepdim)}${where()}`);
    return halvingReduce('max', this, dims(dim, this.rank), keepdim, (a, b) => a.maximum(b));
  }
  /** torch.prod over `dim` (several allowed): f32, multiplied in order along the axes, each step rounded to f32. */
  prod(dim?: number | number[], keepdim = false): Tensor { return reduce('prod', this, dims(dim, this.rank), keepdim); }
  /** torch.argmax: along `dim`, or without one the index into the flattened tensor (keepdim then keeps every dim as 1). */
  argmax(dim?: number, keepdim = false): Tensor {
    if (dim === undefined) {
      if (typeof keepdim !== 'boolean') throw new ModelDefinitionError(`argmax: keepdim must be true or false, got ${describeValue(keepdim)}${where()}`);
      const i = reduce('argmax', this.reshape(-1), [0], false);
      return keepdim ? i.reshape(...this.maxShape.map(() => 1)) : i;
    }
    if (!Number.isInteger(dim)) throw new ModelDefinitionError(`argmax: dim must be one integer, got ${describeValue(dim)}${where()}`);
    return reduce('argmax', this, dims(dim, this.rank), keepdim);
  }
  /**
   * torch.topk: [values, indices (i32)] of the k largest (or smallest) along `dim`, in order; NaN
   * counts as larger than every number, equal values keep the lower index first (torch 1.13 leaves
   * the order of ties unspecified). `sorted: false` gives them sorted as well, as torch may.
   */
  topk(k: number, dim = -1, largest = true, sorted = true): [Tensor, Tensor] {
    if (!Number.isInteger(dim)) throw new ModelDefinitionError(`topk: dim must be one integer, got ${describeValue(dim)}${where()}`);
    if ((k as unknown) instanceof SymSize) throw new ModelDefinitionError(`topk: k must be an integer (a count fixed when the model is defined), got ${describeValue(k)}${where()}`);
    for (const [name, v] of [['largest', largest], ['sorted', sorted]] as const) {
      if (typeof v !== 'boolean') throw new ModelDefinitionError(`topk: ${name} must be true or false, got ${describeValue(v)}${where()}`);
    }
    if (this.rank === 0) throw new ModelDefinitionError(`topk: the input must have at least one dim, got a scalar${where()}`);
    if (dim < -this.rank || dim >= this.rank) throw new ModelDefinitionError(`topk: dim ${dim} is out of range for ${fmtShape(this.dims)}${where()}`);
    const [values, indices] = recordMulti('topk', [this], { axis: normAxis(dim, this.rank), k, largest });
    return [values!, indices!];
  }
  /** torch.sort: [values, indices] along `dim`, ascending unless `descending` (topk of every element; equal values keep their order). */
  sort(dim = -1, descending = false): [Tensor, Tensor] {
    if (typeof descending !== 'boolean') throw new ModelDefinitionError(`sort: descending must be true or false, got ${describeValue(descending)}${where()}`);
    if (!Number.isInteger(dim) || dim < -this.rank || dim >= this.rank) throw new ModelDefinitionError(`sort: dim must be an integer in [${-this.rank}, ${this.rank - 1}] for ${fmtShape(this.dims)}, got ${describeValue(dim)}${where()}`);
    if (isSymbolic(this.dim(dim))) throw new ModelDefinitionError(`sort: dim ${normAxis(dim, this.rank)} of ${fmtShape(this.dims)} is a size chosen at run time; a sorted dim must be a fixed size${where()}`);
    return this.topk(this.maxSize(dim), dim, descending, true);
  }
  /** torch.argsort: the indices of sort. */
  argsort(dim = -1, descending = false): Tensor { return this.sort(dim, descending)[1]; }
  /** torch.median: of every element the lower median (0-d; NaN if any is NaN); with dim [values, indices] (statistics.ts). */
  median(): Tensor;
  median(dim: number, keepdim?: boolean): [Tensor, Tensor];
  median(dim?: number, keepdim = false): Tensor | [Tensor, Tensor] { return St.median(this, dim, keepdim); }
  /** torch.nanmedian: median of the values that are not NaN. */
  nanmedian(): Tensor;
  nanmedian(dim: number, keepdim?: boolean): [Tensor, Tensor];
  nanmedian(dim?: number, keepdim = false): Tensor | [Tensor, Tensor] { return St.nanmedian(this, dim, keepdim); }
  /** torch.kthvalue: [values, indices] of the k-th smallest along dim. */
  kthvalue(k: number, dim = -1, keepdim = false): [Tensor, Tensor] { return St.kthvalue(this, k, dim, keepdim); }
  /** torch.quantile / nanquantile(q, { dim, keepdim, interpolation }) (statistics.ts). */
  quantile(q: number | Tensor, o: St.QuantileOptions = {}): Tensor { return St.quantile(this, q, o); }
  nanquantile(q: number | Tensor, o: St.QuantileOptions = {}): Tensor { return St.nanquantile(this, q, o); }
  /** torch.index_select: the entries of `dim` at run-time i32 indices [n] (one outside the dim traps, as PyTorch raises). */
  indexSelect(dim: number, index: Tensor): Tensor {
    if (!(index instanceof Tensor) || index.dtype !== 'i32' || index.rank !== 1) throw new ModelDefinitionError(`index_select: index must be an i32 tensor of one dim, got ${index instanceof Tensor ? `${index.dtype} ${fmtShape(index.dims)}` : describeValue(index)}${where()}`);
    const axis = normAxis(dim, this.rank), perm = [axis, ...[...Array(this.rank).keys()].filter((a) => a !== axis)];
    const g = record('gather', [this.permute(...perm), index]);
    return g.permute(...[...Array(this.rank).keys()].map((a) => (a < axis ? a + 1 : a === axis ? 0 : a)));
  }
  /** torch.repeat_interleave with one count: each entry of `dim` repeated `repeats` times in place (without dim, of the flattened tensor). */
  repeatInterleave(repeats: number, dim?: number): Tensor {
    if (!Number.isInteger(repeats) || repeats < 1) throw new ModelDefinitionError(`repeat_interleave: repeats must be a positive integer, got ${describeValue(repeats)}${where()}`);
    if (dim === undefined) return this.reshape(-1).repeatInterleave(repeats, 0);
    const axis = normAxis(dim, this.rank), d = this.dims;
    const spread = this.unsqueeze(axis + 1).expand(...d.slice(0, axis + 1), repeats, ...d.slice(axis + 1), this.bounds);
    return spread.reshape(...d.slice(0, axis), mulDims(d[axis]!, repeats), ...d.slice(axis + 1));
  }
  softmax(dim: number): Tensor { return record('softmax', [this], { axis: normAxis(dim, this.rank) }); }
  logSoftmax(dim: number): Tensor { return record('logsoftmax', [this], { axis: normAxis(dim, this.rank) }); }

  /** Elements start..end-1 (step) along `dim`; negative start/end count from the end. */
  slice(dim: number, start: Dim, end?: Dim, step = 1): Tensor {
    const ax = normAxis(dim, this.rank);
    [start, end] = [asDim(start), asDim(end)];
    for (const [k, v] of [['start', start], ['end', end]] as const) {
      // Only end may be left out (to the end of the dim); a missing start made a NaN shape.
      if ((k === 'start' || v !== undefined) && typeof v !== 'string' && !Number.isInteger(v)) throw new ModelDefinitionError(`slice: ${k} must be an integer or a size name, got ${describeValue(v)}${where()}`);
    }
    if (!Number.isInteger(step) || step < 1) throw new ModelDefinitionError(`slice: step must be a positive integer, got ${describeValue(step)}${where()}`);
    if (isSymbolic(this.dim(ax)) || isSymbolic(start) || (end !== undefined && isSymbolic(end))) return this.sliceSymbolic(ax, start, end, step);
    return this.sliceStatic(ax, start as number, end as number | undefined, step);
  }
  private sliceStatic(ax: number, start: number, end: number | undefined, step: number): Tensor {
    // Python's slice: negative ends count from the end, and both are clamped into [0, n].
    const n = this.maxShape[ax]!, clamp = (v: number) => Math.min(Math.max(v < 0 ? v + n : v, 0), n);
    const s = clamp(start), e = end === undefined ? n : clamp(end);
    if (s === 0 && e === n && step === 1) return this;
    return record('slice', [this], { axis: ax, start: s, end: e, step });
  }
  /** A slice along a dim with a named size: negative or omitted ends count from the actual end (x[:, -1] is at T−1). */
  private sliceSymbolic(ax: number, start: Dim, end: Dim | undefined, step: number): Tensor {
    const n = this.dim(ax);
    const rel = (v: Dim): Dim => (typeof v === 'number' && v < 0 ? addDims(n, v) : canonDim(v));
    const s = rel(start), e = end === undefined ? n : rel(end);
    if (s === 0 && e === n && step === 1) return this;
    const max: Record<string, number> = { ...traceBounds(), ...this.bounds };
    for (const x of [s, e]) for (const k of sizeNames(x)) {
      if (max[k] === undefined) throw new ModelDefinitionError(`slice: size '${k}' in ${x} has no bound here; slice with a dim of a tensor that has it (t.dim(i))${where()}`);
    }
    const ss = evalDim(s, max), ee = evalDim(e, max);
    const values: Record<string, Dim> = {};
    if (isSymbolic(s)) values.start = s;
    if (isSymbolic(e)) values.end = e;
    const used = Object.fromEntries(Object.entries(max).filter(([k]) => [s, e].some((x) => sizeNames(x).includes(k))));
    return record('slice', [this], { axis: ax, start: ss, end: ee, step, ...(Object.keys(values).length ? { sym: { values, max: used } } : {}) } as never);
  }
  /** torch.split: pieces of `size` along `dim` (the last may be shorter), or of the listed sizes (which may be sizes chosen at run time), which must add up to the dim. */
  split(size: number | readonly number[], dim = 0): Tensor[] {
    const ax = normAxis(dim, this.rank), n = this.dim(ax);
    // Sizes chosen at run time (ViLT's split of cat([text, image], 1) by [text.size(1), image.size(1)]): slices between their running sums, which must add up to the dim.
    if (Array.isArray(size) && size.some((v) => (v as unknown) instanceof SymSize)) {
      const parts = size.map(asDim), total = parts.reduce((a: Dim, b) => addDims(a, b), 0);
      if (!parts.every((v) => (Number.isInteger(v) && (v as number) >= 1) || (typeof v === 'string' && isSymbolic(v)))) throw new ModelDefinitionError(`split: split sizes must be positive integers or sizes chosen at run time, got [${parts.map(describeValue).join(', ')}]${where()}`);
      if (canonDim(total) !== canonDim(n)) throw new ModelDefinitionError(`split: sizes [${parts.join(', ')}] add up to ${canonDim(total)}, but dim ${dim} of ${fmtShape(this.dims)} is ${n}${where()}`);
      let at: Dim = 0;
      return parts.map((c) => { const t = this.slice(ax, at, addDims(at, c)); at = addDims(at, c); return t; });
    }
    if (typeof n !== 'number') throw new ModelDefinitionError(`split: dim ${dim} of ${fmtShape(this.dims)} is chosen at run time; split needs a fixed size${where()}`);
    const sizes = Array.isArray(size) ? size : [size as number];
    if (!sizes.length || !sizes.every((v) => Number.isInteger(v) && v >= 0) || (!Array.isArray(size) && size === 0 && n > 0)) {
      throw new ModelDefinitionError(`split: ${Array.isArray(size) ? 'split sizes must be non-negative integers' : 'split size must be a positive integer'}, got ${Array.isArray(size) ? `[${size.slice(0, 8).map(describeValue).join(', ')}]` : describeValue(size)}${where()}`);
    }
    let cuts: number[];
    if (Array.isArray(size)) {
      if (sizes.reduce((a, b) => a + b, 0) !== n) throw new ModelDefinitionError(`split: sizes [${sizes.join(', ')}] add up to ${sizes.reduce((a, b) => a + b, 0)}, but dim ${dim} has ${n}${where()}`);
      // torch gives an empty tensor for a 0; dims here are at least 1 (slice failed, naming neither split nor the sizes).
      if (sizes.includes(0)) throw new ModelDefinitionError(`split: sizes [${sizes.join(', ')}] ask for an empty piece, and tensors here have no empty dims; leave the 0 out${where()}`);
      cuts = sizes;
    } else cuts = Array.from({ length: Math.max(1, Math.ceil(n / sizes[0]!)) }, (_, i) => Math.min(sizes[0]!, n - i * sizes[0]!));
    let at = 0;
    return cuts.map((c) => { const t = this.slice(ax, at, at + c); at += c; return t; });
  }
  /** torch.chunk: at most `chunks` pieces of ceil(n / chunks) along `dim` (so possibly fewer pieces). */
  chunk(chunks: number, dim = 0): Tensor[] {
    if (!Number.isInteger(chunks) || chunks < 1) throw new ModelDefinitionError(`chunk: chunks must be a positive integer, got ${describeValue(chunks)}${where()}`);
    const n = this.dim(dim);
    if (typeof n !== 'number') throw new ModelDefinitionError(`chunk: dim ${dim} of ${fmtShape(this.dims)} is chosen at run time; chunk needs a fixed size${where()}`);
    return this.split(Math.max(1, Math.ceil(n / chunks)), dim);
  }
  /** x[..., i, ...] along `dim`, removing that dimension. */
  select(dim: number, index: number): Tensor {
    const ax = normAxis(dim, this.rank);
    const n = this.dim(ax);
    if (!Number.isInteger(index) || (typeof n === 'number' && (index < -n || index >= n))) {
      throw new ModelDefinitionError(`select: index ${describeValue(index)} is out of range for dim ${dim} of size ${n} (tensor ${fmtShape(this.dims)}): it must be an integer${typeof n === 'number' ? ` in [${-n}, ${n})` : ''}${where()}`);
    }
    const i: Dim = index < 0 ? addDims(n, index) : index;
    return this.slice(ax, i, addDims(i, 1)).reshape(...this.dims.filter((_, k) => k !== ax));
  }
  /**
   * x.narrow(dim, index, size) with an index known only at run time (an i32[] tensor). An index
   * outside [0, dim − size] is clamped into it (as XLA's DynamicSlice; torch.narrow would raise).
   */
  dynamicSlice(dim: number, index: Tensor, size = 1): Tensor {
    const axis = normAxis(dim, this.rank);
    runTimeIndex('dynamicSlice', index);
    const n = this.dim(axis);
    if (!Number.isInteger(size) || size < 1 || (typeof n === 'number' && size > n)) throw new ModelDefinitionError(`dynamicSlice: size must be an integer in [1, ${n}] (dim ${axis} of ${fmtShape(this.dims)}), got ${describeValue(size)}${where()}`);
    return record('dynamic_slice', [this, index], { axis, size });
  }
  /** A copy of x with `update` written at run-time position `index` along `dim` (clamped like dynamicSlice's). */
  dynamicUpdate(dim: number, index: Tensor, update: Tensor): Tensor {
    const axis = normAxis(dim, this.rank);
    runTimeIndex('dynamicUpdate', index);
    if (!(update instanceof Tensor)) throw new ModelDefinitionError(`dynamicUpdate: update must be a tensor, got ${describeValue(update)}${where()}`);
    return record('dynamic_update', [this, update, index], { axis });
  }
  /**
   * torch's x.repeat(*sizes): x tiled sizes[i] times along each axis; more sizes than dims add
   * leading axes. Each tiled axis is a view [1, d], a broadcast copy to [r, d] and a view [r·d]
   * (one expand for all axes).
   */
  repeat(...given: number[] | [readonly number[]]): Tensor {
    // A count may be a size chosen at run time (cls_token.repeat(x.size(0), 1, 1)).
    const reps = asDims(given).map(asDim) as unknown[];
    if (!reps.every((r) => (Number.isInteger(r) && (r as number) >= 1) || (typeof r === 'string' && isSymbolic(r)))) {
      throw new ModelDefinitionError(`repeat: sizes must be positive integers (0 would make an empty tensor, which tensors here cannot be) or sizes chosen at run time, got [${reps.slice(0, 8).map(describeValue).join(', ')}]${where()}`);
    }
    if (reps.length < this.rank) throw new ModelDefinitionError(`repeat: ${reps.length} size${reps.length === 1 ? '' : 's'} [${reps.join(', ')}] for a tensor ${fmtShape(this.dims)} of rank ${this.rank}: give at least one per dim${where()}`);
    const r = reps as Dim[], d: Dim[] = [...r.slice(this.rank).map(() => 1), ...this.dims]; // new leading dims of 1
    if (r.every((k) => k === 1)) return this.reshape(d);
    const view = d.flatMap((n, i) => (r[i] !== 1 ? [1, n] : [n]));
    const wide = d.flatMap((n, i) => (r[i] !== 1 ? [r[i]!, n] : [n]));
    return this.reshape(view).expand(wide).reshape(d.map((n, i) => mulDims(r[i]!, n)));
  }
  /** torch.tile: as repeat, reps shorter than the rank padded with 1 in front. */
  tile(...reps: number[] | [readonly number[]]): Tensor { return U.tile(this, asDims(reps)); }
  /**
   * torch.gather(x, dim, index): out[i…] = x[i… with i_dim replaced by index[i…]]. index is i32 of
   * x's rank, no larger than x on any other dim; an index outside [0, n) raises here when it is a
   * constant and traps in the compiled code when it is known only at run time (torch raises too).
   */
  gather(dim: number, index: Tensor): Tensor { return gatherElements(this, dim, index, false); }
  /** torch.take_along_dim: gather with input and indices broadcast but along dim; without dim, of the flattened tensor. */
  takeAlongDim(indices: Tensor, dim?: number): Tensor { return U.takeAlongDim(this, indices, dim); }
  /** torch.Tensor.scatter(dim, index, src): a copy with src (a tensor, or a number) written at index along dim (scatter.ts). */
  scatter(dim: number, index: Tensor, src: Tensor | number): Tensor {
    extraArgs('scatter', arguments.length, 3, "dim, index and src (torch's reduce argument is scatterAdd or scatterReduce here)");
    return S.scatter(this, dim, index, src);
  }
  /** torch.Tensor.scatter_add(dim, index, src): src added at index along dim. */
  scatterAdd(dim: number, index: Tensor, src: Tensor): Tensor { return S.scatterReduce(this, dim, index, src, 'sum'); }
  /** torch.Tensor.scatter_reduce(dim, index, src, reduce, include_self=True): 'sum', 'prod', 'mean', 'amax' or 'amin' at index along dim. */
  scatterReduce(dim: number, index: Tensor, src: Tensor, reduce: S.ScatterReduce, o: { includeSelf?: boolean } = {}): Tensor { return S.scatterReduce(this, dim, index, src, reduce, o); }
  /** torch.Tensor.index_add(dim, index, source, alpha=1): source's slices along dim added at the rows the 1-D index names. */
  indexAdd(dim: number, index: Tensor, source: Tensor, o: { alpha?: number } = {}): Tensor { return S.indexAdd(this, dim, index, source, o); }
  /** A copy as another dtype: to bool, x ≠ 0 (NaN is true); to i32, truncated toward zero, saturating (NaN → 0). */
  cast(dtype: DType): Tensor {
    if (typeof dtype !== 'string' || !Object.hasOwn(DTYPE_BYTES, dtype)) throw new ModelDefinitionError(`cast: dtype must be ${Object.keys(DTYPE_BYTES).map((d) => `'${d}'`).join(', ').replace(/, ([^,]*)$/, ' or $1')}, got ${describeValue(dtype)}${where()}`);
    return dtype === this.dtype ? this : record('cast', [this], { dtype });
  }
  float(): Tensor { return this.cast('f32'); }
  /** torch's int() / long(): i32 (the IR's integers; PyTorch's int64 held as i32). */
  int(): Tensor { return this.cast('i32'); }
  long(): Tensor { return this.cast('i32'); }
  bool(): Tensor { return this.cast('bool'); }
  /**
   * torch's x.to(device), x.cpu(), x.cuda(): a model runs in one place, so the tensor itself;
   * x.to(dtype) (by torch's name without 'torch.', or ours) and x.to(other) cast as float(),
   * long() and typeAs(other) do.
   */
  to(target: string | Tensor): Tensor {
    if (target instanceof Tensor) return this.typeAs(target);
    if (typeof target === 'string' && /^(cpu|cuda(:\d+)?|mps|xpu(:\d+)?)$/.test(target)) return this;
    const dtype = typeof target === 'string' ? TO_DTYPES[target.replace(/^torch\./, '')] : undefined;
    if (dtype === undefined) throw new ModelDefinitionError(`to: expected a device ('cpu', 'cuda', 'cuda:0', 'mps'), a dtype (${Object.keys(TO_DTYPES).map((d) => `'${d}'`).join(', ')}) or a tensor, got ${describeValue(target)}${where()}`);
    return this.cast(dtype);
  }
  /**
   * torch's x.type(): 'torch.FloatTensor', 'torch.LongTensor' (i32 stands for int64) or
   * 'torch.BoolTensor'; x.type(dtype) casts as to(dtype) does, also to a tensor type's name
   * ('torch.FloatTensor', 'torch.cuda.LongTensor').
   */
  type(): string;
  type(dtype: string): Tensor;
  type(dtype?: string): Tensor | string {
    if (dtype === undefined) return `torch.${TENSOR_TYPES[this.dtype]}Tensor`;
    const named = typeof dtype === 'string' ? /^torch\.(?:cuda\.)?(\w+)Tensor$/.exec(dtype) : null;
    const as = named ? Object.entries(TENSOR_TYPES).find(([, n]) => n === named[1] || (named[1] === 'Int' && n === 'Long'))?.[0] as DType | undefined
      : typeof dtype === 'string' ? TO_DTYPES[dtype.replace(/^torch\./, '')] : undefined;
    if (!as) throw new ModelDefinitionError(`type: expected a dtype (${Object.keys(TO_DTYPES).map((d) => `'${d}'`).join(', ')}) or a tensor type (torch.FloatTensor, torch.LongTensor, torch.IntTensor, torch.BoolTensor), got ${describeValue(dtype)}${where()}`);
    return this.cast(as);
  }
  cpu(): Tensor { return this; }
  cuda(): Tensor { return this; }
  /** torch's x.item() and x.tolist(): refused, as a tensor's values exist only when the model runs. */
  item(): never { throw new ModelDefinitionError(`item: a tensor's value is known only when the model runs, not while it is traced; keep it a tensor (a 0-d tensor broadcasts as a scalar: x.mul(s))${where()}`); }
  tolist(): never { throw new ModelDefinitionError(`tolist: a tensor's values are known only when the model runs, not while it is traced; keep it a tensor${where()}`); }
  /** The tensor itself: values are never shared mutably here, so clone(), contiguous() and detach() have nothing to do. */
  clone(): Tensor { return this; }
  contiguous(): Tensor { return this; }
  detach(): Tensor { return this; }
  /** torch's new_zeros / new_ones / new_full / new_empty (zeros here): of this tensor's dtype, the size given. */
  newZeros(...size: Dim[] | [readonly Dim[]]): Tensor { return U.newFilled('new_zeros', this, size, 0); }
  newOnes(...size: Dim[] | [readonly Dim[]]): Tensor { return U.newFilled('new_ones', this, size, 1); }
  newEmpty(...size: Dim[] | [readonly Dim[]]): Tensor { return U.newFilled('new_empty', this, size, 0); }
  newFull(size: readonly Dim[], fillValue: number): Tensor { return U.newFilled('new_full', this, [size], fillValue); }

  /** torch.amin (and min over dims, values only, as max): the max of the order reversed (exact for i32). */
  min(dim?: number | number[], keepdim = false): Tensor { return reversedOrder('min', reversedOrder('min', this).max(dim, keepdim)); }
  /** torch.amin / amax: min and max by PyTorch's names for the values-only reductions. */
  amin(dim?: number | number[], keepdim = false): Tensor { return this.min(dim, keepdim); }
  amax(dim?: number | number[], keepdim = false): Tensor { return this.max(dim, keepdim); }
  /** torch.argmin: the first index of the minimum (of the first NaN, as PyTorch), as argmax of the order reversed. */
  argmin(dim?: number, keepdim = false): Tensor {
    if (dim !== undefined && !Number.isInteger(dim)) throw new ModelDefinitionError(`argmin: dim must be one integer, got ${describeValue(dim)}${where()}`);
    return reversedOrder('argmin', this).argmax(dim, keepdim);
  }
  /** torch.cumsum along `dim`: inclusive sums in order of the index; bool and i32 sum as i32 (PyTorch: int64). */
  cumsum(dim: number): Tensor { return scan(this.dtype === 'bool' ? this.cast('i32') : this, normAxis(dim, this.rank), false, false); }
  /** torch.diff(n = 1, dim = -1, prepend?, append?): n-th forward differences (bool: xor) (utilities.ts). */
  diff(n = 1, dim = -1, prepend?: Tensor, append?: Tensor): Tensor { return U.diff(this, n, dim, prepend, append); }
  /** torch.cumprod, cummax, cummin (values and i32 indices) and logcumsumexp along `dim` (maths.ts). */
  cumprod(dim: number): Tensor { return M.cumprod(this, dim); }
  cummax(dim: number): [Tensor, Tensor] { return M.cumExtreme(this, dim, true); }
  cummin(dim: number): [Tensor, Tensor] { return M.cumExtreme(this, dim, false); }
  logcumsumexp(dim: number): Tensor { return M.logcumsumexp(this, dim); }
  /**
   * torch.var over `dim` (all dims when absent): Σ(x − mean)² / (n − correction), correction 1
   * unless `unbiased: false` or `correction` says otherwise (n − correction ≤ 0 divides by 0, as
   * PyTorch: inf, or NaN for one value). With a correction, the reduced sizes must be fixed.
   */
  var(dim?: number | number[], opts: VarOptions | boolean = {}, keepdimArg?: boolean): Tensor {
    // PyTorch's positional x.var(dim, unbiased, keepdim) too: x.std(1, false) was read as empty
    // options and gave the unbiased value; a misspelt option was ignored.
    if (typeof opts === 'boolean') opts = { unbiased: opts, ...(keepdimArg === undefined ? {} : { keepdim: keepdimArg }) };
    else if (keepdimArg !== undefined) throw new ModelDefinitionError(`var: keepdim goes in the options ({ keepdim }) or third after unbiased as a boolean, got options ${describeValue(opts)} and ${describeValue(keepdimArg)}${where()}`);
    if (typeof opts !== 'object' || opts === null || Array.isArray(opts) || opts instanceof Tensor) throw new ModelDefinitionError(`var: options must be { unbiased?, correction?, keepdim? } or unbiased as true or false, got ${describeValue(opts)}${where()}`);
    const extra = Object.keys(opts).find((k) => !['unbiased', 'correction', 'keepdim'].includes(k));
    if (extra !== undefined) throw new ModelDefinitionError(`var: unknown option '${extra.slice(0, 60)}' (allowed: unbiased, correction, keepdim)${where()}`);
    const { unbiased, correction, keepdim = false } = opts;
    if (typeof keepdim !== 'boolean') throw new ModelDefinitionError(`var: keepdim must be true or false, got ${describeValue(keepdim)}${where()}`);
    if (unbiased !== undefined && correction !== undefined) throw new ModelDefinitionError(`var: give unbiased or correction, not both${where()}`);
    if (unbiased !== undefined && typeof unbiased !== 'boolean') throw new ModelDefinitionError(`var: unbiased must be true or false, got ${describeValue(unbiased)}${where()}`);
    const c = correction ?? (unbiased === false ? 0 : 1);
    if (typeof c !== 'number' || !Number.isInteger(c) || c < 0) throw new ModelDefinitionError(`var: correction must be a non-negative integer, got ${describeValue(c)}${where()}`);
    const axes = dims(dim, this.rank), x = this.dtype === 'f32' ? this : this.cast('f32');
    const d = x.sub(x.mean(axes, true)), ss = d.mul(d);
    if (c === 0) return ss.mean(axes, keepdim);
    const reduced = axes.map((a) => this.dim(a));
    // N − correction, at least 0 (PyTorch's divisor); over a size chosen at run time, N is counted
    // when the code runs (sizeTensor).
    const n = reduced.reduce<Dim>((p, q) => mulDims(p, q), 1);
    const divisor = isSymbolic(n) ? sizeTensor(n).cast('f32').sub(c).maximum(0).squeeze(0) : Math.max(n - c, 0);
    return ss.sum(axes, keepdim).div(divisor);
  }
  /** torch.std: the square root of var (same options). */
  std(dim?: number | number[], opts: VarOptions | boolean = {}, keepdim?: boolean): Tensor { return this.var(dim, opts, keepdim).sqrt(); }
  /**
   * torch.norm / linalg.vector_norm over `dim` (all dims when absent): p = 2 (or 'fro') √Σx², 1 Σ|x|,
   * Infinity max |x|, -Infinity min |x|, 0 the count of non-zeros, else (Σ|x|^p)^(1/p).
   */
  norm(p: number | 'fro' = 2, dim?: number | number[], keepdim = false): Tensor {
    if (p !== 'fro' && typeof p !== 'number' || Number.isNaN(p)) throw new ModelDefinitionError(`norm: p must be a number, Infinity, -Infinity or 'fro', got ${describeValue(p)}${where()}`);
    const x = this.dtype === 'f32' ? this : this.cast('f32'), axes = dims(dim, this.rank), a = x.abs();
    if (p === 'fro' || p === 2) return x.mul(x).sum(axes, keepdim).sqrt();
    if (p === 1) return a.sum(axes, keepdim);
    if (p === Infinity) return a.max(axes, keepdim);
    if (p === -Infinity) return a.min(axes, keepdim);
    if (p === 0) return a.ne(0).cast('f32').sum(axes, keepdim);
    return a.pow(p).sum(axes, keepdim).pow(1 / p);
  }
  /**
   * torch.logsumexp over `dim`: m + log Σ exp(x − m), m the max (taken as 0 where it is ±inf, as
   * PyTorch: all −inf gives −inf, a +inf gives +inf, a NaN NaN).
   */
  logsumexp(dim: number | number[], keepdim = false): Tensor {
    // (Anything truthy, 'false' or 1, kept the dims.)
    if (typeof keepdim !== 'boolean') throw new ModelDefinitionError(`logsumexp: keepdim must be true or false, got ${describeValue(keepdim)}${where()}`);
    const axes = dims(dim, this.rank), x = this.dtype === 'f32' ? this : this.cast('f32');
    const m = x.max(axes, true), m0 = record('where', [m.abs().eq(Infinity), scalarLike(0, m), m]);
    const r = x.sub(m0).exp().sum(axes, true).log().add(m0);
    return keepdim ? r : r.squeeze(axes);
  }
  /** torch.flip: the order of each of `dims` reversed (a constant gather). */
  flip(...given: number[] | [readonly number[]]): Tensor {
    // Each dim once, as torch (flipping a dim twice would silently be the identity).
    return distinctAxes(asDims(given), this.rank).reduce((y: Tensor, a) => {
      const d = this.dim(a);
      if (!isSymbolic(d)) return gatherAlong(y, a, Array.from({ length: d }, (_, i) => d - 1 - i));
      // A size chosen at run time: the indices n − 1 − i computed from it, i < n (of i < bound, sliced).
      const max = evalDim(d, { ...traceBounds(), ...this.bounds });
      const idx = sizeTensor(d, this.bounds).sub(constant(Int32Array.from({ length: max }, (_, i) => i + 1), [max], 'i32', 'flip')).slice(0, 0, d);
      const perm = [a, ...[...Array(this.rank).keys()].filter((k) => k !== a)];
      return record('gather', [y.permute(...perm), idx]).permute(...[...Array(this.rank).keys()].map((k) => (k < a ? k + 1 : k === a ? 0 : k)));
    }, this);
  }
  /** torch.rot90: k quarter turns from dims[0] towards dims[1]. */
  rot90(k = 1, dims: readonly number[] = [0, 1]): Tensor { return G.rot90(this, k, dims); }
  /** torch.roll: elements shifted along each dim (wrapping round); without dims over the flattened tensor. */
  roll(shifts: number | number[], dim?: number | number[]): Tensor {
    const sh = Array.isArray(shifts) ? shifts : [shifts];
    if (!sh.every((v) => Number.isInteger(v))) throw new ModelDefinitionError(`roll: shifts must be integers, got ${describeValue(shifts)}${where()}`);
    if (sh.length === 0) throw new ModelDefinitionError(`roll: shifts required (an integer or a list of them), got an empty list${where()}`);
    if (dim === undefined) {
      if (sh.length !== 1) throw new ModelDefinitionError(`roll: without dims, shifts must be one integer, got ${describeValue(shifts)}${where()}`);
      return this.reshape(-1).roll(sh[0]!, 0).reshape(...this.dims);
    }
    const ds = (Array.isArray(dim) ? dim : [dim]).map((a) => normAxis(a, this.rank));
    if (ds.length !== sh.length) throw new ModelDefinitionError(`roll: ${sh.length} shifts for ${ds.length} dims${where()}`);
    return ds.reduce((y: Tensor, a, i) => {
      // Along a size n chosen at run time: element j from (j − k) mod n, the index computed at run time.
      if (isSymbolic(this.dim(a))) return y.indexSelect(a, arange(this.size(a)).sub(sh[i]!).remainder(this.size(a)));
      const n = this.maxSize(a), k = ((sh[i]! % n) + n) % n;
      return gatherAlong(y, a, Array.from({ length: n }, (_, j) => (j - k + n) % n));
    }, this);
  }
  /** torch.tril: the elements on and below diagonal `diagonal` of the last two dims, zeros above. */
  tril(diagonal = 0): Tensor { return triangle('tril', this, diagonal, false); }
  /** torch.triu: the elements on and above diagonal `diagonal` of the last two dims, zeros below. */
  triu(diagonal = 0): Tensor { return triangle('triu', this, diagonal, true); }
  /** torch.masked_fill: `value` where `mask` (bool, broadcast) is true. */
  maskedFill(mask: Tensor, value: number | Tensor): Tensor {
    if (!(mask instanceof Tensor) || mask.dtype !== 'bool') throw new ModelDefinitionError(`masked_fill: mask must be a bool tensor, got ${mask instanceof Tensor ? mask.dtype : describeValue(mask)}${where()}`);
    return record('where', [mask, lift('masked_fill', value, this).cast(this.dtype), this]);
  }
  /** torch.sign: −1, 0 or 1 (0 at ±0 and at NaN, as PyTorch 1.13 gives); a bool tensor is its own sign. */
  sign(): Tensor { return this.dtype === 'bool' ? this : this.gt(0).cast(this.dtype).sub(this.lt(0).cast(this.dtype)); }
  /** torch.sgn: sign, for real tensors. */
  sgn(): Tensor { return this.sign(); }
  square(): Tensor { return this.mul(this); }
  isnan(): Tensor { return this.ne(this); }
  isinf(): Tensor { return this.abs().eq(Infinity); }
  isfinite(): Tensor { return this.sub(this).eq(0); }
  /** torch.narrow: `length` elements of `dim` from `start`. */
  narrow(dim: number, start: number, length: number): Tensor {
    if ((length as unknown) instanceof SymSize) return this.narrowRunTime(dim, start, length as unknown as SymSize);
    if (!Number.isInteger(length) || length < 1) throw new ModelDefinitionError(`narrow: length must be a positive integer, got ${describeValue(length)}${where()}`);
    if (!Number.isInteger(start)) throw new ModelDefinitionError(`narrow: start must be an integer, got ${describeValue(start)}${where()}`);
    const ax = normAxis(dim, this.rank), n = this.dim(ax);
    // torch raises where the window leaves the dim; slice would clamp it to fewer rows. A negative
    // start counts from the end, so its window ends at the end (start + length = 0) or before.
    const fits = typeof n === 'number' ? start >= -n && (start < 0 ? start + n : start) + length <= n : start >= 0 || start + length <= 0;
    if (!fits) throw new ModelDefinitionError(`narrow: start ${start} + length ${length} is outside dim ${dim} of ${fmtShape(this.dims)}${where()}`);
    if (typeof n === 'number' && start < 0) start += n;
    return this.slice(ax, start, start < 0 && start + length === 0 ? undefined : start + length);
  }
  /**
   * narrow by a length chosen at run time (a positional table cut to the input's length,
   * pe.narrow(1, 0, x.size(1))): where the window fits at every size the length may take, as
   * torch would find at run time; a window that may leave the dim is refused (torch raises there).
   */
  private narrowRunTime(dim: number, start: number, length: SymSize): Tensor {
    if (!Number.isInteger(start) || start < 0) throw new ModelDefinitionError(`narrow: start must be a non-negative integer with a length chosen at run time ('${length.dim}'), got ${describeValue(start)}${where()}`);
    const ax = normAxis(dim, this.rank), n = this.dim(ax), end = addDims(start, length.dim);
    const fits = typeof n === 'number' ? start + length.bound <= n : canonDim(end) === canonDim(n);
    if (!fits) throw new ModelDefinitionError(`narrow: start ${start} + length '${length.dim}' (at most ${length.bound}) may leave dim ${dim} of ${fmtShape(this.dims)}, where torch raises; the window must fit at every size the length may take${where()}`);
    return this.slice(ax, start, end);
  }
  /**
   * torch.Tensor.unfold(dimension, size, step): the windows of `size` along `dimension`, `step`
   * apart, as a new last dim; `dimension` becomes the ⌊(n − size)/step⌋ + 1 windows (PatchTST's
   * patching of a series), over a run-time length too. Not F.unfold, which takes an image's
   * blocks as columns.
   */
  unfold(dimension: number, size: number, step: number): Tensor {
    const ax = normAxis(dimension, this.rank), n = this.dim(ax);
    if (!Number.isInteger(size) || size < 1) throw new ModelDefinitionError(`unfold: size must be a positive integer, got ${describeValue(size)}${where()}`);
    if (!Number.isInteger(step) || step < 1) throw new ModelDefinitionError(`unfold: step must be a positive integer, got ${describeValue(step)}${where()}`);
    if (isSymbolic(n)) {
      // Over a run-time length: window j's k-th element is j·step + k, counted at run time, one gather per k.
      if (leastSize(n) < size) throw new ModelDefinitionError(`unfold: size ${size} is larger than dim ${ax} of ${fmtShape(this.dims)} at its least size ${leastSize(n)} (${leastWhy(n)}); declare min: { ${sizeNames(n).map((k) => `${k}: ${size}`).join(', ')} } or more${where()}`);
      const w = windowsOf(n, 0, 0, size, step), j = ones([w], this.bounds).cumsum(0).cast('i32').sub(1).mul(step);
      return stack(Array.from({ length: size }, (_, k) => this.indexSelect(ax, k ? j.add(k) : j)), -1);
    }
    if (size > (n as number)) throw new ModelDefinitionError(`unfold: size ${size} is larger than dim ${ax} of ${fmtShape(this.dims)}${where()}`);
    const windows = Math.floor(((n as number) - size) / step) + 1;
    const idx = Array.from({ length: windows * size }, (_, k) => Math.floor(k / size) * step + (k % size));
    const d = this.dims, g = gatherAlong(this, ax, idx).reshape(...d.slice(0, ax), windows, size, ...d.slice(ax + 1));
    return g.permute(...[...Array(this.rank + 1).keys()].filter((a) => a !== ax + 1), ax + 1);
  }
  /** torch.unbind: the slices along `dim`, that dim removed. */
  unbind(dim = 0): Tensor[] {
    const a = normAxis(dim, this.rank);
    if (isSymbolic(this.dim(a))) throw new ModelDefinitionError(`unbind: dim ${a} of ${fmtShape(this.dims)} is a size chosen at run time${where()}`);
    return Array.from({ length: this.maxSize(a) }, (_, i) => this.select(a, i));
  }
}

/** The tensor type names torch's x.type() gives, by dtype. */
const TENSOR_TYPES: Readonly<Record<DType, string>> = { f32: 'Float', i32: 'Long', bool: 'Bool' };
/** x.to(dtype)'s names: torch's (without 'torch.'; its 64-bit integers held as i32, as long() does) and ours. */
const TO_DTYPES: Readonly<Record<string, DType>> = {
  f32: 'f32', float32: 'f32', float: 'f32', i32: 'i32', int32: 'i32', int: 'i32', int64: 'i32', long: 'i32', bool: 'bool',
};

// A port's snake_case name (x.masked_fill) or in-place op (x.add_(1), x.masked_fill_(m, 0)) was a
// raw "x.masked_fill is not a function". Each now names the DSL's spelling.
{
  const proto = Tensor.prototype as unknown as Record<string, unknown>;
  const refuse = (name: string, why: string) => {
    if (!(name in proto)) Object.defineProperty(proto, name, { get(): never { throw new ModelDefinitionError(`x.${name}: ${why}${where()}`); } });
  };
  const methods = Object.getOwnPropertyNames(proto).filter((k) => k !== 'constructor' && typeof Object.getOwnPropertyDescriptor(proto, k)!.value === 'function');
  for (const m of methods) {
    const snake = m.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
    if (snake !== m) refuse(snake, `the DSL spells PyTorch's names in camelCase: x.${m}`);
    for (const n of new Set([m, snake])) refuse(`${n}_`, `in-place ops do not exist in a traced model (every op makes a new tensor): write x = x.${m}(…)`);
  }
  for (const n of ['fill_', 'zero_', 'copy_', 'normal_', 'uniform_']) refuse(n, 'in-place ops do not exist in a traced model (every op makes a new tensor): make the tensor you need (fullLike(x, v), zerosLike(x), …)');
}

// torch's x[0] (a row) and torch.max(x, 1)[0] (the values of a (values, indices) pair) read a
// property here, undefined, so a port failed later and far away ("forward() returned undefined")
// or, worse, passed undefined on as "no tensor". Every integer index says so instead: a lookup that
// misses a tensor and Tensor.prototype reaches this proxy, the prototype's prototype (a tensor's own
// fields and methods are found before it, so they never pay for it). Indices −8 to 63 were getters
// of their own, and x[64] of a batch loop read undefined.
Object.setPrototypeOf(Tensor.prototype, new Proxy(Object.prototype, {
  get(target, k, receiver): unknown {
    if (typeof k === 'string' && /^-?\d+$/.test(k)) {
      throw new ModelDefinitionError(`a tensor cannot be indexed with [${k}]: torch's x[${k}] is x.select(0, ${k}) (x.slice(0, a, b) for x[a:b]), and torch's x.max(dim)[0] / [1] (or min) is x.max(dim) / x.argmax(dim): max and min give the values alone${where()}`);
    }
    return Reflect.get(target, k, receiver);
  },
}));

/**
 * An exact reduction of i32 `x` over `axes` by halving: the first half of an axis combined with the
 * second (an odd element carried over) until one entry is left. `combine` must be associative and
 * commutative on i32 (maximum; mul and add, which wrap modulo 2^32).
 */
export function halvingReduce(op: string, x: Tensor, axes: number[], keepdim: boolean, combine: (a: Tensor, b: Tensor) => Tensor): Tensor {
  let y = x;
  for (const a of new Set(axes)) {
    if (isSymbolic(y.dim(a))) throw new ModelDefinitionError(`${op}: an integer reduction along dim ${a} of ${fmtShape(x.dims)}, a size chosen at run time, is not supported${where()}`);
    for (let n = y.maxShape[a]!; n > 1; n = Math.ceil(n / 2)) {
      const h = Math.floor(n / 2), pairs = combine(y.slice(a, 0, h), y.slice(a, h, 2 * h));
      y = n % 2 ? cat([pairs, y.slice(a, 2 * h, n)], a) : pairs;
    }
  }
  return keepdim ? y : y.squeeze([...new Set(axes)]);
}

/** −x for f32, −1 − x for i32 (an exact reversal of the order: no overflow at the minimum). */
function reversedOrder(op: string, x: Tensor): Tensor {
  if (x.dtype === 'bool') throw new ModelDefinitionError(`${op}: bool input (cast it to int or float first)${where()}`);
  return x.dtype === 'i32' ? scalarLike(-1, x).sub(x) : x.neg();
}

/**
 * A size as an i32 tensor [1] computed at run time (for index arithmetic with sizes chosen at run
 * time, and counts such as a mean's divisor): a named size (or a product of sizes, 'H*W') counts
 * the ones of a single i32 one broadcast to it, by the exact integer sum.
 */
/** A run-time size as an i32 scalar, as torch computes with a SymInt. */
export const sizeScalar = (n: SymSize): Tensor => sizeTensor(n.dim).reshape();
export function sizeTensor(d: Dim, bounds: Sizes = {}): Tensor {
  if (!isSymbolic(d)) return constant(Int32Array.of(d), [1], 'i32', 'size');
  return constant(Int32Array.of(1), [1], 'i32', 'one').expand(d, { ...traceBounds(), ...bounds }).sum(0, true);
}

/** x[idx] along `axis` for constant indices (gather reads rows of its first axis: move the axis first). */
export function gatherAlong(x: Tensor, axis: number, idx: number[]): Tensor {
  if (idx.length === x.maxSize(axis) && idx.every((v, i) => v === i)) return x;
  const perm = [axis, ...[...Array(x.rank).keys()].filter((a) => a !== axis)];
  const g = record('gather', [x.permute(...perm), ints(idx)]);
  return g.permute(...[...Array(x.rank).keys()].map((a) => (a < axis ? a + 1 : a === axis ? 0 : a)));
}

/**
 * Running sums along `axis` (exclusive: each without its own element; reverse: from the end), by
 * Hillis–Steele doubling: y += y shifted by k (zeros shifted in) for k = 1, 2, 4, … below the axis's
 * bound. Steps with k at or past a smaller run-time size shift in only zeros, so the same steps serve
 * every size. A sum of a run holding +inf and −inf (or a NaN) is NaN in any order, so the non-finite
 * values come out as in PyTorch's sequential scan (a triangle matmul, the first version for f32, made
 * 0·inf = NaN from the elements after). Integers wrap modulo 2^32 as every i32 add.
 */
export function scan(x: Tensor, axis: number, exclusive: boolean, reverse: boolean): Tensor {
  const n = x.maxShape[axis]!, d = x.dim(axis);
  // y moved k along the axis (towards the end, or towards the start when reversed), zeros shifted in.
  const shift = (y: Tensor, k: number): Tensor => {
    // One zero broadcast (a block of zeros per step would be stored in the artifact at fixed sizes).
    const z = scalarLike(0, y).reshape(...y.dims.map(() => 1)).expand(...y.dims.map((e, i) => (i === axis ? k : e)), y.bounds);
    return reverse ? cat([y, z], axis).slice(axis, k, addDims(d, k)) : cat([z, y], axis).slice(axis, 0, d);
  };
  let y = exclusive ? shift(x, 1) : x;
  if (y.dtype !== 'f32') {
    for (let k = 1; k < n; k *= 2) y = y.add(shift(y, k));
    return y;
  }
  // f32: each running sum also carries the rounding errors of its adds (TwoSum), so the result is
  // the exact sum rounded about once, as PyTorch's CPU cumsum (it accumulates in double); the plain
  // f32 doubling scan was 1.3e-5 off over 4,000 randn values. Where the plain sum is not finite (an
  // inf or NaN in the run) the error terms are NaN: there the plain sum is the answer.
  const sums = (v: Tensor): Tensor => {
    let c: Tensor | undefined;
    for (let k = 1; k < n; k *= 2) {
      const a = v, b = shift(v, k), t = a.add(b), bp = t.sub(a), e = a.sub(t.sub(bp)).add(b.sub(bp)); // t + e = a + b exactly
      c = c ? c.add(shift(c, k)).add(e) : e;
      v = t;
    }
    return c ? record('where', [v.isfinite(), v.add(c), v]) : v;
  };
  if (n <= 2) return sums(y); // one add a value: the same adds as the sequential scan
  // A doubling scan also adds runs that are no prefix, and those can overflow where no prefix does
  // ([3e38, 3e38, −3e38, −3e38]: 3e38 + 3e38 = inf, and the last sum inf − inf = NaN where PyTorch's
  // double sum gives 0). Where the sum is not finite it is taken again over x·2^−m, 2^m ≥ n: no run
  // of finite values can overflow then, and powers of two scale exactly (but for values so small
  // that the scaling takes their last bits: below 2^(m−149), and only where the first sum failed).
  const m = Math.ceil(Math.log2(n)), plain = sums(y);
  return record('where', [plain.isfinite(), plain, sums(y.mul(2 ** -m)).mul(2 ** m)]);
}

/** tril / triu: x where the constant mask of the last two dims holds, else 0 (for sizes chosen at run time, the mask at the bounds sliced to them). */
function triangle(op: string, x: Tensor, k: number, upper: boolean): Tensor {
  if (!Number.isInteger(k)) throw new ModelDefinitionError(`${op}: diagonal must be an integer, got ${describeValue(k)}${where()}`);
  if (x.rank < 2) throw new ModelDefinitionError(`${op}: input must have at least 2 dims, got ${fmtShape(x.dims)}${where()}`);
  const [N, M] = x.maxShape.slice(-2) as [number, number];
  const m = new Uint8Array(N * M);
  for (let i = 0; i < N; i++) for (let j = 0; j < M; j++) m[i * M + j] = (upper ? j - i >= k : j - i <= k) ? 1 : 0;
  let mask = constant(m, [N, M], 'bool', op);
  const [dn, dm] = x.dims.slice(-2) as [Dim, Dim];
  if (isSymbolic(dn)) mask = mask.slice(0, 0, dn);
  if (isSymbolic(dm)) mask = mask.slice(1, 0, dm);
  return record('where', [mask, x, scalarLike(0, x).cast(x.dtype)]); // 0 of x's dtype (false for bool)
}

/**
 * torch.gather, or with `wrap` ONNX's GatherElements of run-time indices: a negative index then
 * counts from the end of the dim (torch raises on it).
 */
export function gatherElements(x: Tensor, dim: number, index: Tensor, wrap: boolean): Tensor {
  const ax = normAxis(dim, x.rank);
  if (!(index instanceof Tensor)) throw new ModelDefinitionError(`gather: index must be a tensor, got ${describeValue(index)}${where()}`);
  if (index.dtype !== 'i32') throw new ModelDefinitionError(`gather: index must be i32 (the DSL's integer dtype), got ${index.dtype}${fmtShape(index.dims)}${where()}`);
  const bad = index.rank !== x.rank || index.dims.some((d, i) => i !== ax && typeof d === 'number' && typeof x.dims[i] === 'number' && d > (x.dims[i] as number));
  if (bad) throw new ModelDefinitionError(`gather: index ${fmtShape(index.dims)} must have the rank of the input ${fmtShape(x.dims)} and no larger size on any dim but ${dim}${where()}`);
  const n = x.dims[ax]!;
  if (index.node.op === 'const') {
    const vals = index.node.attrs.data as Int32Array, lo = wrap && typeof n === 'number' ? -n : 0;
    const at = vals.findIndex((k) => k < lo || (typeof n === 'number' && k >= n));
    if (at >= 0) throw new ModelDefinitionError(`gather: index ${vals[at]} (element ${at} of the constant index) is outside [${lo}, ${n}) along dim ${dim} of ${fmtShape(x.dims)}${where()}`);
  }
  return record('gather_elements', [x, index], wrap ? { axis: ax, wrap } : { axis: ax });
}

/** Reduces over `axes`; non-adjacent axes are first permuted to the end (kernels reduce one block). */
function reduce(op: 'sum' | 'mean' | 'max' | 'prod' | 'argmax', x: Tensor, axes: number[], keepdim: boolean): Tensor {
  if (typeof keepdim !== 'boolean') throw new ModelDefinitionError(`${op}: keepdim must be true or false, got ${describeValue(keepdim)}${where()}`);
  const sorted = [...new Set(axes)].sort((a, b) => a - b);
  if (sorted.every((a, i) => i === 0 || a === sorted[i - 1]! + 1)) return record(op, [x], { axes: sorted, keepdim });
  const keep = [...Array(x.rank).keys()].filter((a) => !sorted.includes(a));
  const moved = x.permute(...keep, ...sorted);
  const r = record(op, [moved], { axes: sorted.map((_, i) => keep.length + i), keepdim: false });
  return keepdim ? r.reshape(...x.dims.map((d, i) => (sorted.includes(i) ? 1 : d))) : r;
}

/** The tensors of cat/stack: an array of tensors, at least one. */
function tensorList(op: string, ts: unknown): Tensor[] {
  if (!Array.isArray(ts)) throw new ModelDefinitionError(`${op}: expected an array of tensors, got ${describeValue(ts)}${where()}`);
  if (ts.length === 0) throw new ModelDefinitionError(`${op}: no tensors${where()}`);
  const bad = ts.findIndex((t) => !(t instanceof Tensor));
  if (bad >= 0) throw new ModelDefinitionError(`${op}: element ${bad} is not a tensor, got ${describeValue(ts[bad])}${where()}`);
  return ts;
}

export function cat(ts: Tensor[], dim = 0): Tensor {
  tensorList('cat', ts);
  if (ts.length === 1) return ts[0]!;
  // torch.cat promotes: any f32 makes the result f32, else any i32 makes it i32 (bools become 0/1).
  const dtype = ts.some((t) => t.dtype === 'f32') ? 'f32' : ts.some((t) => t.dtype === 'i32') ? 'i32' : ts[0]!.dtype;
  return record('concat', ts.map((t) => (t.dtype === dtype ? t : t.cast(dtype))), { axis: normAxis(dim, ts[0]!.rank) });
}

export function stack(ts: Tensor[], dim = 0): Tensor {
  tensorList('stack', ts);
  // The new dim's range is rank + 1 (an error named unsqueeze, the op stack is made of).
  const r = ts[0]!.rank + 1;
  if (Number.isInteger(dim) && (dim < -r || dim >= r)) throw new ModelDefinitionError(`stack: dim ${dim} is out of range for stacking tensors of rank ${r - 1} (expected a dim in [${-r}, ${r - 1}])${where()}`);
  return cat(ts.map((t) => t.unsqueeze(dim)), dim);
}
