// Linear algebra on wasm: gemm over weights packed at compile time (assembly/gemm.ts), batched
// matmul as a loop of matmul_f32 calls, conv2d (im2col panels in scratch; grouped convolutions
// one im2col + GEMM per image and group), pooling kernels.

import type { Activation } from '../../ir/elementwise.ts';
import type { Node } from '../../ir/node.ts';
import type { NoAttrs } from '../../ir/ops/def.ts';
import type { Conv2dAttrs, GemmAttrs, MaxPoolIndicesAttrs, Pair, PoolAttrs } from '../../ir/ops/linalg.ts';
import { mulDims, numelDims, type Dim } from '../../ir/dims.ts';
import { dimsOf, numel } from '../../ir/types.ts';
import { kernelCall, kernelConst } from '../kernels.ts';
import type { Layout } from '../layout.ts';
import { code, dimBroadcastStrides, loopNest, type Operand } from '../loops.ts';
import { conv2dScratchBytes } from '../pack.ts';
import { defineLowering } from './lowering.ts';

/** A window parameter the type rule has checked (DSL graphs always carry it). */
const pair = (v: Pair | undefined): [number, number] => (typeof v === 'number' ? [v, v] : [v![0]!, v![1]!]);

/** The kernel's activation code (ACT_* in assembly/act.ts) of a gemm or conv2d epilogue. */
const actCode = (act: Activation | undefined): number => kernelConst(`ACT_${(act ?? 'none').toUpperCase()}`);

/**
 * Threads split a GEMM or matmul over its outputs, never over the reduction, when it has at least
 * SPLIT_MACS (2^15) multiply-adds and a second thread gets work:
 * - one row (a GEMV): at least 4 panels of 8 columns (fixed shares of panel pairs, assembly/gemm.ts);
 * - a GEMM of two rows or more: at least 2 of the tiles (row block × run of panels) the threads
 *   claim, counted as gemm_f32_part makes them for 2 threads (more threads make smaller tiles);
 * - a matmul of two rows or more: at least 4 panels (split by panels), or with fewer panels at
 *   least 2 groups of 4 rows (split by rows: assembly/matmul.ts, each thread packs B for itself).
 * A GEMM of two rows or more used to need 4 panels like a GEMV, so a tall, narrow one (4096 × 256
 * → 16: 2 panels, 16M multiply-adds, 64 row blocks) never split; and a small wide one whose tiles
 * merge into one (8 × 64 → 64: 8 panels, one 2^15 tile) split with nothing for the second thread.
 * Measured (bench/narrow-split.ts, a split call + barrier against one thread, worker awake,
 * medians of 15 per-round ratios, two runs at load 2.5 and 1.9 on 2 cores, the bench's own two
 * threads included): GEMM 4096×256×16 1.91×/1.90×, 4096×256×8 1.90×/1.93×, 1024×256×16
 * 1.91×/1.97×, 128×256×16 (4 tiles) 1.78×/1.81×, 32×256×16 and 16×512×16 (2 tiles, 2^17)
 * 1.55–1.65×, 24×256×16 (2 tiles) 1.49×/1.51×, 200×64×24 (3 tiles) 1.33×/1.35×; one tile:
 * 16×256×16 0.90×/0.90×, 8×256×16 0.81×/0.82×, and the wide 8×64×64 0.82× and 16×128×32 0.92×
 * (both split before). Matmul by rows: 4096×256×16 1.96×/1.97×, 64×256×16 1.70×/1.72×,
 * 16×256×16 (4 groups) 1.39×/1.40×, 8×256×16 (2 groups, 2^15) 1.12×/1.15×.
 * On a loaded machine (load 10–13) every split here, wide or narrow, ran 0.8× one thread or worse:
 * a barrier waits ~100 µs for a descheduled thread. The runtime's ThreadChoice
 * (runtime/thread-choice.ts) then runs the entry on one thread.
 * The GEMV numbers: on an idle machine (bench/threads.ts, the worker already awake as it is after
 * an entry's first barrier) a barrier cost ~0.5–0.7 µs (now ~0.05), and a GEMV split two ways ran
 * 1.2–1.6× faster at 2^15 multiply-adds (1×128×256), 1.5–1.7× at 2^16 and 1.7–2.2× from 2^17 up
 * (several runs). Sizes named at run time are judged at their bound (the shape).
 */
const SPLIT_MACS = 1 << 15;
const panelsOf = (cols: number) => Math.ceil(cols / 8);
const K = (name: string) => kernelConst(name);
/** The tiles gemm_f32_part (m ≥ 2) claims on nt threads: its formula, with gemm_mc (assembly/gemm.ts). */
function gemmTiles(m: number, n: number, k: number, nt: number): number {
  const mc = Math.max(Math.floor(K('GEMM_MC_FLOATS') / Math.max(k, 1)) & ~3, K('GEMM_MC_MIN')), panels = panelsOf(n);
  const tileMacs = Math.min(K('GEMM_TILE_MACS'), Math.max(K('GEMM_MIN_TILE_MACS'), Math.floor(m * n * k / (nt * K('GEMM_TILES_PER_THREAD')))));
  const per = Math.min(panels, Math.max(1, Math.floor(tileMacs / Math.max(1, Math.min(mc, m) * 8 * Math.max(k, 1)))));
  return Math.ceil(m / mc) * Math.ceil(panels / per);
}
const gemmSplits = (m: number, n: number, k: number): boolean =>
  m * n * k >= SPLIT_MACS && (m === 1 ? panelsOf(n) >= 4 : gemmTiles(m, n, k, 2) >= 2);

const gemmShape = (n: Node) => {
  const [x, w] = n.inputs as [Node, Node];
  const [k, cols] = w.type.shape as [number, number];
  return { x, k, cols, rows: numelDims(dimsOf(x.type).slice(0, -1)), maxRows: numel(x.type.shape) / k };
};

const gemm = defineLowering<GemmAttrs>({
  emit: (n, c, _m, t) => {
    const { x, k, cols, rows } = gemmShape(n);
    const args = { a: c.ref(x), lda: k, w: c.packed(n), c: c.ref(n), ldc: cols, m: code(rows), n: cols, k, rowBias: 0, act: actCode(n.attrs.act) };
    return [`${t ? kernelCall('gemm_f32_part', { ...args, sync: t.sync, tid: t.tid, nt: t.nt }) : kernelCall('gemm_f32', args)};`];
  },
  split: (n) => { const { k, cols, maxRows } = gemmShape(n); return gemmSplits(maxRows, cols, k); },
  // Two rows or more: tiles taken through claim() (one row: fixed shares; assembly/gemm.ts).
  claims: (n) => gemmShape(n).maxRows >= 2,
  packed: { w: 1, bias: 2, layout: 'kn' },
  refs: true,
});

const matmulShape = (n: Node) => {
  const [a, b] = n.inputs as [Node, Node];
  const [m, k] = dimsOf(a.type).slice(-2) as [Dim, Dim];
  return { a, b, m, k, cols: dimsOf(b.type)[b.type.shape.length - 1]!, batch: dimsOf(n.type).slice(0, -2) };
};
const matmulSplits = (n: Node): boolean => {
  const [m, k] = n.inputs[0]!.type.shape.slice(-2) as [number, number], cols = n.type.shape[n.type.shape.length - 1]!;
  if (m * numel(n.type.shape.slice(0, -2)) * cols * k < SPLIT_MACS) return false;
  // Each matrix of a batch is split on its own (a loop of matmul_f32_part calls).
  return m >= 2 && panelsOf(cols) < K('MATMUL_ROW_SPLIT_BELOW') ? Math.ceil(m / 4) >= 2 : panelsOf(cols) >= 4;
};

const matmul = defineLowering<NoAttrs>({
  emit: (n, c, _m, t) => {
    const { a, b, m, k, cols, batch } = matmulShape(n);
    const bs = (t: Node, mat: Dim): Operand => ({ base: c.addr(t), strides: dimBroadcastStrides(dimsOf(t.type).slice(0, -2), batch).map((s) => mulDims(s, mat)), bytes: 4 });
    const ops = [bs(n, mulDims(m, cols)), bs(a, mulDims(m, k)), bs(b, mulDims(k, cols))];
    const at = (p: string, s: Dim) => `${p} + <usize>i * ${code(mulDims(s, 4))}`;
    // Split, each thread packs B into a panel of its own (matmul_f32's static one is thread 0's alone).
    const part = t && { panel: m !== 1 ? `${c.scratch(n)} + <usize>${t.tid} * ${kernelConst('MATMUL_PANEL_BYTES')}` : 0, tid: t.tid, nt: t.nt };
    return loopNest(batch.length ? batch : [1], ops, (p, len, st) => {
      const args = { a: at(p[1]!, st[1]!), b: at(p[2]!, st[2]!), c: at(p[0]!, st[0]!), m: code(m), n: code(cols), k: code(k), lda: code(k), ldb: code(cols), ldc: code(cols), transB: 0, alpha: '1.0' };
      return [
        `for (let i = 0; i < ${code(len)}; i++) {`,
        `  ${part ? kernelCall('matmul_f32_part', { ...args, ...part }) : kernelCall('matmul_f32', args)};`,
        '}',
      ];
    });
  },
  split: matmulSplits,
  scratchBytes: (n) => (matmulSplits(n) && matmulShape(n).m !== 1 ? kernelConst('MAX_THREADS') * kernelConst('MATMUL_PANEL_BYTES') : 0),
});

/**
 * Threads split an ungrouped conv2d by output pixels (conv2d_f32_part: each thread im2cols and
 * multiplies its own 8-pixel panels of every image, no barrier inside) with the GEMM rule:
 * SPLIT_MACS multiply-adds (N·CO·OH·OW·K) and two panels; one output channel (GEMV) stays whole.
 */
const conv2dSplits = (n: Node & { attrs: Conv2dAttrs }): boolean => {
  const [N, C, , ] = n.inputs[0]!.type.shape as [number, number, number, number];
  const [CO, , KH, KW] = n.inputs[1]!.type.shape as [number, number, number, number];
  const [, , OH, OW] = n.type.shape as [number, number, number, number];
  return (n.attrs.groups ?? 1) === 1 && CO >= 2 && Math.ceil(OH * OW / 8) >= 2 && N * CO * OH * OW * C * KH * KW >= SPLIT_MACS;
};

const conv2d = defineLowering<Conv2dAttrs>({
  emit: (n, c, _m, t) => {
    const [x, w, b] = n.inputs as [Node, Node, Node?];
    // The batch, height and width may be named sizes (the kernel takes every size at run time;
    // the output's are polynomials the type rule fitted); channels, weight and bias are fixed.
    const [N, C, H, W] = dimsOf(x.type), [OH, OW] = dimsOf(n.type).slice(2) as [Dim, Dim];
    const [CO, , KH, KW] = w.type.shape;
    if (typeof C !== 'number') throw new Error(`codegen: conv2d${n.label ? ` at ${n.label}` : ''} over named channels is not supported (${dimsOf(x.type).join(', ')})`);
    for (const [what, t] of [['weight', w], ['bias', b]] as const) {
      if (t?.type.dims) throw new Error(`codegen: conv2d${n.label ? ` at ${n.label}` : ''} with a ${what} of named sizes [${t.type.dims.join(', ')}] is not supported (its sizes must be fixed)`);
    }
    const [sh, sw] = pair(n.attrs.stride), [ph, pw] = pair(n.attrs.padding), [dh, dw] = pair(n.attrs.dilation);
    const G = n.attrs.groups ?? 1;
    if (G > 1) {
      // Grouped: per image and group, im2col of the group's channels, then one GEMM with the group's filters.
      const CG = C / G, COG = CO! / G, K = CG * KH! * KW!, P = mulDims(OH, OW);
      return [
        `for (let b = 0; b < ${code(N!)}; b++) {`,
        `  for (let g = 0; g < ${G}; g++) {`,
        `    ${kernelCall('im2col_packed_f32', { x: `${c.addr(x)} + (<usize>b * ${C} + <usize>g * ${CG}) * <usize>${code(mulDims(mulDims(H!, W!), 4))}`, c: CG, h: code(H!), w: code(W!), kh: KH!, kw: KW!, sh, sw, ph, pw, dh, dw, oh: code(OH), ow: code(OW), dst: c.scratch(n) })};`,
        // The group's filters are A (COG × K), the packed im2col panels B, the bias a row bias.
        `    ${kernelCall('gemm_f32', { a: `${c.addr(w)} + <usize>g * ${COG * K * 4}`, lda: K, w: c.scratch(n), c: `${c.addr(n)} + (<usize>b * ${CO} + <usize>g * ${COG}) * <usize>${code(mulDims(P, 4))}`, ldc: code(P), m: COG, n: code(P), k: K, rowBias: b ? `${c.addr(b)} + <usize>g * ${COG * 4}` : 0, act: actCode(n.attrs.act) })};`,
        '  }',
        '}',
      ];
    }
    const args = { x: c.addr(x), w: c.addr(w), bias: b ? c.addr(b) : 0, y: c.addr(n), scratch: c.scratch(n), n: code(N!), c: C, h: code(H!), wi: code(W!), cout: CO!, kh: KH!, kw: KW!, sh, sw, ph, pw, dh, dw, oh: code(OH), ow: code(OW), act: actCode(n.attrs.act) };
    return [`${t ? kernelCall('conv2d_f32_part', { ...args, tid: t.tid, nt: t.nt }) : kernelCall('conv2d_f32', args)};`];
  },
  split: conv2dSplits,
  scratchBytes: (n) => {
    const [, cg, kh, kw] = n.inputs[1]!.type.shape as [number, number, number, number]; // channels per group
    const [, , oh, ow] = n.type.shape as [number, number, number, number];
    return conv2dScratchBytes(cg, kh, kw, oh, ow);
  },
});

function poolCall(n: Node & { attrs: PoolAttrs }, c: Layout, fn: string, extra: Record<string, number>): string[] {
  const [N, C, H, W] = dimsOf(n.inputs[0]!.type);
  const [, , OH, OW] = dimsOf(n.type);
  const [kh, kw] = pair(n.attrs.kernel), [sh, sw] = pair(n.attrs.stride), [ph, pw] = pair(n.attrs.padding);
  return [`${kernelCall(fn, { x: c.addr(n.inputs[0]!), y: c.addr(n), nc: code(mulDims(N!, C!)), h: code(H!), w: code(W!), kh, kw, sh, sw, ph, pw, oh: code(OH!), ow: code(OW!), ...extra })};`];
}

// One call over every (N, C) plane; 1-D and 2-D pools pass size 1 and kernel 1 for the leading axes.
const maxpoolIndices = defineLowering<MaxPoolIndicesAttrs>({
  emit: (n, c) => {
    const [N, C] = dimsOf(n.inputs[0]!.type), lead = 3 - n.attrs.kernel.length;
    const three = (v: readonly number[], fill: number) => [...Array<number>(lead).fill(fill), ...v];
    const ins = three(n.inputs[0]!.type.shape.slice(2) as number[], 1), outs = three(n.attrs.outs, 1);
    const [kd, kh, kw] = three(n.attrs.kernel, 1), [sd, sh, sw] = three(n.attrs.stride, 1), [pd, ph, pw] = three(n.attrs.padding, 0);
    const [dd, dh, dw] = three(n.attrs.dilation, 1), [qd, qh, qw] = three(n.attrs.planeStrides, 0);
    return [`${kernelCall('maxpool_indices_f32', {
      x: c.addr(n.inputs[0]!), y: c.addr(n), yi: c.result(n, 1), nc: code(mulDims(N!, C!)), id: ins[0]!, ih: ins[1]!, iw: ins[2]!,
      od: outs[0]!, oh: outs[1]!, ow: outs[2]!, kd: kd!, kh: kh!, kw: kw!, sd: sd!, sh: sh!, sw: sw!, pd: pd!, ph: ph!, pw: pw!, dd: dd!, dh: dh!, dw: dw!, qd: qd!, qh: qh!, qw: qw!,
    })};`];
  },
});

export const LINALG_LOWERINGS = {
  maxpool_indices: maxpoolIndices,
  gemm,
  matmul,
  conv2d,
  maxpool2d: defineLowering<PoolAttrs>({ emit: (n, c) => poolCall(n, c, 'maxpool2d_f32', {}) }),
  avgpool2d: defineLowering<PoolAttrs>({ emit: (n, c) => poolCall(n, c, 'avgpool2d_f32', { countIncludePad: n.attrs.countIncludePad ? 1 : 0 }) }),
};
