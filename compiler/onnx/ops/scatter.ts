// ONNX ScatterElements (and its opset 9–10 name Scatter) and ScatterND: the IR's scatter_elements
// and scatter_nd (ir/ops/scatter.ts), a copy of the data with the updates written. PyTorch exports
// x.scatter / scatter_add / scatter_reduce as ScatterElements and indexed assignment
// (y[:, idx] = v, index_put) as ScatterND. Duplicate indices under reduction 'none' keep the last
// update (ONNX leaves that undefined; ORT and torch's CPU kernels do the same). Run-time indices
// are checked in the code (a negative one counts from the end; one outside [-n, n) traps naming
// the node and the index); constant ones are checked here.

import { record, type Tensor } from '../../dsl/tensor.ts';
import { SCATTER_REDUCTIONS, type ScatterReduction } from '../../ir/ops/scatter.ts';
import { UnsupportedError, type Ctx } from '../ctx.ts';
import { normAxis } from './common.ts';

/** The reduction attribute, refused where this opset does not define it (add/mul from 16, max/min from 18). */
function reduction(c: Ctx): ScatterReduction {
  const r = c.str('reduction', 'none');
  if (!(SCATTER_REDUCTIONS as readonly string[]).includes(r)) c.unsupported(`reduction '${r}' (none, add, mul, max, min)`);
  const since = r === 'none' ? 0 : r === 'add' || r === 'mul' ? 16 : 18;
  if (c.opset < since) c.unsupported(`reduction '${r}' before opset ${since}`);
  return r as ScatterReduction;
}

/** data and updates of one dtype; a reduction that dtype has (bool data takes only 'none'). */
function operands(c: Ctx, r: ScatterReduction): [Tensor, Tensor, Tensor] {
  const data = c.t(0, 'data'), upd = c.t(2, 'updates'), idx = c.t(1, 'indices');
  if (idx.dtype !== 'i32') c.unsupported(`indices of type ${idx.dtype}`);
  if (upd.dtype !== data.dtype) c.unsupported(`updates of type ${upd.dtype} for data of type ${data.dtype}`);
  if (r !== 'none' && data.dtype === 'bool') c.unsupported(`reduction '${r}' on bool data`);
  if (data.rank < 1) c.unsupported('scalar data (rank 0)');
  return [data, idx, upd];
}

/** Constant indices out of range are the model's error, found at compile time. */
function checkConst(c: Ctx, values: ArrayLike<number | bigint>, size: (i: number) => [number, number]): void {
  for (let i = 0; i < values.length; i++) {
    const v = Number(values[i]), [n, axis] = size(i);
    if (!(v >= -n && v < n)) throw new UnsupportedError(`${c.where}: index ${v} is out of range for axis ${axis} of size ${n}`);
  }
}

export function scatterElements(c: Ctx): Tensor {
  // Scatter (opsets 9–10) is ScatterElements without a reduction.
  const old = c.node.opType === 'Scatter';
  if (old) c.only('axis'); else c.only('axis', 'reduction');
  const r = old ? 'none' : reduction(c);
  const [data, idx, upd] = operands(c, r);
  const axis = normAxis(c, c.int('axis', 0), data.rank), n = data.maxShape[axis]!;
  if (idx.rank !== data.rank || idx.maxShape.some((d, i) => i !== axis && d > data.maxShape[i]!))
    c.unsupported(`indices of shape [${idx.maxShape}] for data of shape [${data.maxShape}] (the same rank, and no larger than the data on any axis but ${axis})`);
  if (upd.maxShape.length !== idx.rank || upd.maxShape.some((d, i) => d !== idx.maxShape[i]))
    c.unsupported(`updates of shape [${upd.maxShape}] for indices of shape [${idx.maxShape}] (they must be the same)`);
  if (c.isConst(1)) checkConst(c, c.host(1, 'indices').data as ArrayLike<number>, () => [n, axis]);
  return record('scatter_elements', [data, idx, upd], { axis, reduction: r });
}

export function scatterNd(c: Ctx): Tensor {
  c.only('reduction');
  const r = reduction(c);
  const [data, idx, upd] = operands(c, r);
  const k = idx.maxShape.at(-1) ?? 0;
  if (idx.rank < 1 || k < 1 || k > data.rank) c.unsupported(`indices of shape [${idx.maxShape}] for data of rank ${data.rank} (the last axis holds 1 to ${data.rank} coordinates)`);
  const want = [...idx.maxShape.slice(0, -1), ...data.maxShape.slice(k)];
  if (upd.rank !== want.length || upd.maxShape.some((d, i) => d !== want[i]))
    c.unsupported(`updates of shape [${upd.maxShape}] for indices [${idx.maxShape}] into data [${data.maxShape}] (they must be [${want}])`);
  if (c.isConst(1)) checkConst(c, c.host(1, 'indices').data as ArrayLike<number>, (i) => [data.maxShape[i % k]!, i % k]);
  return record('scatter_nd', [data, idx, upd], { reduction: r });
}

// GatherND (opset 11; batch_dims from 12): ScatterND's inverse, the IR's gather_nd. The index
// tuples are checked as ScatterND's: constant ones here, run-time ones in the code (negative
// counts from the end of the axis, outside [-n, n) traps naming the node and the index).
export function gatherNd(c: Ctx): Tensor {
  c.only('batch_dims');
  const data = c.t(0, 'data'), idx = c.t(1, 'indices');
  if (idx.dtype !== 'i32') c.unsupported(`indices of type ${idx.dtype}`);
  const b = c.int('batch_dims', 0), r = data.rank, q = idx.rank;
  if (b < 0 || b >= Math.min(r, q)) c.unsupported(`batch_dims ${b} for data of rank ${r} and indices of rank ${q} (0 to ${Math.min(r, q) - 1})`);
  if (idx.maxShape.slice(0, b).some((d, i) => d !== data.maxShape[i])) c.unsupported(`indices of shape [${idx.maxShape}] for data of shape [${data.maxShape}] (their first ${b} axes, the batch_dims, must be equal)`);
  const k = idx.maxShape.at(-1)!;
  if (k < 1 || k > r - b) c.unsupported(`indices of shape [${idx.maxShape}] for data of rank ${r} with batch_dims ${b} (the last axis holds 1 to ${r - b} coordinates)`);
  if (c.isConst(1)) checkConst(c, c.host(1, 'indices').data as ArrayLike<number>, (i) => [data.maxShape[b + (i % k)]!, b + (i % k)]);
  return record('gather_nd', [data, idx], { batchDims: b });
}
