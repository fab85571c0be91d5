// The compiler's edges: models it cannot build are refused before asc with an error naming the
// option, the output or the tensor; entry names that collide with wasm exports or AssemblyScript
// builtins still compile; and an AssemblyScript crash is an exception, not the process's end.
import { describe, expect, test } from 'vitest';
import { assemble } from '../compiler/codegen/assemble.ts';
import { compileModel } from '../compiler/driver/compile.ts';
import { defineGPT, GPT, nn, traceModel, type ModelDefinition, type Tensor } from '../compiler/dsl/index.ts';
import { compileGraph as publicCompileGraph, compileModel as publicCompileModel, printGraph, runPasses, trace } from '../compiler/index.ts';
import { loadModel } from '../runtime/index.ts';
import { MAX_NAME as RUNTIME_MAX_NAME } from '../runtime/format.ts';
import { MAX_NAME } from '../compiler/ir/types.ts';

class Id extends nn.Module { forward(x: Tensor) { return x; } }

describe('models that cannot be built are refused naming the cause', () => {
  test('a forward() with no outputs', async () => {
    for (const ret of [{}, []]) {
      await expect(compileModel({ name: 'none', module: new Id(), inputs: { x: [2] }, forward: () => ret as never })).rejects.toThrow('forward() returned no outputs');
    }
    await expect(compileModel({ name: 'five', module: new Id(), inputs: { x: [2] }, forward: () => 5 as never })).rejects.toThrow('forward() must return a tensor, an array of tensors or a record of tensors; it returned number');
    await expect(compileModel({ name: 'arr', module: new Id(), inputs: { x: [2] }, forward: (_m, i) => [i.x!, 5] as never })).rejects.toThrow("output 'y1' is 5, not a tensor");
    await expect(compileModel({ name: 'nl', module: new Id(), inputs: { 'x\nexport function memory(): void {}': [2] } })).rejects.toThrow('input name "x\\nexport function memory(): void {}" must be 1 to 100 characters on one line');
  });

  test('sizes past wasm32 memory, naming the tensor, before asc', async () => {
    const big: ModelDefinition = { name: 'big', module: new Id(), inputs: { x: [40000, 40000] }, forward: (_m, i) => i.x!.relu() };
    await expect(compileModel(big)).rejects.toThrow("model 'big' needs at least 6400000000 bytes of memory; wasm32 allows 4 GiB; the largest tensor is input 'x' f32[40000, 40000] (6400000000 bytes)");
    const many: ModelDefinition = { name: 'many', module: new Id(), inputs: { x: [25000, 25000] }, forward: (_m, i) => i.x!.relu() };
    await expect(compileModel(many)).rejects.toThrow(/^model 'many' needs at least \d+ bytes of memory \(weights \d+, state 0, activations \d+\); wasm32 allows 4 GiB; the largest tensor is /);
    expect(() => new nn.Linear(100000, 100000)).toThrow("Linear: parameter 'weight' [100000, 100000] needs 40000000000 bytes; wasm32 memory holds 4 GiB");
  });

  test('an input or output of more than 8 dims is named before asc (was an invalid-manifest error after the whole compile)', async () => {
    const nine = [1, 1, 1, 1, 1, 1, 1, 1, 2];
    await expect(compileModel({ name: 'r9', module: new Id(), inputs: { x: nine }, forward: (_m, i) => i.x!.relu() }))
      .rejects.toThrow("model 'r9': entry 'run' input 'x' has 9 dims [1, 1, 1, 1, 1, 1, 1, 1, 2]; an artifact's inputs, outputs and state have at most 8");
    const stages: string[] = [];
    await expect(compileModel({ name: 'o9', module: new Id(), inputs: { x: [2] }, forward: (_m, i) => ({ y: i.x!.reshape(...nine) }) }, { onStage: (s) => stages.push(s) }))
      .rejects.toThrow("model 'o9': entry 'run' output 'y' has 9 dims");
    expect(stages).not.toContain('asc+binaryen wasmsimd');
  });

  test('a tensor kept from another trace is named (was "codegen: no memory planned for %N (input)")', async () => {
    let kept: Tensor | undefined;
    await compileModel({ name: 'a', module: new Id(), inputs: { x: [4] }, forward: (_m, i) => { kept = i.x!.relu(); return kept; } }, { isas: ['wasmsimd'] });
    await expect(compileModel({ name: 'b', module: new Id(), inputs: { x: [4] }, forward: (_m, i) => i.x!.add(kept!) }))
      .rejects.toThrow("forward() uses a tensor computed from input 'x' of another trace (kept from an earlier compile or another entry); use only tensors computed in this forward() from its own inputs");
  });

  test('a state shape is checked though no entry reads it (a named size gave "needs at least NaN bytes", a 0 was accepted)', async () => {
    const lin = () => new nn.Linear(3, 2);
    await expect(compileModel({ name: 'd', module: lin(), inputs: { x: [1, 3] }, state: { h: { shape: ['B', 3], max: { B: 2 } } } } as never))
      .rejects.toThrow("state 'h': shape [\"B\",3] must be positive integers (state has a fixed size)");
    await expect(compileModel({ name: 'd', module: lin(), inputs: { x: [1, 3] }, state: { h: [0, 3] } })).rejects.toThrow("state 'h': shape [0,3] must be positive integers (state has a fixed size)");
  });

  test('a name longer than the artifact holds is refused before the compile (was a manifest error after it)', async () => {
    // The compiler's limit is the runtime's (two constants: the IR may not import the runtime).
    expect(MAX_NAME).toBe(RUNTIME_MAX_NAME);
    const lin = () => new nn.Linear(3, 2);
    await expect(compileModel({ name: 'a'.repeat(201), module: lin(), inputs: { x: [1, 3] } })).rejects.toThrow(`defineModel '${'a'.repeat(60)}': name must be at most 200 characters, got 201`);
    const g = traceModel({ name: 'g', module: lin(), inputs: { x: [1, 3] } });
    for (const name of ['', 'a'.repeat(201)]) await expect(publicCompileGraph(g, { name })).rejects.toThrow('compileGraph(): option name must be a string of 1 to 200 characters');
  });

  test('the public runPasses and trace: the graph planned for wasm by default, bad arguments named (runPasses(g) failed after every pass asking for an unexported target; null was a raw TypeError)', () => {
    const g = trace(({ x }) => x!.relu().mul(2), { x: [2, 3] });
    const before = printGraph(g);
    expect(printGraph(runPasses(g))).toContain('elementwise(%0) {expr=mul(relu($0), 2)');
    expect(printGraph(g)).toBe(before); // a copy: the traced graph is unchanged
    expect(() => runPasses(null as never)).toThrow('runPasses(): expected an IR graph (traceModel(def) or importOnnx(bytes).graph), got null');
    expect(() => runPasses(g, 5 as never)).toThrow('runPasses(): options must be an object, got 5');
    expect(() => trace(null as never, { x: [2] })).toThrow('trace(): expected a function (inputs) => outputs, got null');
  });

  test('constructor options are checked by their PyTorch names', () => {
    expect(() => new nn.Linear(-5, 10)).toThrow('Linear: in_features must be a positive integer, got -5');
    expect(() => new nn.Linear(5, 2.5)).toThrow('Linear: out_features must be a positive integer, got 2.5');
    expect(() => new nn.Conv2d(3, 0, 3)).toThrow('Conv2d: out_channels must be a positive integer, got 0');
    expect(() => new nn.Conv2d(3, 4, [3, -1])).toThrow('Conv2d: kernel_size must be a positive integer or a pair of them, got [3, -1]');
    expect(() => new nn.Embedding(10, NaN)).toThrow('Embedding: embedding_dim must be a positive integer, got NaN');
    expect(() => new nn.LSTM(4, 0)).toThrow('LSTM: hidden_size must be a positive integer, got 0');
    expect(() => new nn.GRU(4, 3, { numLayers: 0 })).toThrow('GRU: num_layers must be a positive integer, got 0');
    expect(() => new nn.MultiheadAttention(8, 0)).toThrow('MultiheadAttention: num_heads must be a positive integer, got 0');
    expect(() => new GPT({ vocab: 10, context: 0, dModel: 8, nhead: 2, layers: 1, dimFeedforward: 16 })).toThrow('GPT: context must be a positive integer, got 0');
    // A key GPT does not read (a typo, or dropout, which its blocks do not have) is an error, not ignored.
    expect(() => new GPT({ vocab: 10, context: 8, dModel: 8, nhead: 2, layers: 1, dimFeedforward: 16, dropout: 0.1 } as never))
      .toThrow("GPT: unknown option 'dropout' (allowed: vocab, context, dModel, nhead, layers, dimFeedforward)");
    expect(() => new GPT({ vocab: 10, context: 8, dModel: 8, nhead: 2, layers: 1, dim_feedforward: 16 } as never)).toThrow("GPT: unknown option 'dim_feedforward'");
    const gpt = new GPT({ vocab: 10, context: 8, dModel: 8, nhead: 2, layers: 1, dimFeedforward: 16 });
    expect(() => defineGPT({ name: 'g', module: gpt, tokens: [1, 8], capacity: 0 })).toThrow('defineGPT: capacity must be a positive integer, got 0');
    expect(() => defineGPT({ name: 'g', module: gpt, tokens: [1, 8], chunk: -1 })).toThrow('defineGPT: chunk must be a positive integer, got -1');
    // These were raw TypeErrors ("Cannot read properties of undefined (reading 'context')").
    expect(() => defineGPT(undefined as never)).toThrow('defineGPT: expected { name, module, tokens, capacity?, chunk?, batch?, weights? }, got undefined');
    expect(() => defineGPT({ name: 'g', module: new nn.Linear(2, 2) as never, tokens: [1, 8] })).toThrow('defineGPT: module must be a GPT (new GPT({ vocab, context, dModel, nhead, layers, dimFeedforward })), got Linear');
    expect(() => defineGPT({ name: 'g', module: gpt } as never)).toThrow("defineGPT: tokens must be the run() input's shape [batch, length] of positive integers, got undefined");
    expect(() => defineGPT({ name: 'g', module: gpt, tokens: 8 as never })).toThrow("defineGPT: tokens must be the run() input's shape [batch, length] of positive integers, got 8");
  });
});

describe('size names', () => {
  test('a size named like a property of every object is refused by name (was "input \'function Object() { [native code] }\' bounds it")', async () => {
    for (const name of ['constructor', 'toString', 'valueOf', '__proto__']) {
      const def: ModelDefinition = { name: 's', module: new Id(), inputs: { x: { shape: [name, 4], max: { [name]: 4 } } }, forward: (_m, i) => i.x!.relu() };
      await expect(compileModel(def)).rejects.toThrow(`input 'x': size name '${name}' is a property of every JavaScript object; choose another name`);
    }
  });
  test("a size named like the shape checker's stand-ins for floors (floor__0) is refused by name; 'floor' itself is a size like any", async () => {
    const def = (name: string): ModelDefinition => ({ name: 's', module: new Id(), inputs: { x: { shape: [name, 4], max: { [name]: 4 } } }, forward: (_m, i) => i.x!.relu() });
    await expect(compileModel(def('floor__0'))).rejects.toThrow("input 'x': size name 'floor__0' is reserved (the compiler names floors of sizes so while it checks shapes); choose another name");
    expect(traceModel(def('floor')).outputs[0]!.node.type.dims).toEqual(['floor', 4]);
  });
});

describe('names that collide with wasm or AssemblyScript', () => {
  test('entries named memory, abort, f32 and load compile and run', async () => {
    const step = (f: (x: Tensor) => Tensor) => ({ inputs: { memory: [3] }, forward: (_m: nn.Module, i: Record<string, Tensor>) => ({ outputs: { memory: f(i.memory!) } }) });
    const def: ModelDefinition = {
      name: 'memory', module: new Id(), inputs: { memory: [3] }, forward: (_m, i) => ({ abort: i.memory!.relu() }),
      entries: { memory: step((x) => x.mul(2)), abort: step((x) => x.add(1)), f32: step((x) => x.neg()), load: step((x) => x.mul(x)) },
    };
    const m = await loadModel((await compileModel(def, { isas: ['wasmsimd'] })).bytes);
    const x = Float32Array.of(-1, 2, 3);
    expect(Array.from(m.run({ memory: x }).abort!)).toEqual([0, 2, 3]);
    expect(Array.from(m.call('memory', { memory: x }).memory!)).toEqual([-2, 4, 6]);
    expect(Array.from(m.call('abort', { memory: x }).memory!)).toEqual([0, 3, 4]);
    expect(Array.from(m.call('f32', { memory: x }).memory!)).toEqual([1, -2, -3]);
    expect(Array.from(m.call('load', { memory: x }).memory!)).toEqual([1, 4, 9]);
  });

  test('an AssemblyScript crash is an exception of the compile, not the end of the process', async () => {
    const crash = assemble({ sources: { '__model.ts': 'export function memory(): void {}\n' }, entry: '__model.ts', isa: 'wasmsimd', memoryBase: 1024, initialPages: 1 });
    await expect(crash).rejects.toThrow('AssemblyScript compilation of __model.ts failed: the AssemblyScript compiler crashed (exit 1)');
    expect(process.exitCode ?? 0).toBe(0);
  });
});

describe("the public compileModel ('simdflow') checks its arguments before compiling", () => {
  test('a missing definition and bad options are clear errors (were raw TypeErrors, or accepted, or a manifest error after the whole compile)', async () => {
    const def = { name: 'id', module: new Id(), inputs: { x: [4] } };
    const c = (d: unknown, o?: unknown) => publicCompileModel(d as never, o as never);
    await expect(c(undefined)).rejects.toThrow('compileModel(): expected a model definition, defineModel({ name, module, inputs, ... }), got undefined');
    await expect(publicCompileGraph(5 as never)).rejects.toThrow('compileGraph(): expected an IR graph (importOnnx(bytes).graph), got 5');
    await expect(c(def, null)).rejects.toThrow('compileModel(): options must be an object with keys among name, disablePasses, isas, attention, onStage; got null');
    await expect(c(def, 5)).rejects.toThrow('compileModel(): options must be an object');
    await expect(c(def, { isa: 'wasmsimd' })).rejects.toThrow("compileModel(): unknown option 'isa' (allowed: name, disablePasses, isas, attention, onStage)");
    await expect(c(def, { isas: ['x'] })).rejects.toThrow('compileModel(): option isas must be a non-empty array of wasmsimd, wasmrelaxedsimd; got an array of 1 (["x"])');
    await expect(c(def, { isas: [] })).rejects.toThrow('option isas must be a non-empty array');
    await expect(c(def, { isas: 'wasmsimd' })).rejects.toThrow('option isas must be a non-empty array of wasmsimd, wasmrelaxedsimd; got "wasmsimd"');
    await expect(c(def, { disablePasses: 'cse' })).rejects.toThrow('option disablePasses must be an array of pass names; got "cse"');
    await expect(c(def, { attention: 'fast' })).rejects.toThrow("option attention must be 'auto', 'fused' or 'unfused'; got \"fast\"");
    await expect(c(def, { onStage: 'log' })).rejects.toThrow('option onStage must be a function; got "log"');
    await expect(c({})).rejects.toThrow('defineModel: name must be a non-empty string, got undefined');
  });
});

describe('dynamic slices and updates clamp their run-time index, by the definition of the op', () => {
  test('dynamicSlice and dynamicUpdate: the compiled code equals the reference, which clamps the index', async () => {
    const { trace } = await import('../compiler/dsl/trace.ts');
    const { interpret } = await import('../compiler/reference/interpret.ts');
    const g = trace(({ x, i }) => ({
      s: x!.dynamicSlice(0, i!, 2),                                  // rows i, i+1 of 5, i clamped to [0, 3]
      u: x!.dynamicUpdate(0, i!, x!.slice(0, 0, 2).neg()),           // rows 0, 1 negated, written at i clamped to [0, 3]
    }), { x: [5, 3], i: { shape: [], dtype: 'i32' } });
    const m = await loadModel((await publicCompileGraph(g, { name: 'clamps' })).bytes);
    const x = Float32Array.from({ length: 15 }, (_, k) => k + 1);
    const rows = (...r: number[]) => r.flatMap((k) => [3 * k + 1, 3 * k + 2, 3 * k + 3]);
    // i, and the rows dynamicSlice reads (and dynamicUpdate writes).
    for (const [i, s] of [[-4, [0, 1]], [0, [0, 1]], [1, [1, 2]], [3, [3, 4]], [9, [3, 4]]] as const) {
      const feeds = { x, i: Int32Array.of(i) }, want = interpret(g, feeds), got = m.run(feeds);
      expect(Array.from(want.s!), `s at ${i}`).toEqual(rows(...s));
      const u = Array.from(x);
      [0, 1].forEach((r) => rows(r).forEach((v, j) => { u[3 * (s[0] + r) + j] = -v; }));
      expect(Array.from(want.u!), `u at ${i}`).toEqual(u);
      for (const k of ['s', 'u']) expect(Array.from(got[k]!), `${k} at ${i}, compiled`).toEqual(Array.from(want[k]!));
    }
    m.dispose();
  }, 120_000);
});
