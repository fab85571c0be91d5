// ONNX Einsum (compiler/onnx/ops/einsum.ts): PyTorch 1.13's opset-17 export of torch.einsum in
// attention, bilinear, ellipsis, reduction, diagonal, implicit-output and broadcast forms
// (tests/fixtures/onnx-einsum/export.py) against PyTorch, in the reference and compiled for every
// test ISA; ONNX's six test_einsum_* node tests (f64 files, which conformance:onnx skips as an
// element type we do not run) with their inputs declared f32, against ONNX's expected outputs;
// the refusals of malformed equations and mismatched sizes.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { DT, OnnxGraph } from '../../bench/onnx.ts';
import { compileEntries } from '../../compiler/driver/compile.ts';
import { compare } from '../../compiler/conformance/run.ts';
import { importOnnx, OnnxError, UnsupportedError } from '../../compiler/onnx/import.ts';
import { readOnnxModel, readOnnxTensor } from '../../compiler/onnx/proto.ts';
import { interpret } from '../../compiler/reference/interpret.ts';
import { readSafetensors } from '../../compiler/weights/safetensors.ts';
import { loadModelBytes } from '../../runtime/model.ts';
import { TEST_ISAS } from '../helpers/isa.ts';
import { setInputDims } from '../helpers/onnx-dims.ts';
import { expectTorch } from '../helpers/torch.ts';

const FIX = join(import.meta.dirname, '..', 'fixtures', 'onnx-einsum');
const NODE = join(import.meta.dirname, '..', 'fixtures', 'onnx-node-tests');
const io = readSafetensors(readFileSync(join(FIX, 'io.safetensors')), 'onnx-einsum/io.safetensors');
const INPUTS = ['q', 'k', 'v', 'x1', 'x2', 'm', 'a', 'b', 'e1', 'e2', 'y', 'sq', 't', 'u'];
const OUTPUTS = ['scores', 'context', 'bilinear', 'linear', 'transposed', 'outer', 'ellipsis', 'reduced', 'implicit', 'diag', 'trace', 'bcast_dot', 'batch_outer'];
const NODE_TESTS = ['test_einsum_batch_diagonal', 'test_einsum_batch_matmul', 'test_einsum_inner_prod', 'test_einsum_scalar', 'test_einsum_sum', 'test_einsum_transpose'];

/** A node test's file with its f64 inputs declared f32, its inputs as f32 and ONNX's expected output (f64, as f32). */
function nodeTest(name: string) {
  const dir = join(NODE, name, 'test_data_set_0'), bytes = readFileSync(join(NODE, name, 'model.onnx'));
  const read = (f: string) => readOnnxTensor(readFileSync(join(dir, f)));
  const names = readOnnxModel(bytes).graph.inputs.map((v) => v.name);
  const ins = names.map((_, i) => read(`input_${i}.pb`));
  expect(ins.every((t) => t.dtype === 11), `${name} is f64`).toBe(true);
  expect(readdirSync(dir).filter((f) => f.startsWith('output_'))).toEqual(['output_0.pb']);
  const f32 = setInputDims(bytes, Object.fromEntries(names.map((n, i) => [n, { dims: ins[i]!.dims, dtype: DT.FLOAT }])));
  const feeds = Object.fromEntries(names.map((n, i) => [n, Float32Array.from(ins[i]!.data as Float64Array)]));
  return { graph: importOnnx(f32).graph, feeds, want: Float32Array.from(read('output_0.pb').data as Float64Array) };
}
const expectOnnx = (got: ArrayLike<number>, want: Float32Array, what: string) => {
  expect(got.length, what).toBe(want.length);
  const { bad, maxErr } = compare(Float32Array.from(got), want, 1e-5, 1e-5);
  expect(bad, `${what}: max err ${maxErr}`).toBe(-1);
};

test("PyTorch's torch.einsum forms and ONNX's Einsum node tests match, in the reference and compiled; contractions are batched matmuls", async () => {
  const { graph, model } = importOnnx(readFileSync(join(FIX, 'model.onnx')));
  expect(model.graph.nodes.filter((n) => n.opType === 'Einsum').length).toBe(13);
  expect(graph.outputs.map((o) => o.name)).toEqual(OUTPUTS);
  // One matmul per contraction (scores, context, bilinear's two, linear, ellipsis, implicit,
  // bcast_dot); the outer products are muls, the rest permutes, slices and sums.
  expect(graph.nodes.filter((n) => n.op === 'matmul').length).toBe(8);
  const feeds = Object.fromEntries(INPUTS.map((n) => [n, io.get(`input.${n}`)!.data as Float32Array]));
  const want = (o: string) => io.get(`output.${o}`)!.data as Float32Array;
  const ref = interpret(graph, feeds);
  for (const o of OUTPUTS) expectTorch(ref[o] as Float32Array, want(o), `reference ${o}`);
  expect(graph.outputs.find((o) => o.name === 'ellipsis')!.node.type.shape).toEqual([2, 3, 4, 2]);

  const nodes = NODE_TESTS.map(nodeTest);
  nodes.forEach((n, i) => expectOnnx(interpret(n.graph, n.feeds)[n.graph.outputs[0]!.name]!, n.want, `${NODE_TESTS[i]} reference`));

  const { bytes } = await compileEntries([{ name: 'run', graph }, ...nodes.map((n, i) => ({ name: `n${i}`, graph: n.graph }))], [], { name: 'einsum', isas: TEST_ISAS });
  for (const isa of TEST_ISAS) {
    const m = await loadModelBytes(bytes, { isa });
    const out = m.run(feeds);
    for (const o of OUTPUTS) expectTorch(out[o] as Float32Array, want(o), `${isa} ${o}`);
    nodes.forEach((n, i) => expectOnnx(m.call(`n${i}`, n.feeds)[n.graph.outputs[0]!.name]!, n.want, `${isa} ${NODE_TESTS[i]}`));
    m.dispose();
  }
});

test('malformed equations and mismatched sizes are refused, naming the node, the equation and the label', () => {
  const einsum = (eq: string | undefined, shapes: Array<Array<number | string>>, opts = {}, dtype: number = DT.FLOAT) => {
    const g = new OnnxGraph();
    const ins = shapes.map((s, i) => g.input(`x${i}`, s, dtype));
    g.name(g.op1('Einsum', ins, eq === undefined ? {} : { equation: eq }), 'y');
    g.output('y', []);
    return () => importOnnx(g.finish('bad', 17), opts);
  };
  const at = (eq: string) => `node 'Einsum_0' \\(Einsum, opset 17\\): equation '${eq.replace(/[.[\]()]/g, '\\$&')}': `;
  const bad: Array<[string, Array<Array<number | string>>, string]> = [
    ['ij,jk', [[2, 3]], '2 input terms for 1 input'],
    ['ij->i->j', [[2, 3]], "more than one '->'"],
    ['i.j->ij', [[2, 3]], "term 'i.j' of input 0 is not letters with at most one '...'"],
    ['i1->i', [[2, 3]], "term 'i1' of input 0 is not letters"],
    ['ij->i1', [[2, 3]], "the output 'i1' is not letters"],
    ['ijk->i', [[2, 3]], 'term 0 has 3 labels for input 0 of rank 2'],
    ['...ijk->i', [[2, 3]], "term 0 has 3 labels and '...' for input 0 of rank 2"],
    ['ij->k', [[2, 3]], "output label 'k' is in no input"],
    ['ij->ii', [[2, 3]], "output label 'i' appears twice"],
    ['...ij->ij', [[4, 2, 3]], "the inputs' '...' stands for 1 dim but the output has no '...'"],
    ['ij,jk->ik', [[2, 3], [4, 5]], "label 'j' is 3 in input 0 but 4 in input 1 \\(sizes must agree or be 1\\)"],
    ['...i,...i->...', [[2, 3], [3, 3]], "label '...' dim 0 is 2 in input 0 but 3 in input 1"],
    ['ii->i', [[2, 3]], "label 'i' repeats in input 0 \\(a diagonal\\) with the sizes 2 and 3; they must be equal"],
  ];
  for (const [eq, shapes, msg] of bad) {
    const f = einsum(eq, shapes);
    expect(f, eq).toThrow(OnnxError);
    expect(f, eq).toThrow(new RegExp(at(eq) + msg));
  }
  expect(einsum(undefined, [[2]])).toThrow(/\(Einsum, opset 17\): Einsum without its 'equation' attribute is not supported/);
  expect(einsum('ij->ji', [[2, 3]], {}, DT.INT64)).toThrow(/\(Einsum, opset 17\): input 0 of type int64\/int32 is not supported/);
  // A symbolic size meets only itself or 1 (batch ≤ 2 against 2 holds only at 2); no diagonal of one.
  const sym = { dims: { batch: { max: 4 } } };
  expect(einsum('bi,bi->b', [['batch', 3], [2, 3]], sym)).toThrow(UnsupportedError);
  expect(einsum('bi,bi->b', [['batch', 3], [2, 3]], sym)).toThrow(new RegExp(`${at('bi,bi->b')}label 'b' is batch in input 0 but 2 in input 1; a symbolic size must meet the same size or 1`));
  expect(einsum('ii->i', [['batch', 'batch']], sym)).toThrow(/\(Einsum, opset 17\): equation 'ii->i': the diagonal of label 'i' of the symbolic size 'batch' is not supported/);
});

test('a symbolic batch through a three-input Einsum, one input broadcast from 1, is right at every size (reference, by hand)', () => {
  const build = () => {
    const g = new OnnxGraph();
    g.input('x', ['batch', 3]); g.input('z', [1, 4]);
    g.name(g.op1('Einsum', ['x', g.init('w', [3, 4], Float32Array.from({ length: 12 }, (_, i) => i / 4 - 1)), 'z'], { equation: 'bi,ij,bj->jb' }), 'y');
    g.output('y', [4, 'batch']);
    return g.finish('sym', 17);
  };
  const { graph } = importOnnx(build(), { dims: { batch: { max: 4 } } });
  expect(graph.inputs[0]!.type.dims).toEqual(['batch', 3]);
  const z = Float32Array.of(0.5, -1, 2, 0.25);
  for (let b = 1; b <= 4; b++) {
    const x = Float32Array.from({ length: 3 * b }, (_, i) => ((i * 7) % 5) - 2);
    // y[j, b] = Σi x[b, i]·w[i, j]·z[0, j], by hand (quarters and small integers: exact in f32).
    const want = Array.from({ length: 4 * b }, (_, o) => {
      const j = Math.floor(o / b), bb = o % b;
      return [0, 1, 2].reduce((acc, i) => acc + x[bb * 3 + i]! * (((i * 4 + j) / 4) - 1) * z[j]!, 0);
    });
    expect(Array.from(interpret(graph, { x, z }, undefined, { batch: b }).y!), `batch ${b}`).toEqual(want);
  }
});
