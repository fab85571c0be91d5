// The compiler's public API (`import … from 'simdflow'`): the DSL, compilation to an artifact,
// PyTorch safetensors, and the tools to look inside (IR printer, passes, reference interpreter).
export * from './dsl/index.ts';
import { compileGraph as compileIr, compileModel as compile, type CompileOptions } from './driver/compile.ts';
import type { Graph } from './ir/node.ts';
import { compileOptionsProblem } from './driver/options.ts';
import { checkGraph, describeValue } from './ir/print.ts';
import type { ModelDefinition } from './dsl/trace.ts';
export { SIMDFLOW_VERSION, type CompileOptions, type Compiled } from './driver/compile.ts';

/** Compiles a model definition to an artifact; its options are checked by key and type first. */
export function compileModel(def: ModelDefinition, opts: CompileOptions = {}): ReturnType<typeof compile> {
  if (typeof def !== 'object' || def === null) return Promise.reject(new Error(`compileModel(): expected a model definition, defineModel({ name, module, inputs, ... }), got ${describeValue(def)}`));
  const problem = compileOptionsProblem(opts);
  return problem ? Promise.reject(new Error(`compileModel(): ${problem}`)) : compile(def, opts);
}
/** Compiles an IR graph (e.g. importOnnx's) to an artifact with one entry, `run`. */
export function compileGraph(graph: Graph, opts: CompileOptions = {}): ReturnType<typeof compileIr> {
  try { checkGraph('compileGraph()', graph, 'importOnnx(bytes).graph'); } catch (e) { return Promise.reject(e); }
  const problem = compileOptionsProblem(opts);
  return problem ? Promise.reject(new Error(`compileGraph(): ${problem}`)) : compileIr(graph, opts);
}
export { importOnnx, OnnxError, UnsupportedError, NeedsConstantError, type ImportOptions, type Imported } from './onnx/import.ts';
export { readSafetensors, writeSafetensors, stateDictFrom, type SafeTensor, type SafeDType } from './weights/safetensors.ts';
export { printGraph } from './ir/print.ts';
import { runPasses as runPassesOn, type PassOptions } from './passes/manager.ts';
import { wasmTarget } from './codegen/target.ts';
/**
 * Runs the passes on a copy of an IR graph, for the wasm target unless `opts.target` says otherwise
 * (without one, memory planning failed after every other pass, asking for a target this module did not export).
 */
export function runPasses(graph: Graph, opts: PassOptions = {}): Graph {
  checkGraph('runPasses()', graph);
  if (typeof opts !== 'object' || opts === null || Array.isArray(opts)) throw new Error(`runPasses(): options must be an object, got ${describeValue(opts)}`);
  return runPassesOn(graph, { target: wasmTarget, ...opts });
}
export { PASSES } from './passes/registry.ts';
export { interpret } from './reference/interpret.ts';
