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

const gemm = defineLowering<GemmAttrs>({
  emit: (n, c) => {
    const [x, w] = n.inputs as [Node, Node];
    const [k, cols] = w.type.shape as [number, number];
    const rows = numel(x.type.shape) / k;
    return [`${kernelCall('gemm_f32', { a: c.addr(x), lda: k, w: c.packed(n), c: c.addr(n), ldc: cols, m: rows, n: cols, k, rowBias: 0, act: actCode(n.attrs.act) })};`];
  },
  packed: { w: 1, bias: 2, layout: 'kn' },
});

const matmul = defineLowering<NoAttrs>({
  emit: (n, c) => {
    const [a, b] = n.inputs as [Node, Node];
    const [m, k] = a.type.shape.slice(-2) as [number, number];
    const cols = b.type.shape[b.type.shape.length - 1]!;
    const batch = n.type.shape.slice(0, -2);
    const bs = (t: Node, mat: number): Operand => ({ base: c.addr(t), strides: broadcastStrides(t.type.shape.slice(0, -2), batch).map((s) => s * mat), bytes: 4 });
    const ops = [bs(n, m * cols), bs(a, m * k), bs(b, k * cols)];
    return loopNest(batch.length ? batch : [1], ops, (p, len, st) => [
      `for (let i = 0; i < ${len}; i++) {`,
      `  ${kernelCall('matmul_f32', { a: `${p[1]} + <usize>i * ${st[1]! * 4}`, b: `${p[2]} + <usize>i * ${st[2]! * 4}`, c: `${p[0]} + <usize>i * ${st[0]! * 4}`, m, n: cols, k, lda: k, ldb: cols, ldc: cols, transB: 0, alpha: '1.0' })};`,
      '}',
    ]);
  },
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
