// The compiler's public API (`import … from 'simdflow'`): the DSL, compilation to an artifact,
// PyTorch safetensors, and the tools to look inside (IR printer, passes, reference interpreter).
export * from './dsl/index.ts';
import { compileModel as compile, type CompileOptions } from './driver/compile.ts';
import type { ModelDefinition } from './dsl/trace.ts';
import { ISAS } from '../runtime/format.ts';
export { SIMDFLOW_VERSION, type CompileOptions, type Compiled } from './driver/compile.ts';

const OPTIONS = ['name', 'disablePasses', 'isas', 'attention', 'onStage'];
const show = (v: unknown) => (typeof v === 'string' ? JSON.stringify(v.slice(0, 40)) : v === null || typeof v !== 'object' ? String(v) : Array.isArray(v) ? `an array of ${v.length}` : (v.constructor?.name ?? 'an object'));

/** Compiles a model definition to an artifact; its options are checked by key and type first. */
export function compileModel(def: ModelDefinition, opts: CompileOptions = {}): ReturnType<typeof compile> {
  const bad = (m: string) => Promise.reject(new Error(`compileModel(): ${m}`));
  if (typeof def !== 'object' || def === null) return bad(`expected a model definition, defineModel({ name, module, inputs, ... }), got ${show(def)}`);
  if (typeof opts !== 'object' || opts === null || Array.isArray(opts)) return bad(`options must be an object with keys among ${OPTIONS.join(', ')}; got ${show(opts)}`);
  const unknown = Object.keys(opts).find((k) => !OPTIONS.includes(k));
  if (unknown !== undefined) return bad(`unknown option '${unknown.slice(0, 60)}' (allowed: ${OPTIONS.join(', ')})`);
  const { isas, disablePasses, attention, onStage, name } = opts;
  if (isas !== undefined && !(Array.isArray(isas) && isas.length > 0 && isas.every((i) => ISAS.includes(i)))) return bad(`option isas must be a non-empty array of ${ISAS.join(', ')}; got ${show(isas)}${Array.isArray(isas) ? ` ([${isas.slice(0, 4).map(show).join(', ')}])` : ''}`);
  if (disablePasses !== undefined && !(Array.isArray(disablePasses) && disablePasses.every((p) => typeof p === 'string'))) return bad(`option disablePasses must be an array of pass names; got ${show(disablePasses)}`);
  if (attention !== undefined && !['auto', 'fused', 'unfused'].includes(attention)) return bad(`option attention must be 'auto', 'fused' or 'unfused'; got ${show(attention)}`);
  if (onStage !== undefined && typeof onStage !== 'function') return bad(`option onStage must be a function; got ${show(onStage)}`);
  if (name !== undefined && typeof name !== 'string') return bad(`option name must be a string; got ${show(name)}`);
  return compile(def, opts);
}
export { readSafetensors, writeSafetensors, stateDictFrom, type SafeTensor, type SafeDType } from './weights/safetensors.ts';
export { printGraph } from './ir/print.ts';
export { runPasses } from './passes/manager.ts';
export { PASSES } from './passes/registry.ts';
export { interpret } from './reference/interpret.ts';
