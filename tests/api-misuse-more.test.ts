// Misuse of the compiler's public API found by a bug hunt: each was a raw TypeError, a misleading
// error, or a silently wrong model; each is now a clear error naming what was expected and found.
import { describe, expect, test } from 'vitest';
import { arange, compileModel, defineModel, F, interpret, nn, ones, trace, traceModel, zeros, type InputSpecs, type Tensor } from '../compiler/index.ts';
import { traceEntries } from '../compiler/dsl/trace.ts';

describe('compiler API misuse', () => {
  test('ModuleList refuses what is not a list of modules when it is made (a non-module failed at compile as a raw TypeError)', () => {
    expect(() => new nn.ModuleList([new nn.ReLU(), 1 as never])).toThrow('ModuleList: item 1 must be an nn.Module, got 1');
    // Modules spread where an array goes (PyTorch's nn.ModuleList takes one iterable).
    expect(() => new (nn.ModuleList as new (...a: unknown[]) => nn.ModuleList)(new nn.ReLU(), new nn.ReLU())).toThrow('ModuleList: expected an array of modules, got ReLU (put the modules in an array: new nn.ModuleList([a, b]))');
    // No argument is an empty list, as in PyTorch; a list of modules traces as before.
    expect(new nn.ModuleList().items).toEqual([]);
    class Two extends nn.Module {
      layers = new nn.ModuleList([new nn.Linear(2, 2), new nn.ReLU()]);
      forward(x: Tensor): Tensor { return this.layers.items.reduce((h, m) => (m as nn.Linear).call(h), x); }
    }
    expect(traceModel({ name: 'two', module: new Two(), inputs: { x: [1, 2] } }).outputs).toHaveLength(1);
  });

  test('with the default forward, an input the module cannot take is refused (it was fed and silently ignored)', () => {
    // nn.Linear's forward takes one tensor: PyTorch refuses lin(x, y); the artifact demanded y and ignored it.
    expect(() => traceModel({ name: 'a', module: new nn.Linear(4, 3), inputs: { x: [1, 4], y: [1, 4] } })).toThrow(
      "defineModel 'a': Linear's forward() takes 1 input, but inputs declares 2 (x, y), so input 'y' would be fed and ignored; give a forward: (m, inputs) => … that uses it, or remove it");
    expect(() => traceModel({ name: 'seq', module: new nn.Sequential(new nn.Linear(4, 4), new nn.ReLU()), inputs: { x: [1, 4], h: [1, 4], c: [1, 4] } })).toThrow(
      "defineModel 'seq': Sequential's forward() takes 1 input, but inputs declares 3 (x, h, c), so inputs 'h', 'c' would be fed and ignored; give a forward: (m, inputs) => … that uses them, or remove them");
    // A forward that takes both, or an explicit forward, is unaffected.
    class Add extends nn.Module { forward(x: Tensor, y: Tensor): Tensor { return x.add(y); } }
    const g = traceModel({ name: 'add', module: new Add(), inputs: { x: [1, 2], y: [1, 2] } });
    expect(Array.from(interpret(g, { x: Float32Array.of(1, 2), y: Float32Array.of(10, 20) }).y!)).toEqual([11, 22]);
    expect(() => traceModel({ name: 'b', module: new nn.Linear(4, 3), inputs: { x: [1, 4], y: [1, 4] }, forward: (m, i) => (m as nn.Linear).call(i.x!) })).not.toThrow();
  });

  test('interpret names a bad sizes argument (was instantiate\'s RangeError: \'2\' read as missing, a misspelt name unnamed)', () => {
    const g = traceModel(defineModel({ name: 's', module: new nn.ReLU(), inputs: { x: { shape: ['B', 2], max: { B: 4 } } } }));
    const x = Float32Array.of(-1, 2, 3, -4);
    expect(() => interpret(g, { x }, undefined, { B: '2' } as never)).toThrow('interpret: size \'B\' must be an integer in [1, 4], got "2"');
    expect(() => interpret(g, { x }, undefined, { b: 2 } as never)).toThrow("interpret: size 'B' must be an integer in [1, 4], got none (sizes names 'b', which the graph does not: its sizes are B)");
    expect(() => interpret(g, { x }, undefined, { B: 5 })).toThrow("interpret: size 'B' must be an integer in [1, 4], got 5");
    expect(() => interpret(g, { x }, undefined, 2 as never)).toThrow('interpret: the 4th argument, sizes, must be an object of named sizes such as { B: … }, got 2');
    let err: unknown;
    try { interpret(g, { x }, undefined, { B: 0 }); } catch (e) { err = e; }
    expect((err as Error).constructor).toBe(Error);
    // Right sizes run, and an extra name (sizes shared by several entries) is left alone.
    expect(Array.from(interpret(g, { x }, undefined, { B: 2, T: 9 } as never).y!)).toEqual([0, 2, 3, 0]);
  });

  test('interpret checks the shape of a { data, shape } feed as run() does (one of the same count ran as the graph\'s shape)', () => {
    const g = trace((i) => i.x!.sum(1), { x: [2, 3] });
    const data = Float32Array.of(1, 2, 3, 4, 5, 6);
    expect(() => interpret(g, { x: { data, shape: [3, 2] } })).toThrow("interpret: input 'x': expected shape [2, 3], got [3, 2]");
    expect(() => interpret(g, { x: { data, shape: [6] } })).toThrow("interpret: input 'x': expected shape [2, 3], got [6]");
    expect(() => interpret(g, { x: { data, shape: '2x3' as never } })).toThrow('interpret: input \'x\': expected shape [2, 3], got "2x3"');
    // With the sizes given, the shape must be the one they make.
    const gs = trace((i) => i.x!.sum(1), { x: { shape: ['B', 3], max: { B: 4 } } });
    expect(() => interpret(gs, { x: { data, shape: [3, 2] } }, undefined, { B: 2 })).toThrow("interpret: input 'x': expected shape [2, 3] (at B = 2), got [3, 2]");
    expect(Array.from(interpret(g, { x: { data, shape: [2, 3] } }).y!)).toEqual([6, 15]);
    expect(Array.from(interpret(gs, { x: { data, shape: [2, 3] } }, undefined, { B: 2 }).y!)).toEqual([6, 15]);
  });

  test("JavaScript arithmetic or comparison on a tensor is refused (torch's h * 0.5 read it as NaN: x.add(h * 0.5) added NaN to every value, silently)", () => {
    const refused = "a tensor cannot be used in JavaScript arithmetic or comparison (torch's h * 0.5, x + y, x > 0): use its methods, h.mul(0.5), x.add(y), x.gt(0)";
    const spec: InputSpecs = { x: [2, 2] }, num = (t: Tensor) => t as unknown as number;
    expect(() => trace((i) => i.x!.add(num(i.x!) * 0.5), spec)).toThrow(refused);
    expect(() => trace((i) => i.x!.add(Math.max(num(i.x!), 1)), spec)).toThrow(refused);
    expect(() => trace((i) => (num(i.x!) + 1) as never, spec)).toThrow(refused);
    expect(() => trace((i) => (num(i.x!) > 0 ? i.x! : i.x!.neg()), spec)).toThrow(refused);
    // In a module, the error names it.
    class Half extends nn.Module { forward(h: Tensor): Tensor { return h.add(num(h) * 0.5); } }
    expect(() => traceModel({ name: 'h', module: new Half(), inputs: { x: [2, 2] } })).toThrow(`${refused} in module '<root>' (Half)`);
    // A parameter too (x.mul(this.alpha * 2) multiplied by NaN).
    class Scale extends nn.Module {
      alpha = this.param('alpha', [1], 'ones');
      forward(h: Tensor): Tensor { return h.mul(num(this.alpha as never) * 2); }
    }
    expect(() => traceModel({ name: 's', module: new Scale(), inputs: { x: [2, 2] } })).toThrow("a Parameter (alpha) cannot be used in JavaScript arithmetic or comparison (torch's self.alpha * 2): its tensor is .t, this.alpha.t.mul(2)");
    // As text it is its type; the methods compute what was meant.
    trace((i) => { expect(`${i.x!}`).toBe('tensor f32[2, 2]'); return i.x!; }, spec);
    expect(Array.from(interpret(trace((i) => i.x!.add(i.x!.mul(0.5)), spec), { x: Float32Array.of(2, -4, 0, 1) }).y!)).toEqual([3, -6, 0, 1.5]);
  });

  test('loadStateDict refuses plain numbers past f32 (they loaded as Infinity silently)', () => {
    const lin = new nn.Linear(2, 1);
    expect(() => lin.loadStateDict({ weight: { shape: [1, 2], data: [1, 1e300] }, bias: { shape: [1], data: [-4e38] } })).toThrow(
      'loadStateDict into Linear: outside f32 (would load as ±Infinity): weight holds 1e+300 at index 1; bias holds -4e+38 at index 0');
    // Nothing was written; infinities given as such, and the largest f32, load as they are.
    expect(lin.weight.data[1]).not.toBe(Infinity);
    lin.loadStateDict({ weight: { shape: [1, 2], data: [Infinity, 3.4028234663852886e38] }, bias: { shape: [1], data: [-Infinity] } });
    expect(Array.from(lin.weight.data)).toEqual([Infinity, 3.4028234663852886e38]);
    expect(Array.from(lin.bias!.data)).toEqual([-Infinity]);
  });

  test('arange(start, end, step) is torch.arange over integers (arange(2, 5) gave [0, 1]: the extra arguments were ignored)', () => {
    const values = (f: () => Tensor) => Array.from(interpret(trace((i) => i.x!.add(f()), { x: { shape: [1], dtype: 'i32' } }), { x: Int32Array.of(0) }).y!);
    expect(values(() => arange(2, 5))).toEqual([2, 3, 4]);
    expect(values(() => arange(10, 0, -3))).toEqual([10, 7, 4, 1]);
    expect(values(() => arange(-2, 3, 2))).toEqual([-2, 0, 2]);
    expect(values(() => arange(4))).toEqual([0, 1, 2, 3]);
    expect(() => values(() => arange(5, 2))).toThrow('arange(5, 2, 1): holds 0 values; it must hold 1 to 2^26');
    expect(() => values(() => arange(0, 5, 0))).toThrow('arange(0, 5, 0): step must not be 0');
    expect(() => values(() => arange(0, 1, 0.25))).toThrow("arange: step must be a 32-bit integer (the DSL's arange is i32), got 0.25");
    expect(() => values(() => arange(0, 2 ** 40))).toThrow("arange: end must be a 32-bit integer (the DSL's arange is i32), got 1099511627776");
  });

  test('std and var take PyTorch\'s positional unbiased (x.std(1, false) gave the unbiased value) and refuse unknown options', () => {
    // Rows [1, 2, 4] and [0, 0, 3]: mean 7/3 and 1, sums of squares 14/3 and 6.
    const x = Float32Array.of(1, 2, 4, 0, 0, 3);
    const at = (f: (t: Tensor) => Tensor) => Array.from(interpret(trace((i) => f(i.x!), { x: [2, 3] }), { x }).y!);
    const close = (got: number[], want: number[]) => got.forEach((v, i) => expect(v).toBeCloseTo(want[i]!, 6));
    close(at((t) => t.var(1, false)), [14 / 9, 2]);
    close(at((t) => t.std(1, false)), [Math.sqrt(14 / 9), Math.sqrt(2)]);
    close(at((t) => t.var(1, true)), [7 / 3, 3]);
    close(at((t) => t.var(1)), [7 / 3, 3]);
    const g = trace((i) => i.x!.std(1, false, true), { x: [2, 3] });
    expect(g.outputs[0]!.node.type.shape).toEqual([2, 1]);
    close(Array.from(interpret(g, { x }).y!), [Math.sqrt(14 / 9), Math.sqrt(2)]);
    expect(() => at((t) => t.var(1, { unbias: false } as never))).toThrow("var: unknown option 'unbias' (allowed: unbiased, correction, keepdim)");
    expect(() => at((t) => t.var(1, { keepdim: 1 } as never))).toThrow('var: keepdim must be true or false, got 1');
    expect(() => at((t) => t.var(1, 'no' as never))).toThrow('var: options must be { unbiased?, correction?, keepdim? } or unbiased as true or false, got "no"');
  });

  test('compileModel refuses an ISA named twice (it was compiled twice)', async () => {
    const def = defineModel({ name: 'twice', module: new nn.ReLU(), inputs: { x: [2] } });
    await expect(compileModel(def, { isas: ['wasmsimd', 'wasmsimd'] })).rejects.toThrow('compileModel(): option isas names wasmsimd twice');
  });

  test('an entry without a forward is named (was a raw TypeError: e.forward is not a function)', async () => {
    const def = defineModel({ name: 'e', module: new nn.ReLU(), inputs: { x: [2] }, entries: { step: { inputs: { x: [2] } } as never } });
    await expect(compileModel(def, { isas: ['wasmsimd'] })).rejects.toThrow("entry 'step': forward must be a function (m, inputs, state) => ({ outputs, state }), got undefined");
  });

  test('squeeze takes several dims; unsqueeze, transpose and flatten refuse arguments they would ignore (a JS model file lost them silently)', () => {
    const shape = (f: (t: Tensor) => Tensor, s: number[]) => trace((i) => f(i.x!), { x: s }).outputs[0]!.node.type.shape;
    expect(shape((t) => (t.squeeze as (...d: number[]) => Tensor)(0, 1), [1, 1, 4])).toEqual([4]);
    expect(shape((t) => t.squeeze([0, 2]), [1, 3, 1])).toEqual([3]);
    const call = (f: (t: Tensor) => Tensor) => () => shape(f, [2, 3, 4]);
    expect(call((t) => (t.unsqueeze as (...d: number[]) => Tensor)(0, 1))).toThrow('unsqueeze: takes one dim (unsqueeze twice for two), got 2 arguments');
    expect(call((t) => (t.transpose as (...d: number[]) => Tensor)(0, 1, 2))).toThrow('transpose: takes two dims (permute for more), got 3 arguments');
    expect(call((t) => (t.flatten as (...d: number[]) => Tensor)(1, 2, 3))).toThrow('flatten: takes start_dim and end_dim, got 3 arguments');
    expect(shape((t) => t.flatten(1), [2, 3, 4])).toEqual([2, 12]);
  });

  test('a tensor given as a dim is named in a few words (its JSON, constants and all, was the message), and so is the op', () => {
    const big = (t: Tensor) => t.max(t.add(new nn.Linear(512, 512).weight.t.sum()) as never);
    let msg = '';
    try { trace((i) => big(i.x!), { x: [2, 3] }); } catch (e) { msg = (e as Error).message; }
    expect(msg).toBe('max: dim must be an integer, got a tensor f32[2, 3] (the elementwise max or min of two tensors is maximum(other) or minimum(other))');
  });

  test('an async onStage is awaited and its rejection is the compile\'s (it went unhandled, which ends a Node process)', async () => {
    const unhandled: unknown[] = [];
    const note = (e: unknown) => unhandled.push(e);
    process.on('unhandledRejection', note);
    try {
      const def = defineModel({ name: 'stages', module: new nn.ReLU(), inputs: { x: [2] } });
      await expect(compileModel(def, { isas: ['wasmsimd'], onStage: async (s) => { if (s === 'emit') throw new Error('no emit today'); } })).rejects.toThrow('no emit today');
      const seen: string[] = [];
      await compileModel(def, { isas: ['wasmsimd'], onStage: async (s) => { await new Promise((r) => setTimeout(r, 1)); seen.push(s); } });
      expect(seen).toEqual(['trace', 'passes', 'emit', 'asc+binaryen wasmsimd']);
      await new Promise((r) => setTimeout(r, 50));
      expect(unhandled).toEqual([]);
    } finally { process.off('unhandledRejection', note); }
  });

  test('an output name given twice in outputNames is a definition error (was the IR verifier\'s VerifyError)', () => {
    expect(() => traceModel({ name: 'a', module: new nn.ReLU(), inputs: { x: [2] }, forward: (m, i) => [(m as nn.ReLU).call(i.x!), i.x!.neg()], outputNames: ['a', 'a'] })).toThrow(
      "output name 'a' is given twice in outputNames");
  });

  test('interpret checks state as it checks inputs (a short array read NaN past its end)', () => {
    const def = defineModel({ name: 's', module: new nn.ReLU(), inputs: { x: [2] }, state: { h: [2] },
      entries: { step: { inputs: { x: [2] }, forward: (_m, i, s) => ({ outputs: { y: s.h!.add(i.x!) }, state: { h: i.x! } }) } } });
    const g = traceEntries(def).find((e) => e.name === 'step')!.graph, x = Float32Array.of(1, 2);
    expect(() => interpret(g, { x }, { h: Float32Array.of(10) })).toThrow("interpret: state 'h' has 1 values, expected 2 (f32[2])");
    expect(() => interpret(g, { x }, { h: Int32Array.of(10, 20) })).toThrow("interpret: state 'h' (f32) must be a Float32Array, got Int32Array");
    expect(Array.from(interpret(g, { x }, { h: Float32Array.of(10, 20) }).y!)).toEqual([11, 22]);
  });

  test('a generation that does not describe the entries is the definition\'s error, before the code is built (was the loader\'s manifest error after the whole compile)', async () => {
    const stages: string[] = [];
    const def = defineModel({ name: 'lm', module: new nn.ReLU(), inputs: { x: [2] }, generation: { prefill: 'run', decode: 'run' } });
    await expect(compileModel(def, { isas: ['wasmsimd'], onStage: (s) => { stages.push(s); } })).rejects.toThrow(
      "model 'lm': its generation does not describe its entries: generation.chunk must be a non-negative integer, found undefined");
    expect(stages).toEqual(['trace', 'passes', 'emit']);
  });

  test('an op that fails at every size is not told a symbolic size must work for every value (a dtype mismatch was)', () => {
    const spec: InputSpecs = { x: { shape: ['B', 'T'], max: { B: 4, T: 16 }, min: { T: 2 } }, k: { shape: ['B', 'T'], dtype: 'i32' } };
    expect(() => trace((i) => i.k!.softmax(-1), spec)).toThrow(/^softmax: input must be f32, got i32\[4, 16\] — at the bounds B=4, T=16 \(inputs i32\[B, T\]\)$/);
    // An error some sizes avoid keeps the advice.
    expect(() => trace((i) => i.x!.slice(1, 0, 3), spec)).toThrow('slice: range 0:3:1 is invalid for axis 1 of [1, 2] — with B=1, T=2 (inputs f32[B, T]); a symbolic size must work for every value from its declared minimum (T ≥ 2) to its bound');
  });
  test("unpacking a tensor as torch's `values, indices = x.max(1)`, or indexing it as torch's h_n[-1], is refused by name (a raw TypeError: object is not iterable; undefined)", () => {
    class Viterbi extends nn.Module {
      forward(x: Tensor): Tensor { const [v, i] = x.max(1) as unknown as Tensor[]; return v!.add(i!); }
    }
    expect(() => traceModel({ name: 'v', module: new Viterbi(), inputs: { x: [2, 3] } })).toThrow(
      "a tensor cannot be unpacked or iterated (const [a, b] = x, for (const r of x)): torch's `values, indices = x.max(dim)` (or min) is x.max(dim) / x.min(dim) for the values and x.argmax(dim) / x.argmin(dim) for the indices; torch's `a, b = x` or `for row in x` is x.unbind(0) in module '<root>' (Viterbi)");
    // for…of over a tensor (torch iterates its rows) is refused the same way; unbind gives the rows.
    const rows = (x: Tensor) => { const out: Tensor[] = []; for (const r of x as unknown as Tensor[]) out.push(r); return out[0]!; };
    expect(() => traceModel({ name: 'r', module: new nn.Identity(), inputs: { x: [2, 3] }, forward: (_m: nn.Module, i: Record<string, Tensor>) => rows(i.x!) })).toThrow(/^a tensor cannot be unpacked or iterated/);
    const g = traceModel({ name: 'u', module: new nn.Identity(), inputs: { x: [2, 3] }, forward: (_m: nn.Module, i: Record<string, Tensor>) => i.x!.unbind(0)[1]! });
    // torch's h_n[-1] or x[0] read an absent property: "linear: input must be a tensor, got undefined", or a raw TypeError (x[0].add is not a function).
    class Last extends nn.Module {
      fc = new nn.Linear(3, 1);
      forward(h: Tensor): Tensor { return this.fc.call((h as unknown as Tensor[])[-1]!); }
    }
    expect(() => traceModel({ name: 'l', module: new Last(), inputs: { x: [2, 3] } })).toThrow(
      "a tensor cannot be indexed with [-1]: torch's x[-1] is x.select(0, -1) (x.slice(0, a, b) for x[a:b]), and torch's x.max(dim)[0] / [1] (or min) is x.max(dim) / x.argmax(dim): max and min give the values alone in module '<root>' (Last)");
    expect(() => trace((i) => (i.x! as unknown as Tensor[])[0]!.add(1), { x: [2, 3] })).toThrow("a tensor cannot be indexed with [0]: torch's x[0] is x.select(0, 0)");
    // Any integer, not a few small ones (x[64] of a batch loop read undefined); other names read as before.
    expect(() => trace((i) => (i.x! as unknown as Tensor[])[4096]!.add(1), { x: [2, 3] })).toThrow("a tensor cannot be indexed with [4096]: torch's x[4096] is x.select(0, 4096)");
    expect(() => trace((i) => (i.x! as unknown as Tensor[])[-100]!.add(1), { x: [2, 3] })).toThrow("a tensor cannot be indexed with [-100]");
    trace((i) => { expect((i.x! as unknown as Record<string, unknown>).then).toBeUndefined(); expect('0' in i.x!).toBe(false); expect(typeof i.x!.hasOwnProperty).toBe('function'); return i.x!; }, { x: [2, 3] });
    expect(Array.from(interpret(trace((i) => i.x!.select(0, -1), { x: [2, 3] }), { x: Float32Array.of(1, 2, 3, 4, 5, 6) }).y!)).toEqual([4, 5, 6]);
    expect(Array.from(interpret(g, { x: Float32Array.of(1, 2, 3, 4, 5, 6) }).y!)).toEqual([4, 5, 6]);
  });
  test("indexing a tensor as torch's x[0] or torch.max(x, 1)[0] is refused by name (it read undefined: 'forward() returned undefined' far away)", () => {
    class Pool extends nn.Module { forward(x: Tensor): Tensor { return (x.max(1) as unknown as Tensor[])[0]!; } }
    expect(() => traceModel({ name: 'p', module: new Pool(), inputs: { x: [2, 3] } })).toThrow(
      "a tensor cannot be indexed with [0]: torch's x[0] is x.select(0, 0) (x.slice(0, a, b) for x[a:b]), and torch's x.max(dim)[0] / [1] (or min) is x.max(dim) / x.argmax(dim): max and min give the values alone in module '<root>' (Pool)");
    const row = (i: number) => (x: Tensor) => (x as unknown as Tensor[])[i]!;
    expect(() => traceModel({ name: 'r', module: new nn.Identity(), inputs: { x: [2, 3] }, forward: (_m: nn.Module, i: Record<string, Tensor>) => row(-1)(i.x!) })).toThrow(/^a tensor cannot be indexed with \[-1\]: torch's x\[-1\] is x.select\(0, -1\)/);
    expect(() => traceModel({ name: 'r', module: new nn.Identity(), inputs: { x: [2, 3] }, forward: (_m: nn.Module, i: Record<string, Tensor>) => row(1)(i.x!) })).toThrow(/^a tensor cannot be indexed with \[1\]/);
    // The pairs the DSL does return (topk, sort, cummax) are arrays and index as ever (below).
    const g = traceModel({ name: 't', module: new nn.Identity(), inputs: { x: [2, 3] }, forward: (_m: nn.Module, i: Record<string, Tensor>) => i.x!.topk(1, 1)[1]! });
    expect(Array.from(interpret(g, { x: Float32Array.of(1, 5, 3, 6, 4, 2) }).y!)).toEqual([1, 0]);
  });
  test("torch's spellings a port keeps: snake_case and in-place names are refused naming the DSL's; ndim, dim(), numel(), to(), cpu() work; item() is refused", () => {
    const run = (f: (x: Tensor) => unknown) => {
      const g = traceModel({ name: 'p', module: new nn.Identity(), inputs: { x: { shape: ['B', 3], max: { B: 4 } } }, forward: (_m: nn.Module, i: Record<string, Tensor>) => f(i.x!) as Tensor });
      const y = Object.values(interpret(g, { x: { data: Float32Array.of(1, -2, 3, 4, 5, -6), shape: [2, 3] } }))[0]!;
      return [y.constructor.name, ...Array.from(y as Float32Array)];
    };
    const any = (x: Tensor) => x as unknown as Record<string, (...a: unknown[]) => Tensor>;
    expect(() => run((x) => any(x).masked_fill!(x.gt(0), 0))).toThrow("x.masked_fill: the DSL spells PyTorch's names in camelCase: x.maskedFill");
    expect(() => run((x) => any(x).type_as!(x))).toThrow("x.type_as: the DSL spells PyTorch's names in camelCase: x.typeAs");
    expect(() => run((x) => any(x).add_!(1))).toThrow('x.add_: in-place ops do not exist in a traced model (every op makes a new tensor): write x = x.add(…)');
    expect(() => run((x) => any(x).masked_fill_!(x.gt(0), 1))).toThrow('x.masked_fill_: in-place ops do not exist in a traced model (every op makes a new tensor): write x = x.maskedFill(…)');
    expect(() => run((x) => any(x).zero_!())).toThrow('x.zero_: in-place ops do not exist in a traced model');
    expect(() => run((x) => x.sum().item())).toThrow("item: a tensor's value is known only when the model runs, not while it is traced");
    expect(() => run((x) => x.to('float16'))).toThrow(`to: expected a device ('cpu', 'cuda', 'cuda:0', 'mps'), a dtype ('f32', 'float32', 'float', 'i32', 'int32', 'int', 'int64', 'long', 'bool') or a tensor, got "float16"`);
    // ndim and dim() are the rank; numel() of [B, 3] at B = 2 is 6 (a run-time size: the elements of this call).
    expect(run((x) => x.mul(x.ndim).add(x.dim() as unknown as number))).toEqual(['Float32Array', 4, -2, 8, 10, 12, -10]);
    expect(run((x) => x.mul(x.numel()))).toEqual(['Float32Array', 6, -12, 18, 24, 30, -36]);
    expect(run((x) => x.select(0, 0).mul(x.select(0, 0).numel()))).toEqual(['Float32Array', 3, -6, 9]);
    expect(run((x) => x.to('cuda:0').cpu().cuda())).toEqual(['Float32Array', 1, -2, 3, 4, 5, -6]);
    expect(run((x) => x.to('torch.int64'))).toEqual(['Int32Array', 1, -2, 3, 4, 5, -6]);
    expect(run((x) => x.to(x.gt(0)))).toEqual(['Uint8Array', 1, 1, 1, 1, 1, 1]);
    // A dim left out or given by keyword names the op (it said "dim must be an integer, got undefined" alone).
    expect(() => run((x) => (x.softmax as () => Tensor)())).toThrow(/^softmax: dim must be an integer, got undefined/);
    expect(() => run((x) => (x.transpose as () => Tensor)())).toThrow(/^transpose: dim must be an integer, got undefined/);
    expect(() => run((x) => (F.softmax as (x: Tensor) => Tensor)(x))).toThrow(/^softmax: dim must be an integer, got undefined/);   // (the method it calls)
    expect(() => run((x) => x.sum({ dim: 1 } as never))).toThrow(/^sum: dim must be an integer, got \{"dim":1\} \(PyTorch's dim=1 is positional here\)/);
    // torch's zeros(2, 3): the sizes one by one.
    expect(() => run(() => (zeros as (...a: unknown[]) => Tensor)(2, 3))).toThrow("zeros: shape must be an array of positive integers or size names, got 2 (torch's zeros(2, 3) is zeros([2, 3]) here)");
    expect(() => run(() => (ones as (...a: unknown[]) => Tensor)(3))).toThrow("ones: shape must be an array of positive integers or size names, got 3 (torch's ones(2, 3) is ones([2, 3]) here)");
    // A Parameter's .T and .mT, torch's x @ self.weight.T (it read undefined: "matmul: expected a tensor, got undefined").
    class Lin extends nn.Module { w = this.param('w', [2, 3]); forward(x: Tensor): Tensor { return x.matmul(this.w.T).add(x.matmul(this.w.mT)); } }
    const lin = new Lin();
    lin.w.data = Float32Array.of(1, 0, 2, 0, 1, -1);
    const gl = traceModel({ name: 'l', module: lin, inputs: { x: [1, 3] } });
    expect(Array.from(interpret(gl, { x: Float32Array.of(1, 2, 3) }).y!)).toEqual([14, -2]);   // 2 · (x · wᵀ) = 2 · [7, −1]
    // self.training is false (it read undefined), and a port may still set it as torch's __init__ does.
    class Drop extends nn.Module { forward(x: Tensor): Tensor { return this.training ? x : x.neg(); } }
    const g = traceModel({ name: 'd', module: new Drop(), inputs: { x: [2] } });
    expect(Array.from(interpret(g, { x: Float32Array.of(1, -2) }).y!)).toEqual([-1, 2]);
    class Set extends nn.Module { constructor() { super(); this.training = false; } forward(x: Tensor): Tensor { return x; } }
    expect(new Set().training).toBe(false);
  });
});
