// The 3-D (volumetric) ops on PyTorch's NCDHW layout: conv3d on the 2-D conv kernel, and the 3-D
// pools as separable slices (functional.ts poolNd).

import { fmtShape } from '../ir/types.ts';
import { describeValue } from '../ir/print.ts';
import { cat, ModelDefinitionError, Tensor, where } from './tensor.ts';
import { checkOptions } from './options.ts';
import { conv2d, fixedConvDims, floatArg, maxPoolIndexed, padZeros, poolNd, poolWindow, spreadAlong, tupleOf, windows } from './functional.ts';

export type Triple = number | [number, number, number];

/** A 3-D op on PyTorch's unbatched [C, D, H, W] input as on a batch of one. */
function unbatched3d(x: Tensor, f: (x: Tensor) => Tensor): Tensor { return x.rank === 4 ? f(x.unsqueeze(0)).squeeze(0) : f(x); }

export interface Conv3dOptions { stride?: Triple; padding?: Triple | 'valid' | 'same'; dilation?: Triple; groups?: number }
/**
 * torch.nn.functional.conv3d on [N, C, D, H, W] (or unbatched [C, D, H, W]), weight
 * [out, in/groups, kD, kH, kW]: im2col along the depth, then one conv2d. Each output depth
 * position gathers its kD input planes as channels ([N·Dout, kD·C, H, W], each group's planes
 * kept together), and the kernel becomes [out, kD·C/groups, kH, kW] (folded at compile time for
 * constant weights), so the 2-D GEMM kernel does all the sums. The input is copied kD times.
 */
export function conv3d(x: Tensor, w: Tensor, b?: Tensor, o: Conv3dOptions = {}): Tensor {
  checkOptions('conv3d', o, ['stride', 'padding', 'dilation', 'groups']);
  x = floatArg('conv3d', 'input', x); w = floatArg('conv3d', 'weight', w);
  if (b !== undefined && b !== null) b = floatArg('conv3d', 'bias', b); else b = undefined;
  if (x.rank !== 4 && x.rank !== 5) throw new ModelDefinitionError(`conv3d: expected [N, C, D, H, W] or unbatched [C, D, H, W] input, got ${fmtShape(x.dims)}${where()}`);
  if (w.rank !== 5 || w.dims.some((d) => typeof d !== 'number')) throw new ModelDefinitionError(`conv3d: weight must be [out, in/groups, kD, kH, kW] of fixed sizes, got ${fmtShape(w.dims)}${where()}`);
  fixedConvDims('conv3d', x, 5);
  const stride = tupleOf('conv3d', 'stride', o.stride ?? 1, 1, 3), dilation = tupleOf('conv3d', 'dilation', o.dilation ?? 1, 1, 3);
  const groups = o.groups ?? 1;
  if (!Number.isInteger(groups) || groups < 1) throw new ModelDefinitionError(`conv3d: groups must be a positive integer, got ${describeValue(groups)}${where()}`);
  const [co, cg, ...k] = w.maxShape as number[] as [number, number, number, number, number];
  const [C, ...sizes] = x.maxShape.slice(-4) as [number, number, number, number];
  if (C % groups || co % groups) throw new ModelDefinitionError(`conv3d: groups ${groups} must divide the input channels ${C} and output channels ${co}${where()}`);
  if (cg * groups !== C) throw new ModelDefinitionError(`conv3d: input ${fmtShape(x.dims)} has ${C} channels but weight ${fmtShape(w.dims)} expects ${cg * groups}${groups > 1 ? ` (${cg} per group × ${groups} groups)` : ''}${where()}`);
  if (b && (b.rank !== 1 || b.dims[0] !== co)) throw new ModelDefinitionError(`conv3d: bias must be [${co}], got ${fmtShape(b.dims)}${where()}`);
  const extent = k.map((kk, i) => dilation[i]! * (kk - 1));
  // [before, after] per spatial axis: PyTorch's 'same' pads ⌊total/2⌋ before and the rest after.
  let pads: Array<[number, number]>;
  if (o.padding === 'valid') pads = [[0, 0], [0, 0], [0, 0]];
  else if (o.padding === 'same') {
    if (stride.some((s) => s !== 1)) throw new ModelDefinitionError(`conv3d: padding 'same' needs stride 1, got stride ${stride.join(',')}${where()}`);
    pads = extent.map((t) => [Math.floor(t / 2), t - Math.floor(t / 2)]);
  } else pads = tupleOf('conv3d', 'padding', o.padding ?? 0, 0, 3).map((p) => [p, p]);
  const outs = sizes.map((n, i) => windows(n, pads[i]![0], pads[i]![1], extent[i]! + 1, stride[i]!, false));
  if (outs.some((n) => n < 1)) throw new ModelDefinitionError(`conv3d: kernel ${k.join('×')}${dilation.some((d) => d > 1) ? ` (dilation ${dilation.join(',')})` : ''} does not fit input ${fmtShape(x.dims)} with padding ${pads.map((p) => p.join('/')).join(',')}${where()}`);
  const [kD, kH, kW] = k, [, H, W] = sizes, Dout = outs[0]!;
  // The kernel's (kD, C/g) flattened in that order, as the columns below are.
  const wc = w.permute(0, 2, 1, 3, 4).reshape(co, kD * cg, kH, kW);
  return unbatched3d(x, (x) => {
    const N = x.dims[0]!;
    const xt = padZeros(x.permute(0, 2, 1, 3, 4), 1, pads[0]![0], pads[0]![1]); // [N, D', C, H, W]
    const span = (Dout - 1) * stride[0]! + 1;
    // Plane j·dD + od·sD for output depth od: [N, Dout, groups, C/g, H, W] per kernel depth j.
    const planes = Array.from({ length: kD }, (_, j) => xt.slice(1, j * dilation[0]!, j * dilation[0]! + span, stride[0]!).reshape(N, Dout, groups, cg, H, W));
    const cols = (kD === 1 ? planes[0]! : cat(planes, 3)).reshape(-1, kD * C, H, W);
    const padding = o.padding === 'same' ? 'same' as const : [pads[1]![0], pads[2]![0]] as [number, number];
    const y = conv2d(cols, wc, b, { stride: [stride[1]!, stride[2]!], padding, dilation: [dilation[1]!, dilation[2]!], groups });
    return y.reshape(N, Dout, co, outs[1]!, outs[2]!).permute(0, 2, 1, 3, 4);
  });
}

export interface MaxPool3dOptions { stride?: Triple | null; padding?: Triple; dilation?: Triple; ceilMode?: boolean; returnIndices?: boolean }
export interface AvgPool3dOptions { stride?: Triple | null; padding?: Triple; ceilMode?: boolean; countIncludePad?: boolean; divisorOverride?: number | null }

function pool3d(op: 'max_pool3d' | 'avg_pool3d', x: Tensor, kernel: Triple, o: MaxPool3dOptions & AvgPool3dOptions): Tensor | [Tensor, Tensor] {
  x = floatArg(op, 'input', x);
  const w = poolWindow(op, kernel, o, 3);
  if (w.indices) return maxPoolIndexed(op, x, w);
  if (x.rank !== 4 && x.rank !== 5) throw new ModelDefinitionError(`${op}: expected [N, C, D, H, W] or unbatched [C, D, H, W] input, got ${fmtShape(x.dims)}${where()}`);
  return unbatched3d(x, (x) => poolNd(op, x, op === 'max_pool3d' ? 'max' : 'avg', w.k, w.s, w.d, w.p.map((v) => [v, v] as [number, number]), w));
}
/** torch.nn.functional.max_pool3d on [N, C, D, H, W] or unbatched [C, D, H, W] (stride defaults to the kernel; padding pads with −∞); with returnIndices, [values, i32 positions d·H·W + h·W + w]. */
export function maxPool3d(x: Tensor, kernelSize: Triple, o: MaxPool3dOptions & { returnIndices: true }): [Tensor, Tensor];
export function maxPool3d(x: Tensor, kernelSize: Triple, o?: MaxPool3dOptions): Tensor;
export function maxPool3d(x: Tensor, kernelSize: Triple, o: MaxPool3dOptions = {}): Tensor | [Tensor, Tensor] {
  checkOptions('max_pool3d', o, ['stride', 'padding', 'dilation', 'ceilMode', 'returnIndices']);
  return pool3d('max_pool3d', x, kernelSize, o);
}
/** torch.nn.functional.avg_pool3d; countIncludePad (default true) counts the padding in the divisor, divisorOverride replaces it. */
export function avgPool3d(x: Tensor, kernelSize: Triple, o: AvgPool3dOptions = {}): Tensor {
  checkOptions('avg_pool3d', o, ['stride', 'padding', 'ceilMode', 'countIncludePad', 'divisorOverride']);
  return pool3d('avg_pool3d', x, kernelSize, o) as Tensor;
}

export interface ConvTranspose3dOptions { stride?: Triple; padding?: Triple; outputPadding?: Triple; dilation?: Triple; groups?: number }
/**
 * torch.nn.functional.conv_transpose3d on [N, C, D, H, W] (or unbatched), weight [in, out/groups,
 * kD, kH, kW]: as conv_transpose2d, the input spread by the stride (zeros between), padded by
 * dilation·(k − 1) − padding a side (output_padding more after), then conv3d with the kernel flipped
 * in its three spatial dims and [in, out/g] per group swapped.
 */
export function convTranspose3d(x: Tensor, w: Tensor, b?: Tensor, o: ConvTranspose3dOptions = {}): Tensor {
  const op = 'conv_transpose3d';
  checkOptions(op, o, ['stride', 'padding', 'outputPadding', 'dilation', 'groups']);
  x = floatArg(op, 'input', x); w = floatArg(op, 'weight', w);
  if (b !== undefined && b !== null) b = floatArg(op, 'bias', b); else b = undefined;
  if (x.rank !== 4 && x.rank !== 5) throw new ModelDefinitionError(`${op}: expected [N, C, D, H, W] or unbatched [C, D, H, W] input, got ${fmtShape(x.dims)}${where()}`);
  fixedConvDims(op, x, 5);
  if (w.rank !== 5 || w.dims.some((d) => typeof d !== 'number')) throw new ModelDefinitionError(`${op}: weight must be [in, out/groups, kD, kH, kW], got ${fmtShape(w.dims)}${where()}`);
  const stride = tupleOf(op, 'stride', o.stride ?? 1, 1, 3), padding = tupleOf(op, 'padding', o.padding ?? 0, 0, 3);
  const outPad = tupleOf(op, 'output_padding', o.outputPadding ?? 0, 0, 3), dilation = tupleOf(op, 'dilation', o.dilation ?? 1, 1, 3);
  const groups = o.groups ?? 1;
  if (!Number.isInteger(groups) || groups < 1) throw new ModelDefinitionError(`${op}: groups must be a positive integer, got ${describeValue(groups)}${where()}`);
  const [cin, coutG, ...k] = w.maxShape as number[], C = x.maxSize(-4);
  if (C !== cin || cin! % groups) throw new ModelDefinitionError(`${op}: input ${fmtShape(x.dims)} has ${C} channels, weight ${fmtShape(w.dims)} takes ${cin}${cin! % groups ? ` (not divisible by groups ${groups})` : ''}${where()}`);
  if (b && (b.rank !== 1 || b.maxSize(0) !== coutG! * groups)) throw new ModelDefinitionError(`${op}: bias must be [${coutG! * groups}], got ${fmtShape(b.dims)}${where()}`);
  for (let i = 0; i < 3; i++) {
    if (outPad[i]! >= Math.max(stride[i]!, dilation[i]!)) throw new ModelDefinitionError(`${op}: output_padding ${outPad.join(',')} must be smaller than stride or dilation (${stride.join(',')} / ${dilation.join(',')})${where()}`);
  }
  const sizes = x.maxShape.slice(-3), out = sizes.map((n, i) => (n - 1) * stride[i]! - 2 * padding[i]! + dilation[i]! * (k[i]! - 1) + outPad[i]! + 1);
  if (out.some((n) => n < 1)) throw new ModelDefinitionError(`${op}: the output of input ${fmtShape(x.dims)} would be ${out.join('×')}${where()}`);
  // The kernel flipped in its spatial dims, and [Cin, Cout/g] per group swapped to [Cout, Cin/g].
  const flipped = w.flip(2, 3, 4);
  const wc = flipped.reshape(groups, cin! / groups, coutG!, ...k).permute(0, 2, 1, 3, 4, 5).reshape(groups * coutG!, cin! / groups, ...k);
  return unbatched3d(x, (x) => {
    let z = x;
    for (let i = 0; i < 3; i++) z = spreadAlong(z, 2 + i, stride[i]!);
    // Each side pads dilation·(k − 1) − padding (output_padding more after); a negative amount crops.
    for (let i = 0; i < 3; i++) {
      const before = dilation[i]! * (k[i]! - 1) - padding[i]!;
      z = padZeros(z, 2 + i, before, before + outPad[i]!);
    }
    return conv3d(z, wc, b, { dilation: dilation as [number, number, number], groups });
  });
}
