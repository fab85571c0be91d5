// What sizes chosen at run time cost (issue 12), rows of `npm run bench` (sequences.ts) or
// `npx tsx bench/sizes.ts [--quick] [--only ratios,prefill5,bound]` alone. For an LSTM, the encoder layer and GPT prefill (the
// bench's shapes, see workloads.ts), a run at n of an artifact compiled with bound N against a
// static artifact compiled for n, n = N/16, N/4, N (interleaved, medians; target ≤ 1.15×); the
// 5-token prefill against the padded 128-token chunk the prefill took before (target ≥ 10×
// faster); and the largest bound of the bench's GPT (context = KV capacity = prefill bound) whose
// memory fits wasm32, from the memory layout alone. --quick times only n = N/16 and N.
import v8 from 'node:v8';
v8.setFlagsFromString('--experimental-wasm-relaxed-simd');

import { cpus, loadavg } from 'node:os';
import { compileModel } from '../compiler/driver/compile.ts';
import { defineGPT, defineModel, GPT, manualSeed, nn } from '../compiler/dsl/index.ts';
import { traceEntries, type ModelDefinition } from '../compiler/dsl/trace.ts';
import { runPasses } from '../compiler/passes/manager.ts';
import { layoutMemory } from '../compiler/codegen/layout.ts';
import { wasmTarget } from '../compiler/codegen/target.ts';
import { loadModelBytes, type Model } from '../runtime/model.ts';
import { timeInterleaved } from './harness.ts';
import type { SequenceOptions, SequenceRow } from './sequences.ts';

type SizeRow = SequenceRow;
type SizeOptions = SequenceOptions;

const N = 128;
const floats = (n: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.37));
// Warm-up by time: on a loaded machine V8's background tier-up of a fresh module lags its first calls.
const timing = (quick: boolean) => ({ warmupMs: quick ? 400 : 1000, budgetMs: quick ? 600 : 3000, rounds: 5 });

const gcfg = { vocab: 1000, context: N, dModel: 256, nhead: 4, layers: 4, dimFeedforward: 1024 };
/** The seeded modules, built on first use (importing this file from bench/main.ts builds nothing). */
let built: { lstm: nn.LSTM; enc: nn.TransformerEncoderLayer; gpt: GPT } | undefined;
function modules() {
  if (!built) {
    manualSeed(5);
    built = { lstm: new nn.LSTM(256, 256, { batchFirst: true }), enc: new nn.TransformerEncoderLayer(256, 4, { dimFeedforward: 1024, batchFirst: true, dropout: 0 }), gpt: new GPT(gcfg) };
  }
  return built;
}

/** A GPT definition whose prefill takes a fixed [1, n] chunk (padded by the runtime), as before named sizes. */
function fixedPrefill(chunk: number): ModelDefinition {
  const d = defineGPT({ name: 'gpt', module: modules().gpt, tokens: [1, N], capacity: N, chunk });
  d.entries!.prefill!.inputs.tokens = { shape: [1, chunk], dtype: 'i32' };
  return d;
}
const tokens = Int32Array.from({ length: N }, (_, i) => (i * 37) % 1000);

/** Bound-N vs static-n cost of the LSTM, the encoder layer and GPT prefill. */
export async function sizeRatioRows(o: SizeOptions): Promise<SizeRow[]> {
  const load = async (d: ModelDefinition): Promise<Model> => loadModelBytes((await compileModel(d, { isas: [o.isa] })).bytes, { isa: o.isa });
  const { lstm, enc, gpt } = modules();
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
      name: 'gpt_prefill', dyn: () => defineGPT({ name: 'gpt', module: gpt, tokens: [1, N], capacity: N, chunk: N }),
      at: (n) => fixedPrefill(n),
      call: (m, n) => () => { m.setState({ pos: Int32Array.of(0) }); return m.prefill(tokens.subarray(0, n)); },
    },
  ];
  const rows: SizeRow[] = [];
  for (const f of fams) {
    const dyn = await load(f.dyn());
    for (const n of o.quick ? [N / 16, N] : [N / 16, N / 4, N]) {
      const st = await load(f.at(n));
      const [a, b] = await timeInterleaved([f.call(dyn, n, true), f.call(st, n, false)], timing(o.quick));
      const ratio = a!.medianMs / b!.medianMs;
      rows.push({
        name: 'size_bound_vs_static', variant: `${f.name} n=${n}`, timing: a!, value: ratio, unit: '× static',
        target: { met: ratio <= 1.15, what: '≤ 1.15×' }, note: `artifact with bound ${N} run at ${n} vs one compiled for ${n} (${b!.medianMs.toFixed(3)} ms)`,
      });
      st.dispose();
    }
    dyn.dispose();
  }
  return rows;
}

/** The 5-token prefill against the padded 128-token chunk of a fixed-size prefill entry. */
export async function prefill5Rows(o: SizeOptions): Promise<SizeRow[]> {
  const load = async (d: ModelDefinition): Promise<Model> => loadModelBytes((await compileModel(d, { isas: [o.isa] })).bytes, { isa: o.isa });
  const dyn = await load(defineGPT({ name: 'gpt', module: modules().gpt, tokens: [1, N], capacity: N, chunk: N }));
  const padded = await load(fixedPrefill(N));
  const p = tokens.subarray(0, 5);
  const run = (m: Model) => () => { m.setState({ pos: Int32Array.of(0) }); return m.prefill(p); };
  const want = run(padded)();
  const err = Math.max(...Array.from(run(dyn)(), (v, i) => Math.abs(v - want[i]!)));
  if (!(err <= 1e-4)) throw new Error(`bench: prefill_5: the run-time-length prefill differs from the padded one by ${err}`);
  const [a, b] = await timeInterleaved([run(dyn), run(padded)], timing(o.quick));
  dyn.dispose(); padded.dispose();
  const speedup = b!.medianMs / a!.medianMs;
  return [{
    name: 'prefill_5', variant: 'T=5 of 128', timing: a!, value: speedup, unit: '× faster',
    target: { met: speedup >= 10, what: '≥ 10×' }, note: `5-token GPT prefill vs the padded 128-token chunk (${b!.medianMs.toFixed(3)} ms); max |Δ logits| ${err.toExponential(1)}`,
  }];
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
 * The largest bound of the bench's GPT whose memory fits wasm32, in steps of 1024. Memory grows
 * linearly with the bound (caches, position table, activations and scratch of one chunk): the
 * line through the layouts at 1024 and 2048, checked at 4096, extrapolated. Laying out the GPT at
 * the answer itself takes minutes (its position table alone is ~270 MB of parameters to build);
 * done once on 2026-12-01, it confirmed 277 504 (4081 MiB) and refused 278 528.
 */
export function largestBoundRows(): SequenceRow[] {
  const LIMIT = 2 ** 32 - 2 * 65536, STEP = 1024;
  const [b1, b2, b3] = [1024, 2048, 4096].map(gptBytes) as [number, number, number];
  const slope = (b2 - b1) / 1024;
  if (Math.abs(b1 + slope * 3072 - b3) > 65536) throw new Error(`bench: gpt_max_bound: memory is not linear in the bound (${b1}, ${b2}, ${b3} bytes at 1024, 2048, 4096)`);
  const T = Math.floor((1024 + (LIMIT - b1) / slope) / STEP) * STEP;
  return [{
    name: 'gpt_max_bound', variant: 'wasm32', value: T, unit: 'tokens',
    note: `largest context = KV capacity = prefill bound (step ${STEP}) whose memory fits 4 GiB, from the layouts at 1024/2048/4096 (${(slope / 1024).toFixed(1)} KiB per position); at ${N}: ${(gptBytes(N) / 2 ** 20).toFixed(1)} MiB`,
  }];
}

if (import.meta.url === `file://${process.argv[1]}`) {
  // --only ratios,prefill5,bound
  const o: SizeOptions = { quick: process.argv.includes('--quick'), isa: 'wasmrelaxedsimd' };
  const at = process.argv.indexOf('--only'), only = at > 0 ? process.argv[at + 1]!.split(',') : ['ratios', 'prefill5', 'bound'];
  console.log(`load ${loadavg().map((l) => l.toFixed(1)).join(' ')} on ${cpus().length} cores`);
  const rows = [...(only.includes('ratios') ? await sizeRatioRows(o) : []), ...(only.includes('prefill5') ? await prefill5Rows(o) : []), ...(only.includes('bound') ? largestBoundRows() : [])];
  for (const r of rows) {
    console.log(`${r.name} ${r.variant}: ${r.value.toFixed(r.unit === 'tokens' ? 0 : 3)} ${r.unit}${r.target ? ` (target ${r.target.what}: ${r.target.met ? 'met' : 'MISSED'})` : ''}; ${r.note}`);
  }
}
