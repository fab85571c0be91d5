// Normalisations over lengths chosen at run time against PyTorch 1.13
// (tests/fixtures/torch-extra/norm_runtime_length, made by make_norm_runtime_length.py): BatchNorm,
// InstanceNorm (affine, plain, track_running_stats), GroupNorm and LayerNorm over the channels on a
// Conv1d over [B, 4, T] and a Conv2d over [N, 2, H, W], ONE artifact compiled with T, H and W named,
// run at three sizes each on 1 and 2 threads (bit-identical) and in the reference interpreter. At
// T = 1 and 1×1 the InstanceNorm modules raise, as PyTorch's do (the ONNX test checks those sizes'
// values through InstanceNormalization, which computes them).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { compileModel, defineModel, interpret, Module, ModelDefinitionError, nn, readSafetensors, stateDictFrom, traceModel, type Tensor } from '../compiler/index.ts';
import { loadModelBytes } from '../runtime/model.ts';
import '../runtime/node.ts';
import { TEST_ISAS } from './helpers/isa.ts';
import { expectTorch } from './helpers/torch.ts';

const FIX = join(import.meta.dirname, 'fixtures', 'torch-extra', 'norm_runtime_length');
const read = (f: string) => readSafetensors(readFileSync(join(FIX, f)), `norm_runtime_length/${f}`);

class Net extends Module {
  conv = new nn.Conv1d(4, 8, 3, { padding: 1 });
  bn = new nn.BatchNorm1d(8);
  inorm_affine = new nn.InstanceNorm1d(8, 1e-5, 0.1, { affine: true });
  inorm = new nn.InstanceNorm1d(8);
  inorm_tracked = new nn.InstanceNorm1d(8, 1e-5, 0.1, { affine: true, trackRunningStats: true });
  gn = new nn.GroupNorm(2, 8);
  gn_plain = new nn.GroupNorm(4, 8, 1e-5, { affine: false });
  ln = new nn.LayerNorm(8);
  conv2 = new nn.Conv2d(2, 4, 3, { padding: 1 });
  bn2 = new nn.BatchNorm2d(4);
  inorm2 = new nn.InstanceNorm2d(4, 1e-5, 0.1, { affine: true });
  gn2 = new nn.GroupNorm(2, 4);
  ln2 = new nn.LayerNorm(4);
  seq(x: Tensor): Record<string, Tensor> {
    const h = this.conv.call(x);
    return {
      bn: this.bn.call(h).relu(), in_affine: this.inorm_affine.call(h), in: this.inorm.call(h), in_tracked: this.inorm_tracked.call(h),
      gn: this.gn.call(h), gn_plain: this.gn_plain.call(h), ln: this.ln.call(h.transpose(1, 2)).transpose(1, 2),
    };
  }
  img(im: Tensor): Record<string, Tensor> {
    const y = this.conv2.call(im);
    return { bn2: this.bn2.call(y), in2: this.inorm2.call(y), gn2: this.gn2.call(y), ln2: this.ln2.call(y.permute(0, 2, 3, 1)).permute(0, 3, 1, 2) };
  }
  forward(): never { throw new Error('unused'); }
}
const SEQ = ['bn', 'in_affine', 'in', 'in_tracked', 'gn', 'gn_plain', 'ln'], IMG = ['bn2', 'in2', 'gn2', 'ln2'];

test('BatchNorm, InstanceNorm, GroupNorm and LayerNorm over the channels match PyTorch over [B, 8, T] at T = 5, 37 and [N, 4, H, W] at 3×5, 6×4 from one artifact, on 1 and 2 threads; at T = 1 and 1×1 the InstanceNorm modules raise, as PyTorch\'s', async () => {
  const net = new Net();
  net.loadStateDict(stateDictFrom(read('weights.safetensors')));
  const io = read('io.safetensors');
  const def = defineModel({
    name: 'norm_runtime_length', module: net,
    inputs: { x: { shape: ['B', 4, 'T'], max: { B: 2, T: 40 } }, im: { shape: ['N', 2, 'H', 'W'], max: { N: 2, H: 8, W: 8 } } },
    forward: (m: Net, i: Record<string, Tensor>) => ({ ...m.seq(i.x!), ...m.img(i.im!) }),
  });
  const g = traceModel(def);
  expect(Object.fromEntries(g.outputs.map((o) => [o.name, o.node.type.dims]))).toEqual({
    ...Object.fromEntries(SEQ.map((k) => [k, ['B', 8, 'T']])), ...Object.fromEntries(IMG.map((k) => [k, ['N', 4, 'H', 'W']])),
  });
  const { bytes } = await compileModel(def, { isas: TEST_ISAS });
  const one = await loadModelBytes(bytes), two = await loadModelBytes(bytes, { threads: 2, threadPolicy: 'always' });
  const feedsOf = (tag: string) => {
    const x = io.get(`input.x_${tag}`)!, im = io.get(`input.im_${tag}`)!;
    return { x: { data: x.data as Float32Array, shape: x.shape }, im: { data: im.data as Float32Array, shape: im.shape } };
  };
  const sizesOf = (f: ReturnType<typeof feedsOf>) => {
    const [B, , T] = f.x.shape as [number, number, number], [N, , H, W] = f.im.shape as [number, number, number, number];
    return { B, T, N, H, W };
  };
  // T = 1 and 1×1 first: nn.InstanceNorm1d/2d without running statistics raise on a single position
  // (PyTorch: 'Expected more than 1 spatial element'), compiled on both thread counts and in the
  // reference; the model stays usable.
  const single = feedsOf('a'), lone = /InstanceNorm[12]d in module 'inorm2?(_affine)?' \(InstanceNorm[12]d\): expected more than 1 spatial element, got 1 \(input \[/;
  expect(sizesOf(single)).toEqual({ B: 2, T: 1, N: 2, H: 1, W: 1 });
  expect(() => one.run(single)).toThrow(lone);
  expect(() => two.run(single)).toThrow(lone);
  expect(() => interpret(g, single)).toThrow(lone);
  for (const tag of ['b', 'c']) {
    const feeds = feedsOf(tag), { T, H, W } = sizesOf(feeds);
    const ref = interpret(g, feeds);
    const out = one.run(feeds), out2 = two.run(feeds);
    for (const name of [...SEQ, ...IMG]) {
      const want = io.get(`output.${name}_${tag}`)!.data as Float32Array;
      expectTorch(out[name] as Float32Array, want, `compiled ${name} at ${tag} (T=${T}, ${H}×${W})`);
      expectTorch(ref[name] as Float32Array, want, `reference ${name} at ${tag} (T=${T}, ${H}×${W})`);
      expect(Array.from(out2[name] as Float32Array), `2 threads ${name} at ${tag}`).toEqual(Array.from(out[name] as Float32Array));
    }
  }
  one.dispose(); two.dispose();
});

test('InstanceNorm over a single fixed position is refused when traced; a fixed length above 1, or a declared minimum above 1, needs no run-time check', () => {
  class One extends Module {
    inorm = new nn.InstanceNorm1d(3);
    forward(x: Tensor): Tensor { return this.inorm.call(x); }
  }
  const def = (shape: Array<number | string>, max: Record<string, number> = {}) => defineModel({ name: 'inorm', module: new One(), inputs: { x: { shape, max } }, forward: (m: One, i: Record<string, Tensor>) => m.forward(i.x!) });
  expect(() => traceModel(def([2, 3, 1]))).toThrow(ModelDefinitionError);
  expect(() => traceModel(def([2, 3, 1]))).toThrow(/InstanceNorm1d: expected more than 1 spatial element, got input size \[2, 3, 1\]/);
  expect(traceModel(def(['B', 3, 4], { B: 4 })).nodes.some((n) => n.op === 'check')).toBe(false);
  expect(traceModel(def([2, 3, 'T'], { T: 9 })).nodes.some((n) => n.op === 'check')).toBe(true);
  const atLeast2 = defineModel({ name: 'inorm', module: new One(), inputs: { x: { shape: [2, 3, 'T'], max: { T: 9 }, min: { T: 2 } } }, forward: (m: One, i: Record<string, Tensor>) => m.forward(i.x!) });
  expect(traceModel(atLeast2).nodes.some((n) => n.op === 'check')).toBe(false);
});
