// ONNX's integer Div and Pow at run time (int64 runs as i32), against hand-computed values: Div
// truncates toward zero (ONNX Runtime's C division; the node test test_div_int32_trunc: −3 / 2 = −1),
// MIN_VALUE / −1 wraps; Pow of int64 exponents is repeated multiplication modulo 2^32 (as Mul wraps),
// 1/a^|b| truncated for negative ones, and of float exponents trunc(pow) where that is no integer
// power. A zero divisor, 0 to a negative power and a float power with no i32 value trap naming the
// node (the reference raises the same), and the model runs again afterwards; compile-time operands
// fold through the same definitions, and fail at import where the run would trap. One model.
import { expect, test } from 'vitest';
import { DT, OnnxGraph } from '../../bench/onnx.ts';
import { compileGraph } from '../../compiler/index.ts';
import { importOnnx } from '../../compiler/onnx/import.ts';
import { interpret } from '../../compiler/reference/interpret.ts';
import type { Graph } from '../../compiler/ir/node.ts';
import { loadModelBytes } from '../../runtime/model.ts';
import { TEST_ISAS } from '../helpers/isa.ts';

const I32_MAX = 2147483647, I32_MIN = -2147483648;

function intGraph(): Graph {
  const g = new OnnxGraph();
  g.input('ia', [11], DT.INT64); g.input('ib', [11], DT.INT64); g.input('pa', [12], DT.INT64); g.input('pb', [12], DT.INT64);
  g.input('fa', [7], DT.INT64); g.input('fb', [7]);
  const out = (v: string, name: string, n: number) => { g.name(v, name); g.output(name, [n], DT.INT64); };
  out(g.op1('Div', ['ia', 'ib']), 'div', 11);
  out(g.op1('Div', ['ia', g.ints('three', [1], [3])]), 'div3', 11);
  out(g.op1('Pow', ['pa', 'pb']), 'pow', 12);
  out(g.op1('Pow', ['fa', 'fb']), 'powf', 7);
  out(g.op1('Div', [g.ints('ka', [3], [7, -7, I32_MIN]), g.ints('kb', [3], [-2, 2, -1])]), 'div_folded', 3);
  out(g.op1('Pow', [g.ints('kp', [3], [3, -2, 5]), g.ints('ke', [3], [4, 3, -1])]), 'pow_folded', 3);
  return importOnnx(g.finish('intdivpow', 15)).graph;
}

const intFeeds = {
  ia: Int32Array.of(7, -7, 7, -7, I32_MIN, I32_MIN, 0, 5, I32_MAX, -1, 6),
  ib: Int32Array.of(2, 2, -2, -2, -1, 1, 3, 7, -1, 3, -6),
  pa: Int32Array.of(2, -2, 3, 0, 0, 1, -1, -1, 2, 7, 2, 2),
  pb: Int32Array.of(10, 3, 21, 0, 5, -5, -3, -4, -1, 0, 31, 32),
  fa: Int32Array.of(2, 10, 3, 2, -3, I32_MAX, 1),
  fb: Float32Array.of(2.5, 0.5, 3, -1, 2, 0.5, NaN),
};
const intWant: Record<string, number[]> = {
  div: [3, -3, -3, 3, I32_MIN, I32_MIN, 0, 0, -I32_MAX, 0, -1],              // MIN / −1 = 2^31 wraps, as i32 arithmetic
  div3: [2, -2, 2, -2, -715827882, -715827882, 0, 1, 715827882, 0, 2],
  // 3^21 = 10460353203 ≡ 1870418611 and 2^31 ≡ MIN, 2^32 ≡ 0 (mod 2^32, as Mul wraps); 1/a^|b| truncated for b < 0; 0^0 = 1.
  pow: [1024, -8, 1870418611, 1, 0, 1, -1, 1, 0, 1, I32_MIN, 0],
  // trunc(2^2.5 = 5.66), trunc(√10), 3^3 and 2^-1 and (−3)^2 as integers, trunc(√(2^31 − 1) = 46340.95), 1^NaN = 1 (C's pow).
  powf: [5, 3, 27, 0, 9, 46340, 1],
  div_folded: [-3, -3, I32_MIN],
  pow_folded: [81, -8, 0],
};
// Each trap on its own: a zero divisor, 0 to a negative power, a float power with no i32 value (NaN, too large).
const intTraps: Array<[Partial<typeof intFeeds>, RegExp]> = [
  [{ ib: Int32Array.of(2, 2, -2, -2, -1, 1, 0, 7, -1, 3, -6) }, /div in Div 'Div_\d+': integer division of 0 by zero\)?$/],
  [{ pb: Int32Array.of(10, 3, 21, -2, 5, -5, -3, -4, -1, 0, 31, 32) }, /pow in Pow 'Pow_\d+': integer power of 0 to the negative exponent -2 \(a division by zero\)\)?$/],
  [{ fb: Float32Array.of(2.5, 0.5, 3, -1, 2.5, 0.5, 1) }, /pow in Pow 'Pow_\d+': integer power of -3 to a float exponent has no i32 value/],
  [{ fb: Float32Array.of(2.5, 40.5, 3, -1, 2, 0.5, 1) }, /pow in Pow 'Pow_\d+': integer power of 10 to a float exponent has no i32 value/],
];

test('integer Div truncates and Pow takes int64 and float exponents at run time; no i32 value traps naming the node; constants fold alike', async () => {
  const ints = intGraph();
  expect(ints.nodes.filter((n) => n.op === 'div' || n.op === 'pow').length).toBe(4);   // the folded two are constants
  const ref = interpret(ints, intFeeds);
  for (const [k, w] of Object.entries(intWant)) expect(Array.from(ref[k]!), `reference ${k}`).toEqual(w);
  for (const [bad, trap] of intTraps) expect(() => interpret(ints, { ...intFeeds, ...bad }), String(trap)).toThrow(trap);
  const { bytes } = await compileGraph(ints, { name: 'intdivpow', isas: TEST_ISAS });
  for (const isa of TEST_ISAS) {
    const m = await loadModelBytes(bytes, { isa });
    for (const [bad, trap] of intTraps) {
      expect(() => m.run({ ...intFeeds, ...bad }), `${isa} ${trap}`).toThrow(trap);
      const out = m.run(intFeeds);   // and it runs again
      for (const [k, w] of Object.entries(intWant)) expect(Array.from(out[k]!), `${isa} ${k} after ${trap}`).toEqual(w);
    }
    m.dispose();
  }
});

test('Div or Pow of constants with no value fail at import naming the node; bool operands are refused', () => {
  const one = (build: (g: OnnxGraph) => string, dt: number, out: number = dt) => {
    const g = new OnnxGraph();
    g.input('a', [3], dt);
    g.name(build(g), 'y'); g.output('y', [3], out);
    return () => importOnnx(g.finish('bad', 14));
  };
  expect(one((g) => g.op1('Add', ['a', g.op1('Div', [g.ints('c', [3], [1, 2, 3]), g.ints('d', [3], [1, 0, 1])])]), DT.INT64))
    .toThrow(/node 'Div_\d+' \(Div, opset 14\): div in Div 'Div_\d+': integer division of 2 by zero/);
  expect(one((g) => g.op1('Add', ['a', g.op1('Pow', [g.ints('c', [3], [1, 0, 3]), g.ints('d', [3], [1, -1, 1])])]), DT.INT64))
    .toThrow(/\(Pow, opset 14\): pow in Pow 'Pow_\d+': integer power of 0 to the negative exponent -1 \(a division by zero\)/);
  expect(one((g) => g.op1('Pow', ['a', 'a']), DT.BOOL)).toThrow(/\(Pow, opset 14\): bool operands is not supported/);
});
