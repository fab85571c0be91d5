// Extra positional arguments, checked for the whole public surface at once. A JavaScript model file
// (no type checker) that passes a function more arguments than it declares lost them silently:
// new nn.Softmax(1, 2), x.relu(0), F.softmax(x, 1, 2), new nn.Conv2d(1, 2, 3, 1, 1) (torch's stride
// and padding, positionally). PyTorch refuses most of these, or gives them a meaning; here each is
// an error naming the function and the parameters it declares.
//
// The parameters are read from the function's own source (Function.length stops at the first
// default), so a declaration and its check cannot drift apart. A rest parameter (reshape(...dims))
// takes any number; a source this reader does not understand is left unchecked.

import { ModelDefinitionError, where } from './tensor.ts';

/** The declared parameters of a parameter list's source, or undefined for a rest parameter (any count). */
function splitParams(src: string, open: number): string[] | undefined {
  const names: string[] = [];
  let depth = 0, start = open + 1;
  for (let i = open; i < src.length; i++) {
    const c = src[i]!;
    if (c === '"' || c === "'" || c === '`') {
      for (i++; i < src.length && src[i] !== c; i++) if (src[i] === '\\') i++;
    } else if (c === '/' && (src[i + 1] === '*' || src[i + 1] === '/')) {
      const block = src[i + 1] === '*', end = src.indexOf(block ? '*/' : '\n', i + 2);
      if (end < 0) return undefined;
      i = block ? end + 1 : end;
    } else if (c === '(' || c === '[' || c === '{') depth++;
    else if (c === ')' || c === ']' || c === '}') {
      depth--;
      if (depth === 0) { names.push(src.slice(start, i)); break; }
    } else if (c === ',' && depth === 1) { names.push(src.slice(start, i)); start = i + 1; }
  }
  const out = names.map((p) => p.trim()).filter((p) => p !== '');
  if (out.some((p) => p.startsWith('...'))) return undefined;
  return out.map((p) => /^[\w$]+/.exec(p)?.[0] ?? '{…}');
}

/** The index of `(` opening a class's constructor parameters (at the top level of its body), or -1. */
function constructorParen(src: string): number {
  let depth = 0;
  for (let i = 0; i < src.length; i++) {
    const c = src[i]!;
    if (c === '"' || c === "'" || c === '`') {
      for (i++; i < src.length && src[i] !== c; i++) if (src[i] === '\\') i++;
    } else if (c === '/' && (src[i + 1] === '*' || src[i + 1] === '/')) {
      const block = src[i + 1] === '*', end = src.indexOf(block ? '*/' : '\n', i + 2);
      if (end < 0) return -1;
      i = block ? end + 1 : end;
    } else if (c === '{') depth++;
    else if (c === '}') depth--;
    else if (depth === 1 && src.startsWith('constructor(', i) && !/[\w$.]/.test(src[i - 1] ?? '')) return i + 'constructor'.length;
  }
  return -1;
}

const cache = new WeakMap<object, string[] | undefined>();

/** A function's (or method's) declared parameter names; undefined when it takes any number. */
export function declaredParams(fn: Function): string[] | undefined {
  if (cache.has(fn)) return cache.get(fn);
  const src = Function.prototype.toString.call(fn);
  let params: string[] | undefined;
  // A bound function or a proxy shows no parameters ('function () { [native code] }'): unknown, not none.
  if (/\{\s*\[native code\]\s*\}\s*$/.test(src)) params = undefined;
  else if (src.startsWith('class')) {
    // A class without a constructor of its own takes its parent's arguments (ES's default constructor).
    const at = constructorParen(src), parent = Object.getPrototypeOf(fn) as Function;
    params = at >= 0 ? splitParams(src, at) : parent === Function.prototype ? [] : declaredParams(parent);
  } else {
    const arrow = /^(?:async\s*)?([\w$]+)\s*=>/.exec(src);
    params = arrow ? [arrow[1]!] : src.includes('(') ? splitParams(src, src.indexOf('(')) : undefined;
  }
  cache.set(fn, params);
  return params;
}

/** `name: takes …, got n arguments` (with where the trace is), when `given` exceeds what `fn` declares. */
export function checkArity(name: string, fn: Function, given: number): void {
  const params = declaredParams(fn);
  if (params === undefined || given <= params.length) return;
  const takes = params.length === 0 ? 'no arguments' : `${params.length === 1 ? '1 argument' : `at most ${params.length} arguments`} (${params.join(', ')})`;
  // torch's further positional arguments (Conv2d's stride, padding; max_pool2d's stride) are named options here.
  const last = params[params.length - 1];
  // (functional.ts names its options `o`; a lone `o` is a Tensor method's operand.)
  const hint = last === 'opts' || last === 'options' || (last === 'o' && params.length > 1) ? `; options (PyTorch's further positional arguments) go in ${last} by name` : '';
  throw new ModelDefinitionError(`${name}: takes ${takes}, got ${given}${hint}${where()}`);
}

/** A dim error raised without the op's name (normAxis's "dim must be an integer, got undefined", from x.softmax()), named. */
function named(op: string, e: unknown): unknown {
  if (e instanceof ModelDefinitionError && /^dim /.test(e.message)) e.message = `${op}: ${e.message}`;
  return e;
}

/** `fns` with each function checked for extra arguments (named `prefix` + its key), and dim errors named. */
export function checkedFunctions<T extends object>(prefix: string, fns: T): T {
  const out: Record<string, unknown> = {};
  for (const [k, f] of Object.entries(fns)) {
    if (typeof f !== 'function') { out[k] = f; continue; }
    const g = function (this: unknown, ...args: unknown[]) {
      checkArity(prefix + k, f, args.length);
      try { return f.apply(this, args); } catch (e) { throw named(prefix + k, e); }
    };
    Object.defineProperty(g, 'name', { value: f.name });
    cache.set(g, declaredParams(f));
    out[k] = g;
  }
  return out as T;
}

/**
 * A class whose `new` and static methods (nn.Transformer.generateSquareSubsequentMask) refuse extra
 * arguments; instanceof and extends see the class itself.
 */
export function checkedClass<C extends abstract new (...a: never[]) => unknown>(prefix: string, cls: C): C {
  const statics = new Map<PropertyKey, Function>();
  for (const k of Object.getOwnPropertyNames(cls)) {
    const f = Object.getOwnPropertyDescriptor(cls, k)!.value as unknown;
    if (typeof f !== 'function' || declaredParams(f) === undefined) continue;
    const g = function (this: unknown, ...args: unknown[]) { checkArity(`${prefix}${cls.name}.${k}`, f, args.length); return f.apply(this, args); };
    Object.defineProperty(g, 'name', { value: f.name });
    cache.set(g, declaredParams(f));
    statics.set(k, g);
  }
  const checked = new Proxy(cls, {
    construct(target, args, newTarget) {
      // A subclass's super(...) reaches here too: its arguments are the parent's to check.
      checkArity(`${prefix}${target.name}`, target, args.length);
      return Reflect.construct(target as unknown as Function, args, newTarget) as object;
    },
    get(target, key, receiver) { return statics.get(key) ?? Reflect.get(target, key, receiver); },
  });
  cache.set(checked, declaredParams(cls));
  return checked;
}

/** Every method of `proto` (not getters, not the constructor) checked for extra arguments, named `prefix` + its name, and dim errors named. */
export function checkMethods(prefix: string, proto: object): void {
  for (const k of Object.getOwnPropertyNames(proto)) {
    const d = Object.getOwnPropertyDescriptor(proto, k)!;
    if (k === 'constructor' || typeof d.value !== 'function') continue;
    const f = d.value as Function;
    // A method that checks its own count (unsqueeze: 'one dim (unsqueeze twice for two)') says more.
    const counted = declaredParams(f) !== undefined && !Function.prototype.toString.call(f).includes('extraArgs(');
    const g = function (this: unknown, ...args: unknown[]) {
      if (counted) checkArity(prefix + k, f, args.length);
      try { return f.apply(this, args); } catch (e) { throw named(prefix + k, e); }
    };
    Object.defineProperty(g, 'name', { value: f.name });
    cache.set(g, declaredParams(f));
    Object.defineProperty(proto, k, { ...d, value: g });
  }
}
