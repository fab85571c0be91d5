// ONNX Mod at run time (the IR's fmod and remainder) against hand-computed values: one opset-13
// model, in the reference and compiled for every test ISA. fmod = 1 on f32 is C's exact fmod
// (±0, ±inf, NaN, a quotient past 2^24 where a − b·trunc(a/b) in f32 would be wrong); on int64
// (i32) both conventions, negative operands, MIN_VALUE % −1 and a broadcast divisor; a run-time
// zero divisor traps naming the node, and the model runs again afterwards. Compile-time operands
// fold with the same definitions. (The ONNX node tests test_mod_* are not among the fixtures.)
import { expect, test } from 'vitest';
import { DT, OnnxGraph } from '../../bench/onnx.ts';
import { compileGraph } from '../../compiler/index.ts';
import { importOnnx } from '../../compiler/onnx/import.ts';
import { interpret } from '../../compiler/reference/interpret.ts';
import { loadModelBytes } from '../../runtime/model.ts';
import { TEST_ISAS } from '../helpers/isa.ts';

const I32_MAX = 2147483647, I32_MIN = -2147483648;

function model() {
  const g = new OnnxGraph();
  g.input('fa', [12]); g.input('fb', [12]); g.input('ia', [9], DT.INT64); g.input('ib', [9], DT.INT64);
  const out = (v: string, name: string, dims: number[], dt: number = DT.FLOAT) => { g.name(v, name); g.output(name, dims, dt); };
  out(g.op1('Mod', ['fa', 'fb'], { fmod: 1 }), 'fmod_f', [12]);
  out(g.op1('Mod', ['ia', 'ib'], { fmod: 1 }), 'fmod_i', [9], DT.INT64);
  out(g.op1('Mod', ['ia', 'ib']), 'mod_i', [9], DT.INT64);
  out(g.op1('Mod', ['ia', g.ints('m3', [1], [-3])]), 'mod_i3', [9], DT.INT64);
  out(g.op1('Mod', [g.ints('ka', [3], [-7, 7, I32_MIN]), g.ints('kb', [3], [3, -3, -1])]), 'folded', [3], DT.INT64);
  return importOnnx(g.finish('mod', 13)).graph;
}

const feeds = {
  fa: Float32Array.of(5.5, -5.5, 5.5, -0, 7, Infinity, 3, NaN, 1e10, -1e10, 0.75, -0.75),
  fb: Float32Array.of(2, 2, -2, 3, 0, 2, -Infinity, 1, 3, 3, 0.25, 0.25),
  ia: Int32Array.of(7, -7, 7, -7, I32_MIN, I32_MIN, 6, -6, I32_MAX),
  ib: Int32Array.of(3, 3, -3, -3, -1, 1, 3, -3, -2),
};

const want: Record<string, number[]> = {
  // 1e10 = 3·3333333333 + 1 exactly (1e10 is an f32); 0.75 % 0.25 is +0, −0.75 % 0.25 is −0.
  fmod_f: [1.5, -1.5, 1.5, -0, NaN, NaN, 3, NaN, 1, -1, 0, -0],
  fmod_i: [1, -1, 1, -1, 0, 0, 0, 0, 1],                    // the dividend's sign
  mod_i: [1, 2, -2, -1, 0, 0, 0, 0, -1],                    // the divisor's sign
  mod_i3: [-2, -1, -2, -1, -2, -2, 0, 0, -2],               // 2^31 = 3·715827882 + 2
  folded: [2, -2, 0],
};

/** Equal element by element, telling −0 from +0 (toEqual treats them alike). */
function expectExact(got: ArrayLike<number>, w: number[], what: string) {
  expect(Array.from(got), what).toEqual(w);
  w.forEach((v, i) => expect(Object.is(got[i], v) || (v !== v && got[i] !== got[i]), `${what}[${i}] is ${got[i]}, want ${v}`).toBe(true));
}

// The first of the three integer Mods to run traps: fmod_i and mod_i read ib, whichever runs first.
const zero = { ib: Int32Array.of(3, 3, 0, -3, -1, 1, 3, -3, -2) };
const trap = /(fmod|remainder) in Mod 'Mod_\d+': integer remainder of 7 by zero/;

test('Mod at run time: f32 fmod (±0, inf, NaN, exact past 2^24), int64 both conventions, MIN_VALUE % -1, broadcast; a zero divisor traps; reference and compiled', async () => {
  const graph = model();
  expect(graph.nodes.map((n) => n.op)).toEqual(expect.arrayContaining(['fmod', 'remainder']));
  const ref = interpret(graph, feeds);
  for (const [name, w] of Object.entries(want)) expectExact(ref[name]!, w, `reference ${name}`);
  expect(() => interpret(graph, { ...feeds, ...zero })).toThrow(trap);

  const { bytes } = await compileGraph(graph, { name: 'mod', isas: TEST_ISAS });
  for (const isa of TEST_ISAS) {
    const m = await loadModelBytes(bytes, { isa });
    const out = m.run(feeds);
    for (const [name, w] of Object.entries(want)) expectExact(out[name]!, w, `${isa} ${name}`);
    expect(() => m.run({ ...feeds, ...zero }), `${isa} trap`).toThrow(trap);
    const again = m.run(feeds);
    for (const [name, w] of Object.entries(want)) expectExact(again[name]!, w, `${isa} ${name} after the trap`);
    m.dispose();
  }
});

test('Mod refusals: fmod = 0 on floats (run-time or constant), a constant integer zero divisor', () => {
  const one = (build: (g: OnnxGraph) => string, dt: number) => {
    const g = new OnnxGraph();
    g.input('a', [3], dt);
    g.name(build(g), 'y'); g.output('y', [3], dt);
    return () => importOnnx(g.finish('bad', 13));
  };
  expect(one((g) => g.op1('Mod', ['a', 'a']), DT.FLOAT)).toThrow(/node 'Mod_0' \(Mod, opset 13\): fmod = 0 on floats \(ONNX requires fmod = 1 for floating-point operands\) is not supported/);
  expect(one((g) => g.op1('Add', ['a', g.op1('Mod', [g.init('c', [3], Float32Array.of(1, 2, 3)), g.init('d', [3], Float32Array.of(1, 1, 1))])]), DT.FLOAT))
    .toThrow(/\(Mod, opset 13\): fmod = 0 on floats/);
  expect(one((g) => g.op1('Add', ['a', g.op1('Mod', [g.ints('c', [3], [1, 2, 3]), g.ints('d', [3], [1, 0, 1])], { fmod: 1 })]), DT.INT64))
    .toThrow(/\(Mod, opset 13\): integer Mod of 2 by zero is not supported/);
});
