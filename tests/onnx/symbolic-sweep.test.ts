// Symbolic sizes through ONNX import, differentially. ONNX backend node tests
// (tests/fixtures/onnx-node-tests) with an input axis rewritten to a dim_param (helpers/onnx-dims.ts)
// are imported keeping it symbolic (bound: the sample's size, at most 5; a sample of 1 is tiled to
// 3), compiled once for all, and run at every size from 1 to the bound: the compiled code and the
// reference interpreter of the symbolic graph must equal the reference of the file imported at
// that fixed size ({ dims: { batch: b } }), an independent path through every shape the
// translators read. A translator that read a size from the bounds would be right only at the
// bound. These are the cases kept from a sweep over every node test (axis 0, 1 and the last, alone
// and together, bounds 2 to 5); the cases it found wrong are refused below. batch_ops.onnx (one
// PyTorch module exporting the shape patterns, tests/fixtures/onnx-symbolic/batch_ops.py) is
// checked against PyTorch's outputs at five sizes, and heads.onnx (heads.py: a classifier's
// ArgMax/ArgMin, HF-style position ids by CumSum of an int64 mask, float CumSum) at six.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { OnnxGraph } from '../../bench/onnx.ts';
import { compileEntries } from '../../compiler/driver/compile.ts';
import type { Graph } from '../../compiler/ir/node.ts';
import { importOnnx, NeedsConstantError, type ImportOptions } from '../../compiler/onnx/import.ts';
import { DT, readOnnxModel, readOnnxTensor, type OnnxTensor } from '../../compiler/onnx/proto.ts';
import { interpret } from '../../compiler/reference/interpret.ts';
import { readSafetensors } from '../../compiler/weights/safetensors.ts';
import { loadModelBytes } from '../../runtime/model.ts';
import { TEST_ISAS } from '../helpers/isa.ts';
import { setInputDims } from '../helpers/onnx-dims.ts';
import { expectTorch } from '../helpers/torch.ts';

const NODE = join(import.meta.dirname, '../fixtures/onnx-node-tests');
const SYMBOLIC = join(import.meta.dirname, '../fixtures/onnx-symbolic');

/**
 * A node test and the axis of each input that becomes the size `name` ('last': the input's last
 * axis); `argmin` runs an ArgMax test's file as ArgMin (the op type rewritten: no ArgMin node
 * tests here). f64 samples (CumSum's: small integers) run as f32.
 */
interface Case { test: string; axes: Record<string, number | 'last'>; name?: string; argmin?: boolean }
const CASES: Case[] = [
  // Reductions, softmax, normalisation statistics and matmuls over the symbolic axis.
  { test: 'test_softmax_axis_0', axes: { x: 0 } },
  { test: 'test_reduce_max_default_axes_keepdims_random', axes: { data: 0 } },
  { test: 'test_layer_normalization_4d_axis0', axes: { X: 0, W: 0, B: 0 } },
  { test: 'test_batchnorm_example_training_mode', axes: { x: 0 } },
  { test: 'test_group_normalization_example', axes: { x: 0 } },
  { test: 'test_matmul_4d', axes: { a: 0, b: 0 } },
  { test: 'test_gemm_default_matrix_bias', axes: { a: 0, c: 0 } },
  // Moving data along it: concatenation, transposes, flatten, splits of the other axes, Trilu's mask.
  { test: 'test_concat_2d_axis_0', axes: { value0: 0, value1: 0 } },
  { test: 'test_transpose_all_permutations_3', axes: { data: 0 } },
  { test: 'test_flatten_axis0', axes: { a: 0 } },
  { test: 'test_split_equal_parts_2d', axes: { input: 0 } },
  { test: 'test_slice_end_out_of_bounds', axes: { x: 0 } },
  { test: 'test_slice_default_axes', axes: { x: 0 } },
  { test: 'test_gather_1', axes: { data: 0 } },
  { test: 'test_tril', axes: { x: 0 } },
  { test: 'test_where_long_example', axes: { condition: 0, x: 0, y: 0 } },
  // A CNN's batch (samples of 1, tiled), a recurrent batch.
  { test: 'test_conv_with_strides_padding', axes: { x: 0 } },
  { test: 'test_convtranspose', axes: { X: 0 } },
  { test: 'test_maxpool_2d_ceil', axes: { x: 0 } },
  { test: 'test_resize_upsample_scales_nearest', axes: { X: 0 } },
  { test: 'test_gru_batchwise', axes: { X: 0 } },
  // A symbolic last axis: softmax and the triangle along it, slices from the end.
  { test: 'test_softmax_axis_2', axes: { x: 'last' }, name: 'seq' },
  { test: 'test_triu_one_row', axes: { x: 'last' }, name: 'seq' },
  { test: 'test_slice_neg', axes: { x: 'last' }, name: 'seq' },
  // Windows over a symbolic spatial axis (stride 1): Conv, ConvTranspose 1-D/2-D, pools, and Pad growing it (constant, edge, wrap).
  { test: 'test_basic_conv_with_padding', axes: { x: 'last' }, name: 'seq' },
  { test: 'test_basic_conv_with_padding', axes: { x: 2 }, name: 'seq' },
  { test: 'test_convtranspose_1d', axes: { X: 'last' }, name: 'seq' },
  { test: 'test_convtranspose', axes: { X: 'last' }, name: 'seq' },
  { test: 'test_maxpool_2d_pads', axes: { x: 'last' }, name: 'seq' },
  { test: 'test_averagepool_2d_precomputed_pads', axes: { x: 'last' }, name: 'seq' },
  { test: 'test_averagepool_2d_precomputed_pads_count_include_pad', axes: { x: 2 }, name: 'seq' },
  { test: 'test_constant_pad', axes: { x: 'last' }, name: 'seq' },
  { test: 'test_edge_pad', axes: { x: 'last' }, name: 'seq' },
  { test: 'test_wrap_pad', axes: { x: 'last' }, name: 'seq' },
  // Stride 2 over the symbolic axis: its length is floor((seq+1)/2) (ir/dims.ts floor atoms).
  { test: 'test_conv_with_strides_padding', axes: { x: 'last' }, name: 'seq' },
  { test: 'test_conv_with_strides_padding', axes: { x: 2 }, name: 'seq' },
  { test: 'test_conv_with_strides_and_asymmetric_padding', axes: { x: 2 }, name: 'seq' },
  // ArgMax/ArgMin over the symbolic axis and over another, with and without keepdims.
  { test: 'test_argmax_default_axis_random', axes: { data: 0 } },
  { test: 'test_argmax_keepdims_random', axes: { data: 0 } },
  { test: 'test_argmax_keepdims_random', axes: { data: 1 }, name: 'seq' },
  { test: 'test_argmax_no_keepdims_random', axes: { data: 1 }, name: 'seq' },
  { test: 'test_argmax_no_keepdims_random', axes: { data: 'last' }, name: 'seq' },
  { test: 'test_argmax_negative_axis_keepdims_random', axes: { data: 'last' }, name: 'seq' },
  { test: 'test_argmax_keepdims_random', axes: { data: 1 }, name: 'seq', argmin: true },
  { test: 'test_argmax_no_keepdims_random', axes: { data: 0 }, argmin: true },
  // CumSum along the symbolic axis (inclusive, exclusive, reverse) and along another; f32 and i32.
  { test: 'test_cumsum_1d', axes: { x: 0 }, name: 'seq' },
  { test: 'test_cumsum_1d_exclusive', axes: { x: 0 }, name: 'seq' },
  { test: 'test_cumsum_1d_reverse', axes: { x: 0 }, name: 'seq' },
  { test: 'test_cumsum_1d_reverse_exclusive', axes: { x: 0 }, name: 'seq' },
  { test: 'test_cumsum_2d_axis_0', axes: { x: 0 } },
  { test: 'test_cumsum_2d_axis_0', axes: { x: 'last' }, name: 'seq' },
  { test: 'test_cumsum_2d_negative_axis', axes: { x: 'last' }, name: 'seq' },
  { test: 'test_cumsum_2d_axis_1', axes: { x: 0 } },
  { test: 'test_cumsum_1d_int32_exclusive', axes: { x: 0 }, name: 'seq' },
  { test: 'test_cumsum_2d_int32', axes: { x: 0 } },
  { test: 'test_cumsum_2d_int32', axes: { x: 'last' }, name: 'seq' },
  // Tile of a symbolic axis ([2·batch, …]) and beside one; RMSNormalization over it and beside it.
  { test: 'test_tile', axes: { x: 0 } },
  { test: 'test_tile', axes: { x: 'last' }, name: 'seq' },
  { test: 'test_tile_precomputed', axes: { x: 1 }, name: 'seq' },
  { test: 'test_rms_normalization_default_axis', axes: { X: 0 } },
  { test: 'test_rms_normalization_default_axis', axes: { X: 'last', W: 0 }, name: 'seq' },
  { test: 'test_rms_normalization_4d_axis0', axes: { X: 0, W: 0 } },
  { test: 'test_rms_normalization_3d_axis1_epsilon', axes: { X: 1, W: 0 }, name: 'seq' },
  // Einsum (f64 files): the symbolic label batched, contracted (matmul's k), free, summed, under '...'.
  { test: 'test_einsum_batch_matmul', axes: { x: 0, y: 0 } },
  { test: 'test_einsum_batch_matmul', axes: { x: 'last', y: 1 }, name: 'seq' },
  { test: 'test_einsum_inner_prod', axes: { x: 0, y: 0 }, name: 'seq' },
  { test: 'test_einsum_sum', axes: { x: 0 } },
  { test: 'test_einsum_sum', axes: { x: 'last' }, name: 'seq' },
  { test: 'test_einsum_transpose', axes: { x: 0 } },
  { test: 'test_einsum_batch_diagonal', axes: { x: 0 } },
  // TopK beside the symbolic axis (k = 3 along it is refused below), largest and smallest, f32 and int64 with ties.
  { test: 'test_top_k', axes: { x: 0 } },
  { test: 'test_top_k_smallest', axes: { x: 0 } },
  { test: 'test_top_k_same_values_2d', axes: { x: 0 } },
  // Integer Div and Pow (the i32 loops over a run-time length), Pow's exponent f32.
  { test: 'test_div_int32_trunc', axes: { x: 0, y: 0 } },
  { test: 'test_pow_types_int64_float32', axes: { x: 0, y: 0 } },
];

const label = (c: Case) => `${c.test}${c.argmin ? ' as ArgMin' : ''} (${c.name ?? 'batch'} on ${JSON.stringify(c.axes)})`;

type Arr = Float32Array | Int32Array | Uint8Array;
const toArray = (t: OnnxTensor): Arr =>
  t.dtype === DT.FLOAT ? Float32Array.from(t.data as ArrayLike<number>) : t.dtype === DT.BOOL ? Uint8Array.from(t.data as ArrayLike<number>) : Int32Array.from(t.data as ArrayLike<number>, Number);
/** t with `axis` made `k` long: its first k entries, or its entries repeated (floats shifted per repeat). */
function fit(t: OnnxTensor, axis: number, k: number): OnnxTensor {
  const n = t.dims[axis]!, outer = t.dims.slice(0, axis).reduce((a, b) => a * b, 1), inner = t.dims.slice(axis + 1).reduce((a, b) => a * b, 1);
  const out: number[] = [];
  for (let o = 0; o < outer; o++) for (let r = 0; r < k; r++) for (let i = 0; i < inner; i++) out.push(Number(t.data[(o * n + (r % n)) * inner + i]) + (t.dtype === DT.FLOAT ? 0.25 * Math.floor(r / n) : 0));
  return { ...t, dims: t.dims.map((d, i) => (i === axis ? k : d)), data: out };
}
/** Imports, binding the inputs the importer needs as constants (recurrent weights) to the sample's values. */
function importBound(bytes: Uint8Array, opts: ImportOptions, sample: Map<string, OnnxTensor>, constants: Record<string, OnnxTensor>): Graph {
  for (;;) {
    try { return importOnnx(bytes, { ...opts, constants }).graph; } catch (e) {
      if (!(e instanceof NeedsConstantError) || !sample.has(e.input) || constants[e.input]) throw e;
      constants[e.input] = sample.get(e.input)!;
    }
  }
}

interface Prepared { c: Case; name: string; bound: number; graph: Graph; feeds: (b: number) => Record<string, { data: Arr; shape: number[] }>; fixed: (b: number) => Graph }
function prepare(c: Case): Prepared {
  const dir = join(NODE, c.test), file = readFileSync(join(dir, 'model.onnx'));
  const bytes = c.argmin ? Buffer.from(file.toString('latin1').replaceAll('ArgMax', 'ArgMin'), 'latin1') : file, m = readOnnxModel(bytes);
  const inputs = m.graph.inputs.filter((v) => !m.graph.initializers.some((t) => t.name === v.name));
  const files = readdirSync(join(dir, 'test_data_set_0')).filter((f) => f.startsWith('input_')).sort((a, b) => parseInt(a.slice(6)) - parseInt(b.slice(6)));
  const sample = new Map(inputs.map((v, i) => {
    const t = readOnnxTensor(readFileSync(join(dir, 'test_data_set_0', files[i]!)));
    return [v.name, t.dtype === DT.DOUBLE ? { ...t, dtype: DT.FLOAT, data: Float32Array.from(t.data as Float64Array) } : t];
  }));
  const axisOf = (name: string) => { const a = c.axes[name]!; return a === 'last' ? sample.get(name)!.dims.length - 1 : a; };
  const first = Object.keys(c.axes)[0]!, n = sample.get(first)!.dims[axisOf(first)]!, bound = n === 1 ? 3 : Math.min(n, 5), name = c.name ?? 'batch';
  for (const k of Object.keys(c.axes)) {
    expect(sample.get(k)?.dims[axisOf(k)], `${c.test} input ${k}`).toBe(n);
    if (bound !== n) sample.set(k, fit(sample.get(k)!, axisOf(k), bound));
  }
  const sym = setInputDims(bytes, Object.fromEntries(inputs.map((v) => {
    const t = sample.get(v.name)!;
    return [v.name, { dims: t.dims.map((d, i) => (v.name in c.axes && i === axisOf(v.name) ? name : d)), dtype: t.dtype }];
  })));
  const constants: Record<string, OnnxTensor> = {};
  const graph = importBound(sym, { dims: { [name]: { max: bound } } }, sample, constants);
  expect(graph.inputs.some((i) => i.type.dims), `${c.test} keeps '${name}' symbolic`).toBe(true);
  const feeds = (b: number) => Object.fromEntries(inputs.filter((v) => !constants[v.name]).map((v) => {
    const t = sample.get(v.name)!;
    return [v.name, v.name in c.axes ? { data: toArray(fit(t, axisOf(v.name), b)), shape: t.dims.map((d, i) => (i === axisOf(v.name) ? b : d)) } : { data: toArray(t), shape: t.dims }];
  }));
  return { c, name, bound, graph, feeds, fixed: (b) => importBound(sym, { dims: { [name]: b } }, sample, { ...constants }) };
}

/** batch_ops.onnx: PyTorch's inputs and outputs at each stored size. */
const BATCH_OPS = { sizes: [[1, 1], [2, 3], [5, 7], [3, 1], [1, 7]], io: readSafetensors(readFileSync(join(SYMBOLIC, 'batch_ops.safetensors'))) };
const batchOpsFeeds = (k: number) => {
  const [b, t] = BATCH_OPS.sizes[k]!, get = (n: string) => BATCH_OPS.io.get(`size${k}.input.${n}`)!.data;
  return { x: { data: get('x') as Float32Array, shape: [b!, 6] }, s: { data: get('s') as Float32Array, shape: [b!, t!, 8] }, m: { data: Uint8Array.from(get('m') as Int32Array), shape: [b!, t!] }, c: { data: get('c') as Float32Array, shape: [b!, 6, 3, 3] } };
};

/** heads.onnx (heads.py): a classifier's ArgMax/ArgMin and CumSum position ids; PyTorch's outputs at each stored size. */
const HEADS = { sizes: [[1, 1], [2, 3], [5, 7], [3, 1], [1, 7], [4, 5]], io: readSafetensors(readFileSync(join(SYMBOLIC, 'heads.safetensors'))) };
const headsFeeds = (k: number) => {
  const [b, t] = HEADS.sizes[k]!, get = (n: string) => HEADS.io.get(`size${k}.input.${n}`)!.data;
  return { x: { data: get('x') as Float32Array, shape: [b!, 16] }, s: { data: get('s') as Float32Array, shape: [b!, t!, 4] }, mask: { data: get('mask') as Int32Array, shape: [b!, t!] } };
};

/**
 * CumSum along an axis too long for a triangle (seq ≤ 300, TRIANGLE_MAX 256: f32 takes the doubling
 * scan), inclusive and exclusive-reverse; x = small integers, so every sum is exact in f32.
 */
const LONG = { bound: 300, sizes: [300, 1, 2, 257, 100] };
function longCumsum(): Graph {
  const g = new OnnxGraph();
  g.input('x', [2, 'seq']);
  const ax = g.ints('ax', [], [1]);
  g.name(g.op1('CumSum', ['x', ax]), 'inc');
  g.name(g.op1('CumSum', ['x', ax], { exclusive: 1, reverse: 1 }), 'exrev');
  for (const o of ['inc', 'exrev']) g.output(o, [2, 'seq']);
  return importOnnx(g.finish('long_cumsum', 17), { dims: { seq: { max: LONG.bound } } }).graph;
}
const longX = (t: number) => Float32Array.from({ length: 2 * t }, (_, i) => ((i * 7) % 11) - 5 + (i >= t ? 20 : 0));
/** Hand-computed: inclusive prefix sums and exclusive suffix sums of each row. */
function longWant(t: number) {
  const x = longX(t), inc = new Float32Array(2 * t), exrev = new Float32Array(2 * t);
  for (let r = 0; r < 2; r++) {
    for (let j = 0, a = 0; j < t; j++) { a += x[r * t + j]!; inc[r * t + j] = a; }
    for (let j = t - 1, a = 0; j >= 0; j--) { exrev[r * t + j] = a; a += x[r * t + j]!; }
  }
  return { inc, exrev };
}

const same = (got: ArrayLike<number>, want: Arr, what: string) => {
  if (want instanceof Float32Array) expectTorch(Float32Array.from(got), want, what);
  else expect(Array.from(got), what).toEqual(Array.from(want));
};

describe('symbolic sizes through ONNX import, differentially', () => {
  test('node tests with an axis kept symbolic match their fixed-size import at every size (compiled and reference), and a PyTorch export of the shape patterns matches PyTorch', async () => {
    const prepared = CASES.map(prepare);
    const batchOps = importOnnx(readFileSync(join(SYMBOLIC, 'batch_ops.onnx')), { dims: { batch: { max: 5 }, seq: { max: 7 } } }).graph;
    const heads = importOnnx(readFileSync(join(SYMBOLIC, 'heads.onnx')), { dims: { batch: { max: 5 }, seq: { max: 7 } } }).graph;
    const long = longCumsum();
    expect(long.nodes.some((n) => n.op === 'matmul'), 'a 300-long CumSum scans without a triangle').toBe(false);
    const compiled = await compileEntries([...prepared.map((p, i) => ({ name: `t${i}`, graph: p.graph })), { name: 'batch_ops', graph: batchOps }, { name: 'heads', graph: heads }, { name: 'long', graph: long }], [], { isas: TEST_ISAS });
    // The oracle: the fixed import at each size, in the reference.
    const oracle = prepared.map((p) => Array.from({ length: p.bound }, (_, j) => {
      const g = p.fixed(j + 1), out = interpret(g, Object.fromEntries(Object.entries(p.feeds(j + 1)).map(([k, v]) => [k, v.data])));
      return Object.fromEntries(g.outputs.map((o) => [o.name, { data: out[o.name] as Arr, shape: [...o.node.type.shape] }]));
    }));
    prepared.forEach((p, i) => {
      for (let b = 1; b <= p.bound; b++) {
        const ref = interpret(p.graph, Object.fromEntries(Object.entries(p.feeds(b)).map(([k, v]) => [k, v.data])), undefined, { [p.name]: b });
        for (const [o, w] of Object.entries(oracle[i]![b - 1]!)) same(ref[o]!, w.data, `${label(p.c)} ${o} reference, ${p.name} ${b}`);
      }
    });
    const sizes = BATCH_OPS.sizes.map(([batch, seq]) => ({ batch: batch!, seq: seq! }));
    sizes.forEach((s, k) => {
      const feeds = batchOpsFeeds(k), ref = interpret(batchOps, Object.fromEntries(Object.entries(feeds).map(([n, v]) => [n, v.data])), undefined, s);
      for (const o of batchOps.outputs) expectTorch(ref[o.name] as Float32Array, BATCH_OPS.io.get(`size${k}.output.${o.name}`)!.data as Float32Array, `batch_ops ${o.name} reference at ${JSON.stringify(s)}`);
    });
    HEADS.sizes.forEach(([batch, seq], k) => {
      const feeds = headsFeeds(k), ref = interpret(heads, Object.fromEntries(Object.entries(feeds).map(([n, v]) => [n, v.data])), undefined, { batch: batch!, seq: seq! });
      for (const o of heads.outputs) same(ref[o.name]!, HEADS.io.get(`size${k}.output.${o.name}`)!.data as Arr, `heads ${o.name} reference at [${batch}, ${seq}]`);
    });
    for (const t of LONG.sizes) {
      const ref = interpret(long, { x: longX(t) }, undefined, { seq: t }), want = longWant(t);
      for (const o of ['inc', 'exrev'] as const) expect(Array.from(ref[o]!), `long ${o} reference at seq ${t}`).toEqual(Array.from(want[o]));
    }
    for (const isa of TEST_ISAS) {
      const model = await loadModelBytes(compiled.bytes, { isa });
      prepared.forEach((p, i) => {
        // The bound first, so each smaller size runs over what it left.
        for (const b of [p.bound, ...Array.from({ length: p.bound }, (_, j) => j + 1)]) {
          const out = model.call(`t${i}`, p.feeds(b));
          for (const [o, w] of Object.entries(oracle[i]![b - 1]!)) {
            expect(model.outputShapes[o], `${label(p.c)} ${o} shape on ${isa}, ${p.name} ${b}`).toEqual(w.shape);
            same(out[o] as ArrayLike<number>, w.data, `${label(p.c)} ${o} on ${isa}, ${p.name} ${b}`);
          }
        }
      });
      for (const k of [2, 0, 1, 3, 4]) {
        const out = model.call('batch_ops', batchOpsFeeds(k));
        for (const o of batchOps.outputs) {
          const want = BATCH_OPS.io.get(`size${k}.output.${o.name}`)!;
          expect(model.outputShapes[o.name], `batch_ops ${o.name} shape on ${isa} at size ${k}`).toEqual(want.shape);
          expectTorch(out[o.name] as Float32Array, want.data as Float32Array, `batch_ops ${o.name} on ${isa} at ${JSON.stringify(sizes[k])}`);
        }
      }
      for (const k of [2, 0, 1, 3, 4, 5]) {
        const out = model.call('heads', headsFeeds(k));
        for (const o of heads.outputs) {
          const want = HEADS.io.get(`size${k}.output.${o.name}`)!;
          expect(model.outputShapes[o.name], `heads ${o.name} shape on ${isa} at size ${k}`).toEqual(want.shape);
          same(out[o.name] as ArrayLike<number>, want.data as Arr, `heads ${o.name} on ${isa} at [${HEADS.sizes[k]}]`);
        }
      }
      for (const t of LONG.sizes) {
        const out = model.call('long', { x: { data: longX(t), shape: [2, t] } }), want = longWant(t);
        for (const o of ['inc', 'exrev'] as const) expect(Array.from(out[o] as Float32Array), `long ${o} on ${isa} at seq ${t}`).toEqual(Array.from(want[o]));
      }
      model.dispose();
    }
  }, 120_000);

  test('what the sweep found compiled wrong below the bound is refused, naming the op and the size', () => {
    const refused: Array<[Case, RegExp]> = [
      // [batch] meeting a fixed [2] (bound 2) broadcasts only at batch 1: compiled, it read past row 0.
      [{ test: 'test_where_example', axes: { condition: 0 } }, /\(Where, opset 16\): where: input 0 \[batch, 2\] meets \[2, 2\]: its size 'batch' would broadcast only where it is 1/],
      [{ test: 'test_matmul_3d', axes: { a: 0 } }, /\(MatMul, opset 13\): matmul: input 0 \[batch\] meets \[2\]: its size 'batch' would broadcast only where it is 1/],
      [{ test: 'test_layer_normalization_3d_axis0_epsilon', axes: { X: 0 } }, /\(LayerNormalization, opset 17\): mul: input 0 \[batch, 3, 5\] meets \[2, 3, 5\]/],
      // RMSNormalization's fixed scale against the normalized [batch, 3, 4, 5]: refused before any broadcast.
      [{ test: 'test_rms_normalization_4d_axis0', axes: { X: 0 } }, /\(RMSNormalization, opset 23\): scale of shape \[2,3,4,5\] for the normalized shape \[batch,3,4,5\] \(it must broadcast to it\) is not supported/],
      // Filters given as an input, [batch, 1, 3, 3]: read at their bound.
      [{ test: 'test_basic_conv_with_padding', axes: { x: 0, W: 0 } }, /\(Conv, opset 22\): input W \[batch, 1, 3, 3\] with the symbolic size 'batch' on axis 0 \(Conv's weights and bias must have fixed sizes\) is not supported/],
      // k = 3 along a symbolic axis would be more than the axis below 3.
      [{ test: 'test_top_k', axes: { x: 'last' }, name: 'seq' }, /\(TopK, opset \d+\): k = 3 along axis 1 of X \[3, seq\], the symbolic size 'seq' \(k must be at most the size at every size from 1; only k = 1 can be, or give the size a min in dims\) is not supported/],
      // Windows over a symbolic length: an unpadded 3×3 kernel does not fit size 1; reflect needs a length above its pad.
      [{ test: 'test_basic_conv_without_padding', axes: { x: 'last' }, name: 'seq' }, /\(Conv, opset \d+\): Conv: the kernel 3×3 spans 3 cells, so dim 3 of input \[1, 1, 5, seq\] must be at least 3 long/],
      [{ test: 'test_averagepool_2d_pads', axes: { x: 'last' }, name: 'seq' }, /\(AveragePool, opset \d+\): AveragePool with pads \[2,2; 2,2\] \(unequal, or more than half the kernel\) over the symbolic size 'seq' is not supported/],
      [{ test: 'test_reflect_pad', axes: { x: 'last' }, name: 'seq' }, /\(Pad, opset \d+\): Pad: mode reflect pads dim 3 of run-time size 'seq' \(as small as 1/],
    ];
    for (const [c, want] of refused) expect(() => prepare(c), c.test).toThrow(want);
  });
});
