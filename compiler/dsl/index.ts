// The DSL's public face: `nn` modules, `F` functional ops, tensors and tracing.
import * as F from './f.ts';
import { Module, Parameter, manualSeed } from './module.ts';

export * as nn from './nn.ts';
export { F, Module, Parameter, manualSeed };
export { Tensor, cat, stack, zeros, ones, full, zerosLike, onesLike, fullLike, eye, linspace, ModelDefinitionError } from './tensor.ts';
export { loop } from './control.ts';
export { Seq2SeqLSTM, Seq2SeqTransformer, GPT, defineGPT, type GPTConfig, type GenerationSpec } from './zoo.ts';
export { ints, arange } from './tensor.ts';
export { trace, traceModel, defineModel, type ModelDefinition, type InputSpec, type InputSpecs } from './trace.ts';
