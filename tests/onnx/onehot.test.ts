// ONNX OneHot (compiler/onnx/ops/shapes.ts oneHot; torch's F.one_hot exports it) by ONNX's rule,
// against hand-computed values: a negative index counts from the end of depth, one outside
// [−depth, depth) gives a row of `off`, values [off, on] of any type, any axis, symbolic sizes. And
// the ops whose output's size depends on the values (x[mask] exports NonZero) refused by name.
import { expect, test } from 'vitest';
import { DT, OnnxGraph } from '../../bench/onnx.ts';
import { importOnnx, UnsupportedError } from '../../compiler/onnx/import.ts';
import { interpret } from '../../compiler/reference/interpret.ts';

test('OneHot: negative indices wrap, out-of-range ones give off, values and axis as given, at every size', () => {
  const g = new OnnxGraph();
  g.input('i', ['batch', 2], DT.INT64);
  const depth = g.ints('depth', [], [4]);
  g.name(g.op1('OneHot', ['i', depth, g.init('v', [2], Float32Array.of(-1, 5))]), 'last'); g.output('last', ['batch', 2, 4]);
  g.name(g.op1('OneHot', ['i', depth, g.ints('vi', [2], [0, 1])], { axis: 1 }), 'mid'); g.output('mid', ['batch', 4, 2], DT.INT64);
  const { graph } = importOnnx(g.finish('onehot', 17), { dims: { batch: { max: 3 } } });
  const rows = [[0, 3], [-1, -4], [4, -5]]; // -1 → 3, -4 → 0; 4 and -5 are outside [-4, 4)
  const hot = (k: number) => (k < 0 ? k + 4 : k);
  for (const B of [1, 3]) {
    const i = Int32Array.from(rows.slice(0, B).flat());
    const out = interpret(graph, { i }, undefined, { batch: B });
    expect(Array.from(out.last!), `batch ${B}`).toEqual(Array.from(i).flatMap((k) => [0, 1, 2, 3].map((c) => (hot(k) === c ? 5 : -1))));
    // mid[b][c][j] = (i[b][j] is c)
    expect(Array.from(out.mid!), `batch ${B}`).toEqual(rows.slice(0, B).flatMap((r) => [0, 1, 2, 3].flatMap((c) => r.map((k) => (hot(k) === c ? 1 : 0)))));
  }
  const bad = (build: (g: OnnxGraph) => string) => {
    const h = new OnnxGraph();
    h.input('i', [3], DT.INT64);
    h.name(build(h), 'y'); h.output('y', [3, 4]);
    return () => importOnnx(h.finish('bad', 17));
  };
  expect(bad((h) => h.op1('OneHot', ['i', h.ints('d', [], [0]), h.ints('v', [2], [0, 1])]))).toThrow(/\(OneHot, opset 17\): depth \[0\] \(one integer in \[1, 2\^24\]\) is not supported/);
  expect(bad((h) => h.op1('OneHot', ['i', h.ints('d', [], [4]), h.ints('v', [3], [0, 1, 2])]))).toThrow(/\(OneHot, opset 17\): values of shape \[3\] \(it must be \[off, on\]\) is not supported/);
});

test("NonZero (x[mask], torch.nonzero), Unique and Compress are refused, saying their output's size depends on the values, at fixed and symbolic sizes", () => {
  for (const dims of [[2, 5], ['batch', 5]] as const) {
    const g = new OnnxGraph();
    g.input('x', dims);
    g.name(g.op1('NonZero', ['x']), 'y'); g.output('y', [2, 'n'], DT.INT64);
    const run = () => importOnnx(g.finish('nonzero', 17), typeof dims[0] === 'string' ? { dims: { batch: { max: 4 } } } : {});
    expect(run).toThrow(UnsupportedError);
    expect(run).toThrow(/node 'NonZero_0' \(NonZero, opset 17\): NonZero, whose output's size depends on the input's values \(PyTorch's x\[mask\], nonzero, masked_select, unique; .*\) is not supported/);
  }
});
