// The basic layers, with PyTorch's parameter names, layouts and default initialisation.

import * as F from './functional.ts';
import * as V from './volumetric.ts';
import * as Blocks from './blocks.ts';
import * as U from './unpool.ts';
import { Module, positiveInt, type Parameter } from './module.ts';
import { ModelDefinitionError, Tensor } from './tensor.ts';
import { fmtShape } from '../ir/types.ts';
import { describeValue } from '../ir/print.ts';
import { checkOptions } from './options.ts';

type Pair = number | [number, number];

export class Linear extends Module {
  readonly weight: Parameter;
  readonly bias?: Parameter;
  constructor(readonly inFeatures: number, readonly outFeatures: number, opts: { bias?: boolean } = {}) {
    super();
    checkOptions('Linear', opts, ['bias']);
    positiveInt('Linear', 'in_features', inFeatures); positiveInt('Linear', 'out_features', outFeatures);
    const bound = 1 / Math.sqrt(inFeatures);
    this.weight = this.param('weight', [outFeatures, inFeatures], { uniform: bound });
    if (opts.bias ?? true) this.bias = this.param('bias', [outFeatures], { uniform: bound });
  }
  forward(x: Tensor): Tensor { return F.linear(x, this.weight.t, this.bias?.t); }
}

/** nn.Conv1d/2d/3d's padding_mode: how the padding is filled ('zeros', the default, is the conv's own). */
export type PaddingMode = 'zeros' | 'reflect' | 'replicate' | 'circular';
function paddingModeOf(op: string, mode: unknown): void {
  if (mode !== undefined && !(['zeros', 'reflect', 'replicate', 'circular'] as unknown[]).includes(mode)) throw new ModelDefinitionError(`${op}: paddingMode must be 'zeros', 'reflect', 'replicate' or 'circular', got ${describeValue(mode)}`);
}
/**
 * The F.pad list (last dim first) that a conv with padding_mode other than 'zeros' pads its input
 * by before running unpadded, as PyTorch's _reversed_padding_repeated_twice: `padding` per spatial
 * dim on both sides, 'same' ⌊d·(k−1)/2⌋ before and the rest after, 'valid' none.
 */
function modePads(padding: readonly number[] | 'same' | 'valid', k: readonly number[], d: readonly number[]): number[] {
  const pairs = k.map((kk, i) => {
    const total = d[i]! * (kk - 1), p = padding === 'valid' ? 0 : padding === 'same' ? Math.floor(total / 2) : padding[i]!;
    return [p, padding === 'same' ? total - p : p];
  });
  return pairs.reverse().flat();
}

export class Conv2d extends Module {
  readonly weight: Parameter;
  readonly bias?: Parameter;
  constructor(readonly inChannels: number, readonly outChannels: number, readonly kernelSize: Pair,
    readonly opts: F.Conv2dOptions & { bias?: boolean; paddingMode?: PaddingMode } = {}) {
    super();
    checkOptions('Conv2d', opts, ['stride', 'padding', 'dilation', 'groups', 'bias', 'paddingMode']);
    paddingModeOf('Conv2d', opts.paddingMode);
    const [kh, kw] = F.pairOf('Conv2d', 'kernel_size', kernelSize, 1);
    F.pairOf('Conv2d', 'stride', opts.stride ?? 1, 1); if (opts.padding !== 'same' && opts.padding !== 'valid') F.pairOf('Conv2d', 'padding', opts.padding ?? 0, 0); F.pairOf('Conv2d', 'dilation', opts.dilation ?? 1, 1);
    const groups = opts.groups ?? 1;
    positiveInt('Conv2d', 'in_channels', inChannels); positiveInt('Conv2d', 'out_channels', outChannels);
    positiveInt('Conv2d', 'kernel_size', kh); positiveInt('Conv2d', 'kernel_size', kw); positiveInt('Conv2d', 'groups', groups);
    if (inChannels % groups || outChannels % groups) throw new Error(`Conv2d: groups ${groups} must divide in_channels ${inChannels} and out_channels ${outChannels}`);
    const bound = 1 / Math.sqrt((inChannels / groups) * kh * kw);
    this.weight = this.param('weight', [outChannels, inChannels / groups, kh, kw], { uniform: bound });
    if (opts.bias ?? true) this.bias = this.param('bias', [outChannels], { uniform: bound });
  }
  forward(x: Tensor): Tensor {
    const { bias: _, paddingMode, ...o } = this.opts;
    if (!paddingMode || paddingMode === 'zeros') return F.conv2d(x, this.weight.t, this.bias?.t, o);
    const k = F.pairOf('Conv2d', 'kernel_size', this.kernelSize, 1), d = F.pairOf('Conv2d', 'dilation', o.dilation ?? 1, 1);
    const pads = modePads(o.padding === 'same' || o.padding === 'valid' ? o.padding : F.pairOf('Conv2d', 'padding', o.padding ?? 0, 0), k, d);
    return F.conv2d(F.pad(x, pads, paddingMode), this.weight.t, this.bias?.t, { ...o, padding: 0 });
  }
}

/** What ConvTranspose1d/2d share: channels and groups checked; weight [in, out/groups, …kernel] and bias, PyTorch's layout and init. */
abstract class ConvTransposeNd extends Module {
  readonly weight: Parameter;
  readonly bias?: Parameter;
  constructor(name: string, readonly inChannels: number, readonly outChannels: number, kernel: number[], o: { groups?: number; bias?: boolean }) {
    super();
    positiveInt(name, 'in_channels', inChannels); positiveInt(name, 'out_channels', outChannels);
    const groups = positiveInt(name, 'groups', o.groups ?? 1);
    if (inChannels % groups || outChannels % groups) throw new ModelDefinitionError(`${name}: groups ${groups} must divide in_channels ${inChannels} and out_channels ${outChannels}`);
    const bound = 1 / Math.sqrt((outChannels / groups) * kernel.reduce((a, b) => a * b, 1));
    this.weight = this.param('weight', [inChannels, outChannels / groups, ...kernel], { uniform: bound });
    if (o.bias ?? true) this.bias = this.param('bias', [outChannels], { uniform: bound });
  }
}
const CONV_TRANSPOSE_OPTIONS = ['stride', 'padding', 'outputPadding', 'dilation', 'groups', 'bias'] as const;

/** nn.ConvTranspose2d: weight [in, out/groups, kh, kw], as PyTorch lays it out. */
export class ConvTranspose2d extends ConvTransposeNd {
  constructor(inChannels: number, outChannels: number, readonly kernelSize: Pair, readonly opts: F.ConvTranspose2dOptions & { bias?: boolean } = {}) {
    super('ConvTranspose2d', inChannels, outChannels, F.pairOf('ConvTranspose2d', 'kernel_size', kernelSize, 1), checkOptions('ConvTranspose2d', opts, [...CONV_TRANSPOSE_OPTIONS]));
    for (const [k, min] of [['stride', 1], ['padding', 0], ['outputPadding', 0], ['dilation', 1]] as const) if (opts[k] !== undefined) F.pairOf('ConvTranspose2d', k, opts[k], min);
  }
  forward(x: Tensor): Tensor { const { bias: _, ...o } = this.opts; return F.convTranspose2d(x, this.weight.t, this.bias?.t, o); }
}

/** nn.ConvTranspose3d on [N, C, D, H, W] or unbatched: weight [in, out/groups, kD, kH, kW]. */
export class ConvTranspose3d extends ConvTransposeNd {
  constructor(inChannels: number, outChannels: number, readonly kernelSize: V.Triple, readonly opts: V.ConvTranspose3dOptions & { bias?: boolean } = {}) {
    super('ConvTranspose3d', inChannels, outChannels, F.tupleOf('ConvTranspose3d', 'kernel_size', kernelSize, 1, 3), checkOptions('ConvTranspose3d', opts, [...CONV_TRANSPOSE_OPTIONS]));
    for (const [k, min] of [['stride', 1], ['padding', 0], ['outputPadding', 0], ['dilation', 1]] as const) if (opts[k] !== undefined) F.tupleOf('ConvTranspose3d', k, opts[k], min, 3);
  }
  forward(x: Tensor): Tensor { const { bias: _, ...o } = this.opts; return V.convTranspose3d(x, this.weight.t, this.bias?.t, o); }
}

/** nn.ConvTranspose1d on [N, C, L] or unbatched [C, L]: weight [in, out/groups, k]. */
export class ConvTranspose1d extends ConvTransposeNd {
  constructor(inChannels: number, outChannels: number, readonly kernelSize: number, readonly opts: F.ConvTranspose1dOptions & { bias?: boolean } = {}) {
    super('ConvTranspose1d', inChannels, outChannels, [positiveInt('ConvTranspose1d', 'kernel_size', kernelSize)], checkOptions('ConvTranspose1d', opts, [...CONV_TRANSPOSE_OPTIONS]));
  }
  forward(x: Tensor): Tensor { const { bias: _, ...o } = this.opts; return F.convTranspose1d(x, this.weight.t, this.bias?.t, o); }
}

export class Conv1d extends Module {
  readonly weight: Parameter;
  readonly bias?: Parameter;
  constructor(readonly inChannels: number, readonly outChannels: number, readonly kernelSize: number,
    readonly opts: F.Conv1dOptions & { bias?: boolean; paddingMode?: PaddingMode } = {}) {
    super();
    checkOptions('Conv1d', opts, ['stride', 'padding', 'dilation', 'groups', 'bias', 'paddingMode']);
    paddingModeOf('Conv1d', opts.paddingMode);
    positiveInt('Conv1d', 'in_channels', inChannels); positiveInt('Conv1d', 'out_channels', outChannels); positiveInt('Conv1d', 'kernel_size', kernelSize);
    const groups = positiveInt('Conv1d', 'groups', opts.groups ?? 1);
    if (opts.stride !== undefined) positiveInt('Conv1d', 'stride', opts.stride);
    if (opts.dilation !== undefined) positiveInt('Conv1d', 'dilation', opts.dilation);
    const pad = opts.padding ?? 0;
    if (pad !== 'same' && pad !== 'valid' && !(Number.isInteger(pad) && (pad as number) >= 0)) throw new ModelDefinitionError(`Conv1d: padding must be a non-negative integer, 'same' or 'valid', got ${describeValue(pad)}`);
    if (inChannels % groups || outChannels % groups) throw new ModelDefinitionError(`Conv1d: groups ${groups} must divide in_channels ${inChannels} and out_channels ${outChannels}`);
    const bound = 1 / Math.sqrt((inChannels / groups) * kernelSize);
    this.weight = this.param('weight', [outChannels, inChannels / groups, kernelSize], { uniform: bound });
    if (opts.bias ?? true) this.bias = this.param('bias', [outChannels], { uniform: bound });
  }
  forward(x: Tensor): Tensor {
    const { bias: _, paddingMode, ...o } = this.opts;
    if (!paddingMode || paddingMode === 'zeros') return F.conv1d(x, this.weight.t, this.bias?.t, o);
    const pads = modePads(o.padding === 'same' || o.padding === 'valid' ? o.padding : [o.padding ?? 0], [this.kernelSize], [o.dilation ?? 1]);
    return F.conv1d(F.pad(x, pads, paddingMode), this.weight.t, this.bias?.t, { ...o, padding: 0 });
  }
}

/**
 * nn.BatchNorm1d/2d/3d at inference (PyTorch's eval()): the running statistics normalise each
 * channel (dim 1). Without them (`trackRunningStats: false`) PyTorch uses the batch's own
 * statistics in eval() as well, and so does this. num_batches_tracked is accepted when loading
 * and unused. momentum only matters in training; it is checked and kept.
 */
/**
 * The per-channel norms' arguments and parameters, PyTorch's names: weight and bias with `affine`,
 * running_mean, running_var (and num_batches_tracked, loaded and unused) with `trackRunningStats`.
 * Their defaults differ: BatchNorm both true, InstanceNorm both false.
 */
abstract class ChannelNorm extends Module {
  readonly weight?: Parameter;
  readonly bias?: Parameter;
  readonly running_mean?: Parameter;
  readonly running_var?: Parameter;
  constructor(readonly numFeatures: number, readonly eps: number, readonly momentum: number | null,
    opts: { affine?: boolean; trackRunningStats?: boolean }, defaults: boolean) {
    super();
    const name = this.constructor.name;
    checkOptions(name, opts, ['affine', 'trackRunningStats']);
    positiveInt(name, 'num_features', numFeatures);
    const show = (v: unknown) => (typeof v === 'object' && v !== null ? JSON.stringify(v) : describeValue(v));
    if (typeof eps !== 'number' || !(eps >= 0) || eps === Infinity) throw new ModelDefinitionError(`${name}: eps must be a non-negative number, got ${show(eps)} (options go fourth: new ${name}(n, eps, momentum, { affine, trackRunningStats }))`);
    if (momentum !== null && (typeof momentum !== 'number' || !(momentum >= 0 && momentum <= 1))) throw new ModelDefinitionError(`${name}: momentum must be a number in [0, 1] or null, got ${show(momentum)}`);
    if (opts.affine ?? defaults) {
      this.weight = this.param('weight', [numFeatures], 'ones');
      this.bias = this.param('bias', [numFeatures], 'zeros');
    }
    if (opts.trackRunningStats ?? defaults) {
      this.running_mean = this.param('running_mean', [numFeatures], 'zeros');
      this.running_var = this.param('running_var', [numFeatures], 'ones');
      this.unusedEntry('num_batches_tracked', []);
    }
  }
}

abstract class BatchNormBase extends ChannelNorm {
  protected abstract readonly ranks: readonly number[];
  constructor(numFeatures: number, eps = 1e-5, momentum: number | null = 0.1, opts: { affine?: boolean; trackRunningStats?: boolean } = {}) {
    super(numFeatures, eps, momentum, opts, true);
  }
  forward(x: Tensor): Tensor {
    const name = this.constructor.name;
    if (!this.ranks.includes(x.rank)) throw new ModelDefinitionError(`${name}: expected ${this.ranks.map((r) => `${r}-D`).join(' or ')} input, got ${fmtShape(x.dims)}`);
    const C = x.dims[1];
    if (typeof C !== 'number') throw new ModelDefinitionError(`${name}: the channels (dim 1) of input ${fmtShape(x.dims)} are the run-time size ${C}; num_features is ${this.numFeatures}, a fixed size`);
    if (C !== this.numFeatures) throw new ModelDefinitionError(`${name}: input ${fmtShape(x.dims)} has ${C} channels (dim 1), num_features is ${this.numFeatures}`);
    return F.batchNorm(x, this.running_mean?.t, this.running_var?.t, this.weight?.t, this.bias?.t, { training: !this.running_mean, eps: this.eps });
  }
}
/** nn.BatchNorm1d: [N, C] or [N, C, L]. */
export class BatchNorm1d extends BatchNormBase { protected readonly ranks = [2, 3]; }
/** nn.BatchNorm2d: [N, C, H, W]. */
export class BatchNorm2d extends BatchNormBase { protected readonly ranks = [4]; }
/** nn.BatchNorm3d: [N, C, D, H, W]. */
export class BatchNorm3d extends BatchNormBase { protected readonly ranks = [5]; }

/**
 * nn.InstanceNorm1d/2d at inference: each (sample, channel) normalised by its own mean and
 * population variance over the positions (F.groupNorm with one channel a group), or by the running
 * statistics with trackRunningStats (then as BatchNorm's eval()). PyTorch's defaults: affine and
 * trackRunningStats false. Unbatched input ([C, L], [C, H, W]) as a batch of one.
 */
abstract class InstanceNormBase extends ChannelNorm {
  constructor(private readonly rank: number, numFeatures: number, eps: number, momentum: number | null, opts: { affine?: boolean; trackRunningStats?: boolean }) {
    super(numFeatures, eps, momentum, opts, false);
  }
  forward(x: Tensor): Tensor {
    const name = this.constructor.name, rank = this.rank;
    if (x.rank !== rank && x.rank !== rank - 1) throw new ModelDefinitionError(`${name}: expected ${rank}-D input or unbatched ${rank - 1}-D, got ${fmtShape(x.dims)}`);
    const c = x.rank === rank ? 1 : 0;
    if (x.dims[c] !== this.numFeatures) throw new ModelDefinitionError(`${name}: input ${fmtShape(x.dims)} has ${String(x.dims[c])} channels (dim ${c}), num_features is ${this.numFeatures}`);
    if (!c) return this.forward(x.unsqueeze(0)).squeeze(0);
    if (this.running_mean) return F.batchNorm(x, this.running_mean.t, this.running_var!.t, this.weight?.t, this.bias?.t, { eps: this.eps });
    return F.groupNorm(F.moreThanOnePosition(name, x), this.numFeatures, this.weight?.t, this.bias?.t, this.eps);
  }
}
/** nn.InstanceNorm1d: [N, C, L] or unbatched [C, L]. */
export class InstanceNorm1d extends InstanceNormBase {
  constructor(numFeatures: number, eps = 1e-5, momentum: number | null = 0.1, opts: { affine?: boolean; trackRunningStats?: boolean } = {}) { super(3, numFeatures, eps, momentum, opts); }
}
/** nn.InstanceNorm2d: [N, C, H, W] or unbatched [C, H, W]. */
export class InstanceNorm2d extends InstanceNormBase {
  constructor(numFeatures: number, eps = 1e-5, momentum: number | null = 0.1, opts: { affine?: boolean; trackRunningStats?: boolean } = {}) { super(4, numFeatures, eps, momentum, opts); }
}
/** nn.InstanceNorm3d: [N, C, D, H, W] or unbatched [C, D, H, W]. */
export class InstanceNorm3d extends InstanceNormBase {
  constructor(numFeatures: number, eps = 1e-5, momentum: number | null = 0.1, opts: { affine?: boolean; trackRunningStats?: boolean } = {}) { super(5, numFeatures, eps, momentum, opts); }
}

/** nn.LocalResponseNorm(size, alpha, beta, k) on [N, C, …]: F.localResponseNorm. */
export class LocalResponseNorm extends Module {
  constructor(readonly size: number, readonly alpha = 1e-4, readonly beta = 0.75, readonly k = 1) {
    super();
    positiveInt('LocalResponseNorm', 'size', size);
    for (const [name, v] of [['alpha', alpha], ['beta', beta], ['k', k]] as const) if (typeof v !== 'number' || !Number.isFinite(v)) throw new ModelDefinitionError(`LocalResponseNorm: ${name} must be a finite number, got ${describeValue(v)}`);
  }
  forward(x: Tensor): Tensor { return F.localResponseNorm(x, this.size, this.alpha, this.beta, this.k); }
}

/** nn.GroupNorm(num_groups, num_channels, eps, { affine }): per (sample, group) statistics over C/G channels and all positions. */
export class GroupNorm extends Module {
  readonly weight?: Parameter;
  readonly bias?: Parameter;
  constructor(readonly numGroups: number, readonly numChannels: number, readonly eps = 1e-5, opts: { affine?: boolean } = {}) {
    super();
    checkOptions('GroupNorm', opts, ['affine']);
    positiveInt('GroupNorm', 'num_groups', numGroups); positiveInt('GroupNorm', 'num_channels', numChannels);
    if (numChannels % numGroups) throw new ModelDefinitionError(`GroupNorm: num_channels ${numChannels} must be divisible by num_groups ${numGroups}`);
    if (typeof eps !== 'number' || !(eps >= 0) || eps === Infinity) throw new ModelDefinitionError(`GroupNorm: eps must be a non-negative number, got ${typeof eps === 'object' && eps !== null ? JSON.stringify(eps) : describeValue(eps)} (options go fourth: new GroupNorm(groups, channels, eps, { affine }))`);
    if (opts.affine ?? true) {
      this.weight = this.param('weight', [numChannels], 'ones');
      this.bias = this.param('bias', [numChannels], 'zeros');
    }
  }
  forward(x: Tensor): Tensor {
    if (x.rank >= 2 && x.dims[1] !== this.numChannels) throw new ModelDefinitionError(`GroupNorm: input ${fmtShape(x.dims)} has ${String(x.dims[1])} channels (dim 1), num_channels is ${this.numChannels}`);
    return F.groupNorm(x, this.numGroups, this.weight?.t, this.bias?.t, this.eps);
  }
}

/** nn.Upsample: F.interpolate with the module's size or scaleFactor, mode ('nearest', 'nearest-exact', 'linear', 'bilinear', 'bicubic', 'trilinear', 'area'), alignCorners and recomputeScaleFactor. */
export class Upsample extends Module {
  readonly mode: F.InterpolateMode;
  constructor(readonly opts: Omit<F.InterpolateOptions, 'antialias'>) {
    super();
    checkOptions('Upsample', opts, ['size', 'scaleFactor', 'mode', 'alignCorners', 'recomputeScaleFactor']);
    this.mode = F.interpolateMode('Upsample', opts ?? {});
  }
  forward(x: Tensor): Tensor { return F.interpolate(x, this.opts); }
}
/** nn.UpsamplingNearest2d: Upsample with mode 'nearest'. */
export class UpsamplingNearest2d extends Upsample {
  constructor(opts: Pick<F.InterpolateOptions, 'size' | 'scaleFactor'>) {
    checkOptions('UpsamplingNearest2d', opts, ['size', 'scaleFactor']);
    super({ ...opts, mode: 'nearest' });
  }
}
/** nn.UpsamplingBilinear2d: Upsample with mode 'bilinear' and alignCorners (as PyTorch's). */
export class UpsamplingBilinear2d extends Upsample {
  constructor(opts: Pick<F.InterpolateOptions, 'size' | 'scaleFactor'>) {
    checkOptions('UpsamplingBilinear2d', opts, ['size', 'scaleFactor']);
    super({ ...opts, mode: 'bilinear', alignCorners: true });
  }
}

/** What a max pool module's forward gives: [values, indices] with returnIndices: true, else the values. */
export type MaxPoolResult<R extends boolean> = R extends true ? [Tensor, Tensor] : Tensor;
/** nn.MaxPool1d on [N, C, L] or unbatched [C, L] (a 2-D pool over a height of 1); returnIndices: true gives [values, indices]. */
export class MaxPool1d<R extends boolean = false> extends Module {
  constructor(readonly kernelSize: number, readonly opts: F.MaxPool1dOptions & { returnIndices?: R } = {}) {
    super(); checkOptions('MaxPool1d', opts, ['stride', 'padding', 'dilation', 'ceilMode', 'returnIndices']);
    F.pool1dWindow('MaxPool1d', kernelSize, opts);
  }
  forward(x: Tensor): MaxPoolResult<R> { return F.maxPool1d(x, this.kernelSize, this.opts) as MaxPoolResult<R>; }
}
/** nn.AvgPool1d on [N, C, L] or unbatched [C, L]; countIncludePad (default true). */
export class AvgPool1d extends Module {
  constructor(readonly kernelSize: number, readonly opts: F.AvgPool1dOptions = {}) {
    super(); checkOptions('AvgPool1d', opts, ['stride', 'padding', 'ceilMode', 'countIncludePad']);
    F.pool1dWindow('AvgPool1d', kernelSize, opts);
  }
  forward(x: Tensor): Tensor { return F.avgPool1d(x, this.kernelSize, this.opts); }
}
/** nn.LPPool1d(normType, kernelSize, stride?, ceilMode?): F.lpPool1d. */
export class LPPool1d extends Module {
  constructor(readonly normType: number, readonly kernelSize: number, readonly stride: number | null = null, readonly ceilMode = false) {
    super(); F.checkLpNorm('LPPool1d', normType); F.pool1dWindow('LPPool1d', kernelSize, { stride, ceilMode });
  }
  forward(x: Tensor): Tensor { return F.lpPool1d(x, this.normType, this.kernelSize, this.stride, this.ceilMode); }
}
/** nn.LPPool2d(normType, kernelSize, stride?, ceilMode?): F.lpPool2d. */
export class LPPool2d extends Module {
  constructor(readonly normType: number, readonly kernelSize: number | [number, number], readonly stride: number | [number, number] | null = null, readonly ceilMode = false) {
    super(); F.checkLpNorm('LPPool2d', normType); F.poolWindow('LPPool2d', kernelSize, { stride, ceilMode }, 2);
  }
  forward(x: Tensor): Tensor { return F.lpPool2d(x, this.normType, this.kernelSize, this.stride, this.ceilMode); }
}

/** nn.MaxPool2d on [N, C, H, W] or unbatched [C, H, W]; returnIndices: true gives [values, indices]. */
export class MaxPool2d<R extends boolean = false> extends Module {
  constructor(readonly kernelSize: Pair, readonly opts: F.MaxPool2dOptions & { returnIndices?: R } = {}) {
    super(); checkOptions('MaxPool2d', opts, F.MAX_POOL2D_OPTIONS);
    F.poolWindow('MaxPool2d', kernelSize, opts, 2);
  }
  forward(x: Tensor): MaxPoolResult<R> { return F.maxPool2d(x, this.kernelSize, this.opts) as MaxPoolResult<R>; }
}

export class AvgPool2d extends Module {
  constructor(readonly kernelSize: Pair, readonly opts: F.Pool2dOptions = {}) {
    super(); checkOptions('AvgPool2d', opts, F.AVG_POOL2D_OPTIONS);
    F.poolWindow('AvgPool2d', kernelSize, opts, 2);
  }
  forward(x: Tensor): Tensor { return F.avgPool2d(x, this.kernelSize, this.opts); }
}

type AdaptiveSize = number | [number | null, number | null];
/** nn.Conv3d: weight [out, in/groups, kD, kH, kW] on [N, C, D, H, W] (or unbatched [C, D, H, W]), as PyTorch lays them out. */
export class Conv3d extends Module {
  readonly weight: Parameter;
  readonly bias?: Parameter;
  constructor(readonly inChannels: number, readonly outChannels: number, readonly kernelSize: V.Triple,
    readonly opts: V.Conv3dOptions & { bias?: boolean; paddingMode?: PaddingMode } = {}) {
    super();
    checkOptions('Conv3d', opts, ['stride', 'padding', 'dilation', 'groups', 'bias', 'paddingMode']);
    paddingModeOf('Conv3d', opts.paddingMode);
    const k = F.tupleOf('Conv3d', 'kernel_size', kernelSize, 1, 3);
    F.tupleOf('Conv3d', 'stride', opts.stride ?? 1, 1, 3); F.tupleOf('Conv3d', 'dilation', opts.dilation ?? 1, 1, 3);
    if (opts.padding !== 'same' && opts.padding !== 'valid') F.tupleOf('Conv3d', 'padding', opts.padding ?? 0, 0, 3);
    positiveInt('Conv3d', 'in_channels', inChannels); positiveInt('Conv3d', 'out_channels', outChannels);
    const groups = positiveInt('Conv3d', 'groups', opts.groups ?? 1);
    if (inChannels % groups || outChannels % groups) throw new ModelDefinitionError(`Conv3d: groups ${groups} must divide in_channels ${inChannels} and out_channels ${outChannels}`);
    const bound = 1 / Math.sqrt((inChannels / groups) * k[0]! * k[1]! * k[2]!);
    this.weight = this.param('weight', [outChannels, inChannels / groups, ...k], { uniform: bound });
    if (opts.bias ?? true) this.bias = this.param('bias', [outChannels], { uniform: bound });
  }
  forward(x: Tensor): Tensor {
    const { bias: _, paddingMode, ...o } = this.opts;
    if (!paddingMode || paddingMode === 'zeros') return V.conv3d(x, this.weight.t, this.bias?.t, o);
    const k = F.tupleOf('Conv3d', 'kernel_size', this.kernelSize, 1, 3), d = F.tupleOf('Conv3d', 'dilation', o.dilation ?? 1, 1, 3);
    const pads = modePads(o.padding === 'same' || o.padding === 'valid' ? o.padding : F.tupleOf('Conv3d', 'padding', o.padding ?? 0, 0, 3), k, d);
    return V.conv3d(F.pad(x, pads, paddingMode), this.weight.t, this.bias?.t, { ...o, padding: 0 });
  }
}
/** nn.MaxPool3d on [N, C, D, H, W] or unbatched [C, D, H, W]: stride, padding, dilation, ceilMode; returnIndices: true gives [values, indices]. */
export class MaxPool3d<R extends boolean = false> extends Module {
  constructor(readonly kernelSize: V.Triple, readonly opts: V.MaxPool3dOptions & { returnIndices?: R } = {}) {
    super(); checkOptions('MaxPool3d', opts, ['stride', 'padding', 'dilation', 'ceilMode', 'returnIndices']);
    F.poolWindow('MaxPool3d', kernelSize, opts, 3);
  }
  forward(x: Tensor): MaxPoolResult<R> { return V.maxPool3d(x, this.kernelSize, this.opts) as MaxPoolResult<R>; }
}
/** nn.MaxUnpool1d/2d/3d(kernelSize, {stride, padding}): forward(x, indices, outputSize?) scatters x at a max pool's indices into zeros. */
class MaxUnpool extends Module {
  constructor(private readonly op: string, private readonly rank: number, readonly kernelSize: number | readonly number[], readonly opts: Omit<U.MaxUnpoolOptions, 'outputSize'> = {}) {
    super(); checkOptions(op, opts, ['stride', 'padding']);
    U.unpoolWindow(op, kernelSize, opts, rank);
  }
  forward(x: Tensor, indices: Tensor, outputSize?: readonly number[]): Tensor {
    return U.maxUnpoolNd(this.op, x, indices, U.unpoolWindow(this.op, this.kernelSize, this.opts, this.rank), outputSize);
  }
}
export class MaxUnpool1d extends MaxUnpool { constructor(kernelSize: number, opts: Omit<U.MaxUnpoolOptions, 'outputSize'> = {}) { super('MaxUnpool1d', 1, kernelSize, opts); } }
export class MaxUnpool2d extends MaxUnpool { constructor(kernelSize: Pair, opts: Omit<U.MaxUnpoolOptions, 'outputSize'> = {}) { super('MaxUnpool2d', 2, kernelSize, opts); } }
export class MaxUnpool3d extends MaxUnpool { constructor(kernelSize: V.Triple, opts: Omit<U.MaxUnpoolOptions, 'outputSize'> = {}) { super('MaxUnpool3d', 3, kernelSize, opts); } }
/** nn.AvgPool3d on [N, C, D, H, W] or unbatched [C, D, H, W]: stride, padding, ceilMode, countIncludePad (default true), divisorOverride. */
export class AvgPool3d extends Module {
  constructor(readonly kernelSize: V.Triple, readonly opts: V.AvgPool3dOptions = {}) {
    super(); checkOptions('AvgPool3d', opts, ['stride', 'padding', 'ceilMode', 'countIncludePad', 'divisorOverride']);
    F.poolWindow('AvgPool3d', kernelSize, opts, 3);
  }
  forward(x: Tensor): Tensor { return V.avgPool3d(x, this.kernelSize, this.opts); }
}

/** nn.AdaptiveAvgPool2d: PyTorch's windows, ⌊i·n/out⌋ to ⌈(i+1)·n/out⌉ (AdaptiveAvgPool2d(1) is a global average). */
export class AdaptiveAvgPool2d extends Module {
  constructor(readonly outputSize: AdaptiveSize) { super(); F.adaptiveOutput('AdaptiveAvgPool2d', outputSize); }
  forward(x: Tensor): Tensor { return F.adaptiveAvgPool2d(x, this.outputSize); }
}
/** nn.AdaptiveMaxPool2d (values; return_indices is not supported). */
export class AdaptiveMaxPool2d extends Module {
  constructor(readonly outputSize: AdaptiveSize) { super(); F.adaptiveOutput('AdaptiveMaxPool2d', outputSize); }
  forward(x: Tensor): Tensor { return F.adaptiveMaxPool2d(x, this.outputSize); }
}

/** nn.AdaptiveAvgPool1d on [N, C, L] or unbatched [C, L]. */
export class AdaptiveAvgPool1d extends Module {
  constructor(readonly outputSize: number) { super(); positiveInt('AdaptiveAvgPool1d', 'output_size', outputSize); }
  forward(x: Tensor): Tensor { return F.adaptiveAvgPool1d(x, this.outputSize); }
}
/** nn.AdaptiveMaxPool1d (values; return_indices is not supported). */
export class AdaptiveMaxPool1d extends Module {
  constructor(readonly outputSize: number) { super(); positiveInt('AdaptiveMaxPool1d', 'output_size', outputSize); }
  forward(x: Tensor): Tensor { return F.adaptiveMaxPool1d(x, this.outputSize); }
}
type AdaptiveSize3d = number | [number | null, number | null, number | null];
/** nn.AdaptiveAvgPool3d on [N, C, D, H, W] or unbatched [C, D, H, W] (AdaptiveAvgPool3d(1) is a global average). */
export class AdaptiveAvgPool3d extends Module {
  constructor(readonly outputSize: AdaptiveSize3d) { super(); F.adaptiveOutput('AdaptiveAvgPool3d', outputSize, 3); }
  forward(x: Tensor): Tensor { return F.adaptiveAvgPool3d(x, this.outputSize); }
}
/** nn.AdaptiveMaxPool3d (values; return_indices is not supported). */
export class AdaptiveMaxPool3d extends Module {
  constructor(readonly outputSize: AdaptiveSize3d) { super(); F.adaptiveOutput('AdaptiveMaxPool3d', outputSize, 3); }
  forward(x: Tensor): Tensor { return F.adaptiveMaxPool3d(x, this.outputSize); }
}

/**
 * The padding layers (nn.ZeroPad2d, ConstantPad1d/2d/3d, ReflectionPad1d/2d, ReplicationPad1d/2d/3d):
 * F.pad over the last 1, 2 or 3 dims, `padding` one int for every side or PyTorch's tuple (left,
 * right[, top, bottom[, front, back]]).
 */
abstract class PadNd extends Module {
  readonly pad: number[];
  constructor(name: string, dims: number, readonly mode: F.PadMode, padding: number | number[], readonly value = 0) {
    super();
    const p = typeof padding === 'number' ? new Array<number>(2 * dims).fill(padding) : padding;
    if (!Array.isArray(p) || p.length !== 2 * dims || !p.every((v) => Number.isInteger(v))) throw new ModelDefinitionError(`${name}: padding must be an integer or a list of ${2 * dims}, got ${describeValue(padding)}`);
    if (typeof value !== 'number') throw new ModelDefinitionError(`${name}: value must be a number, got ${describeValue(value)}`);
    this.pad = [...p];
  }
  forward(x: Tensor): Tensor { return F.pad(x, this.pad, this.mode, this.mode === 'constant' ? this.value : undefined); }
}
type Padding = number | number[];
export class ZeroPad2d extends PadNd { constructor(padding: Padding) { super('ZeroPad2d', 2, 'constant', padding); } }
export class ConstantPad1d extends PadNd { constructor(padding: Padding, value: number) { super('ConstantPad1d', 1, 'constant', padding, value); } }
export class ConstantPad2d extends PadNd { constructor(padding: Padding, value: number) { super('ConstantPad2d', 2, 'constant', padding, value); } }
export class ConstantPad3d extends PadNd { constructor(padding: Padding, value: number) { super('ConstantPad3d', 3, 'constant', padding, value); } }
export class ReflectionPad1d extends PadNd { constructor(padding: Padding) { super('ReflectionPad1d', 1, 'reflect', padding); } }
export class ReflectionPad2d extends PadNd { constructor(padding: Padding) { super('ReflectionPad2d', 2, 'reflect', padding); } }
export class ReflectionPad3d extends PadNd { constructor(padding: Padding) { super('ReflectionPad3d', 3, 'reflect', padding); } }
export class ReplicationPad1d extends PadNd { constructor(padding: Padding) { super('ReplicationPad1d', 1, 'replicate', padding); } }
export class ReplicationPad2d extends PadNd { constructor(padding: Padding) { super('ReplicationPad2d', 2, 'replicate', padding); } }
export class ReplicationPad3d extends PadNd { constructor(padding: Padding) { super('ReplicationPad3d', 3, 'replicate', padding); } }

/** nn.Unfold(kernelSize, { dilation, padding, stride }): F.unfold (im2col). */
export class Unfold extends Module {
  constructor(readonly kernelSize: number | [number, number], readonly opts: Blocks.BlockOptions = {}) { super(); checkOptions('Unfold', opts, ['dilation', 'padding', 'stride']); }
  forward(x: Tensor): Tensor { return Blocks.unfold(x, this.kernelSize, this.opts); }
}
/** nn.Fold(outputSize, kernelSize, { dilation, padding, stride }): F.fold (col2im, overlaps summed). */
export class Fold extends Module {
  constructor(readonly outputSize: number | [number, number], readonly kernelSize: number | [number, number], readonly opts: Blocks.BlockOptions = {}) { super(); checkOptions('Fold', opts, ['dilation', 'padding', 'stride']); }
  forward(x: Tensor): Tensor { return Blocks.fold(x, this.outputSize, this.kernelSize, this.opts); }
}

export class Flatten extends Module {
  constructor(readonly startDim = 1, readonly endDim = -1) { super(); }
  forward(x: Tensor): Tensor { return x.flatten(this.startDim, this.endDim); }
}

/** nn.Unflatten(dim, unflattened_size): one dim as several (one size may be -1). */
export class Unflatten extends Module {
  constructor(readonly dim: number, readonly sizes: readonly number[]) {
    super();
    if (!Number.isInteger(dim)) throw new ModelDefinitionError(`Unflatten: dim must be an integer, got ${describeValue(dim)}`);
    if (!Array.isArray(sizes) || sizes.length === 0 || !sizes.every((v) => Number.isInteger(v) && (v >= 1 || v === -1)) || sizes.filter((v) => v === -1).length > 1) {
      throw new ModelDefinitionError(`Unflatten: unflattened_size must be a non-empty list of positive integers (one may be -1), got ${Array.isArray(sizes) ? `[${sizes.slice(0, 6).map(describeValue).join(', ')}]` : describeValue(sizes)}`);
    }
  }
  forward(x: Tensor): Tensor { return x.unflatten(this.dim, this.sizes); }
}

export class ReLU extends Module { forward(x: Tensor): Tensor { return x.relu(); } }
export class Tanh extends Module { forward(x: Tensor): Tensor { return x.tanh(); } }
export class Sigmoid extends Module { forward(x: Tensor): Tensor { return x.sigmoid(); } }
/** nn.GELU: exact (erf) by default; `approximate: 'tanh'` is PyTorch's tanh approximation. */
export class GELU extends Module {
  readonly approximate: 'none' | 'tanh';
  constructor(opts: { approximate?: 'none' | 'tanh' } = {}) {
    super(); checkOptions('GELU', opts, ['approximate']);
    const a = opts.approximate ?? 'none';
    if (a !== 'none' && a !== 'tanh') throw new ModelDefinitionError(`GELU: approximate must be 'none' or 'tanh', got ${JSON.stringify(a)}`);
    this.approximate = a;
  }
  forward(x: Tensor): Tensor { return this.approximate === 'tanh' ? F.geluTanh(x) : x.gelu(); }
}
export class SiLU extends Module { forward(x: Tensor): Tensor { return F.silu(x); } }
export class LeakyReLU extends Module {
  constructor(readonly negativeSlope = 0.01) {
    super();
    F.activationOptions.leakyRelu('LeakyReLU', negativeSlope);
  }
  forward(x: Tensor): Tensor { return F.leakyRelu(x, this.negativeSlope); }
}
/** nn.RReLU(lower, upper) at inference: leaky ReLU with slope (lower + upper) / 2. */
export class RReLU extends Module {
  constructor(readonly lower = 1 / 8, readonly upper = 1 / 3) { super(); F.rreluSlope('RReLU', lower, upper); }
  forward(x: Tensor): Tensor { return F.rrelu(x, this.lower, this.upper); }
}
export class ReLU6 extends Module { forward(x: Tensor): Tensor { return F.relu6(x); } }
export class Hardtanh extends Module {
  constructor(readonly minVal = -1, readonly maxVal = 1) { super(); F.activationOptions.hardtanh('Hardtanh', minVal, maxVal); }
  forward(x: Tensor): Tensor { return F.hardtanh(x, this.minVal, this.maxVal); }
}
export class ELU extends Module {
  constructor(readonly alpha = 1) { super(); F.activationOptions.elu('ELU', alpha); }
  forward(x: Tensor): Tensor { return F.elu(x, this.alpha); }
}
export class Softplus extends Module {
  constructor(readonly beta = 1, readonly threshold = 20) { super(); F.activationOptions.softplus('Softplus', beta, threshold); }
  forward(x: Tensor): Tensor { return F.softplus(x, this.beta, this.threshold); }
}
export class Hardsigmoid extends Module { forward(x: Tensor): Tensor { return F.hardsigmoid(x); } }
export class Hardswish extends Module { forward(x: Tensor): Tensor { return F.hardswish(x); } }
export class Mish extends Module { forward(x: Tensor): Tensor { return F.mish(x); } }
export class SELU extends Module { forward(x: Tensor): Tensor { return F.selu(x); } }
export class CELU extends Module {
  constructor(readonly alpha = 1) { super(); if (typeof alpha !== 'number' || !Number.isFinite(alpha) || alpha === 0) throw new ModelDefinitionError(`CELU: alpha must be a finite non-zero number, got ${describeValue(alpha)}`); }
  forward(x: Tensor): Tensor { return F.celu(x, this.alpha); }
}
export class LogSigmoid extends Module { forward(x: Tensor): Tensor { return F.logsigmoid(x); } }
export class Hardshrink extends Module {
  constructor(readonly lambd = 0.5) { super(); if (typeof lambd !== 'number' || !Number.isFinite(lambd)) throw new ModelDefinitionError(`Hardshrink: lambd must be a finite number, got ${describeValue(lambd)}`); }
  forward(x: Tensor): Tensor { return F.hardshrink(x, this.lambd); }
}
export class Softshrink extends Module {
  constructor(readonly lambd = 0.5) { super(); if (typeof lambd !== 'number' || !(lambd >= 0) || lambd === Infinity) throw new ModelDefinitionError(`Softshrink: lambd must be a finite number at least 0, got ${describeValue(lambd)}`); }
  forward(x: Tensor): Tensor { return F.softshrink(x, this.lambd); }
}
export class Tanhshrink extends Module { forward(x: Tensor): Tensor { return F.tanhshrink(x); } }
export class Threshold extends Module {
  constructor(readonly threshold: number, readonly value: number) {
    super();
    for (const [k, v] of [['threshold', threshold], ['value', value]] as const) if (typeof v !== 'number' || !Number.isFinite(v)) throw new ModelDefinitionError(`Threshold: ${k} must be a finite number, got ${describeValue(v)}`);
  }
  forward(x: Tensor): Tensor { return F.threshold(x, this.threshold, this.value); }
}
/** nn.PixelShuffle(upscale_factor): [*, C·r², H, W] to [*, C, H·r, W·r]. */
export class PixelShuffle extends Module {
  constructor(readonly upscaleFactor: number) { super(); positiveInt('PixelShuffle', 'upscale_factor', upscaleFactor); }
  forward(x: Tensor): Tensor { return F.pixelShuffle(x, this.upscaleFactor); }
}
/** nn.PixelUnshuffle(downscale_factor): [*, C, H·r, W·r] to [*, C·r², H, W]. */
export class PixelUnshuffle extends Module {
  constructor(readonly downscaleFactor: number) { super(); positiveInt('PixelUnshuffle', 'downscale_factor', downscaleFactor); }
  forward(x: Tensor): Tensor { return F.pixelUnshuffle(x, this.downscaleFactor); }
}
/**
 * nn.Bilinear(in1, in2, out): y = x1ᵀ·W·x2 + b per output, weight [out, in1, in2], called with
 * (x1 [*, in1], x2 [*, in2]): one linear layer from x1 to every (output, x2 feature), then a dot
 * with x2 (the weight folds into its panels at compile time).
 */
export class Bilinear extends Module {
  readonly weight: Parameter;
  readonly bias?: Parameter;
  constructor(readonly in1Features: number, readonly in2Features: number, readonly outFeatures: number, opts: { bias?: boolean } = {}) {
    super();
    checkOptions('Bilinear', opts, ['bias']);
    positiveInt('Bilinear', 'in1_features', in1Features); positiveInt('Bilinear', 'in2_features', in2Features); positiveInt('Bilinear', 'out_features', outFeatures);
    const bound = 1 / Math.sqrt(in1Features);
    this.weight = this.param('weight', [outFeatures, in1Features, in2Features], { uniform: bound });
    if (opts.bias ?? true) this.bias = this.param('bias', [outFeatures], { uniform: bound });
  }
  forward(x1: Tensor, x2: Tensor): Tensor {
    const [I, J, O] = [this.in1Features, this.in2Features, this.outFeatures];
    if (!(x1 instanceof Tensor) || !(x2 instanceof Tensor) || x1.dims[x1.rank - 1] !== I || x2.dims[x2.rank - 1] !== J || x1.rank !== x2.rank) {
      throw new ModelDefinitionError(`Bilinear: inputs must be [*, ${I}] and [*, ${J}] of the same rank, got ${x1 instanceof Tensor ? fmtShape(x1.dims) : describeValue(x1)} and ${x2 instanceof Tensor ? fmtShape(x2.dims) : describeValue(x2)}`);
    }
    const u = F.linear(x1, this.weight.t.permute(0, 2, 1).reshape(O * J, I)); // [*, O·J]
    const y = u.reshape(...x1.dims.slice(0, -1), O, J).mul(x2.unsqueeze(-2)).sum(-1);
    return this.bias ? y.add(this.bias.t) : y;
  }
}
/** nn.CosineSimilarity(dim, eps): called with (x1, x2). */
export class CosineSimilarity extends Module {
  constructor(readonly dim = 1, readonly eps = 1e-8) { super(); }
  forward(x1: Tensor, x2: Tensor): Tensor { return F.cosineSimilarity(x1, x2, this.dim, this.eps); }
}
/** nn.PairwiseDistance(p, eps, keepdim): called with (x1, x2). */
export class PairwiseDistance extends Module {
  constructor(readonly p = 2, readonly eps = 1e-6, readonly keepdim = false) { super(); }
  forward(x1: Tensor, x2: Tensor): Tensor { return F.pairwiseDistance(x1, x2, this.p, this.eps, this.keepdim); }
}
/** nn.Softmin(dim): softmax of −x along dim. */
export class Softmin extends Module {
  constructor(readonly dim: number) { super(); dimRequired('Softmin', dim); }
  forward(x: Tensor): Tensor { return F.softmin(x, this.dim); }
}
export class Softsign extends Module { forward(x: Tensor): Tensor { return F.softsign(x); } }
/** nn.PReLU: one learned slope, or one per channel (numParameters = channels). */
export class PReLU extends Module {
  readonly weight: Parameter;
  constructor(readonly numParameters = 1, init = 0.25) {
    super();
    positiveInt('PReLU', 'num_parameters', numParameters);
    if (typeof init !== 'number' || !Number.isFinite(init)) throw new ModelDefinitionError(`PReLU: init must be a finite number, got ${describeValue(init)}`);
    this.weight = this.param('weight', [numParameters], 'zeros');
    this.weight.data = new Float32Array(numParameters).fill(init);
  }
  forward(x: Tensor): Tensor { return F.prelu(x, this.weight.t); }
}
export class GLU extends Module {
  constructor(readonly dim = -1) { super(); dimRequired('GLU', dim); }
  forward(x: Tensor): Tensor { return F.glu(x, this.dim); }
}
export class Identity extends Module { forward(x: Tensor): Tensor { return x; } }
/** Inference only: dropout (and its channel-wise and alpha forms below) is the identity. */
export class Dropout extends Module {
  constructor(readonly p = 0.5) {
    super();
    if (typeof p !== 'number' || !(p >= 0 && p <= 1)) throw new ModelDefinitionError(`${this.constructor.name}: p must be a number in [0, 1], got ${String(p)}`);
  }
  forward(x: Tensor): Tensor { return x; }
}
/** nn.Dropout1d: as PyTorch, only on [N, C, L] or [C, L]. */
export class Dropout1d extends Dropout {
  override forward(x: Tensor): Tensor {
    if (x.rank !== 2 && x.rank !== 3) throw new ModelDefinitionError(`Dropout1d: expected [N, C, L] or [C, L] input, got ${fmtShape(x.dims)}`);
    return x;
  }
}
export class Dropout2d extends Dropout {}
export class Dropout3d extends Dropout {}
export class AlphaDropout extends Dropout {}
export class FeatureAlphaDropout extends Dropout {}
/** nn.ChannelShuffle(groups) (ShuffleNet): [N, C, *] with the channels read as [groups, C/groups] and transposed. */
export class ChannelShuffle extends Module {
  constructor(readonly groups: number) { super(); positiveInt('ChannelShuffle', 'groups', groups); }
  forward(x: Tensor): Tensor {
    const g = this.groups, C = x.dims[1];
    if (x.rank < 3 || typeof C !== 'number' || C % g) throw new ModelDefinitionError(`ChannelShuffle: input ${fmtShape(x.dims)} must be [N, C, *] with a fixed C divisible by groups ${g}`);
    const rest = x.dims.slice(2);
    return x.reshape(x.dims[0]!, g, C / g, ...rest).transpose(1, 2).reshape(...x.dims);
  }
}
/** nn.Softmax2d: softmax over the channels of [N, C, H, W] or [C, H, W] (dim −3). */
export class Softmax2d extends Module {
  forward(x: Tensor): Tensor {
    if (x.rank !== 3 && x.rank !== 4) throw new ModelDefinitionError(`Softmax2d: expected [N, C, H, W] or [C, H, W] input, got ${fmtShape(x.dims)}`);
    return x.softmax(-3);
  }
}
export class Softmax extends Module {
  constructor(readonly dim: number) { super(); dimRequired('Softmax', dim); }
  forward(x: Tensor): Tensor { return x.softmax(this.dim); }
}
export class LogSoftmax extends Module {
  constructor(readonly dim: number) { super(); dimRequired('LogSoftmax', dim); }
  forward(x: Tensor): Tensor { return x.logSoftmax(this.dim); }
}

/** PyTorch's implicit softmax dim is deprecated (it guesses from the rank): the dim must be given. */
function dimRequired(module: string, dim: unknown): void {
  if (!Number.isInteger(dim)) throw new ModelDefinitionError(`${module}: dim must be an integer, got ${dim === undefined ? `none (PyTorch's implicit dim is deprecated; give it, e.g. new nn.${module}(-1))` : describeValue(dim)}`);
}

/** nn.Sequential: children named 0, 1, 2, … as in PyTorch's state_dict. */
/**
 * nn.Sequential: layers called in turn, named 0, 1, … in the state_dict, or by key when given as one
 * object of named layers (PyTorch's Sequential(OrderedDict(...))): new nn.Sequential({ conv0, norm0 }).
 */
export class Sequential extends Module {
  readonly layers: Module[];
  private readonly names: string[];
  constructor(...args: Module[] | [Record<string, Module>]) {
    super();
    const named = args.length === 1 && typeof args[0] === 'object' && args[0] !== null && !(args[0] instanceof Module) && !Array.isArray(args[0]);
    const entries: Array<[string, unknown]> = named ? Object.entries(args[0] as Record<string, unknown>) : args.map((m, i) => [String(i), m]);
    if (named) {
      const key = entries.find(([k]) => !k || k.includes('.'));
      if (key) throw new ModelDefinitionError(`Sequential: key ${JSON.stringify(key[0])} cannot name a state_dict entry (non-empty, no '.')`);
      const bad = entries.find(([, m]) => !(m instanceof Module));
      if (bad) throw new ModelDefinitionError(`Sequential: layer '${bad[0]}' must be an nn.Module, got ${describeValue(bad[1])}`);
    }
    const layers = entries.map(([, m]) => m) as Module[];
    this.names = entries.map(([k]) => k);
    const bad = layers.findIndex((m) => !(m instanceof Module));
    if (bad >= 0) {
      const v: unknown = layers[bad];
      const found = Array.isArray(v) ? `an array of ${v.length} (spread it: new nn.Sequential(...layers))` : typeof v === 'object' && v !== null ? (v.constructor?.name ?? 'an object') : typeof v === 'function' ? `a function (the class itself? use new ${(v as { name?: string }).name || 'Layer'}(...))` : String(v);
      throw new ModelDefinitionError(`Sequential: argument ${bad} must be an nn.Module, got ${found}`);
    }
    this.layers = layers;
  }
  override namedChildren(): Array<[string, Module]> { return this.layers.map((m, i) => [this.names[i]!, m]); }
  forward(x: Tensor): Tensor {
    for (const m of this.layers) x = m(x) as Tensor;
    return x;
  }
  /** PyTorch's `for layer in seq` and `len(seq)` (the layers are also `layers`). */
  [Symbol.iterator](): Iterator<Module> { return this.layers[Symbol.iterator](); }
  override get length(): number { return this.layers.length; }
}

/** nn.ModuleList. */
/** nn.ModuleDict: modules by name (their state_dict names start with it), called through get(). */
export class ModuleDict extends Module {
  readonly items: Map<string, Module>;
  constructor(items: Record<string, Module>) {
    super();
    if (typeof items !== 'object' || items === null) throw new ModelDefinitionError(`ModuleDict: expected an object of modules by name, got ${describeValue(items)}`);
    for (const [k, m] of Object.entries(items)) {
      if (!(m instanceof Module)) throw new ModelDefinitionError(`ModuleDict: entry '${k}' must be a module, got ${describeValue(m)}`);
      if (!k || k.includes('.')) throw new ModelDefinitionError(`ModuleDict: key ${JSON.stringify(k)} cannot name a state_dict entry (non-empty, no '.')`);
    }
    this.items = new Map(Object.entries(items));
  }
  get<M extends Module = Module>(key: string): M {
    const m = this.items.get(key);
    if (!m) throw new ModelDefinitionError(`ModuleDict: no module '${key}' (keys: ${[...this.items.keys()].join(', ')})`);
    return m as M; // (the caller names the module's type: get<nn.Linear>('head'))
  }
  override namedChildren(): Array<[string, Module]> { return [...this.items]; }
  // Typed as Module's own: a subclass gives it one (torchvision's _DenseBlock(nn.ModuleDict)), which
  // `forward(): never` refused in TypeScript (too few parameters; a return type not never).
  forward(..._args: never[]): unknown { throw new Error('ModuleDict has no forward(); call its modules through get()'); }
}

export class ModuleList<M extends Module = Module> extends Module {
  readonly items: M[];
  // (The rest parameter takes the generic count check's place: modules spread where the array goes
  // are told to go in an array, which says more than 'takes 1 argument'.)
  constructor(items: M[] = [], ...more: never[]) {
    super();
    // Checked here, as Sequential's layers are: a non-module item failed only at compile, as a raw TypeError (m.assignPaths is not a function).
    if (!Array.isArray(items)) throw new ModelDefinitionError(`ModuleList: expected an array of modules, got ${describeValue(items)}${(items as unknown) instanceof Module ? ' (put the modules in an array: new nn.ModuleList([a, b]))' : ''}`);
    const bad = items.findIndex((m) => !(m instanceof Module));
    if (bad >= 0) throw new ModelDefinitionError(`ModuleList: item ${bad} must be an nn.Module, got ${describeValue(items[bad])}`);
    if (more.length) throw new ModelDefinitionError(`ModuleList: takes 1 argument (items), got ${1 + more.length}`);
    this.items = items;
  }
  override namedChildren(): Array<[string, Module]> { return this.items.map((m, i) => [String(i), m]); }
  forward(..._args: never[]): unknown { throw new Error('ModuleList has no forward(); call its items'); }
  /** PyTorch's `for block in self.blocks` (it was a raw TypeError: not iterable), `len(self.blocks)` and `self.blocks[i]` (negative from the end). */
  [Symbol.iterator](): Iterator<M> { return this.items[Symbol.iterator](); }
  override get length(): number { return this.items.length; }
  get(i: number): M {
    if (!Number.isInteger(i) || i < -this.items.length || i >= this.items.length) throw new ModelDefinitionError(`ModuleList '${this.path || '<root>'}': index ${describeValue(i)} is out of range for ${this.items.length} modules`);
    return this.items[i < 0 ? i + this.items.length : i]!;
  }
}
