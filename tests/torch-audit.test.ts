// What a differential audit of the DSL against PyTorch 1.13 found (tests/fixtures/torch-extra/audit,
// made by make_audit.py), in the reference interpreter and compiled on every test ISA in one model:
// torch.where's type promotion of an int32 branch with a float one; torch.cat/stack's of mixed dtypes;
// relu(−0) = −0 (the reference gave +0, the kernels −0); nn.TransformerEncoder/Decoder stacks with a
// final norm (no other test built them), and their constructors' arguments checked; a global
// average pool (AdaptiveAvgPool2d(1), area interpolation to 1×1) as torch's accurate mean.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, expect, test } from 'vitest';
import { cat, stack, compileModel, defineModel, F, interpret, Module, ModelDefinitionError, nn, readSafetensors, stateDictFrom, traceModel, type Tensor } from '../compiler/index.ts';
import { loadModelBytes } from '../runtime/model.ts';
import { TEST_ISAS } from './helpers/isa.ts';
import { expectTorch } from './helpers/torch.ts';

const FIX = join(import.meta.dirname, 'fixtures', 'torch-extra', 'audit');
const io = readSafetensors(readFileSync(join(FIX, 'io.safetensors')), 'audit/io.safetensors');
const case_ = JSON.parse(readFileSync(join(FIX, 'case.json'), 'utf8')) as { outputs: Record<string, number[]> };
const want = (o: string) => io.get(`output.${o}`)!.data as Float32Array | Int32Array;
const NUMERIC = ['encoder', 'decoder', 'gap', 'gap_area'];
// make_audit.py's pool_input(), not stored: x[i] = f32(1000 + (i·7919 mod 1000)/1000).
const POOL_SHAPE = [1, 3, 160, 160];
const poolInput = Float32Array.from({ length: POOL_SHAPE.reduce((a, b) => a * b) }, (_, i) => 1000 + ((i * 7919) % 1000) / 1000);
const feeds = { ...Object.fromEntries(['ia', 'fa', 'b', 'z', 'src', 'tgt', 'src_pad'].map((k) => [k, io.get(`input.${k}`)!.data as Float32Array | Int32Array | Uint8Array])), big: poolInput };

const E = 8;
class Net extends Module {
  enc = new nn.TransformerEncoder(new nn.TransformerEncoderLayer(E, 2, { dimFeedforward: 12, activation: 'gelu', normFirst: true }), 2, new nn.LayerNorm(E));
  dec = new nn.TransformerDecoder(new nn.TransformerDecoderLayer(E, 2, { dimFeedforward: 12 }), 2, new nn.LayerNorm(E, 1e-3));
  forward(): never { throw new Error('unused'); }
}
const net = new Net().loadStateDict(stateDictFrom(readSafetensors(readFileSync(join(FIX, 'weights.safetensors')), 'audit/weights.safetensors')));

const def = defineModel({
  name: 'audit', module: net,
  inputs: { ia: { shape: [2, 4], dtype: 'i32' }, fa: [2, 4], b: { shape: [2, 4], dtype: 'bool' }, z: [9], src: [5, 2, E], tgt: [3, 2, E], src_pad: { shape: [2, 5], dtype: 'bool' }, big: POOL_SHAPE },
  forward: (m: Net, { ia, fa, b, z, src, tgt, src_pad, big }: Record<string, Tensor>) => {
    const memory = m.enc.call(src!, { isCausal: true, srcKeyPaddingMask: src_pad! });
    return {
      // Compiled, 1.7e-4 off before (the avgpool kernel's running f32 sum of 25600 values near 1000).
      gap: new nn.AdaptiveAvgPool2d(1).call(big!),
      gap_area: F.interpolate(big!, { size: 1, mode: 'area' }),
      encoder: memory,
      decoder: m.dec.call(tgt!, memory, { tgtIsCausal: true, memoryKeyPaddingMask: src_pad! }),
      where_int_num: F.where(ia!.gt(0), ia!, 0.5),
      where_int_float: F.where(fa!.gt(0), ia!, fa!),
      where_float_int: F.where(fa!.gt(0), fa!, ia!),
      where_int_int: F.where(ia!.gt(0), ia!, 2),
      cat_int_float: cat([ia!, fa!], 0),
      stack_float_int: stack([fa!, ia!], 1),
      cat_bool_int: cat([b!, ia!], 1),
      cat_bool_float: cat([fa!, b!, fa!], -1),
      relu: z!.relu(),
    };
  },
});

let bytes: Uint8Array;
beforeAll(async () => { bytes = (await compileModel(def, { isas: TEST_ISAS })).bytes; });

/** Exactly torch's values and dtype (selections, int-to-float casts and relu: no rounding of their own). */
function expectExact(got: ArrayLike<number> | undefined, name: string, what: string): void {
  const w = want(name);
  expect(got?.constructor, `${what} ${name} dtype`).toBe(w.constructor);
  // −0 as −0 (toEqual tells them apart), NaN as NaN.
  expect(Array.from(got!), `${what} ${name}`).toEqual(Array.from(w));
}

test('where and cat/stack promote mixed dtypes as torch, relu keeps −0 (exact), TransformerEncoder/Decoder stacks and a global average pool match (1e-5), in the reference and compiled', async () => {
  const graph = traceModel(def);
  for (const [o, shape] of Object.entries(case_.outputs)) expect(graph.outputs.find((x) => x.name === o)!.node.type.shape, o).toEqual(shape);
  const ref = interpret(graph, feeds);
  const check = (out: Record<string, ArrayLike<number>>, what: string) => {
    for (const o of Object.keys(case_.outputs)) {
      if (NUMERIC.includes(o)) expectTorch(out[o] as Float32Array, want(o) as Float32Array, `${what} ${o}`);
      else expectExact(out[o], o, what);
    }
  };
  check(ref, 'reference');
  for (const isa of TEST_ISAS) {
    const m = await loadModelBytes(bytes, { isa });
    check(m.run(feeds), isa);
    m.dispose();
  }
});

test('TransformerEncoder/Decoder refuse a wrong layer, a number of layers that is not a non-negative integer and a norm that is not a module', () => {
  const layer = new nn.TransformerEncoderLayer(8, 2);
  const bad: Array<[() => unknown, RegExp]> = [
    [() => new nn.TransformerEncoder(layer, 2, { norm: new nn.LayerNorm(8) } as never), /TransformerEncoder: norm \(the third argument, positional as in PyTorch\) must be a module \(e.g. nn.LayerNorm\) or left out, got an object/],
    [() => new nn.TransformerEncoder(new nn.Linear(8, 8) as never, 2), /TransformerEncoder: the first argument must be a TransformerEncoderLayer, got Linear/],
    [() => new nn.TransformerDecoder(layer as never, 2), /TransformerDecoder: the first argument must be a TransformerDecoderLayer, got TransformerEncoderLayer/],
    [() => new nn.TransformerEncoder(layer, 2.5), /TransformerEncoder: num_layers must be a non-negative integer, got 2.5/],
    [() => new nn.TransformerDecoder(new nn.TransformerDecoderLayer(8, 2), '2' as never), /TransformerDecoder: num_layers must be a non-negative integer, got "2"/],
  ];
  for (const [make, message] of bad) {
    expect(make).toThrow(ModelDefinitionError);
    expect(make).toThrow(message);
  }
  // As torch: no layers is allowed (the final norm alone).
  expect(new nn.TransformerEncoder(layer, 0, new nn.LayerNorm(8)).layers).toEqual([]);
});
