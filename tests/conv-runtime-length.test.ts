// Convolutions over lengths chosen at run time against PyTorch 1.13
// (tests/fixtures/torch-extra/conv_runtime_length, made by make_conv_runtime_length.py): a text CNN /
// dilated causal TCN over [B, 4, T] and a 2-D CNN over [N, 2, H, W], ONE artifact compiled with T,
// H and W named, run at three sizes each (the least, T = 1 and 1×1, included) on 1 and 2 threads
// (bit-identical) and in the reference interpreter; then what is refused, by name.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { compileModel, defineModel, F, interpret, Module, nn, readSafetensors, stateDictFrom, traceModel, type Tensor } from '../compiler/index.ts';
import { loadModelBytes } from '../runtime/model.ts';
import '../runtime/node.ts';
import { TEST_ISAS } from './helpers/isa.ts';
import { expectTorch } from './helpers/torch.ts';

const FIX = join(import.meta.dirname, 'fixtures', 'torch-extra', 'conv_runtime_length');
const read = (f: string) => readSafetensors(readFileSync(join(FIX, f)), `conv_runtime_length/${f}`);

class Net extends Module {
  conv_in = new nn.Conv1d(4, 8, 3, { padding: 1 });
  causal = new nn.Conv1d(8, 8, 3, { padding: 4, dilation: 2 });
  grouped = new nn.Conv1d(8, 8, 3, { padding: 1, groups: 2 });
  depthwise = new nn.Conv1d(8, 8, 4, { padding: 'same', groups: 8 });
  replicate = new nn.Conv1d(8, 6, 3, { padding: 1, paddingMode: 'replicate' });
  circular = new nn.Conv1d(6, 6, 3, { padding: 1, paddingMode: 'circular', bias: false });
  up = new nn.ConvTranspose1d(6, 6, 4, { stride: 2, padding: 1 });
  down = new nn.Conv1d(6, 6, 3, { stride: 2, padding: 1 });
  pool_max = new nn.MaxPool1d(3, { stride: 1, padding: 1 });
  pool_avg = new nn.AvgPool1d(3, { stride: 1, padding: 1, countIncludePad: false });
  img1 = new nn.Conv2d(2, 4, 3, { padding: 1 });
  img2 = new nn.Conv2d(4, 4, [3, 1], { padding: [2, 0], dilation: [2, 1], groups: 2 });
  seq(x: Tensor): Record<string, Tensor> {
    let h = F.relu(this.conv_in.call(x));
    h = F.relu(this.causal.call(h).slice(2, 0, -4)).add(h); // causal: the last (k − 1)·d outputs chomped
    h = F.relu(this.grouped.call(h));
    h = this.depthwise.call(h);
    h = this.replicate.call(h).tanh();
    h = this.circular.call(h);
    h = F.relu(this.down.call(this.up.call(h))); // up to 2·T, back down by stride 2
    h = this.pool_max.call(h).add(this.pool_avg.call(h));
    return { seq: h, max: h.amax(-1), mean: h.mean(-1) };
  }
  img(im: Tensor): Record<string, Tensor> {
    const y = F.relu(this.img2.call(F.relu(this.img1.call(im))));
    return { img: y, imgmax: y.amax([-2, -1]) };
  }
  forward(): never { throw new Error('unused'); }
}

test('a text CNN / dilated causal TCN over [B, 4, T] and a CNN over [N, 2, H, W] match PyTorch at T = 1, 5, 150 and 1×1, 3×6, 9×11 from one artifact, on 1 and 2 threads', async () => {
  const net = new Net();
  net.loadStateDict(stateDictFrom(read('weights.safetensors')));
  const io = read('io.safetensors');
  const def = defineModel({
    name: 'conv_runtime_length', module: net,
    inputs: { x: { shape: ['B', 4, 'T'], max: { B: 3, T: 160 } }, im: { shape: ['N', 2, 'H', 'W'], max: { N: 2, H: 12, W: 12 } } },
    forward: (m: Net, i: Record<string, Tensor>) => ({ ...m.seq(i.x!), ...m.img(i.im!) }),
  });
  const g = traceModel(def);
  expect(Object.fromEntries(g.outputs.map((o) => [o.name, o.node.type.dims]))).toEqual({ seq: ['B', 6, 'T'], max: ['B', 6], mean: ['B', 6], img: ['N', 4, 'H', 'W'], imgmax: ['N', 4] });
  const { bytes, source } = await compileModel(def, { isas: TEST_ISAS });
  const one = await loadModelBytes(bytes), two = await loadModelBytes(bytes, { threads: 2, threadPolicy: 'always' });
  // The convolutions are split across threads by output pixels (judged at the bounds, each thread's share of the actual pixels at run time).
  expect(Object.values(one.manifest.entries)[0]!.parallel).toBeDefined();
  expect(source).toMatch(/conv2d_f32_part\([^;]*size_T/);
  for (const tag of ['a', 'b', 'c']) {
    const x = io.get(`input.x_${tag}`)!, im = io.get(`input.im_${tag}`)!;
    const feeds = { x: { data: x.data as Float32Array, shape: x.shape }, im: { data: im.data as Float32Array, shape: im.shape } };
    const [B, , T] = x.shape as [number, number, number], [N, , H, W] = im.shape as [number, number, number, number];
    const ref = interpret(g, feeds);
    const out = one.run(feeds), out2 = two.run(feeds);
    expect(one.outputShapes.seq).toEqual([B, 6, T]);
    for (const name of ['seq', 'max', 'mean', 'img', 'imgmax']) {
      const want = io.get(`output.${name}_${tag}`)!.data as Float32Array;
      expectTorch(out[name] as Float32Array, want, `compiled ${name} at ${tag} (T=${T}, ${H}×${W})`);
      expectTorch(ref[name] as Float32Array, want, `reference ${name} at ${tag} (T=${T}, ${H}×${W})`);
      expect(Array.from(out2[name] as Float32Array), `2 threads ${name} at ${tag}`).toEqual(Array.from(out[name] as Float32Array));
    }
  }
  // A length of 0 is no size (every size runs from 1 to its bound).
  expect(() => one.run({ x: { data: new Float32Array(0), shape: [1, 4, 0] }, im: { data: new Float32Array(2), shape: [1, 2, 1, 1] } })).toThrow(/input 'x': dim 2 .*0/);
  one.dispose(); two.dispose();
});

test('over a length chosen at run time, a stride that does not divide it gives a floor (tests/strided-length.test.ts runs them); a kernel it may not fit and the unsupported forms are refused by name', () => {
  const trs = (shape: Array<string | number>, max: Record<string, number>, fwd: (x: Tensor) => Tensor) =>
    traceModel(defineModel({ name: 't', module: new nn.Identity(), inputs: { x: { shape, max } }, forward: (_m: Module, i: Record<string, Tensor>) => fwd(i.x!) }));
  const seq = (fwd: (x: Tensor) => Tensor) => trs(['B', 4, 'T'], { B: 2, T: 33 }, fwd);
  // Stride 2 over T: ⌊(T − 1)/2⌋ + 1 = ⌊(T + 1)/2⌋; over 2·T (a ConvTranspose1d's stride 2) it is T.
  expect(seq((x) => new nn.Conv1d(4, 4, 3, { stride: 2, padding: 1 }).call(x)).outputs[0]!.node.type.dims).toEqual(['B', 4, 'floor((T+1)/2)']);
  expect(seq((x) => new nn.Conv1d(4, 4, 3, { stride: 2, padding: 1 }).call(new nn.ConvTranspose1d(4, 4, 4, { stride: 2, padding: 1 }).call(x))).outputs[0]!.node.type.dims).toEqual(['B', 4, 'T']);
  // A kernel longer than the least length (T = 1) with too little padding: refused at compile time, as no run-time length could be checked later.
  expect(() => seq((x) => new nn.Conv1d(4, 4, 5, { padding: 1 }).call(x)))
    .toThrow(/conv1d: the kernel 5 spans 5 cells, so dim 2 of input \[B, 4, T\] \(padded 1\/1\) must be at least 3 long, but 'T' is chosen at run time and may be as small as 1 \(every size runs from 1 to its bound\)/);
  expect(() => seq((x) => new nn.Conv1d(4, 4, 3, { dilation: 2 }).call(x))).toThrow(/conv1d: the kernel 3 \(dilation 2\) spans 5 cells/);
  expect(() => trs(['N', 4, 'H', 'W'], { N: 2, H: 8, W: 8 }, (x) => new nn.Conv2d(4, 4, 3).call(x))).toThrow(/conv2d: the kernel 3×3 spans 3 cells, so dim 2 of input \[N, 4, H, W\]/);
  expect(trs(['N', 4, 'H', 'W'], { N: 2, H: 8, W: 8 }, (x) => new nn.Conv2d(4, 4, 3, { stride: [1, 2], padding: 1 }).call(x)).outputs[0]!.node.type.dims).toEqual(['N', 4, 'H', 'floor((W+1)/2)']);
  // The pools: PyTorch's default stride (the kernel) needs T ≥ 2 for a window of 2; dilation and ceil mode with a stride are not taken over it.
  expect(() => seq((x) => new nn.MaxPool1d(2).call(x))).toThrow(/max_pool1d: the window 2 spans 2 cells, so dim 2 of input \[B, 4, T\] must be at least 2 long, but 'T' is chosen at run time and may be as small as 1/);
  expect(() => seq((x) => new nn.MaxPool1d(3, { stride: 1, dilation: 2, padding: 1 }).call(x))).toThrow(/max_pool1d: dilation 2 over dim 2 of input \[B, 4, T\], a length chosen at run time, is not supported/);
  expect(() => seq((x) => new nn.AvgPool1d(2, { stride: 2, ceilMode: true }).call(x))).toThrow(/avg_pool1d: ceil mode with stride 2 over dim 2/);
  expect(() => seq((x) => new nn.AvgPool1d(3, { stride: 1 }).call(x))).toThrow(/avg_pool1d: the window 3 spans 3 cells/);
  expect(() => trs(['N', 4, 'H', 'W'], { N: 2, H: 8, W: 8 }, (x) => new nn.MaxPool2d(2).call(x))).toThrow(/max_pool2d: the window 2×2 spans 2 cells, so dim 2 of input \[N, 4, H, W\] must be at least 2 long/);
  expect(trs(['N', 4, 'H', 'W'], { N: 2, H: 8, W: 8 }, (x) => new nn.MaxPool2d(2, { padding: 1 }).call(x)).outputs[0]!.node.type.dims).toEqual(['N', 4, 'floor(H/2)+1', 'floor(W/2)+1']);
  // Reflect padding needs a length above the pad, which T = 1 is not; channels stay fixed; conv3d's D, H, W stay fixed.
  expect(() => seq((x) => new nn.Conv1d(4, 4, 3, { padding: 1, paddingMode: 'reflect' }).call(x)))
    .toThrow(/pad: mode reflect pads dim 2 of run-time size 'T' \(as small as 1: every size runs from 1 to its bound\) by 0 to 0 cells a side, got \(1, 1\)/);
  expect(() => trs(['B', 'C', 7], { B: 2, C: 4 }, (x) => F.conv1d(x, new nn.Conv1d(4, 4, 3).weight.t))).toThrow(/conv1d: input \[B, C, 7\] has its channels \(dim 1\) chosen at run time/);
  expect(() => trs(['B', 2, 'D', 4, 4], { B: 2, D: 6 }, (x) => new nn.Conv3d(2, 2, 1).call(x))).toThrow(/conv3d: input \[B, 2, D, 4, 4\] has a size chosen at run time outside the batch dim \(0\); a convolution's channels and depth, height and width must be fixed sizes/);
});
