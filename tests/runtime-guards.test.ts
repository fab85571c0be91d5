// Misuse of every public method of a loaded model: each is a clear error of bounded size, and a
// refused call leaves the model exactly as it was (same outputs, same state, same position).
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { beforeAll, describe, expect, test } from 'vitest';
import { compileModel } from '../compiler/driver/compile.ts';
import { defineGPT, defineModel, F, GPT, nn, type Tensor } from '../compiler/dsl/index.ts';
import { loadModel, sampleToken, type Model } from '../runtime/index.ts';
import { loadModelFile } from '../runtime/node.ts';
import { TEST_ISAS } from './helpers/isa.ts';
import { CAP, CHUNK, prompt, runFeeds, tinyGpt, V, type TinyGpt } from './helpers/tiny-gpt.ts';

let bytes: Uint8Array, gpt: Model, wantLogits: Float32Array, wantRun: Float32Array, intact: TinyGpt['intact'];
beforeAll(async () => ({ bytes, gpt, wantLogits, wantRun, intact } = await tinyGpt()));

describe('KV cache guards', () => {
  test('setState refuses a negative, fractional or over-capacity position and writes nothing', () => {
    gpt.reset();
    gpt.prefill([7, 7]);
    for (const bad of [[-1], [-3000], [CAP + 1], [2.5], [NaN]]) {
      expect(() => gpt.setState({ pos: bad })).toThrow(/setState\(\) 'pos': /);
    }
    expect(() => gpt.setState({ pos: Int32Array.of(-1) })).toThrow(`model 'tinygpt' setState() 'pos': the KV-cache position must be an integer in [0, ${CAP}], got -1`);
    expect(() => gpt.setState({ pos: Int32Array.of(-3000) })).toThrow('got -3000');
    intact(gpt, 2);
    gpt.setState({ pos: Int32Array.of(CAP) }); // full is legal
    expect(() => gpt.decode(1)).toThrow(`the KV cache holds ${CAP} tokens; at position ${CAP} it cannot take 1 more`);
  });

  test('setState is atomic: one bad tensor and nothing is written', () => {
    gpt.reset();
    const k0 = new Float32Array(CAP * 8).fill(3);
    expect(() => gpt.setState({ pos: Int32Array.of(3), k0, v0: new Float32Array(5) })).toThrow("setState() 'v0': expected 64 values (f32[1, 8, 8]), got 5");
    expect(() => gpt.setState({ k0, nope: k0 })).toThrow("setState(): unknown state 'nope'");
    expect(Array.from(gpt.state().k0!).every((v) => v === 0)).toBe(true);
    intact(gpt, 0);
    for (const bad of [null, undefined, 5, [1, 2], new Float32Array(3)]) expect(() => gpt.setState(bad as never)).toThrow(/setState\(\): expected an object of state tensors by name, got /);
    // A Map of state (state() gives an object, but a Map is the natural container) was accepted and nothing written.
    expect(() => gpt.setState(new Map([['pos', Int32Array.of(3)]]) as never)).toThrow("model 'tinygpt' setState(): expected an object of state tensors by name, got Map");
    intact(gpt, 0);
  });

  test('the public call() checks the cache like prefill() and decode()', () => {
    gpt.reset();
    gpt.setState({ pos: [CAP] });
    expect(() => gpt.call('decode', { tokens: Int32Array.of(1) })).toThrow(`model 'tinygpt' decode(): the KV cache holds ${CAP} tokens; at position ${CAP} it cannot take 1 more`);
    expect(gpt.position).toBe(CAP);
    gpt.reset();
    const tokens = Int32Array.of(1, 2, 3, 4);
    for (const count of [100000, -5, 0, CHUNK + 1]) {
      expect(() => gpt.call('prefill', { tokens, count: Int32Array.of(count) })).toThrow(`model 'tinygpt' prefill() input 'count': the number of tokens must be an integer in [1, ${CHUNK}], got ${count}`);
    }
    expect(() => gpt.call('prefill', { tokens, count: [NaN] })).toThrow("input 'count': value NaN at index 0 is not a 32-bit integer");
    expect(() => gpt.call('prefill', { tokens, count: [2.5] })).toThrow("input 'count': value 2.5 at index 0 is not a 32-bit integer");
    gpt.setState({ pos: [CAP - 2] });
    expect(() => gpt.call('prefill', { tokens, count: [3] })).toThrow(`at position ${CAP - 2} it cannot take 3 more`);
    intact(gpt, CAP - 2);
    // The prefill takes any number of tokens: a count other than that number is refused.
    gpt.reset();
    expect(() => gpt.call('prefill', { tokens, count: [3] })).toThrow("model 'tinygpt' prefill() input 'count': 3 does not match the 4 tokens given");
    intact(gpt, 0);
    // Accepted calls move the position by count.
    gpt.call('prefill', { tokens: tokens.subarray(0, 3), count: [3] });
    expect(gpt.position).toBe(3);
  });
});

describe('argument guards', () => {
  test('feeds: null, undefined, arrays and wrong types are clear errors; number arrays are converted', () => {
    gpt.reset();
    for (const bad of [null, undefined, 5, [1, 2, 3], new Int32Array(8)]) {
      expect(() => gpt.run(bad as never)).toThrow(/^model 'tinygpt' run\(\): expected an object of inputs by name, got .* \(expects tokens: i32\[1, 8\]\)$/);
    }
    // A Map of inputs said "missing input tokens".
    expect(() => gpt.run(new Map(Object.entries(runFeeds())) as never)).toThrow("model 'tinygpt' run(): expected an object of inputs by name, got Map (expects tokens: i32[1, 8])");
    expect(() => gpt.run({ tokens: null as never })).toThrow("input 'tokens': expected Int32Array (i32[1, 8]), got null");
    expect(() => gpt.run({ tokens: 'abcdefgh' as never })).toThrow("input 'tokens': expected Int32Array (i32[1, 8]), got \"abcdefgh\"");
    expect(() => gpt.run({ tokens: [1, 2, 3] })).toThrow("input 'tokens': expected 8 values (i32[1, 8]), got 3");
    expect(() => gpt.run({ tokens: [3, 1, 4, 1, 5, 9, 2, 6.5] })).toThrow("input 'tokens': value 6.5 at index 7 is not a 32-bit integer");
    expect(() => gpt.run({ tokens: [3, 1, 4, 1, 5, 9, 2, 99] })).toThrow(`input 'tokens': value 99 at flat index 7 is outside the valid range [0, ${V})`);
    expect(() => gpt.run({ tokens: { data: [3, 1, 4, 1, 5, 9, 2, 6], shape: [8] } })).toThrow("input 'tokens': expected shape [1, 8], got [8]");
    expect(gpt.run({ tokens: [3, 1, 4, 1, 5, 9, 2, 6] }).logits).toEqual(wantRun);
    expect(gpt.run({ tokens: { data: [3, 1, 4, 1, 5, 9, 2, 6], shape: [1, 8] } }).logits).toEqual(wantRun);
    // Inherited names are not inputs or entries.
    expect(() => gpt.run({ ...runFeeds(), toString: [1] } as never)).toThrow('unknown input toString');
    expect(() => gpt.call('constructor', {})).toThrow("model 'tinygpt' has no entry 'constructor'; entries: run, prefill, decode");
    expect(() => gpt.call('__proto__', {})).toThrow("has no entry '__proto__'");
    // The entry name is not optional (run() is the call without one).
    expect(() => gpt.call(undefined as never, runFeeds())).toThrow("model 'tinygpt' call(): expected an entry name (entries: run, prefill, decode), got undefined");
    expect(() => gpt.step({})).toThrow("has no entry 'step'");
    intact(gpt);
  });

  test('a typed array that lies about its length, a Proxy of one, or an object with neither data nor shape is refused', () => {
    gpt.reset();
    class Lying extends Int32Array { override get length() { return 8; } }
    // Longer than the input: it used to reach the write and throw a raw RangeError.
    expect(() => gpt.run({ tokens: new Lying(100_000) })).toThrow("input 'tokens': expected 8 values (i32[1, 8]), got 100000");
    // Shorter: it used to be accepted, leaving the previous call's values in the rest of the input.
    expect(() => gpt.run({ tokens: new Lying(2) })).toThrow("input 'tokens': expected 8 values (i32[1, 8]), got 2");
    expect(() => gpt.run({ tokens: new Proxy(runFeeds().tokens, {}) })).toThrow("input 'tokens': expected Int32Array (i32[1, 8]) or { data, shape }, got Int32Array");
    expect(() => gpt.run({ tokens: {} as never })).toThrow("input 'tokens': expected Int32Array (i32[1, 8]) or { data, shape }, got Object");
    intact(gpt);
  });

  test('typed arrays from another realm (vm, jsdom, an iframe) are taken by their kind, not refused by instanceof', () => {
    gpt.reset();
    // Was "expected Int32Array (i32[1, 8]), got Int32Array(8)".
    const tokens = runInNewContext('Int32Array.of(3, 1, 4, 1, 5, 9, 2, 6)') as Int32Array;
    expect(tokens instanceof Int32Array).toBe(false);
    expect(gpt.run({ tokens }).logits).toEqual(wantRun);
    const saved = gpt.state();
    gpt.setState({ k0: runInNewContext(`new Float32Array(${saved.k0!.length}).fill(0.5)`) as Float32Array });
    expect(Array.from(gpt.state().k0!).every((v) => v === 0.5)).toBe(true);
    expect(() => gpt.run({ tokens: runInNewContext('new Float32Array(8)') as never })).toThrow("input 'tokens': expected Int32Array (i32[1, 8]), got Float32Array(8)");
    gpt.reset();
    intact(gpt);
  });

  test('an artifact and logits from another realm load and sample as same-realm ones do', async () => {
    // Were "expected the artifact as a Uint8Array …, got Uint8Array(…)" and "expected a non-empty Float32Array, got Float32Array(3)".
    const foreign = runInNewContext(`new Uint8Array(${bytes.length})`) as Uint8Array;
    foreign.set(bytes);
    expect(foreign instanceof Uint8Array).toBe(false);
    const m = await loadModel(foreign);
    expect(m.run(runFeeds()).logits).toEqual(wantRun);
    m.dispose();
    // Its ArrayBuffer too (was "expected the artifact as a Uint8Array or ArrayBuffer, …; got ArrayBuffer").
    const viaBuffer = await loadModel(foreign.buffer as ArrayBuffer);
    expect(viaBuffer.run(runFeeds()).logits).toEqual(wantRun);
    viaBuffer.dispose();
    const logits = runInNewContext('Float32Array.of(0, 2, 1)') as Float32Array;
    expect(sampleToken(logits, {}, 0.5)).toBe(1);
    expect(sampleToken(logits, { temperature: 1 }, 0.99)).toBe(sampleToken(Float32Array.of(0, 2, 1), { temperature: 1 }, 0.99));
    expect(() => sampleToken(runInNewContext('Float64Array.of(0, 2, 1)') as never, {}, 0.5)).toThrow('sampleToken(): logits must be a non-empty Float32Array');
  });

  test('methods taken off the model work (const { run } = model, tokens.forEach(model.decode): were raw TypeErrors reading undefined)', () => {
    gpt.reset();
    const { run, prefill, reset, state, setState } = gpt;
    expect(run(runFeeds()).logits).toEqual(wantRun);
    expect(prefill(prompt)).toEqual(wantLogits);
    const saved = state();
    reset();
    expect(gpt.position).toBe(0);
    setState(saved);
    expect(gpt.position).toBe(prompt.length);
    reset();
    // As callbacks (given the item, its index and the array, as forEach and map pass them).
    prompt.forEach(gpt.decode);
    expect(gpt.position).toBe(prompt.length);
    gpt.reset();
    expect([prompt].map(gpt.prefill)[0]).toEqual(wantLogits);
    gpt.reset();
    intact(gpt);
  });

  test('the manifest a model exposes cannot be edited to move its writes', () => {
    gpt.reset();
    // model.inputs is the manifest's own array: a shape or offset edited there used to steer the next write (over the weights).
    expect(() => { (gpt.inputs[0]!.shape as number[])[1] = 100_000; }).toThrow(TypeError);
    expect(() => { (gpt.inputs[0] as { offset: number }).offset = 0; }).toThrow(TypeError);
    expect(() => { (gpt.manifest.memory.state as { bytes: number }).bytes = 1 << 30; }).toThrow(TypeError);
    expect(gpt.inputs[0]!.shape).toEqual([1, CAP]);
    intact(gpt);
  });

  test('prefill, decode and generate check their arguments', () => {
    gpt.reset();
    for (const bad of [null, undefined, 'abc', 5, { length: 2 }]) expect(() => gpt.prefill(bad as never)).toThrow(/^model 'tinygpt' prefill\(\): expected an array of token ids, got /);
    expect(() => gpt.prefill([])).toThrow("model 'tinygpt' prefill(): no tokens");
    expect(() => gpt.prefill([1, 2.5])).toThrow(`prefill(): token 2.5 at index 1 is not a token id (an integer in [0, ${V}))`);
    expect(() => gpt.prefill([1, V])).toThrow(`prefill(): token ${V} at index 1 is outside the vocabulary [0, ${V})`);
    expect(() => gpt.prefill(['1'] as never)).toThrow('prefill(): token "1" at index 0 is not a token id');
    expect(() => gpt.prefill(new BigInt64Array([0n, 1n]) as never)).toThrow('prefill(): token the bigint 0n at index 0 is not a token id');
    expect(() => gpt.decode(3n as never)).toThrow('decode(): expected a token id, an integer in [0, 13), got the bigint 3n');
    for (const bad of [1.5, NaN, -1, V, '3', undefined, [1]]) expect(() => gpt.decode(bad as never)).toThrow(/^model 'tinygpt' decode\(\): expected a token id, an integer in \[0, 13\), got /);
    expect(() => gpt.decode([1] as never)).toThrow('got an array of 1');
    for (const bad of [-3, NaN, 2.5, '3', undefined, Infinity]) {
      expect(() => gpt.generate(prompt, { maxNewTokens: bad as never })).toThrow(/^model 'tinygpt' generate\(\): maxNewTokens must be a non-negative integer, got /);
    }
    expect(() => gpt.generate(prompt, undefined as never)).toThrow('generate(): expected options { maxNewTokens, onToken? }, got undefined');
    expect(() => gpt.generate(prompt, { maxNewTokens: 2, onToken: 5 as never })).toThrow('generate(): onToken must be a function, got 5');
    // An option nothing reads is an error (Hugging Face's spellings included), never silently ignored.
    for (const k of ['top_k', 'do_sample', 'maxTokens', 'stop']) {
      expect(() => gpt.generate(prompt, { maxNewTokens: 2, [k]: 1 } as never)).toThrow(`model 'tinygpt' generate(): unknown option '${k}' (allowed: maxNewTokens, onToken, temperature, topK, topP, minP, seed, eosTokenId)`);
    }
    // Sampling options: each checked, by name, before anything is written.
    const bad: Array<[string, unknown, string]> = [
      ['temperature', -1, 'a finite number ≥ 0 (0 is greedy)'], ['temperature', NaN, 'a finite number ≥ 0'], ['temperature', Infinity, 'a finite number ≥ 0'], ['temperature', '1', 'a finite number ≥ 0'],
      ['topK', 0, 'a positive integer'], ['topK', 1.5, 'a positive integer'], ['topK', -3, 'a positive integer'], ['topK', Infinity, 'a positive integer'],
      ['topP', 0, 'a number in (0, 1]'], ['topP', 1.5, 'a number in (0, 1]'], ['topP', NaN, 'a number in (0, 1]'],
      ['minP', -0.1, 'a number in [0, 1]'], ['minP', 2, 'a number in [0, 1]'],
      ['seed', 1.5, 'an integer in [0, 2^53)'], ['seed', -1, 'an integer in [0, 2^53)'], ['seed', 2 ** 53, 'an integer in [0, 2^53)'], ['seed', '7', 'an integer in [0, 2^53)'],
    ];
    for (const [k, v, want] of bad) {
      expect(() => gpt.generate(prompt, { maxNewTokens: 2, temperature: 1, [k]: v } as never)).toThrow(`model 'tinygpt' generate(): ${k} must be ${want}`);
    }
    expect(() => gpt.generate(prompt, { maxNewTokens: 2, temperature: -1 })).toThrow("model 'tinygpt' generate(): temperature must be a finite number ≥ 0 (0 is greedy), got -1");
    expect(() => gpt.generate(prompt, { maxNewTokens: 2, topK: 0, temperature: 1 })).toThrow('topK must be a positive integer, got 0');
    // A cut or a seed without a temperature would silently be greedy (Hugging Face's do_sample=False).
    for (const k of ['topK', 'topP', 'minP', 'seed']) {
      expect(() => gpt.generate(prompt, { maxNewTokens: 2, [k]: 1 })).toThrow(`model 'tinygpt' generate(): ${k} is for sampling, which needs a temperature > 0 (without one, generation is greedy)`);
    }
    expect(() => gpt.generate(prompt, { maxNewTokens: 2, eosTokenId: V })).toThrow(`model 'tinygpt' generate() eosTokenId: token ${V} at index 0 is outside the vocabulary [0, ${V})`);
    expect(() => gpt.generate(prompt, { maxNewTokens: 2, eosTokenId: [1, -1] })).toThrow(`generate() eosTokenId: token -1 at index 1 is outside the vocabulary [0, ${V})`);
    expect(() => gpt.generate(prompt, { maxNewTokens: 2, eosTokenId: 1.5 })).toThrow(`generate() eosTokenId: token 1.5 at index 0 is not a token id (an integer in [0, ${V}))`);
    expect(() => gpt.generate(prompt, { maxNewTokens: 2, eosTokenId: '3' as never })).toThrow('generate() eosTokenId: token "3" at index 0 is not a token id');
    expect(() => gpt.generate([], { maxNewTokens: 2 })).toThrow('generate(): the prompt has no tokens');
    // A callback that changes the cache would make the rest of the generation silently wrong (it
    // used to go on from position 0), also when it leaves the position where it was (a setState
    // of other values, a reset and a prefill of as many tokens).
    const changed = "model 'tinygpt' generate(): onToken changed the model's state (a call, reset() or setState()); call them after generate() returns";
    expect(() => gpt.generate(prompt, { maxNewTokens: 3, onToken: () => gpt.reset() })).toThrow(changed);
    expect(() => gpt.generate(prompt, { maxNewTokens: 3, onToken: () => { gpt.decode(1); } })).toThrow(changed);
    expect(() => gpt.generate(prompt, { maxNewTokens: 3, onToken: () => { gpt.reset(); gpt.prefill([7, 7, 7]); } })).toThrow(changed);
    expect(() => gpt.generate(prompt, { maxNewTokens: 3, onToken: () => gpt.setState({ ...gpt.state(), pos: [3] }) })).toThrow(changed);
    // Reading the model is not changing it, and neither is a call it refused (reset(1) counted as a write).
    expect(gpt.generate(prompt, { maxNewTokens: 3, onToken: () => { gpt.state(); void gpt.position; } }).length).toBe(6);
    const refused = () => { for (const f of [() => gpt.reset(1), () => gpt.decode(99), () => gpt.setState({ pos: [99] })]) expect(f).toThrow(); };
    expect(Array.from(gpt.generate(prompt, { maxNewTokens: 3, onToken: refused }))).toEqual(Array.from(gpt.generate(prompt, { maxNewTokens: 3 })));
    gpt.reset();
    expect(() => gpt.generate(prompt, { maxNewTokens: CAP })).toThrow(`generate(): 3 prompt + ${CAP} new tokens need ${CAP + 2} cache positions, the KV cache holds ${CAP}`);
    intact(gpt);
    expect(Array.from(gpt.generate(prompt, { maxNewTokens: 0 }))).toEqual(prompt);
    const out = gpt.generate(prompt, { maxNewTokens: 3 });
    expect(out.length).toBe(6);
    let best = 0;
    for (let j = 1; j < V; j++) if (wantLogits[j]! > wantLogits[best]!) best = j;
    expect(out[3]).toBe(best);
  });

  test('an async onToken is refused at its first token (a false it resolved to never ended the sequence; a rejection went unhandled)', async () => {
    const unhandled: unknown[] = [];
    const note = (e: unknown) => unhandled.push(e);
    process.on('unhandledRejection', note);
    try {
      const refused = "model 'tinygpt' generate(): onToken returned a Promise (an async function?): generate() is synchronous and cannot wait for it, so its false would not end the sequence; return false from a plain function";
      const seen: number[] = [];
      expect(() => gpt.generate(prompt, { maxNewTokens: 3, onToken: async (t) => { seen.push(t); return false; } })).toThrow(refused);
      expect(seen).toHaveLength(1);
      expect(() => gpt.generate([[1, 2]], { maxNewTokens: 3, onToken: async () => { throw new Error('the page is gone'); } })).toThrow(refused);
      await new Promise((r) => setTimeout(r, 20));
      expect(unhandled).toEqual([]);
    } finally { process.off('unhandledRejection', note); }
    // The cache holds the prompt, as after any onToken that throws; a plain function's false still ends the sequence.
    intact(gpt, 2);
    expect(gpt.generate(prompt, { maxNewTokens: 3, onToken: () => false })).toHaveLength(prompt.length + 1);
  });

  test('loadModel refuses what is not an artifact, in a message of bounded size', async () => {
    const huge = new Float32Array(5_000_000);
    const err = await loadModel(huge as never).catch((e: Error) => e);
    expect(String(err)).toContain('loadModel(): expected the artifact as a Uint8Array or ArrayBuffer, a Response or a URL; got Float32Array(5000000)');
    expect(String(err).length).toBeLessThan(300);
    for (const bad of [null, undefined, 42, {}]) await expect(loadModel(bad as never)).rejects.toThrow('loadModel(): expected the artifact as a Uint8Array');
    const e2 = await loadModel('x'.repeat(100_000)).catch((e: Error) => e);
    expect(String(e2).length).toBeLessThan(500);
    await expect(loadModel(bytes, { isa: 'avx512' as never })).rejects.toThrow("option isa must be 'auto', 'wasmsimd' or 'wasmrelaxedsimd', got \"avx512\"");
    await expect(loadModel(bytes, { isaa: 'wasmsimd' } as never)).rejects.toThrow("loadModel(): unknown option 'isaa' (allowed: isa, threads, threadPolicy)");
    for (const bad of [[], null, 'wasmsimd', new Uint8Array(1)]) {
      await expect(loadModel(bytes, bad as never)).rejects.toThrow(/^loadModel\(\): expected an object of options \(isa, threads, threadPolicy\), got /);
    }
    // A file cut after its magic is truncated, not foreign.
    await expect(loadModel(bytes.subarray(0, 8))).rejects.toThrow('truncated simdflow artifact: the header needs 28 bytes, the file has 8');
    await expect(loadModel(bytes.subarray(0, 2))).rejects.toThrow('not a simdflow artifact: expected magic "SFLW"');
    // A buffer transferred away (postMessage, structuredClone) reads as 0 bytes: any view of it threw a raw TypeError.
    const gone = bytes.slice();
    structuredClone(gone.buffer, { transfer: [gone.buffer] });
    for (const src of [gone, gone.buffer, new Uint8Array(0)]) await expect(loadModel(src)).rejects.toThrow('not a simdflow artifact: 0 bytes (empty, or transferred)');
    await expect(loadModel(bytes.slice())).resolves.toBeDefined();
    const used = new Response(bytes as Uint8Array<ArrayBuffer>);
    await used.arrayBuffer();
    await expect(loadModel(used)).rejects.toThrow('could not read simdflow artifact from the Response given: its body was already read');
    // Node's fetch takes no relative path or file: URL: the error points at loadModelFile.
    await expect(loadModel(new Response('missing', { status: 404 }))).rejects.toThrow('could not fetch simdflow artifact from the Response given: HTTP 404');
    await expect(loadModel('public/mlp.simdflow')).rejects.toThrow(/could not fetch simdflow artifact public\/mlp.simdflow: .*in Node, load a file with loadModelFile/);
  });

  test('loadModelFile names the file it could not read', async () => {
    await expect(loadModelFile('nope/missing.simdflow')).rejects.toThrow(/^could not read simdflow artifact nope\/missing.simdflow: ENOENT/);
    await expect(loadModelFile(123 as never)).rejects.toThrow('loadModelFile(): expected a file path (a string or a file: URL), got 123');
    await expect(loadModelFile('.')).rejects.toThrow(/could not read simdflow artifact \.: EISDIR/);
  });
});

describe('dispose', () => {
  test('every method refuses a disposed model', async () => {
    const m = await loadModel(bytes);
    m.dispose();
    const gone = "model 'tinygpt' was disposed";
    expect(() => m.run(runFeeds())).toThrow(gone);
    expect(() => m.call('decode', { tokens: [1] })).toThrow(gone);
    expect(() => m.state()).toThrow(gone);
    expect(() => m.setState({})).toThrow(gone);
    expect(() => m.reset()).toThrow(gone);
    expect(() => m.prefill([1])).toThrow(gone);
    expect(() => m.decode(1)).toThrow(gone);
    expect(() => m.generate([1], { maxNewTokens: 1 })).toThrow(gone);
    expect(() => m.position).toThrow(gone);
    m.dispose(); // twice is harmless
  });

  test('a disposed model still referenced no longer holds its wasm memory', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const held: Model[] = [];
    const refs: Array<WeakRef<WebAssembly.Memory>> = [];
    for (let i = 0; i < 3; i++) {
      const m = await loadModel(bytes);
      refs.push(new WeakRef((m as unknown as { memory: WebAssembly.Memory }).memory));
      m.dispose();
      held.push(m);
    }
    for (let i = 0; i < 10 && refs.some((r) => r.deref()); i++) { await new Promise((r) => setTimeout(r, 10)); gc(); }
    expect(refs.filter((r) => r.deref()).length).toBe(0);
    expect(held.length).toBe(3);
  });
});

describe('the caller\'s bytes', () => {
  test('loading never changes them: the same Node Buffer loads again, also at an unaligned offset', async () => {
    // A Buffer's slice() is a view, not a copy: clearing the memory's shared flag for one thread
    // once wrote into the caller's file, and the next load of it failed its checksum.
    const buf = Buffer.from(bytes);
    const unaligned = Buffer.alloc(bytes.length + 1).subarray(1);
    unaligned.set(bytes);
    for (const b of [buf, unaligned]) {
      for (const threads of [1, 2, 1]) {
        const m = await loadModel(b, { threads });
        intact(m);
        m.dispose();
      }
      expect(Buffer.compare(b, Buffer.from(bytes))).toBe(0);
    }
  });
});

test('bytes transferred or shrunk while they load are named (the weights\' copy was a raw TypeError on a detached buffer)', async () => {
  const gone = "loadModel(): the artifact's bytes were transferred or shrunk while it loaded";
  const sent = bytes.slice(), loading = loadModel(sent);
  structuredClone(sent.buffer, { transfer: [sent.buffer] }); // as postMessage(bytes.buffer, [bytes.buffer]) does
  await expect(loading).rejects.toThrow(gone);
  // (A resizable ArrayBuffer is ES2024, past this project's lib.)
  const Resizable = ArrayBuffer as unknown as new (n: number, o: { maxByteLength: number }) => ArrayBuffer & { resize(n: number): void };
  const grows = new Resizable(bytes.length, { maxByteLength: 2 * bytes.length }), view = new Uint8Array(grows);
  view.set(bytes);
  const shrinking = loadModel(view);
  grows.resize(100);
  await expect(shrinking).rejects.toThrow(gone);
  // Kept until it resolves, a resizable buffer loads as any other.
  grows.resize(bytes.length);
  view.set(bytes);
  const m = await loadModel(view);
  intact(m);
  m.dispose();
});

describe('what a call writes is what it checked', () => {
  // y = where(m, emb[ids] + x, 0), computed here by hand from the embedding's weights.
  class Masked extends nn.Module {
    emb = new nn.Embedding(10, 4);
    forward(ids: Tensor, m: Tensor, x: Tensor) { return F.whereOp(m, this.emb.call(ids).add(x), 0); }
  }
  const module = new Masked();
  const x = Float32Array.from({ length: 16 }, (_, i) => i / 4), mask = Uint8Array.of(1, 1, 0, 1, 0, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1, 1);
  const byHand = (ids: ArrayLike<number>) => Float32Array.from({ length: 16 }, (_, k) => (mask[k] ? Math.fround(module.emb.weight.data[ids[k >> 2]! * 4 + (k & 3)]! + x[k]!) : 0));
  let model: Model;
  beforeAll(async () => {
    const def = defineModel({ name: 'masked', module, inputs: { ids: { shape: [1, 4], dtype: 'i32' }, m: { shape: [1, 4, 4], dtype: 'bool' }, x: [1, 4, 4] } });
    model = await loadModel((await compileModel(def, { isas: TEST_ISAS })).bytes);
  });

  test('ids changed after their check (by a later feed\'s getter) are not what runs', () => {
    expect(model.run({ ids: Int32Array.of(0, 1, 2, 9), m: mask, x }).y).toEqual(byHand([0, 1, 2, 9]));
    for (const bad of [10, -1, 100_000, -100_000]) {
      const ids = Int32Array.of(3, 1, 4, 1);
      // Before: a row of zeros for 10 and -1, a trap (out of bounds) for ±100000.
      expect(model.run({ ids, m: mask, get x() { ids[3] = bad; return x; } }).y).toEqual(byHand([3, 1, 4, 1]));
    }
  });

  test('a bool input holds 0 or 1: a typed array with another value is refused, as a plain array is', () => {
    const m2 = Uint8Array.from(mask, (v, i) => (i === 6 ? 2 : v));
    expect(() => model.run({ ids: Int32Array.of(0, 1, 2, 3), m: m2, x })).toThrow("model 'masked' run() input 'm': value 2 at flat index 6 is not a boolean (0 or 1)");
    expect(() => model.run({ ids: Int32Array.of(0, 1, 2, 3), m: Array.from(m2), x })).toThrow("input 'm': value 2 at index 6 is not a boolean (0 or 1)");
    expect(model.run({ ids: Int32Array.of(0, 1, 2, 3), m: mask, x }).y).toEqual(byHand([0, 1, 2, 3]));
  });

  test('a shape of non-integers is shown as given', async () => {
    expect(() => model.run({ ids: { data: [0, 1, 2, 3], shape: [1.5, 4] }, m: mask, x })).toThrow("input 'ids': expected Int32Array (i32[1, 4]) or { data, shape }, got an object with shape [1.5, 4]");
  });
});

test('generate() picks tokens as torch.argmax does: the first NaN logit, else the first of the largest; sampling refuses NaN', async () => {
  // The LM head's row 5 is NaN, so token 5's logit is NaN after any input: torch.argmax picks it
  // every step (generate() used to skip NaN and pick the largest number).
  const module = new GPT({ vocab: V, context: CAP, dModel: 8, nhead: 2, layers: 1, dimFeedforward: 16 });
  module.head.weight.data.fill(NaN, 5 * 8, 6 * 8);
  const m = await loadModel((await compileModel(defineGPT({ name: 'nangpt', module, tokens: [1, CAP], capacity: CAP, chunk: CHUNK }), { isas: TEST_ISAS })).bytes);
  expect(Number.isNaN(m.prefill([1, 2])[5])).toBe(true);
  expect(Array.from(m.generate([1, 2], { maxNewTokens: 3 }))).toEqual([1, 2, 5, 5, 5]);
  // Sampling cannot draw from a NaN: the error names the step, the position and (with a list of prompts) the sequence.
  expect(() => m.generate([1, 2], { maxNewTokens: 3, temperature: 1 })).toThrow("model 'nangpt' generate(): new token 0 (position 2): logit NaN at vocabulary index 5; sampling needs finite logits (−Infinity for a token never to draw)");
  expect(() => m.generate([[1, 2, 3]], { maxNewTokens: 3, temperature: 0.5, topK: 2 })).toThrow("model 'nangpt' generate(): new token 0 (position 3) of sequence 0: logit NaN at vocabulary index 5");
});
