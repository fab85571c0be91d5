// BatchNormalization, InstanceNormalization (and GroupNorm as torch 1.13 writes it: an
// InstanceNormalization over [B, G, (C/G)·T] between reshapes) and LayerNormalization over lengths
// chosen at run time, through the ONNX importer: the PyTorch 1.13 export of
// tests/fixtures/torch-extra/make_norm_runtime_length.py (B, T, N, H, W dynamic), imported with every
// size symbolic and compiled once, matches PyTorch at T = 1, 5, 37 and 1×1, 3×5, 6×4 on 1 and 2
// threads (bit-identical) and in the reference interpreter.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { compileEntries } from '../../compiler/driver/compile.ts';
import { importOnnx } from '../../compiler/onnx/import.ts';
import { interpret } from '../../compiler/reference/interpret.ts';
import { readSafetensors } from '../../compiler/weights/safetensors.ts';
import { loadModelBytes } from '../../runtime/model.ts';
import '../../runtime/node.ts';
import { TEST_ISAS } from '../helpers/isa.ts';
import { expectTorch } from '../helpers/torch.ts';

const FIX = join(import.meta.dirname, '..', 'fixtures', 'torch-extra', 'norm_runtime_length');
const OUTPUTS = ['bn', 'in_affine', 'in', 'gn', 'gn_plain', 'ln', 'bn2', 'in2', 'gn2', 'ln2'];

test('an exported Conv1d/Conv2d with Batch/Instance/GroupNorm and LayerNorm over the channels, every size symbolic, matches PyTorch at T = 1, 5, 37 and 1×1, 3×5, 6×4', async () => {
  const io = readSafetensors(readFileSync(join(FIX, 'io.safetensors')));
  const { graph } = importOnnx(readFileSync(join(FIX, 'model.onnx')), { dims: { B: { max: 2 }, T: { max: 40 }, N: { max: 2 }, H: { max: 8 }, W: { max: 8 } } });
  expect(graph.outputs.map((o) => [o.name, o.node.type.dims])).toEqual(OUTPUTS.map((k) => [k, k.endsWith('2') ? ['N', 4, 'H', 'W'] : ['B', 8, 'T']]));
  const ops = new Set(graph.nodes.map((n) => n.op));
  expect([...ops].filter((op) => /norm/i.test(op))).toEqual(['layernorm']); // the rest are means, as F.groupNorm and F.batchNorm build them
  const { bytes } = await compileEntries([{ name: 'norms', graph }], [], { isas: TEST_ISAS });
  const one = await loadModelBytes(bytes), two = await loadModelBytes(bytes, { threads: 2, threadPolicy: 'always' });
  for (const tag of ['a', 'b', 'c']) {
    const x = io.get(`input.x_${tag}`)!, im = io.get(`input.im_${tag}`)!;
    const feeds = { x: { data: x.data as Float32Array, shape: x.shape }, im: { data: im.data as Float32Array, shape: im.shape } };
    const [B, , T] = x.shape as [number, number, number], [N, , H, W] = im.shape as [number, number, number, number];
    const ref = interpret(graph, { x: feeds.x.data, im: feeds.im.data }, undefined, { B, T, N, H, W });
    const out = one.call('norms', feeds), out2 = two.call('norms', feeds);
    for (const name of OUTPUTS) {
      const want = io.get(`output.${name}_${tag}`)!.data as Float32Array;
      expectTorch(out[name] as Float32Array, want, `compiled ${name} at ${tag} (T=${T}, ${H}×${W})`);
      expectTorch(ref[name] as Float32Array, want, `reference ${name} at ${tag} (T=${T}, ${H}×${W})`);
      expect(Array.from(out2[name] as Float32Array), `2 threads ${name} at ${tag}`).toEqual(Array.from(out[name] as Float32Array));
    }
    // At a single position (T = 1, 1×1) an instance's variance is 0 and its output is its bias,
    // exactly (0 without affine): a mean over T divided by the bound, not the run-time count, would
    // not give it. (nn.InstanceNorm1d/2d raise there; ONNX's InstanceNormalization computes it.)
    if (tag === 'a') {
      for (const name of ['in_affine', 'in2']) expect(Array.from(out[name] as Float32Array), `${name} at T = 1`).toEqual(Array.from(io.get(`output.${name}_a`)!.data as Float32Array));
      expect(Array.from(out.in as Float32Array), 'in at T = 1').toEqual(new Array(16).fill(0));
    }
  }
  one.dispose(); two.dispose();
});
