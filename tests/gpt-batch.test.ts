// A batched KV cache (defineGPT's `batch`): B sequences, each at its own position, decoded
// together. Oracles: the same weights compiled with batch 1 running each sequence alone, the
// reference interpreter's full forward, and the interpreter on the batched entries themselves.
// generate()'s sampling and stops run here too (on the same compiled model).
import { beforeAll, describe, expect, test } from 'vitest';
import { compileModel } from '../compiler/driver/compile.ts';
import { defineGPT, GPT, nn, traceModel } from '../compiler/dsl/index.ts';
import type { Graph } from '../compiler/ir/node.ts';
import { interpret } from '../compiler/reference/interpret.ts';
import { instantiate } from '../compiler/ir/symbolic.ts';
import { loadModelBytes, type GenerateOptions, type Model } from '../runtime/model.ts';
import { maxRelErr, TEST_ISAS } from './helpers/e2e.ts';
import { rng } from '../compiler/dsl/module.ts';
import { sampleToken, uniform } from '../runtime/index.ts'; // the exported sampler, as an app uses it

const cfg = { vocab: 37, context: 24, dModel: 16, nhead: 2, layers: 2, dimFeedforward: 24 };
const B = 3, CAP = 20, CHUNK = 5, V = cfg.vocab;
let batched: Model, single: Model, bytes: Uint8Array;
let runGraph: Graph, entries: Record<string, Graph>;

beforeAll(async () => {
  const module = new GPT(cfg);
  const c = await compileModel(defineGPT({ name: 'gpt3', module, tokens: [1, CAP], capacity: CAP, chunk: CHUNK, batch: B }), { isas: TEST_ISAS });
  const one = await compileModel(defineGPT({ name: 'gpt1', module, tokens: [1, CAP], capacity: CAP, chunk: CHUNK }), { isas: TEST_ISAS });
  bytes = c.bytes;
  batched = await loadModelBytes(c.bytes);
  single = await loadModelBytes(one.bytes);
  runGraph = c.traced;
  entries = c.tracedEntries;
});

const r = rng(5);
const tokens = (n: number) => Array.from({ length: n }, () => Math.floor(r() * V));
/** Prompts of different lengths: a chunk and a bit, one token, two chunks and a bit. */
const prompts = [tokens(7), tokens(1), tokens(12)];
const steps = Array.from({ length: 6 }, () => tokens(B));

/** Logits of `seq` alone in the batch-1 model: after its prompt, then after each decoded token. */
function alone(prompt: number[], next: number[]): Float32Array[] {
  single.reset();
  return [single.prefill(prompt), ...next.map((t) => single.decode(t))];
}

/** The reference interpreter's full (uncached) forward: logits of the last of `seq`. */
function reference(seq: number[]): Float32Array {
  const logits = interpret(runGraph, { tokens: Int32Array.from({ length: CAP }, (_, i) => seq[i] ?? 0) }).logits as Float32Array;
  return logits.subarray((seq.length - 1) * V, seq.length * V);
}

describe('batched KV cache', () => {
  test('each sequence decodes as it does alone in a batch-1 model, and as the full forward', () => {
    batched.reset();
    expect(batched.batch).toBe(B);
    const got: Float32Array[][] = prompts.map(() => []);
    for (const s of [2, 0, 1]) got[s]!.push(batched.prefill(prompts[s]!, s)); // any order
    expect(batched.positions).toEqual([7, 1, 12]);
    for (const step of steps) batched.decode(step).forEach((row, s) => got[s]!.push(row));
    expect(batched.positions).toEqual([13, 7, 18]);
    prompts.forEach((p, s) => {
      const want = alone(p, steps.map((t) => t[s]!));
      got[s]!.forEach((row, i) => {
        expect(maxRelErr(row, want[i]!)).toBeLessThan(1e-5);
        const seq = [...p, ...steps.slice(0, i).map((t) => t[s]!)];
        expect(maxRelErr(row, reference(seq))).toBeLessThan(2e-5);
      });
    });
  });

  test('the compiled prefill and decode entries equal the reference interpreter on the same state', () => {
    batched.reset();
    prompts.forEach((p, s) => batched.prefill(p, s));
    const check = (entry: string, feeds: Record<string, Int32Array>, sizes: Record<string, number> = {}) => {
      const state = batched.state();
      // The prefill takes any number of tokens T: the reference runs at the actual T.
      const want = interpret(instantiate(entries[entry]!, sizes), feeds, state as never);
      const out = batched.call(entry, feeds);
      expect(maxRelErr(out.logits!, want.logits!)).toBeLessThan(1e-5);
      const after = batched.state();
      for (const [k, v] of Object.entries(after)) expect(maxRelErr(v, want[`state.${k}`]!)).toBeLessThan(1e-5);
    };
    check('prefill', { tokens: Int32Array.from(tokens(3)), count: Int32Array.of(3), seq: Int32Array.of(1) }, { T: 3 });
    expect(batched.positions).toEqual([7, 4, 12]);
    check('decode', { tokens: Int32Array.from(tokens(B)) });
    expect(batched.positions).toEqual([8, 5, 13]);
  });

  test('generate() over several prompts equals generating each alone', () => {
    const seen: Array<[number, number, number]> = [];
    const out = batched.generate(prompts.slice(0, 2), { maxNewTokens: 5, onToken: (t, i, s) => seen.push([t, i, s]) });
    expect(out).toHaveLength(2);
    out.forEach((o, s) => expect(Array.from(o)).toEqual(Array.from(single.generate(prompts[s]!, { maxNewTokens: 5 }))));
    expect(seen.filter(([, , s]) => s === 1).map(([t]) => t)).toEqual(Array.from(out[1]!.subarray(prompts[1]!.length)));
    expect(seen.map(([, i]) => i)).toEqual([0, 0, 1, 1, 2, 2, 3, 3, 4, 4]);
    // A batch-1 model takes a list of one prompt too.
    expect(single.generate([prompts[0]!], { maxNewTokens: 3 }).map((o) => Array.from(o))).toEqual([Array.from(single.generate(prompts[0]!, { maxNewTokens: 3 }))]);
  });

  test('reset(seq) empties one sequence and leaves the others as they were', () => {
    batched.reset();
    prompts.forEach((p, s) => batched.prefill(p, s));
    batched.reset(1);
    expect(batched.positions).toEqual([7, 0, 12]);
    const fresh = [5, 9];
    expect(maxRelErr(batched.prefill(fresh, 1), alone(fresh, [])[0]!)).toBeLessThan(1e-5);
    const rows = batched.decode([1, 2, 3]);
    expect(maxRelErr(rows[0]!, alone(prompts[0]!, [1])[1]!)).toBeLessThan(1e-5);
    expect(maxRelErr(rows[1]!, alone(fresh, [2])[1]!)).toBeLessThan(1e-5);
    expect(maxRelErr(rows[2]!, alone(prompts[2]!, [3])[1]!)).toBeLessThan(1e-5);
  });

  test('misuse is a clear error and leaves the cache as it was', () => {
    batched.reset();
    prompts.forEach((p, s) => batched.prefill(p, s));
    const before = batched.state();
    const m = "model 'gpt3'";
    expect(() => batched.decode(4)).toThrow(`${m} decode(): the KV cache holds 3 sequences, which decode together: pass 3 tokens (one per sequence), got 4`);
    expect(() => batched.decode([1, 2])).toThrow(`${m} decode(): expected 3 tokens (one per sequence of the KV cache), got 2`);
    expect(() => batched.decode([1, 2, 37])).toThrow(`${m} decode(): token 37 at index 2 is outside the vocabulary [0, 37)`);
    expect(() => batched.prefill([1])).toThrow(`${m} prefill(): the KV cache holds 3 sequences: say which one, as the second argument (an integer in [0, 3))`);
    for (const bad of [3, -1, 1.5, '1', null]) expect(() => batched.prefill([1], bad as never)).toThrow(`${m} prefill(): the sequence must be an integer in [0, 3), got`);
    expect(() => batched.reset(3)).toThrow(`${m} reset(): the sequence must be an integer in [0, 3), got 3`);
    expect(() => batched.position).toThrow(`${m} position: the KV cache holds 3 sequences, each at its own position; read model.positions`);
    expect(() => batched.prefill(tokens(9), 2)).toThrow(`${m} prefill(): sequence 2 of the KV cache holds 20 tokens; at position 12 it cannot take 9 more (reset(2) to start over)`);
    expect(() => batched.call('prefill', { tokens: new Int32Array(CHUNK), count: Int32Array.of(1), seq: Int32Array.of(3) })).toThrow("prefill() input 'seq': value 3 at flat index 0 is outside the valid range [0, 3)");
    expect(() => batched.setState({ pos: Int32Array.of(1, 21, 0) })).toThrow(`${m} setState() 'pos': the KV-cache position of sequence 1 must be an integer in [0, 20], got 21`);
    expect(() => batched.generate([[1], [2], [3], [4]], { maxNewTokens: 1 })).toThrow(`${m} generate(): 4 prompts, the KV cache holds 3 sequences`);
    expect(() => batched.generate([[1], []], { maxNewTokens: 1 })).toThrow(`${m} generate(): prompt 1 has no tokens`);
    expect(() => batched.generate([[1], [2, 99]], { maxNewTokens: 1 })).toThrow(`${m} generate() prompt 1: token 99 at index 1 is outside the vocabulary [0, 37)`);
    expect(() => batched.generate([[1], tokens(17)], { maxNewTokens: 5 })).toThrow(`${m} generate(): prompt 1: 17 prompt + 5 new tokens need 21 cache positions, the KV cache holds 20`);
    expect(batched.state()).toEqual(before);
    // One full sequence stops decode (it advances every sequence) but not the others' prefill.
    batched.setState({ pos: Int32Array.of(CAP, 1, 12) });
    expect(() => batched.decode([1, 2, 3])).toThrow(`${m} decode(): sequence 0 of the KV cache holds 20 tokens; at position 20 it cannot take 1 more (reset(0) to start over)`);
    expect(() => batched.call('decode', { tokens: Int32Array.of(1, 2, 3) })).toThrow('sequence 0 of the KV cache holds 20 tokens');
    batched.prefill([4, 4], 1);
    expect(batched.positions).toEqual([CAP, 3, 12]);
  });

  test('defineGPT checks batch', () => {
    const module = new GPT(cfg);
    for (const bad of [0, 1.5, -2, '2']) {
      expect(() => defineGPT({ name: 'g', module, tokens: [1, 4], batch: bad as never })).toThrow(/defineGPT: batch must be a positive integer/);
    }
  });

  test('the cache ops check the positions and the cache row while tracing', () => {
    const trace = (pos: number[], q: number, row: boolean) => traceModel({
      name: 'kv', module: new nn.MultiheadAttention(8, 2, { batchFirst: true }),
      inputs: { x: [q, 1, 8], pos: { shape: pos, dtype: 'i32' }, row: { shape: [], dtype: 'i32' }, k: [3, 4, 8], v: [3, 4, 8] },
      forward: (m, i) => ({ y: (m as nn.MultiheadAttention).call(i.x!, i.x!, i.x!, { needWeights: false, cache: { k: i.k!, v: i.v!, pos: i.pos!, ...(row ? { row: i.row! } : {}) } })[0] }),
    });
    expect(() => trace([], 3, false)).not.toThrow();
    expect(() => trace([3], 3, false)).not.toThrow();
    expect(() => trace([1], 1, true)).not.toThrow();
    expect(() => trace([2], 3, false)).toThrow('cache_write: cache position must be i32[] or i32[3] (one per sequence), got i32[2]');
    expect(() => trace([], 2, false)).toThrow('cache_write: rows [2, 1, 8] do not fit cache [3, 4, 8]');
    expect(() => trace([], 4, true)).toThrow('cache_write: rows [4, 1, 8] do not fit cache [3, 4, 8]');
  });

  test('a batched manifest names its sequence input, with its range', async () => {
    const { readContainer } = await import('../runtime/format.ts');
    const g = readContainer(bytes).manifest.generation!;
    expect(g).toMatchObject({ batch: B, sequence: 'seq', chunk: CHUNK, capacity: CAP });
  });
});

describe('generate(): sampling and stops, each sequence on its own', () => {
  // Oracles: greedy runs, unstopped runs, and a prefill/decode replay of the logits at each step
  // with the cut computed here by hand (the sampler itself: tests/sampling.test.ts).
  const gen = [[3, 14, 15, 9, 2], [6], [5, 35, 8, 9, 7, 9, 3]];
  const N = 12;
  /** softmax(logits / T) in f64. */
  const softmax = (l: Float32Array, T: number) => {
    const e = Array.from(l, (x) => Math.exp(x / T)), s = e.reduce((a, b) => a + b, 0);
    return e.map((x) => x / s);
  };

  const arrays = (xs: Int32Array[]) => xs.map((x) => Array.from(x));

  test('temperature 0, and topK 1 at any temperature, are greedy bit for bit', () => {
    const greedy = arrays(batched.generate(gen, { maxNewTokens: N }));
    expect(arrays(batched.generate(gen, { maxNewTokens: N, temperature: 0 }))).toEqual(greedy);
    expect(arrays(batched.generate(gen, { maxNewTokens: N, temperature: 0, topK: 5, topP: 0.5, seed: 1 }))).toEqual(greedy);
    for (const temperature of [0.5, 1, 50]) expect(arrays(batched.generate(gen, { maxNewTokens: N, temperature, topK: 1, seed: 9 }))).toEqual(greedy);
    // Sampling does sample: at temperature 1 the tokens are not the greedy ones.
    expect(arrays(batched.generate(gen, { maxNewTokens: N, temperature: 1, seed: 9 }))).not.toEqual(greedy);
  });

  test('the same seed gives the same tokens; other seeds, others', () => {
    const run = (seed: number) => arrays(batched.generate(gen, { maxNewTokens: N, temperature: 1, topK: 10, seed }));
    const a = run(4);
    expect(run(4)).toEqual(a);
    for (const s of [5, 6, 2 ** 40]) expect(run(s)).not.toEqual(a);
  });

  test('each token is the one drawn from its step\'s decode() logits (a replay), inside the top k / nucleus computed by hand', () => {
    // By hand: the token ids by logit, descending, ties by id (`order`), their probabilities p, then the cut.
    const cases: Array<[GenerateOptions, (order: number[], p: number[]) => number[]]> = [
      [{ maxNewTokens: N, temperature: 0.8, topK: 4, seed: 3 }, (order) => order.slice(0, 4)],
      [{ maxNewTokens: N, temperature: 1.2, topP: 0.6, seed: 8 }, (order, p) => {
        let mass = 0;
        return order.filter((j) => { const before = mass; mass += p[j]!; return before < 0.6; });
      }],
      [{ maxNewTokens: N, temperature: 1, minP: 0.4, seed: 2 }, (order, p) => order.filter((j) => p[j]! >= 0.4 * p[order[0]!]!)],
    ];
    for (const [o, cut] of cases) {
      const out = batched.generate(gen, o);
      // Replay: every sequence's prompt, then the tokens generated, fed through prefill and decode.
      batched.reset();
      let rows = gen.map((p, s) => batched.prefill(p, s));
      let offArgmax = 0;
      for (let i = 0; i < N; i++) {
        rows.forEach((l, s) => {
          const t = out[s]![gen[s]!.length + i]!;
          const order = Array.from(l.keys()).sort((a, b) => l[b]! - l[a]! || a - b);
          const kept = cut(order, softmax(l, o.temperature!));
          expect(kept).toContain(t);
          expect(kept.length).toBeLessThan(V);
          if (t !== order[0]) offArgmax++;
        });
        if (i + 1 < N) rows = batched.decode(gen.map((p, s) => out[s]![p.length + i]!));
      }
      expect(offArgmax).toBeGreaterThan(0);
    }
  });

  test('sequence s draws from its own stream (seed, s): a prompt alone in the batch gets the same tokens as with the others', () => {
    const all = arrays(batched.generate(gen, { maxNewTokens: N, temperature: 1.1, seed: 77 }));
    expect(Array.from(batched.generate(gen[0]!, { maxNewTokens: N, temperature: 1.1, seed: 77 }))).toEqual(all[0]);
    // And a replay with the runtime's sampler on stream 2 reproduces sequence 2 exactly.
    const u = uniform(77, 2);
    batched.reset();
    let l = batched.prefill(gen[2]!, 2);
    for (let i = 0; i < N; i++) {
      const t = sampleToken(l, { temperature: 1.1 }, u());
      expect(t).toBe(all[2]![gen[2]!.length + i]);
      l = batched.decode([0, 0, t])[2]!;
    }
  });

  test('eosTokenId ends each sequence on its own after its stop token (kept); the tokens before it are the unstopped run\'s', () => {
    const o = { maxNewTokens: N, temperature: 1.3, seed: 21 };
    const free = arrays(batched.generate(gen, o));
    // Sequence 0's first token not seen before its third new one: it stops there.
    const gen0 = free[0]!.slice(gen[0]!.length);
    const k = gen0.findIndex((t, i) => i >= 2 && !gen0.slice(0, i).includes(t));
    expect(k).toBeGreaterThan(0);
    const cut = (stops: number[]) => free.map((f, s) => {
      const i = f.findIndex((t, j) => j >= gen[s]!.length && stops.includes(t));
      return i < 0 ? f : f.slice(0, i + 1);
    });
    for (const stops of [[gen0[k]!], [gen0[k]!, 36]]) {
      const seen: Array<[number, number, number]> = [];
      const got = arrays(batched.generate(gen, { ...o, eosTokenId: stops.length === 1 ? stops[0] : stops, onToken: (t, i, s) => { seen.push([t, i, s]); } }));
      expect(got).toEqual(cut(stops));
      expect(got[0]).toHaveLength(gen[0]!.length + k + 1);
      // Another sequence goes on past sequence 0's stop.
      expect(Math.max(...got.map((g, s) => g.length - gen[s]!.length))).toBeGreaterThan(k + 1);
      // onToken sees exactly the tokens returned, none after a stop.
      got.forEach((g, s) => expect(seen.filter(([, , q]) => q === s).map(([t]) => t)).toEqual(g.slice(gen[s]!.length)));
    }
    // Greedy stops too, and a batch-of-one call returns the shorter array.
    const greedy = Array.from(batched.generate(gen[1]!, { maxNewTokens: N }));
    expect(Array.from(batched.generate(gen[1]!, { maxNewTokens: N, eosTokenId: [greedy[1]!] }))).toEqual(greedy.slice(0, greedy.indexOf(greedy[1]!, 1) + 1));
  });

  test('onToken returning false ends that sequence after the token; other return values do not', () => {
    const o = { maxNewTokens: N, temperature: 1, seed: 5 };
    const free = arrays(batched.generate(gen, o));
    const got = arrays(batched.generate(gen, { ...o, onToken: (_t, i, s) => (s === 1 && i === 2 ? false : s === 2 ? 0 : undefined) }));
    expect(got).toEqual([free[0], free[1]!.slice(0, gen[1]!.length + 3), free[2]]);
    const calls: number[] = [];
    const one = batched.generate(gen[0]!, { ...o, onToken: (_t, i) => { calls.push(i); return i < 4; } });
    expect(Array.from(one)).toEqual(free[0]!.slice(0, gen[0]!.length + 5));
    expect(calls).toEqual([0, 1, 2, 3, 4]);
  });
});
