// The basic layers, with PyTorch's parameter names, layouts and default initialisation.

import * as F from './functional.ts';
import { Module, positiveInt, type Parameter } from './module.ts';
import { ModelDefinitionError, type Tensor } from './tensor.ts';
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

export class Conv2d extends Module {
  readonly weight: Parameter;
  readonly bias?: Parameter;
  constructor(readonly inChannels: number, readonly outChannels: number, readonly kernelSize: Pair,
    readonly opts: F.Conv2dOptions & { bias?: boolean } = {}) {
    super();
    checkOptions('Conv2d', opts, ['stride', 'padding', 'dilation', 'groups', 'bias']);
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
  forward(x: Tensor): Tensor { const { bias: _, ...o } = this.opts; return F.conv2d(x, this.weight.t, this.bias?.t, o); }
}

export class MaxPool2d extends Module {
  constructor(readonly kernelSize: Pair, readonly opts: F.MaxPool2dOptions = {}) {
    super(); checkOptions('MaxPool2d', opts, ['stride', 'padding']);
    F.pairOf('MaxPool2d', 'kernel_size', kernelSize, 1); F.pairOf('MaxPool2d', 'stride', opts.stride ?? 1, 1); F.pairOf('MaxPool2d', 'padding', opts.padding ?? 0, 0);
  }
  forward(x: Tensor): Tensor { return F.maxPool2d(x, this.kernelSize, this.opts); }
}

export class AvgPool2d extends Module {
  constructor(readonly kernelSize: Pair, readonly opts: F.Pool2dOptions = {}) {
    super(); checkOptions('AvgPool2d', opts, ['stride', 'padding', 'countIncludePad']);
    F.pairOf('AvgPool2d', 'kernel_size', kernelSize, 1); F.pairOf('AvgPool2d', 'stride', opts.stride ?? 1, 1); F.pairOf('AvgPool2d', 'padding', opts.padding ?? 0, 0);
  }
  forward(x: Tensor): Tensor { return F.avgPool2d(x, this.kernelSize, this.opts); }
}

export class Flatten extends Module {
  constructor(readonly startDim = 1, readonly endDim = -1) { super(); }
  forward(x: Tensor): Tensor { return x.flatten(this.startDim, this.endDim); }
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
export class Identity extends Module { forward(x: Tensor): Tensor { return x; } }
/** Inference only: dropout is the identity. */
export class Dropout extends Module {
  constructor(readonly p = 0.5) {
    super();
    if (typeof p !== 'number' || !(p >= 0 && p <= 1)) throw new ModelDefinitionError(`Dropout: p must be a number in [0, 1], got ${String(p)}`);
  }
  forward(x: Tensor): Tensor { return x; }
}
export class Softmax extends Module {
  constructor(readonly dim: number) { super(); }
  forward(x: Tensor): Tensor { return x.softmax(this.dim); }
}
export class LogSoftmax extends Module {
  constructor(readonly dim: number) { super(); }
  forward(x: Tensor): Tensor { return x.logSoftmax(this.dim); }
}

/** nn.Sequential: children named 0, 1, 2, … as in PyTorch's state_dict. */
export class Sequential extends Module {
  readonly layers: Module[];
  constructor(...layers: Module[]) {
    super();
    const bad = layers.findIndex((m) => !(m instanceof Module));
    if (bad >= 0) {
      const v: unknown = layers[bad];
      const found = Array.isArray(v) ? `an array of ${v.length} (spread it: new nn.Sequential(...layers))` : typeof v === 'object' && v !== null ? (v.constructor?.name ?? 'an object') : typeof v === 'function' ? `a function (the class itself? use new ${(v as { name?: string }).name || 'Layer'}(...))` : String(v);
      throw new ModelDefinitionError(`Sequential: argument ${bad} must be an nn.Module, got ${found}`);
    }
    this.layers = layers;
  }
  override namedChildren(): Array<[string, Module]> { return this.layers.map((m, i) => [String(i), m]); }
  forward(x: Tensor): Tensor {
    for (const m of this.layers) x = (m as Module & { call(x: Tensor): Tensor }).call(x);
    return x;
  }
}

/** nn.ModuleList. */
export class ModuleList extends Module {
  readonly items: Module[];
  constructor(items: Module[]) { super(); this.items = items; }
  override namedChildren(): Array<[string, Module]> { return this.items.map((m, i) => [String(i), m]); }
  forward(): never { throw new Error('ModuleList has no forward(); call its items'); }
}
