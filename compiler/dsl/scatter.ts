// torch's scatter family as the Tensor methods call it: x.scatter(dim, index, src), scatter_add,
// scatter_reduce and index_add, each one IR scatter_elements (updates applied in the index's
// row-major order; an index named twice keeps the last write under scatter, as torch's CPU loop
// does). torch raises for an index outside [0, n) (a negative one too): a constant index is
// refused here, a run-time one traps (negatives are moved past the end first, as scatter_elements
// would count them from the end). Sizes chosen at run time are taken where the tensors share
// them (a MoE's tokens, a graph's edges).
import { describeValue } from '../ir/print.ts';
import { fmtShape, normAxis } from '../ir/types.ts';
import { canonDim, isSymbolic, type Dim } from '../ir/dims.ts';
import { constant, leastSize, leastWhy, ModelDefinitionError, record, sizeTensor, Tensor, where } from './tensor.ts';

export type ScatterReduce = 'sum' | 'prod' | 'mean' | 'amax' | 'amin';
const REDUCES: readonly ScatterReduce[] = ['sum', 'prod', 'mean', 'amax', 'amin'];
const IR_REDUCTION = { sum: 'add', mean: 'add', prod: 'mul', amax: 'max', amin: 'min' } as const;

/** The scatter's axis, its index (run-time negatives moved out of range) and its updates cut to the index's shape. */
function scatterArgs(op: string, x: Tensor, dim: unknown, index: unknown, src: unknown): { ax: number; idx: Tensor; upd: Tensor } {
  if (!Number.isInteger(dim) || (dim as number) < -x.rank || (dim as number) >= x.rank) throw new ModelDefinitionError(`${op}: dim must be an integer in [${-x.rank}, ${x.rank - 1}] for ${fmtShape(x.dims)}, got ${describeValue(dim)}${where()}`);
  const ax = normAxis(dim as number, x.rank);
  if (!(index instanceof Tensor) || index.dtype !== 'i32') throw new ModelDefinitionError(`${op}: index must be an i32 tensor (torch's int64), got ${index instanceof Tensor ? `${index.dtype}${fmtShape(index.dims)}` : describeValue(index)}${where()}`);
  if (typeof src !== 'number' && !(src instanceof Tensor)) throw new ModelDefinitionError(`${op}: src must be a tensor or a number, got ${describeValue(src)}${where()}`);
  if (src instanceof Tensor && src.dtype !== x.dtype) throw new ModelDefinitionError(`${op}: src ${src.dtype}${fmtShape(src.dims)} must have the dtype of the tensor scattered into, ${x.dtype}${fmtShape(x.dims)} (torch refuses it too: cast one with .float() or .int())${where()}`);
  // A size chosen at run time must be the same dim in the tensors that share it (the scatter loops
  // over the index's actual shape, and the input's scattered dim bounds the index at run time).
  const same = (a: Dim, b: Dim) => canonDim(a) === canonDim(b);
  const fits = (d: Dim, within: Dim) => (typeof d === 'number' && typeof within === 'number' ? d <= within : same(d, within));
  const ok = index.rank === x.rank && (!(src instanceof Tensor) || src.rank === x.rank)
    && index.dims.every((d, i) => (i === ax || fits(d, x.dims[i]!)) && (!(src instanceof Tensor) || fits(d, src.dims[i]!)));
  if (!ok) {
    throw new ModelDefinitionError(`${op}: index ${fmtShape(index.dims)} must have the rank of the input ${fmtShape(x.dims)}${src instanceof Tensor ? ` and of src ${fmtShape(src.dims)}` : ''}, be no larger than src on any dim and no larger than the input on any dim but ${ax}${[x, index, ...(src instanceof Tensor ? [src] : [])].some((t) => t.dims.some(isSymbolic)) ? ' (a size chosen at run time must be the same size in each)' : ''}${where()}`);
  }
  const n = x.dims[ax]!, least = leastSize(n);
  if (index.node.op === 'const') {
    const vals = index.node.attrs.data as Int32Array, at = vals.findIndex((k) => k < 0 || k >= least);
    if (at >= 0) throw new ModelDefinitionError(`${op}: index ${vals[at]} (element ${at} of the constant index) is outside [0, ${least}) along dim ${ax} of ${fmtShape(x.dims)}${isSymbolic(n) ? ` at its least size (${leastWhy(n)})` : ''}${where()}`);
  }
  if (typeof src === 'number' && x.dtype === 'i32' && !Number.isInteger(src)) throw new ModelDefinitionError(`${op}: value ${src} is not an integer, for an i32 tensor${where()}`);
  if (x.dtype === 'bool' && typeof src === 'number') throw new ModelDefinitionError(`${op}: a number scattered into a bool tensor; scatter a bool tensor${where()}`);
  const idx = index.node.op === 'const' ? index : index.maskedFill(index.lt(0), typeof n === 'number' ? n : sizeTensor(n, x.bounds));
  const upd = typeof src === 'number' ? constant(x.dtype === 'i32' ? Int32Array.of(src) : Float32Array.of(src), [], x.dtype, String(src)).expand(index.dims, index.bounds)
    : index.dims.reduce((t: Tensor, d, i) => (same(d, src.dims[i]!) ? t : t.slice(i, 0, d as number)), src);
  return { ax, idx, upd };
}

/** torch.Tensor.scatter(dim, index, src): a copy of x with src (or a number) written at index along dim. */
export function scatter(x: Tensor, dim: number, index: Tensor, src: Tensor | number): Tensor {
  const { ax, idx, upd } = scatterArgs('scatter', x, dim, index, src);
  return record('scatter_elements', [x, idx, upd], { axis: ax, reduction: 'none' });
}

/**
 * torch.Tensor.scatter_reduce(dim, index, src, reduce, include_self=True): each element index
 * names combined by sum, prod, mean, amax or amin, with x's own value unless includeSelf is false
 * (x's elements that no index names are kept either way). mean divides by the count of values
 * combined (f32 only: torch floors an integer mean).
 */
export function scatterReduce(x: Tensor, dim: number, index: Tensor, src: Tensor, reduce: ScatterReduce, o: { includeSelf?: boolean } = {}): Tensor {
  if (!REDUCES.includes(reduce)) throw new ModelDefinitionError(`scatter_reduce: reduce must be ${REDUCES.map((r) => `'${r}'`).join(', ')}, got ${describeValue(reduce)}${where()}`);
  if (typeof o !== 'object' || o === null || Object.keys(o).some((k) => k !== 'includeSelf')) throw new ModelDefinitionError(`scatter_reduce: options must be { includeSelf?: boolean }, got ${describeValue(o)}${where()}`);
  const includeSelf = o.includeSelf ?? true;
  if (typeof includeSelf !== 'boolean') throw new ModelDefinitionError(`scatter_reduce: includeSelf must be true or false, got ${describeValue(includeSelf)}${where()}`);
  if (!(src instanceof Tensor)) throw new ModelDefinitionError(`scatter_reduce: src must be a tensor, got ${describeValue(src)}${where()}`);
  if (x.dtype === 'bool') throw new ModelDefinitionError(`scatter_reduce: reduce '${reduce}' needs f32 or i32 tensors, got bool${where()}`);
  if (reduce === 'mean' && x.dtype !== 'f32') throw new ModelDefinitionError(`scatter_reduce: reduce 'mean' of ${x.dtype} tensors is refused (torch floors an integer mean); cast to f32 with .float()${where()}`);
  const { ax, idx, upd } = scatterArgs('scatter_reduce', x, dim, index, src);
  // Without x's own value the named elements start from the reduction's identity.
  const identity = { sum: 0, mean: 0, prod: 1, amax: -Infinity, amin: Infinity }[reduce];
  const base = includeSelf ? x : scatter(x, ax, idx, x.dtype === 'i32' && !Number.isFinite(identity) ? (identity > 0 ? 2147483647 : -2147483648) : identity);
  const y = record('scatter_elements', [base, idx, upd], { axis: ax, reduction: IR_REDUCTION[reduce] });
  if (reduce !== 'mean') return y;
  const count = scatter(x.mul(0).add(includeSelf ? 1 : 0), ax, idx, includeSelf ? 1 : 0);
  const counted = record('scatter_elements', [count, idx, upd.mul(0).add(1)], { axis: ax, reduction: 'add' });
  return y.div(counted.maximum(1));
}

/** torch.Tensor.index_add(dim, index, source, alpha=1): source's slices along dim added at the rows index [n] names. */
export function indexAdd(x: Tensor, dim: number, index: Tensor, source: Tensor, o: { alpha?: number } = {}): Tensor {
  if (typeof o !== 'object' || o === null || Object.keys(o).some((k) => k !== 'alpha')) throw new ModelDefinitionError(`index_add: options must be { alpha?: number }, got ${describeValue(o)}${where()}`);
  const alpha = o.alpha ?? 1;
  if (typeof alpha !== 'number' || !Number.isFinite(alpha)) throw new ModelDefinitionError(`index_add: alpha must be a finite number, got ${describeValue(alpha)}${where()}`);
  if (!Number.isInteger(dim) || dim < -x.rank || dim >= x.rank) throw new ModelDefinitionError(`index_add: dim must be an integer in [${-x.rank}, ${x.rank - 1}] for ${fmtShape(x.dims)}, got ${describeValue(dim)}${where()}`);
  const ax = normAxis(dim, x.rank);
  if (!(index instanceof Tensor) || index.dtype !== 'i32' || index.rank !== 1) throw new ModelDefinitionError(`index_add: index must be an i32 tensor of one dim, got ${index instanceof Tensor ? `${index.dtype}${fmtShape(index.dims)}` : describeValue(index)}${where()}`);
  if (!(source instanceof Tensor)) throw new ModelDefinitionError(`index_add: source must be a tensor, got ${describeValue(source)}${where()}`);
  const want = x.dims.map((d, i) => (i === ax ? index.dims[0]! : d));
  if (source.rank !== x.rank || source.dims.some((d, i) => canonDim(d) !== canonDim(want[i]!))) throw new ModelDefinitionError(`index_add: source ${fmtShape(source.dims)} must be the input ${fmtShape(x.dims)} with dim ${ax} the index's length: ${fmtShape(want)}${where()}`);
  if (alpha !== 1 && x.dtype === 'i32' && !Number.isInteger(alpha)) throw new ModelDefinitionError(`index_add: alpha ${alpha} is not an integer, for an i32 tensor${where()}`);
  let idx = index;
  for (let i = 0; i < x.rank; i++) if (i !== ax) idx = idx.unsqueeze(i);
  idx = idx.expand(want, { ...x.bounds, ...index.bounds });
  return scatterReduce(x, ax, idx, alpha === 1 ? source : source.mul(alpha), 'sum');
}
