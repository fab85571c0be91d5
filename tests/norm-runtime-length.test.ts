// Normalisations over lengths chosen at run time against PyTorch 1.13
// (tests/fixtures/torch-extra/norm_runtime_length, made by make_norm_runtime_length.py): BatchNorm,
// InstanceNorm (affine, plain, track_running_stats), GroupNorm and LayerNorm over the channels on a
// Conv1d over [B, 4, T] and a Conv2d over [N, 2, H, W], ONE artifact compiled with T, H and W named,
// run at three sizes each (T = 1 and 1×1 included: an instance's output is then its bias) on 1 and
// 2 threads (bit-identical) and in the reference interpreter.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { compileModel, defineModel, interpret, Module, nn, readSafetensors, stateDictFrom, traceModel, type Tensor } from '../compiler/index.ts';
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

test('BatchNorm, InstanceNorm, GroupNorm and LayerNorm over the channels match PyTorch over [B, 8, T] at T = 1, 5, 37 and [N, 4, H, W] at 1×1, 3×5, 6×4 from one artifact, on 1 and 2 threads', async () => {
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
  for (const tag of ['a', 'b', 'c']) {
    const x = io.get(`input.x_${tag}`)!, im = io.get(`input.im_${tag}`)!;
    const feeds = { x: { data: x.data as Float32Array, shape: x.shape }, im: { data: im.data as Float32Array, shape: im.shape } };
    const [B, , T] = x.shape as [number, number, number], [N, , H, W] = im.shape as [number, number, number, number];
    const ref = interpret(g, { x: feeds.x.data, im: feeds.im.data }, undefined, { B, T, N, H, W });
    const out = one.run(feeds), out2 = two.run(feeds);
    for (const name of [...SEQ, ...IMG]) {
      const want = io.get(`output.${name}_${tag}`)!.data as Float32Array;
      expectTorch(out[name] as Float32Array, want, `compiled ${name} at ${tag} (T=${T}, ${H}×${W})`);
      expectTorch(ref[name] as Float32Array, want, `reference ${name} at ${tag} (T=${T}, ${H}×${W})`);
      expect(Array.from(out2[name] as Float32Array), `2 threads ${name} at ${tag}`).toEqual(Array.from(out[name] as Float32Array));
    }
  }
  // At a single position an instance's output is its bias (a statistic over T divided by the bound would not be).
  // At a single position (T = 1, 1×1) an instance's variance is 0 and its output is its bias, exactly
  // (0 without affine): a mean over T divided by the bound, not the run-time count, would not give it.
  const w = read('weights.safetensors'), im1 = io.get('input.im_a')!;
  const a = one.run({ x: { data: io.get('input.x_a')!.data as Float32Array, shape: [2, 4, 1] }, im: { data: im1.data as Float32Array, shape: im1.shape } });
  const twice = (k: string) => { const b = Array.from(w.get(k)!.data as Float32Array); return [...b, ...b]; }; // both samples
  expect(im1.shape).toEqual([2, 2, 1, 1]);
  expect(Array.from(a.in_affine as Float32Array)).toEqual(twice('inorm_affine.bias'));
  expect(Array.from(a.in2 as Float32Array)).toEqual(twice('inorm2.bias'));
  expect(Array.from(a.in as Float32Array)).toEqual(new Array(16).fill(0));
  one.dispose(); two.dispose();
});
