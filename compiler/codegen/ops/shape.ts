// Shape ops on wasm: strided copies (loops.ts) from any view of the input, a reshape is free
// (it shares its input's buffer), gather copies table rows.

import type { Node } from '../../ir/node.ts';
import type { NoAttrs } from '../../ir/ops/def.ts';
import type { ConcatAttrs, DynamicSliceAttrs, DynamicUpdateAttrs, ReshapeAttrs, SliceAttrs, TransposeAttrs } from '../../ir/ops/shape.ts';
import { byteSize, DTYPE_BYTES, numel, strides } from '../../ir/types.ts';
import { contiguous, stridedCopy } from '../loops.ts';
import { defineLowering } from './lowering.ts';

const dynamicSlice = defineLowering<DynamicSliceAttrs>({
  emit: (n, c) => {
    const [x, idx] = n.inputs as [Node, Node];
    const ax = n.attrs.axis, xs = strides(x.type.shape), bytes = DTYPE_BYTES[n.type.dtype];
    // The index is clamped so a wrong value cannot read outside x.
    const max = x.type.shape[ax]! - n.attrs.size;
    const base = `(${c.addr(x)} + <usize>min<i32>(max<i32>(load<i32>(${c.addr(idx)}), 0), ${max}) * ${xs[ax]! * bytes})`;
    return stridedCopy(n.type.shape, contiguous(n, c.addr(n)), { base, strides: xs, bytes }, n.type.dtype);
  },
});

const dynamicUpdate = defineLowering<DynamicUpdateAttrs>({
  emit: (n, c) => {
    const [x, u, idx] = n.inputs as [Node, Node, Node];
    const ax = n.attrs.axis, os = strides(n.type.shape), bytes = DTYPE_BYTES[n.type.dtype];
    const max = x.type.shape[ax]! - u.type.shape[ax]!;
    const base = `(${c.addr(n)} + <usize>min<i32>(max<i32>(load<i32>(${c.addr(idx)}), 0), ${max}) * ${os[ax]! * bytes})`;
    const whole = c.addr(x) === c.addr(n) ? [] : [`memory.copy(${c.addr(n)}, ${c.addr(x)}, ${byteSize(n.type)});`];
    return [...whole, ...stridedCopy(u.type.shape, { base, strides: os, bytes }, contiguous(u, c.addr(u)), n.type.dtype)];
  },
});

const transpose = defineLowering<TransposeAttrs>({
  emit: (n, c) => {
    const x = n.inputs[0]!, xs = strides(x.type.shape), perm = n.attrs.perm;
    const bytes = DTYPE_BYTES[n.type.dtype];
    return stridedCopy(n.type.shape, contiguous(n, c.addr(n)), { base: c.addr(x), strides: perm.map((p) => xs[p]!), bytes }, n.type.dtype);
  },
});

const slice = defineLowering<SliceAttrs>({
  emit: (n, c) => {
    const x = n.inputs[0]!, xs = strides(x.type.shape);
    const { axis, start, step } = n.attrs;
    const bytes = DTYPE_BYTES[n.type.dtype];
    return stridedCopy(n.type.shape, contiguous(n, c.addr(n)), { base: c.addr(x) + start * xs[axis]! * bytes, strides: xs.map((s, i) => (i === axis ? s * step : s)), bytes }, n.type.dtype);
  },
});

const concat = defineLowering<ConcatAttrs>({
  emit: (n, c) => {
    const ax = n.attrs.axis, os = strides(n.type.shape), bytes = DTYPE_BYTES[n.type.dtype];
    let at = 0;
    return n.inputs.flatMap((x) => {
      const lines = stridedCopy(x.type.shape, { base: c.addr(n) + at * os[ax]! * bytes, strides: os, bytes }, contiguous(x, c.addr(x)), n.type.dtype);
      at += x.type.shape[ax]!;
      return lines;
    });
  },
});

const gather = defineLowering<NoAttrs>({
  emit: (n, c) => {
    const [table, idx] = n.inputs as [Node, Node];
    const rowBytes = byteSize(table.type) / table.type.shape[0]!;
    return [
      `for (let i = 0; i < ${numel(idx.type.shape)}; i++) {`,
      // Clamped: the runtime rejects bad user ids with a clear error; this keeps computed or stale ids in bounds.
      `  const r = <usize>min<i32>(max<i32>(load<i32>(${c.addr(idx)} + (<usize>i << 2)), 0), ${table.type.shape[0]! - 1});`,
      `  memory.copy(${c.addr(n)} + <usize>i * ${rowBytes}, ${c.addr(table)} + r * ${rowBytes}, ${rowBytes});`,
      '}',
    ];
  },
});

export const SHAPE_LOWERINGS = {
  reshape: defineLowering<ReshapeAttrs>({ emit: () => [] }),
  copy: defineLowering<NoAttrs>({ emit: (n, c) => [`memory.copy(${c.addr(n)}, ${c.addr(n.inputs[0]!)}, ${byteSize(n.type)});`] }),
  transpose,
  slice,
  concat,
  gather,
  dynamic_slice: dynamicSlice,
  dynamic_update: dynamicUpdate,
};
