// The thread splits beyond GEMM, end to end: recurrent layers by hidden units (one barrier per
// time step), attention by (batch, head, query block), conv2d by output pixels and tall, narrow
// GEMMs and matmuls (under 4 panels of 8 columns) by rows give, on 2 and 3 threads, exactly (bit
// for bit) the outputs of 1 thread, which equal the reference interpreter's.
// One compile (one model with an entry per case, plus a GPT whose prefill splits its attention)
// serves the whole file; each case also checks from the generated source that its node is split.
// Entries with named sizes run at several sizes within their bounds.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { loop, nn, manualSeed } from '../compiler/index.ts';
import { defineGPT, GPT, Seq2SeqLSTM } from '../compiler/dsl/zoo.ts';
import { record, type Tensor } from '../compiler/dsl/tensor.ts';
import { compileModel } from '../compiler/driver/compile.ts';
import type { Graph } from '../compiler/ir/node.ts';
import { interpret } from '../compiler/reference/interpret.ts';
import { instantiate } from '../compiler/ir/symbolic.ts';
import type { Manifest } from '../runtime/format.ts';
import { loadModelBytes, type Model } from '../runtime/model.ts';
import '../runtime/node.ts';

const ISA = 'wasmsimd' as const;

function definition() {
  manualSeed(11);
  const gpt = new GPT({ vocab: 97, context: 40, dModel: 64, nhead: 4, layers: 1, dimFeedforward: 128 });
  const def = defineGPT({ name: 'threads_ops', module: gpt, tokens: [1, 40], capacity: 40, chunk: 40 });
  // Odd sizes: H = 100 is 13 unit blocks (the last one 4 wide); bidirectional, batch 2, initial states.
  const lstm = new nn.LSTM(7, 100, { batchFirst: true, bidirectional: true });
  const gru = new nn.GRU(5, 120, { batchFirst: true });
  const rnn = new nn.RNN(3, 192, { nonlinearity: 'relu', batchFirst: true });
  const enc = new nn.TransformerEncoderLayer(64, 4, { dimFeedforward: 96, batchFirst: true, dropout: 0 });
  const cnn = new nn.Sequential(new nn.Conv2d(3, 8, 3, { padding: 1 }), new nn.ReLU(), new nn.Conv2d(8, 12, 3, { stride: 2 }), new nn.ReLU(), new nn.Conv2d(12, 1, 3));
  const mlp = new nn.Sequential(new nn.Linear(300, 256), new nn.ReLU(), new nn.Linear(256, 40));
  const deep = new nn.LSTM(24, 72, { batchFirst: true, numLayers: 2 });
  // Greedy decoding in a loop whose body's LSTM step (batch 2, H 96: 74k multiply-adds) splits.
  const s2s = new Seq2SeqLSTM(100, 100, 16, 96, 1, 7);
  // A loop whose body is one split GEMV (tanh in its epilogue) reading the carried value: only the
  // loop's own barriers order it against thread 0's copies. Fixed shares (one row, no claims): on
  // 3 threads over 2 cores, a share is often late, so a missing barrier shows.
  const lin = new nn.Linear(384, 384);
  // Tall, narrow: fewer than 4 panels of 8 columns, split by rows (GEMM tiles of row blocks,
  // matmul 4-row groups); odd row counts, a partial last panel.
  const narrow16 = new nn.Linear(256, 16), narrow12 = new nn.Linear(256, 12), wide64 = new nn.Linear(64, 64);
  def.entries = {
    ...def.entries,
    lstm: {
      inputs: { x: [2, 9, 7], h0: [2, 2, 100], c0: [2, 2, 100] },
      forward: (_m, i) => { const [y, [h, c]] = lstm.call(i.x!, [i.h0!, i.c0!]) as [Tensor, [Tensor, Tensor]]; return { outputs: { y, h, c } }; },
    },
    gru: { inputs: { x: [1, 13, 5] }, forward: (_m, i) => { const [y, h] = gru.call(i.x!) as [Tensor, Tensor]; return { outputs: { y, h } }; } },
    rnn: { inputs: { x: [1, 6, 3] }, forward: (_m, i) => ({ outputs: { y: (rnn.call(i.x!) as [Tensor, Tensor])[0] } }) },
    encoder: { inputs: { x: [2, 33, 64] }, forward: (_m, i) => ({ outputs: { y: enc.call(i.x!) } }) },
    cnn: { inputs: { x: [2, 3, 23, 21] }, forward: (_m, i) => ({ outputs: { y: cnn.call(i.x!) } }) },
    // Named sizes: split at compile time for the bounds, run at any size within them.
    sizedmlp: { inputs: { x: { shape: ['B', 300], max: { B: 64 } } }, forward: (_m, i) => ({ outputs: { y: mlp.call(i.x!) } }) },
    sizedencoder: { inputs: { x: { shape: ['B', 'L', 64], max: { B: 3, L: 40 } } }, forward: (_m, i) => ({ outputs: { y: enc.call(i.x!) } }) },
    greedy: {
      inputs: { src: { shape: [2, 9], dtype: 'i32' }, tgt_in: { shape: [2, 7], dtype: 'i32' } },
      forward: (_m, i) => ({ outputs: s2s.call(i.src!, i.tgt_in!) }),
    },
    chain: {
      inputs: { x: [1, 384] },
      forward: (_m, i) => ({ outputs: { y: loop(5, { h: i.x! }, ({ h }) => { const n = lin.call(h!).tanh(); return { next: { h: n }, emit: { y: n } }; }).y! } }),
    },
    // The attention op over a KV cache given as inputs (no cache_write before it), at a position
    // given too: split by heads, every thread checks the position, so a bad one traps on each.
    kv: {
      inputs: { q: [1, 1, 64], pos: { shape: [], dtype: 'i32' }, k: [1, 512, 64], v: [1, 512, 64] },
      forward: (_m, i) => ({ outputs: { y: record('attention', [i.q!, i.k!, i.v!, i.pos!], { heads: 4, scale: 0.25, causal: true, layout: 'separate', mask: false, cached: true }) } }),
    },
    narrow: {
      inputs: { x: [1001, 256], a: [2, 203, 64], b: [2, 64, 16], c: [37, 96], d: [96, 20] },
      forward: (_m, i) => ({ outputs: { y: narrow16.call(i.x!).relu(), z: narrow12.call(i.x!), ab: i.a!.matmul(i.b!), cd: i.c!.matmul(i.d!) } }),
    },
    // Nothing for a second thread: GEMMs of one claimed tile (16 × 256 → 16: both panels in one;
    // 8 × 64 → 64: all 8 panels in one, which used to split), a matmul of one 4-row group.
    narrowsmall: {
      inputs: { x: [16, 256], w: [8, 64], a: [4, 1024], b: [1024, 16] },
      forward: (_m, i) => ({ outputs: { y: narrow16.call(i.x!), v: wide64.call(i.w!), ab: i.a!.matmul(i.b!) } }),
    },
    sizedlstm: {
      inputs: { x: { shape: ['B', 'L', 24], max: { B: 4, L: 20 } } },
      forward: (_m, i) => { const [y, [h, c]] = deep.call(i.x!) as [Tensor, [Tensor, Tensor]]; return { outputs: { y, h, c } }; },
    },
  };
  return def;
}

let compiled: Awaited<ReturnType<typeof compileModel>>;
const models: Record<1 | 2 | 3, Model> = {} as never;
const feedsFor = (e: Manifest['entries'][string], seed: number) => Object.fromEntries(e.inputs.map((t) => {
  const n = t.shape.reduce((a, b) => a * b, 1);
  return [t.name, t.dtype === 'i32' ? Int32Array.from({ length: n }, (_, k) => (k * 13 + seed) % (t.range?.[1] ?? 97)) : Float32Array.from({ length: n }, (_, k) => Math.sin(k * 0.61 + seed))];
}));
const same = (what: string, a: ArrayLike<number>, b: ArrayLike<number>) => {
  expect(a.length, what).toBe(b.length);
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) throw new Error(`${what}[${i}]: ${a[i]} on several threads, ${b[i]} on one`);
};
/** One thread's outputs against the reference: every element within 2e-5, relative to 1 + |reference|. */
const nearReference = (what: string, one: Record<string, ArrayLike<number>>, ref: Record<string, ArrayLike<number>>) => {
  for (const [k, v] of Object.entries(ref)) {
    expect(one[k]!.length, `${what}.${k}`).toBe(v.length);
    let err = 0;
    for (let i = 0; i < v.length; i++) err = Math.max(err, Math.abs(one[k]![i]! - v[i]!) / (1 + Math.abs(v[i]!)));
    expect(err, `${what}.${k} against the reference`).toBeLessThan(2e-5);
  }
};
/** The generated function of an entry's node whose kernel call is `kernel`, and that it takes (tid, nt). */
const splitIn = (entry: string, kernel: string) => new RegExp(`function entry_${entry}_\\d+_\\w+\\(tid: i32, nt: i32\\): void \\{\\n((?!\\}\\n).*\\n)*.*${kernel}\\(`).test(compiled.source);

beforeAll(async () => {
  compiled = await compileModel(definition(), { isas: [ISA] });
  for (const t of [1, 2, 3] as const) models[t] = await loadModelBytes(compiled.bytes, { threads: t, threadPolicy: 'always' });
}, 240_000);
afterAll(() => { for (const m of Object.values(models)) m.dispose(); });

describe('thread splits beyond GEMM', () => {
  test.each([
    ['lstm', 'lstm_step_f32'], ['gru', 'gru_step_f32'], ['rnn', 'rnn_step_f32'],
    ['encoder', 'attention_f32_part'], ['cnn', 'conv2d_f32_part'],
  ])('%s (%s): 2 and 3 threads equal 1 thread exactly, 1 thread the reference', (entry, kernel) => {
    expect(splitIn(entry, kernel), `${entry} calls ${kernel} from a split node`).toBe(true);
    expect([models[1].threads, models[2].threads, models[3].threads]).toEqual([1, 2, 3]);
    for (const seed of [1, 2]) {
      const feeds = feedsFor(compiled.manifest.entries[entry]!, seed);
      const one = models[1].call(entry, feeds);
      const ref = interpret(compiled.tracedEntries[entry] as Graph, feeds as never);
      nearReference(entry, one, ref);
      for (const t of [2, 3] as const) {
        const out = models[t].call(entry, feeds);
        for (const k of Object.keys(one)) same(`${entry}.${k} (${t} threads)`, out[k]!, one[k]!);
      }
    }
  });

  test.each([
    ['sizedmlp', 'gemm_f32_part', [{ B: 1 }, { B: 2 }, { B: 7 }, { B: 64 }]],
    ['sizedencoder', 'attention_f32_part', [{ B: 1, L: 1 }, { B: 1, L: 9 }, { B: 2, L: 17 }, { B: 3, L: 40 }]],
    ['sizedlstm', 'lstm_step_f32', [{ B: 1, L: 1 }, { B: 3, L: 2 }, { B: 2, L: 7 }, { B: 4, L: 20 }]],
  ] as const)('%s (%s) with named sizes: at every size, 2 and 3 threads equal 1 thread exactly, 1 thread the reference', (entry, kernel, sizes) => {
    expect(splitIn(entry, kernel), `${entry} calls ${kernel} from a split node`).toBe(true);
    const traced = compiled.tracedEntries[entry] as Graph, dims = compiled.manifest.entries[entry]!.inputs[0]!.dims!;
    for (const at of sizes) {
      const shape = dims.map((d) => (typeof d === 'number' ? d : at[d as keyof typeof at] as number));
      const x = Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, k) => Math.sin(k * 0.61 + shape[0]!));
      const ref = interpret(instantiate(traced, at), { x });
      const one = models[1].call(entry, { x: { data: x, shape } });
      nearReference(`${entry} at ${JSON.stringify(at)}`, one, ref);
      for (const t of [2, 3] as const) {
        const out = models[t].call(entry, { x: { data: x, shape } });
        for (const k of Object.keys(one)) same(`${entry}.${k} at ${JSON.stringify(at)} (${t} threads)`, out[k]!, one[k]!);
      }
    }
  });

  test('tall, narrow GEMMs and matmuls (2 and 3 panels) split by rows: 2 and 3 threads equal 1 thread exactly, 1 thread the reference; one tile or one row group stays whole', () => {
    expect(splitIn('narrow', 'gemm_f32_part'), 'narrow GEMM split').toBe(true);
    expect(splitIn('narrow', 'matmul_f32_part'), 'narrow matmul split').toBe(true);
    expect(splitIn('narrowsmall', 'gemm_f32_part') || splitIn('narrowsmall', 'matmul_f32_part'), 'narrowsmall split').toBe(false);
    for (const entry of ['narrow', 'narrowsmall']) {
      const feeds = feedsFor(compiled.manifest.entries[entry]!, 3);
      const one = models[1].call(entry, feeds);
      const ref = interpret(compiled.tracedEntries[entry] as Graph, feeds as never);
      nearReference(entry, one, ref);
      for (const t of [2, 3] as const) for (let r = 0; r < 3; r++) {
        const out = models[t].call(entry, feeds);
        for (const k of Object.keys(one)) same(`${entry}.${k} (${t} threads, call ${r})`, out[k]!, one[k]!);
      }
    }
  });

  test('a loop whose body splits (greedy decoding): every thread runs it, 2 and 3 threads equal 1 thread exactly, 1 thread the reference', () => {
    // The loop's function and its body's LSTM node take (tid, nt); the body meets at barriers.
    expect(compiled.source).toMatch(/function entry_greedy_\d+_loop\(tid: i32, nt: i32\)/);
    expect(compiled.source).toMatch(/function entry_greedy_\d+b_\d+_lstm_seq\(tid: i32, nt: i32\): void \{[^}]*lstm_step_f32\(/);
    expect(compiled.source).toMatch(/function entry_chain_\d+b_\d+_gemm\(tid: i32, nt: i32\)/);
    for (const seed of [1, 2, 3]) {
      const x = feedsFor(compiled.manifest.entries.chain!, seed), y = models[1].call('chain', x).y!;
      const want = interpret(compiled.tracedEntries.chain as Graph, x as never).y!;
      for (let i = 0; i < want.length; i++) expect(Math.abs(y[i]! - want[i]!), `chain y[${i}]`).toBeLessThan(1e-5);
      for (let k = 0; k < 20; k++) for (const t of [2, 3] as const) same(`chain.y (${t} threads, call ${k})`, models[t].call('chain', x).y!, y);
      const feeds = feedsFor(compiled.manifest.entries.greedy!, seed);
      const one = models[1].call('greedy', feeds);
      const ref = interpret(compiled.tracedEntries.greedy as Graph, feeds as never);
      expect(Array.from(one.greedy!), `greedy tokens, seed ${seed}`).toEqual(Array.from(ref.greedy!));
      let err = 0;
      for (let i = 0; i < ref.logits!.length; i++) err = Math.max(err, Math.abs(one.logits![i]! - ref.logits![i]!));
      expect(err, 'logits against the reference').toBeLessThan(1e-5);
      for (const t of [2, 3] as const) {
        const out = models[t].call('greedy', feeds);
        for (const k of Object.keys(one)) same(`greedy.${k} (${t} threads)`, out[k]!, one[k]!);
      }
    }
  });

  test('a trap in a split node (attention at a position past its cache) fails the call on every thread count with the reference\'s message; the threads then run on', () => {
    expect(splitIn('kv', 'attention_f32_part')).toBe(true);
    const feeds = (pos: number) => ({ ...feedsFor(compiled.manifest.entries.kv!, 1), pos: Int32Array.of(pos) });
    let err = '';
    try { interpret(compiled.tracedEntries.kv as Graph, feeds(600) as never); } catch (e) { err = (e as Error).message; }
    expect(err).toBe('KV cache: position 600 + 1 new keys do not fit its 512 positions');
    const one = models[1].call('kv', feeds(511)).y!;
    for (const t of [1, 2, 3] as const) {
      for (let k = 0; k < 3; k++) {
        // Thread 0's trap, or a worker's ("worker thread 1: …"): the same message.
        expect(() => models[t].call('kv', feeds(600)), `${t} threads`).toThrow(new RegExp(`^model 'threads_ops' kv\\(\\): the wasm code trapped \\((worker thread [12]: )?${err.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\)$`));
        same(`kv.y after a trap (${t} threads)`, models[t].call('kv', feeds(511)).y!, one);
      }
    }
  });

  test('a one-channel conv stays whole (its GEMV pairing depends on the range), inside a split entry', () => {
    expect(compiled.source).toMatch(/conv2d_f32\(/);
  });

  test('GPT prefill (attention split by heads and query blocks) and decode agree across thread counts', () => {
    expect(splitIn('prefill', 'attention_f32_part')).toBe(true);
    const play = (m: Model) => {
      m.reset();
      const a = m.prefill(Array.from({ length: 37 }, (_, i) => (i * 29 + 3) % 97));
      const b = m.decode(23);
      const c = m.decode(5);
      return [a, b, c];
    };
    const one = play(models[1]);
    for (const t of [2, 3] as const) play(models[t]).forEach((x, i) => same(`gpt output ${i} (${t} threads)`, x, one[i]!));
  });
});
