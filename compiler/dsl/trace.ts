// From a model definition to an IR graph: run forward() on symbolic inputs and record.

import { declaredParams } from './arity.ts';
import { makeGraph, node, type Graph, type GraphOutput } from '../ir/node.ts';
import { verify } from '../ir/verify.ts';
import { objectLike } from '../ir/print.ts';
import { fmtShape, MAX_NAME, type DType } from '../ir/types.ts';
import { canonDim, evalDim, RESERVED_SIZE, SIZE_NAME } from '../ir/dims.ts';
import { linearDim } from '../../runtime/dims.ts';
import type { Module } from './module.ts';
import { ModelDefinitionError, Tensor, withTrace } from './tensor.ts';
import { checkOptions } from './options.ts';

/**
 * An input: its shape (positive integers, or names of sizes chosen at run time, e.g.
 * ['B', 'T', 128], or c*NAME+d for a dim the runtime reads NAME off, e.g. '2*K' for an even
 * size: linearDim), its dtype, the bound of each named size (`max: { B: 8, T: 512 }`) and,
 * optionally, the least value of some (`min: { T: 3 }`; 1 when not given): at run time each size
 * is an integer in [min, max]. A name used by several inputs of an entry is one size, bounded once.
 */
export interface InputSpec { shape: Array<number | string>; dtype?: DType; max?: Record<string, number>; min?: Record<string, number> }
export type InputSpecs = Record<string, InputSpec | number[]>;
export type TraceResult = Tensor | Tensor[] | Record<string, Tensor>;

const DTYPES: readonly DType[] = ['f32', 'i32', 'bool'];

/** A short description of a value for an error message. */
const what = (v: unknown): string => !objectLike(v) ? (typeof v === 'string' ? JSON.stringify(v.slice(0, 40)) : typeof v === 'function' ? 'a function' : typeof v === 'bigint' ? `${v}n` : String(v))
  : Array.isArray(v) ? `an array of ${v.length}` : (v.constructor?.name ?? 'an object');

/** A dim of an input spelled c*NAME+d (c ≥ 1), canonically ('K*2' → '2*K'); undefined for any other string. */
function linearSpelling(d: string): string | undefined {
  let c: ReturnType<typeof canonDim>;
  try { c = canonDim(d); } catch { return undefined; }
  return typeof c === 'string' && linearDim(c) ? c : undefined;
}
/** The size a named dim of an input reads ('K' of '2*K+1'). */
const nameOf = (d: number | string): string | undefined => (typeof d === 'string' ? linearDim(d)?.name : undefined);

const spec = (where: string, s: InputSpec | number[]): Required<InputSpec> => {
  if (Array.isArray(s)) return { shape: s, dtype: 'f32', max: {}, min: {} };
  if (typeof s !== 'object' || s === null) throw new ModelDefinitionError(`${where}: expected a shape (an array of positive integers) or { shape, dtype }, got ${what(s)}`);
  const { shape: given, dtype = 'f32', max = {}, min = {} } = checkOptions(where, s, ['shape', 'dtype', 'max', 'min']);
  if (!Array.isArray(given)) throw new ModelDefinitionError(`${where}: expected a shape (an array of positive integers), got ${what(given)}`);
  if (!DTYPES.includes(dtype)) throw new ModelDefinitionError(`${where}: dtype must be one of ${DTYPES.join(', ')}, got ${what(dtype)}`);
  const bad = given.find((d) => typeof d === 'string' && !linearSpelling(d));
  if (bad !== undefined) throw new ModelDefinitionError(`${where}: shape [${given.map(String).join(', ')}] must be positive integers, size names (a letter or _ then letters, digits or _) or c*NAME+d with integers c ≥ 1 and d ('2*K' for an even size, '2*K+1' for an odd one), got ${JSON.stringify(bad).slice(0, 40)}`);
  const shape = given.map((d) => (typeof d === 'string' ? linearSpelling(d)! : d)), names = shape.map(nameOf).filter((n) => n !== undefined);
  // Sizes are looked up by name in plain objects (here and in the runtime): 'constructor' would find Object's.
  const inherited = names.find((d) => d in Object.prototype);
  if (inherited !== undefined) throw new ModelDefinitionError(`${where}: size name '${inherited}' is a property of every JavaScript object; choose another name`);
  const reserved = names.find((d) => RESERVED_SIZE.test(d));
  if (reserved !== undefined) throw new ModelDefinitionError(`${where}: size name '${reserved}' is reserved (the compiler names floors of sizes so while it checks shapes); choose another name`);
  if (typeof max !== 'object' || max === null || Array.isArray(max)) throw new ModelDefinitionError(`${where}: max must be an object of bounds by size name, e.g. { B: 8 }, got ${what(max)}`);
  for (const [k, v] of Object.entries(max as Record<string, unknown>)) {
    if (!SIZE_NAME.test(k)) throw new ModelDefinitionError(`${where}: max names size '${k.slice(0, 40)}'; a size name is a letter or _ followed by letters, digits or _`);
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 2 || v > 2 ** 30) throw new ModelDefinitionError(`${where}: max.${k} must be an integer from 2 to 2^30 (a size that is always 1 is the static dim 1), got ${what(v)}`);
    if (!names.includes(k)) throw new ModelDefinitionError(`${where}: max bounds size '${k}', which its shape [${shape.map(String).join(', ')}] does not name`);
  }
  if (typeof min !== 'object' || min === null || Array.isArray(min)) throw new ModelDefinitionError(`${where}: min must be an object of least values by size name, e.g. { T: 3 }, got ${what(min)}`);
  for (const [k, v] of Object.entries(min as Record<string, unknown>)) {
    if (!SIZE_NAME.test(k) || !names.includes(k)) throw new ModelDefinitionError(`${where}: min gives size '${k.slice(0, 40)}', which its shape [${shape.map(String).join(', ')}] does not name`);
    // The bound may come from another input of the entry (entryBounds checks min against it).
    const bound = (max as Record<string, unknown>)[k];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > 2 ** 30) throw new ModelDefinitionError(`${where}: min.${k} must be an integer from 1 to max.${k}${typeof bound === 'number' ? ` (${bound})` : ''}, got ${what(v)}`);
  }
  return { shape, dtype, max, min };
};

/**
 * The bound of each size the entry's input specs name (given once or consistently, and for every
 * named dim) and the declared least values (likewise, each at most its size's bound).
 */
function entryBounds(what: string, specs: InputSpecs): { max: Record<string, number>; min: Record<string, number> } {
  const max: Record<string, number> = {}, from: Record<string, string> = {}, min: Record<string, number> = {}, minFrom: Record<string, string> = {};
  const all = Object.entries(specs).map(([name, s]) => [name, spec(`${what} '${name}'`, s)] as const);
  for (const [name, s] of all) for (const [k, v] of Object.entries(s.max)) {
    if (max[k] !== undefined && max[k] !== v) throw new ModelDefinitionError(`${what} '${name}': max.${k} is ${v} but ${what} '${from[k]}' bounds it at ${max[k]}; a size has one bound`);
    max[k] = v; from[k] = name;
  }
  for (const [name, s] of all) for (const k of s.shape.map(nameOf)) {
    if (k !== undefined && max[k] === undefined) throw new ModelDefinitionError(`${what} '${name}': size '${k}' has no bound; give it in max, e.g. { shape: [${s.shape.map((x) => (typeof x === 'string' ? `'${x}'` : x)).join(', ')}], max: { ${k}: 64 } }`);
  }
  for (const [name, s] of all) for (const [k, v] of Object.entries(s.min)) {
    if (min[k] !== undefined && min[k] !== v) throw new ModelDefinitionError(`${what} '${name}': min.${k} is ${v} but ${what} '${minFrom[k]}' gives it ${min[k]}; a size has one minimum`);
    if (v > max[k]!) throw new ModelDefinitionError(`${what} '${name}': min.${k} is ${v}, above its bound max.${k} = ${max[k]}; a size runs from min to max`);
    min[k] = v; minFrom[k] = name;
  }
  // Bounds and minimums are of the name: '2*K' with max: { K: 8 } runs 2, 4, …, 16. Its least value must be a size.
  for (const [name, s] of all) s.shape.forEach((d, i) => {
    const k = nameOf(d);
    if (k === undefined || d === k) return;
    const lo = min[k] ?? 1, v = evalDim(d, { [k]: lo });
    if (v < 1) throw new ModelDefinitionError(`${what} '${name}': dim ${i} '${d}' is ${v} at ${k} = ${lo}, its least value; a dim is at least 1 at every size: declare min: { ${k}: ${lo + Math.ceil((1 - v) / linearDim(d)!.c)} }`);
  });
  // A minimum of 1 is the default: kept out of the types, so they read as without one.
  return { max, min: Object.fromEntries(Object.entries(min).filter(([, v]) => v > 1)) };
}

/**
 * Traces `fn` on symbolic inputs. A single returned tensor is named `y`; an array is named
 * by `outputNames` (or y0, y1, …); a record is named by its keys.
 */
export function trace(fn: (inputs: Record<string, Tensor>) => TraceResult, inputs: InputSpecs, outputNames?: string[]): Graph {
  // A module is callable too, but with tensors, not the record of inputs trace() passes.
  const isModule = typeof (fn as Partial<Module> | undefined)?.assignPaths === 'function';
  if (typeof fn !== 'function' || isModule) throw new ModelDefinitionError(`trace(): expected a function (inputs) => outputs, got ${what(fn)}${isModule ? ` (a module: traceModel(defineModel({ name, module, inputs })) traces it, or trace((i) => m(i.x), inputs))` : ''}`);
  return traceEntry((ins) => ({ outputs: fn(ins) }), inputs, {}, outputNames);
}

/** What an entry's forward returns: its outputs and, optionally, new values for state tensors. */
export interface EntryResult { outputs: TraceResult; state?: Record<string, Tensor> }

/** Tensor names reach the generated source (in comments) and error messages: one short line. */
function checkName(what: string, name: string): void {
  if (name.length === 0 || name.length > 100 || /[\x00-\x1f\x7f\u2028\u2029]/.test(name)) {
    throw new ModelDefinitionError(`${what} name ${JSON.stringify(name.slice(0, 100))} must be 1 to 100 characters on one line`);
  }
  // An object literal's __proto__ key sets its prototype: run({ __proto__: x }) could never feed it.
  if (name === '__proto__') throw new ModelDefinitionError(`${what} name '__proto__' cannot be given in an object literal of inputs or outputs; choose another name`);
}

const sourceNode = (op: 'input' | 'state', name: string, s: InputSpec | number[], bounds: Record<string, number> = {}, least: Record<string, number> = {}) => {
  checkName(op, name);
  const { shape, dtype } = spec(`${op} '${name}'`, s);
  const named = op === 'input' ? (d: number | string) => nameOf(d) !== undefined : () => false;
  if (shape.some((d) => !named(d) && (typeof d !== 'number' || !Number.isInteger(d) || d < 1))) {
    throw new ModelDefinitionError(`${op} '${name}': shape [${shape.map((d) => (typeof d === 'number' ? d : what(d))).join(',')}] must be positive integers${op === 'input' ? ' or size names (e.g. \'B\', with max: { B: 8 })' : ' (state has a fixed size)'}`);
  }
  if (!shape.some((d) => typeof d === 'string')) return node(op, [], { dtype, shape: [...shape] as number[] }, { name }, name);
  const dims = [...shape], used = [...new Set(shape.map(nameOf).filter((n) => n !== undefined))];
  const max = Object.fromEntries(used.map((k) => [k, bounds[k]!])), min = used.filter((k) => least[k] !== undefined);
  return node(op, [], { dtype, shape: dims.map((d) => evalDim(d, max)), dims, max, ...(min.length ? { min: Object.fromEntries(min.map((k) => [k, least[k]!])) } : {}) }, { name }, name);
};

/** Traces an entry that may read and write persistent state tensors. */
export function traceEntry(fn: (inputs: Record<string, Tensor>, state: Record<string, Tensor>) => EntryResult,
  inputs: InputSpecs, state: InputSpecs, outputNames?: string[]): Graph {
  const { max: bounds, min: least } = entryBounds('input', inputs);
  const { result: { ins, sts, outs, writes } } = withTrace(() => {
    const ins = Object.entries(inputs).map(([name, s]) => sourceNode('input', name, s, bounds, least));
    const st = Object.fromEntries(Object.entries(state).map(([name, s]) => [name, new Tensor(sourceNode('state', name, s))]));
    const res = fn(Object.fromEntries(ins.map((n) => [n.label!, new Tensor(n)])), st);
    // An entry's forward returns { outputs, state }: a bare record of tensors ({ y }) read as no outputs
    // ('it returned undefined'), a state array as state '0', a number as state written as undefined[undefined].
    const record = (v: unknown) => typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Tensor);
    if (!record(res) || !('outputs' in res || 'state' in res)) {
      throw new ModelDefinitionError(`an entry's forward must return { outputs, state? } (outputs: a tensor, an array or a record of tensors; state: new values by name), got ${record(res) ? `an object with keys ${Object.keys(res).slice(0, 5).join(', ') || 'none'}` : what(res)}`);
    }
    if (res.state !== undefined && !record(res.state)) throw new ModelDefinitionError(`an entry's forward must return state as an object of tensors by state name, got ${what(res.state)}`);
    const writes = Object.entries(res.state ?? {}).map(([name, t]) => {
      const s = st[name];
      if (!s) throw new ModelDefinitionError(`entry writes state '${name}', which is not declared (declared: ${Object.keys(state).join(', ') || 'none'})`);
      if (!(t instanceof Tensor)) throw new ModelDefinitionError(`entry writes state '${name}' as ${what(t)}, not a tensor (${s.dtype}${fmtShape(s.maxShape)})`);
      if (s.dtype !== t.dtype || s.maxShape.length !== t.maxShape.length || s.maxShape.some((d, i) => d !== t.maxShape[i])) {
        throw new ModelDefinitionError(`state '${name}' is ${s.dtype}[${s.maxShape}] but the entry writes ${t.dtype}[${t.maxShape}]`);
      }
      return { name, node: t.node };
    });
    const outs = nameOutputs(res.outputs, outputNames);
    if (outs.length === 0 && writes.length === 0) throw new ModelDefinitionError('forward() returned no outputs (return a tensor, an array of tensors or a record of tensors)');
    return { ins, sts: Object.values(st).map((t) => t.node), outs, writes };
  }, bounds, least);
  const g = makeGraph(ins, outs, writes);
  // A tensor kept from another trace (an earlier compile, another entry) reaches that trace's inputs: codegen found no memory for them.
  const foreign = g.nodes.find((n) => (n.op === 'input' && !ins.includes(n)) || (n.op === 'state' && !sts.includes(n)));
  if (foreign) throw new ModelDefinitionError(`forward() uses a tensor computed from ${foreign.op} '${foreign.label}' of another trace (kept from an earlier compile or another entry); use only tensors computed in this forward() from its own inputs`);
  verify(g);
  return g;
}

function nameOutputs(res: TraceResult, names?: string[]): GraphOutput[] {
  const out = (name: string, t: unknown): GraphOutput => {
    checkName('output', name);
    if (!(t instanceof Tensor)) {
      throw new ModelDefinitionError(`output '${name}' is ${what(t)}, not a tensor: forward() must return a tensor, an array of tensors or a record of tensors` +
        (Array.isArray(t) ? ' (a module that returns nested arrays, like nn.LSTM\'s [y, [h, c]], needs a forward in the definition that picks the tensors, e.g. { y, h, c })' : ''));
    }
    return { name, node: t.node };
  };
  if (res instanceof Tensor) {
    if (names && names.length !== 1) throw new ModelDefinitionError(`forward returned one tensor but ${names.length} output names were given`);
    return [out(names?.[0] ?? 'y', res)];
  }
  if (typeof (res as { then?: unknown } | null)?.then === 'function') {
    (res as unknown as PromiseLike<unknown>).then(undefined, () => {}); // its own rejection would go unhandled and end the process
    throw new ModelDefinitionError('forward() returned a Promise: tracing is synchronous, so forward() must not be async');
  }
  if (Array.isArray(res)) {
    if (names && names.length !== res.length) throw new ModelDefinitionError(`forward returned ${res.length} tensors but ${names.length} output names were given`);
    const twice = names?.find((k, i) => names.indexOf(k) !== i);
    if (twice !== undefined) throw new ModelDefinitionError(`output name '${String(twice).slice(0, 100)}' is given twice in outputNames`); // (was the IR verifier's error)
    return res.map((t, i) => out(names?.[i] ?? `y${i}`, t));
  }
  if (typeof res !== 'object' || res === null) throw new ModelDefinitionError(`forward() must return a tensor, an array of tensors or a record of tensors; it returned ${res === null ? 'null' : typeof res}`);
  if (names) throw new ModelDefinitionError(`output names were given, but forward() returned a record, whose keys name its outputs (${Object.keys(res).slice(0, 5).join(', ')})`);
  return Object.entries(res).map(([name, t]) => out(name, t));
}

/** A model as the CLI and `npm start` see it: a module, its input specs and how to call it. */
export interface ModelDefinition<M extends Module = Module> {
  name: string;
  description?: string;
  module: M;
  inputs: InputSpecs;
  /** Defaults to `module.call(...inputs in declaration order)`. */
  forward?: (m: M, inputs: Record<string, Tensor>) => TraceResult;
  outputNames?: string[];
  /** A safetensors state_dict, relative to the model file. */
  weights?: string;
  /** Tensors that persist across calls (zero at load and after reset()), shared by the entries. */
  state?: InputSpecs;
  /** Entry points beside `run` (e.g. `step` of a recurrent model), each traced on its own. */
  entries?: Record<string, EntryDefinition<M>>;
  /** For language models: how the runtime's prefill/decode/generate drive the entries. */
  generation?: Record<string, string | number>;
}

export interface EntryDefinition<M extends Module = Module> {
  inputs: InputSpecs;
  forward: (m: M, inputs: Record<string, Tensor>, state: Record<string, Tensor>) => EntryResult;
  outputNames?: string[];
}

/** Every entry of a model as a graph: `run` first, then the declared entries. */
const MODEL_KEYS = ['name', 'description', 'module', 'inputs', 'forward', 'outputNames', 'weights', 'state', 'entries', 'generation'] as const;

export function traceEntries(def: ModelDefinition): Array<{ name: string; graph: Graph }> {
  const out = [{ name: 'run', graph: traceModel(def) }];
  for (const [name, e] of Object.entries(def.entries ?? {})) {
    checkOptions(`entry '${name}'`, e, ['inputs', 'forward', 'outputNames']);
    if (!/^[A-Za-z][A-Za-z0-9]*$/.test(name) || name === 'run') throw new ModelDefinitionError(`entry name '${name}' must be alphanumeric and not 'run'`);
    // (A missing forward was a raw TypeError, e.forward is not a function.)
    if (typeof e.forward !== 'function') throw new ModelDefinitionError(`entry '${name}': forward must be a function (m, inputs, state) => ({ outputs, state }), got ${what(e.forward)}`);
    out.push({ name, graph: traceEntry((ins, st) => e.forward(def.module, ins, st), e.inputs, def.state ?? {}, e.outputNames) });
  }
  return out;
}

/** The definition's fields, checked by key and type (the input specs are checked as they are traced). */
export function checkDefinition(def: unknown): asserts def is ModelDefinition {
  if (typeof def !== 'object' || def === null || Array.isArray(def)) throw new ModelDefinitionError(`defineModel: expected { name, module, inputs, forward?, weights?, ... }, got ${what(def)}`);
  const d = def as Record<string, unknown>;
  const name = typeof d.name === 'string' ? d.name : undefined;
  const where = `defineModel${name ? ` '${name.slice(0, 60)}'` : ''}`;
  checkOptions(where, d, MODEL_KEYS as unknown as string[]);
  if (!name) throw new ModelDefinitionError(`${where}: name must be a non-empty string, got ${what(d.name)}`);
  // The artifact's limit (runtime/validate.ts): refused here, not by the loader's check after the whole compile.
  if (name.length > MAX_NAME) throw new ModelDefinitionError(`${where}: name must be at most ${MAX_NAME} characters, got ${name.length}`);
  const m = d.module as Partial<Module> | undefined;
  // (A module is a callable object: objectLike, not typeof 'object'.)
  if (!objectLike(m) || typeof m.call !== 'function' || typeof m.assignPaths !== 'function') throw new ModelDefinitionError(`${where}: module must be an nn.Module (a layer, nn.Sequential or a subclass of nn.Module), got ${what(d.module)}`);
  const isRecord = (v: unknown) => typeof v === 'object' && v !== null && !Array.isArray(v);
  if (!isRecord(d.inputs)) throw new ModelDefinitionError(`${where}: inputs must be an object of input shapes by name, e.g. { x: [1, 784] }; got ${what(d.inputs)}`);
  for (const k of ['state', 'entries', 'generation'] as const) if (d[k] !== undefined && !isRecord(d[k])) throw new ModelDefinitionError(`${where}: ${k} must be an object, got ${what(d[k])}`);
  // Every state spec, also one no entry reads (it is still laid out: a named size there gave "needs at least NaN bytes").
  for (const [k, s] of Object.entries((d.state ?? {}) as Record<string, InputSpec>)) sourceNode('state', k, s);
  if (d.forward !== undefined && typeof d.forward !== 'function') throw new ModelDefinitionError(`${where}: forward must be a function (module, inputs) => outputs, got ${what(d.forward)}`);
  for (const k of ['weights', 'description'] as const) if (d[k] !== undefined && typeof d[k] !== 'string') throw new ModelDefinitionError(`${where}: ${k} must be a string, got ${what(d[k])}`);
  if (d.outputNames !== undefined && !(Array.isArray(d.outputNames) && d.outputNames.every((n) => typeof n === 'string'))) throw new ModelDefinitionError(`${where}: outputNames must be an array of strings, got ${what(d.outputNames)}`);
}

export function defineModel<M extends Module>(def: ModelDefinition<M>): ModelDefinition {
  checkDefinition(def);
  return def as unknown as ModelDefinition;
}

export function traceModel(def: ModelDefinition): Graph {
  checkDefinition(def);
  def.module.assignPaths('');
  // The default forward passes no more inputs than forward() declares (call() would refuse the
  // rest): checkIgnoredInputs then names those left over.
  const fwd = def.forward ?? ((m: Module, ins: Record<string, Tensor>) =>
    m(...Object.values(ins).slice(0, declaredParams((m as unknown as { forward: Function }).forward)?.length)) as TraceResult);
  const g = trace((ins) => fwd(def.module, ins), def.inputs, def.outputNames);
  if (!def.forward) checkIgnoredInputs(def, g);
  return g;
}

/**
 * The default forward passes the inputs in order: those past the module's forward() parameters
 * that nothing reads were dropped by the call (PyTorch refuses it: "takes 2 positional arguments
 * but 3 were given"), and the artifact would demand them and ignore them.
 */
function checkIgnoredInputs(def: ModelDefinition, g: Graph): void {
  const arity = (def.module as unknown as { forward: (...a: unknown[]) => unknown }).forward.length, names = Object.keys(def.inputs);
  if (arity === 0 || names.length <= arity) return;
  const used = new Set<unknown>();
  const walk = (gr: Graph) => {
    for (const n of gr.nodes) {
      for (const i of n.inputs) used.add(i);
      const body = (n.attrs as { body?: Graph }).body;
      if (body && typeof body === 'object' && 'nodes' in body) walk(body);
    }
    for (const o of gr.outputs) used.add(o.node);
  };
  walk(g);
  const ignored = g.inputs.filter((n, i) => i >= arity && !used.has(n)).map((n) => `'${n.label}'`);
  if (!ignored.length) return;
  const them = ignored.length > 1 ? 'them' : 'it';
  throw new ModelDefinitionError(`defineModel '${def.name}': ${def.module.constructor.name}'s forward() takes ${arity} input${arity > 1 ? 's' : ''}, but inputs declares ${names.length} (${names.join(', ')}), so input${ignored.length > 1 ? 's' : ''} ${ignored.join(', ')} would be fed and ignored; give a forward: (m, inputs) => … that uses ${them}, or remove ${them}`);
}
