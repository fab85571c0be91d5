// Shape ops on wasm: strided copies (loops.ts) from any view of the input, a reshape is free
// (it shares its input's buffer), gather copies table rows, gather_elements single elements.

import type { Node } from '../../ir/node.ts';
import type { NoAttrs } from '../../ir/ops/def.ts';
import { fixedRows, gatherElementsError, gatherError, type ExpandAttrs, type GatherAttrs, type GatherElementsAttrs, type ConcatAttrs, type DynamicSliceAttrs, type DynamicUpdateAttrs, type ReshapeAttrs, type SliceAttrs, type TransposeAttrs } from '../../ir/ops/shape.ts';
import { addDims, mulDims, numelDims, subDims, type Dim } from '../../ir/dims.ts';
import { symAttrsOf } from '../../ir/symbolic.ts';
import { dimsOf, DTYPE_BYTES, normAxis } from '../../ir/types.ts';
import { bytesOf, code, contiguous, dimBroadcastStrides, dimStrides, LOAD, loopNest, stridedCopy } from '../loops.ts';
import { defineLowering, trapUnless } from './lowering.ts';

const dynamicSlice = defineLowering<DynamicSliceAttrs>({
  refs: true,
  emit: (n, c) => {
    const [x, idx] = n.inputs as [Node, Node];
    const ax = n.attrs.axis, xs = dimStrides(dimsOf(x.type)), bytes = DTYPE_BYTES[n.type.dtype];
    // The index is clamped, as the op defines it (ir/ops/shape.ts): never a read outside x.
    const max = subDims(dimsOf(x.type)[ax]!, n.attrs.size);
    const base = `(${c.ref(x)} + <usize>min<i32>(max<i32>(load<i32>(${c.ref(idx)}), 0), ${code(max)}) * ${code(mulDims(xs[ax]!, bytes))})`;
    return stridedCopy(dimsOf(n.type), contiguous(n, c.ref(n)), { base, strides: xs, bytes }, n.type.dtype);
  },
});

const dynamicUpdate = defineLowering<DynamicUpdateAttrs>({
  emit: (n, c) => {
    const [x, u, idx] = n.inputs as [Node, Node, Node];
    const ax = n.attrs.axis, os = dimStrides(dimsOf(n.type)), bytes = DTYPE_BYTES[n.type.dtype];
    const max = subDims(dimsOf(x.type)[ax]!, dimsOf(u.type)[ax]!);
    const base = `(${c.addr(n)} + <usize>min<i32>(max<i32>(load<i32>(${c.addr(idx)}), 0), ${code(max)}) * ${code(mulDims(os[ax]!, bytes))})`;
    const whole = c.addr(x) === c.addr(n) ? [] : [`memory.copy(${c.addr(n)}, ${c.addr(x)}, ${code(bytesOf(n.type))});`];
    return [...whole, ...stridedCopy(dimsOf(u.type), { base, strides: os, bytes }, contiguous(u, c.addr(u)), n.type.dtype)];
  },
});

const transpose = defineLowering<TransposeAttrs>({
  emit: (n, c) => {
    const x = n.inputs[0]!, xs = dimStrides(dimsOf(x.type)), perm = n.attrs.perm;
    const bytes = DTYPE_BYTES[n.type.dtype];
    return stridedCopy(dimsOf(n.type), contiguous(n, c.addr(n)), { base: c.addr(x), strides: perm.map((p) => xs[p]!), bytes }, n.type.dtype);
  },
});

const slice = defineLowering<SliceAttrs>({
  emit: (n, c) => {
    const x = n.inputs[0]!, xs = dimStrides(dimsOf(x.type));
    const { axis, step } = n.attrs, start = (symAttrsOf(n.attrs)?.values.start ?? n.attrs.start) as Dim;
    const bytes = DTYPE_BYTES[n.type.dtype], off = mulDims(mulDims(start, xs[axis]!), bytes);
    const base = typeof off === 'number' ? c.addr(x) + off : `${c.addr(x)} + ${code(off)}`;
    return stridedCopy(dimsOf(n.type), contiguous(n, c.addr(n)), { base, strides: xs.map((s, i) => (i === axis ? mulDims(s, step) : s)), bytes }, n.type.dtype);
  },
});

const concat = defineLowering<ConcatAttrs>({
  emit: (n, c) => {
    const ax = n.attrs.axis, os = dimStrides(dimsOf(n.type)), bytes = DTYPE_BYTES[n.type.dtype];
    let at: Dim = 0;
    return n.inputs.flatMap((x) => {
      const off = mulDims(mulDims(at, os[ax]!), bytes);
      const lines = stridedCopy(dimsOf(x.type), { base: typeof off === 'number' ? c.addr(n) + off : `${c.addr(n)} + ${code(off)}`, strides: os, bytes }, contiguous(x, c.addr(x)), n.type.dtype);
      at = addDims(at, dimsOf(x.type)[ax]!);
      return lines;
    });
  },
});

const gather = defineLowering<GatherAttrs>({
  emit: (n, c) => {
    const [table, idx] = n.inputs as [Node, Node];
    const rowBytes = code(mulDims(numelDims(dimsOf(table.type).slice(1)), DTYPE_BYTES[table.type.dtype]));
    const rows = code(dimsOf(table.type)[0]!), wrap = n.attrs.wrap === true;
    return [
      `for (let i = 0; i < ${code(numelDims(dimsOf(idx.type)))}; i++) {`,
      `  const k = load<i32>(${c.addr(idx)} + (<usize>i << 2));`,
      `  const r = ${wrap ? `k < 0 ? k + ${rows} : k` : 'k'};`,
      // The runtime checks ids that are the entry's inputs against a table of fixed rows (their
      // manifest range); others trap here, as the reference raises.
      ...c.entryInput(idx) && fixedRows(table.type) !== undefined ? [] : [`  ${trapUnless(`<u32>r < <u32>${rows}`, gatherError(n.label, wrap), 'k', rows)}`],
      `  memory.copy(${c.addr(n)} + <usize>i * ${rowBytes}, ${c.addr(table)} + <usize>r * ${rowBytes}, ${rowBytes});`,
      '}',
    ];
  },
});

// A loop nest over the indices' shape: the result and the indices walk it contiguously, x at its
// own strides with the gathered axis' stride 0, the index adding r rows of that axis. Every
// index is checked (a compare each): an index outside [0, n) ([-n, n) with wrap) would read
// another element of x.
const gatherElements = defineLowering<GatherElementsAttrs>({
  emit: (n, c) => {
    const [x, idx] = n.inputs as [Node, Node];
    const xd = dimsOf(x.type), ax = normAxis(n.attrs.axis, xd.length), xs = dimStrides(xd);
    const t = LOAD[n.type.dtype]!, bytes = DTYPE_BYTES[n.type.dtype], len = code(xd[ax]!), wrap = n.attrs.wrap === true;
    const from = { base: c.addr(x), strides: xs.map((s, i) => (i === ax ? 0 : s)), bytes };
    return loopNest(dimsOf(idx.type), [contiguous(n, c.addr(n)), contiguous(idx, c.addr(idx)), from], (p, m, st) => [
      `for (let i = 0; i < ${code(m)}; i++) {`,
      `  const k = load<i32>(${p[1]} + <usize>i * ${code(mulDims(st[1]!, 4))});`,
      `  const r = ${wrap ? `k < 0 ? k + ${len} : k` : 'k'};`,
      `  ${trapUnless(`<u32>r < <u32>${len}`, gatherElementsError(n.label, ax, wrap), 'k', len)}`,
      `  store<${t}>(${p[0]} + <usize>i * ${code(mulDims(st[0]!, bytes))}, load<${t}>(${p[2]} + <usize>i * ${code(mulDims(st[2]!, bytes))} + <usize>r * ${code(mulDims(xs[ax]!, bytes))}));`,
      '}',
    ]);
  },
});

export const SHAPE_LOWERINGS = {
  reshape: defineLowering<ReshapeAttrs>({ emit: () => [] }),
  copy: defineLowering<NoAttrs>({ emit: (n, c) => [`memory.copy(${c.addr(n)}, ${c.addr(n.inputs[0]!)}, ${code(bytesOf(n.type))});`] }),
  transpose,
  expand: defineLowering<ExpandAttrs>({
    emit: (n, c) => {
      const x = n.inputs[0]!;
      return stridedCopy(dimsOf(n.type), contiguous(n, c.addr(n)), { base: c.addr(x), strides: dimBroadcastStrides(dimsOf(x.type), dimsOf(n.type)), bytes: DTYPE_BYTES[n.type.dtype] }, n.type.dtype);
    },
  }),
  slice,
  concat,
  gather,
  gather_elements: gatherElements,
  dynamic_slice: dynamicSlice,
  dynamic_update: dynamicUpdate,
};
