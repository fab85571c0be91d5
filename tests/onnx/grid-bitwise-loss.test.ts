// ONNX GridSample, AffineGrid, the Bitwise ops and the two losses (compiler/onnx/ops/sampling.ts,
// bitwise.ts, losses.ts, through the DSL's F.gridSample / F.affineGrid, bitwise ops and
// F.nllLoss / F.crossEntropy). PyTorch 1.13's opset-16 export of a small Spatial Transformer
// Network and of grid_sample in seven mode / padding / align_corners combinations
// (tests/fixtures/onnx-grid-sample/export.py) against PyTorch's outputs, compiled and in the
// reference; hand-built opset-20 AffineGrid (2-D, 3-D, a batch chosen at run time) and GridSample
// (the renamed modes, 5-D linear) against torch's affine_grid / grid_sample values from the same
// script; ONNX's own GridSample node tests (values transcribed); hand-built Bitwise* and
// NegativeLogLikelihoodLoss / SoftmaxCrossEntropyLoss against values computed here; the refusals.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { DT, OnnxGraph } from '../../bench/onnx.ts';
import { compileGraph, readSafetensors } from '../../compiler/index.ts';
import { importOnnx } from '../../compiler/onnx/import.ts';
import { interpret } from '../../compiler/reference/interpret.ts';
import { loadModelBytes } from '../../runtime/model.ts';
import { TEST_ISAS } from '../helpers/isa.ts';

const FIX = join(import.meta.dirname, '..', 'fixtures', 'onnx-grid-sample');
const io = readSafetensors(readFileSync(join(FIX, 'io.safetensors')), 'onnx-grid-sample/io.safetensors');
const extra = readSafetensors(readFileSync(join(FIX, 'extra.safetensors')), 'onnx-grid-sample/extra.safetensors');
const f32 = (m: typeof io, n: string) => m.get(n)!.data as Float32Array;

/** Each element within tol·(1 + |want|) of want (NaN where want is NaN). */
function close(got: ArrayLike<number>, want: ArrayLike<number>, tol: number, what: string): void {
  expect(got.length, what).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    const w = want[i]!, g = got[i]!;
    if (Number.isNaN(w)) expect(g, `${what} [${i}]`).toBeNaN();
    else expect(Math.abs(g - w) <= tol * (1 + Math.abs(w)), `${what} [${i}]: ${g} vs ${w}`).toBe(true);
  }
}

const MODE_NAMES = ['bilinear_zeros_f', 'bilinear_reflection_t', 'nearest_border_t', 'nearest_reflection_f', 'bicubic_reflection_f', 'bicubic_border_t', 'bicubic_zeros_f'];
const modeOut = (n: string) => f32(extra, `modes.${n}`);

test("PyTorch's opset-16 export of an STN (grid from theta by MatMul, GridSample, classifier) matches PyTorch compiled and in the reference; its grid_sample in seven modes matches in the reference", async () => {
  const { graph, model } = importOnnx(readFileSync(join(FIX, 'model.onnx')));
  expect(model.opsets.get('')).toBe(16);
  expect(model.graph.nodes.filter((n) => n.opType === 'GridSample').length).toBe(1);
  const feeds = { x: f32(io, 'input.x') };
  expect(graph.outputs.map((o) => o.name)).toEqual(['logits', 'warped']);
  // 4-D is torch's vectorised kernel, which its AVX2 build computes with FMAs (compiler/dsl/sampling.ts):
  // within an ulp or so per tap; the warped image also carries the MatMul's rounding of the grid.
  const check = (got: Record<string, ArrayLike<number>>, what: string) => { for (const n of ['logits', 'warped']) close(got[n]!, io.get(`output.${n}`)!.data, 1e-5, `${what} ${n}`); };
  check(interpret(graph, feeds), 'reference');
  const { bytes } = await compileGraph(graph, { name: 'stn', isas: TEST_ISAS });
  for (const isa of TEST_ISAS) {
    const m = await loadModelBytes(bytes, { isa });
    check(m.run(feeds), isa);
    m.dispose();
  }

  const modes = importOnnx(readFileSync(join(FIX, 'modes.onnx')));
  expect(modes.model.graph.nodes.filter((n) => n.opType === 'GridSample').map((n) => [...n.attrs.keys()].sort())[0]).toEqual(['align_corners', 'mode', 'padding_mode']);
  const ref = interpret(modes.graph, { x: feeds.x, g: f32(extra, 'modes.g') });
  expect(modes.graph.outputs.map((o) => o.name)).toEqual(MODE_NAMES);
  for (const n of MODE_NAMES) close(ref[n]!, modeOut(n), 1e-6, `reference ${n}`);
  // 'nearest' picks the same pixels: exact (the grid holds ties at 0, rounded to even).
  for (const n of ['nearest_border_t', 'nearest_reflection_f']) expect(Array.from(ref[n]!), n).toEqual(Array.from(modeOut(n)));
}, 60_000);

/** The opset-20 graph: GridSample by its new mode names (4-D, 5-D) and AffineGrid (fixed sizes, and a batch N chosen at run time). */
function opset20(): Uint8Array {
  const g = new OnnxGraph();
  const out = (v: string, name: string, dims: (number | string)[]) => { g.name(v, name); g.output(name, dims); };
  g.input('x', [2, 1, 8, 8]); g.input('g', [2, 5, 6, 2]); g.input('vx', [1, 2, 3, 4, 5]); g.input('vg', [1, 2, 3, 4, 3]);
  g.input('xi', ['N', 1, 'H', 'W']); g.input('gi', ['N', 5, 6, 2]);
  g.input('theta2', [2, 2, 3]); g.input('theta3', [2, 3, 4]); g.input('ts', ['N', 2, 3]); g.input('xs', ['N', 3, 4, 5]);
  out(g.op1('GridSample', ['x', 'g'], { mode: 'linear' }), 'linear_zeros_f', [2, 1, 5, 6]);
  out(g.op1('GridSample', ['x', 'g'], { mode: 'nearest', padding_mode: 'border', align_corners: 1 }), 'nearest_border_t', [2, 1, 5, 6]);
  out(g.op1('GridSample', ['x', 'g'], { mode: 'cubic', padding_mode: 'reflection' }), 'cubic_reflection_f', [2, 1, 5, 6]);
  out(g.op1('GridSample', ['xi', 'gi']), 'linear_hw', ['N', 1, 5, 6]);
  out(g.op1('GridSample', ['vx', 'vg']), 'vol_linear_zeros_f', [1, 2, 2, 3, 4]);
  out(g.op1('GridSample', ['vx', 'vg'], { padding_mode: 'border', align_corners: 1 }), 'vol_linear_border_t', [1, 2, 2, 3, 4]);
  const s2 = g.ints('s2', [4], [2, 3, 4, 5]);
  out(g.op1('AffineGrid', ['theta2', s2]), 'grid2_f', [2, 4, 5, 2]);
  out(g.op1('AffineGrid', ['theta2', s2], { align_corners: 1 }), 'grid2_t', [2, 4, 5, 2]);
  out(g.op1('AffineGrid', ['theta3', g.ints('s3', [5], [2, 1, 3, 4, 5])]), 'grid3_f', [2, 3, 4, 5, 3]);
  out(g.op1('AffineGrid', ['ts', g.op1('Shape', ['xs'])]), 'grid_n', ['N', 4, 5, 2]);
  return g.finish('grid20', 20);
}

test('opset 20: GridSample as linear / nearest / cubic (4-D, as the opset-16 export) and 5-D linear, AffineGrid 2-D and 3-D and over a batch chosen at run time, against torch 1.13 (a GridSample over N, H and W chosen at run time too)', async () => {
  const { graph } = importOnnx(opset20(), { dims: { N: { max: 3 }, H: { max: 8 }, W: { max: 8 } } });
  const theta2 = f32(extra, 'affine.theta2');
  const feeds = { x: f32(io, 'input.x'), g: f32(extra, 'modes.g'), vx: f32(extra, 'vol.x'), vg: f32(extra, 'vol.g'), theta2, theta3: f32(extra, 'affine.theta3'), ts: theta2, xs: new Float32Array(2 * 60) };
  Object.assign(feeds, { xi: feeds.x, gi: feeds.g });
  const want: Record<string, [ArrayLike<number>, number]> = {
    linear_zeros_f: [modeOut('bilinear_zeros_f'), 1e-6], nearest_border_t: [modeOut('nearest_border_t'), 0], cubic_reflection_f: [modeOut('bicubic_reflection_f'), 1e-6],
    linear_hw: [modeOut('bilinear_zeros_f'), 1e-6],
    vol_linear_zeros_f: [f32(extra, 'vol.linear_zeros_f'), 0], // the 5-D kernel is torch's scalar one, bit for bit
    vol_linear_border_t: [f32(extra, 'vol.linear_border_t'), 0],
    grid2_f: [f32(extra, 'affine.grid2_f'), 1e-6], grid2_t: [f32(extra, 'affine.grid2_t'), 1e-6], grid3_f: [f32(extra, 'affine.grid3_f'), 1e-6],
    grid_n: [f32(extra, 'affine.grid2_f'), 1e-6],
  };
  const ref = interpret(graph, feeds, undefined, { N: 2, H: 8, W: 8 });
  for (const [n, [w, tol]] of Object.entries(want)) close(ref[n]!, w, tol, `reference ${n}`);
  // At N = 1: the first batch's grid.
  const at1 = interpret(graph, { ...feeds, ts: theta2.slice(0, 6), xs: new Float32Array(60), xi: feeds.x.slice(0, 64), gi: feeds.g.slice(0, 60) }, undefined, { N: 1, H: 8, W: 8 });
  close(at1.grid_n!, f32(extra, 'affine.grid2_f').slice(0, 40), 1e-6, 'grid_n at N = 1');
  close(at1.linear_hw!, modeOut('bilinear_zeros_f').slice(0, 30), 1e-6, 'linear_hw at N = 1');
  const { bytes } = await compileGraph(graph, { name: 'grid20', isas: TEST_ISAS });
  const m = await loadModelBytes(bytes);
  const out = m.run({ ...feeds, ts: { data: theta2, shape: [2, 2, 3] }, xs: { data: feeds.xs, shape: [2, 3, 4, 5] }, xi: { data: feeds.x, shape: [2, 1, 8, 8] }, gi: { data: feeds.g, shape: [2, 5, 6, 2] } });
  for (const [n, [w, tol]] of Object.entries(want)) close(out[n]!, w, tol, `compiled ${n}`);
  m.dispose();
}, 60_000);

/**
 * ONNX's backend node tests of GridSample (onnx/backend/test/case/node/gridsample.py, values made
 * with torch 2.0; they are not in tests/fixtures/onnx-node-tests' subset), transcribed:
 * [name, attributes, X (1..12 for 5-D, 0..5 for 4-D), grid, Y, tolerance].
 */
const G4A = [-1, -1, -0.5, -0.5, -0.2, -0.2, 0, 0, 0, 0, -0.2, -0.2, 0.5, 0.5, 1, 1];
const G4P = [-10, -10, -5, -5, -0.2, -0.2, 10, 10, 10, 10, -0.2, -0.2, 5, 5, 10, 10];
const G4X = [-1, -0.8, -0.6, -0.5, -0.1, -0.2, 0.7, 0, 0, 0.4, 0.2, -0.2, -0.3, 0.5, -1, 1];
const G5 = [-1, -1, -1, -1, -0.5, 0.3, -0.5, -0.5, -0.5, 1, -0.6, -1, -0.2, -0.2, -0.2, 0.4, 0.2, 0.6, 0, 0, 0, -1, 0, 0,
  0, 0, 0, -1, 1, 0, -0.2, -0.2, -0.2, 1, 0.4, -0.2, 0.5, 0.5, 0.5, -1, -0.8, 0.8, 1, 1, 1, 0.4, 0.6, -0.3];
const NODE_TESTS: [string, Record<string, string | number>, 4 | 5, number[], number[], number][] = [
  ['nearest', { mode: 'nearest' }, 4, G4A, [0, 0, 2, 2, 2, 2, 5, 0], 0], // (0, 0) is a tie in x: rounded to even
  ['bicubic', { mode: 'cubic' }, 4, G4A, [-0.1406, 0.3828, 1.7556, 2.9688, 2.9688, 1.7556, 5.1445, 1.3906], 1e-4], // given to 4 decimals
  ['aligncorners_true', { mode: 'linear', align_corners: 1 }, 4, G4A, [0, 1.25, 2, 2.5, 2.5, 2, 3.75, 5], 1e-6],
  ['border_padding', { padding_mode: 'border' }, 4, G4P, [0, 0, 1.7, 5, 5, 1.7, 5, 5], 1e-6],
  ['reflection_padding', { padding_mode: 'reflection' }, 4, G4P, [2.5, 0, 1.7, 2.5, 2.5, 1.7, 5, 2.5], 1e-6],
  ['nearest_align_corners_0_additional_1', { mode: 'nearest' }, 4, G4X, [0, 0, 2, 3, 4, 3, 4, 4], 0],
  ['bicubic_align_corners_0_additional_1', { mode: 'cubic' }, 4, G4X, [-0.17325, 0.284265, 1.923106, 2.568, 5.170375, 2.284414, 4.744844, 1.046875], 1e-6],
  ['bicubic_align_corners_1_additional_1', { mode: 'cubic', align_corners: 1 }, 4, G4X, [0.304001, 1.12875, 2.26627, 3.144844, 4.5315, 2.45536, 4.599819, 4], 1e-6],
  ['volumetric_nearest_align_corners_0', { mode: 'nearest' }, 5, G5, [0, 0, 1, 0, 5, 12, 8, 0, 8, 0, 5, 0, 12, 0, 0, 8], 0],
  ['volumetric_nearest_align_corners_1', { mode: 'nearest', align_corners: 1 }, 5, G5, [1, 5, 5, 2, 5, 12, 8, 7, 8, 7, 5, 8, 12, 9, 12, 8], 0],
  ['volumetric_bilinear_align_corners_0', { mode: 'linear' }, 5, G5, [0.125, 3.4, 2, 0.45, 4.7, 10.9, 6.5, 3, 6.5, 1.75, 4.7, 3.3, 11, 2.52, 1.5, 5.49], 1e-6],
  ['volumetric_bilinear_align_corners_1', { mode: 'linear', align_corners: 1 }, 5, G5, [1, 6.7, 3.75, 2.4, 5.4, 9.3, 6.5, 6, 6.5, 7, 5.4, 6.6, 9.25, 8.4, 12, 6.1], 1e-6],
  ['volumetric_padding_border_additional_1', { mode: 'nearest', padding_mode: 'border' }, 5, G5.map((v) => v * 2.5), [1, 9, 1, 2, 1, 12, 8, 7, 8, 7, 1, 4, 12, 9, 12, 4], 0],
  ['volumetric_padding_reflection_additional_1', { mode: 'nearest', padding_mode: 'reflection' }, 5, G5.map((v) => v * 2.5), [12, 10, 1, 9, 1, 12, 8, 8, 8, 6, 1, 3, 12, 8, 1, 4], 0],
];

test("ONNX's own GridSample node tests (opset 20; 5-D nearest rounds a tie away from zero there, as torch's 5-D kernel), in the reference", () => {
  const g = new OnnxGraph();
  g.input('x4', [1, 1, 3, 2]); g.input('x5', [1, 1, 3, 2, 2]);
  const grids = new Map<number[], string>();
  for (const [name, attrs, r, grid, y] of NODE_TESTS) {
    if (!grids.has(grid)) grids.set(grid, g.init(`grid${grids.size}`, r === 4 ? [1, 2, 4, 2] : [1, 2, 4, 2, 3], Float32Array.from(grid)));
    g.name(g.op1('GridSample', [r === 4 ? 'x4' : 'x5', grids.get(grid)!], attrs), name);
    g.output(name, r === 4 ? [1, 1, 2, 4] : [1, 1, 2, 4, 2]);
    expect(y.length).toBe(r === 4 ? 8 : 16);
  }
  const { graph } = importOnnx(g.finish('node_tests', 20));
  const out = interpret(graph, { x4: Float32Array.of(0, 1, 2, 3, 4, 5), x5: Float32Array.from({ length: 12 }, (_, i) => i + 1) });
  for (const [name, , , , y, tol] of NODE_TESTS) {
    if (tol === 0) expect(Array.from(out[name]!), name).toEqual(y);
    else close(out[name]!, y, tol, name);
  }
});

const I32_MIN = -2147483648, I32_MAX = 2147483647;

/** One opset-18 graph: the Bitwise ops on int64 and int32, and the two losses. */
function bitsAndLosses(): Uint8Array {
  const g = new OnnxGraph();
  const out = (v: string, name: string, dims: number[], dt: number = DT.FLOAT) => { g.name(v, name); g.output(name, dims, dt); };
  g.input('a', [6], DT.INT64); g.input('b', [6], DT.INT64); g.input('p', [3], DT.INT32); g.input('q', [3], DT.INT32);
  out(g.op1('BitwiseAnd', ['a', 'b']), 'and', [6], DT.INT64);
  out(g.op1('BitwiseOr', ['a', g.ints('twelve', [1], [12])]), 'or12', [6], DT.INT64);
  out(g.op1('BitwiseXor', ['a', 'b']), 'xor', [6], DT.INT64);
  out(g.op1('BitwiseNot', ['a']), 'not', [6], DT.INT64);
  out(g.op1('BitwiseXor', ['p', 'q']), 'xor32', [3], DT.INT32);
  g.input('s', [2, 3, 2]); g.input('t', [2, 2], DT.INT64);
  const w = g.init('w', [3], Float32Array.of(0.5, 2, 1.5));
  out(g.op1('NegativeLogLikelihoodLoss', ['s', 't', w], { ignore_index: 1 }), 'nll_mean_w_ii', []);
  out(g.op1('NegativeLogLikelihoodLoss', ['s', 't'], { reduction: 'none' }), 'nll_none', [2, 2]);
  out(g.op1('NegativeLogLikelihoodLoss', ['s', 't', w], { reduction: 'sum' }), 'nll_sum_w', []);
  const [sce, logp] = g.op('SoftmaxCrossEntropyLoss', ['s', 't'], {}, 2) as [string, string];
  out(sce, 'sce_mean', []); out(logp, 'log_prob', [2, 3, 2]);
  out(g.op1('SoftmaxCrossEntropyLoss', ['s', 't', w], { reduction: 'none', ignore_index: 0 }), 'sce_none_w_ii', [2, 2]);
  out(g.op1('SoftmaxCrossEntropyLoss', ['s', g.ints('all2', [2, 2], [2, 2, 2, 2])], { ignore_index: 2 }), 'sce_all_ignored', []);
  return g.finish('bits_losses', 18);
}

test('BitwiseAnd / Or / Xor / Not on int64 (as i32) and int32, and NegativeLogLikelihoodLoss / SoftmaxCrossEntropyLoss (weights, ignore_index, each reduction, log_prob) against values computed here', async () => {
  const { graph } = importOnnx(bitsAndLosses());
  const a = Int32Array.of(5, -6, I32_MAX, I32_MIN, 0, 12345678), b = Int32Array.of(3, 7, -1, -1, -1, -87654321);
  const p = Int32Array.of(-1, 0x0f0f0f0f, I32_MIN), q = Int32Array.of(0x55555555, -0x0f0f0f10, 1);
  const s = Float32Array.of(0.5, -1, 2, 0.25, -0.75, 3, 1, 0, -2, 4, 0.5, -0.5), t = Int32Array.of(0, 1, 2, 1);
  const feeds = { a, b, p, q, s, t };
  // The losses in f64: s[n, c, d] at n·6 + c·2 + d; t[n, d] at n·2 + d.
  const W = [0.5, 2, 1.5], S = (n: number, c: number, d: number) => s[n * 6 + c * 2 + d]!;
  const lse = (n: number, d: number) => Math.log([0, 1, 2].reduce((z, c) => z + Math.exp(S(n, c, d)), 0));
  const LP = (n: number, c: number, d: number) => S(n, c, d) - lse(n, d);
  const cells = [[0, 0], [0, 1], [1, 0], [1, 1]] as const, T = (n: number, d: number) => t[n * 2 + d]!;
  const sum = (f: (n: number, d: number) => number) => cells.reduce((z, [n, d]) => z + f(n, d), 0);
  const want: Record<string, number[]> = {
    and: Array.from(a, (x, i) => x & b[i]!), or12: Array.from(a, (x) => x | 12), xor: Array.from(a, (x, i) => x ^ b[i]!), not: Array.from(a, (x) => ~x),
    xor32: Array.from(p, (x, i) => x ^ q[i]!),
    // ignore_index 1: the two targets of class 1 count for nothing, in the loss and in the mean's weights.
    nll_mean_w_ii: [sum((n, d) => (T(n, d) === 1 ? 0 : -W[T(n, d)]! * S(n, T(n, d), d))) / sum((n, d) => (T(n, d) === 1 ? 0 : W[T(n, d)]!))],
    nll_none: cells.map(([n, d]) => -S(n, T(n, d), d)),
    nll_sum_w: [sum((n, d) => -W[T(n, d)]! * S(n, T(n, d), d))],
    sce_mean: [sum((n, d) => -LP(n, T(n, d), d)) / 4],
    log_prob: Array.from(s, (_, i) => LP(Math.floor(i / 6), Math.floor(i / 2) % 3, i % 2)),
    sce_none_w_ii: cells.map(([n, d]) => (T(n, d) === 0 ? 0 : -W[T(n, d)]! * LP(n, T(n, d), d))),
    sce_all_ignored: [NaN], // 0 / 0
  };
  expect(want.and).toEqual([1, 2, I32_MAX, I32_MIN, 0, 12345678 & -87654321]);
  const check = (got: Record<string, ArrayLike<number>>, what: string) => {
    for (const [n, w] of Object.entries(want)) {
      if (['and', 'or12', 'xor', 'not', 'xor32'].includes(n)) expect(Array.from(got[n]!), `${what} ${n}`).toEqual(w);
      else close(got[n]!, w, 1e-6, `${what} ${n}`);
    }
  };
  check(interpret(graph, feeds), 'reference');
  // A target out of [0, C) that is not ignore_index raises when the code runs (ONNX leaves it undefined).
  expect(() => interpret(graph, { ...feeds, t: Int32Array.of(0, 3, 1, 1) })).toThrow(/Target 3 is out of bounds/);
  const { bytes } = await compileGraph(graph, { name: 'bits_losses', isas: TEST_ISAS });
  const m = await loadModelBytes(bytes);
  check(m.run(feeds), 'compiled');
  m.dispose();
}, 60_000);

test('over a batch N chosen at run time (reference at N = 3 and 1): SoftmaxCrossEntropyLoss mean, NegativeLogLikelihoodLoss none, BitwiseNot; without ignore_index nothing is ignored (torch\'s default −100 is out of bounds)', () => {
  const g = new OnnxGraph();
  g.input('s', ['N', 3]); g.input('t', ['N'], DT.INT64);
  g.name(g.op1('SoftmaxCrossEntropyLoss', ['s', 't']), 'sce'); g.output('sce', []);
  g.name(g.op1('NegativeLogLikelihoodLoss', ['s', 't'], { reduction: 'none' }), 'nll'); g.output('nll', ['N']);
  g.name(g.op1('BitwiseNot', ['t']), 'not'); g.output('not', ['N'], DT.INT64);
  const { graph } = importOnnx(g.finish('sym', 18), { dims: { N: { max: 4 } } });
  const s = Float32Array.of(1, 2, 3, -1, 0.5, 0, 4, -4, 2), t = Int32Array.of(2, 0, 1);
  for (const N of [3, 1]) {
    const out = interpret(graph, { s: s.slice(0, 3 * N), t: t.slice(0, N) }, undefined, { N });
    const rows = Array.from({ length: N }, (_, n) => Array.from(s.slice(3 * n, 3 * n + 3)));
    const ce = rows.map((r, n) => Math.log(r.reduce((z, v) => z + Math.exp(v), 0)) - r[t[n]!]!);
    close(out.sce!, [ce.reduce((a, b) => a + b) / N], 1e-6, `sce at N = ${N}`);
    close(out.nll!, rows.map((r, n) => -r[t[n]!]!), 0, `nll at N = ${N}`);
    expect(Array.from(out.not!), `not at N = ${N}`).toEqual(Array.from(t.slice(0, N), (v) => ~v));
  }
  expect(() => interpret(graph, { s, t: Int32Array.of(0, -100, 1) }, undefined, { N: 3 })).toThrow(/Target -100 is out of bounds/);
});

test('refusals: BitShift (unsigned types only), GridSample 5-D cubic, 5-D before opset 20, 3-D, opset 16 mode names at opset 20; Bitwise* of floats; a loss of a 1-D input or an unknown reduction', () => {
  const one = (opset: number, build: (g: OnnxGraph) => string, inputs: [string, (number | string)[], number?][]) => () => {
    const g = new OnnxGraph();
    for (const [n, d, dt] of inputs) g.input(n, d, dt);
    g.name(build(g), 'y'); g.output('y', []);
    return importOnnx(g.finish('bad', opset));
  };
  const vol: [string, number[]][] = [['x', [1, 1, 2, 2, 2]], ['g', [1, 2, 2, 2, 3]]];
  expect(one(18, (g) => g.op1('BitShift', ['a', 'b'], { direction: 'LEFT' }), [['a', [2], DT.INT64], ['b', [2], DT.INT64]])).toThrow(/BitShift \(ONNX defines it on uint8, uint16, uint32 and uint64 only; this importer has no unsigned integer types/);
  expect(one(20, (g) => g.op1('GridSample', ['x', 'g'], { mode: 'cubic' }), vol)).toThrow(/mode 'cubic' on 5-D X/);
  expect(one(16, (g) => g.op1('GridSample', ['x', 'g']), vol)).toThrow(/GridSample takes \[N, C, H, W\] before opset 20 is not supported/);
  expect(one(20, (g) => g.op1('GridSample', ['x', 'g']), [['x', [1, 1, 4]], ['g', [1, 3, 1]]])).toThrow(/X \[1, 1, 4\]: GridSample takes \[N, C, H, W\] or \[N, C, D, H, W\]/);
  expect(one(20, (g) => g.op1('GridSample', ['x', 'g'], { mode: 'bilinear' }), [['x', [1, 1, 2, 2]], ['g', [1, 2, 2, 2]]])).toThrow(/mode 'bilinear' \(opset 20 names 'linear', 'nearest', 'cubic'\)/);
  expect(one(16, (g) => g.op1('GridSample', ['x', 'g'], { padding_mode: 'wrap' }), [['x', [1, 1, 2, 2]], ['g', [1, 2, 2, 2]]])).toThrow(/padding_mode 'wrap'/);
  expect(one(18, (g) => g.op1('BitwiseAnd', ['a', 'b']), [['a', [2]], ['b', [2]]])).toThrow(/A of type float \(BitwiseAnd takes integers: int32, int64\)/);
  expect(one(13, (g) => g.op1('NegativeLogLikelihoodLoss', ['x', 't']), [['x', [3]], ['t', [], DT.INT64]])).toThrow(/input \[3\] \(expected \[N, C\] or \[N, C, d1, …\]\)/);
  expect(one(13, (g) => g.op1('SoftmaxCrossEntropyLoss', ['x', 't'], { reduction: 'batchmean' }), [['x', [2, 3]], ['t', [2], DT.INT64]])).toThrow(/reduction 'batchmean'/);
});
