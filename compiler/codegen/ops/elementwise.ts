// Elementwise ops on wasm: generated loops, four lanes (two vectors per iteration) where every
// input is contiguous or a broadcast scalar; a fused `elementwise` node is one loop over its
// expression. Unfused unary and binary ops (e.g. with elementwise-fusion off) are one-op
// expressions; i32 arithmetic (positions, indices) runs as scalar loops. Comparisons write bytes
// (a bool is one byte, 0 or 1): sixteen lanes an iteration, their masks narrowed to bytes.

import type { Expr, Node } from '../../ir/node.ts';
import type { NoAttrs } from '../../ir/ops/def.ts';
import { intArithmeticError, remainderByZeroError, type CastAttrs, type ElementwiseAttrs } from '../../ir/ops/elementwise.ts';
import { mulDims, numelDims } from '../../ir/dims.ts';
import { dimsOf, DTYPE_BYTES, type DType } from '../../ir/types.ts';
import type { Layout } from '../layout.ts';
import { code, contiguous, dimBroadcastStrides, LOAD, loopNest, type Operand } from '../loops.ts';
import { defineLowering, f32lit, trapUnless, type Lowering } from './lowering.ts';

const VEC: Record<string, (a: string[]) => string> = {
  add: ([a, b]) => `f32x4.add(${a}, ${b})`,
  sub: ([a, b]) => `f32x4.sub(${a}, ${b})`,
  mul: ([a, b]) => `f32x4.mul(${a}, ${b})`,
  div: ([a, b]) => `f32x4.div(${a}, ${b})`,
  maximum: ([a, b]) => `f32x4.max(${a}, ${b})`,
  minimum: ([a, b]) => `f32x4.min(${a}, ${b})`,
  pow: ([a, b]) => `pow_f32x4(${a}, ${b})`,
  neg: ([a]) => `f32x4.neg(${a})`,
  abs: ([a]) => `f32x4.abs(${a})`,
  sqrt: ([a]) => `f32x4.sqrt(${a})`,
  rsqrt: ([a]) => `f32x4.div(f32x4.splat(1.0), f32x4.sqrt(${a}))`,
  recip: ([a]) => `f32x4.div(f32x4.splat(1.0), ${a})`,
  log: ([a]) => `log_f32x4(${a})`,
  // wasm's rounding instructions keep NaN, ±Inf and −0; nearest is round half to even (torch.round).
  floor: ([a]) => `f32x4.floor(${a})`,
  ceil: ([a]) => `f32x4.ceil(${a})`,
  round: ([a]) => `f32x4.nearest(${a})`,
  trunc: ([a]) => `f32x4.trunc(${a})`,
};
const SCA: Record<string, (a: string[]) => string> = {
  add: ([a, b]) => `(${a} + ${b})`,
  sub: ([a, b]) => `(${a} - ${b})`,
  mul: ([a, b]) => `(${a} * ${b})`,
  div: ([a, b]) => `(${a} / ${b})`,
  maximum: ([a, b]) => `max<f32>(${a}, ${b})`,
  minimum: ([a, b]) => `min<f32>(${a}, ${b})`,
  pow: ([a, b]) => `pow_f32(${a}, ${b})`,
  neg: ([a]) => `(-${a})`,
  abs: ([a]) => `abs<f32>(${a})`,
  sqrt: ([a]) => `sqrt<f32>(${a})`,
  rsqrt: ([a]) => `(<f32>1.0 / sqrt<f32>(${a}))`,
  recip: ([a]) => `(<f32>1.0 / ${a})`,
  log: ([a]) => `Mathf.log(${a})`,
  floor: ([a]) => `floor<f32>(${a})`,
  ceil: ([a]) => `ceil<f32>(${a})`,
  round: ([a]) => `nearest<f32>(${a})`,
  trunc: ([a]) => `trunc<f32>(${a})`,
};
for (const f of ['exp', 'tanh', 'sigmoid', 'erf', 'gelu', 'relu', 'sin', 'cos', 'tan', 'asin', 'acos', 'atan', 'sinh', 'cosh', 'asinh', 'acosh', 'atanh']) {
  VEC[f] = ([a]) => `${f}_f32x4(${a})`;
  SCA[f] = ([a]) => `${f}_f32(${a})`;
}

/** Comparisons by dtype: the vector form gives a lane mask (all ones or zeros), the scalar form a bool. */
const CMP_VEC: Record<string, Record<string, string>> = {
  f32: { lt: 'f32x4.lt', le: 'f32x4.le', gt: 'f32x4.gt', ge: 'f32x4.ge', eq: 'f32x4.eq', ne: 'f32x4.ne' },
  i32: { lt: 'i32x4.lt_s', le: 'i32x4.le_s', gt: 'i32x4.gt_s', ge: 'i32x4.ge_s', eq: 'i32x4.eq', ne: 'i32x4.ne' },
};
const CMP_SCA: Record<string, string> = { lt: '<', le: '<=', gt: '>', ge: '>=', eq: '==', ne: '!=' };
/** Wrapping i32 arithmetic in a fused loop (ir/elementwise.ts INT_WRAPPING): i32x4.mul keeps the low 32 bits, as i32.mul. */
const INT_VEC: Record<string, (a: string[]) => string> = {
  add: ([a, b]) => `i32x4.add(${a}, ${b})`, sub: ([a, b]) => `i32x4.sub(${a}, ${b})`, mul: ([a, b]) => `i32x4.mul(${a}, ${b})`,
  maximum: ([a, b]) => `i32x4.max_s(${a}, ${b})`, minimum: ([a, b]) => `i32x4.min_s(${a}, ${b})`,
};
const INT_SCA: Record<string, (a: string[]) => string> = {
  add: ([a, b]) => `(${a} + ${b})`, sub: ([a, b]) => `(${a} - ${b})`, mul: ([a, b]) => `(${a} * ${b})`,
  maximum: ([a, b]) => `max<i32>(${a}, ${b})`, minimum: ([a, b]) => `min<i32>(${a}, ${b})`,
};

/**
 * An expression as AssemblyScript, with its dtype (ir/ops/elementwise.ts exprDtype). Vector code
 * holds every value in a v128: f32x4, i32x4 (an i32 input, wrapping i32 arithmetic, converted by
 * `f32`), or a bool as a lane mask, with which `where` selects
 * bit by bit (the bits of the branch not taken, a NaN's among them, never reach the result).
 * Scalar code holds f32, i32 and bool; `select` picks a value as it is.
 */
function exprCode(e: Expr, ins: readonly DType[], leaf: (i: number) => string, vec: boolean): [string, DType] {
  if (e.op === 'in') { const i = (e as { index: number }).index; return [leaf(i), ins[i]!]; }
  if (e.op === 'lit') { const l = f32lit((e as { value: number }).value); return [vec ? `f32x4.splat(${l})` : l, 'f32']; }
  const args = (e as { args: readonly Expr[] }).args.map((a) => exprCode(a, ins, leaf, vec)), a = args.map(([x]) => x);
  if (e.op in CMP_SCA) return [vec ? `${CMP_VEC[args[0]![1]]![e.op]}(${a[0]}, ${a[1]})` : `(${a[0]} ${CMP_SCA[e.op]} ${a[1]})`, 'bool'];
  if (e.op === 'where') {
    const t = args[1]![1];
    return [vec ? `v128.bitselect(${a[1]}, ${a[2]}, ${a[0]})` : `select<${t === 'bool' ? 'bool' : 'f32'}>(${a[1]}, ${a[2]}, ${a[0]})`, t];
  }
  // i32 → f32 rounds to nearest, ties to even (16777217 → 16777216), in both forms, as the unfused cast.
  if (e.op === 'f32') return [vec ? `f32x4.convert_i32x4_s(${a[0]})` : `(<f32>${a[0]})`, 'f32'];
  if (args[0]![1] === 'i32') {
    const g = (vec ? INT_VEC : INT_SCA)[e.op];
    if (!g) throw new Error(`codegen: no i32 form for elementwise op '${e.op}'`);
    return [g(a), 'i32'];
  }
  const f = (vec ? VEC : SCA)[e.op];
  if (!f) throw new Error(`codegen: no ${vec ? 'vector' : 'scalar'} form for elementwise op '${e.op}'`);
  return [f(a), 'f32'];
}

/**
 * A fused loop: out[i] = expr(inputs at i), four lanes at a time where every input is contiguous
 * or a broadcast scalar. f32 and i32 inputs load as they are; a bool input (one byte each) loads
 * four or eight bytes, widened to lane masks (any nonzero byte is true, as `where` reads it).
 */
function fusedLoop(n: Node, c: Layout, expr: Expr): string[] {
  const ins = n.inputs, dts = ins.map((i) => i.type.dtype);
  const ops: Operand[] = [contiguous(n, c.ref(n)), ...ins.map((i) => ({ base: c.ref(i), strides: dimBroadcastStrides(dimsOf(i.type), dimsOf(n.type)), bytes: DTYPE_BYTES[i.type.dtype] }))];
  const code0 = (leaf: (j: number) => string, vec: boolean) => exprCode(expr, dts, leaf, vec)[0];
  return loopNest(dimsOf(n.type), ops, (p, len, st) => {
    // Each input is loaded once per element (or vector) into a local, however often the expression reads it.
    const scalarLoads = ins.map((_, j) => {
      const at = `${p[j + 1]}${st[j + 1] ? ` + (<usize>i * ${code(mulDims(st[j + 1]!, DTYPE_BYTES[dts[j]!]))})` : ''}`;
      return dts[j] === 'bool' ? `const s${j} = load<u8>(${at}) != 0;` : `const s${j} = load<${dts[j]}>(${at});`;
    });
    const scalarLoop = [
      `for (; i < ${code(len)}; i++) {`,
      ...scalarLoads.map((l) => `  ${l}`),
      `  store<f32>(${p[0]} + (<usize>i << 2), ${code0((j) => `s${j}`, false)});`,
      `}`,
    ];
    if ((typeof len === 'number' && len < 4) || !st.slice(1).every((s) => s === 0 || s === 1)) return ['let i = 0;', ...scalarLoop];
    const bool = (j: number) => dts[j] === 'bool';
    const splats = ins.map((_, j) => (st[j + 1] !== 0 ? ''
      : bool(j) ? `const b${j} = i32x4.splat(load<u8>(${p[j + 1]}) != 0 ? -1 : 0);` : `const b${j} = v128.load32_splat(${p[j + 1]});`)).filter(Boolean);
    // Bytes → lane masks: nonzero bytes to 0xff, then sign-extended to 16 and 32 bits.
    const byteMask = (load: string) => `i16x8.extend_low_i8x16_s(i8x16.ne(${load}, i8x16.splat(0)))`;
    const leaf = (suffix: string) => (j: number) => (st[j + 1] === 0 ? `b${j}` : `v${j}${suffix}`);
    const store = (o: string, suffix: string) => `  v128.store(${p[0]} + ${o}, ${code0(leaf(suffix), true)});`;
    const loads = (j: number, o: string, suffix: string) => (bool(j) ? [] : [`  const v${j}${suffix} = v128.load(${p[j + 1]} + ${o});`]);
    const streamed = ins.map((_, j) => j).filter((j) => st[j + 1] !== 0);
    // Two vectors per iteration: independent chains hide the latency of exp/tanh polynomials.
    return [
      ...splats,
      'let i = 0;',
      `for (; i + 8 <= ${code(len)}; i += 8) {`,
      '  const o = <usize>i << 2;',
      ...streamed.filter(bool).flatMap((j) => [
        `  const m${j} = ${byteMask(`v128.load64_zero(${p[j + 1]} + <usize>i)`)};`,
        `  const v${j}a = i32x4.extend_low_i16x8_s(m${j}), v${j}b = i32x4.extend_high_i16x8_s(m${j});`,
      ]),
      ...streamed.flatMap((j) => loads(j, 'o', 'a')),
      store('o', 'a'),
      ...streamed.flatMap((j) => loads(j, 'o + 16', 'b')),
      store('o + 16', 'b'),
      '}',
      `for (; i + 4 <= ${code(len)}; i += 4) {`,
      '  const o = <usize>i << 2;',
      ...streamed.flatMap((j) => (bool(j) ? [`  const v${j} = i32x4.extend_low_i16x8_s(${byteMask(`v128.load32_zero(${p[j + 1]} + <usize>i)`)});`] : loads(j, 'o', ''))),
      store('o', ''),
      '}',
      ...scalarLoop,
    ];
  });
}

const I32_OPS: Record<string, (a: string, b: string) => string> = {
  add: (a, b) => `${a} + ${b}`, sub: (a, b) => `${a} - ${b}`, mul: (a, b) => `${a} * ${b}`,
  maximum: (a, b) => `max<i32>(${a}, ${b})`, minimum: (a, b) => `min<i32>(${a}, ${b})`,
  // i32.div_s traps on MIN_VALUE / −1: that one is −a, which wraps to MIN_VALUE (ir/elementwise.ts INT_BINARY).
  div: (a, b) => `${b} == -1 ? -${a} : ${a} / ${b}`,
  pow: (a, b) => `ipow_i32(${a}, ${b})`,
};

/**
 * Integer arithmetic (positions, indices, ONNX's integer Div and Pow): scalar loops. A zero divisor
 * and 0 to a negative power trap with the node's message, as the reference raises it; pow with an
 * f32 exponent computes in ipow_f32, whose out-of-range marker (below i32) traps.
 */
function i32Binary(n: Node, c: Layout): string[] {
  const y = n.inputs[1]!, floatExponent = y.type.dtype === 'f32';
  const error = intArithmeticError(n.op, n.label, floatExponent);
  const check = n.op === 'div' ? [`  ${trapUnless('b != 0', error, 'a', 'b')}`]
    : n.op === 'pow' && !floatExponent ? [`  ${trapUnless('b >= 0 || a != 0', error, 'a', 'b')}`] : [];
  const value = floatExponent
    ? ['  const r = ipow_f32(a, b);', `  ${trapUnless('r >= <i64>i32.MIN_VALUE', error, 'a', '0')}`, '  const v = <i32>r;']
    : [`  const v = ${I32_OPS[n.op]!('a', 'b')};`];
  const ops: Operand[] = [contiguous(n, c.ref(n)), ...n.inputs.map((i) => ({ base: c.ref(i), strides: dimBroadcastStrides(dimsOf(i.type), dimsOf(n.type)), bytes: 4 }))];
  return loopNest(dimsOf(n.type), ops, (p, len, st) => [
    `for (let i = 0; i < ${code(len)}; i++) {`,
    `  const a = load<i32>(${p[1]} + <usize>i * ${code(mulDims(st[1]!, 4))}), b = load<${y.type.dtype}>(${p[2]} + <usize>i * ${code(mulDims(st[2]!, 4))});`,
    ...check,
    ...value,
    `  store<i32>(${p[0]} + (<usize>i << 2), v);`,
    '}',
  ]);
}

/**
 * out[i] = a[i] OP b[i] as a byte 0/1. Sixteen lanes an iteration: four masks (−1 or 0 in each
 * 32-bit lane) narrowed with signed saturation to sixteen bytes of −1 or 0, then ANDed with 1.
 */
function compareLoop(n: Node, c: Layout): string[] {
  const t = n.inputs[0]!.type.dtype, vop = CMP_VEC[t]![n.op]!, sop = CMP_SCA[n.op]!;
  const ops: Operand[] = [contiguous(n, c.ref(n)), ...n.inputs.map((i) => ({ base: c.ref(i), strides: dimBroadcastStrides(dimsOf(i.type), dimsOf(n.type)), bytes: 4 }))];
  return loopNest(dimsOf(n.type), ops, (p, len, st) => {
    const scalar = (j: number) => `load<${t}>(${p[j]}${st[j] ? ` + (<usize>i * ${code(mulDims(st[j]!, 4))})` : ''})`;
    const scalarLoop = [
      `for (; i < ${code(len)}; i++) {`,
      `  store<u8>(${p[0]} + <usize>i, <u8>(${scalar(1)} ${sop} ${scalar(2)}));`,
      '}',
    ];
    if ((typeof len === 'number' && len < 16) || !st.slice(1).every((s) => s === 0 || s === 1)) return ['let i = 0;', ...scalarLoop];
    const operand = (j: number, o: string) => (st[j] === 0 ? `b${j}` : `v128.load(${p[j]} + ${o})`);
    const mask = (k: number) => `${vop}(${operand(1, k ? `o + ${16 * k}` : 'o')}, ${operand(2, k ? `o + ${16 * k}` : 'o')})`;
    return [
      ...[1, 2].filter((j) => st[j] === 0).map((j) => `const b${j} = v128.load32_splat(${p[j]});`),
      'let i = 0;',
      `for (; i + 16 <= ${code(len)}; i += 16) {`,
      '  const o = <usize>i << 2;',
      `  const lo = i16x8.narrow_i32x4_s(${mask(0)}, ${mask(1)});`,
      `  const hi = i16x8.narrow_i32x4_s(${mask(2)}, ${mask(3)});`,
      `  v128.store(${p[0]} + <usize>i, v128.and(i8x16.narrow_i16x8_s(lo, hi), i8x16.splat(1)));`,
      '}',
      ...scalarLoop,
    ];
  });
}
const compare = (): Lowering<NoAttrs> => defineLowering<NoAttrs>({ refs: true, emit: compareLoop });

/**
 * fmod and remainder: scalar loops. On f32, AssemblyScript's % is an exact fmodf (musl's bitwise
 * algorithm); on i32 it is i32.rem_s (MIN_VALUE % −1 = 0), a zero divisor trapping first with the
 * node's message, as the reference raises it. remainder moves a remainder whose sign differs from
 * the divisor's by one divisor.
 */
function remainderLoop(n: Node, c: Layout): string[] {
  const t = n.type.dtype;
  const ops: Operand[] = [contiguous(n, c.ref(n)), ...n.inputs.map((i) => ({ base: c.ref(i), strides: dimBroadcastStrides(dimsOf(i.type), dimsOf(n.type)), bytes: 4 }))];
  return loopNest(dimsOf(n.type), ops, (p, len, st) => [
    `for (let i = 0; i < ${code(len)}; i++) {`,
    `  const a = load<${t}>(${p[1]} + <usize>i * ${code(mulDims(st[1]!, 4))}), b = load<${t}>(${p[2]} + <usize>i * ${code(mulDims(st[2]!, 4))});`,
    ...t === 'i32' ? [`  ${trapUnless('b != 0', remainderByZeroError(n.op, n.label), 'a', 'b')}`] : [],
    ...n.op === 'remainder'
      ? ['  let r = a % b;', '  if (r != 0 && (r ^ b) < 0) r += b;', `  store<${t}>(${p[0]} + (<usize>i << 2), r);`]
      : [`  store<${t}>(${p[0]} + (<usize>i << 2), a % b);`],
    '}',
  ]);
}

/** bitand, bitor, bitxor, shl, shr of i32 (ir/elementwise.ts BITWISE): scalar loops; a shift count of 32 or more (unsigned) shifts every bit out, where wasm's shifts take it modulo 32. */
const BITWISE_SCA: Record<string, string> = {
  bitand: 'a & b', bitor: 'a | b', bitxor: 'a ^ b', shl: '<u32>b >= 32 ? 0 : a << b', shr: 'a >> (<u32>b >= 32 ? 31 : b)',
};
function bitwiseLoop(n: Node, c: Layout): string[] {
  const ops: Operand[] = [contiguous(n, c.ref(n)), ...n.inputs.map((i) => ({ base: c.ref(i), strides: dimBroadcastStrides(dimsOf(i.type), dimsOf(n.type)), bytes: 4 }))];
  return loopNest(dimsOf(n.type), ops, (p, len, st) => [
    `for (let i = 0; i < ${code(len)}; i++) {`,
    `  const a = load<i32>(${p[1]} + <usize>i * ${code(mulDims(st[1]!, 4))}), b = load<i32>(${p[2]} + <usize>i * ${code(mulDims(st[2]!, 4))});`,
    `  store<i32>(${p[0]} + (<usize>i << 2), ${BITWISE_SCA[n.op]!});`,
    '}',
  ]);
}
const bitwise = (): Lowering<NoAttrs> => defineLowering<NoAttrs>({ refs: true, emit: bitwiseLoop });

/** An unfused unary or binary op: a one-op expression (f32), or integer arithmetic (i32). */
const single = (): Lowering<NoAttrs> => defineLowering<NoAttrs>({
  refs: true,
  emit: (n, c) => {
    if (n.type.dtype === 'i32' && n.op in I32_OPS) return i32Binary(n, c);
    if (n.type.dtype === 'f32' && n.inputs.every((i) => i.type.dtype === 'f32') && (n.inputs.length === 1 || n.inputs.length === 2)) {
      const expr: Expr = { op: n.op, args: n.inputs.map((_, index) => ({ op: 'in' as const, index })) };
      if (n.op in VEC) return fusedLoop(n, c, expr);
    }
    throw new Error(`codegen: op '${n.op}' (${n.type.dtype}) is not supported${n.label ? ` (at ${n.label})` : ''}`);
  },
});

export const ELEMENTWISE_LOWERINGS = {
  relu: single(), tanh: single(), sigmoid: single(), exp: single(), log: single(), neg: single(), abs: single(),
  sqrt: single(), rsqrt: single(), recip: single(), erf: single(), gelu: single(),
  floor: single(), ceil: single(), round: single(), trunc: single(), sin: single(), cos: single(), tan: single(),
  asin: single(), acos: single(), atan: single(), sinh: single(), cosh: single(), asinh: single(), acosh: single(), atanh: single(),
  lt: compare(), le: compare(), gt: compare(), ge: compare(), eq: compare(), ne: compare(),
  add: single(), sub: single(), mul: single(), div: single(), maximum: single(), minimum: single(), pow: single(),
  fmod: defineLowering<NoAttrs>({ refs: true, emit: remainderLoop }), remainder: defineLowering<NoAttrs>({ refs: true, emit: remainderLoop }),
  bitand: bitwise(), bitor: bitwise(), bitxor: bitwise(), shl: bitwise(), shr: bitwise(),
  where: defineLowering<NoAttrs>({
    emit: (n, c) => {
      const ops: Operand[] = [contiguous(n, c.addr(n)), ...n.inputs.map((i) => ({ base: c.addr(i), strides: dimBroadcastStrides(dimsOf(i.type), dimsOf(n.type)), bytes: DTYPE_BYTES[i.type.dtype] }))];
      const t = LOAD[n.type.dtype]!, b = DTYPE_BYTES[n.type.dtype];
      return loopNest(dimsOf(n.type), ops, (p, len, st) => [
        `for (let i = 0; i < ${code(len)}; i++) {`,
        `  store<${t}>(${p[0]} + <usize>i * ${b}, load<u8>(${p[1]} + <usize>i * ${code(st[1]!)}) ? load<${t}>(${p[2]} + <usize>i * ${code(mulDims(st[2]!, b))}) : load<${t}>(${p[3]} + <usize>i * ${code(mulDims(st[3]!, b))}));`,
        '}',
      ]);
    },
  }),
  cast: defineLowering<CastAttrs>({
    emit: (n, c) => {
      // To bool: x != 0 (NaN is true); to i32: AssemblyScript's conversion, a saturating truncation.
      const x = n.inputs[0]!, from = LOAD[x.type.dtype]!, to = LOAD[n.type.dtype]!;
      const v = `load<${from}>(${c.addr(x)} + <usize>i * ${DTYPE_BYTES[x.type.dtype]})`;
      return [
        `for (let i = 0; i < ${code(numelDims(dimsOf(n.type)))}; i++) {`,
        `  store<${to}>(${c.addr(n)} + <usize>i * ${DTYPE_BYTES[n.type.dtype]}, <${to}>${n.type.dtype === 'bool' ? `(${v} != 0)` : v});`,
        '}',
      ];
    },
  }),
  elementwise: defineLowering<ElementwiseAttrs>({ refs: true, emit: (n, c) => fusedLoop(n, c, n.attrs.expr) }),
};
