// Linear algebra on wasm: gemm over weights packed at compile time (assembly/gemm.ts), batched
// matmul as a loop of matmul_f32 calls, conv2d (im2col panels in scratch; grouped convolutions
// one im2col + GEMM per image and group), pooling kernels.

import type { Activation } from '../../ir/elementwise.ts';
import type { Node } from '../../ir/node.ts';
import type { NoAttrs } from '../../ir/ops/def.ts';
import type { Conv2dAttrs, GemmAttrs, Pair, PoolAttrs } from '../../ir/ops/linalg.ts';
import { windowOut } from '../../ir/ops/rules.ts';
import { broadcastStrides, numel } from '../../ir/types.ts';
import { kernelCall, kernelConst } from '../kernels.ts';
import type { Layout } from '../layout.ts';
import { loopNest, type Operand } from '../loops.ts';
import { conv2dScratchBytes } from '../pack.ts';
import { defineLowering } from './lowering.ts';

/** A window parameter the type rule has checked (DSL graphs always carry it). */
const pair = (v: Pair | undefined): [number, number] => (typeof v === 'number' ? [v, v] : [v![0]!, v![1]!]);

/** The kernel's activation code (ACT_* in assembly/act.ts) of a gemm or conv2d epilogue. */
const actCode = (act: Activation | undefined): number => kernelConst(`ACT_${(act ?? 'none').toUpperCase()}`);

/**
 * Threads split a GEMM or matmul by output panels when it has at least SPLIT_MACS
 * multiply-adds and two panels (pairs of panels for one row) to share. Below that a barrier
 * (~1 µs with both threads spinning, far more when one must be woken) costs more than half the
 * node saves: measured in bench/threads.ts, GEMV 256×256 (65k MACs, ~3 µs) broke even, 512×512 won.
 */
const SPLIT_MACS = 1 << 17;
const worthSplitting = (m: number, n: number, k: number): boolean =>
  m * n * k >= SPLIT_MACS && (m === 1 ? Math.floor(Math.ceil(n / 8) / 2) : Math.ceil(n / 8)) >= 2;

const gemmShape = (n: Node) => {
  const [x, w] = n.inputs as [Node, Node];
  const [k, cols] = w.type.shape as [number, number];
  return { x, k, cols, rows: numel(x.type.shape) / k };
};

const gemm = defineLowering<GemmAttrs>({
  emit: (n, c, _m, t) => {
    const { x, k, cols, rows } = gemmShape(n);
    const args = { a: c.addr(x), lda: k, w: c.packed(n), c: c.addr(n), ldc: cols, m: rows, n: cols, k, rowBias: 0, act: actCode(n.attrs.act) };
    return [`${t ? kernelCall('gemm_f32_part', { ...args, tid: t.tid, nt: t.nt }) : kernelCall('gemm_f32', args)};`];
  },
  split: (n) => { const { k, cols, rows } = gemmShape(n); return worthSplitting(rows, cols, k); },
  packed: { w: 1, bias: 2, layout: 'kn' },
});

const matmulShape = (n: Node) => {
  const [a, b] = n.inputs as [Node, Node];
  const [m, k] = a.type.shape.slice(-2) as [number, number];
  return { a, b, m, k, cols: b.type.shape[b.type.shape.length - 1]!, batch: n.type.shape.slice(0, -2) };
};
const matmulSplits = (n: Node): boolean => { const { m, k, cols, batch } = matmulShape(n); return worthSplitting(m * numel(batch), cols, k) && Math.ceil(cols / 8) >= 2; };

const matmul = defineLowering<NoAttrs>({
  emit: (n, c, _m, t) => {
    const { a, b, m, k, cols, batch } = matmulShape(n);
    const bs = (t: Node, mat: number): Operand => ({ base: c.addr(t), strides: broadcastStrides(t.type.shape.slice(0, -2), batch).map((s) => s * mat), bytes: 4 });
    const ops = [bs(n, m * cols), bs(a, m * k), bs(b, k * cols)];
    return loopNest(batch.length ? batch : [1], ops, (p, len, st) => [
      `for (let i = 0; i < ${len}; i++) {`,
      `  ${((args) => (t
        ? kernelCall('matmul_f32_part', { ...args, panel: m > 1 ? `${c.scratch(n)} + <usize>${t.tid} * ${kernelConst('MATMUL_PANEL_BYTES')}` : 0, tid: t.tid, nt: t.nt })
        : kernelCall('matmul_f32', args)))({ a: `${p[1]} + <usize>i * ${st[1]! * 4}`, b: `${p[2]} + <usize>i * ${st[2]! * 4}`, c: `${p[0]} + <usize>i * ${st[0]! * 4}`, m, n: cols, k, lda: k, ldb: cols, ldc: cols, transB: 0, alpha: '1.0' })};`,
      '}',
    ]);
  },
  split: matmulSplits,
  // Split, each thread packs B into a panel of its own (matmul_f32's static one is thread 0's alone).
  scratchBytes: (n) => (matmulSplits(n) && matmulShape(n).m > 1 ? kernelConst('MAX_THREADS') * kernelConst('MATMUL_PANEL_BYTES') : 0),
});

const conv2d = defineLowering<Conv2dAttrs>({
  emit: (n, c) => {
    const [x, w, b] = n.inputs as [Node, Node, Node?];
    const [N, C, H, W] = x.type.shape;
    const [CO, , KH, KW] = w.type.shape;
    const [, , OH, OW] = n.type.shape;
    const [sh, sw] = pair(n.attrs.stride), [ph, pw] = pair(n.attrs.padding), [dh, dw] = pair(n.attrs.dilation);
    const G = n.attrs.groups ?? 1;
    if (G > 1) {
      // Grouped: per image and group, im2col of the group's channels, then one GEMM with the group's filters.
      const CG = C! / G, COG = CO! / G, K = CG * KH! * KW!, P = OH! * OW!;
      return [
        `for (let b = 0; b < ${N}; b++) {`,
        `  for (let g = 0; g < ${G}; g++) {`,
        `    ${kernelCall('im2col_packed_f32', { x: `${c.addr(x)} + (<usize>b * ${C} + <usize>g * ${CG}) * ${H! * W! * 4}`, c: CG, h: H!, w: W!, kh: KH!, kw: KW!, sh, sw, ph, pw, dh, dw, oh: OH!, ow: OW!, dst: c.scratch(n) })};`,
        // The group's filters are A (COG × K), the packed im2col panels B, the bias a row bias.
        `    ${kernelCall('gemm_f32', { a: `${c.addr(w)} + <usize>g * ${COG * K * 4}`, lda: K, w: c.scratch(n), c: `${c.addr(n)} + (<usize>b * ${CO} + <usize>g * ${COG}) * ${P * 4}`, ldc: P, m: COG, n: P, k: K, rowBias: b ? `${c.addr(b)} + <usize>g * ${COG * 4}` : 0, act: actCode(n.attrs.act) })};`,
        '  }',
        '}',
      ];
    }
    return [`${kernelCall('conv2d_f32', { x: c.addr(x), w: c.addr(w), bias: b ? c.addr(b) : 0, y: c.addr(n), scratch: c.scratch(n), n: N!, c: C!, h: H!, wi: W!, cout: CO!, kh: KH!, kw: KW!, sh, sw, ph, pw, dh, dw, oh: OH!, ow: OW!, act: actCode(n.attrs.act) })};`];
  },
  scratchBytes: (n) => {
    const [, cg, kh, kw] = n.inputs[1]!.type.shape as [number, number, number, number]; // channels per group
    const [, , oh, ow] = n.type.shape as [number, number, number, number];
    return conv2dScratchBytes(cg, kh, kw, oh, ow);
  },
});

function poolCall(n: Node & { attrs: PoolAttrs }, c: Layout, fn: string, extra: Record<string, number>): string[] {
  const [N, C, H, W] = n.inputs[0]!.type.shape as [number, number, number, number];
  const [kh, kw] = pair(n.attrs.kernel), [sh, sw] = pair(n.attrs.stride), [ph, pw] = pair(n.attrs.padding);
  return [`${kernelCall(fn, { x: c.addr(n.inputs[0]!), y: c.addr(n), nc: N * C, h: H, w: W, kh, kw, sh, sw, ph, pw, oh: windowOut(H, kh, sh, ph), ow: windowOut(W, kw, sw, pw), ...extra })};`];
}

export const LINALG_LOWERINGS = {
  gemm,
  matmul,
  conv2d,
  maxpool2d: defineLowering<PoolAttrs>({ emit: (n, c) => poolCall(n, c, 'maxpool2d_f32', {}) }),
  avgpool2d: defineLowering<PoolAttrs>({ emit: (n, c) => poolCall(n, c, 'avgpool2d_f32', { countIncludePad: n.attrs.countIncludePad ? 1 : 0 }) }),
};
