// The main job: compile every model in a directory, run it, and print a table of compile
// time, code and weight sizes, peak activation memory, median latency and the max error
// against the reference interpreter.

import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { compileModel } from '../codegen/compile.ts';
import { interpret } from '../reference/interpret.ts';
import { allocData, numel } from '../ir/types.ts';
import { loadModelBytes, type Feeds } from '../../runtime/model.ts';
import { loadDefinition } from './load.ts';
import { rng } from '../dsl/module.ts';

/** Deterministic example inputs: floats in [-1, 1), indices within their valid range. */
export function exampleFeeds(inputs: Array<{ name: string; dtype: string; shape: number[]; range?: [number, number] }>, seed = 7): Feeds {
  const r = rng(seed);
  const feeds: Feeds = {};
  for (const i of inputs) {
    const d = allocData({ dtype: i.dtype as 'f32', shape: i.shape });
    const [lo, hi] = i.range ?? [0, 2];
    for (let k = 0; k < d.length; k++) d[k] = i.dtype === 'f32' ? r() * 2 - 1 : lo + Math.floor(r() * (hi - lo));
    feeds[i.name] = d;
  }
  return feeds;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

export async function timeRuns(fn: () => void, minMs = 200, minRuns = 20): Promise<number> {
  for (let i = 0; i < 10; i++) fn(); // V8 tiers wasm up after the first calls
  const times: number[] = [];
  const t0 = performance.now();
  while (times.length < minRuns || performance.now() - t0 < minMs) {
    const s = performance.now(); fn(); times.push(performance.now() - s);
  }
  return median(times);
}

export async function runModels(dir: string): Promise<number> {
  const files = readdirSync(dir).filter((f) => f.endsWith('.ts')).sort();
  const rows: string[][] = [['model', 'compile ms', 'code bytes', 'weight bytes', 'peak act. bytes', 'median ms', 'max err vs ref']];
  let bad = 0;
  for (const f of files) {
    const def = await loadDefinition(join(dir, f));
    const c = await compileModel(def);
    const model = await loadModelBytes(c.bytes);
    const feeds = exampleFeeds(model.inputs);
    const out = model.run(feeds);
    const ref = interpret(c.traced, feeds as never);
    let err = 0;
    for (const [k, v] of Object.entries(ref)) for (let i = 0; i < numel([v.length]); i++) err = Math.max(err, Math.abs(out[k]![i]! - v[i]!));
    if (!(err < 1e-3)) bad++;
    const ms = await timeRuns(() => model.run(feeds));
    const s = c.manifest.stats;
    rows.push([def.name, String(c.compileMs), `${s.codeBytes[model.isa]} (${model.isa})`, String(s.weightBytes), String(s.peakArenaBytes), ms.toFixed(3), err.toExponential(2)]);
    // Stateful entries: one step() of a recurrent model; prefill of a full chunk and one decode
    // step at the last cache position for a language model.
    const sub = (what: string, t: number) => rows.push([`  ${def.name}.${what}`, '', '', '', '', t.toFixed(3), '']);
    if (model.entries.includes('step')) {
      const f = exampleFeeds(model.entry('step').inputs);
      model.reset();
      sub('step()', await timeRuns(() => model.step(f)));
    }
    const gen = model.manifest.generation;
    if (gen) {
      const prompt = Array.from({ length: gen.chunk }, (_, i) => (i * 7919) % gen.vocab);
      sub(`prefill(${gen.chunk} tokens)`, await timeRuns(() => { model.reset(); model.prefill(prompt); }));
      model.reset();
      model.prefill(Array.from({ length: gen.capacity - 1 }, (_, i) => (i * 31) % gen.vocab));
      const at = model.state()[gen.position]!;
      sub(`decode(at position ${gen.capacity - 1})`, await timeRuns(() => { model.setState({ [gen.position]: at }); model.decode(5); }));
    }
  }
  const w = rows[0]!.map((_, j) => Math.max(...rows.map((r) => r[j]!.length)));
  for (const r of rows) console.log(r.map((c, j) => (j === 0 ? c.padEnd(w[j]!) : c.padStart(w[j]!))).join('  '));
  return bad ? 1 : 0;
}
