// The main job: compile every model in a directory, write its artifact, run it, and print a
// table of compile time, code and weight sizes, peak activation memory, median latency and the
// max error against the reference interpreter, one row as each model finishes.

import { existsSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { compileModel, type CompileOptions } from '../driver/compile.ts';
import { interpret, type Feed } from '../reference/interpret.ts';
import { allocData, numel, type AnyTensorData } from '../ir/types.ts';
import { loadModelBytes, type Feeds } from '../../runtime/model.ts';
import { artifactFile, loadDefinition } from './load.ts';
import { rng } from '../dsl/module.ts';
import type { Io } from './main.ts';

/** Deterministic example inputs: floats in [-1, 1), indices within their valid range. */
/** The typed arrays of feeds (the data of { data, shape } ones), as the reference interpreter takes them. */
export const feedData = (f: Feeds): Record<string, AnyTensorData> =>
  Object.fromEntries(Object.entries(f).map(([k, v]) => [k, (typeof v === 'object' && 'data' in v ? v.data : v) as AnyTensorData]));

/** Seeded inputs at their (bound) shapes; an input with named sizes is given as { data, shape }. */
export function exampleFeeds(inputs: Array<{ name: string; dtype: string; shape: number[]; dims?: unknown[]; range?: [number, number] }>, seed = 7): Feeds {
  const r = rng(seed);
  const feeds: Feeds = {};
  for (const i of inputs) {
    const d = allocData({ dtype: i.dtype as 'f32', shape: i.shape });
    const [lo, hi] = i.range ?? [0, 2];
    for (let k = 0; k < d.length; k++) d[k] = i.dtype === 'f32' ? r() * 2 - 1 : lo + Math.floor(r() * (hi - lo));
    feeds[i.name] = i.dims ? { data: d, shape: i.shape } as never : d;
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

const HEADER = ['model', 'compile ms', 'code bytes', 'weight bytes', 'peak act. bytes', 'median ms', 'max err vs ref'];
const WIDTHS = [32, 10, 22, 12, 15, 9, 14];

/** Compiles and runs every model file in `dir`; `makeOut` creates the output directory once there are models to write. */
export async function runModels(dir: string, makeOut: () => string, io: Io, stages: (model: string) => (stage: string) => void, opts: CompileOptions = {}): Promise<number> {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new Error(`start: ${dir} is not a directory of model files`);
  const files = readdirSync(dir).filter((f) => /\.[cm]?[jt]s$/.test(f)).sort();
  if (!files.length) throw new Error(`${dir}: no model files (.ts or .js)`);
  const outDir = makeOut();
  const print = (r: string[]) => io.stdout.write(r.map((c, j) => (j === 0 ? c.padEnd(WIDTHS[j]!) : c.padStart(WIDTHS[j]!))).join('  ') + '\n');
  print(HEADER);
  let bad = 0;
  for (const f of files) {
    const def = await loadDefinition(join(dir, f));
    const file = artifactFile(outDir, def, join(dir, f));
    const onStage = stages(def.name);
    const c = await compileModel(def, { ...opts, onStage });
    writeFileSync(file, c.bytes);
    onStage('run');
    const model = await loadModelBytes(c.bytes);
    const feeds = exampleFeeds(model.inputs);
    const out = model.run(feeds);
    // With the shapes: the reference reads the sizes off them as run() does (a plain array leaves only one open).
    const ref = interpret(c.traced, feeds as Readonly<Record<string, Feed>>);
    let err = 0;
    for (const [k, v] of Object.entries(ref)) for (let i = 0; i < numel([v.length]); i++) err = Math.max(err, Math.abs(out[k]![i]! - v[i]!));
    if (!(err < 1e-3)) bad++;
    const ms = await timeRuns(() => model.run(feeds));
    const s = c.manifest.stats;
    print([def.name, String(c.compileMs), `${s.codeBytes[model.isa]} (${model.isa})`, String(s.weightBytes), String(s.peakArenaBytes), ms.toFixed(3), err.toExponential(2)]);
    // Stateful entries: one step() of a recurrent model; prefill of a full chunk and one decode
    // step at the last cache position for a language model.
    const sub = (what: string, t: number) => print([`  ${def.name}.${what}`, '', '', '', '', t.toFixed(3), '']);
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
  io.stdout.write(`artifacts in ${outDir}\n`);
  return bad ? 1 : 0;
}
