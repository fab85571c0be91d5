// Boolean reductions and tensor utilities PyTorch users reach for, as composites of existing ops:
// any/all/count_nonzero/aminmax/nansum/nanmean, tile/movedim/swapaxes, diff/cross/take_along_dim,
// the addmm family, floor_divide and the bitwise ops. Tensor methods delegate here. Semantics are
// torch 1.13's (its CPU kernels where the docs say nothing); where the DSL's i32 (torch's int64)
// cannot give torch's value the call is refused, at definition time or, for values only known
// when the code runs, by a run-time check that fails the call as the reference interpreter does.
import { describeValue } from '../ir/print.ts';
import { indexError } from '../ir/ops/rules.ts';
import { fmtShape, normAxis as irNormAxis } from '../ir/types.ts';
import { canonDim, isSymbolic, type Dim } from '../ir/dims.ts';
import { asOperand, asDim, cat, constant, currentScope, describeOperand, full, intScalar, gatherElements, leastSize, leastWhy, ModelDefinitionError, record, scalar, SymSize, Tensor, where, zeros } from './tensor.ts';

type Operand = Tensor | number;
function fail(op: string, msg: string): never { throw new ModelDefinitionError(`${op}: ${msg}${where()}`); }
const desc = (t: unknown): string => describeOperand(t), i32 = (v: number): Tensor => intScalar(v);

/** A dim in [-rank, rank), as an axis, or an error naming the op. */
function axisOf(op: string, d: unknown, rank: number, what = 'dim'): number {
  if (!Number.isInteger(d)) fail(op, `${what} must be an integer, got ${describeValue(d)}`);
  if (rank === 0 ? d !== 0 && d !== -1 : (d as number) < -rank || (d as number) >= rank) fail(op, `${what} ${d as number} is out of range for a tensor of rank ${rank} (expected a dim in [${-Math.max(rank, 1)}, ${Math.max(rank, 1) - 1}])`);
  return rank === 0 ? 0 : irNormAxis(d as number, rank);
}
function tensorArg(op: string, name: string, v: unknown): Tensor {
  if (!(v instanceof Tensor)) fail(op, `${name} must be a tensor, got ${describeValue(v)}`);
  return v as Tensor;
}
function boolArg(op: string, name: string, v: unknown): boolean {
  if (typeof v !== 'boolean') fail(op, `${name} must be true or false, got ${describeValue(v)}`);
  return v as boolean;
}
/** A reduction's dims as torch takes them: undefined (all), one integer, or (with `list`) a list of distinct ones. */
function reduceDims(op: string, x: Tensor, dim: unknown, list: boolean): number[] {
  if (dim === undefined) return [...Array(x.rank).keys()];
  if (Array.isArray(dim)) {
    if (!list) fail(op, `dim must be one integer (torch 1.13's ${op} takes no list of dims), got [${dim.slice(0, 6).map(describeValue).join(', ')}]`);
    if (dim.length === 0) return [...Array(x.rank).keys()];
    const axes = dim.map((d) => axisOf(op, d, x.rank));
    if (new Set(axes).size !== axes.length) fail(op, `dim [${dim.join(', ')}] names a dim twice`);
    return axes;
  }
  return [axisOf(op, dim, x.rank)];
}
/** truth value as torch's bool(): any non-zero value, NaN included. */
const truth = (x: Tensor): Tensor => (x.dtype === 'bool' ? x : x.ne(0));

// ---------------------------------------------------------------- reductions

/**
 * torch.any / all: whole tensor or one dim (keepdim), a bool result for bool, f32 and i32 input;
 * NaN counts as true, −0 as false (tensors here have no empty dims, so no empty reduction).
 */
export function anyAll(op: 'any' | 'all', x: Tensor, dim: unknown, keepdim: unknown): Tensor {
  const axes = reduceDims(op, x, dim, false), keep = boolArg(op, 'keepdim', keepdim);
  if (dim === undefined && keep) fail(op, 'keepdim needs a dim (torch 1.13 reduces the whole tensor to a scalar)');
  if (x.rank === 0) return truth(x);
  const t = truth(x).cast('f32');
  return (op === 'any' ? t.max(axes, keep) : t.min(axes, keep)).gt(0);
}

/** torch.count_nonzero(dim=None | int | list): the i32 count of non-zero elements (NaN counts, −0 does not). */
export function countNonzero(x: Tensor, dim: unknown): Tensor {
  return truth(x).sum(reduceDims('count_nonzero', x, dim, true), false);
}

/** torch.aminmax(*, dim=None, keepdim=False): { min, max } (NaN propagates, as amin/amax). */
export function aminmax(x: Tensor, o: { dim?: number; keepdim?: boolean } = {}): { min: Tensor; max: Tensor } {
  if (typeof o !== 'object' || o === null || o instanceof Tensor || Object.keys(o).some((k) => k !== 'dim' && k !== 'keepdim')) fail('aminmax', `options must be { dim?: number, keepdim?: boolean } (torch's are keyword-only), got ${describeValue(o)}`);
  const keep = boolArg('aminmax', 'keepdim', o.keepdim ?? false), axes = reduceDims('aminmax', x, o.dim, false);
  const v = x.dtype === 'bool' ? x.cast('f32') : x;
  const back = (t: Tensor) => (x.dtype === 'bool' ? t.cast('bool') : t);
  return { min: back(v.amin(axes, keep)), max: back(v.amax(axes, keep)) };
}

/** torch.nansum: the sum with NaN read as 0 (±inf still add up to NaN); bool and i32 sum exactly as i32. */
export function nansum(x: Tensor, dim: unknown, keepdim: unknown): Tensor {
  const axes = reduceDims('nansum', x, dim, true), keep = boolArg('nansum', 'keepdim', keepdim);
  return (x.dtype === 'f32' ? x.maskedFill(x.isnan(), 0) : x).sum(axes, keep);
}

/** torch.nanmean: nansum over the count of non-NaN values (all NaN: 0/0 = NaN); f32 only, as torch. */
export function nanmean(x: Tensor, dim: unknown, keepdim: unknown): Tensor {
  if (x.dtype !== 'f32') fail('nanmean', `expects a floating point input (torch: 'expected input to have floating point dtype'), got ${desc(x)}`);
  const axes = reduceDims('nanmean', x, dim, true), keep = boolArg('nanmean', 'keepdim', keepdim), nan = x.isnan();
  return x.maskedFill(nan, 0).sum(axes, keep).div(nan.logicalNot().sum(axes, keep).cast('f32'));
}

// ---------------------------------------------------------------- shapes

/** torch.tile: reps shorter than the rank padded with 1 in front, longer ones add leading dims (repeat). */
export function tile(x: Tensor, reps: unknown[]): Tensor {
  reps = reps.map(asDim); // a count may be a size chosen at run time, as repeat's
  if (!reps.every((r) => (Number.isInteger(r) && (r as number) >= 1) || (typeof r === 'string' && isSymbolic(r)))) fail('tile', `reps must be positive integers (0 would make an empty tensor, which tensors here cannot be) or sizes chosen at run time, got [${reps.slice(0, 8).map(describeValue).join(', ')}]`);
  const r = reps as number[], full = [...Array(Math.max(0, x.rank - r.length)).fill(1), ...r];
  return full.length ? x.repeat(full) : x;
}

/** torch.movedim / moveaxis: dims `source` (an int or a list) moved to `destination`, the others keeping their order. */
export function movedim(x: Tensor, source: unknown, destination: unknown): Tensor {
  const list = (v: unknown, what: string): number[] => {
    const l = Array.isArray(v) ? v : [v];
    const axes = l.map((d) => axisOf('movedim', d, x.rank, what));
    if (new Set(axes).size !== axes.length) fail('movedim', `repeated dim in ${what} [${l.join(', ')}]`);
    return axes;
  };
  const src = list(source, 'source'), dst = list(destination, 'destination');
  if (src.length !== dst.length) fail('movedim', `source (${src.length} dims) and destination (${dst.length} dims) must name as many dims`);
  const perm: number[] = Array(x.rank).fill(-1);
  src.forEach((s, i) => { perm[dst[i]!] = s; });
  const rest = [...Array(x.rank).keys()].filter((a) => !src.includes(a));
  for (let i = 0, j = 0; i < x.rank; i++) if (perm[i] === -1) perm[i] = rest[j++]!;
  return x.rank ? x.permute(...perm) : x;
}

// ---------------------------------------------------------------- diff, cross, take_along_dim

/**
 * torch.diff(n=1, dim=-1, prepend=None, append=None): n-th forward differences along dim (bool:
 * logical xor), prepend/append concatenated first (same rank, promoted as cat). Over a size chosen
 * at run time the dim must keep at least one element at its least size.
 */
export function diff(x: Tensor, n: unknown, dim: unknown, prepend: unknown, append: unknown): Tensor {
  if (!Number.isInteger(n) || (n as number) < 0) fail('diff', `n must be a non-negative integer (torch: 'order must be non-negative'), got ${describeValue(n)}`);
  if (x.rank === 0) fail('diff', 'expects a tensor of at least one dim, got a scalar');
  const ax = axisOf('diff', dim, x.rank);
  const parts: Tensor[] = [];
  for (const [name, t] of [['prepend', prepend], ['append', append]] as const) {
    if (t === undefined) continue;
    const p = tensorArg('diff', name, t);
    if (p.rank !== x.rank) fail('diff', `${name} ${desc(p)} must have the rank of the input ${desc(x)} (torch: 'diff expects prepend or append to be the same dimension as input')`);
    const bad = p.dims.findIndex((d, i) => i !== ax && canonDim(d) !== canonDim(x.dims[i]!));
    if (bad >= 0) fail('diff', `${name} ${desc(p)} must match the input ${desc(x)} on every dim but ${ax}`);
    parts.push(p);
  }
  let y = parts.length ? cat(prepend === undefined ? [x, ...parts] : append === undefined ? [...parts, x] : [parts[0]!, x, parts[1]!], ax) : x;
  const len = y.dims[ax]!, least = leastSize(len);
  if (least <= (n as number) && (n as number) > 0) {
    fail('diff', `n = ${n as number} differences of dim ${ax} of ${fmtShape(y.dims)}${isSymbolic(len) ? ` (at its least size ${least}: ${leastWhy(len)})` : ''} leave no element (torch gives an empty tensor; a tensor here has no empty dims)`);
  }
  for (let k = 0; k < (n as number); k++) {
    const hi = y.slice(ax, 1), lo = y.slice(ax, 0, -1);
    y = y.dtype === 'bool' ? hi.ne(lo) : hi.sub(lo);
  }
  return y;
}

/**
 * torch.cross (torch 1.13: dim defaults to the first dim of size 3 of the input; both inputs of one
 * rank, broadcast on the other dims, as linalg.cross). Each component a·b − c·d in the operands'
 * dtype, as torch's kernel (i32 wraps as torch's int32 would; int64 would not overflow there).
 */
export function cross(x: Tensor, other: unknown, dim: unknown): Tensor {
  const y = tensorArg('cross', 'other', other);
  if (x.rank !== y.rank) fail('cross', `inputs must have the same number of dimensions (torch: linalg.cross), got ${desc(x)} and ${desc(y)}`);
  if (x.dtype === 'bool' || y.dtype === 'bool') fail('cross', `bool inputs are not supported (torch: 'not implemented for Bool'), got ${desc(x)} and ${desc(y)}`);
  if (x.dtype !== y.dtype) fail('cross', `inputs must have one dtype (torch refuses mixed ones too), got ${desc(x)} and ${desc(y)}`);
  let ax: number;
  if (dim === undefined) {
    ax = x.dims.findIndex((d) => d === 3);
    if (ax < 0) fail('cross', `no dimension of size 3 in input ${desc(x)} (torch 1.13's default dim is the first of size 3)`);
  } else ax = axisOf('cross', dim, x.rank);
  if (x.dims[ax] !== 3 || y.dims[ax] !== 3) fail('cross', `dimension ${ax} must have length 3 in both inputs, got ${desc(x)} and ${desc(y)}`);
  const c = (t: Tensor, i: number) => t.slice(ax, i, i + 1);
  const [a0, a1, a2] = [0, 1, 2].map((i) => c(x, i)) as [Tensor, Tensor, Tensor];
  const [b0, b1, b2] = [0, 1, 2].map((i) => c(y, i)) as [Tensor, Tensor, Tensor];
  return cat([a1.mul(b2).sub(a2.mul(b1)), a2.mul(b0).sub(a0.mul(b2)), a0.mul(b1).sub(a1.mul(b0))], ax);
}

/**
 * torch.take_along_dim(indices, dim): gather along dim after broadcasting input and indices on the
 * other dims; without dim, of the flattened input at the flattened indices. Indices are i32
 * (torch's int64); one outside [0, n) raises (a constant here, a run-time one when the code runs).
 */
export function takeAlongDim(x: Tensor, indices: unknown, dim: unknown): Tensor {
  const idx = tensorArg('take_along_dim', 'indices', indices);
  if (idx.dtype !== 'i32') fail('take_along_dim', `indices must be an i32 tensor (torch's int64), got ${desc(idx)}`);
  if (dim === undefined) return gatherElements(x.reshape(-1), 0, idx.reshape(-1), false);
  if (x.rank !== idx.rank) fail('take_along_dim', `input and indices should have the same number of dimensions, got ${desc(x)} and ${desc(idx)}`);
  const ax = axisOf('take_along_dim', dim, x.rank);
  const dims: Dim[] = x.dims.map((d, i) => {
    const e = idx.dims[i]!;
    if (i === ax || canonDim(d) === canonDim(e) || e === 1) return d;
    if (d === 1) return e;
    return fail('take_along_dim', `input ${desc(x)} and indices ${desc(idx)} do not broadcast at dim ${i} (only dim ${ax} may differ)`);
  });
  const bounds = { ...x.bounds, ...idx.bounds };
  const xe = x.expand(dims.map((d, i) => (i === ax ? x.dims[i]! : d)), bounds), ie = idx.expand(dims.map((d, i) => (i === ax ? idx.dims[i]! : d)), bounds);
  return gatherElements(xe, ax, ie, false);
}

// ---------------------------------------------------------------- addmm family

export interface ScaleOptions { beta?: number; alpha?: number }
/**
 * torch.addmm / addmv / baddbmm / addbmm: beta·input + alpha·product. As torch: input must
 * broadcast to the product's shape and is ignored entirely when beta = 0 (NaN and inf in it
 * included); when alpha = 0 the product is not computed (NaN in the matrices is not propagated:
 * BLAS's rule, which torch 1.13 follows for addmm, addmv and addbmm at every size and for baddbmm
 * from moderate sizes; its small-matrix baddbmm loop gives NaN there). f32 only (the DSL's matmul).
 */
export function addProduct(op: 'addmm' | 'addmv' | 'baddbmm' | 'addbmm', input: unknown, a: unknown, b: unknown, o: ScaleOptions = {}): Tensor {
  if (typeof o !== 'object' || o === null || o instanceof Tensor || Object.keys(o).some((k) => k !== 'beta' && k !== 'alpha')) fail(op, `options must be { beta?: number, alpha?: number } (torch's are keyword-only), got ${describeValue(o)}`);
  const beta = o.beta ?? 1, alpha = o.alpha ?? 1;
  for (const [k, v] of [['beta', beta], ['alpha', alpha]] as const) if (typeof v !== 'number' || Number.isNaN(v)) fail(op, `${k} must be a number, got ${describeValue(v)}`);
  const inp = tensorArg(op, 'input', input), m1 = tensorArg(op, op === 'addmm' ? 'mat1' : op === 'addmv' ? 'mat' : 'batch1', a), m2 = tensorArg(op, op === 'addmm' ? 'mat2' : op === 'addmv' ? 'vec' : 'batch2', b);
  const bad = [inp, m1, m2].find((t) => t.dtype !== 'f32');
  if (bad) fail(op, `f32 tensors only (the DSL's matrix product is f32; torch's integer ${op} has no counterpart here): got input ${desc(inp)}, ${desc(m1)} and ${desc(m2)}; cast them with .float()`);
  const ranks = { addmm: [2, 2], addmv: [2, 1], baddbmm: [3, 3], addbmm: [3, 3] }[op];
  const inner = op === 'addmv' ? 0 : ranks[1]! - 2;
  const ok = m1.rank === ranks[0] && m2.rank === ranks[1] && canonDim(m1.dims[m1.rank - 1]!) === canonDim(m2.dims[inner]!)
    && (op === 'addmm' || op === 'addmv' || canonDim(m1.dims[0]!) === canonDim(m2.dims[0]!));
  const want = { addmm: '[n, m] and [m, p]', addmv: '[n, m] and [m]', baddbmm: '[b, n, m] and [b, m, p]', addbmm: '[b, n, m] and [b, m, p]' }[op];
  if (!ok) fail(op, `expected ${want} tensors, got ${desc(m1)} and ${desc(m2)}`);
  const outDims: Dim[] = op === 'addmm' ? [m1.dims[0]!, m2.dims[1]!] : op === 'addmv' ? [m1.dims[0]!] : op === 'baddbmm' ? [m1.dims[0]!, m1.dims[1]!, m2.dims[2]!] : [m1.dims[1]!, m2.dims[2]!];
  // input broadcasts to the result (never the other way: torch expands input to it).
  const fits = inp.rank <= outDims.length && inp.dims.every((d, i) => d === 1 || canonDim(d) === canonDim(outDims[outDims.length - inp.rank + i]!));
  if (!fits) fail(op, `input ${desc(inp)} does not broadcast to the result ${fmtShape(outDims)}`);
  const bounds = { ...inp.bounds, ...m1.bounds, ...m2.bounds };
  const product = (): Tensor => {
    const p = m1.matmul(m2);
    return op === 'addbmm' ? p.sum(0) : p;
  };
  // BLAS starts from C = 0 when beta = 0: a −0 product comes out +0 (+ 0 keeps every other value).
  if (alpha === 0) return beta === 0 ? zeros(outDims, bounds) : inp.mul(beta).expand(outDims, bounds);
  const scaled = alpha === 1 ? product() : product().mul(alpha);
  if (beta === 0) return scaled.add(0);
  return (beta === 1 ? inp : inp.mul(beta)).add(scaled);
}

// ---------------------------------------------------------------- floor_divide and bitwise ops

/** Two operands as torch promotes them for floor_divide: any f32 makes both f32; bool with i32 is i32; two bools are refused. */
function numericPair(op: string, x: Tensor, other: unknown): [Tensor, Tensor] {
  other = asOperand(other);
  if (typeof other !== 'number' && !(other instanceof Tensor)) fail(op, `expected a tensor or a number, got ${describeValue(other)}`);
  let b = typeof other === 'number' ? (Number.isInteger(other) && other === (other | 0) ? i32(other) : scalar(other)) : other;
  let a = x;
  if (a.dtype === 'bool' && b.dtype === 'bool') fail(op, `bool input is not supported (torch: '"div_floor_cpu" not implemented for 'Bool''), got ${desc(x)}`);
  const to = a.dtype === 'f32' || b.dtype === 'f32' ? 'f32' : 'i32';
  a = a.cast(to); b = b.cast(to);
  return [a, b];
}

/**
 * torch.floor_divide (torch 1.13: rounds down, as Python's //). f32 as torch's kernel: (a −
 * fmod(a, b)) / b, less one where the remainder's sign differs from b's, floored and rounded up
 * when more than ½ below (so 1 // 0.1 = 9, as Python), ±0 with a/b's sign when the quotient is 0,
 * and a/b for b = 0. i32 truncates and steps down where the signs differ and a remainder is left;
 * a zero divisor raises (torch's ZeroDivisionError) when the code runs. −2^31 // −1 wraps to −2^31
 * (torch's int64 gives 2^31; its int32 kernel dies on SIGFPE).
 */
export function floorDivide(x: Tensor, other: unknown): Tensor {
  const [a, b] = numericPair('floor_divide', x, other);
  if (a.dtype === 'i32') {
    if (other === 0) fail('floor_divide', `integer division by zero (torch raises ZeroDivisionError), dividing ${desc(x)}`);
    const q = record('div', [a, b]), r = a.sub(q.mul(b));
    return record('where', [r.ne(0).logicalAnd(a.lt(0).ne(b.lt(0))), q.sub(1), q]);
  }
  const mod = record('fmod', [a, b]);
  let div = a.sub(mod).div(b);
  div = record('where', [mod.ne(0).logicalAnd(b.lt(0).ne(mod.lt(0))), div.sub(1), div]);
  let fl = div.floor();
  fl = record('where', [div.sub(fl).gt(0.5), fl.add(1), fl]);
  const basic = a.div(b);
  fl = record('where', [div.eq(0), basic.mul(0), fl]);
  return record('where', [b.eq(0), basic, fl]);
}

/** The operands of a bitwise op: two i32 or two bool tensors (bool with i32 promotes to i32, a number takes the tensor's kind). */
function bitwisePair(op: string, x: Tensor, other: unknown): [Tensor, Tensor] {
  if (typeof other !== 'number' && typeof other !== 'boolean' && !(other instanceof Tensor)) fail(op, `expected a tensor, a number or a boolean, got ${describeValue(other)}`);
  if (x.dtype === 'f32' || (other instanceof Tensor && other.dtype === 'f32') || (typeof other === 'number' && !Number.isInteger(other))) {
    fail(op, `integer or bool operands only (torch: 'not implemented for 'Float''), got ${desc(x)} and ${desc(other)}`);
  }
  if (typeof other === 'number' && other !== (other | 0)) fail(op, `${other} does not fit the DSL's 32-bit integers`);
  let b: Tensor;
  if (typeof other === 'boolean') b = x.dtype === 'bool' ? constant(Uint8Array.of(other ? 1 : 0), [], 'bool', String(other)) : i32(other ? 1 : 0);
  else if (typeof other === 'number') b = i32(other);
  else b = other;
  const a = b.dtype === 'i32' ? x.cast('i32') : x;
  return [a, b.cast(a.dtype)];
}

export type BitwiseOp = 'and' | 'or' | 'xor';
/**
 * torch.bitwise_and / or / xor: of bools the logical op (a bool), of i32 (torch's int64, its
 * low 32 bits, which these ops never mix) the IR's bitand / bitor / bitxor.
 */
export function bitwise(op: BitwiseOp, x: Tensor, other: unknown): Tensor {
  const [a, b] = bitwisePair(`bitwise_${op}`, x, asOperand(other));
  if (a.dtype === 'bool') return op === 'and' ? a.logicalAnd(b) : op === 'or' ? a.logicalOr(b) : a.logicalXor(b);
  return record(`bit${op}`, [a, b]);
}

/** torch.bitwise_not: ~a = −1 − a of i32 (exact), logical not of bool. */
export function bitwiseNot(x: Tensor): Tensor {
  if (x.dtype === 'f32') fail('bitwise_not', `integer or bool input only (torch: 'not implemented for 'Float''), got ${desc(x)}`);
  return x.dtype === 'bool' ? x.logicalNot() : i32(-1).sub(x);
}

/**
 * torch.bitwise_left_shift / right_shift of i32 (torch's int64): a·2^b modulo 2^32 and ⌊a / 2^b⌋ (the IR's shl, shr),
 * for shifts b in [0, 63], int64's valid range (b ≥ 32 shifts every bit out of the low 32 to the
 * left; to the right it leaves the sign). torch 1.13 leaves a shift outside it to the C++ shift
 * (undefined: its int32 kernel gave 1 << 32 = 1 and 3 << −1 = −2^31), so one is refused: a
 * number here, a run-time shift when the code runs. Bool and f32 are refused, as torch does.
 */
export function shift(dir: 'left' | 'right', x: Tensor, other: unknown): Tensor {
  const op = `bitwise_${dir}_shift`;
  other = asOperand(other);
  if (x.dtype !== 'i32' || (other instanceof Tensor && other.dtype !== 'i32') || (typeof other === 'number' && !Number.isInteger(other))) {
    fail(op, `i32 operands only (torch: '"${dir === 'left' ? 'l' : 'r'}shift_cpu" not implemented' for bool and float), got ${desc(x)} and ${desc(other)}`);
  }
  if (typeof other !== 'number' && !(other instanceof Tensor)) fail(op, `shift must be a tensor or an integer, got ${describeValue(other)}`);
  let b: Tensor;
  if (typeof other === 'number') {
    if (other < 0 || other > 63) fail(op, `shift ${other} is outside [0, 63] (torch 1.13 leaves it undefined)`);
    b = i32(other);
  } else {
    const ok = other.ge(0).logicalAnd(other.le(63));
    b = record('check', [other, ok, other], { error: indexError(op, currentScope() || undefined, 'shift {0} is outside [0, 63] (torch 1.13 leaves it undefined)') });
  }
  // The IR's shl / shr shift every bit out for counts of 32 or more: int64's low 32 bits.
  return record(dir === 'left' ? 'shl' : 'shr', [x, b]);
}

// ---------------------------------------------------------------- new_* constructors

/** torch's x.new_zeros / new_ones / new_full / new_empty(size): of x's dtype (new_empty gives zeros). */
export function newFilled(op: string, x: Tensor, size: unknown[], value: unknown): Tensor {
  const dims = (size.length === 1 && Array.isArray(size[0]) ? size[0] : size).map(asDim) as unknown[];
  if (!dims.length || !dims.every((d) => (Number.isInteger(d) && (d as number) >= 1) || typeof d === 'string')) fail(op, `size must be positive integers or size names (at least one; tensors here have no empty dims), got [${dims.slice(0, 8).map(describeValue).join(', ')}]`);
  // A run-time size as the value (ESPnet's x.new_full((B,), x.size(1))): the size, of x's dtype.
  if (value instanceof SymSize) return full(dims as Dim[], value as unknown as number, x.bounds).cast(x.dtype);
  if (typeof value !== 'number') fail(op, `fill value must be a number, got ${describeValue(value)}`);
  const v = x.dtype === 'i32' ? Math.trunc(value as number) : x.dtype === 'bool' ? Number(value !== 0) : (value as number);
  if (x.dtype === 'i32' && !(v >= -(2 ** 31) && v < 2 ** 31)) fail(op, `${value as number} does not fit the i32 tensor (torch: 'value cannot be converted to type int without overflow')`);
  // One value of x's dtype, broadcast (an f32 fill cast to i32 lost bits above 2^24).
  const shape = dims as Dim[], data = x.dtype === 'f32' ? Float32Array.of(v) : x.dtype === 'i32' ? Int32Array.of(v) : Uint8Array.of(v);
  return constant(data, shape.map(() => 1), x.dtype, String(v)).expand(shape, x.bounds);
}

/** torch.addmm / addmv / baddbmm / addbmm as functions (input first). */
export const addmm = (input: Tensor, mat1: Tensor, mat2: Tensor, o: ScaleOptions = {}): Tensor => addProduct('addmm', input, mat1, mat2, o);
export const addmv = (input: Tensor, mat: Tensor, vec: Tensor, o: ScaleOptions = {}): Tensor => addProduct('addmv', input, mat, vec, o);
export const baddbmm = (input: Tensor, batch1: Tensor, batch2: Tensor, o: ScaleOptions = {}): Tensor => addProduct('baddbmm', input, batch1, batch2, o);
export const addbmm = (input: Tensor, batch1: Tensor, batch2: Tensor, o: ScaleOptions = {}): Tensor => addProduct('addbmm', input, batch1, batch2, o);
