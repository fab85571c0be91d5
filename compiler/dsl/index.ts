// The DSL's public face: `nn` modules, `F` functional ops, tensors and tracing.
import * as F from './functional.ts';
import * as layers from './layers.ts';
import { Module, Parameter, manualSeed } from './module.ts';

export const nn = { ...layers, Module, Parameter };
export { F, Module, Parameter, manualSeed };
export { Tensor, cat, stack, ModelDefinitionError } from './tensor.ts';
export { trace, traceModel, defineModel, type ModelDefinition, type InputSpec, type InputSpecs } from './trace.ts';
