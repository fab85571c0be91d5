// ONNX linear algebra and neural-network layers: Gemm, Conv, pooling, batch and layer normalization, Dropout.
// A symbolic size may be the batch (axis 0) of a convolution or pool (batchOnly), and a spatial
// axis of a 1-D or 2-D Conv, ConvTranspose, Max/AveragePool or global pool (fixedChannels;
// F.windowsDim refuses a window that may be empty; a stride that does not divide gives a floor dim) or of any
// Batch/Instance/GroupNormalization (fixedChannels; their means divide by the run-time count): pads, windows and masks are computed from fixed sizes, and every block built here takes
// the input's dims (a block at the bounds would be wrong at a smaller size).

import { fmtShape, numel } from '../../ir/types.ts';
import { cat, constant, record, Tensor } from '../../dsl/tensor.ts';
import * as F from '../../dsl/functional.ts';
import { conv3d } from '../../dsl/volumetric.ts';
import { DT, OnnxError } from '../proto.ts';
import { Ctx, host, isHost, UnsupportedError, type Val } from '../ctx.ts';
import { batchOnly, f32Input, fixedAxes, fixedChannels, fixedWeights, full, normAxis, type Translate } from './common.ts';
import type { Dim } from '../../ir/dims.ts';

export function gemm(c: Ctx): Tensor {
  c.only('alpha', 'beta', 'transA', 'transB');
  let a = f32Input(c, 0, 'A'), b = f32Input(c, 1, 'B');
  if (a.rank !== 2 || b.rank !== 2) c.unsupported(`A ${a.rank}-D, B ${b.rank}-D (Gemm takes matrices)`);
  if (c.int('transA', 0)) a = a.mT;
  if (c.int('transB', 0)) b = b.mT;
  const alpha = c.float('alpha', 1), beta = c.float('beta', 1);
  let y = a.matmul(b);
  if (alpha !== 1) y = y.mul(alpha);
  if (c.has(2) && beta !== 0) { const bias = f32Input(c, 2, 'C'); y = y.add(beta === 1 ? bias : bias.mul(beta)); }
  return y;
}

/**
 * Spatial padding [begin, end] per spatial axis from pads / auto_pad, ONNX's rules. A symbolic
 * size takes SAME_* only at stride 1 (the pad is then (k − 1)·d, whatever the size).
 */
function spatialPads(c: Ctx, inSizes: Dim[], k: number[], s: number[], d: number[]): Array<[number, number]> {
  const auto = c.str('auto_pad', 'NOTSET');
  const r = inSizes.length;
  if (auto === 'NOTSET') {
    const p = c.intList('pads') ?? new Array<number>(2 * r).fill(0);
    if (p.length !== 2 * r) c.unsupported(`pads [${p}] for ${r} spatial axes`);
    return inSizes.map((_, i) => [p[i]!, p[i + r]!]);
  }
  if (auto === 'VALID') return inSizes.map(() => [0, 0]);
  if (auto !== 'SAME_UPPER' && auto !== 'SAME_LOWER') c.unsupported(`auto_pad '${auto}'`);
  return inSizes.map((n, i) => {
    if (typeof n !== 'number') {
      if (s[i] !== 1) c.unsupported(`auto_pad '${auto}' with stride ${s[i]} over the symbolic size '${n}' on axis ${i + 2} (its pads would depend on the size modulo the stride)`);
      n = 1;
    }
    const out = Math.ceil(n / s[i]!), total = Math.max(0, (out - 1) * s[i]! + (k[i]! - 1) * d[i]! + 1 - n);
    const small = Math.floor(total / 2);
    return auto === 'SAME_UPPER' ? [small, total - small] : [total - small, small];
  });
}

/** Pads the spatial axes (2, 3, …) with `value` (asymmetric pads, ceil-mode windows); the batch may be symbolic. */
function padSpatial(x: Tensor, pads: Array<[number, number]>, value: number): Tensor {
  let y = x;
  pads.forEach(([b, e], i) => {
    const axis = 2 + i;
    const block = (n: number) => full('f32', value, y.dims.map((d, j) => (j === axis ? n : d)), y.bounds);
    const parts = [...(b ? [block(b)] : []), y, ...(e ? [block(e)] : [])];
    if (parts.length > 1) y = cat(parts, axis);
  });
  return y;
}

/** Each symbolic spatial axis of x: its window's output length (a polynomial, or a floor at a stride that does not divide) must be at least 1 at the axis's least size (F.windowsDim, which names the op). */
function windowsOverSymbolic(c: Ctx, x: Tensor, k: number[], s: number[], d: number[], pads: Array<[number, number]>): void {
  k.forEach((kk, i) => F.windowsDim(c.node.opType, x, 2 + i, pads[i]![0], pads[i]![1], (kk - 1) * d[i]! + 1, s[i]!, `kernel ${k.join('×')}${d.some((v) => v > 1) ? ` (dilation ${d.join(',')})` : ''}`));
}

/** Runs a 2-D op on a 1-D (N, C, L) input as (N, C, 1, L). */
function as2d(c: Ctx, x: Tensor, f: (x4: Tensor, lift: <T>(v: T[], one: T) => T[]) => Tensor): Tensor {
  if (x.rank === 4) return f(x, (v) => v);
  if (x.rank === 3) { const y = f(x.unsqueeze(2), (v, one) => [one, ...v]); return y.squeeze(2); }
  return c.unsupported(`a ${x.rank - 2}-D input (${c.node.opType} takes 1-D and 2-D${c.node.opType === 'Conv' ? ' and 3-D' : ''})`);
}

export function conv(c: Ctx): Tensor {
  c.only('auto_pad', 'dilations', 'group', 'kernel_shape', 'pads', 'strides');
  const x = f32Input(c, 0, 'X');
  const sp = x.rank - 2;
  // 1-D and 2-D: symbolic lengths too (conv2d reads them at run time); 3-D (conv3d's depth im2col): the batch only.
  if (sp === 3) batchOnly(c, x, 'input X'); else fixedChannels(c, x, 'input X');
  const w0 = f32Input(c, 1, 'W'), b = c.has(2) ? f32Input(c, 2, 'B') : undefined;
  fixedWeights(c, [[w0, 'W'], [b, 'B']]);
  const ks = c.intList('kernel_shape');
  if (ks && ks.some((k, i) => k !== w0.maxShape[2 + i])) c.unsupported(`kernel_shape [${ks}] that differs from W's [${w0.maxShape.slice(2)}]`);
  const k = w0.maxShape.slice(2), s = c.intList('strides') ?? k.map(() => 1), d = c.intList('dilations') ?? k.map(() => 1);
  const pads = spatialPads(c, x.dims.slice(2), k, s, d);
  if (sp < 3 && k.length === sp) windowsOverSymbolic(c, x, k, s, d, pads);
  if (sp === 3) {
    // F.conv3d pads symmetrically; asymmetric pads (auto_pad SAME_*) are zeros concatenated first.
    const sym = pads.every(([a, e]) => a === e);
    return conv3d(sym ? x : padSpatial(x, pads, 0), w0, b, { stride: s as [number, number, number], padding: (sym ? pads.map(([a]) => a) : [0, 0, 0]) as [number, number, number], dilation: d as [number, number, number], groups: c.int('group', 1) });
  }
  return as2d(c, x, (x4, lift) => {
    const w = sp === 1 ? w0.unsqueeze(2) : w0;
    const p = lift(pads, [0, 0] as [number, number]);
    const sym = p.every(([a, e]) => a === e);
    const xin = sym ? x4 : padSpatial(x4, p, 0);
    const padding = sym ? p.map(([a]) => a) : [0, 0];
    return record('conv2d', b ? [xin, w, b] : [xin, w], { stride: lift(s, 1), padding, dilation: lift(d, 1), groups: c.int('group', 1), act: 'none' });
  });
}

/**
 * ConvTranspose (1-D and 2-D): F.convTranspose2d. Asymmetric pads crop the output of the
 * smaller pad on each side; auto_pad SAME_* and output_shape (where ONNX's spec and onnxruntime
 * have differed) are refused.
 */
export function convTranspose(c: Ctx): Tensor {
  c.only('auto_pad', 'dilations', 'group', 'kernel_shape', 'output_padding', 'pads', 'strides');
  const auto = c.str('auto_pad', 'NOTSET');
  if (auto !== 'NOTSET' && auto !== 'VALID') c.unsupported(`auto_pad '${auto}'`);
  const x = f32Input(c, 0, 'X'), w0 = f32Input(c, 1, 'W'), b = c.has(2) ? f32Input(c, 2, 'B') : undefined;
  fixedChannels(c, x, 'input X'); // a symbolic length is spread and cropped by its dims (F.convTranspose2d)
  fixedWeights(c, [[w0, 'W'], [b, 'B']]);
  const sp = x.rank - 2, k = w0.maxShape.slice(2);
  const ks = c.intList('kernel_shape');
  if (ks && ks.some((v, i) => v !== k[i])) c.unsupported(`kernel_shape [${ks}] that differs from W's [${k}]`);
  const s = c.intList('strides') ?? k.map(() => 1), d = c.intList('dilations') ?? k.map(() => 1);
  const op = c.intList('output_padding') ?? k.map(() => 0);
  const p = auto === 'VALID' ? new Array<number>(2 * sp).fill(0) : (c.intList('pads') ?? new Array<number>(2 * sp).fill(0));
  if (p.length !== 2 * sp || s.length !== sp || d.length !== sp || op.length !== sp) c.unsupported(`strides/dilations/output_padding/pads that do not give one value per spatial axis (${sp})`);
  return as2d(c, x, (x4, lift) => {
    const pads = lift(k.map((_, i) => [p[i]!, p[i + sp]!] as [number, number]), [0, 0] as [number, number]);
    const common = pads.map(([a, e]) => Math.min(a, e));
    let y = F.convTranspose2d(x4, sp === 1 ? w0.unsqueeze(2) : w0, b, {
      stride: lift(s, 1) as [number, number], dilation: lift(d, 1) as [number, number], padding: common as [number, number],
      outputPadding: lift(op, 0) as [number, number], groups: c.int('group', 1),
    });
    // A negative end counts from the actual end (of a symbolic length too).
    pads.forEach(([a, e], i) => { if (a !== e) y = y.slice(2 + i, a - common[i]!, e > common[i]! ? common[i]! - e : undefined); });
    return y;
  });
}

export function pool(kind: 'max' | 'avg'): Translate {
  return (c) => {
    c.only('auto_pad', 'ceil_mode', 'count_include_pad', 'dilations', 'kernel_shape', 'pads', 'strides', 'storage_order');
    const x = f32Input(c, 0, 'X');
    const k = c.intList('kernel_shape') ?? c.unsupported("missing 'kernel_shape'");
    const s = c.intList('strides') ?? k.map(() => 1), d = c.intList('dilations') ?? k.map(() => 1);
    const indices = kind === 'max' && c.node.outputs.length > 1 && !!c.node.outputs[1];
    // The 1-D and 2-D pool kernels read symbolic lengths at run time; the separable and indexed pools take the batch only.
    const kernels = x.rank <= 4 && d.every((v) => v === 1) && !indices;
    if (kernels) fixedChannels(c, x, 'input X'); else batchOnly(c, x, 'input X');
    if (x.rank < 3 || x.rank > 5) c.unsupported(`a ${x.rank - 2}-D input`);
    const pads = spatialPads(c, x.dims.slice(2), k, s, d);
    const ceil = c.int('ceil_mode', 0) === 1, cip = c.int('count_include_pad', 0) === 1;
    // A max pool's ceil mode at a stride up to kernel − end pad (SqueezeNet's, VGG's MaxPool2d(…,
    // ceil_mode=True) exported with dynamic H and W) is floor mode over s − 1 more cells of −∞, as
    // the DSL's pool2d has it: ⌈a/s⌉ windows of the same cells, none starting in the end pad.
    const ceilMax = (i: number) => kind === 'max' && !indices && d[i] === 1 && s[i]! <= k[i]! - pads[i]![1];
    x.dims.slice(2).forEach((n, i) => {
      if (typeof n === 'number') return;
      if (ceil && s[i] !== 1 && !ceilMax(i)) c.unsupported(`ceil_mode with stride ${s[i]} over the symbolic size '${n}' on axis ${i + 2}${kind === 'max' ? ` (a MaxPool's is taken at a stride up to kernel − end pad, ${k[i]! - pads[i]![1]})` : ''}`);
    });
    // (Ceil mode's extra cells count toward the least size: PyTorch's MaxPool2d(2, 2, ceil_mode=True) takes a length of 1.)
    if (kernels && k.length === x.rank - 2) windowsOverSymbolic(c, x, k, s, d, pads.map(([b, e], i) => [b, e + (ceil && typeof x.dims[2 + i] !== 'number' ? s[i]! - 1 : 0)]));
    if (indices) return maxPoolIndices(c, x, k, s, d, pads, ceil);
    // Dilated and 3-D windows: the DSL's separable pool (the 2-D kernels take neither).
    if (d.some((v) => v !== 1) || x.rank === 5) return F.poolNd(c.node.opType, x, kind, k, s, d, pads, { ceil, countIncludePad: cip });
    return as2d(c, x, (x4, lift) => {
      const kk = lift(k, 1), ss = lift(s, 1), pp = lift(pads, [0, 0] as [number, number]);
      const sizes = x4.maxShape.slice(2);
      // Extra end padding that makes floor-mode windows match ceil mode (a window must start inside the input or its begin pad).
      const extra = sizes.map((n, i) => {
        if (!ceil) return 0;
        // A symbolic axis (at a stride of 1, or a MaxPool's ceilMax): s − 1 cells of −∞, whatever the size.
        if (typeof x4.dims[2 + i] !== 'number') return ss[i]! - 1;
        const [pb, pe] = pp[i]!, span = n + pb + pe - kk[i]!;
        let out = Math.ceil(span / ss[i]!) + 1;
        if ((out - 1) * ss[i]! >= n + pb) out--;
        return Math.max(0, (out - 1) * ss[i]! + kk[i]! - (n + pb + pe));
      });
      const sym = pp.every(([a, e], i) => a === e && extra[i] === 0 && 2 * a <= kk[i]!);
      const op = kind === 'max' ? 'maxpool2d' : 'avgpool2d';
      if (sym) return record(op, [x4], { kernel: kk, stride: ss, padding: pp.map(([a]) => a), ...(kind === 'avg' ? { countIncludePad: cip } : {}) });
      const all = pp.map(([b, e], i) => [b, e + extra[i]!] as [number, number]);
      // The average's count of cells then comes from a mask made at fixed sizes.
      const named = x4.dims.slice(2).find((d) => typeof d !== 'number');
      if (kind === 'avg' && named !== undefined) c.unsupported(`AveragePool with pads [${pads.map((p) => p.join(',')).join('; ')}] (unequal, or more than half the kernel) over the symbolic size '${named}'`);
      if (kind === 'max') return record(op, [padSpatial(x4, all, -Infinity)], { kernel: kk, stride: ss, padding: [0, 0] });
      // Average over the cells that count: the padded sum's pool divided by the pool of a mask of those cells.
      const [H, W] = x4.maxShape.slice(2) as [number, number];
      const PH = H + all[0]![0] + all[0]![1], PW = W + all[1]![0] + all[1]![1];
      const mask = new Float32Array(PH * PW);
      for (let y = 0; y < PH; y++) for (let xx = 0; xx < PW; xx++) {
        const inY = y >= all[0]![0] && y < all[0]![0] + H, inX = xx >= all[1]![0] && xx < all[1]![0] + W;
        const padY = y < all[0]![0] + H + pp[0]![1], padX = xx < all[1]![0] + W + pp[1]![1];
        mask[y * PW + xx] = (inY && inX) || (cip && padY && padX) ? 1 : 0;
      }
      const attrs = { kernel: kk, stride: ss, padding: [0, 0], countIncludePad: true };
      const num = record(op, [padSpatial(x4, all, 0)], attrs);
      const den = record(op, [constant(mask, [1, 1, PH, PW], 'f32', 'pool-count')], attrs);
      return num.div(den);
    });
  };
}


/**
 * MaxPool with its Indices output: PyTorch's max pool with indices (F.maxPoolWithIndices: ties
 * keep the first cell in scan order, NaN the last NaN; ONNX leaves both open), its per-plane
 * index moved to ONNX's flat index into the whole input, (n·C + c)·plane + the plane's. The
 * plane's index is row-major (storage_order 0: h·W + w) or column-major (1: h + w·H), which only
 * 1-D and 2-D pools take here. The offsets are a constant over [N, C]: the batch must be fixed.
 */
function maxPoolIndices(c: Ctx, x: Tensor, k: number[], s: number[], d: number[], pads: Array<[number, number]>, ceil: boolean): Tensor[] {
  const order = c.int('storage_order', 0), sizes = x.maxShape.slice(2);
  if (order !== 0 && order !== 1) c.unsupported(`storage_order ${order} (0 is row-major, 1 column-major)`);
  if (order === 1 && sizes.length === 3) c.unsupported('storage_order 1 (column-major Indices) of a 3-D pool (only 1-D and 2-D)');
  fixedAxes(c, x, 'input X', [0], 'the Indices output counts through the batch, so its size must be fixed');
  const [N, C] = x.maxShape as [number, number], plane = numel(sizes);
  const strides = order === 1 ? sizes.map((_, i) => sizes.slice(0, i).reduce((a, b) => a * b, 1)) : undefined;
  const [v, i] = F.maxPoolWithIndices(c.node.opType, x, k, s, d, pads, ceil, strides);
  if (N * C * plane > 2 ** 31) c.unsupported(`Indices into an input of ${N * C * plane} elements (simdflow's i32 indices, ONNX's int64, reach 2^31)`);
  const planes = Int32Array.from({ length: N * C }, (_, p) => p * plane);
  return [v, i.add(constant(planes, [N, C, ...sizes.map(() => 1)], 'i32', 'pool-plane-offsets'))];
}

/**
 * MaxUnpool: zeros of output_shape (by default N, C and (in − 1)·stride − pads + kernel per axis),
 * X written at I, flat indices into the whole output as MaxPool's Indices are: one scatter_elements
 * over the flattened output (the last of duplicate indices wins, as ONNX's reference loop writes).
 * An index outside [0, size) is the model's error: refused for constant indices, a trap at run
 * time (a negative one moved past the end first, since the scatter would count it from the end).
 * Not among the ops that take symbolic sizes: the indices count through the whole output.
 */
export const maxUnpool: Translate = (c) => {
  c.only('kernel_shape', 'pads', 'strides');
  const x = f32Input(c, 0, 'X'), r = x.rank - 2;
  if (r < 1 || r > 3) c.unsupported(`a ${r}-D input (1-D to 3-D)`);
  const k = c.intList('kernel_shape') ?? c.unsupported("missing 'kernel_shape'");
  const s = c.intList('strides') ?? k.map(() => 1), p = c.intList('pads') ?? new Array<number>(2 * r).fill(0);
  if (k.length !== r || s.length !== r || p.length !== 2 * r) c.unsupported(`kernel_shape [${k}], strides [${s}], pads [${p}] for ${r} spatial axes`);
  const idx = c.t(1, 'I');
  if (idx.dtype !== 'i32') c.unsupported(`indices I of type ${idx.dtype} (int64)`);
  if (idx.rank !== x.rank || idx.dims.some((d, i) => d !== x.dims[i])) c.unsupported(`indices I of shape ${fmtShape(idx.dims)} for X of shape ${fmtShape(x.dims)} (they must be the same)`);
  const shape = c.has(2) ? c.ints(2, 'output_shape')
    : [...x.maxShape.slice(0, 2), ...x.maxShape.slice(2).map((n, i) => (n - 1) * s[i]! - p[i]! - p[i + r]! + k[i]!)] as number[];
  if (shape.length !== x.rank || shape.some((n) => !(n >= 1))) c.unsupported(`the output shape [${shape}] (${c.has(2) ? 'output_shape' : 'inferred from kernel_shape, strides and pads'}; ${x.rank} positive sizes)`);
  const total = numel(shape);
  if (c.isConst(1)) {
    const bad = Array.from(c.ints(1, 'I')).find((v) => !(v >= 0 && v < total));
    if (bad !== undefined) throw new UnsupportedError(`${c.where}: index ${bad} is outside the output of ${total} elements ([${shape}])`);
  }
  const at = F.whereOp(idx.lt(0), total, idx).reshape(-1);
  return record('scatter_elements', [full('f32', 0, [total]), at, x.reshape(-1)], { axis: 0, reduction: 'none' }).reshape(...shape);
};

export function globalPool(kind: 'mean' | 'max'): Translate {
  return (c) => {
    const x = f32Input(c, 0, 'X'); // a mean or max over every spatial axis: the reductions take symbolic sizes on any axis
    const axes = [...x.maxShape.keys()].slice(2);
    return kind === 'mean' ? x.mean(axes, true) : x.max(axes, true);
  };
}

export function batchNorm(c: Ctx): Tensor[] {
  c.only('epsilon', 'momentum', 'training_mode', 'spatial', 'is_test', 'consumed_inputs');
  if (c.attr('spatial') && c.int('spatial', 1) !== 1) c.unsupported('spatial = 0');
  const training = c.int('training_mode', 0) === 1;
  if (!training && c.node.outputs.slice(1).some((o) => o)) c.unsupported('the running mean/variance outputs without training_mode');
  const x = f32Input(c, 0, 'X');
  fixedChannels(c, x, 'input X');
  const C = x.maxShape[1] ?? c.unsupported('a rank-1 input');
  const chan = (t: Tensor) => t.reshape(C, ...Array<number>(Math.max(0, x.rank - 2)).fill(1));
  const eps = c.float('epsilon', 1e-5);
  if (!training) return [F.batchNorm(x, f32Input(c, 3, 'input_mean'), f32Input(c, 4, 'input_var'), f32Input(c, 1, 'scale'), f32Input(c, 2, 'B'), { eps })];
  const scale = chan(f32Input(c, 1, 'scale')), bias = chan(f32Input(c, 2, 'B'));
  let mean = chan(f32Input(c, 3, 'input_mean')), vr = chan(f32Input(c, 4, 'input_var'));
  // Training: normalise by the batch's statistics (population variance over N and space) and
  // return the running statistics updated with momentum.
  const axes = [0, ...[...x.maxShape.keys()].slice(2)], m = c.float('momentum', 0.9);
  const bm = x.mean(axes, true), dx = x.sub(bm), bv = dx.mul(dx).mean(axes, true);
  const y = dx.mul(scale.mul(bv.add(eps).rsqrt())).add(bias);
  const flat = (t: Tensor) => t.reshape(C);
  mean = flat(mean).mul(m).add(flat(bm).mul(1 - m)); vr = flat(vr).mul(m).add(flat(bv).mul(1 - m));
  return [y, mean, vr];
}

/** InstanceNormalization: per sample and channel, over the spatial dims (F.groupNorm with a group per channel). */
export function instanceNorm(c: Ctx): Tensor {
  c.only('epsilon');
  const x = f32Input(c, 0, 'input');
  fixedChannels(c, x, 'input');
  const C = x.maxShape[1] ?? c.unsupported('a rank-1 input');
  if (x.rank < 3) c.unsupported(`a rank-${x.rank} input (it normalises over spatial dims)`);
  return F.groupNorm(x, C, f32Input(c, 1, 'scale'), f32Input(c, 2, 'B'), c.float('epsilon', 1e-5));
}

/**
 * LRN: y = x / (bias + alpha/size · Σ x²)^beta, the sum over channels c − ⌊(size−1)/2⌋ to
 * c + ⌈(size−1)/2⌉ within [0, C) (F.channelWindowSum). Not torch's local_response_norm, which
 * pads ⌈(size−1)/2⌉ before: the two differ for an even size.
 */
export function lrn(c: Ctx): Tensor {
  c.only('alpha', 'beta', 'bias', 'size');
  const x = f32Input(c, 0, 'X');
  if (x.rank < 2) c.unsupported(`a rank-${x.rank} input (LRN takes [N, C, …])`);
  const size = c.int('size', 0);
  if (!Number.isInteger(size) || size < 1) throw new OnnxError(`${c.where}: attribute 'size' must be a positive integer, got ${size}`);
  const sum = F.channelWindowSum(x.mul(x), Math.floor((size - 1) / 2), Math.ceil((size - 1) / 2));
  return x.div(sum.mul(c.float('alpha', 1e-4) / size).add(c.float('bias', 1)).pow(c.float('beta', 0.75)));
}

/** GroupNormalization: F.groupNorm; before opset 21 scale and bias are per group, and each group's applies to its channels. */
export function groupNormOp(c: Ctx): Tensor {
  c.only('epsilon', 'num_groups', 'stash_type');
  if (c.int('stash_type', 1) !== 1) c.unsupported(`stash_type ${c.int('stash_type', 1)} (statistics are computed in f32)`);
  const x = f32Input(c, 0, 'X'), G = c.int('num_groups', 0);
  fixedChannels(c, x, 'input X');
  const C = x.maxShape[1] ?? c.unsupported('a rank-1 input');
  if (G < 1 || C % G) c.unsupported(`num_groups ${G} for ${C} channels`);
  let scale = f32Input(c, 1, 'scale'), bias = f32Input(c, 2, 'bias');
  if (c.opset < 21) {
    const perChannel = (t: Tensor) => t.reshape(G, 1).expand(G, C / G).reshape(C);
    scale = perChannel(scale); bias = perChannel(bias);
  }
  return F.groupNorm(x, G, scale, bias, c.float('epsilon', 1e-5));
}

export function layerNorm(c: Ctx): Tensor[] {
  c.only('axis', 'epsilon', 'stash_type');
  const x = f32Input(c, 0, 'X');
  const axis = normAxis(c, c.int('axis', -1), x.rank), eps = c.float('epsilon', 1e-5);
  const scale = f32Input(c, 1, 'Scale'), bias = c.has(2) ? f32Input(c, 2, 'B') : undefined;
  const n = x.maxShape[x.rank - 1]!;
  const wantStats = c.node.outputs.slice(1).some((o) => o);
  const vec = (t: Tensor) => t.rank >= 1 && numel(t.maxShape) === n && t.maxShape[t.rank - 1] === n;
  if (axis === x.rank - 1 && !wantStats && vec(scale) && (!bias || vec(bias))) {
    return [record('layernorm', [x, scale.reshape(n), bias ? bias.reshape(n) : full('f32', 0, [n])], { eps })];
  }
  const axes = [...x.maxShape.keys()].slice(axis);
  const mean = x.mean(axes, true), dx = x.sub(mean);
  const inv = dx.mul(dx).mean(axes, true).add(eps).rsqrt();
  let y = dx.mul(inv).mul(scale);
  if (bias) y = y.add(bias);
  return [y, mean, inv];
}

/**
 * RMSNormalization (opset 23; torch's nn.RMSNorm): x · rsqrt(mean(x², axes axis…) + ε) · scale,
 * in f32 (stash_type 1, the only one: other stash types would round the statistics differently).
 */
export function rmsNorm(c: Ctx): Tensor {
  c.only('axis', 'epsilon', 'stash_type');
  const x = f32Input(c, 0, 'X'), scale = f32Input(c, 1, 'scale');
  const axis = normAxis(c, c.int('axis', -1), x.rank), eps = c.float('epsilon', 1e-5), stash = c.int('stash_type', 1);
  if (stash !== 1) c.unsupported(`stash_type ${stash} (only 1: the statistics in float32)`);
  const norm = x.dims.slice(axis), sd = scale.dims;
  if (sd.length > norm.length || sd.some((d, i) => d !== 1 && d !== norm[norm.length - sd.length + i]))
    c.unsupported(`scale of shape [${sd}] for the normalized shape [${norm}] (it must broadcast to it)`);
  const axes = [...x.dims.keys()].slice(axis);
  return x.mul(x.mul(x).mean(axes, true).add(eps).rsqrt()).mul(scale);
}

export function dropout(c: Ctx): (Val | undefined)[] {
  c.only('ratio', 'seed', 'is_test');
  if (c.has(2) && Number(c.host(2, 'training_mode').data[0])) {
    const ratio = c.has(1) ? Number(c.host(1, 'ratio').data[0]) : 0.5;
    if (ratio !== 0) c.unsupported(`training_mode = true with ratio ${ratio} (random masks)`);
  }
  const x = c.val(0);
  // The mask is all true; for a symbolic size, at the run-time size (not a constant at the bounds).
  if (!isHost(x) && x.node.type.dims) return [x, c.node.outputs[1] ? full('bool', 1, x.dims, x.bounds) : undefined];
  const dims = isHost(x) ? x.dims : [...x.maxShape];
  return [x, host(DT.BOOL, dims, new Uint8Array(numel(dims)).fill(1))];
}
