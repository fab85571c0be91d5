// Extra positional arguments across the DSL's public surface (compiler/dsl/arity.ts): a JavaScript
// model file passed them and they were dropped silently (new nn.Softmax(1, 2), x.relu(0),
// F.softmax(x, 1, 2), lin.call(x, y)). Every nn constructor, F function, Tensor method and top-level
// creator now refuses them, naming what it takes.
import { describe, expect, test } from 'vitest';
import { arange, cat, F, full, GPT, interpret, loop, nn, ones, trace, traceModel, zeros, type Tensor } from '../compiler/index.ts';
import { declaredParams } from '../compiler/dsl/arity.ts';
import { Tensor as TensorClass } from '../compiler/dsl/tensor.ts';

/** The error `f` raises inside a trace of x: [2, 4] (or undefined when it traces). */
function traced(f: (x: Tensor) => unknown): string | undefined {
  try {
    trace((i) => { const r = f(i.x!); return r instanceof TensorClass ? r : i.x!; }, { x: [2, 4] });
    return undefined;
  } catch (e) { return (e as Error).message; }
}
const anyArgs = (n: number): unknown[] => Array.from({ length: n }, () => 0);
const nnClasses = Object.entries(nn).filter(([k, v]) => typeof v === 'function' && k !== 'Module') as Array<[string, new (...a: unknown[]) => unknown]>;

describe('extra positional arguments', () => {
  test('the audit\'s cases and their kind are refused by name (each was silently dropped)', () => {
    const cases: Array<[string, () => unknown, string]> = [
      ['new nn.Softmax(1, 2)', () => new (nn.Softmax as never as new (...a: unknown[]) => unknown)(1, 2), 'Softmax: takes 1 argument (dim), got 2'],
      ['new nn.Flatten(0, 1, 2)', () => new (nn.Flatten as never as new (...a: unknown[]) => unknown)(0, 1, 2), 'Flatten: takes at most 2 arguments (startDim, endDim), got 3'],
      // torch's nn.ReLU(True), inplace: no meaning here.
      ['new nn.ReLU(true)', () => new (nn.ReLU as never as new (...a: unknown[]) => unknown)(true), 'ReLU: takes no arguments, got 1'],
      // torch's stride and padding, positionally: they go in the options by name.
      ['new nn.Conv2d(1, 2, 3, 1, 1)', () => new (nn.Conv2d as never as new (...a: unknown[]) => unknown)(1, 2, 3, 1, 1),
        "Conv2d: takes at most 4 arguments (inChannels, outChannels, kernelSize, opts), got 5; options (PyTorch's further positional arguments) go in opts by name"],
      ['new nn.Linear(2, 3, {}, 4)', () => new (nn.Linear as never as new (...a: unknown[]) => unknown)(2, 3, {}, 4), 'Linear: takes at most 3 arguments (inFeatures, outFeatures, opts), got 4'],
      // An inherited constructor counts as its parent's (Dropout1d has none of its own).
      ['new nn.Dropout1d(0.5, true)', () => new (nn.Dropout1d as never as new (...a: unknown[]) => unknown)(0.5, true), 'Dropout1d: takes 1 argument (p), got 2'],
      ['new nn.ModuleList([], [])', () => new (nn.ModuleList as never as new (...a: unknown[]) => unknown)([], []), 'ModuleList: takes 1 argument (items), got 2'],
      ['new GPT(config, 1)', () => new (GPT as never as new (...a: unknown[]) => unknown)({ vocab: 4, context: 4, dModel: 2, nhead: 1, layers: 1, dimFeedforward: 4 }, 1), 'GPT: takes 1 argument (cfg), got 2'],
      // A static method too, and through a subclass (it was the one unchecked entry point).
      ['nn.Transformer.generateSquareSubsequentMask(3, 1)', () => (nn.Transformer.generateSquareSubsequentMask as (...a: unknown[]) => unknown)(3, 1), 'Transformer.generateSquareSubsequentMask: takes 1 argument (sz), got 2'],
      ['M.generateSquareSubsequentMask(3, 1)', () => { class M extends nn.Transformer {} return (M.generateSquareSubsequentMask as (...a: unknown[]) => unknown)(3, 1); }, 'Transformer.generateSquareSubsequentMask: takes 1 argument (sz), got 2'],
      ['nn.Transformer.generateSquareSubsequentMask(0)', () => nn.Transformer.generateSquareSubsequentMask(0), 'Transformer.generateSquareSubsequentMask: sz must be a positive integer, got 0'],
      ['trace(fn, inputs, names, 1)', () => (trace as (...a: unknown[]) => unknown)((i: Record<string, Tensor>) => i.x, { x: [2] }, ['y'], 1), 'trace: takes at most 3 arguments (fn, inputs, outputNames), got 4'],
      // Inference ignores dropout, so a wrong one went unnoticed (RNN's was checked).
      ["new nn.MultiheadAttention(2, 1, { dropout: '0.1' })", () => new nn.MultiheadAttention(2, 1, { dropout: '0.1' as never }), 'MultiheadAttention: dropout must be a number in [0, 1], got "0.1"'],
    ];
    for (const [what, f, message] of cases) expect(f, what).toThrow(message);
    const inTrace: Array<[string, (x: Tensor) => unknown, string]> = [
      ['x.relu(0)', (x) => (x.relu as (...a: unknown[]) => Tensor)(0), 'relu: takes no arguments, got 1'],
      ['x.softmax(1, 2)', (x) => (x.softmax as (...a: unknown[]) => Tensor)(1, 2), 'softmax: takes 1 argument (dim), got 2'],
      ['x.add(1, 2)', (x) => (x.add as (...a: unknown[]) => Tensor)(1, 2), 'add: takes 1 argument (other), got 2'],
      ['x.max(1, true, 0)', (x) => (x.max as (...a: unknown[]) => Tensor)(1, true, 0), 'max: takes at most 2 arguments (dim, keepdim), got 3'],
      ['F.softmax(x, 1, 2)', (x) => (F.softmax as (...a: unknown[]) => Tensor)(x, 1, 2), 'F.softmax: takes at most 2 arguments (x, dim), got 3'],
      // torch's F.relu(x, True), inplace.
      ['F.relu(x, true)', (x) => (F.relu as (...a: unknown[]) => Tensor)(x, true), 'F.relu: takes 1 argument (x), got 2'],
      ['F.maxPool2d(x, 2, 2)', (x) => (F.maxPool2d as (...a: unknown[]) => Tensor)(x.reshape(1, 1, 2, 4), 2, 2, 0),
        "F.maxPool2d: takes at most 3 arguments (x, kernel, o), got 4; options (PyTorch's further positional arguments) go in o by name"],
      ['cat([x, x], 0, 1)', (x) => (cat as (...a: unknown[]) => Tensor)([x, x], 0, 1), 'cat: takes at most 2 arguments (ts, dim), got 3'],
      ['arange(1, 5, 1, 2)', () => (arange as (...a: unknown[]) => Tensor)(1, 5, 1, 2), 'arange: takes at most 3 arguments (a, end, step), got 4'],
      ['zeros([2], {}, 7)', () => (zeros as (...a: unknown[]) => Tensor)([2], {}, 7), 'zeros: takes at most 2 arguments (shape, max), got 3'],
      ['full([2], 1, {}, 0)', () => (full as (...a: unknown[]) => Tensor)([2], 1, {}, 0), 'full: takes at most 3 arguments (shape, value, max), got 4'],
      ['ones([2], 7)', () => (ones as (...a: unknown[]) => Tensor)(['B', 4], 7), 'ones: max must be an object of bounds for named sizes, such as { B: 8 }, got 7'],
      ['x.logsumexp(1, 1)', (x) => x.logsumexp(1, 1 as never), 'logsumexp: keepdim must be true or false, got 1'],
      ['loop(2, [x], body, {}, 0)', (x) => (loop as (...a: unknown[]) => unknown)(2, [x], (_i: Tensor, [h]: Tensor[]) => [h], {}, 0), "loop: takes at most 4 arguments (steps, carried, body, opts), got 5; options (PyTorch's further positional arguments) go in opts by name"],
      // A module's call gets forward()'s count: lin.call(x, y) dropped y.
      ['lin.call(x, x)', (x) => (new nn.Linear(4, 3).call as (...a: unknown[]) => Tensor)(x, x), "Linear.forward: takes 1 argument (x), got 2 in module '<root>' (Linear)"],
      ['gru.call(x, h, c)', (x) => (new nn.GRU(4, 3).call as (...a: unknown[]) => Tensor)(x, undefined, 0), "GRU.forward: takes at most 2 arguments (x, h0), got 3 in module '<root>' (GRU)"],
    ];
    for (const [what, f, message] of inTrace) expect(traced(f), what).toBe(message);
  });

  test('every nn constructor, F function and Tensor method refuses one argument more than it declares', () => {
    // Varargs (x.reshape(...dims), nn.Sequential(...layers), F.einsum) take any count and are left out.
    const refused = (f: () => unknown) => { try { f(); return 'no error'; } catch (e) { return (e as Error).message; } };
    let n = 0;
    for (const [name, C] of nnClasses) {
      const p = declaredParams(C);
      if (p === undefined) continue;
      expect(refused(() => new C(...anyArgs(p.length + 1))), name).toMatch(new RegExp(`^${name}: takes .*, got ${p.length + 1}`));
      n++;
    }
    for (const [name, f] of Object.entries(F)) {
      const p = declaredParams(f as (...a: unknown[]) => unknown);
      if (p === undefined) continue;
      expect(traced(() => (f as (...a: unknown[]) => unknown)(...anyArgs(p.length + 1))), name).toMatch(new RegExp(`^F\\.${name}: takes .*, got ${p.length + 1}`));
      n++;
    }
    for (const name of Object.getOwnPropertyNames(TensorClass.prototype)) {
      const f = Object.getOwnPropertyDescriptor(TensorClass.prototype, name)!.value as ((...a: unknown[]) => unknown) | undefined;
      const p = typeof f === 'function' && name !== 'constructor' ? declaredParams(f) : undefined;
      if (p === undefined) continue;
      expect(traced((x) => f!.apply(x, anyArgs(p.length + 1))), name).toMatch(new RegExp(`^${name}: takes .*, got ${p.length + 1}`));
      n++;
    }
    expect(n).toBeGreaterThan(280);
  });

  test('the counts are the declarations, defaults and inherited constructors included; what they allow still works', () => {
    expect(declaredParams(nn.Conv2d)).toEqual(['inChannels', 'outChannels', 'kernelSize', 'opts']);
    expect(declaredParams(nn.BatchNorm1d)).toEqual(['numFeatures', 'eps', 'momentum', 'opts']); // BatchNormBase's
    expect(declaredParams(nn.ReLU)).toEqual([]);
    expect(declaredParams(nn.Sequential)).toBeUndefined();
    expect(declaredParams(F.layerNorm)).toEqual(['x', 'normalizedShape', 'weight', 'bias', 'eps']);
    // Every parameter given, positionally as PyTorch gives them: x.max(dim, keepdim), x.topk(k, dim, largest, sorted),
    // nn.Flatten(start, end), F.softmax(x, dim), arange(start, end, step) give torch's values.
    const g = trace((i) => {
      const x = i.x!;
      return { m: x.max(1, true), t: x.topk(2, 1, false, true)[0], f: new nn.Flatten(0, 1).call(x), s: F.softmax(x, 0), a: arange(1, 8, 3) };
    }, { x: [2, 3] });
    const r = interpret(g, { x: Float32Array.of(1, 5, 3, 4, 0, 2) });
    expect(Array.from(r.m!)).toEqual([5, 4]);
    expect(Array.from(r.t!)).toEqual([1, 3, 0, 2]);
    expect(Array.from(r.f!)).toEqual([1, 5, 3, 4, 0, 2]);
    expect(Array.from(r.s!).map((v) => +v.toFixed(6))).toEqual([1 / (1 + Math.exp(3)), 1 / (1 + Math.exp(-5)), 1 / (1 + Math.exp(-1)), 1 / (1 + Math.exp(-3)), 1 / (1 + Math.exp(5)), 1 / (1 + Math.exp(1))].map((v) => +v.toFixed(6)));
    expect(Array.from(r.a!)).toEqual([1, 4, 7]);
    // A subclass's own constructor is its own; its super(...) is counted against the parent's.
    class Wide extends nn.Linear { constructor(a: number, b: number, c: number) { super(a, b + c); } }
    expect(new Wide(2, 3, 4).outFeatures).toBe(7);
    class Bad extends nn.Linear { constructor() { super(...([2, 3, {}, 9] as unknown as [number, number])); } }
    expect(() => new Bad()).toThrow('Linear: takes at most 3 arguments (inFeatures, outFeatures, opts), got 4');
    expect(new Wide(2, 3, 4)).toBeInstanceOf(nn.Linear);
    // A forward whose source shows no parameters (bound: '[native code]') is taken as it is, not as taking none.
    class Bound extends nn.Module { constructor() { super(); this.forward = this.forward.bind(this); } forward(x: Tensor, y: Tensor): Tensor { return x.add(y); } }
    const gb = trace((i) => new Bound().call(i.x!, i.x!), { x: [2] });
    expect(Array.from(interpret(gb, { x: Float32Array.of(1, 2) }).y!)).toEqual([2, 4]);
    // A module's forward with more inputs than it declares is still told by defineModel, by name.
    expect(() => traceModel({ name: 'a', module: new nn.ReLU(), inputs: { x: [1, 4], y: [1, 4] } })).toThrow("defineModel 'a': ReLU's forward() takes 1 input");
  });
});
