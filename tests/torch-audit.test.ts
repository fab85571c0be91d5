// What a differential audit of the DSL against PyTorch 1.13 found (tests/fixtures/torch-extra/audit,
// made by make_audit.py), in the reference interpreter and compiled on every test ISA in one model:
// torch.where's type promotion of an int32 branch with a float one; torch.cat/stack's of mixed dtypes;
// relu(−0) = −0 (the reference gave +0, the kernels −0).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, expect, test } from 'vitest';
import { cat, stack, compileModel, defineModel, F, interpret, nn, readSafetensors, traceModel, type Tensor } from '../compiler/index.ts';
import { loadModelBytes } from '../runtime/model.ts';
import { TEST_ISAS } from './helpers/isa.ts';

const FIX = join(import.meta.dirname, 'fixtures', 'torch-extra', 'audit');
const io = readSafetensors(readFileSync(join(FIX, 'io.safetensors')), 'audit/io.safetensors');
const case_ = JSON.parse(readFileSync(join(FIX, 'case.json'), 'utf8')) as { outputs: Record<string, number[]> };
const want = (o: string) => io.get(`output.${o}`)!.data as Float32Array | Int32Array;
const feeds = { ia: io.get('input.ia')!.data as Int32Array, fa: io.get('input.fa')!.data as Float32Array, b: io.get('input.b')!.data as Uint8Array, z: io.get('input.z')!.data as Float32Array };

const def = defineModel({
  name: 'audit', module: new nn.Identity(),
  inputs: { ia: { shape: [2, 4], dtype: 'i32' }, fa: [2, 4], b: { shape: [2, 4], dtype: 'bool' }, z: [9] },
  forward: (_m: nn.Module, { ia, fa, b, z }: Record<string, Tensor>) => ({
    where_int_num: F.where(ia!.gt(0), ia!, 0.5),
    where_int_float: F.where(fa!.gt(0), ia!, fa!),
    where_float_int: F.where(fa!.gt(0), fa!, ia!),
    where_int_int: F.where(ia!.gt(0), ia!, 2),
    cat_int_float: cat([ia!, fa!], 0),
    stack_float_int: stack([fa!, ia!], 1),
    cat_bool_int: cat([b!, ia!], 1),
    cat_bool_float: cat([fa!, b!, fa!], -1),
    relu: z!.relu(),
  }),
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

test('where and cat/stack promote mixed dtypes as torch; relu keeps −0: exact values and dtypes in the reference and compiled', async () => {
  const graph = traceModel(def);
  for (const [o, shape] of Object.entries(case_.outputs)) expect(graph.outputs.find((x) => x.name === o)!.node.type.shape, o).toEqual(shape);
  const ref = interpret(graph, feeds);
  for (const o of Object.keys(case_.outputs)) expectExact(ref[o], o, 'reference');
  for (const isa of TEST_ISAS) {
    const m = await loadModelBytes(bytes, { isa });
    const out = m.run(feeds);
    for (const o of Object.keys(case_.outputs)) expectExact(out[o], o, isa);
    m.dispose();
  }
});
