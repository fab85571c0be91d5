// ONNX GatherND (the IR's gather_nd), ReduceProd (reduce 'prod') and ArgMax/ArgMin of integer
// data and with select_last_index, against hand-computed values: one opset-13 model, in the
// reference and compiled for every test ISA. GatherND's run-time indices wrap when negative and
// trap out of range; the products take 0, -0, ±inf, NaN and an overflow that only the sequential
// order gives; the integer argmax/argmin separate values an f32 compare would tie (2^24 + 1) and
// the i32 extremes. (The ONNX node tests of all three run in conformance:onnx.)
import { expect, test } from 'vitest';
import { DT, OnnxGraph } from '../../bench/onnx.ts';
import { compileGraph } from '../../compiler/index.ts';
import { importOnnx } from '../../compiler/onnx/import.ts';
import { interpret } from '../../compiler/reference/interpret.ts';
import { loadModelBytes } from '../../runtime/model.ts';
import { TEST_ISAS } from '../helpers/isa.ts';

const I32_MAX = 2147483647, I32_MIN = -2147483648, P24 = 16777216;

function model() {
  const g = new OnnxGraph();
  g.input('d', [2, 3, 2]); g.input('i1', [2, 2], DT.INT64); g.input('i2', [2, 1], DT.INT64);
  g.input('di', [3, 2], DT.INT64); g.input('db', [2, 2], DT.BOOL);
  g.input('p', [5, 4]); g.input('a', [3, 3], DT.INT64); g.input('f', [2, 3]);
  const out = (v: string, name: string, dims: number[], dt: number = DT.FLOAT) => { g.name(v, name); g.output(name, dims, dt); };
  out(g.op1('GatherND', ['d', 'i1']), 'g_rows', [2, 2]);
  out(g.op1('GatherND', ['d', 'i2'], { batch_dims: 1 }), 'g_batch', [2, 2]);
  out(g.op1('GatherND', ['d', g.ints('c3', [2, 3], [1, 0, -1, 0, -3, 1])]), 'g_elems', [2]);
  out(g.op1('GatherND', ['di', g.ints('c1', [2, 1], [-1, 0])]), 'g_int', [2, 2], DT.INT64);
  out(g.op1('GatherND', ['db', g.ints('c2', [2, 2], [1, 0, 0, -1])]), 'g_bool', [2], DT.BOOL);
  out(g.op1('ReduceProd', ['p'], { axes: [1], keepdims: 0 }), 'prod_rows', [5]);
  out(g.op1('ReduceProd', ['p'], { axes: [0] }), 'prod_cols', [1, 4]);
  out(g.op1('ReduceProd', ['p']), 'prod_all', [1, 1]);
  out(g.op1('ArgMax', ['a'], { axis: 1, keepdims: 0 }), 'amax', [3], DT.INT64);
  out(g.op1('ArgMin', ['a'], { axis: -1, keepdims: 0 }), 'amin', [3], DT.INT64);
  out(g.op1('ArgMax', ['a'], { axis: 1, select_last_index: 1 }), 'amax_last', [3, 1], DT.INT64);
  out(g.op1('ArgMin', ['a'], { axis: 0, keepdims: 0, select_last_index: 1 }), 'amin_last_cols', [3], DT.INT64);
  out(g.op1('ArgMax', ['f'], { axis: 1, keepdims: 0, select_last_index: 1 }), 'famax_last', [2], DT.INT64);
  out(g.op1('ArgMin', ['f'], { axis: 1, keepdims: 0, select_last_index: 1 }), 'famin_last', [2], DT.INT64);
  return importOnnx(g.finish('gathernd_prod_argint', 13)).graph;
}

const feeds = {
  d: Float32Array.from({ length: 12 }, (_, i) => i),         // d[i, j, k] = 6i + 2j + k
  i1: Int32Array.of(1, -1, 0, 2),                            // d[1, 2, :], d[0, 2, :]
  i2: Int32Array.of(-3, 1),                                  // d[0, 0, :], d[1, 1, :]
  di: Int32Array.of(P24 + 1, -5, 7, I32_MAX, I32_MIN, 0),
  db: Uint8Array.of(0, 1, 0, 0),
  p: Float32Array.of(
    2, -0, 3, -1,
    Infinity, 2, 0, 5,
    -Infinity, -2, 0.5, 3,
    -0, 4, 1e30, 1,
    1e30, 1e30, 1e-30, 2),
  a: Int32Array.of(
    P24, P24 + 1, 5,                                         // f32 ties 2^24 and 2^24 + 1
    -P24, -P24 - 1, 0,
    I32_MAX, I32_MIN, I32_MAX),
  f: Float32Array.of(1, 3, 3, NaN, 0, NaN),
};

const want: Record<string, number[]> = {
  g_rows: [10, 11, 4, 5],
  g_batch: [0, 1, 8, 9],
  g_elems: [7, 1],                                           // d[1, 0, 1], d[0, 0, 1]
  g_int: [I32_MIN, 0, P24 + 1, -5],                          // di[2, :], di[0, :]
  g_bool: [0, 1],                                            // db[1, 0], db[0, 1]
  // 2·-0·3·-1 = +0; inf·2·0 = NaN; -inf·-2·0.5·3 = inf; -0·4·1e30·1 = -0; 1e30·1e30 overflows
  // to inf before 1e-30 could bring it back (inf, where another order gives 2e30).
  prod_rows: [0, NaN, Infinity, -0, Infinity],
  // Columns: 2·inf·-inf·-0 = NaN; -0·2·-2·4·1e30 = +0; 3·0·… = 0; -1·5·3·1·2 = -30.
  prod_cols: [NaN, 0, 0, -30],
  prod_all: [NaN],
  amax: [1, 2, 0],                                           // the first of two I32_MAX
  amin: [2, 1, 1],
  amax_last: [1, 2, 2],                                      // the last of two I32_MAX
  amin_last_cols: [1, 2, 1],
  famax_last: [2, 2],                                        // the last 3; the last NaN
  famin_last: [0, 2],                                        // a NaN counts as the extreme for ArgMin too
};

/** Equal element by element, telling -0 from +0 (toEqual treats them alike). */
function expectExact(got: ArrayLike<number>, w: number[], what: string) {
  expect(Array.from(got), what).toEqual(w);
  w.forEach((v, i) => expect(Object.is(got[i], v) || (v !== v && got[i] !== got[i]), `${what}[${i}] is ${got[i]}, want ${v}`).toBe(true));
}

const traps: Array<[Record<string, Int32Array>, RegExp]> = [
  [{ i1: Int32Array.of(1, -1, 0, 3) }, /gather_nd in GatherND 'GatherND_\d+': index 3 is outside \[-3, 3\) along axis 1/],
  [{ i1: Int32Array.of(-3, 0, 0, 0) }, /gather_nd in GatherND 'GatherND_\d+': index -3 is outside \[-2, 2\) along axis 0/],
  [{ i2: Int32Array.of(-4, 0) }, /gather_nd in GatherND 'GatherND_\d+': index -4 is outside \[-3, 3\) along axis 1/],
];

test('GatherND (run-time, constant, batch_dims 1; f32, int64, bool), ReduceProd (0, -0, inf, NaN, order) and integer/last-index ArgMax/ArgMin by hand, reference and compiled', async () => {
  const graph = model();
  expect(graph.nodes.map((n) => n.op)).toEqual(expect.arrayContaining(['gather_nd', 'prod', 'argmax']));
  const ref = interpret(graph, feeds);
  for (const [name, w] of Object.entries(want)) expectExact(ref[name]!, w, `reference ${name}`);
  for (const [b, msg] of traps) expect(() => interpret(graph, { ...feeds, ...b })).toThrow(msg);

  const { bytes } = await compileGraph(graph, { name: 'gathernd_prod_argint', isas: TEST_ISAS });
  for (const isa of TEST_ISAS) {
    const m = await loadModelBytes(bytes, { isa });
    const out = m.run(feeds);
    for (const [name, w] of Object.entries(want)) expectExact(out[name]!, w, `${isa} ${name}`);
    for (const [b, msg] of traps) expect(() => m.run({ ...feeds, ...b }), `${isa} trap`).toThrow(msg);
    expectExact(m.run(feeds).g_rows!, want.g_rows!, `${isa} after the traps`);
    m.dispose();
  }
});

test('GatherND refusals: batch_dims, unequal batch axes, too many coordinates, constant indices out of range', () => {
  const one = (ins: (g: OnnxGraph) => string[], attrs: Record<string, number> = {}) => {
    const g = new OnnxGraph();
    g.input('x', [2, 3]);
    g.name(g.op1('GatherND', ['x', ...ins(g)], attrs), 'y'); g.output('y', [2]);
    return () => importOnnx(g.finish('bad', 13));
  };
  expect(one((g) => [g.ints('i', [2, 1], [0, 1])], { batch_dims: 2 })).toThrow(/\(GatherND, opset 13\): batch_dims 2 for data of rank 2 and indices of rank 2 \(0 to 1\) is not supported/);
  expect(one((g) => [g.ints('i', [3, 1], [0, 1, 2])], { batch_dims: 1 })).toThrow(/indices of shape \[3,1\] for data of shape \[2,3\] \(their first 1 axes, the batch_dims, must be equal\)/);
  expect(one((g) => [g.ints('i', [1, 3], [0, 0, 0])])).toThrow(/the last axis holds 1 to 2 coordinates/);
  expect(one((g) => [g.ints('i', [2, 2], [0, 1, 1, 3])])).toThrow(/\(GatherND, opset 13\): index 3 is out of range for axis 1 of size 3/);
  expect(one((g) => [g.ints('i', [2, 1], [0, -4])], { batch_dims: 1 })).toThrow(/index -4 is out of range for axis 1 of size 3/);
});
