// The compiler's public API (`import … from 'simdflow'`): the DSL, compilation to an artifact,
// PyTorch safetensors, and the tools to look inside (IR printer, passes, reference interpreter).
export * from './dsl/index.ts';
export { compileModel, SIMDFLOW_VERSION, type CompileOptions, type Compiled } from './driver/compile.ts';
export { readSafetensors, writeSafetensors, stateDictFrom, type SafeTensor, type SafeDType } from './weights/safetensors.ts';
export { printGraph } from './ir/print.ts';
export { runPasses } from './passes/manager.ts';
export { PASSES } from './passes/registry.ts';
export { interpret } from './reference/interpret.ts';
