// ONNX CumSum of f32 with ±inf and NaN against hand-computed running sums: each output sees only
// the elements it sums (the first version, a triangle matmul, made 0·inf = NaN from the elements
// after: [1, inf, 2] gave [NaN, inf, inf]); inclusive, exclusive and reverse; reference and compiled.
import { expect, test } from 'vitest';
import { DT, OnnxGraph } from '../../bench/onnx.ts';
import { compileGraph } from '../../compiler/index.ts';
import { importOnnx } from '../../compiler/onnx/import.ts';
import { interpret } from '../../compiler/reference/interpret.ts';
import { loadModelBytes } from '../../runtime/model.ts';
import { TEST_ISAS } from '../helpers/isa.ts';

const x = Float32Array.of(1, Infinity, 2, -Infinity, 3, NaN, 4, 0.5);
const want: Record<string, number[]> = {
  inclusive: [1, Infinity, Infinity, NaN, NaN, NaN, NaN, NaN],
  exclusive: [0, 1, Infinity, Infinity, NaN, NaN, NaN, NaN],
  reverse: [NaN, NaN, NaN, NaN, NaN, NaN, 4.5, 0.5],
  reverse_exclusive: [NaN, NaN, NaN, NaN, NaN, 4.5, 0.5, 0],
};
const head = Float32Array.of(2, 5, -1, Infinity);  // only the last is non-finite: the others stay finite
const wantHead = [2, 7, 6, Infinity];

test('CumSum of f32 keeps ±inf and NaN to the outputs that sum them (inclusive, exclusive, reverse)', async () => {
  const g = new OnnxGraph();
  g.input('x', [8]); g.input('h', [4]);
  const axis = g.ints('axis', [1], [0]);
  for (const [name, attrs] of [['inclusive', {}], ['exclusive', { exclusive: 1 }], ['reverse', { reverse: 1 }], ['reverse_exclusive', { exclusive: 1, reverse: 1 }]] as const) {
    g.name(g.op1('CumSum', ['x', axis], attrs), name); g.output(name, [8], DT.FLOAT);
  }
  g.name(g.op1('CumSum', ['h', axis]), 'head'); g.output('head', [4], DT.FLOAT);
  const graph = importOnnx(g.finish('cumsum', 14)).graph;
  const check = (out: Record<string, ArrayLike<number>>, where: string) => {
    for (const [name, w] of Object.entries(want)) expect(Array.from(out[name]!), `${where} ${name}`).toEqual(w);
    expect(Array.from(out.head!), `${where} head`).toEqual(wantHead);
  };
  check(interpret(graph, { x, h: head }), 'reference');
  const { bytes } = await compileGraph(graph, { name: 'cumsum', isas: TEST_ISAS });
  for (const isa of TEST_ISAS) { const m = await loadModelBytes(bytes, { isa }); check(m.run({ x, h: head }), isa); m.dispose(); }
});
