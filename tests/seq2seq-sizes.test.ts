// The encoder-decoders of the zoo over sizes chosen at run time: one artifact, any batch, source
// and target length within the bounds (greedy decoding loops carry [B, …] values), compared with
// the reference interpreter on the traced graph instantiated at each size.
import { beforeAll, describe, expect, test } from 'vitest';
import { Seq2SeqLSTM, Seq2SeqTransformer } from '../compiler/dsl/index.ts';
import { trace, type InputSpecs } from '../compiler/dsl/trace.ts';
import type { Tensor } from '../compiler/dsl/tensor.ts';
import { compileEntries } from '../compiler/driver/compile.ts';
import { instantiate } from '../compiler/ir/symbolic.ts';
import type { Graph } from '../compiler/ir/node.ts';
import { interpret } from '../compiler/reference/interpret.ts';
import { loadModelBytes, type Feeds, type Model } from '../runtime/model.ts';
import { maxRelErr, TEST_ISAS } from './helpers/e2e.ts';

const V = 11, MAX = { B: 3, S: 9, T: 7 };
const lstm = new Seq2SeqLSTM(V, V, 6, 8, 1, 4);
const tf = new Seq2SeqTransformer(V, 8, 2, 1, 12, 1, 3);

const ENTRIES: Record<string, { inputs: InputSpecs; fn: (x: Record<string, Tensor>) => Record<string, Tensor> }> = {
  lstm: {
    inputs: { src: { shape: ['B', 'S'], dtype: 'i32', max: { B: MAX.B, S: MAX.S } }, tgt_in: { shape: ['B', 'T'], dtype: 'i32', max: { T: MAX.T } } },
    fn: ({ src, tgt_in }) => lstm.call(src!, tgt_in!),
  },
  transformer: {
    inputs: { src: { shape: ['B', 'S'], dtype: 'i32', max: { B: MAX.B, S: MAX.S } }, pad: { shape: ['B', 'S'], dtype: 'bool' }, tgt_in: { shape: ['B', 'T'], dtype: 'i32', max: { T: MAX.T } } },
    fn: ({ src, pad, tgt_in }) => tf.call(src!, pad!, tgt_in!),
  },
};

const graphs: Record<string, Graph> = {};
let model: Model;
beforeAll(async () => {
  const entries = Object.entries(ENTRIES).map(([name, e]) => ({ name, graph: (graphs[name] = trace(e.fn as never, e.inputs)) }));
  model = await loadModelBytes((await compileEntries(entries, [], { isas: TEST_ISAS })).bytes);
}, 120_000);

const ids = (n: number, seed: number) => Int32Array.from({ length: n }, (_, i) => (i * 7 + seed * 3) % V);
/** Padding at the end of each row, never the whole row (an all-padded row is NaN in PyTorch too). */
const padding = (B: number, S: number) => Uint8Array.from({ length: B * S }, (_, i) => (i % S >= Math.max(1, S - (i / S | 0)) ? 1 : 0));

describe('seq2seq over run-time sizes', () => {
  for (const name of Object.keys(ENTRIES)) {
    test.each([{ B: 1, S: 1, T: 1 }, { B: 2, S: 5, T: 3 }, { B: 3, S: 2, T: 6 }, MAX])(`${name} at %o`, (s) => {
      const feeds: Feeds = { src: { data: ids(s.B * s.S, 1), shape: [s.B, s.S] }, tgt_in: { data: ids(s.B * s.T, 2), shape: [s.B, s.T] } };
      if (name === 'transformer') feeds.pad = { data: padding(s.B, s.S), shape: [s.B, s.S] };
      const ref = interpret(instantiate(graphs[name]!, s), Object.fromEntries(Object.entries(feeds).map(([k, v]) => [k, (v as { data: Int32Array }).data])));
      const out = model.call(name, feeds);
      expect(out.logits!.length).toBe(s.B * s.T * V);
      expect(maxRelErr(out.logits!, ref.logits!)).toBeLessThan(2e-5);
      expect(Array.from(out.greedy!)).toEqual(Array.from(ref.greedy!));
    });
  }
});
