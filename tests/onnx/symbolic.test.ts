// A symbolic batch through convolutional networks: PyTorch 1.13 exports with dynamic_axes
// {0: 'batch'} (tests/fixtures/onnx-symbolic, written offline by its export.py) import with
// { dims: { batch: { max: 5 } } }, compile once, and match PyTorch's outputs at batches 1, 3 and 5
// (compiled on every test ISA, and in the reference at those sizes); the runtime refuses batches
// 0 and 6. A symbolic size on an axis an op cannot take is refused, naming the op, axis and size.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { OnnxGraph } from '../../bench/onnx.ts';
import { compileEntries } from '../../compiler/driver/compile.ts';
import { dimsOf } from '../../compiler/ir/types.ts';
import { importOnnx, UnsupportedError } from '../../compiler/onnx/import.ts';
import { interpret } from '../../compiler/reference/interpret.ts';
import { readSafetensors } from '../../compiler/weights/safetensors.ts';
import { loadModelBytes } from '../../runtime/model.ts';
import { TEST_ISAS } from '../helpers/isa.ts';
import { expectTorch } from '../helpers/torch.ts';

const DIR = join(import.meta.dirname, '../fixtures/onnx-symbolic');
const io = readSafetensors(readFileSync(join(DIR, 'io.safetensors')));
const f32 = (k: string) => { const t = io.get(k); if (!t) throw new Error(`io.safetensors has no ${k}`); return { data: t.data as Float32Array, shape: t.shape }; };
const BATCHES = [1, 3, 5];
const DIMS = { dims: { batch: { max: 5 } } };

/** The first n samples of a batch-5 input, as a { data, shape } feed. */
const firstN = (k: string, n: number) => { const t = f32(k); return { data: t.data.slice(0, (t.data.length / t.shape[0]!) * n), shape: [n, ...t.shape.slice(1)] }; };

/** GroupNormalization (opset 18: scale and bias per group) on x [batch, 6, 3, 3], with the fixture's PyTorch GroupNorm(2, 6) parameters. */
function groupNormModel(): Uint8Array {
  const g = new OnnxGraph();
  g.input('x', ['batch', 6, 3, 3]);
  const y = g.op1('GroupNormalization', ['x', g.init('scale', [2], f32('param.groupnorm.scale').data), g.init('bias', [2], f32('param.groupnorm.bias').data)], { num_groups: 2, epsilon: { f: 1e-5 } });
  g.name(y, 'y');
  g.output('y', ['batch', 6, 3, 3]);
  return g.finish('groupnorm', 18);
}

/**
 * Hand-built: x [batch, 2, 3, 2] through Flatten at axis 0 and 2 (merging the batch), Dropout with
 * its mask, GlobalMaxPool, a Slice that takes the batch whole, Unsqueeze + Squeeze, Pad (edge, one
 * before) of a fixed axis, Concat along the batch, ReduceMean over the batch and a fixed axis.
 */
function miscModel(): Uint8Array {
  const g = new OnnxGraph();
  g.input('x', ['batch', 2, 3, 2]);
  g.name(g.op1('Flatten', ['x'], { axis: 0 }), 'f0');
  g.name(g.op1('Flatten', ['x'], { axis: 2 }), 'f2');
  const [d, mask] = g.op('Dropout', ['x'], {}, 2);
  g.name(d!, 'd'); g.name(mask!, 'mask');
  g.name(g.op1('GlobalMaxPool', ['x']), 'gmax');
  g.name(g.op1('Slice', ['x', g.ints('st', [2], [0, 1]), g.ints('en', [2], [2 ** 62, 3]), g.ints('ax', [2], [0, 2])]), 'sl');
  const u = g.op1('Unsqueeze', ['x', g.ints('u1', [1], [1])]);
  g.name(g.op1('Squeeze', [u, g.ints('s1', [1], [1])]), 'sq');
  g.name(g.op1('Pad', ['x', g.ints('pads', [8], [0, 0, 0, 1, 0, 0, 0, 0])], { mode: 'edge' }), 'pad');
  g.name(g.op1('Concat', ['x', 'x'], { axis: 0 }), 'catb');
  g.name(g.op1('ReduceMean', ['x'], { axes: [0, 2], keepdims: 0 }), 'mean');
  for (const k of ['f0', 'f2', 'd', 'gmax', 'sl', 'sq', 'pad', 'catb', 'mean']) g.output(k, []);
  g.output('mask', [], 9); // BOOL
  return g.finish('misc', 17);
}
/** What miscModel computes at batch n, by hand: x[b][c][h][w] = (b·12 + c·6 + h·2 + w) · (−1)^h. */
function miscExpected(n: number): Record<string, { data: number[]; shape: number[] }> {
  const x = (b: number, c: number, h: number, w: number) => (b * 12 + c * 6 + h * 2 + w) * (h % 2 ? -1 : 1);
  const all: number[] = [], gmax: number[] = [], sl: number[] = [], pad: number[] = [], mean = [0, 0, 0, 0];
  for (let b = 0; b < n; b++) for (let c = 0; c < 2; c++) {
    let m = -Infinity;
    for (let h = 0; h < 3; h++) {
      pad.push(x(b, c, h, 0)); // the edge, before
      for (let w = 0; w < 2; w++) { all.push(x(b, c, h, w)); m = Math.max(m, x(b, c, h, w)); if (h >= 1) sl.push(x(b, c, h, w)); pad.push(x(b, c, h, w)); mean[c * 2 + w] += x(b, c, h, w) / (3 * n); }
    }
    gmax.push(m);
  }
  return {
    f0: { data: all, shape: [1, n * 12] }, f2: { data: all, shape: [n * 2, 6] }, d: { data: all, shape: [n, 2, 3, 2] }, sq: { data: all, shape: [n, 2, 3, 2] },
    mask: { data: all.map(() => 1), shape: [n, 2, 3, 2] }, catb: { data: [...all, ...all], shape: [2 * n, 2, 3, 2] }, mean: { data: mean, shape: [2, 2] }, gmax: { data: gmax, shape: [n, 2, 1, 1] }, sl: { data: sl, shape: [n, 2, 2, 2] }, pad: { data: pad, shape: [n, 2, 3, 3] },
  };
}
const miscInput = (n: number) => Float32Array.from({ length: n * 12 }, (_, i) => i * (Math.floor(i / 2) % 3 % 2 ? -1 : 1));

const MODELS = ['cnn', 'upsample', 'catpad', 'interp'];
/** The conformance family's strided CNN (Conv, AveragePool, ReduceMean over H and W, Gemm), exported with a dynamic batch; PyTorch's outputs at batch 2. */
const STRIDED = join(import.meta.dirname, '../fixtures/onnx-torch/cnn_strided');
const strided = readSafetensors(readFileSync(join(STRIDED, 'io.safetensors')));

describe('ONNX import keeps a symbolic batch through CNNs', () => {
  test('PyTorch exports (Conv 1-D/2-D, ConvTranspose, pools, Batch/Instance/GroupNorm, Resize by scales and by sizes from Shape, Flatten, Concat/Split/Slice/Pad, ReduceMean) and a hand-built graph, compiled once, match PyTorch (or hand-computed values) at batches 1, 3 and 5', async () => {
    // Every export runs in the reference; the opset 17 ones and cnn at opset 13 (HardSigmoid and Mul
    // for Hardswish; the other two differ from 17 only in the opset) are compiled, in one artifact.
    const cases = [
      ...MODELS.flatMap((m) => [13, 17].map((opset) => ({ model: m, entry: `${m}${opset}`, compiled: opset === 17 || m === 'cnn', bytes: readFileSync(join(DIR, `${m}.opset${opset}.onnx`)) }))),
      { model: 'groupnorm', entry: 'groupnorm', compiled: true, bytes: groupNormModel() },
    ];
    const entries = cases.map((c) => ({ name: c.entry, graph: importOnnx(c.bytes, DIMS).graph }));
    for (const e of entries) for (const n of e.graph.inputs) expect(n.type.dims?.[0], `${e.name} ${n.label}`).toBe('batch');
    const misc = importOnnx(miscModel(), DIMS).graph, stridedGraph = importOnnx(readFileSync(join(STRIDED, 'model.dynamic.onnx')), DIMS).graph;
    const compiled = await compileEntries([...entries.filter((_, i) => cases[i]!.compiled), { name: 'misc', graph: misc }, { name: 'strided', graph: stridedGraph }], [], { isas: TEST_ISAS });
    const outputsOf = (model: string) => [...io.keys()].filter((k) => k.startsWith(`output.${model}.`) && k.endsWith('.b1')).map((k) => k.split('.')[2]!);
    const feedsAt = (c: (typeof cases)[number], n: number) => {
      const names = entries.find((e) => e.name === c.entry)!.graph.inputs.map((i) => i.label!);
      return Object.fromEntries(names.map((k) => [k, firstN(`input.${c.model}.${k}`, n)]));
    };
    // The reference at each batch: the graph instantiated at that size.
    cases.forEach((c, i) => {
      expect(outputsOf(c.model).length, c.model).toBeGreaterThan(0);
      for (const n of BATCHES) {
        const feeds = Object.fromEntries(Object.entries(feedsAt(c, n)).map(([k, v]) => [k, v.data]));
        const ref = interpret(entries[i]!.graph, feeds, undefined, { batch: n });
        for (const o of outputsOf(c.model)) expectTorch(ref[o] as Float32Array, f32(`output.${c.model}.${o}.b${n}`).data, `${c.entry} ${o} reference, batch ${n}`);
      }
    });
    expect(Object.fromEntries(misc.outputs.map((o) => [o.name, dimsOf(o.node.type)]))).toEqual({
      catb: ['2*batch', 2, 3, 2], mean: [2, 2], f0: [1, '12*batch'], f2: ['2*batch', 6], d: ['batch', 2, 3, 2], mask: ['batch', 2, 3, 2], gmax: ['batch', 2, 1, 1], sl: ['batch', 2, 2, 2], sq: ['batch', 2, 3, 2], pad: ['batch', 2, 3, 3],
    });
    for (const n of [1, 3]) {
      const ref = interpret(misc, { x: miscInput(n) }, undefined, { batch: n }), want = miscExpected(n);
      for (const [k, w] of Object.entries(want)) expectTorch(Float32Array.from(ref[k]!), Float32Array.from(w.data), `misc ${k} reference, batch ${n}`);
    }
    for (const isa of TEST_ISAS) {
      const model = await loadModelBytes(compiled.bytes, { isa });
      // cnn_strided at batch 2 (PyTorch's) and 1 (its first row).
      const sx = strided.get('input.x')!, sy = strided.get('output.y')!.data as Float32Array;
      for (const n of [1, 2]) {
        const out = model.call('strided', { x: { data: (sx.data as Float32Array).slice(0, (sx.data.length / 2) * n), shape: [n, ...sx.shape.slice(1)] } });
        expectTorch(out.y as Float32Array, sy.slice(0, (sy.length / 2) * n), `cnn_strided on ${isa}, batch ${n}`);
      }
      for (const n of [1, 3]) {
        const out = model.call('misc', { x: { data: miscInput(n), shape: [n, 2, 3, 2] } }), want = miscExpected(n);
        for (const [k, w] of Object.entries(want)) {
          expect(model.outputShapes[k], `misc ${k} shape on ${isa}, batch ${n}`).toEqual(w.shape);
          expectTorch(Float32Array.from(out[k] as ArrayLike<number>), Float32Array.from(w.data), `misc ${k} on ${isa}, batch ${n}`);
        }
      }
      for (const c of cases.filter((k) => k.compiled)) {
        for (const n of BATCHES) {
          const out = model.call(c.entry, feedsAt(c, n));
          for (const o of outputsOf(c.model)) {
            const want = f32(`output.${c.model}.${o}.b${n}`);
            expect(model.outputShapes[o], `${c.entry} ${o} shape, batch ${n}`).toEqual(want.shape);
            expectTorch(out[o] as Float32Array, want.data, `${c.entry} ${o} on ${isa}, batch ${n}`);
          }
        }
        // Outside [1, 5] the runtime refuses the batch, naming the size and its bound.
        const x = `input.${c.model}.${entries.find((e) => e.name === c.entry)!.graph.inputs[0]!.label!}`;
        const six = { ...feedsAt(c, 1), [x.split('.')[2]!]: { data: new Float32Array((f32(x).data.length / 5) * 6), shape: [6, ...f32(x).shape.slice(1)] } };
        expect(() => model.call(c.entry, six), `${c.entry} batch 6`).toThrow(/size 'batch', which must be an integer in \[1, 5\]; .* it is 6/);
        const zero = { ...feedsAt(c, 1), [x.split('.')[2]!]: { data: new Float32Array(0), shape: [0, ...f32(x).shape.slice(1)] } };
        expect(() => model.call(c.entry, zero), `${c.entry} batch 0`).toThrow(/size 'batch', which must be an integer in \[1, 5\]; .* it is 0/);
      }
      model.dispose();
    }
  }, 240_000);
});

describe('a symbolic size on an axis an op cannot take', () => {
  /** A graph of one op on x (and the inputs `extra` adds), imported with `dims`, as a function to call. */
  const importOne = (x: readonly (number | string)[], op: string, extra: (g: OnnxGraph) => string[], attrs: Parameters<OnnxGraph['op1']>[2] = {}, dims: Record<string, { max: number }> = { batch: { max: 5 } }, opset = 17) => {
    const g = new OnnxGraph();
    g.input('x', x);
    g.name(g.op1(op, ['x', ...extra(g)], attrs), 'y');
    g.output('y', []);
    return () => importOnnx(g.finish('m', opset), { dims });
  };
  /** Concat(Shape(x)[0:1], rest): the sizes PyTorch exports for F.interpolate(size=…) over a dynamic batch. */
  const sizesFromShape = (g: OnnxGraph, rest: number[]) => g.op1('Concat', [g.op1('Slice', [g.op1('Shape', ['x']), g.ints('s0', [1], [0]), g.ints('s1', [1], [1])]), g.ints('rest', [rest.length], rest)], { axis: 0 });
  const w = (name: string, dims: number[]) => (g: OnnxGraph) => g.init(name, dims, new Float32Array(dims.reduce((a, b) => a * b, 1)).fill(0.5));
  const HW = { batch: { max: 5 }, H: { max: 8 } };
  const layer = /takes a symbolic size only on the batch axis 0; its channels and spatial axes must be fixed sizes\) is not supported/;

  test('normalisations take it on every axis but the channels; 1-D/2-D convolutions and pools on the batch and spatial axes, where their windows fit every size', () => {
    const channels = 'takes a symbolic size on the batch and the spatial axes; its channels must be a fixed size\\) is not supported';
    const layers: Array<[Array<number | string>, string, (g: OnnxGraph) => string[], Record<string, number[]>, number, string, string]> = [
      [['batch', 'H', 10], 'Conv', (g) => [w('w', [4, 3, 3])(g)], {}, 1, 'H', channels],
      [['batch', 'H', 4, 4], 'AveragePool', () => [], { kernel_shape: [2, 2] }, 1, 'H', channels],
      [['batch', 'H', 8, 8], 'BatchNormalization', (g) => ['s', 'b', 'm', 'v'].map((k) => w(k, [3])(g)), {}, 1, 'H', channels],
      [['batch', 'H', 8], 'InstanceNormalization', (g) => ['s', 'b'].map((k) => w(k, [3])(g)), {}, 1, 'H', channels],
      // A dilated pool is the separable one, which takes the batch only.
      [['batch', 3, 'H', 8], 'MaxPool', () => [], { kernel_shape: [1, 1], dilations: [2, 1] }, 2, 'H', layer.source],
    ];
    for (const [x, op, extra, attrs, axis, size, why] of layers) {
      const f = importOne(x, op, extra, attrs, HW);
      expect(f, op).toThrow(UnsupportedError);
      expect(f, op).toThrow(new RegExp(`\\(${op}, opset 17\\): input X? ?\\[${x.join(', ')}\\] with the symbolic size '${size}' on axis ${axis} \\(${op} ${why}`));
    }
    // Windows over a symbolic length: the least size (1) must give an output; AveragePool's pads must be equal.
    const windows: Array<[() => unknown, RegExp]> = [
      [importOne(['batch', 3, 'H', 8], 'Conv', (g) => [w('w', [4, 3, 3, 3])(g)], {}, HW), /\(Conv, opset 17\): Conv: the kernel 3×3 spans 3 cells, so dim 2 of input \[batch, 3, H, 8\] must be at least 3 long, but 'H' is chosen at run time and may be as small as 1/],
      [importOne(['batch', 3, 'H'], 'Conv', (g) => [w('w', [4, 3, 3])(g)], { strides: [2], auto_pad: 'SAME_UPPER' }, HW), /\(Conv, opset 17\): auto_pad 'SAME_UPPER' with stride 2 over the symbolic size 'H' on axis 2 \(its pads would depend on the size modulo the stride\) is not supported/],
      [importOne(['batch', 3, 'H', 8], 'MaxPool', () => [], { kernel_shape: [2, 2] }, HW), /\(MaxPool, opset 17\): MaxPool: the kernel 2×2 spans 2 cells, so dim 2 of input \[batch, 3, H, 8\] must be at least 2 long/],
      [importOne(['batch', 3, 8, 'H'], 'AveragePool', () => [], { kernel_shape: [2, 2], pads: [0, 0, 1, 1] }, HW), /\(AveragePool, opset 17\): AveragePool with pads \[0,1; 0,1\] \(unequal, or more than half the kernel\) over the symbolic size 'H' is not supported/],
      [importOne(['batch', 3, 'H'], 'AveragePool', () => [], { kernel_shape: [3], pads: [1, 1], strides: [2], ceil_mode: 1 }, HW), /\(AveragePool, opset 17\): ceil_mode with stride 2 over the symbolic size 'H' on axis 2 is not supported/],
      [importOne(['batch', 3, 'H'], 'MaxPool', () => [], { kernel_shape: [2], pads: [1, 1], strides: [2], ceil_mode: 1 }, HW), /\(MaxPool, opset 17\): ceil_mode with stride 2 over the symbolic size 'H' on axis 2 \(a MaxPool's is taken at a stride up to kernel − end pad, 1\) is not supported/],
    ];
    for (const [f, why] of windows) expect(f).toThrow(why);
    // And what they take: ConvTranspose over a symbolic width, the global pools and the norms over H.
    const ok = (x: Array<number | string>, op: string, extra: (g: OnnxGraph) => string[], attrs: Record<string, number[]> = {}) => dimsOf(importOne(x, op, extra, attrs, HW)().graph.outputs[0]!.node.type);
    expect(ok(['batch', 3, 'H', 8], 'BatchNormalization', (g) => ['s', 'b', 'm', 'v'].map((k) => w(k, [3])(g)))).toEqual(['batch', 3, 'H', 8]);
    expect(ok(['batch', 3, 'H'], 'InstanceNormalization', (g) => ['s', 'b'].map((k) => w(k, [3])(g)))).toEqual(['batch', 3, 'H']);
    expect(ok(['batch', 3, 4, 'H'], 'ConvTranspose', (g) => [w('w', [3, 2, 3, 3])(g)])).toEqual(['batch', 2, 6, 'H+2']);
    expect(ok(['batch', 3, 'H'], 'Conv', (g) => [w('w', [4, 3, 3])(g)], { pads: [1, 1], strides: [2] })).toEqual(['batch', 4, 'floor((H+1)/2)']);
    // A MaxPool's ceil mode at a stride up to kernel − end pad (SqueezeNet's): floor mode over s − 1 more cells of −∞.
    expect(ok(['batch', 3, 'H'], 'MaxPool', () => [], { kernel_shape: [3], pads: [1, 1], strides: [2], ceil_mode: 1 } as never)).toEqual(['batch', 3, 'floor(H/2)+1']);
    expect(ok(['batch', 3, 'H', 8], 'GlobalAveragePool', () => [])).toEqual(['batch', 3, 1, 1]);
    expect(ok(['batch', 3, 'H'], 'GlobalMaxPool', () => [])).toEqual(['batch', 3, 1]);
    expect(ok(['batch', 3, 'H', 8], 'Conv', (g) => [w('w', [4, 3, 3, 3])(g)], { pads: [1, 1, 1, 1] })).toEqual(['batch', 4, 'H', 8]);
    // Weights given at run time are read at their shapes: [batch, …] filters (out channels = batch) compiled wrong at smaller batches.
    for (const [op, wDims] of [['Conv', ['batch', 1, 3, 3]], ['ConvTranspose', [1, 'batch', 3, 3]]] as const) {
      const g = new OnnxGraph();
      g.input('x', ['batch', 1, 5, 5]); g.input('w', wDims);
      g.name(g.op1(op, ['x', 'w']), 'y'); g.output('y', []);
      expect(() => importOnnx(g.finish('m', 17), { dims: { batch: { max: 3 } } }), op)
        .toThrow(new RegExp(`\\(${op}, opset 17\\): input W \\[${wDims.join(', ')}\\] with the symbolic size 'batch' on axis ${wDims.indexOf('batch')} \\(${op}'s weights and bias must have fixed sizes\\) is not supported`));
    }
  });

  test('Split and Slice not along it, Pad only where the least size holds the pad; Squeeze only with axes that are 1; Resize only at scale 1, by an integer scale or with sizes naming the axis', () => {
    const B = ['batch', 3] as const;
    const cases: Array<[() => unknown, RegExp]> = [
      [importOne(B, 'Split', () => [], { axis: 0, num_outputs: 1 }, undefined, 18), /\(Split, opset 18\): input \[batch, 3\] with the symbolic size 'batch' on axis 0 \(Split cuts its axis at fixed sizes\)/],
      [importOne(['batch', 1, 3], 'Squeeze', () => []), /\(Squeeze, opset 17\): input \[batch, 1, 3\] with the symbolic size 'batch' on axis 0 \(Squeeze without axes drops the axes that are 1 at run time; give the axes\)/],
      [importOne(B, 'Squeeze', (g) => [g.ints('a', [1], [0])]), /\(Squeeze, opset 17\): squeezing axis 0 of the symbolic size 'batch' is not supported/],
      [importOne(['batch', 3, 4], 'Resize', (g) => ['', g.init('scales', [3], Float32Array.of(2.5, 1, 2))]), /\(Resize, opset 17\): resizing axis 0 of the symbolic size 'batch' \(by scale 2\.5; a symbolic axis may only keep its size \(scale 1\) or grow by an integer scale, not with align_corners or exclude_outside\) is not supported/],
      [importOne(['batch', 3, 4], 'Resize', (g) => ['', '', g.ints('sizes', [3], [5, 3, 8])]), /resizing axis 0 of the symbolic size 'batch' \(by sizes, to 5; a symbolic axis may only keep its size \(sizes naming it, with keep_aspect_ratio_policy 'stretch'\) or grow by an integer scale/],
      // Sizes from Shape(x) keep the batch, but not where one scale from the other axes would resize it too.
      [importOne(['batch', 3, 4], 'Resize', (g) => ['', '', sizesFromShape(g, [3, 8])], { keep_aspect_ratio_policy: 'not_larger' }, undefined, 18),
        /\(Resize, opset 18\): resizing axis 0 of the symbolic size 'batch' \(by sizes, to batch; a symbolic axis may only keep its size \(sizes naming it, with keep_aspect_ratio_policy 'stretch'\) or grow by an integer scale/],
    ];
    for (const [f, want] of cases) { expect(f).toThrow(UnsupportedError); expect(f).toThrow(want); }
    // Pad grows a symbolic axis where its least size holds the pad: reflect needs more than 1.
    expect(importOne(B, 'Pad', (g) => [g.ints('p', [4], [0, 0, 1, 0])], { mode: 'reflect' }))
      .toThrow(/\(Pad, opset 17\): Pad: mode reflect pads dim 0 of run-time size 'batch' \(as small as 1: every size runs from 1 to its bound\) by 0 to 0 cells a side, got \(0, 1\)/);
    // A slice of the symbolic axis that only some sizes allow (ONNX would clamp it per size) fails the DSL's check of every size.
    for (const [s0, e0] of [[1, 100], [0, 4]]) {
      expect(importOne(B, 'Slice', (g) => [g.ints('s', [1], [s0!]), g.ints('e', [1], [e0!]), g.ints('a', [1], [0])]))
        .toThrow(new RegExp(`\\(Slice, opset 17\\): slice: range ${s0}:\\d+:1 is invalid for axis 0 of \\[\\d+, 3\\] — with batch=\\d+ .*a symbolic size must work for every value from 1 to its bound`));
    }
    // Along another axis they follow it; Slice takes it whole (from 0, or −bound, to the bound or past it).
    for (const f of [
      importOne(B, 'Concat', () => ['x'], { axis: 1 }),
      importOne(B, 'Slice', (g) => [g.ints('s', [2], [-5, 1]), g.ints('e', [2], [5, 3]), g.ints('a', [2], [0, 1])]),
      importOne(['batch', 3, 4], 'Resize', (g) => ['', g.init('scales', [3], Float32Array.of(1, 1, 2))], { mode: 'nearest', coordinate_transformation_mode: 'tf_half_pixel_for_nn', nearest_mode: 'floor' }, undefined, 13),
      // (tf_half_pixel_for_nn's linear shifts by ½ even at scale 1: an integer scale over a symbolic axis, tests/onnx/resize-runtime-size.test.ts.)
      importOne(['batch', 3, 4], 'Resize', (g) => ['', g.init('scales', [3], Float32Array.of(1, 1, 2))], { mode: 'linear', coordinate_transformation_mode: 'tf_half_pixel_for_nn' }, undefined, 13),
    ]) expect((f() as { graph: { outputs: Array<{ node: { type: { dims?: unknown[] } } }> } }).graph.outputs[0]!.node.type.dims?.[0]).toBe('batch');
  });
});
