// Linear algebra: matmul (batched, broadcast), gemm (matmul by a constant weight with bias and
// activation in the epilogue), conv2d, maxpool2d, avgpool2d, maxpool_indices (a max pool's values
// and the positions of its maxima, torch's max_pool*d(return_indices=True)).
// Shape legend: N batch, C channels, H/W height/width, M/K/N matrix dims.

import { windowsOf, type Dim } from '../dims.ts';
import { ACTIVATIONS, applyAct, type Activation } from '../elementwise.ts';
import { broadcastShapes, dimsOf, fmtShape, fmtType, numel, sameShape, type TensorType } from '../types.ts';
import { defineOp, type NoAttrs, type NodeOf, type Value } from './def.ts';
import { forEachBroadcast } from './iterate.ts';
import { arity, f32, fail, wantDtype, wantRank, windowOut } from './rules.ts';

/** A window parameter: one value for both dimensions or [h, w]. */
export type Pair = number | readonly number[];
export interface GemmAttrs { act: Activation }
export interface Conv2dAttrs { stride?: Pair; padding?: Pair; dilation?: Pair; groups?: number; act?: Activation }
export interface PoolAttrs { kernel: Pair; stride?: Pair; padding?: Pair; countIncludePad?: boolean }
/**
 * A max pool with indices over the last kernel.length (1 to 3) axes of x [N, C, …]: per axis the
 * kernel, stride, dilation, leading padding and output size (the caller's floor or ceil rule);
 * an index is Σ posᵢ·planeStrides[i] over the input cell's position (row-major h·W + w, or ONNX's
 * column-major h + w·H).
 */
export interface MaxPoolIndicesAttrs { kernel: number[]; stride: number[]; dilation: number[]; padding: number[]; outs: number[]; planeStrides: number[] }

export const pair = (v: Pair | undefined, dflt: number): [number, number] =>
  v === undefined ? [dflt, dflt] : typeof v === 'number' ? [v, v] : [v[0]!, v[1]!];

function matmulShape(op: string, a: TensorType, b: TensorType): number[] {
  if (a.shape.length < 2 || b.shape.length < 2) fail(op, `operands must have rank >= 2, got ${fmtType(a)} and ${fmtType(b)}`);
  const [m, k] = a.shape.slice(-2) as [number, number];
  const [k2, n] = b.shape.slice(-2) as [number, number];
  if (k !== k2) fail(op, `inner dimensions differ: ${fmtShape(a.shape)} (k=${k}) · ${fmtShape(b.shape)} (k=${k2})`);
  const batch = broadcastShapes(a.shape.slice(0, -2), b.shape.slice(0, -2))
    ?? fail(op, `batch dimensions do not broadcast: ${fmtShape(a.shape)} · ${fmtShape(b.shape)}`);
  return [...batch, m, n];
}

const matmul = defineOp<NoAttrs>({
  type: (ins) => {
    arity('matmul', ins, 2);
    wantDtype('matmul', 'a', ins[0]!, 'f32'); wantDtype('matmul', 'b', ins[1]!, 'f32');
    return f32(matmulShape('matmul', ins[0]!, ins[1]!));
  },
  evaluate: (n, [a, b]) => {
    const out = new Float32Array(numel(n.type.shape));
    const [m, k] = a!.type.shape.slice(-2) as [number, number];
    const nn = b!.type.shape[b!.type.shape.length - 1]!;
    const batch = n.type.shape.slice(0, -2);
    forEachBroadcast(batch, [a!.type.shape.slice(0, -2), b!.type.shape.slice(0, -2)], (o, [oa, ob]) => {
      for (let i = 0; i < m; i++) for (let j = 0; j < nn; j++) {
        let s = 0;
        for (let p = 0; p < k; p++) s += a!.data[oa! * m * k + i * k + p]! * b!.data[ob! * k * nn + p * nn + j]!;
        out[o * m * nn + i * nn + j] = s;
      }
    });
    return out;
  },
  // The batch dims (all but the matrices') broadcast.
  broadcasts: (ins, out) => ins.map((t, i) => [i, dimsOf(t).slice(0, -2), dimsOf(out).slice(0, -2)]),
});

// x[..., k] · w[k, n] (+ bias[n]), then an activation: matmul after epilogue fusion.
const gemm = defineOp<GemmAttrs>({
  type: (ins, a) => {
    arity('gemm', ins, 2, 3);
    const [x, w, b] = ins as [TensorType, TensorType, TensorType?];
    wantRank('gemm', 'weight', w, 2);
    const k = x.shape[x.shape.length - 1];
    if (k !== w.shape[0]) fail('gemm', `inner dimensions differ: ${fmtShape(x.shape)} · ${fmtShape(w.shape)}`);
    if (b && !sameShape(b.shape, [w.shape[1]!])) fail('gemm', `bias must be [${w.shape[1]}], got ${fmtShape(b.shape)}`);
    if (!ACTIVATIONS.includes(a.act)) fail('gemm', `unknown activation ${String(a.act)}`);
    return f32([...x.shape.slice(0, -1), w.shape[1]!]);
  },
  evaluate: (n, [x, w, b]) => {
    const [k, nn] = w!.type.shape as [number, number];
    const rows = numel(x!.type.shape) / k;
    const act = n.attrs.act;
    const out = new Float32Array(rows * nn);
    for (let i = 0; i < rows; i++) for (let j = 0; j < nn; j++) {
      let s = b ? b.data[j]! : 0;
      for (let p = 0; p < k; p++) s += x!.data[i * k + p]! * w!.data[p * nn + j]!;
      out[i * nn + j] = applyAct(act, s);
    }
    return out;
  },
});

const conv2d = defineOp<Conv2dAttrs>({
  type: (ins, a) => {
    arity('conv2d', ins, 2, 3);
    const [x, w, b] = ins as [TensorType, TensorType, TensorType?];
    wantRank('conv2d', 'input', x, 4); wantRank('conv2d', 'weight', w, 4);
    // The kernels read f32: an i32 or bool operand would be its bits read as floats.
    wantDtype('conv2d', 'input', x, 'f32'); wantDtype('conv2d', 'weight', w, 'f32');
    if (b) wantDtype('conv2d', 'bias', b, 'f32');
    const [n, c, h, wd] = x.shape as [number, number, number, number];
    const [co, ci, kh, kw] = w.shape as [number, number, number, number];
    const groups = a.groups ?? 1;
    if (!(groups >= 1) || c % groups || co % groups) fail('conv2d', `groups ${groups} must divide the input channels ${c} and output channels ${co}`);
    if (ci * groups !== c) fail('conv2d', `input has ${c} channels but weight ${fmtShape(w.shape)} expects ${ci * groups}${groups > 1 ? ` (${ci} per group × ${groups} groups)` : ''}`);
    if (b && !sameShape(b.shape, [co])) fail('conv2d', `bias must be [${co}], got ${fmtShape(b.shape)}`);
    const [sh, sw] = pair(a.stride, 1), [ph, pw] = pair(a.padding, 0), [dh, dw] = pair(a.dilation, 1);
    const oh = windowOut(h, kh, sh, ph, dh), ow = windowOut(wd, kw, sw, pw, dw);
    if (oh < 1 || ow < 1) fail('conv2d', `kernel ${kh}x${kw} does not fit input ${fmtShape(x.shape)} with padding ${ph},${pw}`);
    return f32([n, co, oh, ow]);
  },
  dims: ([x, w], a) => {
    const [kh, kw] = w!.shape.slice(2) as [number, number], [sh, sw] = pair(a.stride, 1), [ph, pw] = pair(a.padding, 0), [dh, dw] = pair(a.dilation, 1);
    const [h, wd] = dimsOf(x!).slice(2) as [Dim, Dim];
    return [undefined, undefined, windowsOf(h, ph, ph, (kh - 1) * dh + 1, sh), windowsOf(wd, pw, pw, (kw - 1) * dw + 1, sw)];
  },
  evaluate: (n, [x, w, b]) => {
    const [N, C, H, W] = x!.type.shape as number[] as [number, number, number, number];
    const [CO, , KH, KW] = w!.type.shape as number[] as [number, number, number, number];
    const [, , OH, OW] = n.type.shape as number[] as [number, number, number, number];
    const [sh, sw] = pair(n.attrs.stride, 1), [ph, pw] = pair(n.attrs.padding, 0), [dh, dw] = pair(n.attrs.dilation, 1);
    const act = n.attrs.act ?? 'none';
    const G = n.attrs.groups ?? 1, CG = C / G, COG = CO / G;
    const out = new Float32Array(numel(n.type.shape));
    for (let b0 = 0; b0 < N; b0++) for (let co = 0; co < CO; co++) for (let oy = 0; oy < OH; oy++) for (let ox = 0; ox < OW; ox++) {
      let s = b ? b.data[co]! : 0;
      const g = Math.floor(co / COG);
      for (let cg = 0; cg < CG; cg++) for (let ky = 0; ky < KH; ky++) for (let kx = 0; kx < KW; kx++) {
        const iy = oy * sh - ph + ky * dh, ix = ox * sw - pw + kx * dw;
        if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
        s += x!.data[((b0 * C + g * CG + cg) * H + iy) * W + ix]! * w!.data[((co * CG + cg) * KH + ky) * KW + kx]!;
      }
      out[((b0 * CO + co) * OH + oy) * OW + ox] = applyAct(act, s);
    }
    return out;
  },
});

function pool2d(n: NodeOf<PoolAttrs>, x: Value, kind: 'max' | 'avg'): Float32Array {
  const [N, C, H, W] = x.type.shape as number[] as [number, number, number, number];
  const [kh, kw] = pair(n.attrs.kernel, 1), [sh, sw] = pair(n.attrs.stride, kh), [ph, pw] = pair(n.attrs.padding, 0);
  const OH = windowOut(H, kh, sh, ph), OW = windowOut(W, kw, sw, pw);
  const out = new Float32Array(N * C * OH * OW);
  for (let nc = 0; nc < N * C; nc++) for (let oy = 0; oy < OH; oy++) for (let ox = 0; ox < OW; ox++) {
    let s = kind === 'max' ? -Infinity : 0, cnt = 0;
    const y0 = oy * sh - ph, x0 = ox * sw - pw;
    for (let ky = 0; ky < kh; ky++) for (let kx = 0; kx < kw; kx++) {
      const iy = y0 + ky, ix = x0 + kx;
      if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
      const v = x.data[(nc * H + iy) * W + ix]!;
      if (kind === 'max') s = v > s || v !== v ? v : s; else { s += v; cnt++; }
    }
    if (kind === 'avg') {
      // PyTorch: with count_include_pad the divisor counts padding but not the part of the
      // window that runs past the padded input.
      const div = n.attrs.countIncludePad
        ? (Math.min(y0 + kh, H + ph) - y0) * (Math.min(x0 + kw, W + pw) - x0)
        : cnt;
      s /= div;
    }
    out[(nc * OH + oy) * OW + ox] = s;
  }
  return out;
}

function pool(op: 'maxpool2d' | 'avgpool2d') {
  return defineOp<PoolAttrs>({
    type: (ins, a) => {
      arity(op, ins, 1);
      const x = ins[0]!;
      wantRank(op, 'input', x, 4); wantDtype(op, 'input', x, 'f32');
      const [kh, kw] = pair(a.kernel, 1), [sh, sw] = pair(a.stride, kh), [ph, pw] = pair(a.padding, 0);
      if (ph * 2 > kh || pw * 2 > kw) fail(op, `padding ${ph},${pw} must be at most half the kernel ${kh},${kw}`);
      const [n, c, h, w] = x.shape as [number, number, number, number];
      const oh = windowOut(h, kh, sh, ph), ow = windowOut(w, kw, sw, pw);
      if (oh < 1 || ow < 1) fail(op, `kernel ${kh}x${kw} does not fit input ${fmtShape(x.shape)}`);
      return f32([n, c, oh, ow]);
    },
    dims: ([x], a) => {
      const [kh, kw] = pair(a.kernel, 1), [sh, sw] = pair(a.stride, kh), [ph, pw] = pair(a.padding, 0), [h, w] = dimsOf(x!).slice(2) as [Dim, Dim];
      return [undefined, undefined, windowsOf(h, ph, ph, kh, sh), windowsOf(w, pw, pw, kw, sw)];
    },
    evaluate: (n, [x]) => pool2d(n, x!, op === 'maxpool2d' ? 'max' : 'avg'),
  });
}

function maxPoolIndicesTypes(ins: readonly TensorType[], a: MaxPoolIndicesAttrs): TensorType[] {
  const op = 'maxpool_indices';
  arity(op, ins, 1);
  const x = ins[0]!, r = a.kernel.length;
  wantDtype(op, 'input', x, 'f32');
  if (r < 1 || r > 3 || x.shape.length !== r + 2) fail(op, `input must be [N, C] and 1 to 3 pooled axes matching kernel [${a.kernel}], got ${fmtType(x)}`);
  for (const [name, v, min] of [['stride', a.stride, 1], ['dilation', a.dilation, 1], ['padding', a.padding, 0], ['outs', a.outs, 1], ['planeStrides', a.planeStrides, 1]] as const) {
    if (v.length !== r || !v.every((d) => Number.isInteger(d) && d >= min)) fail(op, `${name} must be ${r} integers >= ${min}, got [${v}]`);
  }
  // Every window starts inside the input or its leading padding (so it has a first cell to point at).
  x.shape.slice(2).forEach((n, i) => {
    if ((a.outs[i]! - 1) * a.stride[i]! - a.padding[i]! >= (n as number)) fail(op, `output ${a.outs[i]} along axis ${i + 2} starts a window past the input ${fmtShape(x.shape)}`);
  });
  const shape = [...x.shape.slice(0, 2), ...a.outs];
  return [f32(shape), { dtype: 'i32', shape }];
}

/** PyTorch's CPU loop: a cell inside the input takes the window when larger than the best so far or NaN (first of ties, last NaN); the best starts at −∞ on the window's first cell inside the input. */
const maxpoolIndices = defineOp<MaxPoolIndicesAttrs>({
  type: (ins, a) => maxPoolIndicesTypes(ins, a)[0]!,
  secondary: (ins, a) => maxPoolIndicesTypes(ins, a).slice(1),
  evaluate: (n, [x]) => {
    const { kernel: k, stride: s, dilation: d, padding: p, outs, planeStrides: q } = n.attrs;
    const ins = x!.type.shape.slice(2) as number[], plane = numel(ins), oplane = numel(outs);
    const nc = x!.data.length / plane, values = new Float32Array(nc * oplane), indices = new Int32Array(nc * oplane);
    const rowMajor = ins.map((_, i) => numel(ins.slice(i + 1)));
    for (let c = 0; c < nc; c++) for (let o = 0; o < oplane; o++) {
      const at = outs.map((_, i) => Math.floor(o / numel(outs.slice(i + 1))) % outs[i]! * s[i]! - p[i]!);
      let best = -Infinity, idx = at.reduce((sum, v, i) => { while (v < 0) v += d[i]!; return sum + v * q[i]!; }, 0);
      for (let j = 0; j < numel(k); j++) {
        const pos = k.map((_, i) => at[i]! + (Math.floor(j / numel(k.slice(i + 1))) % k[i]!) * d[i]!);
        if (pos.some((v, i) => v < 0 || v >= ins[i]!)) continue;
        const v = x!.data[c * plane + pos.reduce((sum, v, i) => sum + v * rowMajor[i]!, 0)]!;
        if (v > best || v !== v) { best = v; idx = pos.reduce((sum, v, i) => sum + v * q[i]!, 0); }
      }
      values[c * oplane + o] = best; indices[c * oplane + o] = idx;
    }
    return [values, indices];
  },
});

export const LINALG_OPS = { matmul, gemm, conv2d, maxpool2d: pool('maxpool2d'), avgpool2d: pool('avgpool2d'), maxpool_indices: maxpoolIndices };
