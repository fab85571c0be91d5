// The DSL's public face: `nn` modules, `F` functional ops, tensors and tracing. What a model calls
// refuses extra positional arguments (arity.ts): a JavaScript model file has no type checker to
// catch them, and PyTorch refuses most or reads them as what the DSL takes by name.
import { checkedClass, checkedFunctions, checkMethods } from './arity.ts';
import * as control from './control.ts';
import * as Fns from './f.ts';
import * as Fn from './functional.ts';
import * as Sp from './spectral.ts';
import * as St from './statistics.ts';
import * as G from './sampling.ts';
import { deepcopy, Module, manualSeed } from './module.ts';
import * as T from './tensor.ts';
import * as TR from './trace.ts';
import * as U from './utilities.ts';
import * as Z from './zoo.ts';

checkMethods('', T.Tensor.prototype);

export * as nn from './nn.ts';
export { Module, manualSeed };
/** Python's `copy` module as PyTorch code uses it: `copy.deepcopy(layer)` (module.ts). */
export const copy = checkedFunctions('copy.', { deepcopy });

/**
 * `F` as a port of torch.nn.functional code reads it: torch's snake_case (F.layer_norm,
 * F.scaled_dot_product_attention) and in-place names (F.relu_) read undefined, a raw TypeError
 * "F.layer_norm is not a function". Each names the DSL's spelling, as the Tensor methods do
 * (tensor.ts), and a snake_case name without one says F has neither. Every other name reads as on
 * the module (tools probe objects for then, toJSON, …).
 */
export const F: typeof Fns = new Proxy(Fns, {
  get(fns, k, r) {
    if (typeof k !== 'string' || k in fns || !k.includes('_') || !/^[a-z][a-z0-9]*(_[a-z0-9]+)*_?$/.test(k)) return Reflect.get(fns, k, r);
    // In camelCase, or run together (F.hard_sigmoid: torch's and the DSL's F.hardsigmoid).
    const stem = k.replace(/_$/, ''), camel = stem.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
    const ours = [camel, stem.replace(/_/g, '')].find((n) => n in fns);
    throw new T.ModelDefinitionError(`F.${k}: ${ours === undefined ? `F has no ${k}, nor ${camel} (Object.keys(F) lists its functions)`
      : k.endsWith('_') ? `in-place ops do not exist in a traced model (every op makes a new tensor): write x = F.${ours}(x, …)`
        : `the DSL spells PyTorch's snake_case names in camelCase; this is F.${ours}`}${T.where()}`);
  },
});
/** The option types of F's functions (F.Conv2dOptions, …): the types f.ts exports, each named here. */
export declare namespace F {
  export type Conv1dOptions = Fns.Conv1dOptions; export type Conv2dOptions = Fns.Conv2dOptions;
  export type ConvTranspose1dOptions = Fns.ConvTranspose1dOptions; export type ConvTranspose2dOptions = Fns.ConvTranspose2dOptions;
  export type MaxPool1dOptions = Fns.MaxPool1dOptions; export type AvgPool1dOptions = Fns.AvgPool1dOptions;
  export type MaxPool2dOptions = Fns.MaxPool2dOptions; export type Pool2dOptions = Fns.Pool2dOptions;
  export type BatchNormOptions = Fns.BatchNormOptions; export type InterpolateMode = Fns.InterpolateMode;
  export type InterpolateOptions = Fns.InterpolateOptions; export type PadMode = Fns.PadMode; export type BlockOptions = Fns.BlockOptions;
  export type Reduction = Fns.Reduction; export type NllLossOptions = Fns.NllLossOptions;
  export type CrossEntropyOptions = Fns.CrossEntropyOptions; export type ReductionOptions = Fns.ReductionOptions;
  export type MaxUnpoolOptions = Fns.MaxUnpoolOptions; export type GridSampleOptions = Fns.GridSampleOptions;
  export type GridSampleMode = Fns.GridSampleMode; export type GridSamplePadding = Fns.GridSamplePadding;
  export type Conv3dOptions = Fns.Conv3dOptions; export type ConvTranspose3dOptions = Fns.ConvTranspose3dOptions;
  export type MaxPool3dOptions = Fns.MaxPool3dOptions; export type AvgPool3dOptions = Fns.AvgPool3dOptions;
}
export { Parameter } from './nn.ts';
export { Tensor, ModelDefinitionError, SymSize } from './tensor.ts';
export const { cat, stack, zeros, ones, full, zerosLike, onesLike, fullLike, eye, linspace, ints, floats, arange, triuIndices, trilIndices, loop } = checkedFunctions('', {
  cat: T.cat, stack: T.stack, zeros: T.zeros, ones: T.ones, full: T.full, zerosLike: T.zerosLike, onesLike: T.onesLike,
  fullLike: T.fullLike, eye: T.eye, linspace: T.linspace, ints: T.ints, floats: T.floats, arange: T.arange, triuIndices: T.triuIndices, trilIndices: T.trilIndices, loop: control.loop,
});
export const Seq2SeqLSTM = checkedClass('', Z.Seq2SeqLSTM); export type Seq2SeqLSTM = Z.Seq2SeqLSTM;
export const Seq2SeqTransformer = checkedClass('', Z.Seq2SeqTransformer); export type Seq2SeqTransformer = Z.Seq2SeqTransformer;
export const GPT = checkedClass('', Z.GPT); export type GPT = Z.GPT;
export const { defineGPT } = checkedFunctions('', { defineGPT: Z.defineGPT });
export type { GPTConfig, GenerationSpec } from './zoo.ts';
export const { meshgrid } = checkedFunctions('', { meshgrid: G.meshgrid });
export const { cdist, stft, hannWindow, hammingWindow, blackmanWindow } = checkedFunctions('', { cdist: Fn.cdist, stft: Sp.stft, hannWindow: Sp.hannWindow, hammingWindow: Sp.hammingWindow, blackmanWindow: Sp.blackmanWindow });
export const { addmm, addmv, baddbmm, addbmm } = checkedFunctions('', { addmm: U.addmm, addmv: U.addmv, baddbmm: U.baddbmm, addbmm: U.addbmm });
export const { trace, traceModel, defineModel } = checkedFunctions('', { trace: TR.trace, traceModel: TR.traceModel, defineModel: TR.defineModel });
export type { StftOptions } from './spectral.ts';
export const { searchsorted, bucketize } = checkedFunctions('', { searchsorted: St.searchsorted, bucketize: St.bucketize });
export type { QuantileOptions, QuantileInterpolation, SearchSortedOptions } from './statistics.ts';
export type { DivOptions } from './rounding.ts';
export type { ModelDefinition, EntryDefinition, EntryResult, InputSpec, InputSpecs } from './trace.ts';
