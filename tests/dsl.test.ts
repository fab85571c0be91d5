import { describe, expect, test } from 'vitest';
import { arange, cat, defineModel, F, ints, Module, nn, stack, traceModel, ModelDefinitionError, zeros, type Tensor } from '../compiler/dsl/index.ts';
import { interpret } from '../compiler/reference/interpret.ts';
import { printGraph } from '../compiler/ir/print.ts';

describe('DSL', () => {
  test("state_dict names follow PyTorch's: Sequential indices and nested modules", () => {
    class Net extends nn.Module {
      features = new nn.Sequential(new nn.Conv2d(3, 8, 3), new nn.ReLU(), new nn.Conv2d(8, 8, 3));
      head = new nn.Linear(8, 4, { bias: false });
      blocks = [new nn.Linear(4, 4), new nn.Linear(4, 4)];
      forward(x: Tensor): Tensor { return x; }
    }
    const names = new Net().namedParameters().map(([k, p]) => `${k}:${p.shape}`);
    expect(names).toEqual([
      'features.0.weight:8,3,3,3', 'features.0.bias:8', 'features.2.weight:8,8,3,3', 'features.2.bias:8',
      'head.weight:4,8', 'blocks.0.weight:4,4', 'blocks.0.bias:4', 'blocks.1.weight:4,4', 'blocks.1.bias:4',
    ]);
  });

  test("a Sequential of named layers (PyTorch's Sequential(OrderedDict(...))) names them by key and calls them in order", () => {
    const seq = new nn.Sequential({ fc1: new nn.Linear(2, 2), act: new nn.ReLU(), fc2: new nn.Linear(2, 1, { bias: false }) });
    expect(seq.namedParameters().map(([k]) => k)).toEqual(['fc1.weight', 'fc1.bias', 'fc2.weight']);
    const fc1 = seq.layers[0] as nn.Linear, fc2 = seq.layers[2] as nn.Linear;
    fc1.weight.data = Float32Array.of(1, -1, 2, 0.5); fc1.bias!.data = Float32Array.of(0, -3); fc2.weight.data = Float32Array.of(3, -2);
    const g = traceModel(defineModel({ name: 's', module: seq, inputs: { x: [1, 2] } }));
    // x = [2, 1]: fc1 → [2·1 − 1, 2·2 + 0.5·1 − 3] = [1, 1.5]; relu; fc2 → 3·1 − 2·1.5 = 0.
    expect(Array.from(interpret(g, { x: Float32Array.of(2, 1) }).y as Float32Array)).toEqual([0]);
    expect(Array.from(interpret(g, { x: Float32Array.of(-1, 1) }).y as Float32Array)).toEqual([0]); // fc1 → [−2, −4.5], relu → 0
    expect(Array.from(interpret(g, { x: Float32Array.of(0, 8) }).y as Float32Array)).toEqual([-2]); // fc1 → [−8, 1], relu → [0, 1]
    expect(() => new nn.Sequential({ 'a.b': new nn.ReLU() })).toThrow('Sequential: key "a.b" cannot name a state_dict entry');
    expect(() => new nn.Sequential({ a: 3 as never })).toThrow("Sequential: layer 'a' must be an nn.Module, got 3");
  });

  test("PyTorch's eval(), train(false), children(), modules() and parameters() work on any module (ported code); train() is refused", () => {
    const net = new nn.Sequential(new nn.Linear(2, 3), new nn.ReLU(), new nn.Sequential(new nn.Linear(3, 1)));
    expect(net.eval()).toBe(net);
    expect(net.train(false)).toBe(net);
    expect(() => net.train()).toThrow('Sequential.train(true): simdflow compiles models for inference, it does not train them (train(false) is eval())');
    expect(net.children().map((m) => m.constructor.name)).toEqual(['Linear', 'ReLU', 'Sequential']);
    expect(net.modules().map((m) => m.constructor.name)).toEqual(['Sequential', 'Linear', 'ReLU', 'Sequential', 'Linear']);
    expect(net.parameters().map((p) => p.shape.join('x'))).toEqual(['3x2', '3', '1x3', '1']);
  });

  test('a scalar expands to its own shape with no sizes (torch\'s scalar.expand([])); a tensor needs sizes', () => {
    const g = traceModel(defineModel({ name: 'e', module: new nn.Identity(), inputs: { x: [] }, forward: (_m: Module, i: Record<string, Tensor>) => i.x!.expand().add(1) }));
    expect(Array.from(interpret(g, { x: Float32Array.of(2.5) }).y as Float32Array)).toEqual([3.5]);
    expect(() => traceModel(defineModel({ name: 'e', module: new nn.Identity(), inputs: { x: [2] }, forward: (_m: Module, i: Record<string, Tensor>) => i.x!.expand() }))).toThrow(/expand: sizes must be integers \(-1 keeps a dim\) or size names, got none/);
  });

  test('a shape mismatch throws at definition time naming the op, the module path and both shapes', () => {
    class Net extends nn.Module {
      body = new nn.Sequential(new nn.Linear(10, 20), new nn.ReLU(), new nn.Linear(30, 5));
      forward(x: Tensor): Tensor { return this.body.call(x); }
    }
    const def = { name: 'bad', module: new Net(), inputs: { x: [2, 10] } };
    expect(() => traceModel(def)).toThrow(ModelDefinitionError);
    expect(() => traceModel(def)).toThrow("linear: input [2, 20] has 20 features but weight [5, 30] expects 30 in module 'body.2' (Linear)");
  });

  test('broadcast and matmul errors name both shapes', () => {
    const add = { name: 'a', module: new nn.Identity(), inputs: { x: [2, 3], y: [4] }, forward: (_m: nn.Module, i: Record<string, Tensor>) => i.x!.add(i.y!) };
    expect(() => traceModel(add)).toThrow('add: shapes do not broadcast: [2, 3] vs [4]');
    const mm = { name: 'm', module: new nn.Identity(), inputs: { x: [2, 3], y: [4, 5] }, forward: (_m: nn.Module, i: Record<string, Tensor>) => i.x!.matmul(i.y!) };
    expect(() => traceModel(mm)).toThrow('matmul: inner dimensions differ: [2, 3] (k=3) · [4, 5] (k=4)');
    const conv = { name: 'c', module: new nn.Conv2d(3, 4, 3), inputs: { x: [1, 2, 8, 8] } };
    expect(() => traceModel(conv)).toThrow("conv2d: input has 2 channels but weight [4, 3, 3, 3] expects 3 in module '<root>' (Conv2d)");
  });

  test('loadStateDict lists every missing, unexpected and mis-shaped tensor in one error', () => {
    const m = new nn.Sequential(new nn.Linear(3, 4), new nn.ReLU(), new nn.Linear(4, 2));
    const sd = new Map([
      ['0.weight', { shape: [4, 3], data: new Float32Array(12) }],
      ['0.bias', { shape: [5], data: new Float32Array(5) }],
      ['2.weight', { shape: [2, 4], data: new Float32Array(8) }],
      ['3.weight', { shape: [1], data: new Float32Array(1) }],
    ]);
    expect(() => m.loadStateDict(sd)).toThrow('loadStateDict into Sequential: mis-shaped: 0.bias: expected [4], found [5] | missing: 2.bias | unexpected: 3.weight');
  });

  test('loadStateDict takes a plain object too, and refuses what is not a state_dict naming the tensor', () => {
    const m = new nn.Linear(2, 1);
    m.loadStateDict({ weight: { shape: [1, 2], data: Float32Array.of(3, 4) }, bias: { shape: [1], data: [5] } });
    expect(Array.from(m.weight.data)).toEqual([3, 4]);
    expect(Array.from(m.bias!.data)).toEqual([5]);
    for (const bad of [undefined, null, 5, [1], new Float32Array(2)]) {
      expect(() => m.loadStateDict(bad as never)).toThrow(/^loadStateDict into Linear: expected a state_dict, a Map or an object of \{ shape, data \} by parameter name .*; got /);
    }
    expect(() => m.loadStateDict({ weight: Float32Array.of(1, 2), bias: { shape: [1], data: [5] } } as never)).toThrow('loadStateDict into Linear: weight: expected { shape, data: Float32Array }, got Float32Array(2) without a shape');
    expect(() => m.loadStateDict({ weight: { shape: [1, 2], data: Float32Array.of(1) }, bias: { shape: [1], data: new Float64Array(1) } } as never))
      .toThrow('loadStateDict into Linear: weight: shape [1, 2] needs 2 values, data has 1; bias: expected { shape, data: Float32Array }, got data Float64Array(1)');
    expect(() => m.loadStateDict({ weight: { shape: [1, -2], data: [] } } as never)).toThrow('weight: expected { shape, data: Float32Array }, got shape [1, -2] (not non-negative integers)');
    expect(() => m.loadStateDict(new Map(), null as never)).toThrow('loadStateDict: options must be an object');
    expect(() => m.loadStateDict(new Map(), { strict: 'no' } as never)).toThrow('loadStateDict: option strict must be true or false, got "no"');
    expect(Array.from(m.weight.data)).toEqual([3, 4]); // refused loads wrote nothing
  });

  test('loadStateDict copies values by name', () => {
    const m = new nn.Linear(2, 1);
    m.loadStateDict(new Map([['weight', { shape: [1, 2], data: Float32Array.of(3, 4) }], ['bias', { shape: [1], data: Float32Array.of(5) }]]));
    expect(Array.from(m.weight.data)).toEqual([3, 4]);
    expect(Array.from(m.bias!.data)).toEqual([5]);
  });

  test('tracing records PyTorch-like ops; reductions over non-adjacent axes are legal', () => {
    const def = { name: 't', module: new nn.Identity(), inputs: { x: [2, 3, 4] }, forward: (_m: nn.Module, i: Record<string, Tensor>) => i.x!.sum([0, 2]) };
    expect(printGraph(traceModel(def))).toContain(': f32[3]');
  });

  test('operations outside trace() are rejected clearly', () => {
    const m = new nn.Linear(2, 2);
    expect(() => m.weight.t).toThrow(/only inside trace\(\)/);
  });

  test('zeros() checks its shape (a negative dim was a RangeError from deep inside)', () => {
    const def = (shape: unknown) => defineModel({ name: 'z', module: new nn.Linear(2, 2), inputs: { x: [1, 2] }, forward: (_m, i) => ({ y: i.x!.add(zeros(shape as never)) }) });
    expect(() => traceModel(def([2, -1]))).toThrow('zeros: shape must be an array of positive integers or size names, got [2, -1]');
    expect(() => traceModel(def([2.5]))).toThrow('got [2.5]');
    expect(() => traceModel(def('abc'))).toThrow('zeros: shape must be an array of positive integers or size names, got "abc"');
    expect(Array.from(interpret(traceModel(def([2])), { x: Float32Array.of(1, 2) }).y!)).toHaveLength(2);
  });

  test('tensor methods and cat/stack check their operands (were TypeErrors, or a fractional slice)', () => {
    const run = (f: (x: Tensor) => Tensor) => traceModel(defineModel({ name: 'o', module: new nn.Linear(4, 4), inputs: { x: [2, 4] }, forward: (_m, i) => ({ y: f(i.x!) }) }));
    expect(() => run((x) => x.add('a' as never))).toThrow('add: expected a tensor or a number, got "a"');
    expect(() => run((x) => x.mul(null as never))).toThrow('mul: expected a tensor or a number, got null');
    expect(() => run((x) => x.pow([2] as never))).toThrow('pow: expected a tensor or a number, got an array of 1');
    expect(() => run((x) => cat(x as never))).toThrow('cat: expected an array of tensors, got Tensor');
    expect(() => run((x) => stack([x, 3] as never))).toThrow('stack: element 1 is not a tensor, got 3');
    expect(() => run((x) => x.slice(1, 0.5, 3))).toThrow('slice: start must be an integer or a size name, got 0.5');
    expect(() => run((x) => x.slice(1, 0, 3, 0))).toThrow('slice: step must be a positive integer, got 0');
    expect(() => run((x) => x.sum(0, 'yes' as never))).toThrow('sum: keepdim must be true or false, got "yes"');
    // Were raw TypeErrors, a NaN shape, a process killed by running out of memory, or ints silently truncated.
    expect(() => run((x) => x.matmul(undefined as never))).toThrow('matmul: expected a tensor, got undefined');
    expect(() => run((x) => x.slice(0, undefined as never))).toThrow('slice: start must be an integer or a size name, got undefined'); // VerifyError: f32[NaN, 4]
    expect(() => run((x) => x.slice(5n as never, 0, 1))).toThrow('dim must be an integer, got 5n'); // Do not know how to serialize a BigInt
    expect(() => run((x) => x.reshape(8n as never))).toThrow('reshape: sizes must be integers (one may be -1) or size names, got 8n in [8n]');
    expect(() => run((x) => x.add(ints([1.5, 2, 3, 4])))).toThrow('ints: expected an array of 32-bit integers, got an array of 4 holding 1.5'); // was [1, 2, 3, 4]
    expect(() => run(() => ints(null as never))).toThrow('ints: expected an array of 32-bit integers, got null');
    for (const n of [2 ** 31, -1, 1.5, 0, 5n]) expect(() => run(() => arange(n as never))).toThrow(`arange: n must be an integer in [1, 2^26], got ${typeof n === 'bigint' ? '5n' : n}`);
    expect(() => run((x) => x.expand(2, undefined as never))).toThrow('expand: sizes must be integers (-1 keeps a dim) or size names, got undefined'); // undefined.replace
    expect(() => run((x) => x.dynamicSlice(0, 1 as never))).toThrow('dynamicSlice: index must be an i32 tensor (a position known at run time; slice() takes a number), got 1');
    expect(() => run((x) => x.dynamicSlice(0, ints([0], []), 3))).toThrow('dynamicSlice: size must be an integer in [1, 2] (dim 0 of [2, 4]), got 3');
    expect(() => run((x) => x.dynamicUpdate(0, ints([0], []), 5 as never))).toThrow('dynamicUpdate: update must be a tensor, got 5');
    // Outputs past wasm32 memory: a RangeError (2^40), or the process out of memory (scaleFactor 1e9).
    expect(() => run((x) => F.interpolate(x.unsqueeze(0), { scaleFactor: 1e9 }))).toThrow('interpolate: the output [1, 2, 4000000000] needs 32000000000 bytes; wasm32 memory holds 4 GiB');
    expect(() => run((x) => F.adaptiveAvgPool2d(x.unsqueeze(0), [2 ** 40, 1]))).toThrow('adaptive_avg_pool2d: the output [1, 1099511627776, 1] needs');
    for (const [f, msg] of [
      [(x: Tensor) => F.relu(undefined as never), 'relu: input must be a tensor, got undefined'], // x.relu is not a function
      [(x: Tensor) => F.softmax([x] as never, 1), 'softmax: input must be a tensor, got an array of 1'],
      [(x: Tensor) => F.gelu(3 as never, { approximate: 'tanh' }), 'gelu: input must be a tensor, got 3'],
      [(x: Tensor) => F.linear(x, undefined as never), 'linear: weight must be a tensor, got undefined'],
      [(x: Tensor) => F.embedding(null as never, x), 'embedding: indices must be a tensor, got null'],
      [(x: Tensor) => F.maxPool2d(null as never, 2), 'max_pool2d: input must be a tensor, got null'],
      [(x: Tensor) => F.scaledDotProductAttention(x, x, undefined as never), 'scaled_dot_product_attention: value must be a tensor, got undefined'],
      [() => F.causalMask(-1), 'causalMask: L must be a positive integer, got -1'], // Invalid typed array length
      [() => F.sinusoidalPositionalEncoding(4n as never, 8), 'sinusoidalPositionalEncoding: maxLen must be a positive integer, got 4n'],
    ] as const) expect(() => run(f as (x: Tensor) => Tensor), msg).toThrow(msg);
    // The operands that are right still work: a number, a tensor, a list.
    const g = run((x) => cat([x.add(1).mul(x), x.slice(1, 1, 3).sum(1, true).expand(2, 4)], 0));
    expect(Array.from(interpret(g, { x: Float32Array.of(1, 2, 3, 4, 0, 1, 0, 1) }).y!)).toEqual([2, 6, 12, 20, 0, 2, 0, 2, 5, 5, 5, 5, 1, 1, 1, 1]);
  });

  const runOn = (f: (i: Record<string, Tensor>) => Tensor, inputs: Record<string, unknown> = { x: [2, 4] }) =>
    traceModel(defineModel({ name: 'o', module: new nn.Identity(), inputs: inputs as never, forward: (_m, i) => ({ y: f(i) }) }));

  test("i32 arithmetic follows torch's promotion: / is true division, a float operand computes in f32, an i32 pow base to an int stays i32", () => {
    const ints = { i: { shape: [3], dtype: 'i32' }, x: [3] };
    const feeds = { i: Int32Array.of(7, -7, 2147483647), x: Float32Array.of(0.5, 2, -1) };
    const val = (f: (i: Record<string, Tensor>) => Tensor) => {
      const g = runOn(f, ints);
      expect(g.outputs[0]!.node.type.dtype).toBe('f32');
      return Array.from(interpret(g, feeds).y!);
    };
    // Every value checked against torch 1.13 (float32 results): i / 2, i / i, i + 0.5, x * i, maximum(i, x), x ** i.
    expect(val((i) => i.i!.div(2))).toEqual([3.5, -3.5, 1073741824]);
    expect(val((i) => i.i!.div(i.i!))).toEqual([1, 1, 1]);
    expect(val((i) => i.i!.add(0.5))).toEqual([7.5, -6.5, 2147483648]);
    expect(val((i) => i.x!.mul(i.i!))).toEqual([3.5, -14, -2147483648]);
    expect(val((i) => i.i!.maximum(i.x!))).toEqual([7, 2, 2147483648]);
    // The exponent becomes f32 first: 2^31 − 1 rounds to 2^31, even, so (−1)^it is 1 (torch 1.13 gives the same).
    expect(val((i) => i.x!.pow(i.i!))).toEqual([0.0078125, 1 / 128, 1]);
    // An i32 base to an integer power stays i32 as torch's int64 does, its low 32 bits (torch: [49, 49, 4611686014132420609]).
    const ip = runOn((i) => i.i!.pow(2), ints);
    expect(ip.outputs[0]!.node.type.dtype).toBe('i32');
    expect(Array.from(interpret(ip, feeds).y!)).toEqual([49, 49, 1]);
    expect(() => runOn((i) => i.i!.pow(-1), ints)).toThrow(/^pow: integers to negative integer powers are not allowed \(torch raises\), got i32\[3\] to -1; cast first: x\.float\(\)\.pow\(-1\)$/);
  });

  test("expand takes torch's -1 (keep this dim); -1 in a new leading dim is refused, as torch does", () => {
    // torch: x[:, :1].expand(-1, 3) on [[1, 2, 3, 4], [5, 6, 7, 8]] → [[1, 1, 1], [5, 5, 5]]; expand(2, -1, 3) → [2, 2, 3].
    const x = Float32Array.of(1, 2, 3, 4, 5, 6, 7, 8);
    expect(Array.from(interpret(runOn((i) => i.x!.slice(1, 0, 1).expand(-1, 3)), { x }).y!)).toEqual([1, 1, 1, 5, 5, 5]);
    expect(runOn((i) => i.x!.slice(1, 0, 1).expand(2, -1, 3)).outputs[0]!.node.type.shape).toEqual([2, 2, 3]);
    expect(() => runOn((i) => i.x!.expand(-1, -1, 4))).toThrow('expand: -1 is not allowed in a new leading dim (dim 0 of [-1, -1, 4] for a tensor [2, 4])');
  });

  test('select names an index out of range (was "slice: range 4:4:1 is invalid"); torch raises there too', () => {
    expect(() => runOn((i) => i.x!.select(0, 2))).toThrow('select: index 2 is out of range for dim 0 of size 2 (tensor [2, 4]): it must be an integer in [-2, 2)');
    expect(() => runOn((i) => i.x!.select(-1, -5))).toThrow('select: index -5 is out of range for dim -1 of size 4 (tensor [2, 4])');
    expect(() => runOn((i) => i.x!.select(1, 1.5))).toThrow('it must be an integer in [-4, 4)');
    expect(Array.from(interpret(runOn((i) => i.x!.select(1, -4)), { x: Float32Array.of(1, 2, 3, 4, 5, 6, 7, 8) }).y!)).toEqual([1, 5]);
  });

  test("a module's own parameters and children are checked where they are declared", () => {
    class P extends Module {
      w: unknown;
      constructor(name: unknown, shape: unknown, init?: unknown) { super(); this.w = this.param(name as never, shape as never, init as never); }
      forward(x: Tensor) { return x; }
    }
    expect(() => new P('w', null)).toThrow("P: parameter 'w' needs a shape (an array of positive integers), got null"); // null.every
    for (const name of ['', 'a.b', 5]) expect(() => new P(name, [4])).toThrow(`P: a parameter's name must be a non-empty string without '.', got ${JSON.stringify(name)}`);
    // An unknown initializer was drawn as a normal of std undefined: NaN weights, silently.
    expect(() => new P('w', [4], { foo: 1 })).toThrow(`P: parameter 'w' init must be 'zeros', 'ones', { uniform: bound } or { normal: std, zeroRow? } with finite numbers ≥ 0, got {"foo":1}`);
    expect(() => new P('w', [4], { uniform: -1 })).toThrow('got {"uniform":-1}');
    expect(() => new P('w', [4], 'random')).toThrow('got "random"');
    class Twice extends Module { a = this.param('w', [2]); b = this.param('w', [2]); forward(x: Tensor) { return x; } }
    expect(() => new Twice()).toThrow("Twice: parameter 'w' is registered twice");
    // A parent kept as a child attribute: the walk over children overflowed the stack.
    class Child extends Module { constructor(public parent: Module) { super(); } forward(x: Tensor) { return x; } }
    class Parent extends Module { lin = new nn.Linear(2, 2); child = new Child(this); forward(x: Tensor) { return this.child.call(this.lin.call(x)); } }
    expect(() => traceModel(defineModel({ name: 'c', module: new Parent(), inputs: { x: [1, 2] } }))).toThrow("Parent 'child.parent' is the module '<root>' it sits in: a module cannot contain itself");
    expect(() => new Parent().stateDict()).toThrow('a module cannot contain itself');
    class Kept extends Module { lin = new nn.Linear(2, 2); child = new (class extends Module { constructor(public _parent: Module) { super(); } forward(x: Tensor) { return x; } })(this); forward(x: Tensor) { return this.lin.call(x); } }
    expect([...new Kept().stateDict().keys()]).toEqual(['lin.weight', 'lin.bias']);
    const ok = new P('w', [2], 'ones');
    expect(Array.from((ok.w as { data: Float32Array }).data)).toEqual([1, 1]);
  });

  test('a layer called without a tensor says what it got (was x.size is not a function)', () => {
    const lin = new nn.Linear(4, 4);
    const run = (f: () => unknown) => traceModel(defineModel({ name: 'c', module: lin, inputs: { x: [2, 4] }, forward: () => ({ y: f() as Tensor }) }));
    // F.linear names its argument itself now (the module's catch-all quoted 'x.size is not a function').
    expect(() => run(() => lin.call(5 as never))).toThrow("linear: input must be a tensor, got 5 in module '<root>' (Linear)");
    expect(() => run(() => (lin.call as () => Tensor)())).toThrow(/^Linear '<root>': expected a tensor as the first argument, got no arguments \(does the model declare its inputs\?\)$/);
    expect(() => run(() => new nn.LSTM(4, 3).call('x' as never))).toThrow(`LSTM '<root>': expected a tensor as the first argument, got "x"`);
  });

  test('interpret and printGraph say what they take (were raw TypeErrors or garbage reads)', () => {
    const g = traceModel(defineModel({ name: 'l', module: new nn.Linear(2, 2), inputs: { x: [1, 2], t: { shape: [3], dtype: 'i32' } }, forward: (m, i) => ({ y: (m as nn.Linear).call(i.x!), t: i.t! }) }));
    const x = Float32Array.of(1, 2), t = Int32Array.of(0, 1, 2);
    for (const bad of [null, undefined, 5]) expect(() => interpret(g, bad as never)).toThrow(/^interpret: expected feeds, an object of typed arrays by input name, got /);
    expect(() => interpret(null as never, { x, t })).toThrow('interpret: expected an IR graph (traceModel(def) or importOnnx(bytes).graph), got null');
    expect(() => interpret(g, { x: 5 as never, t })).toThrow("interpret: input 'x' (f32) must be a Float32Array, got 5");
    // An i32 input fed as floats would be read bit for bit as garbage integers.
    expect(() => interpret(g, { x, t: Float32Array.of(0, 1, 2) })).toThrow("interpret: input 't' (i32) must be an Int32Array, got Float32Array");
    expect(Array.from(interpret(g, { x, t }).t!)).toEqual([0, 1, 2]);
    // An extra feed (a misspelt name) was ignored; the runtime refuses it too.
    expect(() => interpret(g, { x, t, z: x })).toThrow("interpret: unknown input 'z' (the graph's inputs: x, t)");
    expect(() => printGraph(undefined as never)).toThrow('printGraph: expected an IR graph (traceModel(def) or importOnnx(bytes).graph), got undefined');
  });

  test('interpret on a graph with named sizes reads them off the feeds, as run() does (ran at the bounds and said only "expected 6")', () => {
    const g = traceModel(defineModel({ name: 's', module: new nn.ReLU(), inputs: { x: { shape: ['B', 2], max: { B: 3 } } } }));
    const x = Float32Array.of(-1, 2, 3, -4);
    expect(Array.from(interpret(g, { x }).y!)).toEqual([0, 2, 3, 0]);
    expect(Array.from(interpret(g, { x: { data: x, shape: [2, 2] } }).y!)).toEqual([0, 2, 3, 0]);
    expect(() => interpret(g, { x: x.subarray(0, 3) })).toThrow("interpret: input 'x': 3 values do not fill [B, 2] (3 is not a multiple of 2)");
    expect(() => interpret(g, { x: new Float32Array(8) })).toThrow("interpret: input 'x': dim 0 is size 'B', which must be an integer in [1, 3]; 8 values make it 4");
    expect(() => interpret(g, { x }, undefined, { B: 1 })).toThrow("interpret: input 'x' has 4 values, expected 2 (shape [1, 2] at B = 1)");
    expect(Array.from(interpret(g, { x }, undefined, { B: 2 }).y!)).toEqual([0, 2, 3, 0]);
  });
});

describe('defineModel checks the definition where it is written', () => {
  const lin = () => new nn.Linear(4, 2);
  test('missing, misspelt and mistyped fields name the field and what was found', () => {
    for (const bad of [undefined, null, 5, [lin()]]) expect(() => defineModel(bad as never)).toThrow(/^defineModel: expected \{ name, module, inputs, forward\?, weights\?, \.\.\. \}, got /);
    expect(() => defineModel({ module: lin(), inputs: { x: [1, 4] } } as never)).toThrow('defineModel: name must be a non-empty string, got undefined');
    expect(() => defineModel({ name: '', module: lin(), inputs: { x: [1, 4] } })).toThrow('defineModel: name must be a non-empty string, got ""');
    expect(() => defineModel({ name: 'a', inputs: { x: [1, 4] } } as never)).toThrow("defineModel 'a': module must be an nn.Module (a layer, nn.Sequential or a subclass of nn.Module), got undefined");
    expect(() => defineModel({ name: 'a', module: (x: Tensor) => x, inputs: { x: [1, 4] } } as never)).toThrow("defineModel 'a': module must be an nn.Module (a layer, nn.Sequential or a subclass of nn.Module), got a function");
    expect(() => defineModel({ name: 'a', module: lin() } as never)).toThrow("defineModel 'a': inputs must be an object of input shapes by name, e.g. { x: [1, 784] }; got undefined");
    expect(() => defineModel({ name: 'a', module: lin(), inputs: [[1, 4]] } as never)).toThrow('inputs must be an object of input shapes by name, e.g. { x: [1, 784] }; got an array of 1');
    expect(() => defineModel({ name: 'a', module: lin(), inputs: { x: [1, 4] }, fowrard: () => 0 } as never)).toThrow("defineModel 'a': unknown option 'fowrard' (allowed: name, description, module, inputs, forward");
    expect(() => defineModel({ name: 'a', module: lin(), inputs: { x: [1, 4] }, forward: 5 } as never)).toThrow("defineModel 'a': forward must be a function (module, inputs) => outputs, got 5");
    expect(() => defineModel({ name: 'a', module: lin(), inputs: { x: [1, 4] }, weights: 5 } as never)).toThrow("defineModel 'a': weights must be a string, got 5");
    expect(() => defineModel({ name: 'a', module: lin(), inputs: { x: [1, 4] }, entries: [] } as never)).toThrow("defineModel 'a': entries must be an object, got an array of 0");
  });

  test('input specs: not a shape, a shape of non-integers, a spec without a shape, an unknown dtype', () => {
    const def = (x: unknown) => ({ name: 'a', module: lin(), inputs: { x } }) as never;
    expect(() => traceModel(def(4))).toThrow("input 'x': expected a shape (an array of positive integers) or { shape, dtype }, got 4");
    expect(() => traceModel(def([1, '4']))).toThrow("input 'x': shape [1,\"4\"] must be positive integers");
    // A bigint dim showed as the number it holds: 'shape [1,4] must be positive integers'.
    expect(() => traceModel(def([1n, 4]))).toThrow("input 'x': shape [1n,4] must be positive integers");
    expect(() => traceModel(def({ dtype: 'i32' }))).toThrow("input 'x': expected a shape (an array of positive integers), got undefined");
    expect(() => traceModel(def({ shape: [1, 4], dtype: 'f64' }))).toThrow("input 'x': dtype must be one of f32, i32, bool, got \"f64\"");
    expect(() => traceModel(def({ shap: [1, 4] }))).toThrow("input 'x': unknown option 'shap' (allowed: shape, dtype, max, min)");
    // Compiled before, but run({ __proto__: x }) sets a prototype: the input could never be fed.
    expect(() => traceModel({ name: 'p', module: lin(), inputs: JSON.parse('{"__proto__": [1, 4]}') })).toThrow("input name '__proto__' cannot be given in an object literal of inputs or outputs; choose another name");
  });

  test("PyTorch's positional mask (layer(src, mask)) names the key it goes in by, not one of the tensor's fields", () => {
    const trace = (module: nn.Module, inputs: Record<string, number[]>, forward: (m: never, i: Record<string, Tensor>) => Tensor) =>
      () => traceModel({ name: 'm', module, inputs, forward: (m, i) => ({ y: forward(m as never, i) }) });
    const enc = new nn.TransformerEncoderLayer(8, 2, { batchFirst: true, dropout: 0 });
    expect(trace(enc, { x: [1, 4, 8], m: [4, 4] }, (m: nn.TransformerEncoderLayer, i) => m.call(i.x!, i.m as never)))
      .toThrow('TransformerEncoderLayer.forward: options must be an object with keys among srcMask, srcKeyPaddingMask, isCausal, cache; got Tensor [4, 4]: a mask goes in by name, as { srcMask: tensor }');
    const mha = new nn.MultiheadAttention(8, 2, { batchFirst: true });
    expect(trace(mha, { x: [1, 4, 8], m: [1, 4] }, (m: nn.MultiheadAttention, i) => m.call(i.x!, i.x!, i.x!, i.m as never)[0]))
      .toThrow('got Tensor [1, 4]: a mask goes in by name, as { keyPaddingMask: tensor }');
    const tr = new nn.Transformer(8, 2, { numEncoderLayers: 1, numDecoderLayers: 1, dimFeedforward: 16, dropout: 0, batchFirst: true });
    expect(trace(tr, { s: [1, 4, 8], t: [1, 3, 8], m: [4, 4] }, (m: nn.Transformer, i) => m.call(i.s!, i.t!, i.m as never)))
      .toThrow('got Tensor [4, 4]: a mask goes in by name, as { srcMask: tensor }');
  });

  test('output names that would be ignored, and an async forward, are refused', () => {
    const def = (forward: (m: nn.Module, i: Record<string, Tensor>) => unknown, outputNames?: string[]) => ({ name: 'o', module: new nn.ReLU(), inputs: { x: [2] }, forward, outputNames } as never);
    expect(() => traceModel(def((m, i) => i.x!.relu(), ['a', 'b']))).toThrow('forward returned one tensor but 2 output names were given');
    expect(() => traceModel(def((m, i) => ({ p: i.x!, q: i.x!.relu() }), ['a', 'b']))).toThrow('output names were given, but forward() returned a record, whose keys name its outputs (p, q)');
    for (const f of [async (m: nn.Module, i: Record<string, Tensor>) => i.x!.relu(), async () => { throw new Error('late'); }]) expect(() => traceModel(def(f))).toThrow('forward() returned a Promise: tracing is synchronous, so forward() must not be async');
    expect(traceModel(def((m, i) => i.x!.relu(), ['a'])).outputs.map((o) => o.name)).toEqual(['a']);
  });

  test('an output that is not a tensor says what it is (an LSTM used whole returns [y, [h, c]])', () => {
    expect(() => traceModel({ name: 'l', module: new nn.LSTM(4, 2), inputs: { x: [3, 1, 4] } }))
      .toThrow("output 'y1' is an array of 2, not a tensor: forward() must return a tensor, an array of tensors or a record of tensors (a module that returns nested arrays, like nn.LSTM's [y, [h, c]], needs a forward in the definition that picks the tensors, e.g. { y, h, c })");
  });
});

describe('layer arguments and dims are checked where they are given', () => {
  test('reshape, view, permute and expand take the shape as one list, as PyTorch does (reshape([3, 2]) said "cannot reshape [2, 3] (6 elements) to [3,2]")', () => {
    const shapes = (f: (x: Tensor) => Tensor) => traceModel({ name: 'l', module: new nn.Sequential(), inputs: { x: [2, 3] }, forward: (_m, i) => f(i.x!) }).outputs[0]!.node.type.shape;
    expect(shapes((x) => x.reshape([3, 2]))).toEqual([3, 2]);
    expect(shapes((x) => x.reshape([-1]))).toEqual([6]);
    expect(shapes((x) => x.view([1, 6]))).toEqual([1, 6]);
    expect(shapes((x) => x.permute([1, 0]))).toEqual([3, 2]);
    expect(shapes((x) => x.reshape(1, 2, 3).expand([4, 2, 3]))).toEqual([4, 2, 3]);
    expect(() => shapes((x) => x.reshape([4, 2]))).toThrow('reshape: cannot reshape [2, 3] (6 elements) to [4, 2]');
  });

  test('permute names every dim once and a reduction each dim once, as torch (permute(0) of a 3-D tensor was the identity, mean([1, 1]) the mean over dim 1)', () => {
    const shapes = (f: (x: Tensor) => Tensor) => traceModel({ name: 'l', module: new nn.Sequential(), inputs: { x: [2, 3, 4] }, forward: (_m, i) => f(i.x!) }).outputs[0]!.node.type.shape;
    expect(shapes((x) => x.permute(2, 0, 1))).toEqual([4, 2, 3]);
    expect(shapes((x) => x.permute([0, 1, 2]))).toEqual([2, 3, 4]);
    expect(() => shapes((x) => x.permute(0))).toThrow('permute: dims [0] must name each of the 3 dims of [2, 3, 4] once');
    expect(() => shapes((x) => x.permute(0, 1))).toThrow('permute: dims [0, 1] must name each of the 3 dims of [2, 3, 4] once');
    expect(() => shapes((x) => x.permute(1, -2, 0))).toThrow('permute: dims [1, -2, 0] must name each of the 3 dims of [2, 3, 4] once');
    expect(shapes((x) => x.mean([0, -1], true))).toEqual([1, 3, 1]);
    expect(() => shapes((x) => x.mean([1, 1]))).toThrow('dim 1 appears more than once in the dims [1, 1]');
    expect(() => shapes((x) => x.sum([2, -1]))).toThrow('dim 2 appears more than once in the dims [2, -1]');
    expect(() => shapes((x) => x.prod([0, 0], true))).toThrow('dim 0 appears more than once in the dims [0, 0]');
  });

  const img = (module: nn.Module) => ({ name: 'c', module, inputs: { x: [1, 1, 8, 8] } });
  test('convolution and pooling sizes: zero, negative, fractional, strings and missing are refused, naming the option', () => {
    // All of these used to be accepted (stride 0, padding -1 and 1.5, kernel 0) or crash (a missing kernel_size: "… is not iterable").
    expect(() => new nn.Conv2d(1, 8, undefined as never)).toThrow('Conv2d: kernel_size must be a positive integer or a pair of them, got undefined');
    expect(() => new nn.Conv2d(1, 8, [3] as never)).toThrow('Conv2d: kernel_size must be a positive integer or a pair of them, got [3]');
    expect(() => new nn.Conv2d(1, 8, 3, { stride: 0 })).toThrow('Conv2d: stride must be a positive integer or a pair of them, got 0');
    expect(() => new nn.Conv2d(1, 8, 3, { padding: -1 })).toThrow('Conv2d: padding must be a non-negative integer or a pair of them, got -1');
    expect(() => new nn.Conv2d(1, 8, 3, { padding: 1.5 })).toThrow('got 1.5');
    expect(() => new nn.Conv2d(1, 8, 3, { padding: 'full' as never })).toThrow('Conv2d: padding must be a non-negative integer or a pair of them, got "full"');
    expect(() => new nn.Conv2d(1, 8, 3, { dilation: [1, 0] })).toThrow('Conv2d: dilation must be a positive integer or a pair of them, got [1, 0]');
    expect(() => new nn.MaxPool2d(0)).toThrow('MaxPool2d: kernel_size must be a positive integer or a pair of them, got 0');
    expect(() => new nn.MaxPool2d('2' as never)).toThrow('MaxPool2d: kernel_size must be a positive integer or a pair of them, got "2"');
    expect(() => new nn.AvgPool2d(2, { stride: -2 })).toThrow('AvgPool2d: stride must be a positive integer or a pair of them, got -2');
    const f = (fwd: (x: Tensor) => Tensor) => ({ ...img(new nn.Identity()), forward: (_m: nn.Module, i: Record<string, Tensor>) => fwd(i.x!) });
    expect(() => traceModel(f((x) => F.maxPool2d(x, 2, { stride: 0 })))).toThrow("max_pool2d: stride must be a positive integer or a pair of them, got 0");
    expect(() => traceModel(f((x) => F.avgPool2d(x, 0)))).toThrow('avg_pool2d: kernel_size must be a positive integer or a pair of them, got 0');
  });

  test('a dim out of range or not an integer names the module', () => {
    expect(() => traceModel({ name: 's', module: new nn.Softmax(5), inputs: { x: [1, 4] } })).toThrow("dim 5 is out of range for a tensor of rank 2 (expected a dim in [-2, 1]) in module '<root>' (Softmax)");
    expect(() => traceModel({ name: 's', module: new nn.Flatten(7), inputs: { x: [1, 4] } })).toThrow("dim 7 is out of range for a tensor of rank 2 (expected a dim in [-2, 1]) in module '<root>' (Flatten)");
    expect(() => new nn.Softmax(0.5)).toThrow('Softmax: dim must be an integer, got 0.5');
  });

  test('Sequential takes modules only', () => {
    expect(() => new nn.Sequential(5 as never)).toThrow('Sequential: argument 0 must be an nn.Module, got 5');
    expect(() => new nn.Sequential(new nn.ReLU(), [new nn.ReLU()] as never)).toThrow('Sequential: argument 1 must be an nn.Module, got an array of 1 (spread it: new nn.Sequential(...layers))');
    expect(() => new nn.Sequential(nn.ReLU as never)).toThrow('Sequential: argument 0 must be an nn.Module, got a function (the class itself? use new ReLU(...))');
  });
});

test("F holds torch.nn.functional's ops, not the helpers the layers and the ONNX importer share", () => {
  expect(Object.keys(F).sort()).toEqual(['adaptiveAvgPool1d', 'adaptiveAvgPool2d', 'adaptiveAvgPool3d', 'adaptiveMaxPool1d', 'adaptiveMaxPool2d', 'adaptiveMaxPool3d', 'affineGrid', 'avgPool1d', 'avgPool2d', 'avgPool3d', 'batchNorm', 'causalMask',
    'celu', 'conv1d', 'conv2d', 'conv3d', 'convTranspose1d', 'convTranspose2d', 'convTranspose3d', 'cosineSimilarity', 'dropout', 'einsum', 'elu', 'embedding', 'embeddingBag', 'fold', 'gather', 'gelu', 'geluTanh',
    'glu', 'gridSample', 'groupNorm', 'hardshrink', 'hardsigmoid', 'hardswish', 'hardtanh', 'interpolate', 'layerNorm', 'leakyRelu', 'linear', 'localResponseNorm', 'logSoftmax', 'logsigmoid', 'lpPool1d',
    'lpPool2d', 'maxPool1d', 'maxPool2d', 'maxPool3d', 'maxUnpool1d', 'maxUnpool2d', 'maxUnpool3d', 'mish', 'normalize', 'oneHot', 'pad', 'pairwiseDistance', 'pixelShuffle', 'pixelUnshuffle',
    'prelu', 'relu', 'relu6', 'rrelu', 'scaledDotProductAttention', 'selu', 'sigmoid', 'silu', 'sinusoidalPositionalEncoding', 'softmax', 'softmin', 'softplus', 'softshrink', 'softsign', 'tanh',
    'tanhshrink', 'threshold', 'topk', 'unfold', 'where', 'whereOp',
    // the losses (losses.ts)
    'crossEntropy', 'nllLoss', 'mseLoss', 'l1Loss', 'smoothL1Loss', 'huberLoss', 'binaryCrossEntropy', 'binaryCrossEntropyWithLogits', 'klDiv', 'marginRankingLoss',
    'hingeEmbeddingLoss', 'softMarginLoss', 'cosineEmbeddingLoss', 'tripletMarginLoss', 'poissonNllLoss', 'gaussianNllLoss'].sort());
  for (const k of Object.keys(F)) expect(typeof (F as Record<string, unknown>)[k], k).toBe('function');
});
