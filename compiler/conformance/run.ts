// Runs PyTorch conformance cases: build each in the DSL, load its weights, compile to wasm,
// run it and compare every output with PyTorch's within the case's tolerance; on N threads too,
// when asked, which must give one thread's outputs bit for bit.

import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { compileModel, type CompileOptions } from '../driver/compile.ts';
import { firstUnequal } from '../ir/types.ts';
import { readSafetensors, stateDictFrom } from '../weights/safetensors.ts';
import { loadModelBytes, type Feeds, type LoadOptions, type TensorData } from '../../runtime/model.ts';
import '../../runtime/node.ts'; // worker_threads, for --threads
import { BUILDERS, symbolicInputs, type CaseSpec } from './cases.ts';

export interface CaseResult {
  name: string;
  status: 'passed' | 'failed' | 'skipped';
  detail: string;
  /** Worst |got - want| over float outputs. */
  maxError?: number;
}

/** Max abs error, and the first element outside |got - want| <= atol + rtol·|want| (or -1). */
export function compare(got: ArrayLike<number>, want: ArrayLike<number>, atol: number, rtol: number, exact = false): { maxErr: number; bad: number } {
  let maxErr = 0, bad = -1;
  if (got.length !== want.length) return { maxErr: Infinity, bad: 0 };
  for (let i = 0; i < want.length; i++) {
    const e = Math.abs(got[i]! - want[i]!);
    if (!(e <= maxErr)) maxErr = e;
    const ok = exact ? got[i] === want[i] : e <= atol + rtol * Math.abs(want[i]!);
    if (!ok && bad < 0) bad = i;
  }
  return { maxErr, bad };
}

/**
 * Builds, compiles and runs one case. With `maxScale` K the batch and sequence dims of its
 * inputs (VARIABLE_DIMS) are symbolic, bounded at K× the case's sizes, and the artifact runs at
 * the case's sizes. With `threads` N > 1 the artifact also runs on N threads with every split
 * taken, and each output must equal the one-thread output bit for bit.
 */
export async function runCase(dir: string, opts: CompileOptions = {}, { maxScale, threads }: { maxScale?: number; threads?: number } = {}): Promise<CaseResult> {
  const spec = JSON.parse(readFileSync(join(dir, 'case.json'), 'utf8')) as CaseSpec;
  const builder = BUILDERS[spec.name];
  if (!builder) return { name: spec.name, status: 'skipped', detail: `family '${spec.module ?? spec.name}' is not supported yet` };
  try {
    if (maxScale !== undefined && !(Number.isInteger(maxScale) && maxScale >= 1)) throw new Error(`maxScale must be a positive integer, got ${maxScale}`);
    const { extra, ...def } = builder(spec);
    if (maxScale !== undefined) def.inputs = { ...def.inputs, ...symbolicInputs(spec, maxScale) } as typeof def.inputs;
    const wpath = join(dir, 'weights.safetensors');
    if (existsSync(wpath)) def.module.loadStateDict(stateDictFrom(readSafetensors(readFileSync(wpath), wpath)));
    const io = readSafetensors(readFileSync(join(dir, 'io.safetensors')), join(dir, 'io.safetensors'));
    const compiled = await compileModel(def, opts);
    const data: Record<string, TensorData> = {}, feeds: Feeds = {};
    for (const name of Object.keys(spec.inputs)) {
      const t = io.get(`input.${name}`);
      if (!t) throw new Error(`io.safetensors has no input.${name}`);
      data[name] = t.data as TensorData;
      feeds[name] = maxScale === undefined ? data[name] : { data: data[name], shape: spec.inputs[name]!.shape };
    }
    const outputs = async (o: LoadOptions) => {
      const model = await loadModelBytes(compiled.bytes, o);
      try { return { threads: model.threads, out: { ...model.run(feeds), ...(extra?.(model, data) ?? {}) } }; } finally { model.dispose(); }
    };
    const { out } = await outputs({});
    let worst = 0;
    const notes: string[] = [];
    let failed = false;
    if (threads !== undefined && threads > 1) {
      const par = await outputs({ threads, threadPolicy: 'always' });
      const differs = Object.keys(out).map((k) => [k, par.out[k] ? firstUnequal(par.out[k]!, out[k]!) : 0] as const).filter(([, i]) => i >= 0);
      for (const [k, i] of differs) notes.push(`${k}[${i}] on ${par.threads} threads: ${par.out[k]?.[i]}, on one: ${out[k]![i]}`);
      if (differs.length) failed = true;
      else notes.push(par.threads > 1 ? `${par.threads} threads: the same bits` : 'no node splits: one thread');
    }
    for (const [name, o] of Object.entries(spec.outputs)) {
      const want = io.get(`output.${name}`)!.data, got = out[name];
      if (!got) { failed = true; notes.push(`${name}: not produced`); continue; }
      const exact = o.dtype !== 'F32';
      const { maxErr, bad } = compare(got, want, spec.tolerance.atol, spec.tolerance.rtol, exact);
      if (!exact) worst = Math.max(worst, maxErr);
      if (bad >= 0) { failed = true; notes.push(`${name}[${bad}]: got ${got[bad]}, want ${want[bad]} (max err ${maxErr.toExponential(2)})`); }
      else notes.push(`${name} ${exact ? 'exact' : `max err ${maxErr.toExponential(2)}`}`);
    }
    return { name: spec.name, status: failed ? 'failed' : 'passed', detail: notes.join(', '), maxError: worst };
  } catch (e) {
    return { name: spec.name, status: 'failed', detail: `error: ${(e as Error).message}` };
  }
}

/** Every case directory (one holding case.json) directly under `root`, in name order. */
export function caseDirs(root: string): string[] {
  if (!existsSync(root) || !statSync(root).isDirectory()) throw new Error(`conformance: ${root} is not a directory`);
  const dirs = readdirSync(root).sort().map((d) => join(root, d)).filter((d) => existsSync(join(d, 'case.json')));
  // Nothing to run is not a pass (a wrong directory printed "0 passed, 0 failed" and exited 0).
  if (!dirs.length) throw new Error(`conformance: ${root} holds no cases (a case is a directory with case.json)`);
  return dirs;
}
