// Conv1d, AdaptiveAvg/MaxPool2d, SiLU, LeakyReLU, clamp, split and chunk against PyTorch 1.13
// (tests/fixtures/torch-extra/layers, made by make_layers.py), compiled (every test ISA) and in
// the reference interpreter; then hand-computed values and misuse.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { compileModel, defineModel, F, interpret, Module, nn, readSafetensors, stateDictFrom, traceModel, type Tensor } from '../compiler/index.ts';
import { constant } from '../compiler/dsl/tensor.ts';
import { loadModelBytes } from '../runtime/model.ts';
import { TEST_ISAS } from './helpers/isa.ts';
import { expectTorch } from './helpers/torch.ts';

const FIX = join(import.meta.dirname, 'fixtures', 'torch-extra', 'layers');
const read = (f: string) => readSafetensors(readFileSync(join(FIX, f)), `layers/${f}`);

class Net extends Module {
  c1 = new nn.Conv1d(4, 6, 3, { stride: 2, padding: 1 });
  c2 = new nn.Conv1d(6, 6, 5, { dilation: 2, groups: 3, padding: 'same', bias: false });
  c3 = new nn.Conv1d(4, 2, 4);
  aap = new nn.AdaptiveAvgPool2d([3, null]);
  amp = new nn.AdaptiveMaxPool2d(3);
  gap = new nn.AdaptiveAvgPool2d(1);
  act = new nn.LeakyReLU(0.2);
  silu = new nn.SiLU();
  forward(): never { throw new Error('unused'); }
}

test('Conv1d (stride, padding, dilation, groups, same, unbatched), adaptive pools, SiLU, LeakyReLU, clamp, split, chunk match PyTorch', async () => {
  const net = new Net();
  net.loadStateDict(stateDictFrom(read('weights.safetensors')));
  const io = read('io.safetensors');
  const def = defineModel({
    name: 'layers', module: net, inputs: { s: [2, 4, 11], u: [4, 9], img: [2, 3, 7, 10], a: [3, 6] },
    forward: (m: Net, i: Record<string, Tensor>) => {
      const [q, k] = m.c2.call(m.act.call(m.c1.call(i.s!))).chunk(2, 1) as [Tensor, Tensor];
      const parts = i.a!.split([1, 3, 2], -1);
      return {
        conv: q.mul(k.sigmoid()), conv_unbatched: m.c3.call(i.u!),
        aap: m.aap.call(i.img!), amp: m.amp.call(i.img!), gap: m.gap.call(i.img!), aap_div: F.adaptiveAvgPool2d(i.img!, [2, 5]),
        silu: m.silu.call(i.a!), leaky: m.act.call(i.a!), clamp: i.a!.clamp(-1.5, 2), clamp_min: i.a!.clamp(0.25),
        split: parts[0]!.add(parts[2]!.sum(-1, true)).sub(parts[1]!.mean(-1, true)), split_tail: i.a!.split(4, -1)[1]!,
      };
    },
  });
  const feeds = Object.fromEntries(['s', 'u', 'img', 'a'].map((n) => [n, io.get(`input.${n}`)!.data as Float32Array]));
  const ref = interpret(traceModel(def), feeds);
  const model = await loadModelBytes((await compileModel(def, { isas: TEST_ISAS })).bytes);
  const out = model.run(feeds);
  const names = [...io.keys()].filter((k) => k.startsWith('output.')).map((k) => k.slice(7));
  expect(names.length).toBe(12);
  for (const name of names) {
    const want = io.get(`output.${name}`)!.data as Float32Array;
    expectTorch(out[name] as Float32Array, want, `compiled ${name}`, { zeroSign: true });
    expectTorch(ref[name] as Float32Array, want, `reference ${name}`, { zeroSign: true });
  }
  model.dispose();
});

test('the new layers by hand, and their misuse refused clearly', () => {
  const run = (inputs: Record<string, number[]>, fwd: (i: Record<string, Tensor>) => Tensor, data: Record<string, number[]>) => {
    const g = traceModel(defineModel({ name: 'h', module: new nn.Identity(), inputs, forward: (_m: Module, i: Record<string, Tensor>) => fwd(i) }));
    return Array.from(interpret(g, Object.fromEntries(Object.entries(data).map(([k, v]) => [k, new Float32Array(v)]))).y as Float32Array);
  };
  // PyTorch's windows for 5 → 3: [0, 2), [1, 4), [3, 5).
  expect(run({ x: [1, 1, 5] }, (i) => F.adaptiveAvgPool2d(i.x!, [1, 3]), { x: [1, 2, 3, 4, 6] })).toEqual([1.5, 3, 5]);
  expect(run({ x: [1, 1, 5] }, (i) => F.adaptiveMaxPool2d(i.x!, [1, 3]), { x: [1, 7, 3, 4, 6] })).toEqual([7, 7, 6]);
  // clamp with min > max gives max everywhere; chunk(3) of 4 gives pieces of 2 (two, not three).
  expect(run({ x: [3] }, (i) => i.x!.clamp(2, 1), { x: [0, 5, 1.5] })).toEqual([1, 1, 1]);
  expect(run({ x: [4] }, (i) => { const c = i.x!.chunk(3); expect(c.length).toBe(2); return c[1]!; }, { x: [1, 2, 3, 4] })).toEqual([3, 4]);
  expect(run({ x: [3] }, (i) => F.leakyRelu(i.x!, 0.5), { x: [-4, 2, 0] })).toEqual([-2, 2, 0]);
  // F.layerNorm is nn.LayerNorm's definition; F.dropout is the identity at inference.
  expect(run({ x: [1, 4] }, (i) => F.layerNorm(i.x!, [4], undefined, undefined, 0), { x: [1, 1, 3, 3] })).toEqual([-1, -1, 1, 1]);
  expect(run({ x: [1, 4] }, (i) => F.dropout(i.x!, 0.3), { x: [1, 2, 3, 4] })).toEqual([1, 2, 3, 4]);
  // argmax without a dim indexes the flattened tensor (the first of equal maxima, as torch).
  expect(run({ x: [2, 3] }, (i) => i.x!.argmax().cast('f32'), { x: [1, 9, 3, 9, 2, 0] })).toEqual([1]);
  expect(run({ x: [2, 3] }, (i) => { const a = i.x!.argmax(undefined, true); expect(a.shape).toEqual([1, 1]); return a.cast('f32'); }, { x: [1, 0, 3, 9, 2, 0] })).toEqual([3]);
  // conv1d by hand: kernel [1, 2] over [1, 2, 3] is [5, 8].
  const conv = new nn.Conv1d(1, 1, 2, { bias: false });
  conv.weight.data = new Float32Array([1, 2]);
  expect(run({ x: [1, 1, 3] }, (i) => conv.call(i.x!), { x: [1, 2, 3] })).toEqual([5, 8]);
  const constW = (v: number[], shape: number[]) => constant(new Float32Array(v), shape, 'f32');
  // padding 'same' with an even kernel extent pads as PyTorch: ⌊total/2⌋ before, the rest after (values from torch 1.13).
  const same = new nn.Conv1d(1, 1, 4, { padding: 'same', bias: false });
  same.weight.data = new Float32Array([1, 1, 1, 1]);
  expect(run({ x: [1, 1, 5] }, (i) => same.call(i.x!), { x: [1, 2, 3, 4, 5] })).toEqual([6, 10, 14, 12, 9]);
  expect(run({ x: [1, 5] }, (i) => F.conv1d(i.x!, constW([1, 10], [1, 1, 2]), undefined, { padding: 'same', dilation: 3 }), { x: [1, 2, 3, 4, 5] })).toEqual([30, 41, 52, 3, 4]);
  expect(run({ x: [1, 1, 3, 4] }, (i) => F.conv2d(i.x!, constW([1, 2, 3, 4], [1, 1, 2, 2]), undefined, { padding: 'same' }), { x: Array.from({ length: 12 }, (_, k) => k) }))
    .toEqual([34, 44, 54, 24, 74, 84, 94, 40, 26, 29, 32, 11]);

  const tr = (shape: number[], fwd: (x: Tensor) => Tensor) => traceModel(defineModel({ name: 't', module: new nn.Identity(), inputs: { x: shape }, forward: (_m: Module, i: Record<string, Tensor>) => fwd(i.x!) }));
  expect(() => tr([2, 3], (x) => x.clamp())).toThrow(/clamp: at least one of min and max must be given/);
  expect(() => tr([2, 6], (x) => x.split([2, 3], 1)[0]!)).toThrow(/split: sizes \[2, 3\] add up to 5, but dim 1 has 6/);
  expect(() => tr([2, 6], (x) => x.split(0, 1)[0]!)).toThrow(/split: split size must be a positive integer, got 0/);
  expect(() => tr([2, 6], (x) => x.chunk(0)[0]!)).toThrow(/chunk: chunks must be a positive integer, got 0/);
  expect(() => tr([2, 6], (x) => x.split([0, 6], 1)[1]!)).toThrow(/split: sizes \[0, 6\] ask for an empty piece, and tensors here have no empty dims/);
  expect(() => tr([2, 6], (x) => x.argmax(undefined, 'yes' as never))).toThrow(/argmax: keepdim must be true or false, got "yes"/);
  expect(() => tr([2, 6], (x) => x.clamp(null as never))).toThrow(/clamp: min must be a number or a tensor, got null/);
  expect(() => tr([2, 6], (x) => x.clamp(0, '1' as never))).toThrow(/clamp: max must be a number or a tensor, got "1"/);
  expect(() => tr([2, 6], (x) => x.cast('bool').clamp(0, 1))).toThrow(/clamp: takes f32 or i32, got a bool input \[2, 6\]/);
  expect(() => new nn.Conv1d(4, 6, 3, { groups: 4 })).toThrow(/Conv1d: groups 4 must divide in_channels 4 and out_channels 6/);
  expect(() => new nn.Conv1d(4, 6, 3, { padding: [1, 1] as never })).toThrow(/Conv1d: padding must be a non-negative integer, 'same' or 'valid', got an array of 2/);
  expect(() => new nn.Conv1d(4, 6, 3, { stride: 0 })).toThrow(/Conv1d: stride must be a positive integer, got 0/);
  expect(() => tr([2, 5, 9], (x) => new nn.Conv1d(4, 6, 3).call(x))).toThrow(/conv1d: input \[2, 5, 9\] has 5 channels but weight \[6, 4, 3\] expects 4/);
  // conv1d's own terms, not the [N, C, 1, L] of the conv2d under it; a run-time length the kernel may not fit is refused (tests/conv-runtime-length.test.ts).
  expect(() => tr([2, 4, 3], (x) => new nn.Conv1d(4, 6, 5).call(x))).toThrow(/conv1d: kernel 5 does not fit input \[2, 4, 3\] with padding 0/);
  expect(() => traceModel(defineModel({ name: 't', module: new nn.Conv1d(4, 6, 3), inputs: { x: { shape: ['B', 4, 'L'], max: { B: 3, L: 9 } } } })))
    .toThrow(/conv1d: the kernel 3 spans 3 cells, so dim 2 of input \[B, 4, L\] must be at least 3 long, but 'L' is chosen at run time and may be as small as 1/);
  expect(() => tr([2, 4, 9], (x) => new nn.Conv1d(4, 6, 3, { padding: 'same', stride: 2 }).call(x))).toThrow(/conv1d: padding 'same' needs stride 1, got stride 2/);
  expect(() => tr([2, 4, 9], (x) => F.conv1d(x, null as never))).toThrow(/conv1d: weight must be a tensor, got null/);
  const xw = (w: number[], fwd: (x: Tensor, w: Tensor) => Tensor) => traceModel(defineModel({ name: 'xw', module: new nn.Identity(), inputs: { x: [2, 4, 9], w }, forward: (_m: Module, i: Record<string, Tensor>) => fwd(i.x!, i.w!) }));
  expect(() => xw([6, 4, 3], (x, w) => F.conv1d(x, w, undefined, { groups: true as never }))).toThrow(/conv1d: groups must be a positive integer, got true/);
  expect(() => xw([6, 4, 1, 3], (x, w) => F.conv2d(x.unsqueeze(2), w, undefined, { groups: '2' as never }))).toThrow(/conv2d: groups must be a positive integer, got "2"/);
  expect(() => new nn.Conv1d(4, 6, 3, { stride: null as never })).toThrow(/Conv1d: stride must be a positive integer, got null/);
  expect(() => new nn.Softmax('1' as never)).toThrow(/Softmax: dim must be an integer, got "1"/);
  // i32 and bool inputs are refused by name (LeakyReLU computed an i32 input in i32 or f32 as its slope was an integer or not;
  // the others failed in an inner op, naming it and an intermediate shape); null alone is no output size (torch refuses None).
  const typed = (dtype: 'i32' | 'bool', shape: number[], m: Module) => traceModel(defineModel({ name: 'd', module: m, inputs: { x: { shape, dtype } } }));
  expect(() => typed('i32', [3], new nn.LeakyReLU(2))).toThrow(/leaky_relu: input must be f32, got i32\[3\]/);
  expect(() => typed('bool', [3], new nn.SiLU())).toThrow(/silu: input must be f32, got bool\[3\]/);
  expect(() => typed('i32', [1, 2, 5, 6], new nn.AdaptiveAvgPool2d([2, 4]))).toThrow(/adaptive_avg_pool2d: input must be f32, got i32\[1, 2, 5, 6\]/);
  expect(() => tr([3], () => F.silu(3 as never))).toThrow(/silu: input must be a tensor, got 3/);
  expect(() => tr([3], () => F.adaptiveMaxPool2d(null as never, 2))).toThrow(/adaptive_max_pool2d: input must be a tensor, got null/);
  expect(() => new nn.AdaptiveAvgPool2d(null as never)).toThrow(/AdaptiveAvgPool2d: output_size must be a positive integer, a pair of them, or null in a pair, got null/);
  expect(() => new nn.AdaptiveAvgPool2d([0, 2])).toThrow(/output_size must be .*, got \[0, 2\]/);
  expect(() => tr([2, 4, 9, 9], (x) => new nn.Conv1d(4, 6, 3).call(x))).toThrow(/conv1d: expected \[N, C, L\] or unbatched \[C, L\] input, got \[2, 4, 9, 9\]/);
  // A convolution's lengths may be chosen at run time (tests/conv-runtime-length.test.ts), its channels not.
  const trs = (shape: Array<string | number>, max: Record<string, number>, fwd: (x: Tensor) => Tensor) => traceModel(defineModel({ name: 't', module: new nn.Identity(), inputs: { x: { shape, max } }, forward: (_m: Module, i: Record<string, Tensor>) => fwd(i.x!) }));
  const c1 = new nn.Conv1d(4, 2, 1);
  expect(trs(['B', 4, 'L'], { B: 3, L: 8 }, (x) => c1.call(x)).outputs[0]!.node.type.dims).toEqual(['B', 2, 'L']);
  expect(trs([4, 'L'], { L: 8 }, (x) => c1.call(x)).outputs[0]!.node.type.dims).toEqual([2, 'L']);
  expect(trs(['B', 4, 5, 'W'], { B: 3, W: 8 }, (x) => F.conv2d(x, new nn.Conv2d(4, 2, 1).weight.t)).outputs[0]!.node.type.dims).toEqual(['B', 2, 5, 'W']);
  expect(() => trs(['C', 5], { C: 4 }, (x) => c1.call(x))).toThrow(/conv1d: input \[C, 5\] has its channels \(dim 0\) chosen at run time; a convolution's channels must be a fixed size/);
  expect(trs(['B', 4, 6], { B: 3 }, (x) => c1.call(x)).outputs[0]!.node.type.dims).toEqual(['B', 2, 6]);
  expect(() => new nn.AdaptiveAvgPool2d(0)).toThrow(/AdaptiveAvgPool2d: output_size must be a positive integer, a pair of them, or null in a pair, got 0/);
  expect(() => new nn.AdaptiveMaxPool2d([2, 2, 2] as never)).toThrow(/AdaptiveMaxPool2d: output_size must be .*, got \[2, 2, 2\]/);
  expect(() => tr([2, 9], (x) => F.adaptiveAvgPool2d(x, 2))).toThrow(/adaptive_avg_pool2d: expected \[N, C, H, W\] or unbatched \[C, H, W\] input, got \[2, 9\]/);
  expect(() => new (nn.Softmax as new () => nn.Softmax)()).toThrow(/Softmax: dim must be an integer, got none \(PyTorch's implicit dim is deprecated; give it, e.g. new nn.Softmax\(-1\)\)/);
  expect(() => new nn.LogSoftmax(0.5)).toThrow(/LogSoftmax: dim must be an integer, got 0.5/);
  expect(() => tr([2, 4], (x) => F.dropout(x, 0.1, true))).toThrow(/dropout: training true is not supported \(simdflow compiles inference/);
  expect(() => tr([2, 4], (x) => F.dropout(x, 2))).toThrow(/dropout: p must be a number in \[0, 1\], got 2/);
  expect(() => tr([2, 4], (x) => F.layerNorm(x, [2, 0]))).toThrow(/layer_norm: normalized_shape must be a positive integer or a non-empty list of them, got /);
  expect(() => tr([2, 4], (x) => F.layerNorm(x, 3))).toThrow(/layer_norm: input \[2, 4\] does not end in normalized_shape \[3\]/);
  expect(() => tr([2, 4], (x) => F.layerNorm(x, [4, 4]))).toThrow(/layer_norm: input \[2, 4\] does not end in normalized_shape \[4, 4\]/);
  expect(() => tr([2, 4], (x) => F.layerNorm(x, 4, x))).toThrow(/layer_norm: weight must be f32 \[4\], got f32 \[2, 4\]/);
  expect(() => new nn.LeakyReLU(Number.NaN)).toThrow(/LeakyReLU: negative_slope must be a finite number, got NaN/);
});

test('conv2d refuses i32 and bool operands (the compiled kernel read their bits as floats: 1, 2, 3 gave 7e-45)', () => {
  const g = (inputs: Record<string, { shape: number[]; dtype?: 'i32' | 'bool' }>, fwd: (i: Record<string, Tensor>) => Tensor) =>
    traceModel(defineModel({ name: 'c', module: new nn.Identity(), inputs, forward: (_m: Module, i: Record<string, Tensor>) => fwd(i) }));
  expect(() => g({ x: { shape: [1, 1, 1, 3], dtype: 'i32' }, w: { shape: [1, 1, 1, 2] } }, (i) => F.conv2d(i.x!, i.w!))).toThrow(/conv2d: input must be f32, got i32\[1, 1, 1, 3\]/);
  expect(() => g({ x: { shape: [1, 1, 1, 3] }, w: { shape: [1, 1, 1, 2], dtype: 'bool' } }, (i) => F.conv2d(i.x!, i.w!))).toThrow(/conv2d: weight must be f32, got bool\[1, 1, 1, 2\]/);
  expect(() => g({ x: { shape: [1, 1, 1, 3] }, w: { shape: [1, 1, 1, 2] }, b: { shape: [1], dtype: 'i32' } }, (i) => F.conv2d(i.x!, i.w!, i.b!))).toThrow(/conv2d: bias must be f32, got i32\[1\]/);
});

test("Conv1d padding 'same' with an even kernel, compiled over a batch chosen at run time, pads as PyTorch (one more zero after)", async () => {
  const same = new nn.Conv1d(1, 2, 4, { padding: 'same', bias: false });
  same.weight.data = new Float32Array([1, 1, 1, 1, 1, 2, 3, 4]);
  const def = defineModel({ name: 'same', module: same, inputs: { x: { shape: ['B', 1, 5], max: { B: 3 } } } });
  const model = await loadModelBytes((await compileModel(def, { isas: TEST_ISAS })).bytes);
  // torch 1.13: F.conv1d(x, w, padding='same') for x = [[1..5], [0, 0, 1, 0, 0]].
  const y = model.run({ x: { data: new Float32Array([1, 2, 3, 4, 5, 0, 0, 1, 0, 0]), shape: [2, 1, 5] } }).y!;
  expect(Array.from(y)).toEqual([6, 10, 14, 12, 9, 20, 30, 40, 26, 14, 1, 1, 1, 1, 0, 4, 3, 2, 1, 0]);
  model.dispose();
});
