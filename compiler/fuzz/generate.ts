// Random valid graphs for differential fuzzing, built through the DSL's tensor API from a
// seeded PRNG: elementwise chains with broadcasting (keepdim reductions broadcast back onto
// their input), reductions, matmul by constant weights with bias and activation (so epilogue
// fusion fires), softmax, layernorm (also of a sum, for residual fusion), reshape / transpose /
// slice / concat, where, persistent state (including swaps and cycles of state writes) and
// in-place cache writes read before and after. Sizes are tiny and odd (1, 2, 3, 4, 5, 8, 17);
// some inputs hold NaN, ±Inf or -0. Each case also keeps a DSL transcript for the report.
// Large cases (thread fuzzing) reach the split thresholds, draw the moves threads split three
// times as often, and add conv2d and nn.RNN / GRU / LSTM layers. About a third of the cases run
// a counted loop (`loop`), sometimes nested, drawn from a PRNG of its own so that the cases
// without one are the graphs they were before loops were fuzzed. Sized cases (`sized`) give
// the inputs named sizes and make each call at sizes of its own; a case that is not sized draws
// exactly what it drew before they existed.

import { conv2d, embedding, scaledDotProductAttention, whereOp } from '../dsl/functional.ts';
import { GRU, LSTM, RNN } from '../dsl/recurrent.ts';
import { loop } from '../dsl/control.ts';
import { cat, constant, record, traceBounds, type Tensor } from '../dsl/tensor.ts';
import { traceEntry, type InputSpecs } from '../dsl/trace.ts';
import type { Graph } from '../ir/node.ts';
import { evalDim, type Dim, type Sizes } from '../ir/dims.ts';
import { instantiate } from '../ir/symbolic.ts';
import { broadcastShapes, numel, sameShape, type AnyTensorData, type TensorType } from '../ir/types.ts';
import type { Feeds } from '../reference/interpret.ts';
import { BIG, broadcastable, Builder, coerce, factorShape, fmt, hasNamed, keepLead, leadFits, MAX_RANK, named, randShape, seedParameters, SMALL, type Item, type Move } from './builder.ts';
import { mathMoves } from './math-ops.ts';
import { asF32, bitwiseMove, moreMoves } from './more-ops.ts';
import { Prng } from './prng.ts';

export interface StateSpec { name: string; type: TensorType }

export interface FuzzCase {
  seed: number;
  /** The traced, unoptimised graph: the reference interpreter runs it as the oracle. */
  traced: Graph;
  state: StateSpec[];
  /** State before the first call (never all zeros, so a wrong write order shows). */
  initialState: Record<string, AnyTensorData>;
  /** Inputs of each call; stateful cases make two calls. */
  steps: Feeds[];
  /** What the case exercises (move names), for the summary. */
  features: string[];
  /** The graph as DSL code, one line per recorded value. */
  program: string[];
  /** Whether any input or initial state holds NaN or ±Inf. */
  special: boolean;
  /** A case with named sizes (`generate(seed, { sized: true })`): the sizes of each call, one per step. */
  sizes?: Sizes[];
}

const UNARY = ['relu', 'tanh', 'sigmoid', 'exp', 'neg', 'abs', 'erf', 'gelu', 'log', 'sqrt', 'rsqrt'] as const;
const BINARY = ['add', 'sub', 'mul', 'div', 'maximum', 'minimum', 'pow'] as const;
type Bin = (typeof BINARY)[number];

/** a op b, with the right operand guarded so the result stays in the op's domain (div by |b|+0.5, pow of |a|+0.1). */
function binary(op: Bin, a: Item, b: Item | number): { t: Tensor; code: string } {
  const bt = typeof b === 'number' ? b : b.t, bn = typeof b === 'number' ? String(b) : b.name;
  switch (op) {
    case 'div': return typeof bt === 'number'
      ? { t: a.t.div(bt), code: `${a.name}.div(${bn})` }
      : { t: a.t.div(bt.abs().add(0.5)), code: `${a.name}.div(${bn}.abs().add(0.5))` };
    case 'pow': return typeof bt === 'number'
      ? { t: a.t.abs().add(0.1).pow(bt), code: `${a.name}.abs().add(0.1).pow(${bn})` }
      : { t: a.t.abs().add(0.1).pow(bt.tanh()), code: `${a.name}.abs().add(0.1).pow(${bn}.tanh())` };
    default: return { t: a.t[op](bt), code: `${a.name}.${op}(${bn})` };
  }
}

function unary(b: Builder, x: Item): void {
  const op = b.r.pick(UNARY);
  const t = x.t, n = x.name;
  const [y, code] = op === 'log' ? [t.abs().add(1).log(), `${n}.abs().add(1).log()`]
    : op === 'sqrt' ? [t.abs().sqrt(), `${n}.abs().sqrt()`]
    : op === 'rsqrt' ? [t.abs().add(0.5).rsqrt(), `${n}.abs().add(0.5).rsqrt()`]
    : op === 'exp' ? [t.tanh().mul(4).exp(), `${n}.tanh().mul(4).exp()`]
    : [t[op](), `${n}.${op}()`];
  b.add(y, code, x.exact && (op === 'relu' || op === 'neg' || op === 'abs'));
  b.features.add('unary');
}

function binaryMove(b: Builder, a: Item): void {
  const r = b.r, op = r.pick(BINARY);
  const partners = b.pool.filter((p) => p.t.dtype === 'f32' && p !== a && broadcastShapes(p.t.dims, a.t.dims) && numel(broadcastShapes(p.t.maxShape, a.t.maxShape)!) <= b.scale.maxNumel);
  const other: Item | number = r.weighted<() => Item | number>([
    [partners.length ? 4 : 0, () => r.pick(partners)],
    [3, () => b.const(broadcastable(r, a.t.maxShape, a.t.dims))],
    [2, () => r.pick([2, -1, 0.5, 3, 1.5])],
    [1, () => a],
  ])();
  const swap = typeof other !== 'number' && r.chance(0.4);
  const { t, code } = swap ? binary(op, other, a) : binary(op, a, other);
  b.add(t, code, a.exact && (typeof other === 'number' || other.exact) && ['add', 'sub', 'mul', 'maximum', 'minimum'].includes(op));
  b.features.add(typeof other !== 'number' && !sameShape(typeof other === 'number' ? [] : other.t.dims, a.t.dims) ? 'broadcast' : 'binary');
}

/** r.mean(axes, true) (or sum/max) through a short chain, combined back with r: the in-place broadcast hazard. */
function broadcastBack(b: Builder, x: Item): void {
  const r = b.r, rank = x.t.rank;
  if (rank === 0) return unary(b, x);
  let axes = [...Array(rank).keys()].filter(() => r.chance(0.5));
  if (axes.length === 0) axes = [rank - 1];
  const kind = r.pick(['mean', 'sum', 'max'] as const);
  const neg = axes.length === 1 && r.chance(0.5);
  const ax = neg ? [axes[0]! - rank] : axes;
  let red = x.t[kind](ax.length === 1 ? ax[0]! : ax, true);
  let code = `${x.name}.${kind}(${ax.length === 1 ? ax[0] : `[${ax.join(', ')}]`}, true)`;
  for (let k = r.int(0, 2); k > 0; k--) {
    const f = r.pick(['mul(-1)', 'add(0.5)', 'relu()', 'neg()', 'tanh()'] as const);
    red = f === 'mul(-1)' ? red.mul(-1) : f === 'add(0.5)' ? red.add(0.5) : f === 'relu()' ? red.relu() : f === 'neg()' ? red.neg() : red.tanh();
    code += `.${f}`;
  }
  const op = r.pick(['add', 'sub', 'mul', 'maximum', 'minimum'] as const);
  const [t, c] = r.chance(0.5) ? [red[op](x.t), `${code}.${op}(${x.name})`] : [x.t[op](red), `${x.name}.${op}(${code})`];
  b.add(t, c);
  b.features.add('broadcast-back');
}

function reduceMove(b: Builder, x: Item): void {
  const r = b.r, rank = x.t.rank;
  if (rank === 0) return unary(b, x);
  const exact = b.pick((it) => it.exact && it.t.dtype === 'f32' && it.t.rank > 0);
  if (exact && r.chance(0.25)) {
    const d = r.int(-exact.t.rank, exact.t.rank - 1), keep = r.chance(0.5);
    const am = b.add(exact.t.argmax(d, keep), `${exact.name}.argmax(${d}, ${keep})`, true);
    if (r.chance(0.5)) b.add(am.t.float(), `${am.name}.float()`, true);
    b.features.add('argmax');
    return;
  }
  const kind = r.pick(['sum', 'mean', 'max'] as const), keep = r.chance(0.4);
  const all = r.chance(0.15);
  let axes = [...Array(rank).keys()].filter(() => r.chance(0.4));
  if (axes.length === 0) axes = [r.int(0, rank - 1)];
  const t = all ? x.t[kind]() : x.t[kind](axes, keep);
  b.add(t, all ? `${x.name}.${kind}()` : `${x.name}.${kind}([${axes.join(', ')}], ${keep})`, kind === 'max' && x.exact);
  b.features.add('reduce');
}

function matmulMove(b: Builder, x: Item): void {
  const r = b.r;
  if (x.t.rank >= 2 && r.chance(0.2)) {
    b.add(x.t.matmul(x.t.mT), `${x.name}.matmul(${x.name}.mT)`);
    b.features.add('matmul');
    return;
  }
  const xs = x.t.rank === 0 ? { t: x.t.reshape(1), name: `${x.name}.reshape(1)`, exact: x.exact } : x;
  if (named(xs.t.dim(-1))) return unary(b, x); // a constant weight has a fixed number of rows
  const k = xs.t.maxSize(-1), n = r.weighted(b.scale.cols);
  if (numel(xs.t.maxShape) / k * n > b.scale.maxNumel) return unary(b, x);
  const transposed = r.chance(0.5);
  const w = b.const(transposed ? [n, k] : [k, n]);
  let t = xs.t.matmul(transposed ? w.t.mT : w.t);
  let code = `${xs.name}.matmul(${w.name}${transposed ? '.mT' : ''})`;
  if (r.chance(0.6)) {
    const bias = b.const(r.chance(0.7) ? [n] : [1, n]);
    if (r.chance(0.7)) { t = t.add(bias.t); code += `.add(${bias.name})`; } else { t = bias.t.add(t); code = `${bias.name}.add(${code})`; }
  }
  if (r.chance(0.6)) { const a = r.pick(['relu', 'sigmoid', 'tanh', 'gelu'] as const); t = t[a](); code += `.${a}()`; }
  b.add(t, code);
  b.features.add('gemm');
}

function softmaxMove(b: Builder, x: Item): void {
  if (x.t.rank === 0) return unary(b, x);
  const d = b.r.int(-x.t.rank, x.t.rank - 1), log = b.r.chance(0.4);
  b.add(log ? x.t.logSoftmax(d) : x.t.softmax(d), `${x.name}.${log ? 'logSoftmax' : 'softmax'}(${d})`);
  b.features.add('softmax');
}

function layernormMove(b: Builder, x: Item): void {
  if (x.t.rank === 0 || named(x.t.dim(-1))) return unary(b, x);
  const r = b.r, n = x.t.maxSize(-1);
  const g = b.const([n]), be = b.const([n]);
  let src = x.t, code = x.name;
  if (r.chance(0.5)) {
    const same = b.pool.filter((p) => p !== x && p.t.dtype === 'f32' && sameShape(p.t.dims, x.t.dims));
    const p = same.length && r.chance(0.7) ? r.pick(same) : b.const(x.t.dims.map((d, i) => (named(d) ? 1 : x.t.maxShape[i]!)));
    src = x.t.add(p.t); code = `${x.name}.add(${p.name})`;
    b.features.add('layernorm-residual');
  }
  b.add(record('layernorm', [src, g.t, be.t], { eps: 1e-5 }), `layernorm(${code}, ${g.name}, ${be.name})`);
  b.features.add('layernorm');
}

function shapeMove(b: Builder, x: Item): void {
  const r = b.r, t = x.t, rank = t.rank;
  const kind = r.weighted([[2, 'reshape'], [rank >= 2 ? 2 : 0, 'transpose'], [t.maxShape.some((d, i) => d >= 2 && !named(t.dims[i]!)) ? 2 : 0, 'slice'], [rank >= 1 ? 2 : 0, 'concat']] as const);
  b.features.add(kind);
  if (kind === 'reshape' && hasNamed(t)) {
    // The named sizes kept, in order, at random places among the factors of the rest.
    const s: Dim[] = factorShape(r, numel(t.dims.map((d, i) => (named(d) ? 1 : t.maxShape[i]!))), r.int(0, 3));
    for (const d of t.dims.filter(named)) s.splice(r.int(0, s.length), 0, d);
    b.add(t.reshape(...s), `${x.name}.reshape(${s.map((d) => (named(d) ? `'${d}'` : d)).join(', ')})`, x.exact);
  } else if (kind === 'reshape') {
    const s = factorShape(r, numel(t.maxShape), r.int(0, 4));
    b.add(t.reshape(...s), `${x.name}.reshape(${s.join(', ')})`, x.exact);
  } else if (kind === 'transpose') {
    const p = r.shuffle([...Array(rank).keys()]);
    b.add(t.permute(...p), `${x.name}.permute(${p.join(', ')})`, x.exact);
  } else if (kind === 'slice') {
    const axes = [...Array(rank).keys()].filter((a) => t.maxShape[a]! >= 2 && !named(t.dims[a]!));
    const a = r.pick(axes), d = t.maxShape[a]!;
    const start = r.int(0, d - 1), end = r.int(start + 1, d), step = r.pick([1, 1, 2, 3]);
    const st = r.chance(0.3) ? start - d : start;
    b.add(t.slice(a, st, end, step), `${x.name}.slice(${a}, ${st}, ${end}, ${step})`, x.exact);
  } else {
    const a = r.int(0, rank - 1);
    const fits = b.pool.filter((p) => p.t.dtype === t.dtype && p.t.rank === rank && p.t.dims.every((d, i) => i === a || d === t.dims[i]));
    const parts = [x, r.pick(fits)];
    if (r.chance(0.3)) parts.push(r.pick(fits));
    const ps = r.shuffle(parts);
    const out = cat(ps.map((p) => p.t), a);
    if (numel(out.maxShape) > b.scale.maxNumel) return;
    b.add(out, `cat([${ps.map((p) => p.name).join(', ')}], ${a})`, ps.every((p) => p.exact));
  }
}

function whereMove(b: Builder, x: Item): void {
  const r = b.r, c = b.const(broadcastable(r, x.t.maxShape, x.t.dims), 'bool');
  const other: Item | number = r.chance(0.5) ? r.pick([0, -1, 2.5]) : b.const(broadcastable(r, x.t.maxShape, x.t.dims));
  const on = typeof other === 'number' ? String(other) : other.name, ot = typeof other === 'number' ? other : other.t;
  const [t, code] = r.chance(0.5) ? [whereOp(c.t, x.t, ot), `where(${c.name}, ${x.name}, ${on})`] : [whereOp(c.t, ot, x.t), `where(${c.name}, ${on}, ${x.name})`];
  b.add(t, code, x.exact && (typeof other === 'number' || other.exact));
  b.features.add('where');
}

/** x.dynamicSlice / x.dynamicUpdate at run-time index `idx` (0 or 1), sizes that fit either way. */
function dynamicMove(b: Builder, x: Item): void {
  const r = b.r, axes = [...Array(x.t.rank).keys()].filter((a) => x.t.maxShape[a]! >= 2 && !named(x.t.dims[a]!));
  if (!b.idx || axes.length === 0) return unary(b, x);
  const a = r.pick(axes), size = r.int(1, x.t.maxShape[a]! - 1);
  // An update is a constant: it cannot take a named size's extent.
  if (r.chance(0.5) || hasNamed(x.t)) {
    b.add(x.t.dynamicSlice(a, b.idx, size), `${x.name}.dynamicSlice(${a}, idx, ${size})`, x.exact);
    b.features.add('dynamic_slice');
  } else {
    const u = b.const(x.t.maxShape.map((d, i) => (i === a ? size : d)));
    b.add(x.t.dynamicUpdate(a, b.idx, u.t), `${x.name}.dynamicUpdate(${a}, idx, ${u.name})`, x.exact);
    b.features.add('dynamic_update');
  }
}

/**
 * Indices computed inside the graph (cases drawn with `indexed`): an i32 table's rows looked up by
 * `ids` (values −1…5), or an argmax. The compiled code checks these itself, as the reference does.
 */
function computedIds(b: Builder): { t: Tensor; name: string } {
  const x = b.pick((it) => it.t.dtype === 'f32' && it.t.rank >= 1 && !named(it.t.dim(-1)));
  if (x && b.r.chance(0.5)) {
    const am = x.t.argmax(-1, false);
    b.line(`i${b.pool.length} = ${x.name}.argmax(-1, false)  // i32${fmt(am.dims)}`);
    return { t: am, name: `i${b.pool.length}` };
  }
  const shape = [b.r.int(2, 6), b.r.int(1, 2)];
  const data = Int32Array.from({ length: numel(shape) }, () => b.r.int(-1, 5));
  const t = embedding(b.ids!, constant(data, shape, 'i32', 'itable'));
  b.line(`i${b.pool.length} = embedding(ids, itable)  // itable i32${fmt(shape)} = [${data.join(', ')}]`);
  return { t, name: `i${b.pool.length}` };
}

/** Rows 0 or 1 of a table (a constant, or a value with at least two rows), picked by `ids`. */
function gatherMove(b: Builder, x: Item): void {
  if (!b.ids) return unary(b, x);
  if (b.indexed && b.r.chance(0.6)) {
    const ids = computedIds(b);
    // The result has the ids' dims and the table's but its first: an argmax of a value looked up
    // in that value adds rank - 2 dims, and twice over made 18 (seed 1351, past an artifact's 8).
    const fits = ids.t.rank + x.t.rank - 1 <= MAX_RANK;
    const table = x.t.rank >= 1 && !named(x.t.dim(0)) && b.r.chance(0.5) && fits ? x : b.const([b.r.int(1, 6), b.r.weighted(b.scale.dims)]);
    b.add(embedding(ids.t, table.t), `embedding(${ids.name}, ${table.name})`, table.exact);
    b.features.add('gather-computed');
    return;
  }
  // A table with a named number of rows (sized cases) may have one row at run time: the ids are then all 0.
  const table = x.t.rank >= 1 && x.t.maxShape[0]! >= 2 && (b.sized || !named(x.t.dim(0))) && b.r.chance(0.6) ? x : b.const([2 + b.r.int(0, 3), b.r.weighted(b.scale.dims)]);
  if (named(table.t.dim(0))) b.namedTable = true;
  b.add(embedding(b.ids, table.t), `embedding(ids, ${table.name})`, table.exact);
  b.features.add('gather');
}

/** A batched matmul of two values, batch dimensions broadcast. */
function batchedMatmul(b: Builder, x: Item): void {
  const r = b.r;
  if (x.t.rank < 2 || named(x.t.dim(-1))) return matmulMove(b, x);
  const k = x.t.maxSize(-1), n = r.weighted(b.scale.cols);
  const batch = broadcastable(r, x.t.maxShape.slice(0, -2), x.t.dims.slice(0, -2));
  const y = b.const([...batch, k, n]);
  const direct = r.chance(0.5);
  const t = direct ? x.t.matmul(y.t) : y.t.mT.matmul(x.t.mT);
  if (numel(t.maxShape) > b.scale.maxNumel) return;
  b.add(t, direct ? `${x.name}.matmul(${y.name})` : `${y.name}.mT.matmul(${x.name}.mT)`);
  b.features.add('batched-matmul');
}

/** F.scaledDotProductAttention on q/k/v [B, H, L, d] made from pool values: the fused kernel, maybe masked or causal. */
function attentionMove(b: Builder, x: Item): void {
  const r = b.r, a = b.scale.attention, B = r.pick(a.B), H = r.pick(a.H), L = r.pick(a.L), S = r.pick(a.L);
  const d = r.pick(a.d), dv = r.chance(0.7) ? d : r.pick(a.dv);
  const lead = [[H, L, d], [H, S, d], [H, S, dv]].every((rest) => leadFits(b, x, rest)) ? keepLead(b, x, [H, L, d]) : undefined;
  const q = lead ?? coerce(b, x, [B, H, L, d]);
  const k = lead ? keepLead(b, x, [H, S, d])! : coerce(b, b.pick()!, [B, H, S, d]), v = lead ? keepLead(b, x, [H, S, dv])! : coerce(b, b.pick()!, [B, H, S, dv]);
  const causal = r.chance(0.3);
  let mask: Item | undefined;
  if (r.chance(0.3)) {
    // A boolean mask (true = not attended) that leaves key 0 to every query: no row is fully masked.
    const shape = r.chance(0.5) ? [L, S] : [lead ? 1 : B, 1, L, S];
    const data = Uint8Array.from({ length: numel(shape) }, (_, i) => (i % S === 0 ? 0 : r.chance(0.4) ? 1 : 0));
    const name = `m${b.pool.length}`;
    b.line(`${name} = const bool${fmt(shape)}`);
    mask = { t: constant(data, shape, 'bool', name), name, exact: true };
  }
  // A mask and isCausal together are refused, as PyTorch refuses them: the mask wins the draw.
  const t = scaledDotProductAttention(q.t, k.t, v.t, mask ? { attnMask: mask.t } : { isCausal: causal });
  b.add(t, `F.scaledDotProductAttention(${q.name}, ${k.name}, ${v.name}, { ${mask ? `attnMask: ${mask.name}` : `isCausal: ${causal}`} })`);
  b.features.add('attention');
}

/** F.conv2d of a value made [N, C, H, W] by a constant kernel: odd sizes, strides, padding, dilation, groups. */
function convMove(b: Builder, x: Item): void {
  const r = b.r, groups = r.pick([1, 1, 1, 2]);
  const N = r.pick([1, 2]), C = groups * r.pick([1, 3, 8]), H = r.pick([5, 8, 17]), W = r.pick([5, 8, 17]), CO = groups * r.pick([1, 4, 16, 33]);
  const k = [r.pick([1, 3]), r.pick([1, 3])], stride = r.pick([1, 1, 2]), padding = r.pick([0, 1]), dilation = r.pick([1, 1, 2]);
  if (k.some((kk, i) => [H, W][i]! + 2 * padding < dilation * (kk - 1) + 1)) return unary(b, x);
  const xin = keepLead(b, x, [C, H, W]) ?? coerce(b, x, [N, C, H, W]), w = b.const([CO, C / groups, k[0]!, k[1]!]), bias = r.chance(0.6) ? b.const([CO]) : undefined;
  const o = { stride, padding, dilation, groups };
  b.add(conv2d(xin.t, w.t, bias?.t, o), `F.conv2d(${xin.name}, ${w.name}, ${bias?.name ?? 'undefined'}, ${JSON.stringify(o)})`);
  b.features.add('conv2d');
}

/** nn.RNN / GRU / LSTM (batch first) over a value made [B, T, I], weights from the case's PRNG: y or the last h. */
function recurrentMove(b: Builder, x: Item): void {
  const r = b.r, kind = r.pick(['RNN', 'GRU', 'LSTM'] as const);
  const B = r.pick([1, 2, 3]), T = r.pick([1, 3, 8]), I = r.pick([3, 17, 33]), H = r.pick([17, 33, 64, 130]);
  const opts = { batchFirst: true, numLayers: r.pick([1, 1, 2]), bidirectional: r.chance(0.3), ...(kind === 'RNN' && r.chance(0.5) ? { nonlinearity: 'relu' as const } : {}) };
  const m = kind === 'LSTM' ? new LSTM(I, H, opts) : kind === 'GRU' ? new GRU(I, H, opts) : new RNN(I, H, opts);
  seedParameters(m, r, 1, H);
  // Sized: the named size as the batch, or as the time axis (a run of that many steps).
  const lead = b.sized && r.chance(0.5) ? keepLead(b, x, [T, I]) : undefined, time = lead ? undefined : keepLead(b, x, [B, I]);
  const xin = lead ?? (time ? b.add(time.t.permute(1, 0, 2), `${time.name}.permute(1, 0, 2)`) : coerce(b, x, [B, T, I]));
  const last = r.chance(0.3);
  // [y, h_n], or for an LSTM [y, [h_n, c_n]].
  const [y, state] = (m as RNN).call(xin.t) as [Tensor, Tensor | [Tensor, Tensor]];
  const hn = Array.isArray(state) ? state[0] : state;
  b.add(last ? hn : y, `nn.${kind}(${I}, ${H}, ${JSON.stringify(opts)}).call(${xin.name})${!last ? '[0]' : kind === 'LSTM' ? '[1][0]' : '[1]'}`);
  b.features.add(kind.toLowerCase());
}

/**
 * loop(steps, carried, body): each step a short random chain of moves over the carried values,
 * t (as a float) and values of the enclosing graph (captured), maybe another loop; the next
 * carried values are computed, unchanged, or each other (a swap); the emitted values come out
 * stacked along the first or the last axis. From a PRNG of their own (`b.loopKinds`, so a loop
 * without them is the one drawn before): t walking backward (reverse) sometimes, and outside loop
 * bodies of a case with named sizes, a count chosen at run time (a size, or one more).
 */
function loopMove(b: Builder, x: Item): void {
  const r = b.r, fixed = r.pick([1, 2, 3, 5]), kinds = b.loopKinds, bounds = traceBounds(), sizes = Object.keys(bounds).sort();
  const steps: Dim = kinds && b.depth === 0 && sizes.length && kinds.chance(0.5) ? kinds.pick([...sizes, `${sizes[0]}+1`]) : fixed;
  const reverse = kinds?.chance(0.3) ?? false, stepsAtBound = evalDim(steps, bounds);
  const first = x.t.rank <= 2 || numel(x.t.maxShape) <= b.scale.maxNumel / 8 ? x : coerce(b, x, randShape(r, b.scale, 1));
  const second = r.chance(0.4) ? b.pick((it) => it.t.dtype === 'f32' && numel(it.t.maxShape) <= b.scale.maxNumel / 2) : undefined;
  const init = second ? [first, second] : [first];
  const names = init.map((_, i) => `h${i}`);
  const mark = b.pool.length, lastAxis = r.chance(0.3);
  b.line(`loop(${JSON.stringify(steps)}, { ${names.map((k, i) => `${k}: ${init[i]!.name}`).join(', ')} }, ({ ${names.join(', ')} }, t) => {`);
  let emitted: Item[] = [];
  const out = loop(steps, Object.fromEntries(names.map((k, i) => [k, init[i]!.t])), (carried, t) => {
    b.depth++;
    const cs = names.map((k) => b.add(carried[k]!, `carried ${k}`));
    if (r.chance(0.5)) b.add(t.float().mul(0.5), 't.float().mul(0.5)', true);
    // Run-time indices in the body: sometimes the step itself (past a small value's end, clamped).
    const idx = b.idx;
    if (r.chance(0.5)) { b.idx = t; b.line('idx = t'); }
    for (let m = r.int(1, 4); m > 0; m--) {
      const y = b.pick()!;
      if (b.depth < 2 && r.chance(0.1)) loopMove(b, y); else r.weighted(b.moves)(b, y);
      b.after?.();
    }
    const next = cs.map((c, i) => {
      // A carried value keeps its type, named sizes included (a sized case's loop).
      const same = cs.filter((o) => o !== c && sameShape(o.t.dims, c.t.dims));
      const how = r.weighted([[1, 'keep'], [same.length ? 1 : 0, 'other'], [5, 'new']] as const);
      const fresh = () => b.pick((it) => b.pool.indexOf(it) >= mark && it.t.dtype === c.t.dtype && sameShape(it.t.dims, c.t.dims))
        ?? (hasNamed(c.t) ? b.add(c.t.tanh(), `${c.name}.tanh()`) : coerce(b, b.pick()!, c.t.maxShape));
      const v = how === 'keep' ? c : how === 'other' ? r.pick(same) : fresh();
      b.line(`next ${names[i]} = ${v.name}`);
      return v;
    });
    // What is emitted: the last value and maybe another of the body's, each small enough to stack.
    const own = b.pool.slice(mark);
    emitted = [own[own.length - 1]!, ...(r.chance(0.4) ? [r.pick(own)] : [])]
      .map((e) => (numel(e.t.maxShape) * stepsAtBound <= b.scale.maxNumel ? e : e.t.dtype === 'f32' ? b.add(e.t.mean(), `${e.name}.mean()`) : b.add(e.t.float().mean(), `${e.name}.float().mean()`)))
      .filter((e, i, es) => !lastAxis || e.t.rank === es[0]!.t.rank); // one axis for all: the first's last
    b.line(`emit ${emitted.map((e) => e.name).join(', ')}`);
    b.idx = idx;
    b.depth--;
    return { next: Object.fromEntries(names.map((k, i) => [k, next[i]!.t])), emit: Object.fromEntries(emitted.map((e, i) => [`e${i}`, e.t])) };
  }, { axis: lastAxis ? -1 : 0, ...(reverse ? { reverse } : {}) });
  b.pool.length = mark;
  const opts = [...(lastAxis ? ['axis: -1'] : []), ...(reverse ? ['reverse: true'] : [])];
  b.line(`}${opts.length ? `, { ${opts.join(', ')} }` : ''})`);
  emitted.forEach((_, i) => b.add(out[`e${i}`]!, `loop → e${i}`));
  b.features.add(b.depth > 0 ? 'loop-nested' : 'loop');
  if (reverse) b.features.add('loop-reverse');
  if (typeof steps === 'string') b.features.add('loop-run-time-count');
}

const MOVES = [[3, unary], [3, binaryMove], [3, broadcastBack], [2, reduceMove], [2, matmulMove], [1, softmaxMove], [1.5, layernormMove], [2, shapeMove], [1, whereMove], [1, dynamicMove], [0.7, gatherMove], [0.7, batchedMatmul], [0.8, attentionMove]] as const;
/** Large cases: the moves threads split, three times as often. */
const SPLIT_MOVES = new Set<unknown>([matmulMove, layernormMove, batchedMatmul, attentionMove]);
const BIG_MOVES = [...MOVES.map(([w, f]) => [SPLIT_MOVES.has(f) ? 3 * w : w, f] as const), [2, convMove] as const, [2, recurrentMove] as const];

function fill(r: Prng, t: TensorType, special: boolean): AnyTensorData {
  const n = numel(t.shape);
  const scale = r.pick([1, 1, 2, 0.25]);
  const d = Float32Array.from({ length: n }, () => r.normal() * scale);
  if (special) for (let k = r.int(1, 2); k > 0; k--) d[r.int(0, n - 1)] = r.pick([NaN, Infinity, -Infinity, -0]);
  return d;
}

/**
 * `loops: false`: no loop moves, the graphs the generator made before loops were fuzzed (the seeds
 * that witnessed older defects). `sized`: the first input's leading axis is a named size N (and
 * sometimes its second, T, or its last, L), and so is each other input's axis that broadcasts onto it unchanged;
 * the case makes two or three calls, each at sizes of its own (1, the bound, or between), on one
 * model, so a call at a smaller size also runs over what a larger one left. Its loops carry
 * values of named sizes too (a carried value's next keeps its dims).
 * `indexed`: every case takes `ids` and `idx`, and gathers (some by indices the graph computes)
 * and dynamic slices and updates are frequent (for index fuzzing, wildIndices).
 */
/**
 * `moves`: the most moves a case draws (default 12; the fewest is 3). A case drawn with more is the
 * same draw with a longer graph: more values alive at once for the planner to place and reuse.
 */
export function generate(seed: number, o: { big?: boolean; loops?: boolean; sized?: boolean; indexed?: boolean; moves?: number; more?: boolean; math?: boolean; bits?: boolean; loopKinds?: boolean } = {}): FuzzCase {
  const r = new Prng(seed), scale = o.big ? BIG : SMALL;
  const b = new Builder(r, scale, MOVES);
  // Inputs: the first has a random shape; the others often broadcast to it.
  const x0 = randShape(r, scale);
  const bounds: Record<string, number> = {}, axisNames: (string | undefined)[] = [];
  if (o.sized) {
    if (x0.length === 0) x0.push(1);
    axisNames.push('N');
    if (x0.length >= 3 && r.chance(0.4)) axisNames.push('T');
    axisNames.forEach((n, a) => { if (x0[a] === 1) x0[a] = r.pick([2, 3, 5]); bounds[n!] = x0[a]!; });
    // The last axis named too, one case in three of rank 2 or more (its own PRNG: the cases
    // without it draw what they drew before).
    const lr = new Prng(seed + 0x68e31da5);
    if (x0.length >= 2 && axisNames[x0.length - 1] === undefined && lr.chance(1 / 3)) {
      if (x0[x0.length - 1] === 1) x0[x0.length - 1] = lr.pick([2, 3, 5]);
      axisNames[x0.length - 1] = 'L';
      bounds.L = x0[x0.length - 1]!;
    }
  }
  const names = axisNames.filter((n) => n !== undefined);
  /** A shape aligned to x0 on the right, its axes over x0's named ones given their names when of the same extent. */
  const withNames = (s: number[]): InputSpecs[string] => {
    const at = x0.length - s.length, dims = s.map((d, i) => (axisNames[at + i] !== undefined && d === x0[at + i] ? axisNames[at + i]! : d));
    return dims.some(named) ? { shape: dims, max: Object.fromEntries(dims.filter(named).map((n) => [n, bounds[n]!])) } : s;
  };
  const inputs: InputSpecs = { x: withNames(x0) };
  for (let i = 1, k = r.int(0, 2); i <= k; i++) inputs[`x${i}`] = r.chance(0.6) ? withNames(broadcastable(r, x0)) : randShape(r, scale);
  const state: StateSpec[] = [];
  if (r.chance(0.35)) {
    const s0 = randShape(r, scale, r.int(1, 3));
    for (let i = 0, k = r.int(1, 3); i < k; i++) state.push({ name: `s${i}`, type: { dtype: 'f32', shape: r.chance(0.6) ? s0 : randShape(r, scale, r.int(1, 3)) } });
  }
  let cache: { rows: number[]; cap: number; shape: number[] } | undefined;
  if (r.chance(0.25)) {
    const B = r.pick([1, 2]), cap = r.pick([3, 4, 5, 8]), E = r.pick([1, 3, 4, 5]);
    cache = { rows: [B, r.int(1, Math.min(cap, 3)), E], cap, shape: [B, cap, E] };
    state.push({ name: 'kv', type: { dtype: 'f32', shape: [B, cap, E] } });
    inputs.pos = { shape: [], dtype: 'i32' };
  }
  if (r.chance(0.3) || o.indexed) inputs.idx = { shape: [], dtype: 'i32' };
  if (r.chance(0.25) || o.indexed) inputs.ids = { shape: [r.int(1, 4)], dtype: 'i32' };
  const special = r.chance(0.2);
  const moves = r.int(3, Math.max(3, o.moves ?? 12));
  const cacheAt = r.int(0, moves), againAt = r.chance(0.3) ? r.int(cacheAt, moves) : -1;
  // The loops' own PRNG: a case without a loop draws exactly what it drew before loops were fuzzed.
  const lr = new Prng(seed + 0x5bd1e995), loopAt = lr.chance(0.35) && o.loops !== false ? lr.int(0, moves - 1) : -1;
  if (o.big) b.moves = BIG_MOVES;
  if (o.indexed) { b.indexed = true; b.moves = b.moves.map(([w, f]) => [f === gatherMove || f === dynamicMove ? 3 : w, f] as const); }
  b.sized = o.sized === true;
  // Reversed loops and run-time counts (since 2026-12-05), from a PRNG of their own: `loopKinds: false` gives the loops drawn before.
  if (o.loopKinds !== false) b.loopKinds = new Prng(seed + 0x3c6ef372);
  // The rest of the registry's ops (more-ops.ts), after some moves in three cases of four, from a
  // PRNG of their own: a case without them is the graph it was before they were fuzzed.
  /** After a move, with odds p: a move of `moves` drawn from `pr` (as b.r while it runs), its last value made f32. */
  const drawFrom = (pr: Prng, p: number, moves: ReadonlyArray<readonly [number, Move]>) => () => {
    if (!pr.chance(p)) return;
    const r0 = b.r;
    b.r = pr;
    try {
      pr.weighted(moves)(b, b.pick()!);
      const last = asF32(b, b.pool[b.pool.length - 1]!);
      // Half the values these moves end with are outputs too (not a loop body's: those are not the entry's).
      if (b.depth === 0 && b.watch.length < 4 && pr.chance(0.5)) b.watch.push(last);
    } finally { b.r = r0; }
  };
  const mr = new Prng(seed + 0x27d4eb2f);
  const more = o.more !== false && mr.chance(0.75) ? drawFrom(mr, 0.4, moreMoves(o)) : undefined;
  // The newest ops (math-ops.ts: tan … atanh, i32 div and pow), in half the cases, from a PRNG of
  // their own too: a case without them draws what it drew before.
  const xr = new Prng(seed + 0x165667b1);
  const math = o.math !== false && xr.chance(0.5) ? drawFrom(xr, 0.3, mathMoves(o)) : undefined;
  // i32 bitwise ops (since 2026-12-05), in a third of the cases, from a PRNG of their own too.
  const br = new Prng(seed + 0x4f1bbcdc);
  const bits = o.bits !== false && br.chance(1 / 3) ? drawFrom(br, 0.3, [[1, bitwiseMove]]) : undefined;
  if (more || math || bits) b.after = () => { more?.(); math?.(); bits?.(); };

  const traced = traceEntry((ins, st) => {
    for (const [name, t] of Object.entries(ins)) if (t.dtype === 'f32') b.add(t, `input ${name}`, true);
    b.idx = ins.idx; b.ids = ins.ids;
    const stItem: Record<string, Item> = {};
    // State holds what the call before wrote, exact or not: exact only in the first call. (Cases
    // without the moves of more-ops.ts keep the flag they were drawn with.)
    for (const [name, t] of Object.entries(st)) stItem[name] = b.add(t, `state.${name}`, !b.after);
    let written: Item | undefined;
    for (let m = 0; m <= moves; m++) {
      if (cache && m === cacheAt) {
        // Mostly into the state cache; sometimes into a computed value or a constant (effects must copy those).
        const into = r.weighted<() => Item>([[7, () => stItem.kv!], [1.5, () => coerce(b, b.pick()!, cache!.shape)], [1.5, () => b.const(cache!.shape)]])();
        const src = coerce(b, b.pick()!, cache.rows);
        written = b.add(record('cache_write', [into.t, src.t, ins.pos!]), `cache_write(${into.name}, ${src.name}, pos)`);
        b.features.add(into === stItem.kv ? 'cache_write' : 'cache_write-value');
      }
      if (cache && written && m === againAt) {
        // A second write: into the new version (chained) or again into the old one (two writers of one version).
        const into = r.chance(0.5) ? written : stItem.kv!;
        const src = coerce(b, b.pick()!, cache.rows);
        const again = b.add(record('cache_write', [into.t, src.t, ins.pos!]), `cache_write(${into.name}, ${src.name}, pos)`);
        if (into === written || r.chance(0.5)) written = again;
        b.features.add('cache_write-twice');
      }
      if (m < moves) { const x = b.pick()!; r.weighted(b.moves)(b, x); b.after?.(); }
      if (m === loopAt) { b.r = lr; loopMove(b, b.pick()!); b.r = r; }
    }
    const writes: Record<string, Tensor> = {};
    const plain = state.filter((s) => s.name !== 'kv');
    // A cyclic permutation of same-shaped state (a swap for two): writes must be simultaneous.
    const same = plain.filter((s) => sameShape(s.type.shape, plain[0]?.type.shape ?? []));
    if (same.length >= 2 && r.chance(0.5)) {
      same.forEach((s, i) => { writes[s.name] = st[same[(i + 1) % same.length]!.name]!; });
      b.lines.push(`state: ${same.map((s, i) => `${s.name} ← ${same[(i + 1) % same.length]!.name}`).join(', ')}`);
      b.features.add('state-cycle');
    }
    for (const s of plain) {
      if (writes[s.name] || r.chance(0.15)) continue;
      // Another state (a view of it when only the sizes agree), or a value computed from the pool.
      const fromState = plain.filter((o) => o !== s && numel(o.type.shape) === numel(s.type.shape));
      const v = fromState.length && r.chance(0.3) ? coerce(b, stItem[r.pick(fromState).name]!, s.type.shape)
        : coerce(b, b.pick((it) => it.t.dtype === 'f32' && sameShape(it.t.dims, s.type.shape)) ?? b.pick()!, s.type.shape);
      writes[s.name] = v.t;
      b.lines.push(`state: ${s.name} ← ${v.name}`);
      b.features.add('state');
    }
    if (written && r.chance(0.85)) { writes.kv = written.t; b.lines.push(`state: kv ← ${written.name}`); }
    // Outputs: the last value and a few others, in random order (the order schedules the graph).
    const last = b.pool[b.pool.length - 1]!;
    const outs = r.shuffle([last, ...Array.from({ length: r.int(0, 2) }, () => r.pick(b.pool))]);
    if (written && !outs.includes(written) && r.chance(0.5)) outs.splice(r.int(0, outs.length), 0, written);
    // What more-ops.ts moves made, so that their ops are seen (a value nothing reads is dead).
    for (const w of b.watch) if (!outs.includes(w)) outs.push(w);
    b.lines.push(`return ${outs.map((o, i) => `o${i}=${o.name}`).join(', ')}`);
    return { outputs: Object.fromEntries(outs.map((o, i) => [`o${i}`, o.t])), state: writes };
  }, inputs, Object.fromEntries(state.map((s) => [s.name, [...s.type.shape]])));

  const steps: Feeds[] = [], sizes: Sizes[] = [];
  for (let k = o.sized ? r.int(2, 3) : state.length ? 2 : 1; k > 0; k--) {
    const feeds: Feeds = {};
    const at: Sizes = Object.fromEntries(names.map((n) => [n, r.pick([1, bounds[n]!, r.int(1, bounds[n]!)])]));
    if (o.sized) sizes.push(at);
    for (const n of o.sized ? instantiate(traced, at).inputs : traced.inputs) {
      // A position whose rows do not all fit is an error (tests/run-time-checks.test.ts), so the
      // fifth of draws that once wrote past the capacity now write the last rows (same draws).
      feeds[n.label!] = n.label === 'pos' ? Int32Array.of(Math.min(r.chance(0.8) ? r.int(0, cache!.cap - cache!.rows[1]!) : r.int(0, cache!.cap), cache!.cap - cache!.rows[1]!))
        : n.type.dtype === 'i32' ? Int32Array.from({ length: numel(n.type.shape) }, () => (n.label === 'ids' && b.namedTable ? 0 : r.int(0, 1)))
        : fill(r, n.type, special);
    }
    steps.push(feeds);
  }
  const initialState = Object.fromEntries(state.map((s) => [s.name, fill(r, s.type, special && r.chance(0.3))]));
  if (o.sized) b.lines.unshift(`sizes ${names.map((n) => `${n} ≤ ${bounds[n]}`).join(', ')}; calls at ${sizes.map((z) => JSON.stringify(z)).join(', ')}`);
  return { seed, traced, state, initialState, steps, features: [...b.features].sort(), program: b.lines, special, ...(o.sized ? { sizes } : {}) };
}

/**
 * The case with its run-time indices (`idx`, `ids`, `pos`) redrawn from a PRNG of its own, past
 * their ranges: near them (either end) or an i32 extreme. A call keeps its drawn indices two
 * times in five; otherwise each index is redrawn with even odds. A dynamic slice then clamps,
 * and a gather or a cache write out of range makes the reference raise: the compiled model must
 * refuse the same call and change nothing (run.ts, Refused).
 */
export function wildIndices(c: FuzzCase): FuzzCase {
  const r = new Prng(c.seed + 0x2545f491);
  const wild = () => r.chance(0.85) ? r.int(-3, 18) : r.pick([-2147483648, 2147483647, -65536, 65536]);
  const steps = c.steps.map((feeds) => {
    if (r.chance(0.4)) return feeds;
    return Object.fromEntries(Object.entries(feeds).map(([k, v]) =>
      [k, v instanceof Int32Array ? v.map((x) => (r.chance(0.5) ? wild() : x)) : v]));
  });
  return { ...c, steps, features: [...c.features, 'wild-indices'] };
}
