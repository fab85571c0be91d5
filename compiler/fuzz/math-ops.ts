// The moves that draw the registry's newest ops (generate.ts draws them after the other moves,
// from a PRNG of its own): the unary math tan, asin, acos, atan, sinh, cosh, asinh, acosh and
// atanh, and the i32 div and pow (ONNX's integer Div and Pow: div truncates toward zero and
// wraps MIN_VALUE / −1; pow wraps modulo 2^32, 1/a^|b| truncated below 0, and takes an f32
// exponent too).
//
// The unary math has domain edges where the result jumps to NaN or ±Inf (asin/acos/atanh at ±1,
// acosh at 1, tan's poles, sinh/cosh's overflow past 89.4): both sides must agree on them
// exactly, so over its whole domain — the edges, NaN, ±Inf, ±0, scaled far out (tan past the
// 2^20 of its fast reduction, sinh/cosh past the overflow) — a function reads only exact values
// (Item.exact), which reach the kernel bit for bit; its result is within an ulp. A value that is
// not exact is first mapped inside the domain, away from the edges and from huge arguments (as
// generate.ts's exp reads tanh(x)·4): tan of x clamped to ±1.3, asin/acos/atanh of x clamped to
// ±0.9, acosh of |x| + 1.25, sinh/cosh of tanh(x)·4; atan and asinh of anything. There the
// slopes are at most 15 (tan at 1.3) and errors of 1e-7 stay far inside the tolerances, where widening the
// tolerance instead would blind the comparison to the very kernels it checks. Results that may
// be huge (tan, sinh, cosh of an exact argument) reach the pool as their asinh — sign and
// relative error kept, at most ±89.4, ±Inf and NaN as they are — so no huge value computed to
// within an ulp meets a softmax or a sine.
//
// The i32 div and pow trap where there is no i32 value: a zero divisor, 0 to a negative power, an
// f32 exponent giving NaN or beyond i32. Drawn divisors are never 0 and negative exponents have
// bases that are never 0, except in cases drawn for index fuzzing, where a divisor 2 − min(ids, 2)
// and an exponent 1 − ids under a base with 0 (the ids are 0 or 1 in an ordinary call) meet 0
// and negative exponents once wildIndices pushes the ids past their ranges: the reference then
// raises, and the compiled code must trap with its message.

import { whereOp } from '../dsl/functional.ts';
import { record } from '../dsl/tensor.ts';
import { broadcastable, type Builder, type Item, type Move } from './builder.ts';
import { fitsWith, i32Value, I32_EXTREMES } from './more-ops.ts';

export const MATH_OPS = ['tan', 'asin', 'acos', 'atan', 'sinh', 'cosh', 'asinh', 'acosh', 'atanh'] as const;
type MathOp = (typeof MATH_OPS)[number];

/** The domains' edges and special values: ±1 (a third of the picks) and their f32 neighbours, NaN, ±Inf, ±0, halves, 2. */
const EDGES = [1, -1, 1, -1, 1, -1, 0.99999994, -0.99999994, 1.0000001, -1.0000001, NaN, Infinity, -Infinity, 0, -0, 0.5, -0.5, 2];
/** Scales of an exact argument, per function: tan past 2^20, sinh/cosh past the overflow (89.4). */
const SCALES: Record<MathOp, number[]> = {
  tan: [10, 1e3, 1e5, 3e6, 1e9], sinh: [10, 30, 100, 150], cosh: [10, 30, 100, 150],
  asin: [0.5, 0.9, 10], acos: [0.5, 0.9, 10], atanh: [0.5, 0.9, 10], atan: [10, 1e4, 1e9, 1e30], asinh: [10, 1e4, 1e9, 1e30], acosh: [10, 1e4, 1e9, 1e30],
};
/** Whether the function's value may be huge (or ±Inf) for an exact argument: it reaches the pool as its asinh. */
const UNBOUNDED = new Set<MathOp>(['tan', 'sinh', 'cosh']);

/**
 * One of the nine functions of a value: of an exact one as it is, with domain edges put in
 * (where a bool constant says), clamped onto its edges (±1, acosh's 1), or scaled; of one that is not exact
 * (half the time; otherwise an exact value of the pool is taken instead), mapped inside the
 * domain first.
 */
function unaryMathMove(b: Builder, x: Item): void {
  const r = b.r, op = r.pick(MATH_OPS);
  const e = x.exact && x.t.dtype === 'f32' ? x : r.chance(0.5) ? b.pick((it) => it.t.dtype === 'f32' && it.exact) : undefined;
  if (!e) {
    const [arg, code] = op === 'tan' ? [x.t.clamp(-1.3, 1.3), `${x.name}.clamp(-1.3, 1.3)`]
      : op === 'asin' || op === 'acos' || op === 'atanh' ? [x.t.clamp(-0.9, 0.9), `${x.name}.clamp(-0.9, 0.9)`]
      : op === 'acosh' ? [x.t.abs().add(1.25), `${x.name}.abs().add(1.25)`]
      : op === 'sinh' || op === 'cosh' ? [x.t.tanh().mul(4), `${x.name}.tanh().mul(4)`]
      : [x.t, x.name];
    b.add(arg[op](), `${code}.${op}()`);
    b.features.add(op);
    return;
  }
  const how = r.weighted([[2, 'plain'], [2, 'edges'], [1, 'clamp'], [1.5, 'scaled']] as const);
  let arg = e;
  if (how === 'edges') {
    const shape = broadcastable(r, e.t.maxShape, e.t.dims), at = b.const(shape, 'bool', () => (r.chance(0.4) ? 1 : 0));
    const c = b.const(shape, 'f32', () => (r.chance(0.7) ? r.pick(EDGES) : r.normal()));
    arg = b.temp(whereOp(at.t, c.t, e.t), `where(${at.name}, ${c.name}, ${e.name})`, true);
  } else if (how === 'clamp') {
    // Onto the edges exactly: ±1, or acosh's 1 (from below).
    const k = r.pick([1, 3]), [lo, hi] = op === 'acosh' ? [1, 3] : [-1, 1];
    arg = b.temp(e.t.mul(k).clamp(lo, hi), `${e.name}.mul(${k}).clamp(${lo}, ${hi})`, true);
  } else if (how === 'scaled') {
    const k = r.pick(SCALES[op]);
    arg = b.temp(e.t.mul(k), `${e.name}.mul(${k})`, true);
  }
  if (UNBOUNDED.has(op)) {
    const y = b.temp(arg.t[op](), `${arg.name}.${op}()`);
    b.add(y.t.asinh(), `${y.name}.asinh()`);
  } else b.add(arg.t[op](), `${arg.name}.${op}()`);
  b.features.add(op);
}

/** An i32 value that is never 0: v.maximum(1) or v.minimum(−1) of an i32 value v. */
function nonzero(b: Builder): Item {
  const v = i32Value(b), pos = b.r.chance(0.5);
  return b.add(pos ? v.t.maximum(1) : v.t.minimum(-1), `${v.name}.${pos ? 'maximum(1)' : 'minimum(-1)'}`, true);
}
/** An i32 constant broadcasting with `like`, each element `draw()`. */
const i32Const = (b: Builder, like: Item, draw: () => number): Item => b.const(broadcastable(b.r, like.t.maxShape, like.t.dims), 'i32', draw);
/** The run-time ids (k of them) as a [k] value, and a dividend or base [m, 1] of `draw()` to go with it. */
function withIds(b: Builder, draw: () => number): { ids: Item; other: Item } {
  return { ids: b.add(b.ids!, 'ids', true), other: b.const([b.r.int(1, 3), 1], 'i32', draw) };
}

/**
 * Integer div (truncating; MIN_VALUE / −1 wraps) and pow (modulo 2^32; negative exponents; an f32
 * exponent) of i32 values: pool values, casts of exact f32 values (saturated at ±2^31), the ids
 * and constants with i32's extremes. In index fuzzing, half of them divide by 2 − min(ids, 2)
 * or raise to the power 1 − ids (under bases with 0), so that wild ids make them trap.
 */
function intArithmeticMove(b: Builder, x: Item): void {
  const r = b.r, op = r.pick(['div', 'div', 'pow', 'pow', 'pow-f32'] as const);
  const small = () => (r.chance(0.15) ? r.pick(I32_EXTREMES) : r.int(-9, 9));
  const wild = b.indexed && b.ids !== undefined && op !== 'pow-f32' && r.chance(0.5);
  let a: Item, d: Item;
  if (wild) {
    // In an ordinary call (ids 0 or 1) the divisor 2 − min(ids, 2) is 2 or 1 and the exponent
    // 1 − ids is 1 or 0; wild ids of 2 and more make them 0 and negative (MIN_VALUE's wraps).
    const { ids, other } = withIds(b, op === 'div' ? small : () => r.int(-3, 3));
    const k = b.const([], 'i32', () => (op === 'div' ? 2 : 1));
    a = other;
    d = op === 'div' ? b.add(k.t.sub(ids.t.minimum(2)), `${k.name}.sub(${ids.name}.minimum(2))`, true) : b.add(k.t.sub(ids.t), `${k.name}.sub(${ids.name})`, true);
  } else {
    a = r.chance(0.3) ? b.const([r.int(1, 5)], 'i32', small) : i32Value(b);
    if (op === 'div') {
      const v = r.chance(0.4) ? nonzero(b) : undefined;
      d = v && fitsWith(b, v, a) ? v : i32Const(b, a, () => (r.chance(0.1) ? r.pick([-2147483648, -1]) : r.pick([-7, -3, -2, -1, 1, 2, 3, 5])));
    } else if (op === 'pow') {
      // Negative exponents only under a base that is never 0.
      const neg = r.chance(0.25);
      if (neg) a = r.chance(0.5) ? nonzero(b) : b.const([r.int(1, 5)], 'i32', () => r.pick([1, -1, 2, -2, 3, 7]));
      d = i32Const(b, a, () => (neg ? r.pick([-1, -2, -3, -31]) : r.chance(0.15) ? r.pick([31, 32, 33, 2147483647]) : r.int(0, 21)));
    } else {
      // An f32 exponent: integers (ipow_i32's path) and halves (C's pow, truncated) under small
      // bases, the result within i32; never negative, as a base may be 0, nor a half under a
      // negative base (NaN: both trap).
      const halves = r.chance(0.6), lo = halves ? 0 : -9;
      a = b.add(a.t.maximum(lo).minimum(9), `${a.name}.maximum(${lo}).minimum(9)`, true);
      d = b.const(broadcastable(r, a.t.maxShape, a.t.dims), 'f32', () => r.pick(halves ? [0, 1, 2, 0.5, 1.5, 2.5, 3.5] : [0, 1, 2, 3, 5]));
    }
  }
  const ir = op === 'pow-f32' ? 'pow' : op, v = b.add(record(ir, [a.t, d.t]), `${ir}(${a.name}, ${d.name})`, true);
  // Back to f32 as its remainder by 17 (every bit of v counts), not clamped to ±2^16 as asF32
  // does: wrapped powers are mostly that large, and a mean of ±65535 values made attention's
  // logits thousands, whose softmax the decomposed attention and the reference computed 4e-4
  // apart (seed 2488).
  const m = b.temp(record('fmod', [v.t, b.const([], 'i32', () => 17).t]), `fmod(${v.name}, 17)`, true);
  b.add(m.t.float(), `${m.name}.float()`, true);
  b.features.add(`${op === 'pow-f32' ? 'pow-i32-f32' : `${op}-i32`}${wild ? '-ids' : ''}`);
}

/** The moves, by weight: the integer ones twice as often in index fuzzing. */
export function mathMoves(o: { indexed?: boolean }): ReadonlyArray<readonly [number, Move]> {
  return [[3, unaryMathMove], [o.indexed ? 4 : 2, intArithmeticMove]];
}
