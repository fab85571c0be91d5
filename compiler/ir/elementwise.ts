// Elementwise ops: their arity and their meaning as plain JavaScript math. The reference
// interpreter evaluates these definitions; codegen has its own AssemblyScript spelling.

const erf = (x: number): number => {
  // Abramowitz–Stegun 7.1.26 is too coarse for an oracle; use the series / continued fraction.
  const ax = Math.abs(x);
  if (ax === Infinity) return Math.sign(x);
  if (ax < 3) {
    let sum = ax, term = ax;
    for (let n = 1; n < 200; n++) {
      term *= (-ax * ax) / n;
      const add = term / (2 * n + 1);
      sum += add;
      if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
    }
    return Math.sign(x) * (2 / Math.sqrt(Math.PI)) * sum;
  }
  // erfc continued fraction (Lentz), accurate for |x| >= 3.
  let f = ax, c = ax, d = 0;
  for (let n = 1; n < 300; n++) {
    const an = n / 2;
    d = ax + an * d; d = 1 / d;
    c = ax + an / c;
    const delta = c * d;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  const erfc = Math.exp(-ax * ax) / (f * Math.sqrt(Math.PI));
  return Math.sign(x) * (1 - erfc);
};

/** torch.round (and wasm's f32.nearest): halves go to the even neighbour, round(−0.4) = −0. */
function roundHalfEven(x: number): number {
  const r = Math.round(x); // halves up, toward +Inf; −0 for x in [−0.5, −0]
  return r - x === 0.5 ? 2 * Math.round(x / 2) : r;
}

// PyTorch's semantics, NaN and Inf included: NaN propagates through relu, maximum and minimum.
export const UNARY: Record<string, (x: number) => number> = {
  relu: (x) => (x < 0 ? 0 : x), // relu(−0) = −0, as torch.relu and the kernels' select/pmax
  tanh: Math.tanh,
  sigmoid: (x) => 1 / (1 + Math.exp(-x)),
  exp: Math.exp,
  log: Math.log,
  neg: (x) => -x,
  abs: Math.abs,
  sqrt: Math.sqrt,
  rsqrt: (x) => 1 / Math.sqrt(x),
  recip: (x) => 1 / x,
  erf,
  gelu: (x) => 0.5 * x * (1 + erf(x / Math.SQRT2)),
  // Rounding keeps NaN, ±Inf and the sign of zero (ceil(−0.5) = −0, as torch and wasm's f32.ceil).
  floor: Math.floor,
  ceil: Math.ceil,
  trunc: Math.trunc,
  round: roundHalfEven,
  // NaN and ±Inf give NaN, sin(−0) = −0 (fdlibm's, exactly reduced: the oracle for the kernels' fast reduction).
  sin: Math.sin,
  cos: Math.cos,
  // torch's values at the edges (V8's fdlibm in f64; the kernels are within an ulp of it rounded to
  // f32): tan(±inf) and asin/acos beyond ±1 NaN, atan(±inf) = ±π/2, sinh/cosh/asinh of ±inf ±inf
  // (cosh +inf), acosh below 1 NaN, atanh(±1) = ±inf and NaN beyond; the odd ones keep −0.
  tan: Math.tan,
  asin: Math.asin,
  acos: Math.acos,
  atan: Math.atan,
  sinh: Math.sinh,
  cosh: Math.cosh,
  asinh: Math.asinh,
  acosh: Math.acosh,
  atanh: Math.atanh,
};

export const BINARY: Record<string, (a: number, b: number) => number> = {
  add: (a, b) => a + b,
  sub: (a, b) => a - b,
  mul: (a, b) => a * b,
  div: (a, b) => a / b,
  maximum: Math.max,
  minimum: Math.min,
  // C's pow (and torch.pow): 1^y = 1 even for NaN y, (−1)^±∞ = 1; JavaScript gives NaN.
  pow: (a, b) => (a === 1 || (a === -1 && Math.abs(b) === Infinity) ? 1 : Math.pow(a, b)),
};

/** Comparisons (f32 or i32 operands, a bool result): NaN compares false except by ne; −0 equals 0. */
export const COMPARE: Record<string, (a: number, b: number) => boolean> = {
  lt: (a, b) => a < b,
  le: (a, b) => a <= b,
  gt: (a, b) => a > b,
  ge: (a, b) => a >= b,
  eq: (a, b) => a === b,
  ne: (a, b) => a !== b,
};

/**
 * Remainders (binary, not fusable: an integer one traps on a zero divisor). fmod truncates (C's
 * fmod, torch.fmod: the dividend's sign; f32 or i32), remainder floors (Python's %,
 * torch.remainder: the divisor's sign; i32 only, where r + b is exact). JavaScript's % is C's fmod,
 * exact on f32 operands in f64: x % 0 and ±Inf % y are NaN, x % ±Inf = x, the sign of zero kept.
 * On i32 the caller stores into an Int32Array, so −0 (MIN_VALUE % −1, −4 % 2) becomes 0.
 */
export const REMAINDER: Record<'fmod' | 'remainder', (a: number, b: number) => number> = {
  fmod: (a, b) => a % b,
  remainder: (a, b) => { const r = a % b; return r !== 0 && r < 0 !== b < 0 ? r + b : r; },
};

/**
 * Bitwise ops of i32 (torch's bitwise_and/or/xor and shifts; int64 runs as i32, so these are its
 * low 32 bits). A shift count is unsigned: 32 or more (a negative count too) shifts every bit out,
 * leaving 0 to the left and the sign to the right (wasm's own shifts take the count modulo 32).
 */
export const BITWISE: Record<'bitand' | 'bitor' | 'bitxor' | 'shl' | 'shr', (a: number, b: number) => number> = {
  bitand: (a, b) => a & b,
  bitor: (a, b) => a | b,
  bitxor: (a, b) => a ^ b,
  shl: (a, b) => (b >>> 0 >= 32 ? 0 : a << b),
  shr: (a, b) => a >> (b >>> 0 >= 32 ? 31 : b),
};

/**
 * i32 arithmetic that is not f64 math truncated (ONNX's integer Div and Pow; int64 runs as i32).
 * mul wraps modulo 2^32 (torch's int32, i32.mul). div truncates toward zero, as C, ONNX Runtime and
 * the node test test_div_int32_trunc (−3 / 2 = −1; numpy's // floors); MIN_VALUE / −1 wraps to
 * MIN_VALUE. pow with an integer exponent is repeated multiplication modulo 2^32 (ONNX Runtime's
 * trunc(pow(a, b)) wherever that fits i32, as mul wraps beyond), and 1/a^|b| truncated for a
 * negative one (1, ±1 for a = −1, else 0); with a float exponent (ONNX's Pow takes one under an
 * integer base) that is not an integer of i32 range, trunc(pow(a, b)) by C's pow. undefined: no
 * i32 value (a zero divisor, 0 to a negative power, NaN or beyond the range): the reference raises
 * intArithmeticError, compiled code traps with it.
 */
export const INT_BINARY: Partial<Record<string, (a: number, b: number) => number | undefined>> = {
  mul: Math.imul,
  div: (a, b) => (b === 0 ? undefined : Math.trunc(a / b)),   // exact for |a| < 2^53; 2^31 (MIN_VALUE / −1) wraps when stored as i32
  pow: (a, b) => {
    if (Number.isInteger(b) && Math.abs(b) < 2 ** 31) {
      if (b < 0) return a === 0 ? undefined : a === 1 ? 1 : a === -1 ? (b % 2 ? -1 : 1) : 0;
      let r = 1;
      for (let x = a, e = b; e > 0; x = Math.imul(x, x), e = Math.floor(e / 2)) if (e % 2) r = Math.imul(r, x);
      return r;
    }
    const r = Math.trunc(BINARY.pow!(a, b));
    return r >= -(2 ** 31) && r < 2 ** 31 ? r : undefined;
  },
};

/**
 * The i32 arithmetic a fused loop may hold: it never traps (div and pow do, on a zero divisor, and
 * stay their own nodes) and wraps modulo 2^32 as the unfused op stores it (i32.add, i32.sub, i32.mul;
 * max and min are exact). INT_BINARY's, else BINARY's value, stored as i32 (ToInt32).
 */
export const INT_WRAPPING: Partial<Record<string, (a: number, b: number) => number>> = Object.fromEntries(
  ['add', 'sub', 'mul', 'maximum', 'minimum'].map((op) => {
    const f = INT_BINARY[op] ?? BINARY[op]!;
    return [op, (a: number, b: number) => f(a, b)! | 0];
  }));

export const isUnary = (op: string): boolean => op in UNARY;
export const isBinary = (op: string): boolean => op in BINARY;
export const isCompare = (op: string): boolean => op in COMPARE;
/**
 * The f32 math a fused elementwise loop may contain (f32 in, f32 out, same-index semantics). A
 * fused loop's expression may also hold comparisons, `where`, i32 → f32 conversion and
 * INT_WRAPPING's i32 arithmetic (ir/ops/elementwise.ts exprDtype).
 */
export const isElementwise = (op: string): boolean => isUnary(op) || isBinary(op);

/** Activations the GEMM/conv epilogue applies (the kernel's ACT_* code has the same name). */
export const ACTIVATIONS = ['none', 'relu', 'sigmoid', 'tanh', 'gelu'] as const;
export type Activation = (typeof ACTIVATIONS)[number];
export const applyAct = (a: Activation, x: number): number => (a === 'none' ? x : UNARY[a]!(x));
