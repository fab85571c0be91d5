// Scatter ops (and gather_nd, a loop per index tuple of the same shape) on wasm: the data copied whole into the result's own buffer, then one loop over the
// updates in the indices' row-major order (the order ir/ops/scatter.ts defines: the last write
// wins, reductions combine in that order). Every index is checked (a compare each): one outside
// [-n, n) would write outside the result, so it traps with the reference's message.

import type { Node } from '../../ir/node.ts';
import { gatherNdError, scatterError, type GatherNdAttrs, type ScatterElementsAttrs, type ScatterNdAttrs, type ScatterReduction } from '../../ir/ops/scatter.ts';
import { mulDims, numelDims } from '../../ir/dims.ts';
import { dimsOf, DTYPE_BYTES, normAxis } from '../../ir/types.ts';
import { bytesOf, code, contiguous, dimStrides, LOAD, loopNest } from '../loops.ts';
import { defineLowering, trapUnless } from './lowering.ts';

/** The statement that applies the update `u` to the element at address `at`. */
const apply = (r: ScatterReduction, t: string, at: string, u: string): string => {
  const old = `load<${t}>(${at})`;
  const v = r === 'none' ? u : r === 'add' ? `${old} + ${u}` : r === 'mul' ? `${old} * ${u}` : `${r}<${t}>(${old}, ${u})`;
  return `store<${t}>(${at}, ${v});`;
};

const copyData = (n: Node, c: { addr(n: Node): number }) => `memory.copy(${c.addr(n)}, ${c.addr(n.inputs[0]!)}, ${code(bytesOf(n.type))});`;

// A loop nest over the indices' shape: the updates and the indices walk it contiguously, the
// result at its own strides with the scattered axis' stride 0, the index adding r rows of it.
const scatterElements = defineLowering<ScatterElementsAttrs>({
  emit: (n, c) => {
    const [, idx, upd] = n.inputs as [Node, Node, Node];
    const od = dimsOf(n.type), ax = normAxis(n.attrs.axis, od.length), os = dimStrides(od);
    const t = LOAD[n.type.dtype]!, bytes = DTYPE_BYTES[n.type.dtype], len = code(od[ax]!);
    const to = { base: c.addr(n), strides: os.map((s, i) => (i === ax ? 0 : s)), bytes };
    return [copyData(n, c), ...loopNest(dimsOf(idx.type), [contiguous(upd, c.addr(upd)), contiguous(idx, c.addr(idx)), to], (p, m, st) => [
      `for (let i = 0; i < ${code(m)}; i++) {`,
      `  const k = load<i32>(${p[1]} + <usize>i * ${code(mulDims(st[1]!, 4))});`,
      `  const r = k < 0 ? k + ${len} : k;`,
      `  ${trapUnless(`<u32>r < <u32>${len}`, scatterError('scatter_elements', n.label, ax), 'k', len)}`,
      `  const at = ${p[2]} + <usize>i * ${code(mulDims(st[2]!, bytes))} + <usize>r * ${code(mulDims(os[ax]!, bytes))};`,
      `  ${apply(n.attrs.reduction, t, 'at', `load<${t}>(${p[0]} + <usize>i * ${code(mulDims(st[0]!, bytes))})`)}`,
      '}',
    ])];
  },
});

// One iteration per index tuple: its k coordinates checked and summed into the slice's offset,
// then the slice of S elements copied (reduction 'none') or combined element by element.
const scatterNd = defineLowering<ScatterNdAttrs>({
  emit: (n, c) => {
    const [, idx, upd] = n.inputs as [Node, Node, Node];
    const od = dimsOf(n.type), os = dimStrides(od), id = dimsOf(idx.type), k = id[id.length - 1] as number;
    const t = LOAD[n.type.dtype]!, bytes = DTYPE_BYTES[n.type.dtype];
    const sliceBytes = code(mulDims(numelDims(od.slice(k)), bytes)), tuples = code(numelDims(id.slice(0, -1)));
    const coords = Array.from({ length: k }, (_, j) => {
      const len = code(od[j]!);
      return [
        `  const k${j} = load<i32>(${c.addr(idx)} + (<usize>(t * ${k} + ${j}) << 2));`,
        `  const r${j} = k${j} < 0 ? k${j} + ${len} : k${j};`,
        `  ${trapUnless(`<u32>r${j} < <u32>${len}`, scatterError('scatter_nd', n.label, j), `k${j}`, len)}`,
      ];
    });
    const at = [`${c.addr(n)}`, ...Array.from({ length: k }, (_, j) => `<usize>r${j} * ${code(mulDims(os[j]!, bytes))}`)].join(' + ');
    const from = `${c.addr(upd)} + <usize>t * ${sliceBytes}`;
    const write = n.attrs.reduction === 'none'
      ? [`  memory.copy(o, u, ${sliceBytes});`]
      : [`  for (let e: usize = 0; e < ${sliceBytes}; e += ${bytes}) ${apply(n.attrs.reduction, t, 'o + e', `load<${t}>(u + e)`)}`];
    return [copyData(n, c),
      `for (let t = 0; t < ${tuples}; t++) {`,
      ...coords.flat(),
      `  const o: usize = ${at}, u: usize = ${from};`,
      ...write,
      '}'];
  },
});

// One iteration per index tuple (B batches of T): its k coordinates checked and summed into the
// slice's offset within its batch, then the S-element slice copied into place.
const gatherNd = defineLowering<GatherNdAttrs>({
  emit: (n, c) => {
    const [data, idx] = n.inputs as [Node, Node];
    const b = n.attrs.batchDims, dd = dimsOf(data.type), id = dimsOf(idx.type), k = id[id.length - 1] as number;
    const ds = dimStrides(dd.slice(b)), bytes = DTYPE_BYTES[n.type.dtype];
    const sliceBytes = code(mulDims(numelDims(dd.slice(b + k)), bytes)), perBatch = code(numelDims(id.slice(b, -1)));
    const blockBytes = code(mulDims(numelDims(dd.slice(b)), bytes)), tuples = code(numelDims(id.slice(0, -1)));
    const coords = Array.from({ length: k }, (_, j) => {
      const len = code(dd[b + j]!);
      return [
        `  const k${j} = load<i32>(${c.addr(idx)} + (<usize>(g * ${k} + ${j}) << 2));`,
        `  const r${j} = k${j} < 0 ? k${j} + ${len} : k${j};`,
        `  ${trapUnless(`<u32>r${j} < <u32>${len}`, gatherNdError(n.label, b + j), `k${j}`, len)}`,
      ];
    });
    const from = [`${c.addr(data)}`, `<usize>(g / ${perBatch}) * ${blockBytes}`, ...Array.from({ length: k }, (_, j) => `<usize>r${j} * ${code(mulDims(ds[j]!, bytes))}`)].join(' + ');
    return [
      `for (let g = 0; g < ${tuples}; g++) {`,
      ...coords.flat(),
      `  memory.copy(${c.addr(n)} + <usize>g * ${sliceBytes}, ${from}, ${sliceBytes});`,
      '}'];
  },
});

export const SCATTER_LOWERINGS = { scatter_elements: scatterElements, scatter_nd: scatterNd, gather_nd: gatherNd };
