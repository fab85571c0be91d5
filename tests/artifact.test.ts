// The artifact is checked before it is trusted: crafted manifests are refused naming the field,
// damaged files are reported as damaged (never as a host without SIMD), builds are byte-for-byte
// reproducible, and seeded truncations and byte flips of a real artifact either fail clearly or
// run exactly as the original.
import { isDeepStrictEqual } from 'node:util';
import { Worker } from 'node:worker_threads';
import { beforeAll, describe, expect, test } from 'vitest';
import { compileModel } from '../compiler/driver/compile.ts';
import { nn, type ModelDefinition, type Tensor } from '../compiler/dsl/index.ts';
import { rng } from '../compiler/dsl/module.ts';
import { checksum } from '../runtime/checksum.ts';
import { packContainer, readContainer, unpackContainer, writeContainer, type Manifest } from '../runtime/format.ts';
import { loadModel } from '../runtime/index.ts';
import type { Job, Result } from './helpers/load-worker.ts';

class Cell extends nn.Module {
  lin = new nn.Linear(4, 4);
  forward(x: Tensor) { return this.lin.call(x).relu(); }
}
/** A small stateful model: run(x) and step(x) with a state h. */
const cell = (): ModelDefinition => ({
  name: 'cell', module: new Cell(), inputs: { x: [2, 4] }, state: { h: [2, 4] },
  forward: (m, i) => ({ y: (m as Cell).call(i.x!) }),
  entries: {
    step: {
      inputs: { x: [2, 4] },
      forward: (m, i, s) => { const h = (m as Cell).lin.call(i.x!).add(s.h!).tanh(); return { outputs: { y: h }, state: { h } }; },
    },
  },
});

let bytes: Uint8Array;
let manifest: Manifest;
beforeAll(async () => {
  ({ bytes, manifest } = await compileModel(cell()));
});

type M = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
/** The artifact with its manifest edited (and its manifest checksum recomputed, as an attacker would). */
function craft(edit: (m: M) => void): Uint8Array {
  const { manifest: m, blobs } = unpackContainer(bytes);
  const copy = structuredClone(m) as M;
  edit(copy);
  return packContainer(copy, blobs);
}
const refused = async (b: Uint8Array, msg: string | RegExp) => {
  const err = await loadModel(b).then(() => undefined, (e: Error) => e);
  expect(err, 'the crafted artifact loaded').toBeInstanceOf(Error);
  expect(err!.message).toMatch(typeof msg === 'string' ? new RegExp(msg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')) : msg);
  expect(err!.message.length).toBeLessThan(300);
};

describe('a crafted manifest is refused, naming the field', () => {
  test('tensors may not be placed over the weights or outside their region', async () => {
    const w = manifest.memory.weights;
    await refused(craft((m) => { m.entries.run.inputs[0].offset = w.offset; }), `invalid simdflow manifest: entries['run'].inputs[0] 'x' (bytes ${w.offset}..${w.offset + 32}) lies outside memory.arena`);
    await refused(craft((m) => { m.memory.state = { ...m.memory.weights }; }), 'invalid simdflow manifest: memory.state (bytes');
    await refused(craft((m) => { m.memory.state = { ...m.memory.weights }; }), 'overlaps memory.weights');
    await refused(craft((m) => { m.entries.run.outputs[0].offset = w.offset; }), "entries['run'].outputs[0] 'y' (bytes 64..96) lies outside memory.arena and memory.state");
    await refused(craft((m) => { m.state[0].offset = m.memory.arena.offset; }), "invalid simdflow manifest: state[0] 'h'");
    await refused(craft((m) => { m.entries.step.inputs[0].offset = m.memory.state.offset; }), "entries['step'].inputs[0] 'x'");
    await refused(craft((m) => { m.memory.arena.bytes = 1e12; }), 'invalid simdflow manifest: memory.arena (bytes');
    await refused(craft((m) => { m.entries.run.inputs[0].offset += 2; }), "entries['run'].inputs[0].offset");
    await refused(craft((m) => { m.entries.run.inputs[0].offset += 2; }), 'is not aligned to 4 bytes for f32');
  });

  test('an entry named __proto__ is an entry, and a size named like an Object property is refused (one vanished at load, the other ran to a NaN shape)', async () => {
    const proto = await loadModel(craft((m) => { m.entries = JSON.parse(JSON.stringify(m.entries).replace('"step"', '"__proto__"')); }));
    const plain = await loadModel(bytes);
    expect(proto.entries).toEqual(['run', '__proto__']);
    const x = Float32Array.from({ length: 8 }, (_, i) => i - 3);
    expect(proto.call('__proto__', { x })).toEqual(plain.step({ x }));
    // A sized artifact whose size is renamed 'constructor' (the compiler refuses that name).
    const sized = (await compileModel({ name: 'sized', module: new Cell(), inputs: { x: { shape: ['B', 4], max: { B: 4 }, min: { B: 2 } } } })).bytes;
    const { manifest: m, blobs } = unpackContainer(sized) as { manifest: Manifest; blobs: ReturnType<typeof unpackContainer>['blobs'] };
    const renamed = packContainer(JSON.parse(JSON.stringify(m).replaceAll('"B"', '"constructor"')), blobs);
    await refused(renamed, `invalid simdflow manifest: entries['run'].sizes has size name "constructor", which is not a name`);
    // The declared least sizes: of a named size of the entry, integers from 1 to its bound.
    expect(m.entries.run!.min).toEqual({ B: 2 });
    const least = (min: unknown) => packContainer({ ...m, entries: { run: { ...m.entries.run!, min } } }, blobs);
    for (const [min, found] of [[{ B: 0 }, '0'], [{ B: 5 }, '5'], [{ B: '2' }, '"2"'], [{ B: 1.5 }, '1.5'], [{ constructor: 2 }, '2']] as const) {
      await refused(least(min), `invalid simdflow manifest: entries['run'].min.${Object.keys(min)[0]} must be an integer in [1, its bound], found ${found}`);
    }
    await refused(least([2]), "invalid simdflow manifest: entries['run'].min must be an object, found [2]");
    const two = await loadModel(sized);
    expect(() => two.run({ x: new Float32Array(4) })).toThrow(/input 'x': dim 0 is size 'B', which must be an integer in \[2, 4\]; 4 values make it 1/);
    expect(two.run({ x: new Float32Array(8) }).y).toHaveLength(8);
  });

  test('dtypes and shapes come from the allowed set', async () => {
    await refused(craft((m) => { m.entries.run.outputs[0].dtype = 'constructor'; }), `invalid simdflow manifest: entries['run'].outputs[0].dtype must be one of f32, i32, bool, found "constructor"`);
    await refused(craft((m) => { m.entries.run.inputs[0].shape = [-1, 4]; }), "entries['run'].inputs[0].shape[0] must be a non-negative integer, found -1");
    await refused(craft((m) => { m.entries.run.inputs[0].shape = [2.5, 4]; }), "entries['run'].inputs[0].shape[0] must be a non-negative integer, found 2.5");
    await refused(craft((m) => { m.entries.run.inputs[0].shape = [1 << 20, 1 << 20]; }), 'is larger than wasm32 memory');
    await refused(craft((m) => { m.entries.run.inputs[0].range = [0, 5]; }), "entries['run'].inputs[0].range must be [lo, hi) integers");
  });

  test('missing or mistyped fields are named, not raw TypeErrors', async () => {
    await refused(craft((m) => { delete m.entries.run.inputs; }), "invalid simdflow manifest: entries['run'].inputs must be a list, found undefined");
    await refused(craft((m) => { delete m.memory; }), 'invalid simdflow manifest: memory must be an object, found undefined');
    await refused(craft((m) => { m.state = null; }), 'invalid simdflow manifest: state must be a list, found null');
    await refused(craft((m) => { m.entries = {}; }), 'invalid simdflow manifest: entries must name at least one entry');
    await refused(craft((m) => { m.entries.run.outputs = 'y'; }), "entries['run'].outputs must be a list, found \"y\"");
    await refused(craft((m) => { m.memory.pages = 0; }), 'memory.pages must be between 1 and 65536, found 0');
    await refused(craft((m) => { m.format = 'onnx'; }), 'invalid simdflow manifest: format must be "simdflow", found "onnx"');
    await refused(craft((m) => { m.name = 'x'.repeat(1_000_000); }), /^invalid simdflow manifest: name must be a string of 1 to 200 characters, found "xxx/);
    await refused(craft((m) => { m.entries.run.export = 'memory'; }), "entries['run'].export 'memory' is the memory");
    await refused(craft((m) => { m.entries.run.stateInPlace = ['nope']; }), "entries['run'].stateInPlace must list names of state tensors");
    await refused(craft((m) => { m.entries.run.stateInPlace = 'h'; }), "entries['run'].stateInPlace must list names of state tensors");
    await refused(craft((m) => { m.entries.run.export = 'nope'; }), "invalid simdflow artifact: entry 'run' names export 'nope', which the");
    await refused(craft((m) => { m.code.avx = m.code.wasmsimd; }), 'code.avx is not an instruction set');
    await refused(craft((m) => { m.generation = { prefill: 'run', decode: 'step', chunk: 1, capacity: 4, vocab: 4, tokens: 'x', count: 'n', logits: 'y', position: 'h' }; }),
      "invalid simdflow manifest: generation.tokens (in entry 'run') must name i32 tensor 'x' of 1 values, found f32[2, 4]");
    // JSON that is not an object at all.
    await refused(packContainer(5, unpackContainer(bytes).blobs), 'invalid simdflow manifest: the manifest must be an object, found 5');
  });

  test('the weights must be there, at their declared size', async () => {
    const n = manifest.memory.weights.bytes;
    await refused(craft((m) => { m.weights.length = 0; }), `invalid simdflow manifest: weights.length is 0 bytes, memory.weights holds ${n}`);
    await refused(craft((m) => { delete m.weights; }), 'invalid simdflow manifest: weights must be an object, found undefined');
    await refused(craft((m) => { m.weights.offset = 1e9; }), 'truncated simdflow artifact: the weights');
  });

  test('memory the code does not have is refused', async () => {
    await refused(craft((m) => { m.memory.pages += 50; }), /^invalid simdflow artifact: the wasm(relaxed)?simd code has \d+ bytes of memory, the manifest lays out \d+ pages$/);
  });
});

describe('integrity', () => {
  const flip = (at: number) => { const b = bytes.slice(); b[at]! ^= 0x5a; return b; };
  const blobAt = (ref: { offset: number }) => bytes.length - unpackContainer(bytes).blobs.length + ref.offset;

  test('a damaged manifest, code module or weights is reported as corruption', async () => {
    await refused(flip(40), 'corrupt simdflow artifact: checksum mismatch in the manifest (the file was damaged)');
    await refused(flip(blobAt(manifest.code.wasmsimd!) + 100), 'corrupt simdflow artifact: checksum mismatch in the wasmsimd code (the file was damaged)');
    await refused(flip(blobAt(manifest.code.wasmrelaxedsimd!) + 7), 'corrupt simdflow artifact: checksum mismatch in the wasmrelaxedsimd code');
    await refused(flip(blobAt(manifest.weights) + 3), 'corrupt simdflow artifact: checksum mismatch in the weights');
    await refused(bytes.subarray(0, bytes.length - 1), 'truncated simdflow artifact: the weights');
  });

  test('only code whose checksum matched yet fails validation blames the host', async () => {
    const { manifest: m, blob } = readContainer(bytes);
    const { code: _c, weights: _w, ...rest } = m;
    const junk = Uint8Array.of(0, 97, 115, 109, 1, 0, 0, 0, 1, 99, 99, 99); // a wasm header, then nonsense
    const b = writeContainer(rest, { wasmsimd: junk }, blob(m.weights));
    expect(readContainer(b).manifest.code.wasmsimd!.checksum).toBe(checksum(junk));
    await refused(b, 'this host does not support WebAssembly SIMD (fixed-width 128-bit), which simdflow artifacts need');
  });
});

describe('reproducible builds', () => {
  test('the same model gives the same bytes, whatever was built before it in the process', async () => {
    expect(JSON.stringify(manifest)).not.toMatch(/compileMs|time/i);
    new nn.Linear(30, 30); new Cell(); // draws initial weights for other models
    const again = await compileModel(cell(), { isas: ['wasmsimd'] });
    const once = await compileModel(cell(), { isas: ['wasmsimd'] });
    expect(Buffer.from(again.bytes).equals(Buffer.from(once.bytes))).toBe(true);
    // And the same weights as the first build (which had both instruction sets).
    const w = (b: Uint8Array) => { const r = readContainer(b); return r.blob(r.manifest.weights); };
    expect(Buffer.from(w(again.bytes)).equals(Buffer.from(w(bytes)))).toBe(true);
  });
});

describe('mutation test', () => {
  /** Loads and runs artifacts in a worker, one at a time, with a timeout per artifact. */
  class Loader {
    private worker!: Worker;
    private next = 0;
    constructor(private readonly code: string) { this.start(); }
    private start() { this.worker = new Worker(this.code, { eval: true }); }
    run(job: Omit<Job, 'id'>, ms: number): Promise<Result | 'timeout'> {
      const id = this.next++;
      return new Promise((resolve) => {
        const timer = setTimeout(() => { this.worker.off('message', on); void this.worker.terminate(); this.start(); resolve('timeout'); }, ms);
        const on = (r: Result) => { if (r.id !== id) return; clearTimeout(timer); this.worker.off('message', on); resolve(r); };
        this.worker.on('message', on);
        this.worker.postMessage({ ...job, id });
      });
    }
    close() { return this.worker.terminate(); }
  }

  test('seeded truncations and byte flips either fail clearly or give exactly the original outputs', async () => {
    const { build } = await import('esbuild');
    const worker = await build({ entryPoints: [new URL('./helpers/load-worker.ts', import.meta.url).pathname], bundle: true, platform: 'node', format: 'cjs', write: false, logLevel: 'silent' });
    const loader = new Loader(worker.outputFiles[0]!.text);
    const r = rng(2026);
    const vec = () => Float32Array.from({ length: 8 }, () => r() * 4 - 2);
    const job = { run: { x: vec() }, steps: [{ x: vec() }, { x: vec() }] };
    const original = await loader.run({ ...job, bytes }, 20_000);
    expect(original).not.toBe('timeout');
    expect('outputs' in (original as Result)).toBe(true);

    const { blobs } = unpackContainer(bytes);
    const blobBase = bytes.length - blobs.length;
    const codeRanges = Object.values(manifest.code).map((c) => [blobBase + c!.offset, c!.length] as const);
    const mutants: Array<{ what: string; bytes: Uint8Array }> = [];
    for (let i = 0; i < 100; i++) { const n = Math.floor(r() * bytes.length); mutants.push({ what: `truncated to ${n}`, bytes: bytes.slice(0, n) }); }
    const flipAt = (at: number) => { const b = bytes.slice(); const x = 1 + Math.floor(r() * 255); b[at]! ^= x; mutants.push({ what: `byte ${at} ^ ${x}`, bytes: b }); };
    for (let i = 0; i < 120; i++) flipAt(Math.floor(r() * bytes.length));
    for (let i = 0; i < 100; i++) { const [o, n] = codeRanges[i % codeRanges.length]!; flipAt(o + Math.floor(r() * n)); }
    for (let i = 0; i < 40; i++) flipAt(28 + Math.floor(r() * (blobBase - 28)));

    const clear = /^(not a simdflow artifact|simdflow artifact container version \d+ is not supported|truncated simdflow artifact|corrupt simdflow artifact|invalid simdflow (artifact|manifest))/;
    let errors = 0, identical = 0;
    const bad: string[] = [];
    for (const m of mutants) {
      const res = await loader.run({ ...job, bytes: m.bytes }, 5_000);
      if (res === 'timeout') bad.push(`${m.what}: timed out`);
      else if ('error' in res) { if (clear.test(res.error) && res.error.length < 300) errors++; else bad.push(`${m.what}: unclear error ${res.error.slice(0, 200)}`); }
      else if (isDeepStrictEqual(res.outputs, (original as { outputs: unknown[] }).outputs)) identical++;
      else bad.push(`${m.what}: loaded and gave different outputs`);
    }
    await loader.close();
    console.log(`mutation test: ${mutants.length} mutations of a ${bytes.length}-byte artifact: ${errors} clear errors, ${identical} identical outputs, ${bad.length} bad`);
    expect(bad).toEqual([]);
    expect(errors + identical).toBe(mutants.length);
  });
});
