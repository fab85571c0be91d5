// ONNX elementwise operators, comparisons, rounding and logic, and casts.

import { COMPARE, REMAINDER, UNARY } from '../../ir/elementwise.ts';
import type { CompareName } from '../../ir/ops/elementwise.ts';
import { numel } from '../../ir/types.ts';
import { record, Tensor } from '../../dsl/tensor.ts';
import { DT, dtypeName } from '../proto.ts';
import { Ctx, host, irDtype, isHost, symbolicSizeOf, UnsupportedError, type Val } from '../ctx.ts';
import { f32Input, full, normAxis, same, type Translate } from './common.ts';

export const binary = (op: 'add' | 'sub' | 'mul' | 'div' | 'maximum' | 'minimum'): Translate => (c) => {
  const [a, b] = same(c, c.t(0), c.t(1));
  if (a.dtype === 'bool') c.unsupported('bool operands');
  // Integer Div truncates toward zero and traps on a zero divisor (ir/elementwise.ts INT_BINARY).
  return record(op, [a, b]);
};
export const unary = (f: (x: Tensor, c: Ctx) => Tensor): Translate => (c) => f(f32Input(c, 0, 'X'), c);
export const variadic = (op: 'add' | 'maximum' | 'minimum', mean = false): Translate => (c) => {
  let acc = c.t(0);
  for (let i = 1; i < c.count; i++) acc = record(op, same(c, acc, c.t(i)));
  return mean ? acc.div(c.count) : acc;
};
/**
 * PRelu: x for x > 0, a·x below, with ONNX's slope broadcasting (unidirectional, not torch's per
 * channel, hence not F.prelu); the formula of F.leakyRelu, which LeakyRelu uses.
 */
export const leaky = (x: Tensor, a: Tensor): Tensor => x.maximum(0).add(x.minimum(0).mul(a));
export const hardSigmoid = (x: Tensor, a: number, b: number): Tensor => x.mul(a).add(b).maximum(0).minimum(1);

export function clip(c: Ctx): Tensor {
  const x = c.t(0);
  let lo: Tensor | undefined, hi: Tensor | undefined;
  if (c.opset < 11) {
    c.only('min', 'max');
    if (c.attr('min')) lo = full(x.dtype, c.float('min', 0));
    if (c.attr('max')) hi = full(x.dtype, c.float('max', 0));
  } else {
    if (c.has(1)) lo = c.t(1, 'min');
    if (c.has(2)) hi = c.t(2, 'max');
  }
  if (x.dtype === 'bool') c.unsupported('bool input');
  let y = x;
  if (lo) y = record('maximum', same(c, y, lo.reshape()));
  if (hi) y = record('minimum', same(c, y, hi.reshape()));
  return y === x ? x : y;
}

/**
 * Pow: the result has the base's type. An f32 base takes the exponent as f32; an integer base the
 * IR's integer pow (ir/elementwise.ts INT_BINARY) of an integer or f32 exponent, which traps where
 * there is no i32 value (0 to a negative power, NaN, out of range).
 */
export function pow(c: Ctx): Tensor {
  const x = c.t(0, 'X'), e = c.t(1, 'Y');
  if (x.dtype === 'bool' || e.dtype === 'bool') c.unsupported('bool operands');
  return x.dtype === 'f32' ? x.pow(e.cast('f32')) : record('pow', [x, e]);
}

export function softmaxLike(log: boolean): Translate {
  return (c) => {
    c.only('axis');
    const x = f32Input(c, 0, 'input');
    const axis = normAxis(c, c.int('axis', c.opset < 13 ? 1 : -1), x.rank);
    if (c.opset >= 13 || axis === x.rank - 1) return log ? x.logSoftmax(axis) : x.softmax(axis);
    // Before opset 13 the input is coerced to 2-D [∏ dims < axis, ∏ dims ≥ axis].
    if (x.node.type.dims) c.unsupported(`axis ${axis} before opset 13 (a 2-D coercion) on a tensor of symbolic size`);
    const outer = numel(x.maxShape.slice(0, axis)), inner = numel(x.maxShape.slice(axis));
    const y = x.reshape(outer, inner);
    return (log ? y.logSoftmax(1) : y.softmax(1)).reshape(...x.maxShape);
  };
}

// ---- comparisons and rounding: computed by the host on compile-time values (shape arithmetic
// in int64, exactly), by the IR's ops on run-time tensors -------------------------------------

/** Less, Greater, LessOrEqual, GreaterOrEqual, Equal: f32 or integer operands; Equal of bools by `onBools`. */
export function compare(name: string, op: CompareName, onBools?: (a: Tensor, b: Tensor) => Tensor): Translate {
  const f = COMPARE[op]!, onHost = hostBinary(name, (a, b) => (f(a, b) ? 1 : 0), DT.BOOL);
  return (c) => {
    if (c.allConst()) return onHost(c);
    const [a, b] = same(c, c.t(0, 'A'), c.t(1, 'B'));
    if (a.dtype === 'bool') return onBools ? onBools(a, b) : c.unsupported('bool operands');
    return record(op, [a, b]);
  };
}
/**
 * Mod: fmod = 1 is C's fmod (the dividend's sign; floats and integers), fmod = 0 the floor remainder
 * (the divisor's sign; integers only, ONNX leaves it undefined on floats). Run-time integers
 * trap on a zero divisor, naming the node; compile-time ones are refused.
 */
export const mod: Translate = (c) => {
  c.only('fmod');
  const op = c.int('fmod', 0) ? 'fmod' : 'remainder', v = c.val(0);
  const float = isHost(v) ? v.dtype === DT.FLOAT || v.dtype === DT.DOUBLE : v.dtype === 'f32';
  if (float && op === 'remainder') c.unsupported('fmod = 0 on floats (ONNX requires fmod = 1 for floating-point operands)');
  if (c.allConst()) {
    const f = REMAINDER[op];
    return hostBinary('Mod', (a, b) => (float || b !== 0 ? f(a, b) : c.unsupported(`integer Mod of ${a} by zero`)))(c);
  }
  const [a, b] = same(c, c.t(0, 'A'), c.t(1, 'B'));
  if (a.dtype === 'bool') c.unsupported('bool operands');
  return record(op, [a, b]);
};

/** Floor, Ceil, Round (half to even): f32 (ONNX allows only floats). */
export function rounding(name: string, op: 'floor' | 'ceil' | 'round'): Translate {
  const onHost = hostUnary(name, UNARY[op]!);
  return (c) => (c.isConst(0) ? onHost(c) : record(op, [f32Input(c, 0, 'X')]));
}
/** Sign: ±1, and x − x elsewhere: +0 for ±0 (numpy's sign, which ONNX follows), NaN for NaN. */
export const sign: Translate = (c) => {
  const x = c.t(0, 'input');
  if (x.dtype === 'bool') c.unsupported('a bool input');
  const one = full(x.dtype, 1), minusOne = full(x.dtype, -1);
  return record('where', [x.gt(0), one, record('where', [x.lt(0), minusOne, x.sub(x)])]);
};

// ---- host-only logic ------------------------------------------------------------------------

export function hostBinary(name: string, f: (a: number, b: number) => number, out?: number): Translate {
  return (c) => {
    const a = c.compileTime(0, `${name}'s first operand (computed only at compile time)`), b = c.compileTime(1, `${name}'s second operand (computed only at compile time)`);
    const rank = Math.max(a.dims.length, b.dims.length);
    const pa = [...Array(rank - a.dims.length).fill(1), ...a.dims], pb = [...Array(rank - b.dims.length).fill(1), ...b.dims];
    const dims = pa.map((d, i) => {
      if (d !== pb[i] && d !== 1 && pb[i] !== 1) throw new UnsupportedError(`${c.where}: shapes [${a.dims}] and [${b.dims}] do not broadcast`);
      return d === 1 ? pb[i]! : d;
    });
    const size = numel(dims), data: number[] = new Array<number>(size);
    const idx = (p: number[], o: number) => { let off = 0, rem = o, stride = 1; const s: number[] = []; for (let i = rank - 1; i >= 0; i--) { s[i] = stride; stride *= p[i]!; } for (let i = 0; i < rank; i++) { const q = Math.floor(rem / numel(dims.slice(i + 1))); rem -= q * numel(dims.slice(i + 1)); if (p[i] !== 1) off += q * s[i]!; } return off; };
    for (let o = 0; o < size; o++) data[o] = f(Number(a.data[idx(pa, o)]), Number(b.data[idx(pb, o)]));
    const dtype = out ?? a.dtype;
    return host(dtype, dims, dtype === DT.BOOL ? Uint8Array.from(data) : dtype === DT.FLOAT ? Float32Array.from(data) : data);
  };
}
/**
 * Logic on run-time bools as `where` over bool constants (not m = where(m, F, T), a and b =
 * where(a, b, F), …); on compile-time values, the host computes it.
 */
export function boolLogic(name: string, host: Translate, f: (a: Tensor, b: Tensor | undefined) => Tensor): Translate {
  return (c) => {
    if (c.allConst()) return host(c);
    const a = c.t(0), b = c.count > 1 ? c.t(1) : undefined;
    if (a.dtype !== 'bool' || (b && b.dtype !== 'bool')) {
      // Of a symbolic size, even a value computed from constants runs (it would fold at the bounds).
      const size = [a, b].map((t) => t && symbolicSizeOf(t)).find((s) => s !== undefined);
      const what = `${name} of run-time ${a.dtype}${b ? `, ${b.dtype}` : ''} values (only bools, or compile-time values)`;
      if (size === undefined) c.unsupported(what);
      throw new UnsupportedError(`${c.where}: ${what} is not supported; these have the symbolic size '${size}', so they are computed at run time even when computed from constants; give it a fixed size with { dims: { ${JSON.stringify(size)}: N } }`);
    }
    return f(a, b);
  };
}
export const T = () => full('bool', 1), F = () => full('bool', 0);
export const not = (a: Tensor) => record('where', [a, F(), T()]);

/** A unary op on a compile-time value, by the host (Floor/Ceil/Round in shape arithmetic). */
export function hostUnary(name: string, f: (x: number) => number): Translate {
  return (c) => {
    const a = c.compileTime(0, `the operand of ${name} (computed only at compile time)`);
    const vals = Array.from(a.data as ArrayLike<number>, f);
    return host(a.dtype, a.dims, a.dtype === DT.FLOAT ? Float32Array.from(vals) : vals);
  };
}
export const hostNot: Translate = (c) => {
  const a = c.compileTime(0, 'the operand of Not');
  return host(DT.BOOL, a.dims, Uint8Array.from(a.data as ArrayLike<number>, (v) => (v ? 0 : 1)));
};

// ---- casts ---------------------------------------------------------------------------------

export function castTo(c: Ctx, v: Val, to: number): Val {
  if (isHost(v)) {
    if (to === v.dtype) return v;
    const conv = (x: number): number => to === DT.BOOL ? (x !== 0 ? 1 : 0) : to === DT.FLOAT ? x : Math.trunc(x); // NaN is true
    const vals = Array.from(v.data as ArrayLike<number>, conv);
    if (to === DT.FLOAT) return host(to, v.dims, Float32Array.from(vals));
    if (to === DT.BOOL) return host(to, v.dims, Uint8Array.from(vals));
    if (to === DT.INT64 || to === DT.INT32) return host(to, v.dims, vals);
    c.unsupported(`Cast to ${dtypeName(to)}`);
  }
  const t = v, target = irDtype(to, `${c.where} attribute 'to'`);
  if (t.dtype === target) return t;
  // Nonzero is true, NaN included (x ≠ 0 holds for NaN), as the host's cast above.
  if (target === 'bool') return t.ne(full(t.dtype, 0));
  return t.cast(target);
}
