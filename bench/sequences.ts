// Sequence workloads that have no peer counterpart, timed by simdflow alone (part of
// `npm run bench`, or `npx tsx bench/sequences.ts [--quick]`):
//   gpt_batch_decode      decode throughput of a batched KV cache (defineGPT's `batch`) at B = 1, 4, 8:
//                         one decode call advances B sequences at different positions; tokens/s = B ÷ time.
//   size_bound_vs_static  sizes chosen at run time: bound N vs a static artifact for n (sizes.ts)
//   prefill_5             a 5-token prompt vs the padded 128-token prefill chunk (sizes.ts)
//   gpt_max_bound         the largest GPT bound whose memory fits wasm32 (sizes.ts; a layout, no timing)
// Same GPT as the gpt_* workloads (4 layers, E 256, 4 heads, F 1024, V 1000, cache 128).
import v8 from 'node:v8';
v8.setFlagsFromString('--experimental-wasm-relaxed-simd');

import { loadavg } from 'node:os';
import { compileModel } from '../compiler/driver/compile.ts';
import { defineGPT, GPT, manualSeed } from '../compiler/dsl/index.ts';
import { loadModelBytes, type Model } from '../runtime/model.ts';
import type { Isa } from '../runtime/format.ts';
import { timeInterleaved, type Timing } from './harness.ts';
import { largestBoundRows, prefill5Rows, sizeRatioRows } from './sizes.ts';

export const SEQUENCE_NAMES = ['gpt_batch_decode', 'size_bound_vs_static', 'prefill_5', 'gpt_max_bound'] as const;

/** One row: a timed call (or none), the value it reports, and its target when it has one. */
export interface SequenceRow { name: string; variant: string; timing?: Timing; value: number; unit: string; target?: { met: boolean; what: string }; note: string }

/** `isa`: the one instruction set compiled and run (bench/main.ts passes the one it measured). */
export interface SequenceOptions { quick: boolean; isa: Isa }

const timingOpts = (quick: boolean) => (quick ? { warmupMs: 150, budgetMs: 900, rounds: 5 } : { warmupMs: 500, budgetMs: 3000, rounds: 10 });

/** The bench's GPT at batch B (same seed, so the same weights for every B). */
function gpt(B: number) {
  manualSeed(1234);
  const module = new GPT({ vocab: 1000, context: 128, dModel: 256, nhead: 4, layers: 4, dimFeedforward: 1024 });
  return defineGPT({ name: `gpt_b${B}`, module, tokens: [1, 16], capacity: 128, chunk: 32, ...(B > 1 ? { batch: B } : {}) });
}

async function batchDecode(o: SequenceOptions): Promise<SequenceRow[]> {
  const batches = [1, 4, 8];
  const models: Model[] = [];
  for (const B of batches) models.push(await loadModelBytes((await compileModel(gpt(B), { isas: [o.isa] })).bytes, { isa: o.isa }));
  // Sequence b holds a prompt of 60 + 4b tokens: every sequence at its own position.
  const prompt = (b: number) => Int32Array.from({ length: 60 + 4 * b }, (_, i) => (i * 7 + b * 13) % 1000);
  const steps = models.map((m, k) => {
    const B = batches[k]!;
    m.reset();
    for (let b = 0; b < B; b++) m.prefill(prompt(b), B > 1 ? b : undefined);
    const pos = Int32Array.from(m.positions), tokens = Array.from({ length: B }, (_, b) => (b * 31 + 5) % 1000);
    return B > 1
      ? () => { m.setState({ pos }); return m.decode(tokens)[0]!; }
      : () => { m.setState({ pos }); return m.decode(tokens[0]!); };
  });
  // Sequence 0 is the same in every model: its logits must agree before anything is timed.
  const want = steps[0]!();
  for (let k = 1; k < steps.length; k++) {
    const got = steps[k]!();
    let err = 0;
    for (let i = 0; i < want.length; i++) err = Math.max(err, Math.abs(got[i]! - want[i]!));
    if (!(err <= 1e-4)) throw new Error(`bench: gpt_batch_decode: sequence 0 at B = ${batches[k]} differs from B = 1 by ${err}`);
  }
  const ts = await timeInterleaved(steps, timingOpts(o.quick));
  models.forEach((m) => m.dispose());
  const base = 1 / ts[0]!.medianMs;
  return batches.map((B, k) => ({
    name: 'gpt_batch_decode', variant: `B=${B}`, timing: ts[k]!, value: (B * 1000) / ts[k]!.medianMs, unit: 'tokens/s',
    note: `${((B / ts[k]!.medianMs) / base).toFixed(2)}× the tokens/s of B=1; one decode call for ${B} sequence${B > 1 ? 's' : ''} at positions 60–${60 + 4 * (B - 1)}`,
  }));
}

const RUNS: Record<(typeof SEQUENCE_NAMES)[number], (o: SequenceOptions) => Promise<SequenceRow[]>> = {
  gpt_batch_decode: batchDecode,
  size_bound_vs_static: sizeRatioRows,
  prefill_5: prefill5Rows,
  gpt_max_bound: async () => largestBoundRows(),
};

/** Runs the named sequence workloads and prints their table; the rows go into --json. */
export async function benchSequences(names: readonly string[], o: SequenceOptions): Promise<SequenceRow[]> {
  const rows: SequenceRow[] = [];
  for (const n of names) {
    rows.push(...await RUNS[n as keyof typeof RUNS](o));
    process.stderr.write(`  ${n}: done\n`);
  }
  if (!rows.length) return rows;
  const f = (x: number, d = 3) => x.toFixed(d);
  const head = ['sequences', 'variant', 'ms (min–max)', 'value', 'target', 'what'];
  const body = rows.map((r) => [r.name, r.variant, r.timing ? `${f(r.timing.medianMs)} (${f(r.timing.minMs)}–${f(r.timing.maxMs)})` : '—',
    `${f(r.value, r.value >= 100 ? 0 : 2)} ${r.unit}`, r.target ? `${r.target.met ? 'met' : 'MISSED'} ${r.target.what}` : '', r.note]);
  const w = head.map((_, j) => Math.max(...[head, ...body].map((r) => r[j]!.length)));
  console.log('');
  for (const r of [head, ...body]) console.log(r.map((c, j) => (j === 2 || j === 3 ? c.padStart(w[j]!) : c.padEnd(w[j]!))).join('  ').trimEnd());
  return rows;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const quick = process.argv.includes('--quick');
  console.log(`load average ${loadavg()[0]!.toFixed(2)}`);
  await benchSequences(SEQUENCE_NAMES, { quick, isa: 'wasmrelaxedsimd' });
}
