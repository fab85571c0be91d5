// Order statistics and searching as PyTorch 1.13 computes them: median, nanmedian, kthvalue,
// quantile and nanquantile on the stable sort (topk of every element: NaN after every number, equal
// values in index order), searchsorted and bucketize as torch's binary search, step by step. Every
// reduced dim (and a searched sequence) must be a fixed size; the other dims may be chosen at run time.
import { canonDim, isSymbolic } from '../ir/dims.ts';
import { describeValue } from '../ir/print.ts';
import { fmtShape } from '../ir/types.ts';
import { indexError } from '../ir/ops/rules.ts';
import { checkOptions } from './options.ts';
import { cat, constant, currentScope, ModelDefinitionError, record, scalar, Tensor, where, zerosLike } from './tensor.ts';

/** dim as an axis in [0, rank) (a 0-d tensor takes 0 and −1, as torch), or an error naming op. */
function axisOf(op: string, x: Tensor, dim: unknown): number {
  const r = Math.max(x.rank, 1);
  if (!Number.isInteger(dim) || (dim as number) < -r || (dim as number) >= r) throw new ModelDefinitionError(`${op}: dim must be an integer in [${-r}, ${r - 1}] for ${x.dtype}${fmtShape(x.dims)}, got ${describeValue(dim)}${where()}`);
  return ((dim as number) + r) % r;
}

function flag(op: string, name: string, v: unknown): boolean {
  if (typeof v !== 'boolean') throw new ModelDefinitionError(`${op}: ${name} must be true or false, got ${describeValue(v)}${where()}`);
  return v;
}

/** x as f32 or i32 with `ax` a fixed size (0-d tensors as [1]); the other dims may be chosen at run time. */
function orderInput(op: string, x: unknown, ax: number, floatOnly = false): Tensor {
  if (!(x instanceof Tensor)) throw new ModelDefinitionError(`${op}: input must be a tensor, got ${describeValue(x)}${where()}`);
  if (x.dtype === 'bool' || (floatOnly && x.dtype !== 'f32')) throw new ModelDefinitionError(`${op}: input must be ${floatOnly ? 'f32 (torch: "input tensor must be either float or double dtype")' : 'f32 or i32'}, got ${x.dtype}${fmtShape(x.dims)}${floatOnly ? '; cast it with .float()' : ''}${where()}`);
  const t = x.rank === 0 ? x.reshape(1) : x;
  if (isSymbolic(t.dims[ax]!)) throw new ModelDefinitionError(`${op}: dim ${ax} of ${fmtShape(x.dims)} is a size chosen at run time; the dim an order statistic reduces must be a fixed size${where()}`);
  return t;
}

/** Every element of a tensor whose dims are all fixed, as [n] (dim = None: the flattened tensor). */
function flat(op: string, x: unknown, floatOnly = false): Tensor {
  if (x instanceof Tensor && x.dims.some(isSymbolic)) throw new ModelDefinitionError(`${op}: without a dim the whole tensor is reduced, and ${fmtShape(x.dims)} has sizes chosen at run time; give a dim of a fixed size${where()}`);
  return orderInput(op, x, 0, floatOnly).reshape(-1);
}

/** The sort ascending along ax: NaN after every number, equal values (−0 and 0 too) in index order. */
const ascending = (x: Tensor, ax: number): [Tensor, Tensor] => x.sort(ax, false);

/**
 * torch.median: without dim the lower median of every element (NaN if any is NaN), 0-d; with dim
 * [values, indices] along it. torch 1.13 picks with nth_element ordered by (value, index), so its
 * index is the stable sort's: the lower median's own. A NaN gives NaN and the first NaN's index.
 */
export function median(x: Tensor, dim?: number, keepdim = false): Tensor | [Tensor, Tensor] {
  return medianOf('median', x, dim, keepdim, false);
}
/** torch.nanmedian: median of the values that are not NaN (where all are: NaN, at the index torch's nth_element leaves first, allNanPick). */
export function nanmedian(x: Tensor, dim?: number, keepdim = false): Tensor | [Tensor, Tensor] {
  return medianOf('nanmedian', x, dim, keepdim, true);
}

function medianOf(op: string, x: Tensor, dim: number | undefined, keepdim: boolean, ignoreNan: boolean): Tensor | [Tensor, Tensor] {
  flag(op, 'keepdim', keepdim);
  if (dim === undefined || dim === null) {
    if (keepdim) throw new ModelDefinitionError(`${op}: keepdim needs a dim (torch's ${op}() of the whole tensor takes none)${where()}`);
    const [v] = medianAlong(flat(op, x), 0, ignoreNan);
    return v.reshape([]);
  }
  const ax = axisOf(op, x, dim), t = orderInput(op, x, ax);
  const [v, i] = medianAlong(t, ax, ignoreNan);
  const keep = (r: Tensor) => (x.rank === 0 ? r.reshape([]) : keepdim ? r : r.squeeze(ax));
  return [keep(v), keep(i)];
}

/** [value, index] of the (nan)median along ax, dim ax kept as 1. */
function medianAlong(x: Tensor, ax: number, ignoreNan: boolean): [Tensor, Tensor] {
  const n = x.maxSize(ax), [vals, idx] = ascending(x, ax);
  if (x.dtype !== 'f32' || !ignoreNan) {
    const p = (n - 1) >> 1, v = vals.slice(ax, p, p + 1), i = idx.slice(ax, p, p + 1);
    if (x.dtype !== 'f32') return [v, i];
    // torch.median returns the first NaN and its index where the row holds one (the sort puts NaNs last).
    const nan = vals.slice(ax, n - 1, n).isnan(), firstNan = x.isnan().float().argmax(ax, true);
    return [record('where', [nan, vals.slice(ax, n - 1, n), v]), record('where', [nan, firstNan, i])];
  }
  // nanmedian: position (count − 1)/2 truncated among the values that are not NaN. Where all are
  // NaN torch's nth_element (every comparison false) leaves at position 0 the index allNanPick gives.
  const count = x.isnan().logicalNot().float().sum(ax, true); // (exact: n < 2^24)
  const p = count.sub(1).mul(0.5).trunc().int().maximum(0);
  const i = record('where', [count.eq(0), constant(Int32Array.of(allNanPick(n)), [], 'i32', 'nanmedian of NaNs'), idx.gather(ax, p)]);
  return [vals.gather(ax, p), i];
}

/**
 * The index torch 1.13's nanmedian returns for a row of n NaNs: what libstdc++'s nth_element
 * (introselect: median-of-three pivot moved first, Hoare partition, insertion sort below 4) leaves
 * at position 0 when its comparator is false for every pair (0 for n ≤ 3, 7 for n = 9).
 */
export function allNanPick(n: number): number {
  const a = Array.from({ length: n }, (_, i) => i), swap = (i: number, j: number) => { [a[i], a[j]] = [a[j]!, a[i]!]; };
  let first = 0, last = n;
  while (last - first > 3) {
    // __move_median_to_first with every comparison false: the middle one.
    swap(first, first + Math.floor((last - first) / 2));
    // __unguarded_partition(first + 1, last, pivot = first): swaps from both ends until they meet.
    let lo = first + 1, hi = last;
    for (;;) {
      hi--;
      if (!(lo < hi)) break;
      swap(lo, hi); lo++;
    }
    if (lo <= 0) first = lo; else last = lo; // (nth is position 0)
  }
  return a[0]!;
}

/**
 * torch.kthvalue(k, dim = −1, keepdim): [values, indices] of the k-th smallest (1-based), NaN
 * larger than every number. Among equal values the index is the stable sort's (equal values in
 * index order); torch 1.13's quickselect may return another of the equal values' indices, which
 * depends on all the values (not matched: the values are).
 */
export function kthvalue(x: Tensor, k: number, dim = -1, keepdim = false): [Tensor, Tensor] {
  flag('kthvalue', 'keepdim', keepdim);
  const ax = axisOf('kthvalue', x, dim), t = orderInput('kthvalue', x, ax), n = t.maxSize(ax);
  if (!Number.isInteger(k) || k < 1 || k > n) throw new ModelDefinitionError(`kthvalue: k must be an integer in [1, ${n}] (the size of dim ${ax} of ${fmtShape(x.dims)}), got ${describeValue(k)} (torch: "selected number k out of range")${where()}`);
  const [vals, idx] = ascending(t, ax), keep = (r: Tensor) => (x.rank === 0 ? r.reshape([]) : keepdim ? r : r.squeeze(ax));
  return [keep(vals.slice(ax, k - 1, k)), keep(idx.slice(ax, k - 1, k))];
}

export type QuantileInterpolation = 'linear' | 'lower' | 'higher' | 'midpoint' | 'nearest';
const INTERPOLATIONS: readonly QuantileInterpolation[] = ['linear', 'lower', 'higher', 'midpoint', 'nearest'];
export interface QuantileOptions { dim?: number | null; keepdim?: boolean; interpolation?: QuantileInterpolation }

/**
 * torch.quantile(q, dim = None, keepdim = False, interpolation = 'linear'): q a number or an f32
 * tensor of q's (0-d or 1-D: its values lead the result's dims). As torch 1.13: rank q·(n − 1) in
 * f32 over the sorted values, NaN where the row holds a NaN; linear and midpoint blend by torch's
 * lerp, so two infinite neighbours give NaN (quantile([1, inf, inf], 0.5) is NaN), as in torch.
 */
export function quantile(x: Tensor, q: number | Tensor, o: QuantileOptions = {}): Tensor { return quantileOf('quantile', x, q, o, false); }
/** torch.nanquantile: the quantile of the values that are not NaN (NaN where all are). */
export function nanquantile(x: Tensor, q: number | Tensor, o: QuantileOptions = {}): Tensor { return quantileOf('nanquantile', x, q, o, true); }

function quantileOf(op: string, x: Tensor, q: number | Tensor, o: QuantileOptions, ignoreNan: boolean): Tensor {
  // (torch's positional x.quantile(q, dim, keepdim) reads as options here: a number is the dim.)
  if (typeof o === 'number') o = { dim: o };
  checkOptions(op, o, ['dim', 'keepdim', 'interpolation']);
  const keepdim = flag(op, 'keepdim', o.keepdim ?? false), interpolation = o.interpolation ?? 'linear';
  if (!INTERPOLATIONS.includes(interpolation)) throw new ModelDefinitionError(`${op}: interpolation must be ${INTERPOLATIONS.map((s) => `'${s}'`).join(', ')}, got ${describeValue(interpolation)}${where()}`);
  // q as an f32 vector [Q]; `scalarQ` drops its dim from the result.
  let qv: Tensor, scalarQ: boolean;
  const range = `${op}: q must be in the range [0, 1] (torch: "q values must be in the range [0, 1]")`;
  if (typeof q === 'number') {
    if (!(q >= 0 && q <= 1)) throw new ModelDefinitionError(`${range}, got ${q}${where()}`);
    qv = constant(Float32Array.of(q), [1], 'f32', `q ${q}`); scalarQ = true;
  } else if (q instanceof Tensor) {
    if (q.dtype !== 'f32' || q.rank > 1) throw new ModelDefinitionError(`${op}: q must be a number or an f32 tensor of 0 or 1 dims, got ${q.dtype}${fmtShape(q.dims)}${where()}`);
    scalarQ = q.rank === 0; qv = scalarQ ? q.reshape(1) : q;
    if (q.node.op === 'const') {
      const bad = Array.from(q.node.attrs.data as Float32Array).find((v) => !(v >= 0 && v <= 1));
      if (bad !== undefined) throw new ModelDefinitionError(`${range}, got ${bad}${where()}`);
    } else {
      const ok = qv.eq(qv.clamp(0, 1)); // (false at NaN)
      // (functional.ts's runTimeCheck; tensor.ts imports this module, so it cannot import functional.ts)
      qv = record('check', [qv, ok, ok.int()], { error: indexError(op, currentScope() || undefined, 'q values must be in the range [0, 1], got a q outside it at position {1}') });
    }
  } else throw new ModelDefinitionError(`${op}: q must be a number or an f32 tensor of q's, got ${describeValue(q)}${where()}`);
  if (isSymbolic(qv.dims[0]!)) throw new ModelDefinitionError(`${op}: q's length is a size chosen at run time; give a fixed number of q's${where()}`);
  const dim = o.dim ?? undefined;
  const ax = dim === undefined ? 0 : axisOf(op, x, dim);
  const t = dim === undefined ? flat(op, x, true) : orderInput(op, x, ax, true);
  const n = t.maxSize(ax), Q = qv.maxSize(0), sorted = ascending(t, ax)[0];
  const rowDims = t.dims.map((d, i) => (i === ax ? 1 : d)), full = [Q, ...rowDims], bounds = t.bounds;
  const qs = qv.reshape(Q, ...rowDims.map(() => 1));
  let y: Tensor;
  // (a few constant q's: slices of the sorted values; more, or q's known at run time: gathers at the ranks)
  if (!ignoreNan && qv.node.op === 'const' && Q <= 8) y = constantRanks(Array.from(qv.node.attrs.data as Float32Array), sorted, ax, interpolation);
  else {
    let ranks: Tensor;
    if (ignoreNan) {
      // rank q·(count − 1) over the values that are not NaN, 0 where there are none.
      const count = t.isnan().logicalNot().float().sum(ax, true).sub(1);
      ranks = qs.mul(count.unsqueeze(0));
      ranks = record('where', [ranks.lt(0), scalar(0), ranks]);
    } else {
      // A row holding NaN ranks at the end: the NaN (the sort puts NaNs last).
      const nan = sorted.slice(ax, n - 1, n).isnan().unsqueeze(0);
      ranks = record('where', [nan, scalar(n - 1), qs.mul(n - 1)]);
    }
    ranks = ranks.expand(full, bounds);
    if (interpolation === 'lower') ranks = ranks.floor();
    else if (interpolation === 'higher') ranks = ranks.ceil();
    else if (interpolation === 'nearest') ranks = ranks.round(); // (halves to even, as torch's round_)
    const rows = sorted.unsqueeze(0).expand([Q, ...t.dims], bounds), below = ranks.int();
    y = rows.gather(ax + 1, below);
    if (interpolation === 'linear' || interpolation === 'midpoint') {
      const w = interpolation === 'midpoint' ? scalar(0.5) : ranks.sub(below.float());
      const above = rows.gather(ax + 1, ranks.ceil().int());
      y = lerp(y, above, w);
    }
  }
  if (dim === undefined) return keepdim ? y.reshape(...(scalarQ ? [] : [Q]), ...x.dims.map(() => 1)) : scalarQ ? y.reshape([]) : y.reshape(Q);
  let r = keepdim || x.rank === 0 ? y : y.squeeze(ax + 1);
  if (x.rank === 0 && !keepdim) r = r.reshape(Q);
  return scalarQ ? r.squeeze(0) : r;
}

/**
 * quantile's [Q, …] values for constant q's: the ranks computed here as torch computes them in f32
 * (q·(n − 1), floor, ceil or round half to even), so each q is a slice or two of the sorted values
 * and a lerp by a constant; a row holding NaN gives NaN (torch ranks it at its last value, the NaN).
 */
function constantRanks(qs: number[], sorted: Tensor, ax: number, interpolation: QuantileInterpolation): Tensor {
  const n = sorted.maxSize(ax), f = Math.fround, at = (k: number) => sorted.slice(ax, k, k + 1);
  const halfEven = (v: number) => { const lo = Math.floor(v), d = v - lo; return d > 0.5 || (d === 0.5 && lo % 2 !== 0) ? lo + 1 : lo; };
  const nan = at(n - 1).isnan();
  return cat(qs.map((q) => {
    let r = f(f(q) * (n - 1));
    if (interpolation === 'lower') r = Math.floor(r);
    else if (interpolation === 'higher') r = Math.ceil(r);
    else if (interpolation === 'nearest') r = halfEven(r);
    const below = Math.trunc(r);
    let y = at(below);
    if (interpolation === 'linear' || interpolation === 'midpoint') y = lerp(y, at(Math.ceil(r)), scalar(interpolation === 'midpoint' ? 0.5 : f(r - below)));
    return record('where', [nan, at(n - 1), y]).unsqueeze(0);
  }), 0);
}

/**
 * torch.lerp (CPU, 1.13): a + w·(b − a) where |w| < 0.5, else b − (b − a)·(1 − w), each step in f32.
 * (torch's AVX2 build contracts each into one FMA, (w − 1)·(b − a) + b for the second, rounded
 * once: its last bit may differ from these two roundings; NaN and the infinities come out alike.)
 */
function lerp(a: Tensor, b: Tensor, w: Tensor): Tensor {
  const d = b.sub(a);
  return record('where', [w.abs().lt(0.5), a.add(w.mul(d)), b.sub(d.mul(scalar(1).sub(w)))]);
}

export interface SearchSortedOptions { right?: boolean; side?: 'left' | 'right' | null; outInt32?: boolean; sorter?: Tensor | null }

/**
 * torch.searchsorted(sortedSequence, values, {right, side, outInt32, sorter}): for each value the
 * index where it would be inserted into the last dim of the sequence (1-D, or batched: [..., n]
 * with values [..., m] of the same leading dims). As torch's binary search, run step by step
 * (⌊log2 n⌋ + 1 steps): left finds the first element not below the value (!(s ≥ v) moves right),
 * right the first above it (!(s > v)); so a NaN value goes to the end, and a NaN in the sequence
 * counts as below every value wherever the search meets it, as in torch. The result is i32
 * (torch's int64, or out_int32) for any outInt32.
 */
export function searchsorted(sortedSequence: Tensor, values: Tensor | number, o: SearchSortedOptions = {}): Tensor {
  return search('searchsorted', sortedSequence, values, o, ['right', 'side', 'outInt32', 'sorter']);
}

/** torch.bucketize(input, boundaries, {right, outInt32}): searchsorted of a 1-D boundaries, the input any shape. */
export function bucketize(input: Tensor | number, boundaries: Tensor, o: { right?: boolean; outInt32?: boolean } = {}): Tensor {
  if (!(boundaries instanceof Tensor) || boundaries.rank !== 1) throw new ModelDefinitionError(`bucketize: boundaries must be a 1-D tensor, got ${boundaries instanceof Tensor ? `${boundaries.dtype}${fmtShape(boundaries.dims)}` : describeValue(boundaries)}${where()}`);
  return search('bucketize', boundaries, input, o, ['right', 'outInt32']);
}

function search(op: string, seq: Tensor, values: Tensor | number, o: SearchSortedOptions, allowed: Array<keyof SearchSortedOptions>): Tensor {
  checkOptions(op, o, allowed);
  const right = flag(op, 'right', o.right ?? false);
  flag(op, 'outInt32', o.outInt32 ?? false);
  const side = o.side ?? null;
  if (side !== null && side !== 'left' && side !== 'right') throw new ModelDefinitionError(`${op}: side must be 'left' or 'right', got ${describeValue(side)}${where()}`);
  if (o.right === true && side === 'left') throw new ModelDefinitionError(`${op}: side and right can't be set to opposites, got side of left while right was True${where()}`);
  const upper = right || side === 'right';
  if (!(seq instanceof Tensor) || seq.rank < 1 || seq.dtype === 'bool') throw new ModelDefinitionError(`${op}: the sorted sequence must be an f32 or i32 tensor of at least one dim, got ${seq instanceof Tensor ? `${seq.dtype}${fmtShape(seq.dims)}` : describeValue(seq)}${where()}`);
  const nd = seq.dim(-1);
  if (isSymbolic(nd)) throw new ModelDefinitionError(`${op}: the sorted sequence's last dim (${fmtShape(seq.dims)}) is a size chosen at run time; it must be a fixed size${where()}`);
  let v: Tensor;
  if (typeof values === 'number') {
    if (seq.rank !== 1) throw new ModelDefinitionError(`${op}: a number as the value needs a 1-D sorted sequence, got ${fmtShape(seq.dims)} (torch: "input value can be a scalar only when boundaries tensor dimension is 1")${where()}`);
    v = constant(Number.isInteger(values) && values === (values | 0) && seq.dtype === 'i32' ? Int32Array.of(values) : Float32Array.of(values), [], Number.isInteger(values) && values === (values | 0) && seq.dtype === 'i32' ? 'i32' : 'f32', String(values));
  } else if (values instanceof Tensor && values.dtype !== 'bool') v = values;
  else throw new ModelDefinitionError(`${op}: values must be an f32 or i32 tensor or a number, got ${values instanceof Tensor ? `${values.dtype}${fmtShape(values.dims)}` : describeValue(values)}${where()}`);
  if (o.sorter !== undefined && o.sorter !== null) {
    const s = o.sorter;
    if (!(s instanceof Tensor) || s.dtype !== 'i32' || s.rank !== seq.rank || s.dims.some((d, i) => canonDim(d) !== canonDim(seq.dims[i]!))) throw new ModelDefinitionError(`${op}: sorter must be an i32 tensor of the sequence's shape ${fmtShape(seq.dims)}, got ${s instanceof Tensor ? `${s.dtype}${fmtShape(s.dims)}` : describeValue(s)}${where()}`);
    seq = seq.gather(-1, s);
  }
  // torch compares in the promoted type: f32 if either is.
  if (seq.dtype !== v.dtype) { seq = seq.float(); v = v.float(); }
  const n = nd as number;
  let vals: Tensor, back: (r: Tensor) => Tensor;
  if (seq.rank === 1) {
    const shape = v.dims;
    vals = v.reshape(-1); back = (r) => r.reshape(...shape);
  } else {
    const same = v.rank === seq.rank && v.dims.slice(0, -1).every((d, i) => canonDim(d) === canonDim(seq.dims[i]!));
    if (!same) throw new ModelDefinitionError(`${op}: with a sequence of more than one dim ${fmtShape(seq.dims)} the values must have its leading dims, [${seq.dims.slice(0, -1).join(', ')}, m], got ${fmtShape(v.dims)} (torch: "boundaries tensor should be 1 dimension or the first N-1 dimensions of boundaries tensor and input value tensor must match")${where()}`);
    vals = v; back = (r) => r;
  }
  const ax = vals.rank - 1;
  // lo and hi as f32 (exact: n < 2^24). torch moves lo to mid + 1 where !(s ≥ v) (right: !(s > v)),
  // else hi to mid; once lo = hi, mid = hi and neither moves (min(mid + 1, hi) = hi).
  let lo = zerosLike(vals).float(), hi = lo.add(n);
  for (let size = n; size > 0; size >>= 1) {
    const mid = lo.add(hi.sub(lo).mul(0.5).floor());
    const at = seq.gather(ax, mid.minimum(n - 1).int().expand(vals.dims, vals.bounds));
    const stop = upper ? at.gt(vals) : at.ge(vals);
    lo = record('where', [stop, lo, mid.add(1).minimum(hi)]);
    hi = record('where', [stop, mid, hi]);
  }
  lo = lo.int();
  return back(lo);
}
