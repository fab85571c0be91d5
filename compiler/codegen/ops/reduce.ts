// Reductions on wasm: one kernel call each (assembly/reduce.ts, softmax.ts, layernorm.ts, topk.ts)
// over the [outer, n, inner] blocks around the reduced axes; prod and the i32 argmax are loops
// emitted here (scalar, sequential along the axis: the order the reference defines).

import type { NodeOf } from '../../ir/ops/def.ts';
import type { AxisAttrs, LayerNormAttrs, ReduceAttrs, TopKAttrs } from '../../ir/ops/reduce.ts';
import { numelDims, type Dim } from '../../ir/dims.ts';
import type { Node } from '../../ir/node.ts';
import { dimsOf, numel } from '../../ir/types.ts';
import { kernelCall } from '../kernels.ts';
import { code, LOAD } from '../loops.ts';
import { defineLowering, f32lit } from './lowering.ts';

const around = (shape: readonly Dim[], axis: number) => [numelDims(shape.slice(0, axis)), shape[axis]!, numelDims(shape.slice(axis + 1))].map(code);

function reduceAxes(n: NodeOf<ReduceAttrs>): string[] {
  const x = dimsOf(n.inputs[0]!.type), axes = [...n.attrs.axes].sort((a, b) => a - b);
  if (axes.some((a, i) => i > 0 && a !== axes[i - 1]! + 1)) throw new Error(`codegen: ${n.op} over non-adjacent axes [${axes}] (the DSL permutes these; a hand-built graph must too)`);
  if (axes.length === 0) return [numelDims(x), 1, 1].map(code);
  return [numelDims(x.slice(0, axes[0])), numelDims(x.slice(axes[0], axes[axes.length - 1]! + 1)), numelDims(x.slice(axes[axes.length - 1]! + 1))].map(code);
}

const reduce = (fn: string) => defineLowering<ReduceAttrs>({
  emit: (n, c) => {
    const [outer, len, inner] = reduceAxes(n);
    return [`${kernelCall(fn, { x: c.addr(n.inputs[0]!), y: c.addr(n), outer, n: len, inner })};`];
  },
});

/** A scalar loop over each of the [outer][inner] columns, `step` run for every j along the axis from `init`. */
const columnLoop = (n: NodeOf<ReduceAttrs>, c: { addr(n: Node): number }, t: string, init: string, step: string, result: string) => {
  const [outer, len, inner] = reduceAxes(n), x = c.addr(n.inputs[0]!), y = c.addr(n);
  return [
    `for (let o = 0; o < ${outer}; o++) for (let i = 0; i < ${inner}; i++) {`,
    `  const p = ${x} + (<usize>(o * ${len} * ${inner} + i) << 2), colb = <usize>${inner} << 2;`,
    `  ${init}`,
    `  for (let j = 0; j < ${len}; j++) { const v = load<${t}>(p + <usize>j * colb); ${step} }`,
    `  store<${LOAD[n.type.dtype]}>(${y} + (<usize>(o * ${inner} + i) << 2), ${result});`,
    '}',
  ];
};

// The product sequentially along the axis, each step rounded to f32 (ir/ops/reduce.ts's order).
const prod = defineLowering<ReduceAttrs>({ emit: (n, c) => columnLoop(n, c, 'f32', 'let r: f32 = 1;', 'r *= v;', 'r') });

// f32 inputs take the SIMD kernel; i32 compare as integers (the first index of the max).
const argmaxF32 = reduce('argmax_f32');
const argmax = defineLowering<ReduceAttrs>({
  emit: (n, c, m) => n.inputs[0]!.type.dtype === 'i32'
    ? columnLoop(n, c, 'i32', 'let best = i32.MIN_VALUE, bi = 0;', 'if (v > best) { best = v; bi = j; }', 'bi')
    : argmaxF32.emit(n, c, m),
});

const softmax = (fn: string) => defineLowering<AxisAttrs>({
  emit: (n, c) => { const [outer, len, inner] = around(dimsOf(n.type), n.attrs.axis); return [`${kernelCall(fn, { x: c.addr(n.inputs[0]!), y: c.addr(n), outer, n: len, inner })};`]; },
});

/**
 * Threads split a layernorm by rows (layernorm_f32_part) from LN_SPLIT_ELEMS (2^14) elements and
 * 2 rows. Measured on two threads, interleaved, outputs bit-identical: a transformer encoder layer
 * (128 × 256, two layernorms) with both split, in nine runs, from 2% slower to 7% faster, median
 * 1.3% faster; GPT prefill with its residual adds and layernorms split, 1% faster in one run and
 * 0.4% slower in another (hand-edited artifacts timed interleaved). Small,
 * but a node left on thread 0 caps every thread count (Amdahl): one 128 × 256 layernorm takes
 * ~14 µs on one thread (9.5 split in two), so at 16 threads the encoder layer's two would be ~8%
 * of its ~0.3 ms. Below the threshold a row costs less than its share of the barriers. Judged at
 * the bound (the shape).
 */
const LN_SPLIT_ELEMS = 1 << 14;

const layernorm = defineLowering<LayerNormAttrs>({
  refs: true,
  emit: (n, c, _m, t) => {
    const [x, g, b, r] = n.inputs;
    const dims = dimsOf(n.type), N = dims[dims.length - 1]!;
    const args = { x: c.ref(x!), gamma: c.ref(g!), beta: c.ref(b!), y: c.ref(n), rows: code(numelDims(dims.slice(0, -1))), n: code(N), eps: f32lit(n.attrs.eps), residual: r ? c.ref(r) : 0 };
    return [`${t ? kernelCall('layernorm_f32_part', { ...args, tid: t.tid, nt: t.nt }) : kernelCall('layernorm_f32', args)};`];
  },
  split: (n) => { const s = n.type.shape; return numel(s.slice(0, -1)) >= 2 && numel(s) >= LN_SPLIT_ELEMS; },
});

// The reduced axis' run-time length is passed (a symbolic one works only with k = 1: the type rule
// wants k ≤ n at every size); the values are result 0, the indices result 1. The kernel keeps a
// heap ordered by (value, index), so when nothing reads the indices it keeps them in k i32 of
// scratch (reserved whether or not they are read: 4k bytes).
const topkScratch = (k: number) => Math.ceil(k / 4) * 16;
const topk = defineLowering<TopKAttrs>({
  emit: (n, c) => {
    const [outer, len, inner] = around(dimsOf(n.inputs[0]!.type), n.attrs.axis), k = n.attrs.k;
    const indices = c.result(n, 1);
    return [`${kernelCall(`topk_${n.type.dtype}`, { x: c.addr(n.inputs[0]!), values: c.addr(n), indices, scratch: indices === 0 ? c.scratch(n) : 0, outer, n: len, inner, k, largest: n.attrs.largest ? 1 : 0 })};`];
  },
  scratchBytes: (n) => topkScratch(n.attrs.k),
});

export const REDUCE_LOWERINGS = {
  sum: reduce('reduce_sum_f32'),
  mean: reduce('reduce_mean_f32'),
  max: reduce('reduce_max_f32'),
  prod,
  argmax,
  softmax: softmax('softmax_f32'),
  logsoftmax: softmax('logsoftmax_f32'),
  layernorm,
  topk,
};
