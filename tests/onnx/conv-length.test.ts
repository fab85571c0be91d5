// Convolutions over a symbolic time axis: a PyTorch 1.13 export of a dilated causal TCN with
// dynamic_axes {0: 'batch', 2: 'time'} (tests/fixtures/onnx-conv-length, written offline by its
// export.py: Conv 1-D with pads, dilation and groups, the causal chomp as a Slice from the end,
// ConvTranspose stride 2 then Conv stride 2, MaxPool and AveragePool stride 1, ReduceMax and
// ReduceMean over time) imports with { batch: { max: 3 }, time: { max: 48 } }, compiles once and
// matches PyTorch at T = 1, 6 and 40, compiled (1 and 2 threads, bit-identical) and in the reference;
// and ceil-mode max pools over a dynamic height, width and time (ceil_pools.onnx).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { compileEntries } from '../../compiler/driver/compile.ts';
import { dimsOf } from '../../compiler/ir/types.ts';
import { importOnnx } from '../../compiler/onnx/import.ts';
import { interpret } from '../../compiler/reference/interpret.ts';
import { readSafetensors } from '../../compiler/weights/safetensors.ts';
import { loadModelBytes } from '../../runtime/model.ts';
import '../../runtime/node.ts';
import { TEST_ISAS } from '../helpers/isa.ts';
import { expectTorch } from '../helpers/torch.ts';

const DIR = join(import.meta.dirname, '../fixtures/onnx-conv-length');
const io = readSafetensors(readFileSync(join(DIR, 'io.safetensors')));

test('a TCN exported with a dynamic time axis matches PyTorch at T = 1, 6, 40 from one artifact', async () => {
  const { graph } = importOnnx(readFileSync(join(DIR, 'tcn.onnx')), { dims: { batch: { max: 3 }, time: { max: 48 } } });
  expect(Object.fromEntries(graph.outputs.map((o) => [o.name, dimsOf(o.node.type)]))).toEqual({ seq: ['batch', 6, 'time'], max: ['batch', 6], mean: ['batch', 6] });
  const { bytes } = await compileEntries([{ name: 'run', graph }], [], { isas: TEST_ISAS });
  const one = await loadModelBytes(bytes), two = await loadModelBytes(bytes, { threads: 2, threadPolicy: 'always' });
  for (const t of [1, 6, 40]) {
    const x = io.get(`input.x.t${t}`)!, feeds = { x: { data: x.data as Float32Array, shape: x.shape } };
    const ref = interpret(graph, { x: feeds.x.data }, undefined, { batch: x.shape[0]!, time: t });
    const out = one.run(feeds), out2 = two.run(feeds);
    expect(one.outputShapes.seq).toEqual([x.shape[0], 6, t]);
    for (const name of ['seq', 'max', 'mean']) {
      const want = io.get(`output.${name}.t${t}`)!.data as Float32Array;
      expectTorch(out[name] as Float32Array, want, `compiled ${name} at T=${t}`);
      expectTorch(ref[name] as Float32Array, want, `reference ${name} at T=${t}`);
      expect(Array.from(out2[name] as Float32Array), `2 threads ${name} at T=${t}`).toEqual(Array.from(out[name] as Float32Array));
    }
  }
  // Above its bound the time is refused by the runtime, naming the size.
  expect(() => one.run({ x: { data: new Float32Array(4 * 49), shape: [1, 4, 49] } })).toThrow(/size 'time', which must be an integer in \[1, 48\]; .* it is 49/);
  one.dispose(); two.dispose();
});

test("ceil-mode max pools exported with a dynamic height and width (SqueezeNet's, VGG's MaxPool2d(…, ceil_mode=True)) and time match PyTorch at 1×1, 5×9, 8×6 from one artifact", async () => {
  // They were refused ('ceil_mode with stride 2 over the symbolic size'): floor mode over s − 1 more cells of −∞ (the DSL's pool2d rule).
  const io2 = readSafetensors(readFileSync(join(DIR, 'ceil_pools.io.safetensors')));
  const { graph } = importOnnx(readFileSync(join(DIR, 'ceil_pools.onnx')), { dims: { batch: { max: 2 }, H: { max: 8 }, W: { max: 10 }, time: { max: 10, min: 2 } } });
  expect(graph.outputs.map((o) => dimsOf(o.node.type))).toEqual([['batch', 3, 'floor(H/4)+1', 'floor(W/4)+1'], ['batch', 4, 'floor(time/2)']]);
  const { bytes } = await compileEntries([{ name: 'run', graph }], [], { isas: TEST_ISAS });
  const one = await loadModelBytes(bytes);
  for (const j of [0, 1, 2]) {
    const img = io2.get(`input.img.${j}`)!, x = io2.get(`input.x.${j}`)!;
    const feeds = { img: { data: img.data as Float32Array, shape: img.shape }, x: { data: x.data as Float32Array, shape: x.shape } };
    const ref = interpret(graph, feeds), out = one.run(feeds);
    for (const name of ['y', 'z']) {
      const want = io2.get(`output.${name}.${j}`)!;
      expect(one.outputShapes[name], `${name} at ${j}`).toEqual(want.shape);
      expectTorch(out[name] as Float32Array, want.data as Float32Array, `compiled ${name} at ${j}`);
      expectTorch(ref[name] as Float32Array, want.data as Float32Array, `reference ${name} at ${j}`);
    }
  }
  one.dispose();
  // The ceil-mode cell counts toward the least size (a time of 2 takes the window of 3, as in PyTorch), 1 does not.
  expect(() => importOnnx(readFileSync(join(DIR, 'ceil_pools.onnx')), { dims: { batch: { max: 2 }, H: { max: 8 }, W: { max: 10 }, time: { max: 10 } } }))
    .toThrow(/MaxPool: the kernel 3 spans 3 cells, so dim 2 of input \[batch, 4, time\] \(padded 0\/1\) must be at least 2 long, but 'time' is chosen at run time and may be as small as 1/);
});
