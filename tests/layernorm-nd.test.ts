// LayerNorm over several trailing dims (nn.LayerNorm([C, H, W]), F.layerNorm(x, [H, W])) against
// PyTorch 1.13 (tests/fixtures/torch-extra/layernorm_nd, made by make_layernorm_nd.py): the dims
// flattened into one row for the layernorm kernel, weight and bias of their shape. Compiled (every
// test ISA, at a fixed and at a run-time batch) and in the reference.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { compileModel, defineModel, F, interpret, Module, nn, readSafetensors, stateDictFrom, traceModel, type Tensor } from '../compiler/index.ts';
import { loadModelBytes } from '../runtime/model.ts';
import { TEST_ISAS } from './helpers/isa.ts';
import { expectTorch } from './helpers/torch.ts';

const FIX = join(import.meta.dirname, 'fixtures', 'torch-extra', 'layernorm_nd');
const read = (f: string) => readSafetensors(readFileSync(join(FIX, f)), `layernorm_nd/${f}`);

class Net extends Module {
  chw = new nn.LayerNorm([3, 4, 5], 1e-4);
  hw = new nn.LayerNorm([4, 5], 1e-5, { elementwiseAffine: false });
  w = this.param('w', [5], 'ones');
  forward(x: Tensor): Record<string, Tensor> { return { chw: this.chw.call(x), hw: this.hw.call(x), last: F.layerNorm(x, [5], this.w.t) }; }
}

test('LayerNorm over [C, H, W] and [H, W] and layer_norm over [5] match PyTorch, at a fixed and at a run-time batch', async () => {
  const net = new Net().loadStateDict(stateDictFrom(read('weights.safetensors')));
  expect(net.chw.weight!.shape).toEqual([3, 4, 5]);
  const io = read('io.safetensors'), x = io.get('input.x')!.data as Float32Array;
  for (const shape of [[2, 3, 4, 5], ['B', 3, 4, 5]] as const) {
    const def = defineModel({ name: 'ln', module: net, inputs: { x: { shape: [...shape], ...(shape[0] === 'B' ? { max: { B: 3 } } : {}) } } });
    const ref = interpret(traceModel(def), { x }, undefined, shape[0] === 'B' ? { B: 2 } : undefined);
    const model = await loadModelBytes((await compileModel(def, { isas: TEST_ISAS })).bytes);
    const out = model.run({ x: { data: x, shape: [2, 3, 4, 5] } });
    for (const name of ['chw', 'hw', 'last']) {
      const want = io.get(`output.${name}`)!.data as Float32Array;
      expectTorch(out[name] as Float32Array, want, `compiled ${name} ${shape[0]}`);
      expectTorch(ref[name] as Float32Array, want, `reference ${name} ${shape[0]}`);
    }
    model.dispose();
  }
  // Misuse: a weight of the wrong shape, an input that does not end in the shape.
  const tr = (f: (x: Tensor) => Tensor) => traceModel(defineModel({ name: 't', module: new nn.Identity(), inputs: { x: [2, 3, 4] }, forward: (_m: Module, i: Record<string, Tensor>) => f(i.x!) }));
  expect(() => tr((x) => F.layerNorm(x, [3, 4], new nn.Linear(12, 1).weight.t))).toThrow(/layer_norm: weight must be f32 \[3, 4\], got f32 \[1, 12\]/);
  expect(() => tr((x) => new nn.LayerNorm([4, 3]).call(x))).toThrow(/layer_norm: input \[2, 3, 4\] does not end in normalized_shape \[4, 3\]/);
});
