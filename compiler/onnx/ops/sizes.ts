// ONNX integer ops on size values (ctx.ts): the shape arithmetic of an export whose sizes stay
// symbolic (Shape → Gather → Unsqueeze → Concat, the head count multiplied in and divided out),
// done on dims at compile time. A size value is an int64 scalar or vector, so only the ops that
// move its entries (Gather, Slice, Concat, Unsqueeze, Squeeze, Reshape, Identity, Cast to an
// integer) and Add/Sub/Mul/Div with exact results are here, with Equal and Where where they hold
// for every size; anything else (a division that is not exact, a size as a float, a comparison
// that depends on the size) is refused, naming the op and the values.

import { addDims, canonDim, divDims, evalDim, growsWithSizes, isSymbolic, mulDims, sizeNames, subDims, type Dim } from '../../ir/dims.ts';
import { REMAINDER } from '../../ir/elementwise.ts';
import { DT, dtypeName } from '../proto.ts';
import { cat, sizeTensor, Tensor } from '../../dsl/tensor.ts';
import { Ctx, fmtSizes, foldTensor, host, isHost, isSizeVal, sizeValue, type AnyVal, type SizeVal } from '../ctx.ts';
import { normAxis, type Translate } from './common.ts';
import { leastSize } from '../../dsl/tensor.ts';

/**
 * `onSizes` when input 0 (or, with `any`, any input) is a size value, else the op's own translation.
 * With `any`, a size value beside a tensor computed at run time becomes a run-time tensor too
 * (dsl/tensor.ts sizeTensor), and the op's own translation runs: PyTorch's advanced indexing `out[arange(batch), i]`
 * exports the flat index arange(batch) · seq + i.
 */
export const orSizes = (onSizes: Translate, plain: Translate, any = false): Translate => (c) => {
  const sizes = Array.from({ length: c.count }, (_, i) => c.isSizes(i));
  if (!(any ? sizes.some(Boolean) : sizes[0])) return plain(c);
  const runTime = c.inputs.some((v) => v instanceof Tensor && !foldTensor(v));
  return any && runTime ? plain(c.withInputs(c.inputs.map((v) => (isSizeVal(v) ? sizeValueTensor(v) : v)))) : onSizes(c);
};

/** A size value as an i32 tensor computed at run time (the DSL's sizeTensor of each entry). */
function sizeValueTensor(v: SizeVal): Tensor {
  const parts = v.values.map((d) => sizeTensor(d));
  const t = parts.length === 1 ? parts[0]! : cat(parts, 0);
  return v.dims.length === 0 ? t.squeeze(0) : t;
}

const data = (c: Ctx): SizeVal => c.any(0, 'data') as SizeVal;
const entries = (v: SizeVal): string => fmtSizes(v);

/** Gather on a size value: entries picked by constant indices (a scalar index gives a scalar). */
export const sizeGather: Translate = (c) => {
  c.only('axis');
  const v = data(c), n = v.values.length;
  if (v.dims.length === 0) c.unsupported(`Gather on the scalar ${entries(v)}`);
  normAxis(c, c.int('axis', 0), 1);
  const idx = c.host(1, 'indices');
  if (idx.dims.length > 1) c.unsupported(`indices of rank ${idx.dims.length} into the shape value ${entries(v)}`);
  const picked = Array.from(idx.data as ArrayLike<number>, (i0) => {
    const i = Number(i0) < 0 ? Number(i0) + n : Number(i0);
    if (!(i >= 0 && i < n)) c.unsupported(`index ${Number(i0)} into the shape value ${entries(v)}`);
    return v.values[i]!;
  });
  return sizeValue(picked, idx.dims.length === 0);
};

/** Slice on a size value, with ONNX's clamping (its length is static). */
export const sizeSlice: Translate = (c) => {
  const v = data(c), n = v.values.length;
  if (v.dims.length === 0) c.unsupported(`Slice of the scalar ${entries(v)}`);
  const [s, e] = c.opset < 10 ? [c.intList('starts') ?? [], c.intList('ends') ?? []] : [c.ints(1, 'starts'), c.ints(2, 'ends')];
  const axes = c.opset < 10 ? c.intList('axes') : c.has(3) ? c.ints(3, 'axes') : undefined;
  const steps = c.opset >= 10 && c.has(4) ? c.ints(4, 'steps') : undefined;
  if (s.length !== 1 || e.length !== 1 || (axes && normAxis(c, axes[0]!, 1) !== 0)) c.unsupported(`starts [${s}], ends [${e}] for the shape value ${entries(v)}`);
  const step = steps?.[0] ?? 1;
  if (step === 0) c.unsupported('step 0');
  const clamp = (x: number, lo: number, hi: number) => Math.min(Math.max(x < 0 ? x + n : x, lo), hi);
  const out: Dim[] = [];
  if (step > 0) for (let i = clamp(s[0]!, 0, n); i < clamp(e[0]!, 0, n); i += step) out.push(v.values[i]!);
  else for (let i = clamp(s[0]!, 0, n - 1); i > clamp(e[0]!, -1, n - 1); i += step) out.push(v.values[i]!);
  return sizeValue(out);
};

/** Concat of size values and int64 vectors known at compile time. */
export const sizeConcat: Translate = (c) => {
  c.only('axis');
  const parts = Array.from({ length: c.count }, (_, i) => {
    const p = c.any(i);
    if (p.dims.length !== 1 || (isHost(p) && p.dtype !== DT.INT64 && p.dtype !== DT.INT32)) c.unsupported(`concatenating a shape value with input ${i} of shape [${p.dims.join(', ')}]${isHost(p) ? ` (${dtypeName(p.dtype)})` : ''}`);
    return c.dims(i);
  });
  normAxis(c, c.int('axis', 0), 1);
  return sizeValue(parts.flat());
};

/** Unsqueeze of a scalar to a vector of one, Squeeze back, Reshape between the two. */
export const sizeUnsqueeze: Translate = (c) => {
  const v = data(c), axes = c.opset < 13 ? c.intList('axes') : c.has(1) ? c.ints(1, 'axes') : undefined;
  if (v.dims.length !== 0 || !axes || axes.length !== 1 || normAxis(c, axes[0]!, 1) !== 0) c.unsupported(`Unsqueeze of the shape value ${entries(v)} with axes [${axes ?? ''}] (only a scalar to a vector)`);
  return sizeValue(v.values);
};
export const sizeSqueeze: Translate = (c) => {
  const v = data(c), axes = c.opset < 13 ? c.intList('axes') : c.has(1) ? c.ints(1, 'axes') : undefined;
  if (v.values.length !== 1 || v.dims.length !== 1 || (axes && (axes.length !== 1 || normAxis(c, axes[0]!, 1) !== 0))) c.unsupported(`Squeeze of the shape value ${entries(v)} (only a vector of one to a scalar)`);
  return sizeValue(v.values, true);
};
export const sizeReshape: Translate = (c) => {
  c.only('allowzero');
  const v = data(c), shape = c.ints(1, 'shape');
  if (shape.length === 0 && v.values.length === 1) return sizeValue(v.values, true);
  if (shape.length === 1 && (shape[0] === -1 || shape[0] === v.values.length)) return sizeValue(v.values);
  return c.unsupported(`reshaping the shape value ${entries(v)} to [${shape}]`);
};

export const sizeIdentity: Translate = (c) => c.any(0);

/**
 * A cast between integer types keeps a size value; to float it is a run-time f32 tensor (exact to
 * 2^24: torch.var's n / (n − 1) over a symbolic axis); to a bool it would need the size at compile time.
 */
export const sizeCast: Translate = (c) => {
  c.only('to', 'saturate', 'round_mode');
  const to = c.int('to', 0);
  if (to === DT.FLOAT) return sizeValueTensor(c.any(0) as SizeVal).cast('f32');
  if (to !== DT.INT64 && to !== DT.INT32) throw c.sizeRefusal(0, `Cast to ${dtypeName(to)} of input 0`);
  return c.any(0);
};

/** ReduceProd / ReduceSum of a size vector (the exporter's element count of some axes): their product or sum. */
export const sizeReduce = (op: 'mul' | 'add'): Translate => (c) => {
  c.only('axes', 'keepdims', 'noop_with_empty_axes');
  const v = data(c);
  const axes = c.opset < (op === 'add' ? 13 : 18) ? c.intList('axes') : c.has(1) ? c.ints(1, 'axes') : undefined;
  if (v.dims.length === 0 || (axes && axes.length > 0 && (axes.length > 1 || normAxis(c, axes[0]!, 1) !== 0))) c.unsupported(`${c.node.opType} of the shape value ${entries(v)} over axes [${axes ?? []}]`);
  if (axes?.length === 0 && c.int('noop_with_empty_axes', 0)) return v;
  const total = v.values.reduce((a: Dim, b) => (op === 'mul' ? mulDims(a, b) : addDims(a, b)), op === 'mul' ? 1 : 0);
  return sizeValue([total], c.int('keepdims', 1) !== 1);
};

type Arith = 'add' | 'sub' | 'mul' | 'div';
const ARITH: Record<Arith, (a: Dim, b: Dim) => Dim | undefined> = { add: addDims, sub: subDims, mul: mulDims, div: divDims };

/**
 * Add/Sub/Mul/Div where an operand is a size value; the other an int64 scalar or vector known at
 * compile time, or a size value. Broadcasting as ONNX's for rank ≤ 1. A division must be exact
 * for every size (batch*4 / 4 is batch; batch / 4 is refused: it would be floored at run time).
 */
export const sizeArith = (op: Arith): Translate => (c) => {
  const operand = (i: number): { v: AnyVal; values: Dim[] } => {
    const v = c.any(i);
    // A run-time tensor with a size value: the size would be needed as a tensor.
    if (!isHost(v) && !c.isSizes(i)) throw c.sizeRefusal(1 - i);
    if (isHost(v) && v.dtype !== DT.INT64 && v.dtype !== DT.INT32) c.unsupported(`${c.node.opType} of a shape value and ${dtypeName(v.dtype)} input ${i}`);
    if (v.dims.length > 1) c.unsupported(`${c.node.opType} of a shape value and input ${i} of rank ${v.dims.length}`);
    return { v, values: c.dims(i) };
  };
  const a = operand(0), b = operand(1);
  const na = a.values.length, nb = b.values.length, n = Math.max(na, nb);
  if (na !== nb && na !== 1 && nb !== 1) c.unsupported(`${c.node.opType} of [${a.values.join(', ')}] and [${b.values.join(', ')}] (lengths do not broadcast)`);
  const out = Array.from({ length: n }, (_, i) => {
    const x = a.values[na === 1 ? 0 : i]!, y = b.values[nb === 1 ? 0 : i]!;
    if (op === 'div' && y === 0) c.unsupported(`dividing ${x} by 0`);
    if (op === 'div' && !isSymbolic(x) && !isSymbolic(y)) return Math.trunc(x / y); // ONNX's integer Div truncates
    return ARITH[op](x, y) ?? c.unsupported(`dividing ${x} by ${y} (${x} is not a multiple of ${y} for every size; a size value is divided only exactly)`);
  });
  return sizeValue(out, a.v.dims.length === 0 && b.v.dims.length === 0);
};

/**
 * Mod where the dividend is a size value and the divisor an integer known at compile time. A dim
 * k·q + r (every coefficient of q's sizes a multiple of k) leaves r's remainder at every size:
 * exactly, for fmod = 0 (the floor remainder); for fmod = 1 (C's, the dividend's sign) only when
 * the dim is never negative. Anything else depends on the size and is refused.
 */
export const sizeMod: Translate = (c) => {
  c.only('fmod');
  const op = c.int('fmod', 0) ? 'fmod' : 'remainder';
  if (!c.isSizes(0)) throw c.sizeRefusal(1, 'the divisor');
  const b = c.any(1);
  if (!isHost(b) || (b.dtype !== DT.INT64 && b.dtype !== DT.INT32)) return c.unsupported('Mod of a shape value by a divisor that is not an integer known at compile time');
  const a = c.dims(0), k = c.dims(1) as number[];
  if (a.length !== k.length && a.length !== 1 && k.length !== 1) c.unsupported(`Mod of [${a.join(', ')}] and [${k.join(', ')}] (lengths do not broadcast)`);
  const out = Array.from({ length: Math.max(a.length, k.length) }, (_, i) => {
    const x = a[a.length === 1 ? 0 : i]!, y = k[k.length === 1 ? 0 : i]!;
    if (y === 0) return c.unsupported(`Mod of ${x} by 0`);
    if (!isSymbolic(x)) return REMAINDER[op](x, y);
    const r = evalDim(x, Object.fromEntries(sizeNames(x).map((n) => [n, 0])));
    const lo = least(x);
    if (divDims(subDims(x, r), y) === undefined || (op === 'fmod' && (lo === undefined || lo < 0))) {
      return c.unsupported(`Mod of ${x} by ${y}${op === 'fmod' ? ' with fmod = 1' : ''} (the remainder depends on the size)`);
    }
    // fmod of a dim that is never negative is the floor remainder by |k|.
    return op === 'fmod' ? REMAINDER.remainder(r, Math.abs(y)) : REMAINDER.remainder(r, y);
  });
  return sizeValue(out, a.length === 1 && c.any(0).dims.length === 0 && b.dims.length === 0);
};

/**
 * The least value of a dim over every size from its least (its declared min, else 1) up, when it
 * grows with each size (all its non-constant terms positive: the value at the least sizes); undefined otherwise.
 */
function least(d: Dim): number | undefined {
  if (!isSymbolic(d)) return d;
  return growsWithSizes(d) ? leastSize(d) : undefined;
}

/**
 * Equal where an operand is a size value: decided at compile time when it holds for every size —
 * the same dim, or a number below a dim's least value (PyTorch's expand(B, -1) exports
 * Where(Equal(shape, -1), 1, shape)); else refused.
 */
export const sizeEqual: Translate = (c) => {
  const a = c.dims(0), b = c.dims(1), n = Math.max(a.length, b.length);
  if (a.length !== b.length && a.length !== 1 && b.length !== 1) c.unsupported(`Equal of [${a.join(', ')}] and [${b.join(', ')}] (lengths do not broadcast)`);
  const out = Array.from({ length: n }, (_, i) => {
    const x = a[a.length === 1 ? 0 : i]!, y = b[b.length === 1 ? 0 : i]!;
    if (canonDim(x) === canonDim(y)) return 1;
    const [s, k] = isSymbolic(x) ? [x, y] : [y, x];
    const lo = least(s);
    if (!isSymbolic(k) && lo !== undefined && k < lo) return 0;
    return c.unsupported(`Equal of ${x} and ${y} (true at some sizes and false at others)`);
  });
  return host(DT.BOOL, c.any(0).dims.length === 0 && c.any(1).dims.length === 0 ? [] : [n], Uint8Array.from(out));
};

/** Where with a condition known at compile time over size values and int64 vectors: entries picked. */
export const sizeWhere: Translate = (c) => {
  const cond = c.host(0, 'condition');
  if (cond.dtype !== DT.BOOL || cond.dims.length > 1) c.unsupported(`Where of shape values with a condition of ${dtypeName(cond.dtype)}[${cond.dims.join(', ')}]`);
  const t = Array.from(cond.data as ArrayLike<number>, Boolean), x = c.dims(1), y = c.dims(2);
  const n = Math.max(t.length, x.length, y.length), at = <T,>(v: T[], i: number) => v[v.length === 1 ? 0 : i]!;
  if ([t, x, y].some((v) => v.length !== n && v.length !== 1)) c.unsupported(`Where of [${t.map(Number).join(', ')}], [${x.join(', ')}] and [${y.join(', ')}] (lengths do not broadcast)`);
  return sizeValue(Array.from({ length: n }, (_, i) => (at(t, i) ? at(x, i) : at(y, i))), [0, 1, 2].every((i) => c.any(i).dims.length === 0));
};
