// Reductions on wasm: one kernel call each (assembly/reduce.ts, softmax.ts, layernorm.ts) over
// the [outer, n, inner] blocks around the reduced axes.

import type { NodeOf } from '../../ir/ops/def.ts';
import type { AxisAttrs, LayerNormAttrs, ReduceAttrs } from '../../ir/ops/reduce.ts';
import { numel } from '../../ir/types.ts';
import { kernelCall } from '../kernels.ts';
import { defineLowering, f32lit } from './lowering.ts';

const around = (shape: readonly number[], axis: number) => [numel(shape.slice(0, axis)), shape[axis]!, numel(shape.slice(axis + 1))];

function reduceAxes(n: NodeOf<ReduceAttrs>): [number, number, number] {
  const x = n.inputs[0]!.type.shape, axes = [...n.attrs.axes].sort((a, b) => a - b);
  if (axes.some((a, i) => i > 0 && a !== axes[i - 1]! + 1)) throw new Error(`codegen: ${n.op} over non-adjacent axes [${axes}] (the DSL permutes these; a hand-built graph must too)`);
  if (axes.length === 0) return [numel(x), 1, 1];
  return [numel(x.slice(0, axes[0])), numel(x.slice(axes[0], axes[axes.length - 1]! + 1)), numel(x.slice(axes[axes.length - 1]! + 1))];
}

const reduce = (fn: string) => defineLowering<ReduceAttrs>({
  emit: (n, c) => {
    const [outer, len, inner] = reduceAxes(n);
    return [`${kernelCall(fn, { x: c.addr(n.inputs[0]!), y: c.addr(n), outer, n: len, inner })};`];
  },
});

const softmax = (fn: string) => defineLowering<AxisAttrs>({
  emit: (n, c) => { const [outer, len, inner] = around(n.type.shape, n.attrs.axis); return [`${kernelCall(fn, { x: c.addr(n.inputs[0]!), y: c.addr(n), outer, n: len, inner })};`]; },
});

const layernorm = defineLowering<LayerNormAttrs>({
  emit: (n, c) => {
    const [x, g, b, r] = n.inputs;
    const N = n.type.shape[n.type.shape.length - 1]!;
    return [`${kernelCall('layernorm_f32', { x: c.addr(x!), gamma: c.addr(g!), beta: c.addr(b!), y: c.addr(n), rows: numel(n.type.shape) / N, n: N, eps: f32lit(n.attrs.eps), residual: r ? c.addr(r) : 0 })};`];
  },
});

export const REDUCE_LOWERINGS = {
  sum: reduce('reduce_sum_f32'),
  mean: reduce('reduce_mean_f32'),
  max: reduce('reduce_max_f32'),
  argmax: reduce('argmax_f32'),
  softmax: softmax('softmax_f32'),
  logsoftmax: softmax('logsoftmax_f32'),
  layernorm,
};
