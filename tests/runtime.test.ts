import { beforeAll, describe, expect, test } from 'vitest';
import { compileModel } from '../compiler/driver/compile.ts';
import { F, nn, type Tensor } from '../compiler/dsl/index.ts';
import { loadModel, type Model } from '../runtime/index.ts';
import { readContainer } from '../runtime/format.ts';
import { HOST_ISAS } from './helpers/isa.ts';

class Embed extends nn.Module {
  emb = new nn.Linear(4, 3);
  table = this.param('table', [7, 4], { uniform: 1 });
  forward(x: Tensor, ids: Tensor) {
    return { y: this.emb.call(x), e: F.embedding(ids, this.table.t) };
  }
}

let bytes: Uint8Array;
let model: Model;
beforeAll(async () => {
  bytes = (await compileModel({ name: 'tiny', module: new Embed(), inputs: { x: [2, 4], ids: { shape: [3], dtype: 'i32' } } })).bytes;
  model = await loadModel(bytes);
});

describe('runtime', () => {
  test('manifest describes entries, inputs, outputs and memory', () => {
    const { manifest } = readContainer(bytes);
    expect(manifest.format).toBe('simdflow');
    expect(manifest.entries.run!.inputs.map((i) => [i.name, i.dtype, i.shape, i.range])).toEqual([['x', 'f32', [2, 4], undefined], ['ids', 'i32', [3], [0, 7]]]);
    expect(manifest.entries.run!.outputs.map((o) => o.name)).toEqual(['y', 'e']);
    expect(Object.keys(manifest.code).sort()).toEqual(['wasmrelaxedsimd', 'wasmsimd']);
    expect(manifest.stats.weightBytes).toBeGreaterThan(0);
  });

  test('picks relaxed SIMD when the host validates it, else plain SIMD', () => {
    expect(model.isa).toBe(HOST_ISAS[HOST_ISAS.length - 1]);
  });

  test('runs and returns fresh arrays of the right dtype', () => {
    const out = model.run({ x: new Float32Array(8).fill(1), ids: Int32Array.of(0, 6, 3) });
    expect(out.y).toBeInstanceOf(Float32Array);
    expect(out.e).toBeInstanceOf(Float32Array);
    expect(out.y!.length).toBe(6);
    const again = model.run({ x: new Float32Array(8), ids: Int32Array.of(1, 1, 1) });
    expect(out.e![0]).not.toBe(again.e![0]); // earlier outputs are copies, not views
  });

  test('bad inputs are clear errors, not wasm traps', () => {
    const x = new Float32Array(8), ids = Int32Array.of(0, 1, 2);
    expect(() => model.run({ x })).toThrow("model 'tiny' run(): missing input ids (expects x: f32[2, 4], ids: i32[3])");
    expect(() => model.run({ x, ids, z: x })).toThrow('unknown input z');
    expect(() => model.run({ x: new Float32Array(7), ids })).toThrow("input 'x': expected 8 values (f32[2, 4]), got 7");
    expect(() => model.run({ x: new Int32Array(8), ids })).toThrow("input 'x': expected Float32Array (f32[2, 4]), got Int32Array");
    expect(() => model.run({ x: { data: x, shape: [4, 2] }, ids })).toThrow("input 'x': expected shape [2, 4], got [4, 2]");
    expect(() => model.run({ x, ids: Int32Array.of(0, 7, 1) })).toThrow("input 'ids': value 7 at flat index 1 is outside the valid range [0, 7)");
  });

  test('rejects bytes that are not an artifact, and use after dispose', async () => {
    await expect(loadModel(new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0]))).rejects.toThrow('not a simdflow artifact');
    await expect(loadModel(bytes.subarray(0, 100))).rejects.toThrow(/truncated/);
    const m = await loadModel(bytes);
    m.dispose();
    expect(() => m.run({ x: new Float32Array(8), ids: Int32Array.of(0, 0, 0) })).toThrow("model 'tiny' was disposed");
  });

  test('a Response or ArrayBuffer loads as well as bytes', async () => {
    const a = await loadModel(new Response(bytes as BodyInit));
    const b = await loadModel(bytes.slice().buffer);
    const feeds = { x: Float32Array.of(1, 2, 3, 4, 5, 6, 7, 8), ids: Int32Array.of(2, 4, 6) };
    expect(a.run(feeds)).toEqual(model.run(feeds));
    expect(b.run(feeds)).toEqual(model.run(feeds));
  });
});

describe('runtime in the browser', () => {
  test('the runtime core bundles for the browser with no Node built-ins', async () => {
    const { build } = await import('esbuild');
    const r = await build({ entryPoints: [new URL('../runtime/index.ts', import.meta.url).pathname], bundle: true, platform: 'browser', format: 'esm', write: false, logLevel: 'silent' });
    const code = r.outputFiles[0]!.text;
    expect(code).not.toMatch(/from ['"]node:|require\(['"](fs|path|node:)/);
    // Its size has one bound: the size budget (npm run size, in CI), minified and gzipped.
  });
});
