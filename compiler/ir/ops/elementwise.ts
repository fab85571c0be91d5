// Elementwise ops: unary and binary math and comparisons with NumPy broadcasting (the math
// itself, PyTorch's NaN and Inf behaviour included, is in ir/elementwise.ts), `where`, `cast`,
// and the fused `elementwise` loop (an expression tree over its inputs, made by elementwise-fusion:
// f32 math, comparisons and `where`, i32 → f32 conversion and wrapping i32 arithmetic, an f32 result).

import { BINARY, BITWISE, COMPARE, INT_BINARY, INT_WRAPPING, isBinary, isCompare, isUnary, REMAINDER, UNARY } from '../elementwise.ts';
import type { Expr } from '../node.ts';
import { allocData, broadcastShapes, fmtShape, fmtType, type DType, type Shape, type TensorType } from '../types.ts';
import { defineOp, type NoAttrs, type OpDef } from './def.ts';
import { forEachBroadcast, ontoResult } from './iterate.ts';
import { arity, f32, fail, indexError, raise, wantDtype } from './rules.ts';

export interface CastAttrs { dtype: DType }
export interface ElementwiseAttrs {
  /** The output shape, recorded at fusion time; every input broadcasts to it. */
  shape: Shape;
  expr: Expr;
}

/**
 * An expression as a function of its inputs at one element (`xs`: a bool as 0/1, an i32 as itself),
 * checked once (exprDtype). Every f32 result is rounded to f32, as the unfused ops store it: a
 * comparison of a sum must see the f32 sum, not the exact one. i32 arithmetic wraps as the unfused
 * op stores it (INT_WRAPPING), and `f32` of an i32 rounds it to the nearest f32 (ties to even, as
 * the cast: 16777217 → 16777216). A comparison gives 1 or 0; `where` evaluates only the branch it picks.
 */
export function exprEvaluator(e: Expr, ins: readonly DType[]): (xs: readonly number[]) => number {
  if (e.op === 'in') { const i = (e as { index: number }).index; exprDtype(e, ins); return (xs) => xs[i]!; }
  if (e.op === 'lit') { const v = (e as { value: number }).value; return () => v; }
  const args = (e as { args: readonly Expr[] }).args, [a, b, c] = args.map((x) => exprEvaluator(x, ins));
  const t = exprDtype(e, ins);
  if (e.op === 'where') return (xs) => (a!(xs) ? b!(xs) : c!(xs));
  const cmp = COMPARE[e.op];
  if (cmp) return (xs) => (cmp(a!(xs), b!(xs)) ? 1 : 0);
  if (e.op === 'f32') return (xs) => Math.fround(a!(xs));
  if (t === 'i32') { const f = INT_WRAPPING[e.op]!; return (xs) => f(a!(xs), b!(xs)); }
  if (args.length === 1) { const f = UNARY[e.op]!; return (xs) => Math.fround(f(a!(xs))); }
  const f = BINARY[e.op]!;
  return (xs) => Math.fround(f(a!(xs), b!(xs)));
}

/**
 * The dtype of an expression's value, checking it on the way: f32 math over f32, i32 arithmetic
 * that wraps (INT_WRAPPING) over i32, `f32` of an i32 (the cast), a comparison of two f32 or two
 * i32 (bool), `where` of a bool and two f32 or two bools (not i32: no fused loop selects i32 lanes).
 * Leaves have their input's dtype, literals are f32. In vector code a bool is a lane mask (all ones
 * or all zeros).
 */
export function exprDtype(e: Expr, ins: readonly DType[]): DType {
  if (e.op === 'in') {
    const i = (e as { index: number }).index;
    return ins[i] ?? fail('elementwise', `expression reads input ${i} of ${ins.length}`);
  }
  if (e.op === 'lit') return 'f32';
  const args = (e as { args: readonly Expr[] }).args, ts = args.map((x) => exprDtype(x, ins));
  const want = (ok: boolean, what: string) => { if (!ok) fail('elementwise', `expression ${e.op} takes ${what}, got (${ts.join(', ')})`); };
  if (isBinary(e.op) && args.length === 2 && ts[0] === 'i32' && ts[1] === 'i32') { want(e.op in INT_WRAPPING, 'f32 (i32 only for add, sub, mul, maximum, minimum)'); return 'i32'; }
  if ((isUnary(e.op) && args.length === 1) || (isBinary(e.op) && args.length === 2)) { want(ts.every((t) => t === 'f32'), 'f32'); return 'f32'; }
  if (e.op === 'f32' && args.length === 1) { want(ts[0] === 'i32', 'i32'); return 'f32'; }
  if (isCompare(e.op) && args.length === 2) { want(ts[0] === ts[1] && ts[0] !== 'bool', 'two f32 or two i32'); return 'bool'; }
  if (e.op === 'where' && args.length === 3) { want(ts[0] === 'bool' && ts[1] === ts[2] && ts[1] !== 'i32', 'a bool and two f32 or two bools'); return ts[1]!; }
  return fail('elementwise', `bad expression op ${e.op}/${args.length}`);
}

function unary(op: string): OpDef<NoAttrs> {
  const f = UNARY[op]!;
  return defineOp<NoAttrs>({
    type: (ins) => { arity(op, ins, 1); wantDtype(op, 'input', ins[0]!, 'f32'); return ins[0]!; },
    evaluate: (n, [x]) => { const out = allocData(n.type); for (let i = 0; i < out.length; i++) out[i] = f(x!.data[i]!); return out; },
  });
}

/** An i32 div or pow without an i32 value (INT_BINARY): {0} and {1} are the operands. */
export function intArithmeticError(op: string, label: string | undefined, floatExponent = false): string {
  const msg = op === 'div' ? 'integer division of {0} by zero'
    : floatExponent ? 'integer power of {0} to a float exponent has no i32 value (0 to a negative power, NaN, or outside the i32 range)'
      : 'integer power of {0} to the negative exponent {1} (a division by zero)';
  return indexError(op, label, msg);
}

function binary(op: string): OpDef<NoAttrs> {
  const f = BINARY[op]!, int = INT_BINARY[op];
  return defineOp<NoAttrs>({
    type: (ins) => {
      arity(op, ins, 2);
      const [a, b] = ins as [TensorType, TensorType];
      // ONNX's Pow takes a float exponent under an integer base; the result has the base's type.
      const floatExponent = op === 'pow' && a.dtype === 'i32' && b.dtype === 'f32';
      if (a.dtype !== b.dtype && !floatExponent) fail(op, `dtypes differ: ${fmtType(a)} vs ${fmtType(b)}`);
      // Bools are 0/1 bytes: a sum, difference, quotient or power of two is not one (1 + 1 made a bool 2).
      if (a.dtype === 'bool' && op !== 'mul' && op !== 'maximum' && op !== 'minimum') fail(op, `bool operands ${fmtType(a)} and ${fmtType(b)}: cast them to i32 or f32 first`);
      const shape = broadcastShapes(a.shape, b.shape) ?? fail(op, `shapes do not broadcast: ${fmtShape(a.shape)} vs ${fmtShape(b.shape)}`);
      return { dtype: a.dtype, shape };
    },
    evaluate: (n, [a, b]) => {
      const out = allocData(n.type);
      if (n.type.dtype === 'i32' && int) {
        const error = intArithmeticError(op, n.label, b!.type.dtype === 'f32');
        forEachBroadcast(n.type.shape, [a!.type.shape, b!.type.shape], (o, [oa, ob]) => {
          const x = a!.data[oa!]!, y = b!.data[ob!]!, r = int(x, y);
          out[o] = r ?? raise(error, x, y);
        });
        return out;
      }
      forEachBroadcast(n.type.shape, [a!.type.shape, b!.type.shape], (o, [oa, ob]) => { out[o] = f(a!.data[oa!]!, b!.data[ob!]!); });
      if (n.type.dtype === 'i32') for (let i = 0; i < out.length; i++) out[i] = Math.trunc(out[i]!);
      return out;
    },
    broadcasts: ontoResult,
  });
}

/** lt, le, gt, ge, eq, ne: two f32 or two i32 operands, broadcast; a bool result. */
function compare(op: string): OpDef<NoAttrs> {
  const f = COMPARE[op]!;
  return defineOp<NoAttrs>({
    type: (ins) => {
      arity(op, ins, 2);
      const [a, b] = ins as [TensorType, TensorType];
      wantDtype(op, 'first operand', a, 'f32', 'i32');
      wantDtype(op, 'second operand', b, 'f32', 'i32');
      if (a.dtype !== b.dtype) fail(op, `dtypes differ: ${fmtType(a)} vs ${fmtType(b)}`);
      const shape = broadcastShapes(a.shape, b.shape) ?? fail(op, `shapes do not broadcast: ${fmtShape(a.shape)} vs ${fmtShape(b.shape)}`);
      return { dtype: 'bool', shape };
    },
    evaluate: (n, [a, b]) => {
      const out = allocData(n.type);
      forEachBroadcast(n.type.shape, [a!.type.shape, b!.type.shape], (o, [oa, ob]) => { out[o] = f(a!.data[oa!]!, b!.data[ob!]!) ? 1 : 0; });
      return out;
    },
    broadcasts: ontoResult,
  });
}

/** bitand, bitor, bitxor, shl, shr (BITWISE): two i32 operands, broadcast; an i32 result. */
function bitwise(op: keyof typeof BITWISE): OpDef<NoAttrs> {
  const f = BITWISE[op];
  return defineOp<NoAttrs>({
    type: (ins) => {
      arity(op, ins, 2);
      const [a, b] = ins as [TensorType, TensorType];
      wantDtype(op, 'first operand', a, 'i32');
      wantDtype(op, 'second operand', b, 'i32');
      const shape = broadcastShapes(a.shape, b.shape) ?? fail(op, `shapes do not broadcast: ${fmtShape(a.shape)} vs ${fmtShape(b.shape)}`);
      return { dtype: 'i32', shape };
    },
    evaluate: (n, [a, b]) => {
      const out = allocData(n.type);
      forEachBroadcast(n.type.shape, [a!.type.shape, b!.type.shape], (o, [oa, ob]) => { out[o] = f(a!.data[oa!]!, b!.data[ob!]!); });
      return out;
    },
    broadcasts: ontoResult,
  });
}

/** An integer remainder's error for a zero divisor: {0} the dividend. */
export const remainderByZeroError = (op: string, label: string | undefined) => indexError(op, label, 'integer remainder of {0} by zero');

/** fmod (f32 or i32) and remainder (i32): two operands of one dtype, broadcast (REMAINDER). */
function remainder(op: 'fmod' | 'remainder'): OpDef<NoAttrs> {
  const f = REMAINDER[op];
  return defineOp<NoAttrs>({
    type: (ins) => {
      arity(op, ins, 2);
      const [a, b] = ins as [TensorType, TensorType];
      const dtypes: DType[] = op === 'fmod' ? ['f32', 'i32'] : ['i32'];
      wantDtype(op, 'dividend', a, ...dtypes);
      wantDtype(op, 'divisor', b, ...dtypes);
      if (a.dtype !== b.dtype) fail(op, `dtypes differ: ${fmtType(a)} vs ${fmtType(b)}`);
      const shape = broadcastShapes(a.shape, b.shape) ?? fail(op, `shapes do not broadcast: ${fmtShape(a.shape)} vs ${fmtShape(b.shape)}`);
      return { dtype: a.dtype, shape };
    },
    evaluate: (n, [a, b]) => {
      const out = allocData(n.type), int = n.type.dtype === 'i32';
      forEachBroadcast(n.type.shape, [a!.type.shape, b!.type.shape], (o, [oa, ob]) => {
        const x = a!.data[oa!]!, y = b!.data[ob!]!;
        if (int && y === 0) raise(remainderByZeroError(op, n.label), x);
        out[o] = f(x, y);
      });
      return out;
    },
    broadcasts: ontoResult,
  });
}

const where = defineOp<NoAttrs>({
  type: (ins) => {
    arity('where', ins, 3);
    const [c, x, y] = ins as [TensorType, TensorType, TensorType];
    wantDtype('where', 'condition', c, 'bool');
    if (x.dtype !== y.dtype) fail('where', `branches differ: ${fmtType(x)} vs ${fmtType(y)}`);
    const s = broadcastShapes(c.shape, x.shape) ?? fail('where', `shapes do not broadcast: ${fmtShape(c.shape)} vs ${fmtShape(x.shape)}`);
    const shape = broadcastShapes(s, y.shape) ?? fail('where', `shapes do not broadcast: ${fmtShape(s)} vs ${fmtShape(y.shape)}`);
    return { dtype: x.dtype, shape };
  },
  evaluate: (n, [c, a, b]) => {
    const out = allocData(n.type);
    forEachBroadcast(n.type.shape, [c!.type.shape, a!.type.shape, b!.type.shape], (o, [oc, oa, ob]) => {
      out[o] = c!.data[oc!] ? a!.data[oa!]! : b!.data[ob!]!;
    });
    return out;
  },
  broadcasts: ontoResult,
});

/**
 * To bool: x ≠ 0 (NaN is true, as torch's x.bool()). To i32: truncated toward zero and saturated
 * to the i32 range, NaN → 0 (wasm's trunc_sat; torch leaves NaN and out-of-range values undefined).
 */
const castValue = (to: TensorType['dtype'], v: number): number =>
  to === 'f32' ? v : to === 'bool' ? (v !== 0 ? 1 : 0) : v !== v ? 0 : Math.min(Math.max(Math.trunc(v), -2147483648), 2147483647);

const cast = defineOp<CastAttrs>({
  type: (ins, a) => { arity('cast', ins, 1); return { dtype: a.dtype, shape: ins[0]!.shape }; },
  evaluate: (n, [x]) => { const out = allocData(n.type); for (let i = 0; i < out.length; i++) out[i] = castValue(n.type.dtype, x!.data[i]!); return out; },
});

const elementwise = defineOp<ElementwiseAttrs>({
  type: (ins, a) => {
    for (const t of ins) if (!broadcastShapes(t.shape, a.shape)) fail('elementwise', `input ${fmtType(t)} does not broadcast to ${fmtShape(a.shape)}`);
    const t = exprDtype(a.expr, ins.map((x) => x.dtype));
    if (t !== 'f32') fail('elementwise', `the expression's value must be f32, got ${t}`);
    return f32([...(a.shape ?? [])]);
  },
  evaluate: (n, ins) => {
    const out = allocData(n.type);
    const xs = new Array<number>(ins.length), f = exprEvaluator(n.attrs.expr, ins.map((v) => v.type.dtype));
    forEachBroadcast(n.type.shape, ins.map((v) => v.type.shape), (o, offs) => {
      for (let j = 0; j < ins.length; j++) xs[j] = ins[j]!.data[offs[j]!]!;
      out[o] = f(xs);
    });
    return out;
  },
  broadcasts: ontoResult,
  traits: { overwritesInput: true },
});

const UNARY_NAMES = ['relu', 'tanh', 'sigmoid', 'exp', 'log', 'neg', 'abs', 'sqrt', 'rsqrt', 'recip', 'erf', 'gelu', 'floor', 'ceil', 'round', 'trunc',
  'sin', 'cos', 'tan', 'asin', 'acos', 'atan', 'sinh', 'cosh', 'asinh', 'acosh', 'atanh'] as const;
const BINARY_NAMES = ['add', 'sub', 'mul', 'div', 'maximum', 'minimum', 'pow'] as const;
const COMPARE_NAMES = ['lt', 'le', 'gt', 'ge', 'eq', 'ne'] as const;
export type UnaryName = (typeof UNARY_NAMES)[number];
export type BinaryName = (typeof BINARY_NAMES)[number];
export type CompareName = (typeof COMPARE_NAMES)[number];

export const ELEMENTWISE_OPS = {
  ...Object.fromEntries(UNARY_NAMES.map((op) => [op, unary(op)])) as Record<UnaryName, OpDef<NoAttrs>>,
  ...Object.fromEntries(BINARY_NAMES.map((op) => [op, binary(op)])) as Record<BinaryName, OpDef<NoAttrs>>,
  ...Object.fromEntries(COMPARE_NAMES.map((op) => [op, compare(op)])) as Record<CompareName, OpDef<NoAttrs>>,
  fmod: remainder('fmod'),
  remainder: remainder('remainder'),
  bitand: bitwise('bitand'), bitor: bitwise('bitor'), bitxor: bitwise('bitxor'), shl: bitwise('shl'), shr: bitwise('shr'),
  where,
  cast,
  elementwise,
};
