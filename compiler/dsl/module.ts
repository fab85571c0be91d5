// Modules in PyTorch's image: parameters and children are named like a state_dict
// (`features.0.weight`), child modules are found from the object's own properties in
// definition order (arrays of modules behave like nn.ModuleList), and `call` runs
// forward() with the module's path in scope for error messages.

import { fmtShape, numel, sameShape, type Shape } from '../ir/types.ts';
import { checkArity } from './arity.ts';
import { checkOptions } from './options.ts';
import { constant, ModelDefinitionError, popScope, pushScope, SymSize, Tensor } from './tensor.ts';
import { describeValue, objectLike } from '../ir/print.ts';

/** Deterministic PRNG (mulberry32) for default initialisation, so example models are reproducible. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

let initSeed = 42, unnamed = 0;
/** Reseeds default initialisation (PyTorch's torch.manual_seed, in spirit). */
export const manualSeed = (s: number): void => { initSeed = s; };

/** FNV-1a of a string: the seed of one parameter's initial values. */
function seedOf(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

type Init = 'zeros' | 'ones' | { uniform: number } | { normal: number; zeroRow?: number };

/** A constructor option that must be a positive integer (named as PyTorch names it). */
export function positiveInt(module: string, option: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) {
    throw new ModelDefinitionError(`${module}: ${option} must be a positive integer, got ${describeValue(v)}`);
  }
  return v;
}

/**
 * A parameter's initial values are drawn when first read, from the seed in force when it was
 * made and its state_dict name, so the same model gets the same weights whatever was built
 * before it in the process (a parameter read before its model named it falls back to the
 * order of creation).
 */
/** An initializer as draw() reads it (an unknown object was drawn as a normal of std undefined: NaN weights). */
function initOk(init: unknown, shape: Shape): boolean {
  const num = (v: unknown) => typeof v === 'number' && Number.isFinite(v) && v >= 0;
  if (init === 'zeros' || init === 'ones') return true;
  if (typeof init !== 'object' || init === null) return false;
  const keys = Object.keys(init), o = init as Record<string, unknown>;
  if (keys.length === 1 && keys[0] === 'uniform') return num(o.uniform);
  return keys.every((k) => k === 'normal' || k === 'zeroRow') && num(o.normal)
    && (o.zeroRow === undefined || (Number.isInteger(o.zeroRow) && (o.zeroRow as number) >= 0 && (o.zeroRow as number) < shape[0]! && shape.length === 2));
}
const showInit = (v: unknown) => { try { return JSON.stringify(v)?.slice(0, 60) ?? describeValue(v); } catch { return describeValue(v); } };

export class Parameter {
  private values: Float32Array | undefined;
  private readonly seed = initSeed;
  private readonly ordinal = unnamed++;
  /** Full state_dict name, set when the owning model's paths are assigned. */
  name = '';
  constructor(readonly shape: Shape, private readonly init: Init = 'zeros') {}

  get data(): Float32Array { return (this.values ??= this.draw()); }
  set data(v: Float32Array) { this.values = v; }

  private draw(): Float32Array {
    const data = new Float32Array(numel(this.shape)), init = this.init;
    const r = rng(seedOf(`${this.seed}:${this.name || `#${this.ordinal}`}`));
    if (init === 'ones') data.fill(1);
    else if (typeof init === 'object' && 'uniform' in init) for (let i = 0; i < data.length; i++) data[i] = (r() * 2 - 1) * init.uniform;
    else if (typeof init === 'object') {
      for (let i = 0; i < data.length; i++) {
        const u = Math.max(r(), 1e-12), v = r();
        data[i] = init.normal * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
      }
      if (init.zeroRow !== undefined) { const w = this.shape[1]!; data.fill(0, init.zeroRow * w, (init.zeroRow + 1) * w); }
    }
    return data;
  }
  /** The parameter as a constant of the graph being traced. */
  get t(): Tensor { return constant(this.data, this.shape, 'f32', this.name, this); }
  /** torch's self.weight.T and .mT (x @ self.weight.T): the tensor's, so a port keeps its spelling (it read undefined). */
  get T(): Tensor { return this.t.T; }
  get mT(): Tensor { return this.t.mT; }
  /**
   * copy.deepcopy's copy: the same shape and initializer, its own copy of the values if they were
   * drawn or loaded (else it draws its own, by its own name, when read).
   */
  copied(): Parameter {
    const p = new Parameter(this.shape, this.init);
    if (this.values) p.values = this.values.slice();
    if (REGISTERED.has(this)) REGISTERED.add(p);
    return p;
  }
  /** JavaScript arithmetic on it (torch's self.alpha * 2) read it as NaN: x.mul(this.alpha * 2) multiplied by NaN, silently. */
  [Symbol.toPrimitive](hint: string): string {
    if (hint === 'string') return `Parameter ${this.name || fmtShape(this.shape)}`;
    throw new ModelDefinitionError(`a Parameter${this.name ? ` (${this.name})` : ''} cannot be used in JavaScript arithmetic or comparison (torch's self.alpha * 2): its tensor is .t, this.alpha.t.mul(2)`);
  }
}

/** A state_dict entry; `dtype` names the file's type of integer data (num_batches_tracked is I64). */
export interface StateTensor { shape: readonly number[]; data: Float32Array | Int32Array | Uint8Array | readonly number[]; dtype?: string }

/** A short description of a value for an error message. */
const what = (v: unknown): string => !objectLike(v) ? (typeof v === 'string' ? JSON.stringify(v.slice(0, 40)) : typeof v === 'function' ? 'a function' : String(v))
  : Array.isArray(v) ? `an array of ${v.length}` : ArrayBuffer.isView(v) ? `${v.constructor.name}(${(v as unknown as { length?: number }).length ?? v.byteLength})` : (v.constructor?.name ?? 'an object');

/** The safetensors dtypes of integers and bools: a parameter's entry must not have one. */
const INT_DTYPES = new Set(['BOOL', 'U8', 'I8', 'I16', 'U16', 'I32', 'U32', 'I64', 'U64']);

/** A state_dict (a Map, as stateDictFrom gives, or a plain object) checked tensor by tensor. */
function stateTensors(sd: unknown, where: string): Map<string, StateTensor> {
  const entries = sd instanceof Map ? [...sd.entries()]
    : typeof sd === 'object' && sd !== null && !Array.isArray(sd) && !ArrayBuffer.isView(sd) ? Object.entries(sd) : undefined;
  if (!entries) throw new ModelDefinitionError(`${where}: expected a state_dict, a Map or an object of { shape, data } by parameter name (stateDictFrom(readSafetensors(bytes)) gives one); got ${what(sd)}${sd instanceof Module ? ` (a module: load its state_dict, ${sd.constructor.name.toLowerCase()}.stateDict())` : ''}`);
  const bad: string[] = [];
  for (const [k, t] of entries as Array<[unknown, unknown]>) {
    const { shape, data, dtype } = (typeof t === 'object' && t !== null ? t : {}) as { shape?: unknown; data?: unknown; dtype?: unknown };
    const okShape = Array.isArray(shape) && shape.every((d) => Number.isInteger(d) && d >= 0);
    const okData = data instanceof Float32Array || data instanceof Int32Array || data instanceof Uint8Array || (Array.isArray(data) && data.every((v) => typeof v === 'number'));
    const okDtype = dtype === undefined || typeof dtype === 'string';
    if (typeof k !== 'string') bad.push(`a key ${what(k)}: a state_dict's keys are parameter names, strings`);
    else if (!okShape || !okData || !okDtype) bad.push(`${k.slice(0, 60)}: expected { shape, data: Float32Array }, got ${!okShape ? (ArrayBuffer.isView(t) || Array.isArray(t) ? `${what(t)} without a shape` : Array.isArray(shape) ? `shape [${shape.slice(0, 8).map(what).join(', ')}] (not non-negative integers)` : `shape ${what(shape)}`) : !okData ? `data ${what(data)}` : `dtype ${what(dtype)} (a dtype, if given, names the file's type: a string such as 'F32' or 'I64')`}`);
    else if ((data as ArrayLike<number>).length !== numel(shape as number[])) bad.push(`${k}: shape ${fmtShape(shape as number[])} needs ${numel(shape as number[])} values, data has ${(data as ArrayLike<number>).length}`);
  }
  if (bad.length) throw new ModelDefinitionError(`${where}: ${bad.length > 8 ? `${bad.slice(0, 8).join('; ')}; … (${bad.length} in all)` : bad.join('; ')}`);
  return new Map(entries as Array<[string, StateTensor]>);
}

/** The parameters a module's param() made (a field holding one elsewhere ties it; a bare new Parameter is loose). */
const REGISTERED = new WeakSet<Parameter>();

/**
 * PyTorch's self.fc(x): a module is called as `m(x)` (or `m.call(x)`: the same). An instance is
 * therefore a function (typeof 'function') whose prototype is its class's, without
 * Function.prototype: `call` is Module's, `apply` and `bind` are absent, and describeValue,
 * checkDefinition and the like tell a module from a function by `objectLike` (ir/print.ts).
 */
export interface Module {
  (...args: Parameters<this['forward']>): ReturnType<this['forward']>;
  // Function's members that a module does not have (Function.prototype is not in its chain), typed
  // as such rather than as Function's: free for a subclass (a port's name field, Sequential's length).
  name?: unknown;
  length?: unknown;
  apply?(...args: never[]): unknown;
  bind?(...args: never[]): unknown;
}

/** A module instance without fields: a function of no own properties whose prototype is `proto`. */
function callableInstance(proto: object): Module {
  // (An arrow function: no own prototype, and `new m()` is refused as not a constructor.)
  // m(x) is m.call(x), looked up when called as m.call is (a subclass's own call, if any, too).
  const self = ((...args: unknown[]) => (self as unknown as { call(...a: unknown[]): unknown }).call(...args)) as unknown as Module;
  // A function's own name and length are read-only: a port's this.name = 'x' threw, and length
  // hid Sequential's and ModuleList's getter. Without them the instance's own properties are its fields.
  for (const k of Object.getOwnPropertyNames(self)) delete (self as unknown as Record<string, unknown>)[k];
  Object.setPrototypeOf(self, proto);
  return self;
}

/** Modules deepcopy made (a #private field cannot be copied: its methods then fail, named in Module.call). */
const COPIES = new WeakSet<Module>();

/**
 * Python's copy.deepcopy, as PyTorch code uses it on modules (`nn.ModuleList([copy.deepcopy(layer)
 * for _ in range(n)])`, and TransformerEncoder's copies of its layer): every parameter, submodule,
 * array, Map, Set, typed array and object of the value copied, one copy of each however often it
 * is reached (a tied parameter stays tied within the copy); functions, tensors and sizes of the
 * graph being traced (never changed in place) are shared. A parameter's values are copied once
 * drawn or loaded; before that, the copy draws its own by its own name when read (PyTorch's copies
 * of an untrained layer start equal; weights loaded by name are the same either way). JavaScript
 * gives no access to #private fields: a module with one copies without them, and its methods say
 * so when they fail.
 */
export function deepcopy<T>(value: T): T {
  if (arguments.length === 0) throw new ModelDefinitionError('copy.deepcopy(x): the value to copy is missing');
  const memo = new Map<unknown, unknown>();
  const copy = (v: unknown): unknown => {
    // (Objects whose state is out of reach, WeakMap's and Promise's, are shared as well.)
    if (!objectLike(v) || v instanceof Tensor || v instanceof SymSize || v instanceof WeakMap || v instanceof WeakSet || v instanceof Promise || v instanceof RegExp) return v;
    if (memo.has(v)) return memo.get(v);
    if (v instanceof Parameter) return remember(v, v.copied());
    if (v instanceof ArrayBuffer) return remember(v, v.slice(0));
    if (v instanceof Date) return remember(v, new Date(v.getTime()));
    if (ArrayBuffer.isView(v)) return remember(v, v instanceof DataView ? new DataView(v.buffer.slice(0)) : (v as unknown as { slice(): unknown }).slice());
    if (v instanceof Map) { const m = remember(v, new Map()); for (const [k, x] of v) m.set(copy(k), copy(x)); return m; }
    if (v instanceof Set) { const m = remember(v, new Set()); for (const x of v) m.add(copy(x)); return m; }
    const out = remember(v, v instanceof Module ? callableInstance(Object.getPrototypeOf(v)) : Array.isArray(v) ? [] : Object.create(Object.getPrototypeOf(v)));
    if (v instanceof Module) COPIES.add(out as Module);
    for (const k of Reflect.ownKeys(v)) {
      const d = Object.getOwnPropertyDescriptor(v, k)!;
      Object.defineProperty(out, k, 'value' in d ? { ...d, value: copy(d.value) } : d);
    }
    if (!Object.isExtensible(v)) Object.preventExtensions(out);
    if (out instanceof Module) (out as unknown as { afterDeepcopy(): void }).afterDeepcopy();
    return out;
  };
  const remember = <U>(from: unknown, to: U): U => { memo.set(from, to); return to; };
  return copy(value) as T;
}

export abstract class Module {
  // Fields of this class are set in the constructor, on the function it returns (class fields
  // would be defined on the object `new` made and then dropped); a subclass's fields, #private
  // ones too, are defined on what super() returned, the function, as usual.
  /** Full dotted path (empty for the root); assigned by `assignPaths`. */
  declare path: string;
  declare private readonly _params: Map<string, Parameter>;
  /** state_dict entries inference has no use for (BatchNorm's num_batches_tracked): accepted when loading, never required. */
  declare private readonly _unused: Map<string, Shape | undefined>;

  constructor() {
    const self = callableInstance(new.target.prototype) as this;
    // (Enumerable, in this order, as the class fields were: Object.entries(module) lists them first.)
    Object.assign(self, { path: '', _params: new Map(), _unused: new Map() });
    return self;
  }

  /**
   * What a class's __setstate__ does to a copy.deepcopy of it in PyTorch, run on the copy once its
   * fields are copied (TransformerDecoderLayer's); nothing by default.
   */
  protected afterDeepcopy(): void {}

  /** Registers a parameter under its PyTorch name. */
  protected param(name: string, shape: Shape, init?: ConstructorParameters<typeof Parameter>[1]): Parameter {
    // The name is one segment of a state_dict key (weight, in_proj_bias): a dot, or a name used twice, could never be loaded.
    if (typeof name !== 'string' || !/^[^.]+$/.test(name)) throw new ModelDefinitionError(`${this.constructor.name}: a parameter's name must be a non-empty string without '.', got ${describeValue(name)}`);
    if (this._params.has(name)) throw new ModelDefinitionError(`${this.constructor.name}: parameter '${name}' is registered twice`);
    if (!Array.isArray(shape)) throw new ModelDefinitionError(`${this.constructor.name}: parameter '${name}' needs a shape (an array of positive integers), got ${describeValue(shape)}`);
    if (!shape.every((d) => Number.isInteger(d) && d >= 1)) throw new ModelDefinitionError(`${this.constructor.name}: parameter '${name}' would have shape ${fmtShape(shape)}; check the constructor's options`);
    if (init !== undefined && !initOk(init, shape)) throw new ModelDefinitionError(`${this.constructor.name}: parameter '${name}' init must be 'zeros', 'ones', { uniform: bound } or { normal: std, zeroRow? } with finite numbers ≥ 0, got ${showInit(init)}`);
    if (numel(shape) * 4 > 2 ** 32) throw new ModelDefinitionError(`${this.constructor.name}: parameter '${name}' ${fmtShape(shape)} needs ${numel(shape) * 4} bytes; wasm32 memory holds 4 GiB`);
    const p = new Parameter(shape, init);
    this._params.set(name, p);
    REGISTERED.add(p);
    return p;
  }

  /**
   * Registers a state_dict entry that loading accepts and inference ignores: a training counter
   * (BatchNorm's num_batches_tracked, shape []), or a buffer PyTorch saved that the port computes
   * itself (Hugging Face GPT-2's attn.bias causal mask). With a shape, the entry must have it; without, any shape.
   */
  protected unusedEntry(name: string, shape?: Shape): void {
    if (typeof name !== 'string' || !/^[^.]+$/.test(name)) throw new ModelDefinitionError(`${this.constructor.name}: an unused entry's name must be a non-empty string without '.', got ${describeValue(name)}`);
    if (this._params.has(name) || this._unused.has(name)) throw new ModelDefinitionError(`${this.constructor.name}: '${name}' is registered twice`);
    if (shape !== undefined && !(Array.isArray(shape) && shape.every((d) => Number.isInteger(d) && d >= 0))) throw new ModelDefinitionError(`${this.constructor.name}: unused entry '${name}' needs a shape of integers ≥ 0 or none (any shape), got ${describeValue(shape)}`);
    this._unused.set(name, shape);
  }

  // (any[]: a value typed only as Module is callable, m(x) returning unknown; a subclass's own forward types its calls.)
  abstract forward(...args: any[]): unknown;

  /** Runs forward() with this module's path in scope (use it rather than forward() directly). */
  call<A extends unknown[], R>(this: { forward(...a: A): R } & Module, ...args: A): R {
    pushScope(`module '${this.path || '<root>'}' (${this.constructor.name})`);
    try {
      // lin.call(x, y) from JavaScript: y was dropped (PyTorch refuses it).
      checkArity(`${this.constructor.name}.forward`, this.forward, args.length);
      return this.forward(...args);
    } catch (e) {
      // Every built-in layer takes a tensor first; a call without one failed somewhere inside
      // (x.size is not a function): say what the call got instead.
      // (An op that names its bad argument itself, F.linear's "input must be a tensor", is kept, but
      // for a call with no arguments at all, where the model likely declares no inputs.)
      if (e instanceof TypeError && COPIES.has(this) && /private (member|field)/i.test(e.message)) {
        throw new ModelDefinitionError(`${this.constructor.name} '${this.path || '<root>'}' is a deepcopy, and its class keeps a #private field, which JavaScript gives no way to copy (${e.message}): use a field whose name starts with _ instead`);
      }
      if ((e instanceof TypeError || (e instanceof ModelDefinitionError && args.length === 0)) && !(args[0] instanceof Tensor)) {
        // (With no arguments at all, the TypeError's own text says nothing more: a model without inputs.)
        throw new ModelDefinitionError(`${this.constructor.name} '${this.path || '<root>'}': expected a tensor as the first argument, got ${args.length ? `${describeValue(args[0])} (${e.message})` : 'no arguments (does the model declare its inputs?)'}`);
      }
      throw e;
    } finally { popScope(); }
  }

  namedChildren(): Array<[string, Module]> {
    const out: Array<[string, Module]> = [];
    for (const [k, v] of Object.entries(this)) {
      if (k === 'path' || k.startsWith('_')) continue;
      if (v instanceof Module) out.push([k, v]);
      else if (Array.isArray(v) && v.length > 0 && v.every((m) => m instanceof Module)) v.forEach((m, i) => out.push([`${k}.${i}`, m as Module]));
    }
    return out;
  }

  /** PyTorch's children(), modules() (this one first, depth first) and parameters(), for ported code. */
  children(): Module[] { return this.namedChildren().map(([, m]) => m); }
  modules(): Module[] { return [this, ...this.children().flatMap((m) => m.modules())]; }
  /** (Each once, as PyTorch's: a tied parameter is one however many names it has.) */
  parameters(): Parameter[] { return [...new Set(this.namedParameters().map(([, p]) => p))]; }
  /** PyTorch's eval(): simdflow compiles for inference, so this is the module as it is (for ported code). */
  eval(): this { return this; }
  /**
   * PyTorch's self.training, always false: a port's `if (this.training)` takes the inference path
   * (it read undefined). Declared here, held on the prototype (below), so a port may still assign it.
   */
  declare training: boolean;
  /** PyTorch's train(mode): train(false) is eval(); training is not supported. */
  train(mode: boolean = true): this {
    if (mode !== false) throw new ModelDefinitionError(`${this.constructor.name}.train(${describeValue(mode)}): simdflow compiles models for inference, it does not train them (train(false) is eval())`);
    return this;
  }

  /**
   * PyTorch's order: own parameters, then each child's, depth first. A field named as a parameter
   * that now holds another Parameter (`lm_head.weight = wte.weight`, a tied head) stands for it, as
   * PyTorch's setattr re-registers it: both names then give one Parameter.
   */
  namedParameters(prefix = ''): Array<[string, Parameter]> {
    const fields = this as unknown as Record<string, unknown>;
    const out: Array<[string, Parameter]> = [...this._params].map(([k, p]) => [prefix + k, fields[k] instanceof Parameter ? fields[k] : p]);
    // A field holding a parameter some module registered, under a name this one did not register
    // (Hugging Face's decoder.bias = self.bias over a Linear made without bias), is a tie too.
    for (const [k, v] of Object.entries(fields)) if (v instanceof Parameter && REGISTERED.has(v) && !this._params.has(k) && !k.startsWith('_')) out.push([prefix + k, v]);
    for (const [k, m] of this.namedChildren()) out.push(...m.namedParameters(`${prefix}${k}.`));
    return out;
  }

  /** The full names of the entries registered with unusedEntry and their shapes (undefined: any), own first, then each child's. */
  unusedEntries(prefix = ''): Array<[string, Shape | undefined]> {
    return [...[...this._unused].map(([k, s]): [string, Shape | undefined] => [prefix + k, s]), ...this.namedChildren().flatMap(([k, m]) => m.unusedEntries(`${prefix}${k}.`))];
  }

  assignPaths(prefix = '', within: readonly Module[] = []): this {
    // A module among its own children (a parent kept as an attribute) would be walked forever.
    if (within.includes(this)) throw new ModelDefinitionError(`${this.constructor.name} '${prefix}' is the module '${this.path || '<root>'}' it sits in: a module cannot contain itself (keep a reference to a parent in a field whose name starts with _, which is not a child)`);
    this.path = prefix;
    for (const [k, p] of this._params) p.name = prefix ? `${prefix}.${k}` : k;
    for (const [k, m] of this.namedChildren()) m.assignPaths(prefix ? `${prefix}.${k}` : k, [...within, this]);
    return this;
  }

  /** The parameters by name (without unused entries such as num_batches_tracked, which PyTorch's load_state_dict fills in when missing). */
  stateDict(): Map<string, StateTensor> {
    this.assignPaths(this.path);
    return new Map(this.namedParameters().map(([k, p]) => [k, { shape: p.shape, data: p.data }]));
  }

  /**
   * Copies tensors into the parameters by name. Every problem (missing, unexpected,
   * mis-shaped) is collected and reported in one error.
   */
  loadStateDict(sd: ReadonlyMap<string, StateTensor> | Readonly<Record<string, StateTensor>>, opts: { strict?: boolean } = {}): this {
    const where = `loadStateDict into ${this.constructor.name}`;
    checkOptions('loadStateDict', opts, ['strict']);
    const strict = opts.strict ?? true;
    const tensors = stateTensors(sd, where);
    this.assignPaths(this.path);
    const params = new Map(this.namedParameters()), unused = new Map(this.unusedEntries());
    // A tied parameter (one Parameter under several names) is loaded from any of its names: a file
    // saved without the duplicate (safetensors drops shared tensors) has one of them.
    const names = new Map<Parameter, string[]>();
    for (const [k, p] of params) names.set(p, [...(names.get(p) ?? []), k]);
    const missing = [...params].filter(([k, p]) => !tensors.has(k) && !names.get(p)!.some((n) => tensors.has(n))).map(([k]) => k);
    const unexpected = [...tensors.keys()].filter((k) => !params.has(k) && !unused.has(k));
    const misShaped: string[] = [], notFloat: string[] = [], tooBig: string[] = [], untied: string[] = [];
    for (const ks of names.values()) {
      const given = ks.filter((k) => tensors.has(k));
      const differs = given.slice(1).find((k) => { const a = tensors.get(k)!.data, b = tensors.get(given[0]!)!.data; return a.length !== b.length || Array.prototype.some.call(a, (v: number, i: number) => !Object.is(v, b[i])); });
      if (differs) untied.push(`${given[0]} and ${differs} are one tied parameter but hold different values`);
    }
    for (const [k, t] of tensors) {
      const p = params.get(k), want = p?.shape ?? unused.get(k);
      if (want && !sameShape(want, t.shape)) misShaped.push(`${k}: expected ${fmtShape(want)}, found ${fmtShape(t.shape)}`);
      // Integer data, or data whose dtype says it was integers (number[] with dtype 'I64' loaded as floats).
      if (p && (t.data instanceof Int32Array || t.data instanceof Uint8Array || INT_DTYPES.has(t.dtype!))) notFloat.push(`${k} is ${t.dtype ?? t.data.constructor.name}`);
      // A plain number past f32's range would become ±Infinity silently (readSafetensors refuses such F64 values too).
      const big = p && Array.isArray(t.data) ? t.data.findIndex((v) => Number.isFinite(v) && !Number.isFinite(Math.fround(v))) : -1;
      if (big >= 0) tooBig.push(`${k} holds ${(t.data as number[])[big]} at index ${big}`);
    }
    const problems = [
      ...(misShaped.length ? [`mis-shaped: ${misShaped.join('; ')}`] : []),
      ...(notFloat.length ? [`not floats (parameters are F32, F64, F16 or BF16): ${notFloat.join(', ')}`] : []),
      ...(tooBig.length ? [`outside f32 (would load as ±Infinity): ${tooBig.join('; ')}`] : []),
      ...untied,
      ...(strict && missing.length ? [`missing: ${missing.join(', ')}`] : []),
      ...(strict && unexpected.length ? [`unexpected: ${unexpected.join(', ')}`] : []),
    ];
    if (problems.length) throw new ModelDefinitionError(`${where}: ${problems.join(' | ')}${prefixHint(missing, unexpected)}${this.looseHint()}${strict ? tiedHint(unexpected, tensors, params) + this.bufferHint(unexpected, missing) : ''}`);
    for (const [k, p] of params) { const t = tensors.get(k) ?? names.get(p)!.map((n) => tensors.get(n)).find((v) => v); if (t) p.data = Float32Array.from(t.data); }
    return this;
  }

  /**
   * Unexpected entries inside modules of the model are most likely buffers PyTorch saved
   * (register_buffer's causal masks, position ids): name the module and how to accept them.
   */
  private bufferHint(unexpected: string[], missing: string[]): string {
    if (missing.length) return ''; // names that do not line up: prefixHint's case, not buffers
    const paths = new Map(this.modules().map((m) => [m.path, m]));
    const hits = unexpected.flatMap((k) => {
      const dot = k.lastIndexOf('.'), m = paths.get(dot < 0 ? '' : k.slice(0, dot));
      return m ? [`${m.constructor.name} '${m.path || '<root>'}' could declare '${k.slice(dot + 1)}' with this.unusedEntry('${k.slice(dot + 1)}')`] : [];
    });
    if (!hits.length) return '';
    const shown = hits.slice(0, 3).join('; ') + (hits.length > 3 ? `; … (${hits.length} entries)` : '');
    return ` (entries inside modules of the model are most likely buffers PyTorch saved with register_buffer: one the model uses is loaded with this.param(name, shape); one it computes itself is accepted and ignored with this.unusedEntry(name): ${shown})`;
  }

  /**
   * PyTorch registers an nn.Parameter assigned to an attribute; here a field holding `new Parameter(…)`
   * is no state_dict entry (only this.param registers one): name such fields when loading fails.
   */
  private looseHint(): string {
    const loose: string[] = [];
    // (A field holding a parameter registered by any module of the model is a tie, not a loose Parameter.)
    const registered = new Set(this.modules().flatMap((m) => [...m._params.values()]));
    for (const m of this.modules()) {
      for (const [k, v] of Object.entries(m)) if (v instanceof Parameter && !registered.has(v)) loose.push(`field '${m.path ? `${m.path}.${k}` : k}' holds a new Parameter(…), which has no state_dict entry: create it with this.param('${k}', ${fmtShape(v.shape)})`);
    }
    return loose.length ? ` (${loose.join('; ')}; PyTorch registers an nn.Parameter attribute, simdflow only what this.param makes)` : '';
  }
}

/**
 * An unexpected entry equal to a parameter's entry is most likely a weight PyTorch tied (an LM head
 * sharing the token embedding) that the model here reads from one module only: say how to tie it.
 */
function tiedHint(unexpected: string[], tensors: Map<string, StateTensor>, params: Map<string, Parameter>): string {
  const same = (a: StateTensor, b: StateTensor) => sameShape(a.shape, b.shape) && a.data.length === b.data.length && Array.prototype.every.call(a.data, (v: number, i: number) => Object.is(v, b.data[i]));
  for (const u of unexpected) {
    const twin = [...params.keys()].find((k) => tensors.has(k) && same(tensors.get(u)!, tensors.get(k)!));
    if (twin === undefined) continue;
    const at = u.lastIndexOf('.'), mod = u.slice(0, at), field = u.slice(at + 1), tat = twin.lastIndexOf('.');
    return ` (${u} holds the same values as ${twin}: a weight tied in PyTorch; tie it here as there, with a module '${mod}' whose ${field} is assigned the other's, (this.${mod} as { ${field}: Parameter }).${field} = this.${twin.slice(0, tat)}.${twin.slice(tat + 1)}, or leave ${u} out of the state_dict)`;
  }
  return '';
}

/** When every missing name appears among the unexpected ones under one prefix (nn.DataParallel's `module.`, a parent's attribute), say so. */
function prefixHint(missing: string[], unexpected: string[]): string {
  const m0 = missing[0];
  if (m0 === undefined || !unexpected.length) return '';
  const have = new Set(unexpected);
  for (const u of unexpected) {
    const p = u.slice(0, -m0.length);
    if (u.length > m0.length && u.endsWith(m0) && p.endsWith('.') && missing.every((k) => have.has(p + k))) {
      return ` (the file's names carry the prefix '${p}': strip it, e.g. new Map([...sd].map(([k, v]) => [k.slice(${p.length}), v])))`;
    }
  }
  return '';
}

Object.defineProperty(Module.prototype, 'training', { value: false, writable: true });
// A module is a function (m(x) calls it) but prints as the object it was: String(m) and `${m}` give
// [object Linear], not [object Function], and Node's console.log(m) shows its fields by class, not
// [Function]. (The copy shown is a plain object of the same class, which prints as it is.)
Object.defineProperty(Module.prototype, Symbol.toStringTag, { get(this: Module) { return this.constructor.name; }, configurable: true });
Object.defineProperty(Module.prototype, Symbol.for('nodejs.util.inspect.custom'), {
  value(this: Module) { return typeof this === 'function' ? Object.create(Object.getPrototypeOf(this) as object, Object.getOwnPropertyDescriptors(this)) as object : this; },
  configurable: true, writable: true,
});
