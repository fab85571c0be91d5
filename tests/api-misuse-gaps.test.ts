// Misuse of the public API that passed silently or failed as a raw TypeError: each is now a clear
// error naming what was expected, what was found and where, and a refused call changes nothing.
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, test } from 'vitest';
import { defineModel, F, interpret, ModelDefinitionError, nn, runPasses, stack, traceModel, type Tensor } from '../compiler/index.ts';
import { readContainer, unpackContainer } from '../runtime/format.ts';
import { loadModel, type Model } from '../runtime/index.ts';
import { loadModelBytes } from '../runtime/model.ts';
import { loadModelFile } from '../runtime/node.ts';
import { prompt, runFeeds, tinyGpt, type TinyGpt } from './helpers/tiny-gpt.ts';

let bytes: Uint8Array, gpt: Model, wantLogits: Float32Array, wantRun: Float32Array, intact: TinyGpt['intact'];
beforeAll(async () => ({ bytes, gpt, wantLogits, wantRun, intact } = await tinyGpt()));

describe('a model method given more arguments than it takes refuses them (they were ignored)', () => {
  test('each method names what it takes, what it got and what the caller plausibly meant', () => {
    gpt.reset();
    gpt.prefill(prompt);
    const any = gpt as unknown as Record<string, (...a: unknown[]) => unknown>;
    // decode(5, 7) decoded 5 alone; run(feeds, { threads: 2 }) ran on the threads the model has; reset(0, 1) emptied sequence 0.
    expect(() => any.decode!(5, 7)).toThrow("model 'tinygpt' decode(token) takes 1, got 2 arguments: 5, 7 (several tokens: prefill([…]); a batched cache: decode([one per sequence]))");
    expect(() => any.run!(runFeeds(), { threads: 2 })).toThrow("model 'tinygpt' run(feeds) takes 1, got 2 arguments: Object, Object (options are loadModel()'s)");
    expect(() => any.reset!(0, 1)).toThrow("model 'tinygpt' reset(seq) takes 1, got 2 arguments: 0, 1 (one sequence at a time)");
    expect(() => any.call!('run', runFeeds(), { isa: 'wasmsimd' })).toThrow("model 'tinygpt' call(entryName, feeds) takes 2, got 3 arguments: \"run\", Object, Object (options are loadModel()'s)");
    expect(() => any.step!(runFeeds(), 1)).toThrow("model 'tinygpt' step(feeds) takes 1, got 2 arguments: Object, 1 (options are loadModel()'s)");
    expect(() => any.setState!('pos', Int32Array.of(0))).toThrow("model 'tinygpt' setState(values) takes 1, got 2 arguments: \"pos\", Int32Array(1) (setState({ name: data }))");
    expect(() => any.state!('pos')).toThrow("model 'tinygpt' state() takes 0, got 1 arguments: \"pos\"");
    expect(() => any.prefill!([1], 0, 2)).toThrow("model 'tinygpt' prefill(tokens, seq) takes 2, got 3 arguments: an array of 1, 0, 2");
    expect(() => any.generate!(prompt, { maxNewTokens: 2 }, () => {})).toThrow(/^model 'tinygpt' generate\(prompts, opts\) takes 2, got 3 arguments: an array of 3, Object, function .* \(onToken is a field of opts\)$/s);
    expect(() => any.entry!('run', 'decode')).toThrow("model 'tinygpt' entry(name) takes 1, got 2 arguments: \"run\", \"decode\"");
    expect(() => any.dispose!(true)).toThrow("model 'tinygpt' dispose() takes 0, got 1 arguments: true");
    // Nothing was run, reset or written: the cache still holds the prompt, and the model is not disposed.
    intact(gpt, prompt.length);
    // A message of bounded size, whatever was passed.
    expect(String((() => { try { any.decode!(1, 'x'.repeat(100_000), new Float32Array(1e6)); } catch (e) { return e; } })()).length).toBeLessThan(300);
  });

  test('methods taken off the model refuse them too; as forEach and map callbacks they still work', () => {
    gpt.reset();
    const { decode, reset } = gpt as unknown as Record<string, (...a: unknown[]) => unknown>;
    expect(() => decode!(1, 2)).toThrow("model 'tinygpt' decode(token) takes 1, got 2 arguments: 1, 2");
    expect(gpt.position).toBe(0);
    // forEach and map pass the item, its index and the array: not a caller's extra arguments.
    prompt.forEach(gpt.decode);
    expect(gpt.position).toBe(prompt.length);
    reset!();
    Int32Array.from(prompt).forEach(gpt.decode as never);
    expect(gpt.position).toBe(prompt.length);
    gpt.reset();
    expect([prompt].map(gpt.prefill)[0]).toEqual(wantLogits);
    // map's index is the sequence prefill fills (a batched cache's prompt i into sequence i): past a one-sequence cache, it says so.
    gpt.reset();
    expect(() => [prompt, prompt].map(gpt.prefill)).toThrow("model 'tinygpt' prefill(): the sequence must be an integer in [0, 1), got 1 (as a map or forEach callback: 1 was the item's index)");
    expect(gpt.position).toBe(prompt.length);
    // A Set's forEach passes (value, value, set): that is refused, as the item is not at the index given.
    gpt.reset();
    expect(() => new Set([1]).forEach(gpt.decode as never)).toThrow("model 'tinygpt' decode(token) takes 1, got 3 arguments: 1, 1, Set");
    intact(gpt);
  });
});

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
  const changed = 'corrupt simdflow artifact: checksum mismatch in the weights (the file was damaged, or the bytes changed while loadModel read them: keep them unchanged until it resolves)';
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

describe("F's names as torch.nn.functional spells them", () => {
  const any = F as unknown as Record<string, unknown>;
  test("a snake_case name F has in camelCase is refused naming it (was a raw TypeError 'F.layer_norm is not a function')", () => {
    const pairs: Array<[string, string]> = [
      ['layer_norm', 'layerNorm'], ['scaled_dot_product_attention', 'scaledDotProductAttention'], ['cross_entropy', 'crossEntropy'],
      ['one_hot', 'oneHot'], ['log_softmax', 'logSoftmax'], ['group_norm', 'groupNorm'], ['max_pool2d', 'maxPool2d'],
      ['conv_transpose2d', 'convTranspose2d'], ['smooth_l1_loss', 'smoothL1Loss'], ['binary_cross_entropy_with_logits', 'binaryCrossEntropyWithLogits'],
      ['adaptive_avg_pool2d', 'adaptiveAvgPool2d'], ['pixel_shuffle', 'pixelShuffle'], ['hard_sigmoid', 'hardsigmoid'],
    ];
    for (const [torch, ours] of pairs) {
      expect(typeof any[ours], ours).toBe('function');
      expect(() => any[torch], torch).toThrow(ModelDefinitionError);
      expect(() => any[torch], torch).toThrow(`F.${torch}: the DSL spells PyTorch's snake_case names in camelCase; this is F.${ours}`);
    }
    // torch's in-place F.relu_ and F.leaky_relu_.
    expect(() => any.relu_).toThrow('F.relu_: in-place ops do not exist in a traced model (every op makes a new tensor): write x = F.relu(x, …)');
    expect(() => any.leaky_relu_).toThrow('write x = F.leakyRelu(x, …)');
    // A snake_case name with no counterpart says so; other names read as they did.
    expect(() => any.rms_norm).toThrow('F.rms_norm: F has no rms_norm, nor rmsNorm (Object.keys(F) lists its functions)');
    for (const k of ['then', 'toJSON', 'asymmetricMatch', '__esModule', 'nope', 'Relu']) expect(any[k], k).toBeUndefined();
    expect('layer_norm' in F).toBe(false);
  });

  test('inside a model the error names where it was read, and the names spelt alike in both still work', () => {
    class LN extends nn.Module { forward(x: Tensor): Tensor { return (F as unknown as Record<string, (x: Tensor, s: number[]) => Tensor>).layer_norm!(x, [3]); } }
    expect(() => traceModel({ name: 'ln', module: new LN(), inputs: { x: [2, 3] } })).toThrow("F.layer_norm: the DSL spells PyTorch's snake_case names in camelCase; this is F.layerNorm in module '<root>' (LN)");
    // relu, softmax and the camelCase names work as before: checked against values computed by hand.
    class Ok extends nn.Module { forward(x: Tensor): Tensor { return F.softmax(F.relu(x), 1).add(F.layerNorm(x, [3])); } }
    const g = traceModel({ name: 'ok', module: new Ok(), inputs: { x: [1, 3] } });
    const y = interpret(g, { x: Float32Array.of(-1, 0, 1) }).y!;
    // softmax(relu([-1, 0, 1])) = softmax([0, 0, 1]); layerNorm([-1, 0, 1]) = [-1, 0, 1] / sqrt(2/3 + 1e-5).
    const e = Math.E, s = 2 + e, n = 1 / Math.sqrt(2 / 3 + 1e-5);
    expect(y).toHaveLength(3);
    [1 / s - n, 1 / s, e / s + n].forEach((v, i) => expect(y[i]).toBeCloseTo(v, 5));
  });
});

test("F's option types (F.Conv2dOptions) are every type f.ts exports: index.ts names each by hand, since F is a Proxy", () => {
  const src = (f: string) => readFileSync(new URL(`../compiler/dsl/${f}`, import.meta.url), 'utf8');
  const exported = [...src('f.ts').matchAll(/export type \{([^}]*)\}/g)].flatMap((m) => m[1]!.split(',').map((s) => s.trim()).filter(Boolean)).sort();
  const named = [...src('index.ts').matchAll(/export type (\w+) = Fns\.(\w+);/g)].map((m) => { expect(m[1]).toBe(m[2]); return m[1]!; }).sort();
  expect(exported.length).toBeGreaterThan(20);
  expect(named).toEqual(exported);
});

test("runPasses' options of the wrong type are refused by name (disable: 'fusion' was read letter by letter, onPass: 3 a raw TypeError)", () => {
  class Net extends nn.Module { fc = new nn.Linear(4, 2); forward(x: Tensor) { return this.fc.call(x); } }
  const g = traceModel(defineModel({ name: 'net', module: new Net(), inputs: { x: [1, 4] } }));
  const bad: Array<[Record<string, unknown>, string]> = [
    [{ disable: 'fusion' }, 'runPasses: option disable must be an array of pass names, got "fusion"'],
    [{ disable: [1] }, 'runPasses: option disable must be an array of pass names, got an array of 1'],
    [{ onPass: 3 }, 'runPasses: option onPass must be a function (pass, graph) => void, got 3'],
    [{ attention: 'fast' }, "runPasses: option attention must be 'auto', 'fused' or 'unfused', got \"fast\""],
    [{ noReuse: 1 }, 'runPasses: option noReuse must be true or false, got 1'],
    [{ target: {} }, 'runPasses: option target must be a Target'],
  ];
  for (const [opts, msg] of bad) expect(() => runPasses(g, opts as never), JSON.stringify(opts)).toThrow(msg);
  // The same graph with good options still optimises: the passes ran (the onPass names), the graph is the same model.
  const seen: string[] = [];
  const out = runPasses(g, { disable: ['layernorm-recognition'], onPass: (p) => seen.push(p.name), noReuse: true });
  expect(seen).toContain('shape-inference');
  expect(seen).not.toContain('layernorm-recognition');
  const x = Float32Array.of(1, -2, 3, 0.5);
  const got = interpret(out, { x }).y as Float32Array, want = interpret(g, { x }).y as Float32Array;
  expect(got.length).toBe(2);
  got.forEach((v, i) => expect(v).toBeCloseTo(want[i]!, 5)); // (the fused GEMM adds its bias in another order)
});

test("x.type() as torch: the type's name, or a cast to a dtype or a tensor type's name (x.type was a raw 'is not a function'); stack's dim error names stack", () => {
  const run = (f: (x: Tensor) => Tensor) => {
    class Net extends nn.Module { forward(x: Tensor) { return f(x); } }
    return interpret(traceModel(defineModel({ name: 'net', module: new Net(), inputs: { x: [1, 3] } })), { x: Float32Array.of(0.5, -1.5, 2.7) }).y;
  };
  let seen = '';
  expect(run((x) => { seen = x.type(); return x; })).toEqual(Float32Array.of(0.5, -1.5, 2.7));
  expect(seen).toBe('torch.FloatTensor');
  // Casts truncate toward zero, as torch's .long() does.
  expect(run((x) => x.type('torch.LongTensor'))).toEqual(Int32Array.of(0, -1, 2));
  expect(run((x) => x.type('torch.int32').add(x.type('torch.cuda.IntTensor')))).toEqual(Int32Array.of(0, -2, 4));
  expect(run((x) => x.gt(0).type('torch.FloatTensor'))).toEqual(Float32Array.of(1, 0, 1));
  expect(() => run((x) => x.type('torch.DoubleTensor'))).toThrow(/^type: expected a dtype \('f32', .*\) or a tensor type \(torch\.FloatTensor, .*\), got "torch\.DoubleTensor" in module '<root>'/);
  expect(() => run((x) => x.type(3 as never))).toThrow('type: expected a dtype');
  expect(() => run((x) => stack([x, x], 3))).toThrow("stack: dim 3 is out of range for stacking tensors of rank 2 (expected a dim in [-3, 2]) in module '<root>'");
  expect(run((x) => stack([x, x], -1))).toEqual(Float32Array.of(0.5, 0.5, -1.5, -1.5, 2.7, 2.7));
});
