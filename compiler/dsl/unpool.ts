// torch's max_unpool1d/2d/3d (nn.MaxUnpool*d): the partial inverse of a max pool with indices.
// The output is zeros of PyTorch's unpooled size, x written at `indices` within each (N, C)
// plane: one scatter_elements along the plane flattened (the ONNX ScatterElements op, whose
// updates apply in row-major order, so an index named twice keeps the last write, as torch's CPU
// loop over each plane does). torch raises for an index outside [0, plane): a constant index is
// refused here, a run-time one traps in scatter_elements (negative ones are moved past the end
// first, since the scatter would count them from the end).
import { fmtShape } from '../ir/types.ts';
import { describeValue } from '../ir/print.ts';
import { floatArg, tensorArg, tupleOf, whereOp } from './functional.ts';
import { ModelDefinitionError, record, Tensor, traceBounds, where, zeros } from './tensor.ts';
import { checkOptions } from './options.ts';

export interface MaxUnpoolOptions { stride?: number | readonly number[] | null; padding?: number | readonly number[]; outputSize?: readonly number[] | null }
const SPATIAL = ['L', 'H, W', 'D, H, W'];

/** An unpool's kernel, stride (the kernel's by default) and padding over `rank` axes, checked as torch's _single/_pair/_triple take them. */
export function unpoolWindow(op: string, kernel: unknown, o: MaxUnpoolOptions, rank: number): { k: number[]; s: number[]; p: number[] } {
  const tuple = (name: string, v: unknown, min: number) => tupleOf(op, name, Array.isArray(v) && v.length === 1 && rank === 1 ? v[0] : v, min, rank);
  const k = tuple('kernel_size', kernel, 1);
  const s = o.stride === undefined || o.stride === null ? k : tuple('stride', o.stride, 1);
  return { k, s, p: tuple('padding', o.padding ?? 0, 0) };
}

/**
 * The unpooled sizes (torch's _unpool_output_size): (in − 1)·stride + kernel − 2·padding per axis,
 * or `outputSize` (its last `rank` entries may follow N and C), each strictly within stride of that.
 */
function unpoolSizes(op: string, ins: number[], w: { k: number[]; s: number[]; p: number[] }, outputSize: unknown): number[] {
  const r = w.k.length, def = ins.map((n, i) => (n - 1) * w.s[i]! + w.k[i]! - 2 * w.p[i]!);
  if (outputSize === undefined || outputSize === null) {
    if (def.some((n) => n < 1)) throw new ModelDefinitionError(`${op}: the unpooled size ${def.join('×')} of input sizes ${ins.join('×')} (kernel ${w.k.join(',')}, stride ${w.s.join(',')}, padding ${w.p.join(',')}) is empty${where()}`);
    return def;
  }
  if (!Array.isArray(outputSize) || !outputSize.every((v) => Number.isInteger(v) && v >= 1)) throw new ModelDefinitionError(`${op}: outputSize must be a list of positive integers, got ${Array.isArray(outputSize) ? `[${outputSize.slice(0, 6).map(describeValue).join(', ')}]` : describeValue(outputSize)}${where()}`);
  if (outputSize.length !== r && outputSize.length !== r + 2) throw new ModelDefinitionError(`${op}: outputSize should hold ${r} or ${r + 2} sizes, got ${outputSize.length} (${fmtShape(outputSize)})${where()}`);
  const out = outputSize.slice(-r) as number[];
  out.forEach((n, i) => {
    const lo = def[i]! - w.s[i]!, hi = def[i]! + w.s[i]!;
    if (!(lo < n && n < hi)) throw new ModelDefinitionError(`${op}: invalid outputSize ${fmtShape(outputSize)} (dim ${i} must be between ${lo} and ${hi}, exclusive: the unpooled size ${def[i]} ± stride ${w.s[i]})${where()}`);
  });
  return out;
}

/** x [N, C, …] or unbatched [C, …] scattered at indices (i32, x's shape) into zeros of the unpooled size, per (N, C) plane. */
export function maxUnpoolNd(op: string, x: Tensor, indices: Tensor, w: { k: number[]; s: number[]; p: number[] }, outputSize: unknown): Tensor {
  const r = w.k.length;
  x = floatArg(op, 'input', x); indices = tensorArg(op, 'indices', indices);
  if (x.rank !== r + 1 && x.rank !== r + 2) throw new ModelDefinitionError(`${op}: expected [N, C, ${SPATIAL[r - 1]}] or unbatched [C, ${SPATIAL[r - 1]}] input, got ${fmtShape(x.dims)}${where()}`);
  if (indices.dtype !== 'i32') throw new ModelDefinitionError(`${op}: indices must be i32 (torch's int64, as a max pool with returnIndices gives them), got ${indices.dtype}${where()}`);
  if (indices.rank !== x.rank || indices.dims.some((d, i) => d !== x.dims[i])) throw new ModelDefinitionError(`${op}: indices ${fmtShape(indices.dims)} must have the shape of the input ${fmtShape(x.dims)}${where()}`);
  const from = x.rank - r;
  if (x.dims.slice(x.rank === r + 2 ? 1 : 0).some((d) => typeof d !== 'number')) throw new ModelDefinitionError(`${op}: input ${fmtShape(x.dims)} has a size chosen at run time outside the batch dim (0); an unpool's channels and spatial sizes must be fixed${where()}`);
  const outs = unpoolSizes(op, x.maxShape.slice(from), w, outputSize), plane = outs.reduce((a, b) => a * b, 1);
  if (indices.node.op === 'const') {
    const bad = Array.from(indices.node.attrs.data as Int32Array).find((v) => v < 0 || v >= plane);
    if (bad !== undefined) throw new ModelDefinitionError(`${op}: index ${bad} is outside the output plane ${outs.join('×')} (indices must be in [0, ${plane}))${where()}`);
  }
  const lead = x.dims.slice(0, from), flat = (t: Tensor) => (r === 1 ? t : t.flatten(from));
  // torch refuses a negative index; scatter_elements would count it from the end: move it past the end to trap.
  const idx = whereOp(indices.lt(0), plane, indices);
  const y = record('scatter_elements', [zeros([...lead, plane], traceBounds()), flat(idx), flat(x)], { axis: from, reduction: 'none' });
  return r === 1 ? y : y.reshape(...lead, ...outs);
}

function unpool(op: string, rank: number, x: Tensor, indices: Tensor, kernel: unknown, o: MaxUnpoolOptions): Tensor {
  checkOptions(op, o ?? {}, ['stride', 'padding', 'outputSize']);
  return maxUnpoolNd(op, x, indices, unpoolWindow(op, kernel, o ?? {}, rank), o?.outputSize);
}
/** torch.nn.functional.max_unpool1d(x, indices, kernel, {stride, padding, outputSize}) on [N, C, L] or unbatched [C, L]. */
export const maxUnpool1d = (x: Tensor, indices: Tensor, kernel: number, o: MaxUnpoolOptions = {}): Tensor => unpool('max_unpool1d', 1, x, indices, kernel, o);
/** torch.nn.functional.max_unpool2d on [N, C, H, W] or unbatched [C, H, W]. */
export const maxUnpool2d = (x: Tensor, indices: Tensor, kernel: number | readonly [number, number], o: MaxUnpoolOptions = {}): Tensor => unpool('max_unpool2d', 2, x, indices, kernel, o);
/** torch.nn.functional.max_unpool3d on [N, C, D, H, W] or unbatched [C, D, H, W]. */
export const maxUnpool3d = (x: Tensor, indices: Tensor, kernel: number | readonly [number, number, number], o: MaxUnpoolOptions = {}): Tensor => unpool('max_unpool3d', 3, x, indices, kernel, o);
