// `npx tsx bench/sizes.ts [--quick] [--only lstm,encoder,gpt,prefill5,bound]`: what sizes chosen at run time cost (issue 12). For an LSTM,
// the encoder layer and GPT prefill (the bench's shapes, see workloads.ts), a run at n of an
// artifact compiled with bound N against a static artifact compiled for n, n = N/16, N/4, N
// (interleaved, medians; target ≤ 1.15×); the 5-token prefill against the padded 128-token chunk
// the prefill took before (target ≥ 10× faster); and the largest bound of the bench's GPT
// (context = KV capacity = prefill bound) whose memory fits wasm32, from the memory layout alone
// (passes and layout, no asc).
import { cpus, loadavg } from 'node:os';
import { compileModel } from '../compiler/driver/compile.ts';
import { defineGPT, defineModel, GPT, manualSeed, nn } from '../compiler/dsl/index.ts';
import { traceEntries, type ModelDefinition } from '../compiler/dsl/trace.ts';
import { runPasses } from '../compiler/passes/manager.ts';
import { layoutMemory } from '../compiler/codegen/layout.ts';
import { wasmTarget } from '../compiler/codegen/target.ts';
import { loadModelBytes, type Model } from '../runtime/model.ts';
import { timeInterleaved } from './harness.ts';

const quick = process.argv.includes('--quick');
const onlyAt = process.argv.indexOf('--only'), only = onlyAt > 0 ? process.argv[onlyAt + 1]!.split(',') : undefined;
const N = 128;
const load = async (d: ModelDefinition): Promise<Model> => loadModelBytes((await compileModel(d, { isas: ['wasmsimd'] })).bytes, { isa: 'wasmsimd' });
const floats = (n: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.37));
const timing = { warmupMs: quick ? 100 : 300, budgetMs: quick ? 600 : 3000, rounds: 5 };

manualSeed(5);
const lstm = new nn.LSTM(256, 256, { batchFirst: true });
const enc = new nn.TransformerEncoderLayer(256, 4, { dimFeedforward: 1024, batchFirst: true, dropout: 0 });
const gcfg = { vocab: 1000, context: N, dModel: 256, nhead: 4, layers: 4, dimFeedforward: 1024 };
const gpt = new GPT(gcfg);

/** A GPT definition whose prefill takes a fixed [1, n] chunk (padded by the runtime), as before named sizes. */
function fixedPrefill(chunk: number): ModelDefinition {
  const d = defineGPT({ name: 'gpt', module: gpt, tokens: [1, N], capacity: N, chunk });
  d.entries!.prefill!.inputs.tokens = { shape: [1, chunk], dtype: 'i32' };
  return d;
}
const tokens = Int32Array.from({ length: N }, (_, i) => (i * 37) % 1000);

async function ratios(): Promise<void> {
  const fams: Array<{ name: string; dyn: () => ModelDefinition; at: (n: number) => ModelDefinition; call: (m: Model, n: number, dyn: boolean) => () => unknown }> = [
    {
      name: 'lstm', dyn: () => defineModel({ name: 'lstm', module: lstm, inputs: { x: { shape: [1, 'T', 256], max: { T: N } } }, forward: (m, i) => (m as nn.LSTM).call(i.x!)[0] }),
      at: (n) => defineModel({ name: 'lstm', module: lstm, inputs: { x: [1, n, 256] }, forward: (m, i) => (m as nn.LSTM).call(i.x!)[0] }),
      call: (m, n, dyn) => { const x = floats(n * 256); return () => m.run({ x: dyn ? { data: x, shape: [1, n, 256] } : x }); },
    },
    {
      name: 'encoder', dyn: () => defineModel({ name: 'enc', module: enc, inputs: { x: { shape: [1, 'T', 256], max: { T: N } } } }),
      at: (n) => defineModel({ name: 'enc', module: enc, inputs: { x: [1, n, 256] } }),
      call: (m, n, dyn) => { const x = floats(n * 256); return () => m.run({ x: dyn ? { data: x, shape: [1, n, 256] } : x }); },
    },
    {
      name: 'gpt prefill', dyn: () => defineGPT({ name: 'gpt', module: gpt, tokens: [1, N], capacity: N, chunk: N }),
      at: (n) => fixedPrefill(n),
      call: (m, n) => () => { m.setState({ pos: Int32Array.of(0) }); return m.prefill(tokens.subarray(0, n)); },
    },
  ];
  for (const f of fams.filter((x) => !only || only.includes(x.name.split(' ')[0]!))) {
    const dyn = await load(f.dyn());
    for (const n of [N / 16, N / 4, N]) {
      const st = await load(f.at(n));
      const [a, b] = await timeInterleaved([f.call(dyn, n, true), f.call(st, n, false)], timing);
      console.log(`${f.name.padEnd(12)} n=${String(n).padStart(3)} bound ${N}: ${a!.medianMs.toFixed(3)} ms vs static ${b!.medianMs.toFixed(3)} ms  ratio ${(a!.medianMs / b!.medianMs).toFixed(3)}`);
    }
  }
}

async function prefill5(): Promise<void> {
  const dyn = await load(defineGPT({ name: 'gpt', module: gpt, tokens: [1, N], capacity: N, chunk: N }));
  const padded = await load(fixedPrefill(N));
  const p = tokens.subarray(0, 5);
  const run = (m: Model) => () => { m.setState({ pos: Int32Array.of(0) }); return m.prefill(p); };
  const same = Math.max(...Array.from(run(dyn)(), (v, i) => Math.abs(v - run(padded)()[i]!)));
  const [a, b] = await timeInterleaved([run(dyn), run(padded)], timing);
  console.log(`gpt prefill of 5 tokens: ${a!.medianMs.toFixed(3)} ms vs the padded 128-token chunk ${b!.medianMs.toFixed(3)} ms: ${(b!.medianMs / a!.medianMs).toFixed(1)}× faster (max |Δ logits| ${same.toExponential(1)})`);
}

/** Bytes of memory the bench's GPT lays out with context = capacity = prefill bound T (no asc). */
function gptBytes(T: number): number {
  const m = new GPT({ ...gcfg, context: T });
  const d = defineGPT({ name: 'gpt', module: m, tokens: [1, 1], capacity: T, chunk: T });
  const graphs = traceEntries(d).map((e) => runPasses(e.graph, { disable: [], target: wasmTarget }));
  const state = Object.entries(d.state!).map(([name, s]) => ({ name, type: Array.isArray(s) ? { dtype: 'f32' as const, shape: s } : { dtype: s.dtype ?? 'f32', shape: s.shape as number[] } }));
  return layoutMemory(graphs, state).end;
}

/**
 * Memory grows linearly in the bound (weights by the position table, state by the KV caches,
 * the arena by the prefill's activations): fitted on two bounds, checked on a third, solved for 4 GiB.
 */
function largestBound(): void {
  const LIMIT = 2 ** 32 - 2 * 65536;
  const [a, b, c] = [1024, 2048, 4096].map((t) => [t, gptBytes(t)] as const);
  const slope = (c![1] - b![1]) / (c![0] - b![0]), base = c![1] - slope * c![0];
  const linear = Math.abs(base + slope * a![0] - a![1]) < 65536;
  console.log(`GPT memory ≈ ${(base / 2 ** 20).toFixed(1)} MiB + ${(slope / 1024).toFixed(2)} KiB per position of context = KV capacity = prefill bound` +
    `${linear ? '' : ' (NOT linear: the estimate is off)'}; the largest bound fitting wasm32 is T ≈ ${Math.floor((LIMIT - base) / slope)}`);
}

console.log(`load ${loadavg().map((l) => l.toFixed(1)).join(' ')} on ${cpus().length} cores`);
await ratios();
if (!only || only.includes('prefill5')) await prefill5();
if (!only || only.includes('bound')) largestBound();
