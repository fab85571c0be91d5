// Adaptive pools over sizes chosen at run time against PyTorch 1.13
// (tests/fixtures/torch-extra/adaptive_runtime_length, made by make_adaptive_runtime_length.py): a
// run-time length or height pooled whole (output size 1) or kept (null), fixed widths in PyTorch's
// windows; ONE artifact at T = 1, 7, 30 and H = 1, 5, 9, on 1 and 2 threads (bit-identical) and in
// the reference interpreter; any other output size over a run-time size is refused by name.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { compileModel, defineModel, interpret, Module, ModelDefinitionError, nn, readSafetensors, stateDictFrom, traceModel, type Tensor } from '../compiler/index.ts';
import { loadModelBytes } from '../runtime/model.ts';
import '../runtime/node.ts';
import { TEST_ISAS } from './helpers/isa.ts';
import { expectTorch } from './helpers/torch.ts';

const FIX = join(import.meta.dirname, 'fixtures', 'torch-extra', 'adaptive_runtime_length');
const read = (f: string) => readSafetensors(readFileSync(join(FIX, f)), `adaptive_runtime_length/${f}`);

class Net extends Module {
  conv = new nn.Conv1d(3, 5, 3, { padding: 1 });
  img = new nn.Conv2d(2, 4, 3, { padding: 1 });
  avg1 = new nn.AdaptiveAvgPool1d(1);
  max1 = new nn.AdaptiveMaxPool1d(1);
  avg11 = new nn.AdaptiveAvgPool2d([1, 1]);
  max13 = new nn.AdaptiveMaxPool2d([1, 3]);
  avg14 = new nn.AdaptiveAvgPool2d([1, 4]);
  keep_h = new nn.AdaptiveAvgPool2d([null, 1]);
  run(x: Tensor, im: Tensor): Record<string, Tensor> {
    const h = this.conv.call(x).relu(), y = this.img.call(im).tanh();
    return { avg1: this.avg1.call(h), max1: this.max1.call(h), avg11: this.avg11.call(y), max13: this.max13.call(y), avg14: this.avg14.call(y), keep_h: this.keep_h.call(y) };
  }
  forward(): never { throw new Error('unused'); }
}
const OUTS = ['avg1', 'max1', 'avg11', 'max13', 'avg14', 'keep_h'];

test('adaptive pools to 1 (or null) over a run-time T or H match PyTorch at T = 1, 7, 30 and H = 1, 5, 9 from one artifact, on 1 and 2 threads', async () => {
  const net = new Net();
  net.loadStateDict(stateDictFrom(read('weights.safetensors')));
  const io = read('io.safetensors');
  const def = defineModel({
    name: 'adaptive_runtime_length', module: net,
    inputs: { x: { shape: ['B', 3, 'T'], max: { B: 2, T: 32 } }, im: { shape: ['N', 2, 'H', 6], max: { N: 2, H: 10 } } },
    forward: (m: Net, i: Record<string, Tensor>) => m.run(i.x!, i.im!),
  });
  const g = traceModel(def);
  expect(Object.fromEntries(g.outputs.map((o) => [o.name, o.node.type.dims ?? o.node.type.shape]))).toEqual({
    avg1: ['B', 5, 1], max1: ['B', 5, 1], avg11: ['N', 4, 1, 1], max13: ['N', 4, 1, 3], avg14: ['N', 4, 1, 4], keep_h: ['N', 4, 'H', 1],
  });
  const { bytes } = await compileModel(def, { isas: TEST_ISAS });
  const one = await loadModelBytes(bytes), two = await loadModelBytes(bytes, { threads: 2, threadPolicy: 'always' });
  for (const tag of ['a', 'b', 'c']) {
    const x = io.get(`input.x_${tag}`)!, im = io.get(`input.im_${tag}`)!;
    const feeds = { x: { data: x.data as Float32Array, shape: x.shape }, im: { data: im.data as Float32Array, shape: im.shape } };
    const [, , T] = x.shape as number[], [, , H] = im.shape as number[];
    const ref = interpret(g, feeds);
    const out = one.run(feeds), out2 = two.run(feeds);
    for (const name of OUTS) {
      const want = io.get(`output.${name}_${tag}`)!.data as Float32Array;
      expectTorch(out[name] as Float32Array, want, `compiled ${name} at T=${T}, H=${H}`);
      expectTorch(ref[name] as Float32Array, want, `reference ${name} at T=${T}, H=${H}`);
      expect(Array.from(out2[name] as Float32Array), `2 threads ${name}`).toEqual(Array.from(out[name] as Float32Array));
    }
  }
  one.dispose(); two.dispose();
});

test('an adaptive output size other than 1 or null over a run-time size is refused, naming the op, the dim and the size', () => {
  const def = (pool: Module, shape: Array<number | string>) => defineModel({ name: 'p', module: pool, inputs: { x: { shape, max: Object.fromEntries(shape.filter((d) => typeof d === 'string').map((d) => [d, 9])) } }, forward: (m: Module, i: Record<string, Tensor>) => (m as unknown as { call(t: Tensor): Tensor }).call(i.x!) });
  expect(() => traceModel(def(new nn.AdaptiveAvgPool1d(2), [1, 3, 'T']))).toThrow(ModelDefinitionError);
  expect(() => traceModel(def(new nn.AdaptiveAvgPool1d(2), [1, 3, 'T']))).toThrow(/adaptive_avg_pool1d: output size 2 over dim 2 of input \[1, 3, T\], a size chosen at run time \('T'\): its windows would move with that size; a run-time size takes output size 1 \(pooled whole\) or null \(kept\)/);
  expect(() => traceModel(def(new nn.AdaptiveMaxPool2d([2, 1]), [1, 3, 'H', 4]))).toThrow(/adaptive_max_pool2d: output size 2 over dim 2 of input \[1, 3, H, 4\]/);
  expect(() => traceModel(def(new nn.AdaptiveAvgPool3d([1, 1, 2]), [1, 2, 3, 'H', 4]))).not.toThrow();
  expect(() => traceModel(def(new nn.AdaptiveAvgPool3d([1, 2, 1]), [1, 2, 3, 'H', 4]))).toThrow(/adaptive_avg_pool3d: output size 2 over dim 3/);
});
