// The DSL's public face: `nn` modules, `F` functional ops, tensors and tracing. What a model calls
// refuses extra positional arguments (arity.ts): a JavaScript model file has no type checker to
// catch them, and PyTorch refuses most or reads them as what the DSL takes by name.
import { checkedClass, checkedFunctions, checkMethods } from './arity.ts';
import * as control from './control.ts';
import * as F from './f.ts';
import * as Fn from './functional.ts';
import * as Sp from './spectral.ts';
import * as St from './statistics.ts';
import * as G from './sampling.ts';
import { Module, manualSeed } from './module.ts';
import * as T from './tensor.ts';
import * as TR from './trace.ts';
import * as U from './utilities.ts';
import * as Z from './zoo.ts';

checkMethods('', T.Tensor.prototype);

export * as nn from './nn.ts';
export { F, Module, manualSeed };
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
