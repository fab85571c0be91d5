// ONNX ReduceProd of int64 (held as i32: a pairwise product of halves, wrapping modulo 2^32 as
// Mul), ReduceMax/ReduceMin of int64 (exact, by halving) and of bools (any/all), Cast of run-time f32/int64 to BOOL (nonzero, NaN
// included, is true), LRN (an even size's window, an inf kept inside its window) and SwiGLU
// (Swish(A, alpha) · B, B broadcast; −inf · sigmoid(−inf) = NaN as ONNX's numpy has it), against
// hand-computed values: one opset-18 model, in the reference and compiled for every test ISA.
// (test_reduce_max_bool_inputs, test_reduce_min_bool_inputs, test_lrn and test_lrn_default run
// in conformance:onnx, as do test_swiglu*; no node test has an integer ReduceProd, a run-time Cast to BOOL that gets
// past its Loop, or an even LRN size.)
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
  g.input('p', [3, 5], DT.INT64); g.input('b', [2, 3], DT.BOOL); g.input('f', [8]); g.input('i', [4], DT.INT64);
  g.input('l', [1, 4, 1]); g.input('l2', [1, 4, 1]); g.input('sa', [2, 2]); g.input('sb', [2]);
  const out = (v: string, name: string, dims: number[], dt: number) => { g.name(v, name); g.output(name, dims, dt); };
  out(g.op1('ReduceProd', ['p', g.ints('ax1', [1], [1])], { keepdims: 0 }), 'prod_rows', [3], DT.INT64);
  out(g.op1('ReduceProd', ['p', g.ints('ax0', [1], [-2])]), 'prod_cols', [1, 5], DT.INT64);
  out(g.op1('ReduceProd', ['p']), 'prod_all', [1, 1], DT.INT64);
  out(g.op1('ReduceMax', ['p', g.ints('mx1', [1], [1])], { keepdims: 0 }), 'max_rows', [3], DT.INT64);
  out(g.op1('ReduceMin', ['p', g.ints('mn0', [1], [0])]), 'min_cols', [1, 5], DT.INT64);
  out(g.op1('ReduceMin', ['p'], { keepdims: 0 }), 'min_all', [], DT.INT64);
  out(g.op1('ReduceMax', ['b', g.ints('bx1', [1], [1])], { keepdims: 0 }), 'any_rows', [2], DT.BOOL);
  out(g.op1('ReduceMin', ['b', g.ints('bx1_', [1], [1])], { keepdims: 0 }), 'all_rows', [2], DT.BOOL);
  out(g.op1('ReduceMax', ['b', g.ints('bx0', [1], [0])]), 'any_cols', [1, 3], DT.BOOL);
  out(g.op1('ReduceMin', ['b']), 'all_all', [1, 1], DT.BOOL);
  out(g.op1('Cast', ['f'], { to: DT.BOOL }), 'f_bool', [8], DT.BOOL);
  out(g.op1('Cast', ['i'], { to: DT.BOOL }), 'i_bool', [4], DT.BOOL);
  out(g.op1('LRN', ['l'], { size: 2, alpha: { f: 1 }, beta: { f: 1 }, bias: { f: 1 } }), 'lrn_even', [1, 4, 1], DT.FLOAT);
  out(g.op1('LRN', ['l2'], { size: 3, alpha: { f: 3 }, beta: { f: 0.5 }, bias: { f: 1 } }), 'lrn_odd', [1, 4, 1], DT.FLOAT);
  out(g.op1('SwiGLU', ['sa', 'sb'], { alpha: { f: 0.5 } }), 'swiglu', [2, 2], DT.FLOAT);
  return importOnnx(g.finish('reduce_int_bool_cast', 18)).graph;
}

const feeds = {
  p: Int32Array.of(
    1, 2, 3, 4, 5,
    65536, 65536, 3, -1, 1,                                  // 2^16 · 2^16 wraps to 0
    I32_MAX, 2, -1, I32_MAX, -1),
  b: Uint8Array.of(0, 1, 0, 1, 1, 1),
  f: Float32Array.of(0, -0, 1, -2.5, NaN, Infinity, -Infinity, 1e-45),
  i: Int32Array.of(0, 1, -1, I32_MIN),
  l: Float32Array.of(1, 2, Infinity, 3),
  l2: Float32Array.of(1, 2, -2, 3),
  sa: Float32Array.of(0, 2, -Infinity, Infinity),
  sb: Float32Array.of(3, -1),
};

// Products wrapped to i32, as JavaScript's Math.imul multiplies.
const imul = (...v: number[]) => v.reduce((a, x) => Math.imul(a, x), 1);
const want: Record<string, number[]> = {
  prod_rows: [120, 0, imul(I32_MAX, 2, -1, I32_MAX, -1)],    // 2·(2^31 − 1)² ≡ 2 (mod 2^32)
  prod_cols: [imul(65536, I32_MAX), imul(2, 65536, 2), -9, imul(4, -1, I32_MAX), -5],
  prod_all: [0],
  max_rows: [5, 65536, I32_MAX],                             // exact: an f32 would round 2^31 − 1 up to 2^31
  min_cols: [1, 2, -1, -1, -1],
  min_all: [-1],
  any_rows: [1, 1],
  all_rows: [0, 1],
  any_cols: [1, 1, 1],
  all_all: [0],
  f_bool: [0, 0, 1, 1, 1, 1, 1, 1],                          // −0 is false; NaN and the least denormal true
  i_bool: [0, 1, 1, 1],
  // size 2: channel c sums c and c + 1 (torch's local_response_norm would sum c − 1 and c);
  // y = x / (1 + ½Σx²): 1/3.5, 2/inf = 0, inf/inf = NaN, 3/5.5. A band matmul would give NaN at 0 (0·inf).
  lrn_even: [1 / 3.5, 0, NaN, 3 / 5.5],
  // size 3, alpha/size = 1, beta ½: x / √(1 + Σx²) over c − 1 … c + 1: √6, √10, √18, √14.
  lrn_odd: [1 / Math.sqrt(6), 2 / Math.sqrt(10), -2 / Math.sqrt(18), 3 / Math.sqrt(14)],
  // a · sigmoid(a/2) · b: 0; 2·sigmoid(1)·−1; −inf·0 = NaN; inf·1·−1.
  swiglu: [0, -2 / (1 + Math.exp(-1)), NaN, -Infinity],
};

/** Equal (±inf and integers exactly), or within 1e-6 relative (the kernels round division, sqrt, exp), NaN equal to NaN. */
function expectClose(got: ArrayLike<number>, w: number[], what: string) {
  expect(got.length, what).toBe(w.length);
  w.forEach((v, i) => expect(v !== v ? got[i] !== got[i] : got[i] === v || Math.abs(got[i]! - v) <= 1e-6 * Math.abs(v), `${what}[${i}] is ${got[i]}, want ${v}`).toBe(true));
}

test('int64 ReduceProd (wrapping, odd lengths, all axes), bool ReduceMax/ReduceMin, run-time Cast to BOOL (NaN, -0, denormal), LRN (even size, inf), SwiGLU by hand, reference and compiled', async () => {
  // The wrapped products by hand: 2^16·(2^31 − 1) ≡ −2^16, −4·(2^31 − 1) ≡ 4 (mod 2^32).
  expect(want.prod_cols).toEqual([-65536, 262144, -9, 4, -5]);
  expect(want.prod_rows![2]).toBe(2);
  const graph = model();
  expect(graph.nodes.map((n) => n.op)).not.toContain('prod');  // the integer product is Muls, not the f32 reduce
  const ref = interpret(graph, feeds);
  for (const [name, w] of Object.entries(want)) expectClose(ref[name]!, w, `reference ${name}`);

  const { bytes } = await compileGraph(graph, { name: 'reduce_int_bool_cast', isas: TEST_ISAS });
  for (const isa of TEST_ISAS) {
    const m = await loadModelBytes(bytes, { isa });
    const out = m.run(feeds);
    for (const [name, w] of Object.entries(want)) expectClose(out[name]!, w, `${isa} ${name}`);
    m.dispose();
  }
});

test('ReduceProd on a symbolic size, and ReduceSum of bools, are refused naming the node', () => {
  const g = new OnnxGraph();
  g.input('p', ['n', 3], DT.INT64);
  g.name(g.op1('ReduceProd', ['p', g.ints('ax', [1], [0])]), 'y'); g.output('y', [1, 3], DT.INT64);
  expect(() => importOnnx(g.finish('bad', 18), { dims: { n: { max: 8 } } }))
    .toThrow(/\(ReduceProd, opset 18\): ReduceProd on a tensor of the symbolic size 'n' is not supported yet/);
  const h = new OnnxGraph();
  h.input('b', [3], DT.BOOL);
  h.name(h.op1('ReduceSum', ['b']), 'y'); h.output('y', [1], DT.BOOL);
  expect(() => importOnnx(h.finish('bad', 18))).toThrow(/\(ReduceSum, opset 18\): data of type bool is not supported/);
});
