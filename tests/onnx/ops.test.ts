// Importer semantics on hand-built models (bench/onnx.ts writes them): opset variants of the
// same op agree, shape arithmetic folds away, int64 constants are range-checked, unsupported
// attributes are named. Checked with the reference interpreter against hand-computed values.
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { DT, OnnxGraph } from '../../bench/onnx.ts';
import { importOnnx, UnsupportedError } from '../../compiler/onnx/import.ts';
import { runOnnxTests } from '../../compiler/conformance/onnx.ts';
import { interpret } from '../../compiler/reference/interpret.ts';
import { compileGraph } from '../../compiler/driver/compile.ts';
import { loadModelBytes } from '../../runtime/model.ts';
import { TEST_ISAS } from '../helpers/isa.ts';

const x234 = Float32Array.from({ length: 24 }, (_, i) => i - 7.5);
const run = (bytes: Uint8Array, feeds: Record<string, Float32Array> = { x: x234 }) => {
  const { graph } = importOnnx(bytes);
  return { graph, out: interpret(graph, feeds) };
};

describe('importOnnx semantics', () => {
  test('Squeeze/Unsqueeze/ReduceSum/Split axes as attributes (old opsets) and as inputs (new) give the same values', () => {
    const build = (opset: number) => {
      const g = new OnnxGraph();
      g.input('x', [2, 3, 4]);
      const axesIn = opset >= 13;
      const r = g.op1('ReduceSum', axesIn ? ['x', g.ints('ax', [1], [1])] : ['x'], { ...(axesIn ? {} : { axes: [1] }), keepdims: 1 }); // [2, 1, 4]
      const s = g.op1('Squeeze', axesIn ? [r, g.ints('sq', [1], [1])] : [r], axesIn ? {} : { axes: [1] }); // [2, 4]
      const u = g.op1('Unsqueeze', axesIn ? [s, g.ints('un', [1], [0])] : [s], axesIn ? {} : { axes: [0] }); // [1, 2, 4]
      const [a, b] = g.op('Split', axesIn ? [u, g.ints('sp', [2], [1, 3])] : [u], { axis: 2, ...(axesIn ? {} : { split: [1, 3] }) }, 2);
      g.name(a!, 'a'); g.name(b!, 'b');
      g.output('a', [1, 2, 1]); g.output('b', [1, 2, 3]);
      return g.finish('m', opset);
    };
    const old = run(build(11)).out, now = run(build(13)).out;
    // sum over axis 1 of x[i][j][k] = i*12 + j*4 + k - 7.5: 3·(i*12 + k - 7.5) + 12
    const want = [0, 1].flatMap((i) => [0, 1, 2, 3].map((k) => 3 * (i * 12 + k - 7.5) + 12));
    expect(Array.from(old.a!)).toEqual([want[0], want[4]]);
    expect(Array.from(old.b!)).toEqual([...want.slice(1, 4), ...want.slice(5, 8)]);
    expect(Array.from(now.a!)).toEqual(Array.from(old.a!));
    expect(Array.from(now.b!)).toEqual(Array.from(old.b!));
  });

  test('Clip: min/max attributes before opset 11, inputs from 11; Softmax before opset 13 normalises over all trailing dims', () => {
    const clip = (opset: number) => {
      const g = new OnnxGraph();
      g.input('x', [2, 3, 4]);
      const y = opset < 11 ? g.op1('Clip', ['x'], { min: { f: -2 }, max: { f: 3 } }) : g.op1('Clip', ['x', g.init('lo', [], Float32Array.of(-2)), g.init('hi', [], Float32Array.of(3))]);
      g.name(y, 'y'); g.output('y', [2, 3, 4]);
      return g.finish('m', opset);
    };
    const want = Array.from(x234, (v) => Math.min(3, Math.max(-2, v)));
    expect(Array.from(run(clip(6)).out.y!)).toEqual(want);
    expect(Array.from(run(clip(13)).out.y!)).toEqual(want);
    const softmax = (opset: number) => {
      const g = new OnnxGraph();
      g.input('x', [2, 3, 4]);
      g.name(g.op1('Softmax', ['x'], { axis: 1 }), 'y'); g.output('y', [2, 3, 4]);
      return g.finish('m', opset);
    };
    const y11 = run(softmax(11)).out.y!, y13 = run(softmax(13)).out.y!;
    const sum = (a: ArrayLike<number>, from: number, n: number) => Array.from(a).slice(from, from + n).reduce((s, v) => s + v, 0);
    expect(sum(y11, 0, 12)).toBeCloseTo(1, 6); // opset 11: [2, 12] rows
    expect(y13[0]! + y13[4]! + y13[8]!).toBeCloseTo(1, 6); // opset 13: along axis 1 only
  });

  test('Softplus and ReduceLogSumExp stay exact where eˣ overflows or vanishes, compiled as in the reference', async () => {
    // Softplus(x) = ln(1 + eˣ) ≈ x for large x; logsumexp = m + ln Σ e^(x − m). Both were
    // ln(e^x + …) as written, inf from x ≈ 88 (NaN on [88.38, 88.72], where exp itself was NaN).
    const g = new OnnxGraph();
    g.input('x', [8]); g.input('r', [4, 2]);
    g.name(g.op1('Softplus', ['x']), 'sp');
    g.name(g.op1('ReduceLogSumExp', ['r'], { axes: [1], keepdims: 0 }), 'lse');
    g.name(g.op1('Exp', ['x']), 'ex');
    g.output('sp', [8]); g.output('lse', [4]); g.output('ex', [8]);
    const bytes = g.finish('m', 13);
    const x = Float32Array.of(-20, 0, 20, 88, 88.5, 88.7, 100, 1000), r = Float32Array.of(89, 0, 200, 199, -100, -101, -200, -1000);
    const softplus = (v: number) => Math.max(v, 0) + Math.log1p(Math.exp(-Math.abs(v)));
    const want = {
      sp: Array.from(x, softplus),
      lse: [89 + Math.log1p(Math.exp(-89)), 200 + Math.log1p(Math.exp(-1)), -100 + Math.log1p(Math.exp(-1)), -200],
      ex: Array.from(x, (v) => (v > 88.7228 ? Infinity : Math.exp(v))),
    };
    const { graph } = importOnnx(bytes);
    const compiled = await compileGraph(graph, { isas: TEST_ISAS });
    for (const [what, out] of [['reference', interpret(graph, { x, r })], ...await Promise.all(TEST_ISAS.map(async (isa) => [isa, (await loadModelBytes(compiled.bytes, { isa })).run({ x, r })] as const))] as const) {
      for (const [k, w] of Object.entries(want)) {
        // Absolute 1e-6 where the value is below 1 (softplus(−20) ≈ 2e-9 loses its digits in 1 + e^−20).
        w.forEach((v, i) => expect(Math.abs(out[k]![i]! - v) <= 1e-6 * Math.max(1, Math.abs(v)) || out[k]![i] === v, `${what} ${k}[${i}] = ${out[k]![i]}, want ${v}`).toBe(true));
      }
    }
  });

  test('a Shape → Gather → Unsqueeze → Concat → Reshape chain folds to one reshape', () => {
    const g = new OnnxGraph();
    g.input('x', [2, 3, 4]);
    const shape = g.op1('Shape', ['x']);
    const n = g.op1('Gather', [shape, g.ints('zero', [], [0])], { axis: 0 });
    const target = g.op1('Concat', [g.op1('Unsqueeze', [n, g.ints('ax0', [1], [0])]), g.ints('rest', [1], [-1])], { axis: 0 });
    g.name(g.op1('Reshape', ['x', target]), 'y'); g.output('y', [2, 12]);
    const { graph, out } = run(g.finish('m', 13));
    expect(graph.nodes.map((n) => n.op)).toEqual(['input', 'reshape']); // Identity adds nothing
    expect(graph.outputs[0]!.node.type.shape).toEqual([2, 12]);
    expect(Array.from(out.y!)).toEqual(Array.from(x234));
  });

  test('a bidirectional RNN with a different activation per direction (tanh forward, relu backward)', () => {
    const g = new OnnxGraph();
    g.input('x', [2, 1, 1]);
    const W = g.init('W', [2, 1, 1], Float32Array.of(1, 1)), R = g.init('R', [2, 1, 1], Float32Array.of(0.5, 0.5));
    const [y] = g.op('RNN', ['x', W, R], { hidden_size: 1, direction: 'bidirectional', activations: { strings: ['Tanh', 'Relu'] } }, 2);
    g.name(y!, 'y'); g.output('y', [2, 2, 1, 1]);
    const bytes = g.finish('m', 14);
    const f1 = Math.tanh(1), f2 = Math.tanh(-3 + 0.5 * f1);
    // backward: t = 1 first: relu(−3) = 0; then t = 0: relu(1 + 0.5·0) = 1. Y is [T, D, B, H].
    expect(Array.from(run(bytes, { x: Float32Array.of(1, -3) }).out.y!).map((v) => +v.toFixed(6))).toEqual([f1, 1, f2, 0].map((v) => +v.toFixed(6)));
  });

  test('an int64 constant outside i32 is refused where it becomes a tensor; an unknown attribute is named, on any op', () => {
    const g = new OnnxGraph();
    g.input('x', [2, 3, 4]);
    g.name(g.op1('Add', [g.op1('Cast', ['x'], { to: DT.INT64 }), g.ints('big', [1], [2 ** 40])]), 'y'); g.output('y', [2, 3, 4], DT.INT64);
    expect(() => importOnnx(g.finish('m', 13))).toThrow(/value 1099511627776 at index 0 does not fit int32 \(int64 tensors run as i32\)/);
    const h = new OnnxGraph();
    h.input('x', [2, 3, 4]);
    h.name(h.op1('LeakyRelu', ['x'], { alpha: { f: 0.1 }, beta: { f: 1 } }), 'y'); h.output('y', [2, 3, 4]);
    expect(() => importOnnx(h.finish('m', 13))).toThrow(UnsupportedError);
    expect(() => importOnnx(h.finish('m', 13))).toThrow("node 'LeakyRelu_0' (LeakyRelu, opset 13): attribute 'beta' is not supported");
    // Also on ops whose translation lists no attributes (it reads none): Relu, Softplus, MatMul.
    for (const [op, extra] of [['Relu', {}], ['Softplus', {}], ['MatMul', { in: ['x', 'x'] }]] as const) {
      const k = new OnnxGraph();
      k.input('x', [3, 3]);
      k.name(k.op1(op, 'in' in extra ? [...extra.in] : ['x'], { alpha: { f: 2 } }), 'y'); k.output('y', [3, 3]);
      expect(() => importOnnx(k.finish('m', 13))).toThrow(`node '${op}_0' (${op}, opset 13): attribute 'alpha' is not supported`);
    }
  });

  test('DepthToSpace (DCR, CRD) and SpaceToDepth move blocks by ONNX\'s index formulas, compiled and in the reference', async () => {
    const [N, C, H, W, b] = [2, 8, 2, 3, 2], Cs = C / (b * b);
    const x = Float32Array.from({ length: N * C * H * W }, (_, i) => i * 0.5 - 7);
    const g = new OnnxGraph();
    g.input('x', [N, C, H, W]);
    g.name(g.op1('DepthToSpace', ['x'], { blocksize: b }), 'dcr'); g.output('dcr', [N, Cs, H * b, W * b]);
    g.name(g.op1('DepthToSpace', ['x'], { blocksize: b, mode: 'CRD' }), 'crd'); g.output('crd', [N, Cs, H * b, W * b]);
    g.name(g.op1('SpaceToDepth', [g.op1('DepthToSpace', ['x'], { blocksize: b })], { blocksize: b }), 'back'); g.output('back', [N, C, H, W]);
    const bytes = g.finish('m', 13);
    const want = { dcr: new Float32Array(x.length), crd: new Float32Array(x.length) };
    for (let n = 0; n < N; n++) for (let c = 0; c < Cs; c++) for (let h = 0; h < H; h++) for (let w = 0; w < W; w++) for (let i = 0; i < b; i++) for (let j = 0; j < b; j++) {
      const at = ((n * Cs + c) * H * b + h * b + i) * W * b + w * b + j;
      want.dcr[at] = x[((n * C + (i * b + j) * Cs + c) * H + h) * W + w]!;
      want.crd[at] = x[((n * C + c * b * b + i * b + j) * H + h) * W + w]!;
    }
    const ref = run(bytes, { x }).out;
    const model = await loadModelBytes((await compileGraph(importOnnx(bytes).graph, { isas: TEST_ISAS })).bytes);
    const out = model.run({ x });
    for (const o of [ref, out]) {
      expect(Array.from(o.dcr as Float32Array)).toEqual(Array.from(want.dcr));
      expect(Array.from(o.crd as Float32Array)).toEqual(Array.from(want.crd));
      expect(Array.from(o.back as Float32Array)).toEqual(Array.from(x));
    }
    model.dispose();
    const bad = new OnnxGraph();
    bad.input('x', [1, 6, 2, 2]);
    bad.name(bad.op1('DepthToSpace', ['x'], { blocksize: 2 }), 'y'); bad.output('y', [1, 1, 4, 4]);
    expect(() => importOnnx(bad.finish('m', 13))).toThrow("node 'DepthToSpace_0' (DepthToSpace, opset 13): input [1, 6, 2, 2] with blocksize 2 (C divisible by blocksize²) is not supported");
  });

  test('Concat of inputs of different types is refused (ONNX gives them one type; the DSL cat under it promotes as torch.cat)', () => {
    const g = new OnnxGraph();
    g.input('x', [2, 3]); g.input('i', [2, 3], DT.INT64);
    g.name(g.op1('Concat', ['x', 'i'], { axis: 0 }), 'y'); g.output('y', [4, 3]);
    expect(() => importOnnx(g.finish('m', 13))).toThrow("node 'Concat_0' (Concat, opset 13): operands of different types (f32, i32) is not supported");
  });
});

// A slice of ONNX's backend node tests in one artifact (the full suite runs in CI through
// npm run conformance:onnx): opset variants, recurrent gate orders and layouts, attention.
const NODE_TESTS = join(import.meta.dirname, '../fixtures/onnx-node-tests');
describe('ONNX backend node tests (a sample)', () => {
  test('a sample (recurrent gate orders and layouts, GQA attention with a cache, dilated 3-D and ceil-mode pooling, asymmetric pads, negative steps, opset-18 Split) compiles in one artifact and passes', async () => {
    const pick = /^test_(lstm_defaults|lstm_with_peepholes|gru_defaults|gru_batchwise|simple_rnn_batchwise|attention_4d_gqa_causal|attention_3d_with_past_and_present|maxpool_3d_dilations|averagepool_2d_ceil|conv_with_strides_and_asymmetric_padding|slice_neg_steps|split_variable_parts_1d_opset18|layer_normalization_4d_axis1|softmax_axis_0)$/;
    const results = await runOnnxTests(NODE_TESTS, { filter: (t) => pick.test(t.name), isa: 'wasmsimd', batch: 64 });
    expect(results.length).toBe(14);
    const bad = results.filter((r) => r.status !== 'pass').map((r) => `${r.name}: ${r.status} ${r.detail}`);
    expect(bad).toEqual([]);
  }, 120_000);
});
