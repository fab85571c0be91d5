// Misuse of the public API that passed silently or failed as a raw TypeError: each is now a clear
// error naming what was expected, what was found and where, and a refused call changes nothing.
import { beforeAll, describe, expect, test } from 'vitest';
import { compileModel } from '../compiler/driver/compile.ts';
import { defineGPT, GPT } from '../compiler/index.ts';
import { readContainer, unpackContainer } from '../runtime/format.ts';
import { loadModel, type Model } from '../runtime/index.ts';
import { loadModelBytes } from '../runtime/model.ts';
import { loadModelFile } from '../runtime/node.ts';
import { TEST_ISAS } from './helpers/isa.ts';

const V = 13, CAP = 8, CHUNK = 4;
let bytes: Uint8Array;
let gpt: Model;
const prompt = [1, 5, 2];
let wantLogits: Float32Array, wantRun: Float32Array;
const runFeeds = () => ({ tokens: Int32Array.of(3, 1, 4, 1, 5, 9, 2, 6) });

beforeAll(async () => {
  const module = new GPT({ vocab: V, context: CAP, dModel: 8, nhead: 2, layers: 1, dimFeedforward: 16 });
  bytes = (await compileModel(defineGPT({ name: 'tinygpt', module, tokens: [1, CAP], capacity: CAP, chunk: CHUNK }), { isas: TEST_ISAS })).bytes;
  gpt = await loadModel(bytes);
  wantLogits = gpt.prefill(prompt);
  wantRun = gpt.run(runFeeds()).logits as Float32Array;
  gpt.reset();
});

/** The model is intact: same outputs as at load, and the cache at `position`. */
function intact(m: Model, position = 0) {
  expect(m.position).toBe(position);
  expect(m.run(runFeeds()).logits).toEqual(wantRun);
  const saved = m.state();
  m.reset();
  expect(m.prefill(prompt)).toEqual(wantLogits);
  m.setState(saved);
  expect(m.position).toBe(position);
}

describe("loadModel's options", () => {
  test('null is refused by name for every option (isa: null was taken as \'auto\'); undefined is the default', async () => {
    await expect(loadModel(bytes, { isa: null as never })).rejects.toThrow("loadModel(): option isa must be 'auto', 'wasmsimd' or 'wasmrelaxedsimd', got null");
    await expect(loadModel(bytes, { threads: null as never })).rejects.toThrow("loadModel(): option threads must be 'auto' or an integer from 1 to 16, got null");
    await expect(loadModel(bytes, { threadPolicy: null as never })).rejects.toThrow("loadModel(): option threadPolicy must be 'measure' or 'always', got null");
    for (const bad of [1, true, 'AUTO', 'simd', ['wasmsimd'], {}]) {
      await expect(loadModelBytes(bytes, { isa: bad as never })).rejects.toThrow(/^loadModel\(\): option isa must be 'auto', 'wasmsimd' or 'wasmrelaxedsimd', got /);
    }
    const m = await loadModel(bytes, { isa: undefined, threads: undefined, threadPolicy: undefined });
    intact(m);
    m.dispose();
  });

  test('a wrong option is refused before the artifact is fetched or read', async () => {
    // Was the fetch's or the file's error (or, after a download, the option's).
    await expect(loadModel('http://127.0.0.1:9/none.simdflow', { isa: null as never })).rejects.toThrow("loadModel(): option isa must be 'auto', 'wasmsimd' or 'wasmrelaxedsimd', got null");
    await expect(loadModel(new Response('not an artifact'), { threadPolicy: 'fast' as never })).rejects.toThrow("loadModel(): option threadPolicy must be 'measure' or 'always', got \"fast\"");
    await expect(loadModelFile('nope/missing.simdflow', { isa: 'sse' as never })).rejects.toThrow("loadModel(): option isa must be 'auto', 'wasmsimd' or 'wasmrelaxedsimd', got \"sse\"");
    await expect(loadModelFile('nope/missing.simdflow', { thread: 2 } as never)).rejects.toThrow("loadModel(): unknown option 'thread' (allowed: isa, threads, threadPolicy)");
  });
});

test('bytes changed while they load are refused (the weights were read after the awaits, unchecked)', async () => {
  const { manifest } = readContainer(bytes);
  const base = bytes.length - unpackContainer(bytes).blobs.length;
  const changed = "loadModel(): the artifact's bytes changed while it loaded (the weights no longer match their checksum); keep them unchanged until it resolves";
  for (const at of [0, manifest.weights.length - 1]) {
    const sent = bytes.slice(), loading = loadModel(sent);
    sent[base + manifest.weights.offset + at] ^= 0x40; // after the call, before it resolves
    await expect(loading).rejects.toThrow(changed);
  }
  // Through an ArrayBuffer (a view of the caller's buffer) as well.
  const buf = bytes.slice().buffer, viaBuffer = loadModel(buf);
  new Uint8Array(buf)[base + manifest.weights.offset] ^= 1;
  await expect(viaBuffer).rejects.toThrow(changed);
  // Changed and changed back before it resolves, or changed after, they load as the artifact.
  const sent = bytes.slice(), loading = loadModel(sent);
  sent[base + manifest.weights.offset] ^= 1;
  sent[base + manifest.weights.offset] ^= 1;
  const m = await loading;
  sent.fill(0);
  intact(m);
  m.dispose();
});
