// Does each fusion pay? Every model is compiled twice — with the pass and without it — and
// the two artifacts are timed interleaved (A B A B …) after warm-up: the medians, and the
// speed-up as the median of the rounds' ratios (the host's speed moves between rounds; each
// round's ratio cancels it). Run: npx tsx bench/fusion.ts [--quick] [--only NAME,…]
import { setFlagsFromString } from 'node:v8';
setFlagsFromString('--experimental-wasm-relaxed-simd');

import { compileModel, type CompileOptions } from '../compiler/driver/compile.ts';
import { F, manualSeed, nn, type ModelDefinition, type Tensor } from '../compiler/dsl/index.ts';
import { exampleFeeds } from '../compiler/cli/start.ts';
import { loadModelBytes, type Model } from '../runtime/model.ts';

const quick = process.argv.includes('--quick');
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

async function artifact(def: ModelDefinition, opts: CompileOptions): Promise<{ m: Model; run: () => void }> {
  const c = await compileModel(def, opts);
  const m = await loadModelBytes(c.bytes);
  const feeds = exampleFeeds(m.inputs);
  return { m, run: () => m.run(feeds) };
}

/** Interleaved timing of two functions: rounds of a few calls each; medians per call and the median of the rounds' b/a ratios. */
function abTime(a: () => void, b: () => void): [number, number, number] {
  // Warm-up by time: on a loaded machine V8's background tier-up of a fresh module lags its first calls.
  for (const s = performance.now(); performance.now() - s < (quick ? 400 : 1000);) { a(); b(); }
  const ta: number[] = [], tb: number[] = [];
  const rounds = quick ? 15 : 41;
  for (let r = 0; r < rounds; r++) {
    for (const [f, t] of [[a, ta], [b, tb]] as const) {
      const s = performance.now();
      let n = 0;
      do { f(); n++; } while (performance.now() - s < 2);
      t.push((performance.now() - s) / n);
    }
  }
  return [median(ta), median(tb), median(tb.map((x, i) => x / ta[i]!))];
}

manualSeed(1);
const mlp = (batch: number): ModelDefinition => ({ name: `mlp_b${batch}`, inputs: { x: [batch, 784] },
  module: new nn.Sequential(new nn.Linear(784, 512), new nn.ReLU(), new nn.Linear(512, 512), new nn.ReLU(), new nn.Linear(512, 10)) });
const lenet: ModelDefinition = { name: 'lenet', inputs: { x: [8, 1, 28, 28] }, module: new nn.Sequential(
  new nn.Conv2d(1, 6, 5, { padding: 2 }), new nn.ReLU(), new nn.MaxPool2d(2), new nn.Conv2d(6, 16, 5), new nn.ReLU(), new nn.MaxPool2d(2),
  new nn.Flatten(), new nn.Linear(400, 120), new nn.ReLU(), new nn.Linear(120, 84), new nn.ReLU(), new nn.Linear(84, 10)) };
const swiglu: ModelDefinition = { name: 'gated_mlp', inputs: { x: [64, 256] }, module: new nn.Identity(),
  forward: (_m, i) => { const x = i.x!; return x.sigmoid().mul(x).mul(x.tanh().add(1)).sub(x.mul(0.5)).div(x.abs().add(1)); } };
const encoder = (L: number): ModelDefinition => ({ name: `encoder_L${L}`, inputs: { x: [1, L, 256] },
  module: new nn.TransformerEncoderLayer(256, 4, { dimFeedforward: 1024, batchFirst: true, dropout: 0 }),
  forward: (m, i) => (m as nn.TransformerEncoderLayer).call(i.x! as Tensor) });
const tinyEncoder: ModelDefinition = { name: 'encoder_tiny', inputs: { x: [2, 7, 32] },
  module: new nn.TransformerEncoderLayer(32, 4, { dimFeedforward: 64, batchFirst: true, dropout: 0 }),
  forward: (m, i) => (m as nn.TransformerEncoderLayer).call(i.x! as Tensor) };

// Comparisons fused into the where reading them: without elementwise-fusion the comparison writes
// a bool tensor and a scalar where loop reads it back (the code every where had before they fused).
// Each ends in a sum, the same in both artifacts: run() allocates a fresh array for every output,
// and a 256 KiB one per call made the timings bimodal on a loaded host (quartiles of the ratio
// 1.06–2.98 instead of 2.85–3.60 for leaky_where).
const elementwise = (name: string, inputs: ModelDefinition['inputs'], f: (i: Record<string, Tensor>) => Tensor): ModelDefinition =>
  ({ name, inputs, module: new nn.Identity(), forward: (_m, i) => f(i).sum() });
const leakyWhere = elementwise('leaky_where', { x: [256, 256] }, ({ x }) => F.where(x!.gt(0), x!, x!.mul(0.1)));
// Attention scores [heads, L, L] filled with -inf where the mask is 0: an i32 (int64 in ONNX) mask of
// the scores' shape fuses whole; a [heads, 1, L] one keeps its comparison (a smaller value) and the
// fused where reads its bytes broadcast.
const maskFill = elementwise('mask_fill_i32', { s: [8, 128, 128], m: { shape: [8, 128, 128], dtype: 'i32' } }, ({ s, m }) => F.where(m!.eq(0), -Infinity, s!));
const maskRow = elementwise('mask_fill_row', { s: [8, 128, 128], m: { shape: [8, 1, 128], dtype: 'i32' } }, ({ s, m }) => F.where(m!.eq(0), -Infinity, s!));
// BERT / Hugging Face masks: scores + (1 − mask.float())·−10000 with an i32 (int64 in ONNX) mask. Of
// the scores' shape, the cast, the scale and the add are one loop (without elementwise-fusion: a cast
// loop writing f32, then one loop an op); [8, 1, 128] is smaller than the scores: its cast and scale
// are one loop of that size, then the add reads it broadcast. mask_cast_int computes 1 − mask in i32
// before the cast, as ONNX exports of int64 masks do.
const hfMask = (m: Tensor) => m.float().neg().add(1).mul(-10000);
const maskCast = elementwise('mask_cast', { s: [8, 128, 128], m: { shape: [8, 128, 128], dtype: 'i32' } }, ({ s, m }) => s!.add(hfMask(m!)));
const maskCastRow = elementwise('mask_cast_row', { s: [8, 128, 128], m: { shape: [8, 1, 128], dtype: 'i32' } }, ({ s, m }) => s!.add(hfMask(m!)));
const maskCastInt = elementwise('mask_cast_int', { s: [8, 128, 128], m: { shape: [8, 128, 128], dtype: 'i32' } },
  ({ s, m }) => s!.add(m!.mul(-1).add(1).mul(-10000).float()));

const cases: Array<[string, ModelDefinition, CompileOptions]> = [
  ['compare+where fusion', leakyWhere, { disablePasses: ['elementwise-fusion'] }],
  ['compare+where fusion', maskFill, { disablePasses: ['elementwise-fusion'] }],
  ['compare+where fusion', maskRow, { disablePasses: ['elementwise-fusion'] }],
  ['i32 cast fusion', maskCast, { disablePasses: ['elementwise-fusion'] }],
  ['i32 cast fusion', maskCastRow, { disablePasses: ['elementwise-fusion'] }],
  ['i32 cast fusion', maskCastInt, { disablePasses: ['elementwise-fusion'] }],
  ['epilogue-fusion', mlp(1), { disablePasses: ['epilogue-fusion'] }],
  ['epilogue-fusion', mlp(64), { disablePasses: ['epilogue-fusion'] }],
  ['epilogue-fusion', lenet, { disablePasses: ['epilogue-fusion'] }],
  ['elementwise-fusion', swiglu, { disablePasses: ['elementwise-fusion'] }],
  ['residual-fusion', encoder(128), { disablePasses: ['residual-fusion'] }],
  ['attention (fused kernel)', encoder(128), { attention: 'unfused' }],
  ['attention (fused kernel)', encoder(512), { attention: 'unfused' }],
  ['attention (fused kernel)', tinyEncoder, { attention: 'unfused' }],
  ['all fusions', encoder(128), { disablePasses: ['epilogue-fusion', 'elementwise-fusion', 'residual-fusion'], attention: 'unfused' }],
];

const only = process.argv.includes('--only') ? process.argv[process.argv.indexOf('--only') + 1]!.split(',') : undefined;
console.log('fusion                     model           fused ms   unfused ms   speed-up (median of round ratios)');
for (const [what, def, off] of cases) {
  if (only && !only.includes(def.name)) continue;
  const on = await artifact(def, {}), without = await artifact(def, off);
  const [a, b, ratio] = abTime(on.run, without.run);
  console.log(`${what.padEnd(26)} ${def.name.padEnd(14)} ${a.toFixed(4).padStart(9)} ${b.toFixed(4).padStart(12)} ${ratio.toFixed(2).padStart(9)}×`);
}
