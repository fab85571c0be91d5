// Small PyTorch models of the kind users export (not our families): a ResNet, a MobileNet block with
// squeeze-excite, a UNet, a keyword spotter, a super-resolution net, a conv autoencoder, a YOLO
// head's decoding, a TCN, character LSTM/GRU classifiers, a BiGRU tagger, a masked mean-pool text
// encoder, hand-written BERT and GPT blocks, a ViT, grab bags of indexing, shape and other ops, a
// tabular MLP, a reversed sequence, a text CNN, the tutorial LSTM with zero h0/c0 built in forward,
// repeat_interleave and x[mask] (tests/fixtures/onnx-user, written offline by its export.py), each
// exported at opsets 13 and 17, fixed and with dynamic batch/seq axes. Every file but those refused
// on purpose (REFUSED: asserted by their messages) imports (the dynamic ones with their sizes
// symbolic, seq from 2 where SEQ_MIN says so) and matches PyTorch within 1e-5 in the reference
// interpreter, at the export's sizes and, symbolic, at another; one artifact of ten models'
// symbolic opset-17 imports (COMPILED; all of them with SIMDFLOW_USER_MODELS=all) matches too, on
// 1 and 2 threads (2 bit-identical to 1).
// What the importer refuses on purpose is asserted by its message.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { compare } from '../../compiler/conformance/run.ts';
import { compileEntries } from '../../compiler/driver/compile.ts';
import type { Graph } from '../../compiler/ir/node.ts';
import { importOnnx, UnsupportedError } from '../../compiler/onnx/import.ts';
import { readOnnxModel } from '../../compiler/onnx/proto.ts';
import { interpret } from '../../compiler/reference/interpret.ts';
import { readSafetensors, type SafeTensor } from '../../compiler/weights/safetensors.ts';
import { loadModelBytes } from '../../runtime/model.ts';
import { TEST_ISAS } from '../helpers/isa.ts';

const DIR = join(import.meta.dirname, '../fixtures/onnx-user');
const MODELS = readdirSync(DIR).filter((f) => f.endsWith('.io.safetensors')).map((f) => f.slice(0, -'.io.safetensors'.length)).sort();
const BOUNDS: Record<string, number> = { batch: 4, seq: 16 };

/**
 * Dynamic exports whose symbolic `seq` needs a declared least value, and why: a stride-2 pool over
 * time (its output length ⌊(seq − 2)/2⌋ + 1 = floor(seq/2), ir/dims.ts) has a window of 2, which
 * seq = 1 cannot hold: kws_cnn's MaxPool and tcn_audio's AvgPool1d(2) (its GroupNorm, an
 * InstanceNormalization over [batch, 2, 4*seq], is taken). They import with seq { min: 2, max: 16 };
 * without the minimum the window is refused by name.
 */
const SEQ_MIN: Record<string, [number, RegExp]> = {
  kws_cnn: [2, /node '\/MaxPool' \(MaxPool, opset 1[37]\): MaxPool: the kernel 2×2 spans 2 cells, so dim 2 of input \[batch, 6, seq, 10\] must be at least 2 long, but 'seq' is chosen at run time and may be as small as 1/],
  tcn_audio: [2, /node '\/pool\/AveragePool' \(AveragePool, opset 1[37]\): AveragePool: the kernel 2 spans 2 cells, so dim 2 of input \[batch, 8, seq\] must be at least 2 long, but 'seq' is chosen at run time and may be as small as 1/],
};

/**
 * Files refused on purpose, and why: x[mask] (NonZero: an output whose size depends on the values)
 * and repeat_interleave with dynamic axes (torch 1.13 writes a Loop over ONNX sequences).
 */
const REFUSED: Array<[RegExp, RegExp]> = [
  [/^bool_indexing\./, /node '\/NonZero' \(NonZero, opset 1[37]\): NonZero, whose output's size depends on the input's values \(PyTorch's x\[mask\], nonzero, masked_select, unique; .*\) is not supported/],
  [/^repeat_interleave\.o1[37]\.dyn\./, /node '\/SplitToSequence' \(SplitToSequence, opset 1[37]\): operator SplitToSequence is not supported/],
];
const refusal = (file: string) => REFUSED.find(([f]) => f.test(file))?.[1];

/**
 * The models compiled (about 1 s each): those whose imports use what this sweep added (a size as a
 * run-time tensor, integer sums, gathers and flips along symbolic axes, OneHot, symbolic pixel
 * shuffle) and a CNN and a transformer. SIMDFLOW_USER_MODELS=all compiles every model (~25 s; all
 * pass on 1 and 2 threads).
 */
const COMPILED = process.env.SIMDFLOW_USER_MODELS === 'all' ? MODELS.filter((m) => m !== 'bool_indexing')
  : ['char_gru_lengths', 'mean_pool_text', 'ops_indexing', 'ops_shapes', 'ops_misc', 'reverse_seq', 'gpt_tiny', 'mobilenet_se', 'kws_cnn', 'tcn_audio'];

type Io = Array<readonly [string, SafeTensor]>;
interface Variant { model: string; file: string; dynamic: boolean; sizes: Array<[string, Io, Io]>; dims?: Record<string, { max: number; min?: number } | number> }

const VARIANTS: Variant[] = MODELS.flatMap((model) => {
  const io = readSafetensors(readFileSync(join(DIR, `${model}.io.safetensors`)));
  const at = (p: string): Io => [...io].filter(([k]) => k.startsWith(p)).map(([k, t]) => [k.slice(p.length), t] as const);
  const main: [string, Io, Io] = ['export sizes', at('input.'), at('output.')], alt: [string, Io, Io] = ['other sizes', at('alt.input.'), at('alt.output.')];
  return readdirSync(DIR).filter((f) => f.startsWith(`${model}.o`) && f.endsWith('.onnx')).sort().map((file) => {
    const dynamic = file.endsWith('.dyn.onnx');
    if (!dynamic) return { model, file, dynamic, sizes: [main] };
    // The symbolic sizes the file's inputs name; seq from its least value where SEQ_MIN says so.
    const named = new Map<string, number>();
    for (const vi of readOnnxModel(readFileSync(join(DIR, file))).graph.inputs) {
      (vi.dims ?? []).forEach((d, i) => { if (typeof d === 'string') named.set(d, main[1].find(([k]) => k === vi.name)![1].shape[i]!); });
    }
    const least = SEQ_MIN[model]?.[0];
    const dims = Object.fromEntries([...named].map(([n]) => [n, least && n === 'seq' ? { min: least, max: BOUNDS[n]! } : { max: BOUNDS[n]! }]));
    return { model, file, dynamic, dims, sizes: [main, alt] };
  });
});

const importVariant = (v: Variant): Graph => importOnnx(readFileSync(join(DIR, v.file)), v.dims ? { dims: v.dims } : {}).graph;
const feedsOf = (v: Variant, ins: Io) => Object.fromEntries(ins.map(([k, t]) => [k, v.dynamic ? { data: t.data, shape: t.shape } : t.data]));
const sizesOf = (v: Variant, ins: Io): Record<string, number> => {
  const out: Record<string, number> = {};
  for (const [n, d] of Object.entries(v.dims ?? {})) {
    if (typeof d === 'number') continue;
    for (const vi of readOnnxModel(readFileSync(join(DIR, v.file))).graph.inputs) {
      const i = (vi.dims ?? []).indexOf(n);
      if (i >= 0) out[n] = ins.find(([k]) => k === vi.name)![1].shape[i]!;
    }
  }
  return out;
};

function expectClose(got: ArrayLike<number> | undefined, want: SafeTensor, what: string): void {
  expect(got, `${what}: missing`).toBeDefined();
  const { bad, maxErr } = compare(got!, want.data, 1e-5, 1e-5);
  expect(bad, `${what}: element ${bad} got ${got![bad]}, want ${want.data[bad]} (max err ${maxErr})`).toBe(-1);
}

describe('ONNX exports of models users write (PyTorch 1.13, opsets 13 and 17, fixed and dynamic)', () => {
  test('every file not refused on purpose imports and matches PyTorch within 1e-5 in the reference interpreter (symbolic imports at two sizes)', () => {
    expect(MODELS).toHaveLength(25);
    expect(VARIANTS).toHaveLength(100);
    for (const v of VARIANTS.filter((x) => !refusal(x.file))) {
      const graph = importVariant(v);
      for (const [label, ins, outs] of v.sizes) {
        const out = interpret(graph, Object.fromEntries(ins.map(([k, t]) => [k, t.data])), undefined, v.dynamic ? sizesOf(v, ins) : undefined);
        for (const [name, want] of outs) expectClose(out[name], want, `${v.file} ${label} ${name}`);
      }
    }
  });

  test('what is refused on purpose says so, naming the node: x[mask] (NonZero), repeat_interleave with dynamic axes (sequences)', () => {
    const refused = VARIANTS.filter((v) => refusal(v.file));
    expect(refused.map((v) => v.file)).toEqual(['bool_indexing.o13.dyn.onnx', 'bool_indexing.o13.onnx', 'bool_indexing.o17.dyn.onnx', 'bool_indexing.o17.onnx', 'repeat_interleave.o13.dyn.onnx', 'repeat_interleave.o17.dyn.onnx']);
    for (const v of refused) {
      expect(() => importVariant(v), v.file).toThrow(UnsupportedError);
      expect(() => importVariant(v), v.file).toThrow(refusal(v.file)!);
    }
  });

  test('a stride-2 pool over a symbolic time axis needs the least length its window fits, naming the node, the axis and the size', () => {
    for (const [model, [, why]] of Object.entries(SEQ_MIN)) {
      for (const file of [`${model}.o13.dyn.onnx`, `${model}.o17.dyn.onnx`]) {
        const bytes = readFileSync(join(DIR, file));
        expect(() => importOnnx(bytes, { dims: { batch: { max: 4 }, seq: { max: 16 } } }), file).toThrow(why);
        // With the minimum: the pooled length is a floor of seq.
        const g = importOnnx(bytes, { dims: { batch: { max: 4 }, seq: { min: 2, max: 16 } } }).graph;
        expect(g.nodes.some((n) => n.type.dims?.includes('floor(seq/2)')), file).toBe(true);
      }
    }
  });

  test('compiled: the COMPILED models symbolic (opset 17; fixed, opset 13, where that is refused) in one artifact match PyTorch on 1 and 2 threads', async () => {
    // One entry a model (compiling is the slow part): its symbolic opset-17 import, else its fixed opset-13 one.
    const chosen = COMPILED.flatMap((m) => {
      const ok = VARIANTS.filter((v) => v.model === m && !refusal(v.file));
      return ok.filter((v) => v.dynamic && v.file.includes('.o17.')).concat(ok.filter((v) => !v.dynamic && !v.file.includes('.o17.'))).slice(0, 1);
    });
    expect(chosen).toHaveLength(COMPILED.length);
    const entries = chosen.map((v) => ({ name: v.file.replace(/\.onnx$/, '').replace(/\./g, '_'), graph: importVariant(v) }));
    const compiled = await compileEntries(entries, [], { isas: TEST_ISAS });
    const one = await loadModelBytes(compiled.bytes), two = await loadModelBytes(compiled.bytes, { threads: 2, threadPolicy: 'always' });
    chosen.forEach((v, k) => {
      for (const [label, ins, outs] of v.sizes) {
        const a = one.call(entries[k]!.name, feedsOf(v, ins)), shapes = { ...one.outputShapes }, b = two.call(entries[k]!.name, feedsOf(v, ins));
        for (const [name, want] of outs) {
          expect(shapes[name], `${v.file} ${label} shape of ${name}`).toEqual(want.shape);
          expectClose(a[name], want, `${v.file} ${label} ${name}`);
          expect(Array.from(b[name]!), `${v.file} ${label} ${name}: 2 threads`).toEqual(Array.from(a[name]!));
        }
      }
    });
    one.dispose(); two.dispose();
  }, 240_000);
});
