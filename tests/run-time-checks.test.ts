// Indices the compiled code only sees when it runs: an index computed inside the graph, a cache
// position or cache row. Where the reference interpreter raises (PyTorch's IndexError for an
// embedding; the KV cache's own rules, ir/ops/attention.ts), the compiled call fails with the
// same message (the wasm traps; runtime/threads.ts, trap), never a clamped or stray row, and the
// model then works on — or, where the call may have written part of a state tensor in place,
// refuses calls until that state is reset or set. ONNX Gather's run-time indices count from the
// end when negative.
import { describe, expect, test } from 'vitest';
import { manualSeed, nn } from '../compiler/index.ts';
import { compileEntries, compileModel } from '../compiler/driver/compile.ts';
import { trace, traceEntry, traceModel, type ModelDefinition } from '../compiler/dsl/trace.ts';
import { interpret } from '../compiler/reference/interpret.ts';
import { loadModelBytes } from '../runtime/model.ts';
import { embedding } from '../compiler/dsl/functional.ts';
import { constant, record } from '../compiler/dsl/tensor.ts';
import { instantiate } from '../compiler/ir/symbolic.ts';
import { importOnnx } from '../compiler/onnx/import.ts';
import { DT, OnnxGraph } from '../bench/onnx.ts';

type Feeds = Record<string, Float32Array | Int32Array>;

/** The reference's error for `feeds`, or undefined when it runs. */
function referenceError(def: ModelDefinition, feeds: Feeds): string | undefined {
  try { interpret(traceModel(def), feeds); return undefined; } catch (e) { return (e as Error).message; }
}

describe('an index computed inside the graph', () => {
  test('an embedding row from an argmax past the table: the compiled call fails as the reference does', async () => {
    manualSeed(3);
    const emb = new nn.Embedding(5, 4);
    // argmax over 8 logits picks 0..7; the table has rows 0..4.
    const def: ModelDefinition = { name: 'pick', module: emb, inputs: { logits: [2, 8] }, forward: (m, i) => ({ y: (m as nn.Embedding).call(i.logits!.argmax(1)) }) };
    const m = await loadModelBytes((await compileModel(def, { isas: ['wasmsimd'] })).bytes);
    const logits = (a: number, b: number) => { const x = new Float32Array(16); x[a] = 1; x[8 + b] = 1; return x; };
    for (const [a, b] of [[1, 4], [0, 6], [7, 2], [3, 3]] as const) {
      const feeds = { logits: logits(a, b) }, err = referenceError(def, feeds);
      if (a < 5 && b < 5) {
        expect(err, `${a}, ${b}`).toBeUndefined();
        const want = interpret(traceModel(def), feeds).y!;
        // Rows a and b of the table, exactly.
        expect(Array.from(m.run(feeds).y!)).toEqual(Array.from(want));
        expect(Array.from(want.slice(0, 4))).toEqual(Array.from(emb.weight.data.slice(4 * a, 4 * a + 4)));
      } else {
        const bad = a < 5 ? b : a;
        expect(err).toMatch(new RegExp(`^gather( in .+)?: index ${bad} is outside \\[0, 5\\)$`));
        expect(() => m.run(feeds)).toThrow(`model 'pick' run(): the wasm code trapped (${err})`);
      }
    }
    m.dispose();
  }, 120_000);

  test("ids given as an input into a table of a named number of rows: checked against the call's rows, not the bound", async () => {
    // The manifest range of ids would be [0, 5) at the bound: a row past the call's N would copy
    // whatever the arena held there (the row a larger call left).
    const g = trace(({ x, ids }) => embedding(ids!, x!.mul(2)), { x: { shape: ['N', 3], max: { N: 5 } }, ids: { shape: [2], dtype: 'i32' } });
    const c = await compileEntries([{ name: 'run', graph: g }], [], { name: 'rows', isas: ['wasmsimd'] });
    expect(c.manifest.entries.run!.inputs.find((i) => i.name === 'ids')!.range).toBeUndefined();
    const m = await loadModelBytes(c.bytes, { isa: 'wasmsimd' });
    const run = (n: number, ids: number[]) => {
      const x = Float32Array.from({ length: 3 * n }, (_, k) => k + 1), feeds = { x, ids: Int32Array.from(ids) };
      let err: string | undefined;
      try { interpret(instantiate(g, { N: n }), feeds); } catch (e) { err = (e as Error).message; }
      if (err) return expect(() => m.run({ x: { data: x, shape: [n, 3] }, ids: feeds.ids })).toThrow(`model 'rows' run(): the wasm code trapped (${err})`);
      expect(Array.from(m.run({ x: { data: x, shape: [n, 3] }, ids: feeds.ids }).y!)).toEqual(Array.from(interpret(instantiate(g, { N: n }), feeds).y!));
    };
    run(5, [4, 0]);
    expect(() => interpret(instantiate(g, { N: 2 }), { x: new Float32Array(6), ids: Int32Array.of(4, 0) })).toThrow('gather: index 4 is outside [0, 2)');
    run(2, [4, 0]);
    run(2, [1, -1]);
    run(2, [1, 0]);
    run(1, [0, 0]);
    m.dispose();
  }, 120_000);
});

describe("ONNX Gather's indices known only at run time", () => {
  // ONNX counts a negative index from the end: valid indices are [-rows, rows). Rows of
  // x[i][j] = 10i + j, so each output row names the row it came from.
  test('negative indices count from the end, given (the runtime checks them) or computed (the code does)', async () => {
    const g = new OnnxGraph();
    g.input('x', [5, 3]); g.input('ids', [4], DT.INT64);
    g.name(g.op1('Gather', ['x', 'ids'], { axis: 0 }), 'y');
    g.name(g.op1('Gather', ['x', g.op1('Sub', ['ids', g.ints('two', [], [2])])], { axis: 0 }), 'z');
    g.name(g.op1('Gather', ['x', g.ints('last', [1], [-1])], { axis: 1 }), 'w');
    g.output('y', [4, 3]); g.output('z', [4, 3]); g.output('w', [5, 1]);
    const { graph } = importOnnx(g.finish('gather', 13));
    const compiled = await compileEntries([{ name: 'run', graph }], [], { name: 'gather', isas: ['wasmsimd'] });
    expect(compiled.manifest.entries.run!.inputs.find((i) => i.name === 'ids')!.range).toEqual([-5, 5]);
    const m = await loadModelBytes(compiled.bytes, { isa: 'wasmsimd' });
    const x = Float32Array.from({ length: 15 }, (_, k) => 10 * Math.floor(k / 3) + (k % 3));
    const rows = (rs: number[]) => rs.flatMap((r) => [10 * r, 10 * r + 1, 10 * r + 2]);
    const ids = Int32Array.of(-1, 0, -3, 2), out = m.run({ x, ids });
    expect(Array.from(out.y!)).toEqual(rows([4, 0, 2, 2]));
    expect(Array.from(out.z!)).toEqual(rows([2, 3, 0, 0])); // ids − 2: -3, -2, -5, 0
    expect(Array.from(out.w!)).toEqual([2, 12, 22, 32, 42]);
    for (const k of ['y', 'z', 'w']) expect(Array.from(out[k]!)).toEqual(Array.from(interpret(graph, { x, ids })[k]!));
    // -6 and 5 are outside [-5, 5): refused before any wasm runs.
    expect(() => m.run({ x, ids: Int32Array.of(-6, 0, 0, 0) })).toThrow('outside the valid range [-5, 5)');
    expect(() => m.run({ x, ids: Int32Array.of(0, 5, 0, 0) })).toThrow('outside the valid range [-5, 5)');
    // ids − 2 computed in the graph: -4 − 2 = -6 traps with the reference's message.
    const bad = Int32Array.of(-4, 0, 0, 0);
    expect(() => interpret(graph, { x, ids: bad })).toThrow(/^gather( in .+)?: index -6 is outside \[-5, 5\)$/);
    let err = '';
    try { interpret(graph, { x, ids: bad }); } catch (e) { err = (e as Error).message; }
    expect(() => m.run({ x, ids: bad })).toThrow(`model 'gather' run(): the wasm code trapped (${err})`);
    expect(Array.from(m.run({ x, ids }).z!)).toEqual(rows([2, 3, 0, 0])); // and it runs on
    m.dispose();
  }, 120_000);
});

describe('state after a call that traps', () => {
  // kv: a cache written in place (cache_write into the state), read by what follows; s: state
  // written at the end of the call. The row the gather picks depends on the cache (·0), so the
  // cache is written before the gather traps.
  const build = () => traceEntry((i, st) => {
    const table = constant(Float32Array.from({ length: 10 }, (_, k) => k), [5, 2], 'f32', 'table');
    const kv = record('cache_write', [st.kv!, i.x!, i.pos!]);
    const y = embedding(i.logits!.add(kv.sum().mul(0)).argmax(1), table);
    return { outputs: { y }, state: { kv, s: st.s!.add(y.sum()) } };
  }, { x: [1, 1, 2], pos: { shape: [], dtype: 'i32' }, logits: [1, 8] }, { kv: [1, 4, 2], s: [1] });
  const state = [{ name: 'kv', type: { dtype: 'f32' as const, shape: [1, 4, 2] } }, { name: 's', type: { dtype: 'f32' as const, shape: [1] } }];
  const feeds = (pos: number, pick: number) => { const logits = new Float32Array(8); logits[pick] = 1; return { x: Float32Array.of(7, -7), pos: Int32Array.of(pos), logits }; };

  test('a cache written in place before the trap: calls are refused until reset() or setState(), then agree with the reference', async () => {
    const g = build();
    const c = await compileEntries([{ name: 'run', graph: g }], state, { name: 'st', isas: ['wasmsimd'] });
    expect(c.manifest.entries.run!.stateInPlace).toEqual(['kv']);
    for (const threads of [1, 2]) {
      const m = await loadModelBytes(c.bytes, { isa: 'wasmsimd', threads, threadPolicy: 'always' });
      expect(() => interpret(g, feeds(1, 6), { kv: new Float32Array(8), s: new Float32Array(1) })).toThrow('gather: index 6 is outside [0, 5)');
      expect(() => m.run(feeds(1, 6))).toThrow("the wasm code trapped (gather: index 6 is outside [0, 5)); state 'kv' may be partly written by a call that failed: reset() the model or setState() it first");
      expect(Array.from(m.state().kv!)).toEqual([0, 0, 7, -7, 0, 0, 0, 0]); // what the reference would never leave
      expect(() => m.run(feeds(0, 2))).toThrow("model 'st' run(): state 'kv' may be partly written by a call that failed: reset() the model or setState() it first");
      m.setState({ s: Float32Array.of(1) }); // not the stale tensor: still refused
      expect(() => m.run(feeds(0, 2))).toThrow("state 'kv' may be partly written");
      m.setState({ kv: new Float32Array(8) });
      const want = interpret(g, feeds(2, 3), { kv: new Float32Array(8), s: Float32Array.of(1) });
      expect(Array.from(m.run(feeds(2, 3)).y!)).toEqual(Array.from(want.y!));
      expect(Array.from(m.state().kv!)).toEqual(Array.from(want['state.kv']!));
      expect(Array.from(m.state().s!)).toEqual(Array.from(want['state.s']!));
      expect(() => m.run(feeds(0, 7))).toThrow("trapped (gather: index 7 is outside [0, 5)); state 'kv' may be partly written");
      m.reset();
      expect(Array.from(m.run(feeds(3, 4)).y!)).toEqual([8, 9]);
      m.dispose();
    }
  }, 120_000);

  test('state written only at the end of the call: a trap leaves it as it was, and the model works on', async () => {
    const g = traceEntry((i, st) => {
      const table = constant(Float32Array.from({ length: 10 }, (_, k) => k), [5, 2], 'f32', 'table');
      const y = embedding(i.logits!.argmax(1), table);
      return { outputs: { y }, state: { s: st.s!.add(y.sum()) } };
    }, { logits: [1, 8] }, { s: [1] });
    const c = await compileEntries([{ name: 'run', graph: g }], [state[1]!], { name: 'st', isas: ['wasmsimd'] });
    expect(c.manifest.entries.run!.stateInPlace).toBeUndefined();
    const m = await loadModelBytes(c.bytes, { isa: 'wasmsimd' });
    m.setState({ s: Float32Array.of(5) });
    expect(() => m.run({ logits: feeds(0, 6).logits })).toThrow(/trapped \(gather: index 6 is outside \[0, 5\)\)$/);
    expect(Array.from(m.state().s!)).toEqual([5]);
    expect(Array.from(m.run({ logits: feeds(0, 1).logits }).y!)).toEqual([2, 3]);
    expect(Array.from(m.state().s!)).toEqual([10]);
    m.dispose();
  }, 120_000);
});

describe('cache positions and rows', () => {
  // Two sequences of 3 new keys into a cache of 6 positions, at positions given as an input (one,
  // or one per sequence); with a first cache row (an input too), the cache holds 3 sequences.
  const cacheModel = (perSequence: boolean, row: boolean): ModelDefinition => {
    manualSeed(5);
    const mha = new nn.MultiheadAttention(8, 2, { batchFirst: true });
    return {
      name: 'kv', module: mha,
      inputs: { x: [2, 3, 8], pos: { shape: perSequence ? [2] : [], dtype: 'i32' }, row: { shape: [], dtype: 'i32' }, k: [row ? 3 : 2, 6, 8], v: [row ? 3 : 2, 6, 8] },
      forward: (mm, i) => ({ y: (mm as nn.MultiheadAttention).call(i.x!, i.x!, i.x!, { needWeights: false, cache: { k: i.k!, v: i.v!, pos: i.pos!, ...(row ? { row: i.row! } : {}) } })[0] }),
    };
  };
  const feedsOf = (pos: number[], row: number, Bc: number): Feeds => ({
    x: Float32Array.from({ length: 48 }, (_, k) => Math.sin(k)), pos: Int32Array.from(pos), row: Int32Array.of(row),
    k: Float32Array.from({ length: Bc * 48 }, (_, k) => Math.cos(k)), v: Float32Array.from({ length: Bc * 48 }, (_, k) => Math.sin(2 * k)),
  });

  test.each([
    ['one position', false, false, [[0], [3], [-1], [4], [9]]],
    ['a position per sequence', true, false, [[0, 3], [2, -2], [-1, 7], [4, 1], [1, 4]]],
    ['a cache row', false, true, [[0], [3], [-1], [4]]],
  ] as const)('%s: out of range fails as in the reference, in range equals it', async (_what, perSequence, row, positions) => {
    const def = cacheModel(perSequence, row);
    const m = await loadModelBytes((await compileModel(def, { isas: ['wasmsimd'] })).bytes);
    const rows = row ? [-1, 0, 1, 2] : [0];
    let failed = 0, ran = 0;
    for (const pos of positions) for (const r of rows) {
      const feeds = feedsOf([...pos], r, row ? 3 : 2), err = referenceError(def, feeds);
      if (err === undefined) {
        ran++;
        const got = m.run(feeds).y!, want = interpret(traceModel(def), feeds).y!;
        got.forEach((v, k) => expect(Math.abs(v - want[k]!), `pos ${pos}, row ${r}, y[${k}]`).toBeLessThan(1e-5));
      } else {
        failed++;
        expect(err).toMatch(/^KV cache in module '<root>' \(MultiheadAttention\): (rows -?\d+ \+ 2 do not fit its 3 rows|position -?\d+ \+ 3 new keys do not fit its 6 positions)$/);
        expect(() => m.run(feeds), `pos ${pos}, row ${r}`).toThrow(`model 'kv' run(): the wasm code trapped (${err})`);
      }
    }
    expect(ran).toBeGreaterThan(0);
    expect(failed).toBeGreaterThan(0);
    m.dispose();
  }, 120_000);
});
