// ONNX backend node tests as a conformance suite: import each test's model.onnx, compile many
// tests as the entries of one artifact (one asc run per batch), run each entry on its
// test_data_set_0 inputs and compare with the expected outputs by ONNX's rule (same shape and
// dtype, |got − want| ≤ atol + rtol·|want| with rtol 1e-3, atol 1e-7, NaN equals NaN).
// int64 tensors run as i32 here: an int64 output compares by value. Inputs that the importer
// needs as constants (packed recurrent weights) are bound to the test's data and reported.

import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { compileEntries, type Compiled, type Entry } from '../driver/compile.ts';
import { importOnnx, NeedsConstantError, OnnxError, UnsupportedError } from '../onnx/import.ts';
import { DT, dtypeName, readOnnxModel, readOnnxTensor, type OnnxTensor } from '../onnx/proto.ts';
import { loadModelBytes, type Feeds } from '../../runtime/model.ts';
import type { Isa } from '../../runtime/format.ts';
import { KNOWN_DIFFERENCES } from './onnx-known.ts';

export type Status = 'pass' | 'fail' | 'unsupported' | 'known';
export interface TestInfo { name: string; dir: string; op: string; tier: string; expanded: boolean; f32: boolean }
export interface TestResult extends TestInfo { status: Status; detail: string }

const RTOL = 1e-3, ATOL = 1e-7;

/** The tests in `dir` (each a folder with model.onnx), with op and tier from index.tsv when present. */
export function listTests(dir: string): TestInfo[] {
  // (readdirSync's ENOENT and ENOTDIR were the CLI's whole message.)
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new Error(`conformance-onnx: ${dir} is not a directory`);
  const index = new Map<string, string[]>();
  const tsv = join(dir, 'index.tsv');
  if (existsSync(tsv)) {
    const [head, ...rows] = readFileSync(tsv, 'utf8').trim().split('\n').map((l) => l.split('\t'));
    for (const r of rows) index.set(r[0]!, r);
    void head;
  }
  const names = readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory() && existsSync(join(dir, e.name, 'model.onnx')))
    .map((e) => e.name).sort();
  // Nothing to run is not a pass (a wrong directory printed empty counts and exited 0).
  if (!names.length) throw new Error(`conformance-onnx: ${dir} holds no tests (a test is a directory with model.onnx)`);
  return names
    .map((name) => {
      const row = index.get(name), d = join(dir, name);
      const types = tensorTypes(d);
      // "f32": every tensor of the test is f32, int64/int32 or bool, and at least one is f32.
      const f32 = types.includes(DT.FLOAT) && types.every((t) => t === DT.FLOAT || t === DT.INT64 || t === DT.INT32 || t === DT.BOOL);
      if (row) return { name, dir: d, op: row[1]!, tier: row[2]!, expanded: row[8] === '1', f32 };
      const m = readOnnxModel(readFileSync(join(d, 'model.onnx')));
      return { name, dir: d, op: m.graph.nodes.length === 1 ? m.graph.nodes[0]!.opType : 'model', tier: '-', expanded: false, f32 };
    });
}

function dataFiles(dir: string, kind: 'input' | 'output'): string[] {
  const ds = join(dir, 'test_data_set_0');
  if (!existsSync(ds)) return [];
  return readdirSync(ds).filter((f) => f.startsWith(`${kind}_`) && f.endsWith('.pb'))
    .sort((a, b) => parseInt(a.slice(kind.length + 1)) - parseInt(b.slice(kind.length + 1))).map((f) => join(ds, f));
}

/** Element types of the test's graph inputs and outputs (from the model's declared types). */
function tensorTypes(dir: string): number[] {
  try {
    const g = readOnnxModel(readFileSync(join(dir, 'model.onnx'))).graph;
    return [...g.inputs, ...g.outputs].map((v) => v.dtype);
  } catch { return []; }
}

interface Prepared { info: TestInfo; entry?: Entry; feeds?: Feeds; want?: OnnxTensor[]; outNames?: string[]; result?: TestResult; bound: string[] }

const toFeed = (t: OnnxTensor): Feeds[string] => {
  if (t.dtype === DT.FLOAT) return Float32Array.from(t.data as ArrayLike<number>);
  if (t.dtype === DT.BOOL) return Uint8Array.from(t.data as ArrayLike<number>);
  if (t.dtype === DT.INT64 || t.dtype === DT.INT32) {
    const out = new Int32Array(t.data.length);
    for (let i = 0; i < out.length; i++) {
      const v = Number(t.data[i]);
      if (!(v >= -(2 ** 31) && v < 2 ** 31)) throw new UnsupportedError(`input '${t.name}': value ${v} does not fit int32 (int64 runs as i32)`);
      out[i] = v;
    }
    return out;
  }
  throw new UnsupportedError(`input '${t.name}': element type ${dtypeName(t.dtype)} is not supported`);
};

function prepare(info: TestInfo, index: number): Prepared {
  const p: Prepared = { info, bound: [] };
  const done = (status: Status, detail: string) => { p.result = { ...info, status, detail }; return p; };
  try {
    const bytes = readFileSync(join(info.dir, 'model.onnx'));
    const model = readOnnxModel(bytes);
    const g = model.graph;
    const inits = new Set(g.initializers.map((t) => t.name));
    const graphInputs = g.inputs.filter((v) => !inits.has(v.name));
    const notTensor = [...graphInputs, ...g.outputs].find((v) => v.dtype === 0);
    if (notTensor) return done('unsupported', `'${notTensor.name}' is not a tensor (a sequence or optional value)`);
    const ins = dataFiles(info.dir, 'input').map((f) => readOnnxTensor(readFileSync(f)));
    const want = dataFiles(info.dir, 'output').map((f) => readOnnxTensor(readFileSync(f)));
    if (ins.length !== graphInputs.length) return done('unsupported', `${ins.length} input files for ${graphInputs.length} graph inputs (sequence or optional inputs)`);
    if (want.length !== g.outputs.length) return done('unsupported', `${want.length} output files for ${g.outputs.length} graph outputs`);
    for (const t of [...ins, ...want]) if (![DT.FLOAT, DT.INT64, DT.INT32, DT.BOOL].includes(t.dtype as 1)) return done('unsupported', `element type ${dtypeName(t.dtype)}`);
    const byName = new Map(graphInputs.map((v, i) => [v.name, ins[i]!]));
    const shapes = Object.fromEntries(graphInputs.map((v, i) => [v.name, ins[i]!.dims]));
    const constants: Record<string, OnnxTensor> = {};
    for (;;) {
      try {
        const { graph } = importOnnx(bytes, { shapes, constants });
        p.entry = { name: `t${index}`, graph };
        break;
      } catch (e) {
        if (e instanceof NeedsConstantError && byName.has(e.input) && !constants[e.input]) { constants[e.input] = byName.get(e.input)!; p.bound.push(e.input); continue; }
        throw e;
      }
    }
    p.feeds = Object.fromEntries(graphInputs.filter((v) => !constants[v.name]).map((v) => [v.name, toFeed(byName.get(v.name)!)]));
    p.want = want;
    p.outNames = g.outputs.map((o) => o.name);
    return p;
  } catch (e) {
    const msg = (e as Error).message ?? String(e);
    return done(e instanceof UnsupportedError ? 'unsupported' : 'fail', msg.split('\n')[0]!.slice(0, 300));
  }
}

/** ONNX's comparison of one output; undefined when it passes, else what differs. */
export function compareOutput(name: string, got: ArrayLike<number>, gotShape: readonly number[], gotDtype: string, want: OnnxTensor): string | undefined {
  const wantDt = want.dtype === DT.FLOAT ? 'f32' : want.dtype === DT.BOOL ? 'bool' : want.dtype === DT.INT64 || want.dtype === DT.INT32 ? 'i32' : dtypeName(want.dtype);
  if (wantDt !== gotDtype) return `output '${name}': dtype ${gotDtype}, expected ${dtypeName(want.dtype)}`;
  if (gotShape.length !== want.dims.length || gotShape.some((d, i) => d !== want.dims[i])) return `output '${name}': shape [${gotShape}], expected [${want.dims}]`;
  for (let i = 0; i < want.data.length; i++) {
    const g = Number(got[i]), w = Number(want.data[i]);
    if (g === w || (g !== g && w !== w)) continue;
    if (!(Math.abs(g - w) <= ATOL + RTOL * Math.abs(w))) return `output '${name}'[${i}]: ${g}, expected ${w}`;
  }
  return undefined;
}

async function runCompiled(ps: Prepared[], c: Compiled, isa: Isa): Promise<void> {
  const model = await loadModelBytes(c.bytes, { isa });
  for (const p of ps) {
    const info = c.manifest.entries[p.entry!.name]!;
    try {
      const outs = model.call(p.entry!.name, p.feeds!);
      let bad: string | undefined;
      p.outNames!.forEach((name, i) => {
        const o = info.outputs.find((x) => x.name === name)!;
        bad ??= compareOutput(name, outs[name]!, o.shape, o.dtype, p.want![i]!);
      });
      p.result = { ...p.info, status: bad ? 'fail' : 'pass', detail: bad ?? (p.bound.length ? `inputs bound as constants: ${p.bound.join(', ')}` : '') };
    } catch (e) {
      p.result = { ...p.info, status: 'fail', detail: `run: ${(e as Error).message.split('\n')[0]}` };
    }
  }
}

/** Compiles `ps` as one artifact (falling back to one artifact each when the batch fails) and runs them. */
async function compileAndRun(ps: Prepared[], isa: Isa): Promise<void> {
  if (!ps.length) return;
  try {
    const c = await compileEntries(ps.map((p) => p.entry!), [], { name: 'onnx-tests', isas: [isa] });
    await runCompiled(ps, c, isa);
  } catch (e) {
    if (ps.length === 1) {
      ps[0]!.result = { ...ps[0]!.info, status: e instanceof UnsupportedError ? 'unsupported' : 'fail', detail: `compile: ${(e as Error).message.split('\n')[0]!.slice(0, 300)}` };
      return;
    }
    const half = Math.ceil(ps.length / 2);
    await compileAndRun(ps.slice(0, half), isa);
    await compileAndRun(ps.slice(half), isa);
  }
}

export interface RunOptions { isa?: Isa; batch?: number; filter?: (t: TestInfo) => boolean; onResult?: (r: TestResult) => void }

/** Runs every test in `dir`; results in name order. */
export async function runOnnxTests(dir: string, opts: RunOptions = {}): Promise<TestResult[]> {
  const tests = listTests(dir).filter(opts.filter ?? (() => true));
  const prepared = tests.map((t, i) => prepare(t, i));
  const ready = prepared.filter((p) => !p.result);
  const size = opts.batch ?? 40;
  for (let i = 0; i < ready.length; i += size) await compileAndRun(ready.slice(i, i + size), opts.isa ?? 'wasmsimd');
  const results = prepared.map((p) => {
    const r = p.result!;
    const known = KNOWN_DIFFERENCES[r.name];
    return r.status === 'fail' && known ? { ...r, status: 'known' as const, detail: `${known} (${r.detail})` } : r;
  });
  for (const r of results) opts.onResult?.(r);
  return results;
}

/** The tier-A f32 single-node tests' pass rate (undefined when the folder has none). */
export function tierARate(results: TestResult[]): number | undefined {
  const a = results.filter((r) => r.tier === 'A' && !r.expanded && r.f32);
  return a.length ? a.filter((r) => r.status === 'pass').length / a.length : undefined;
}

/** The summary: counts by tier (expanded tests apart) and by op, and the tier-A f32 pass rate. */
export function summarize(results: TestResult[]): string {
  const count = (rs: TestResult[]) => {
    const c = { pass: 0, fail: 0, unsupported: 0, known: 0 };
    for (const r of rs) c[r.status]++;
    return c;
  };
  const fmt = (label: string, rs: TestResult[]) => {
    const c = count(rs);
    return `${label.padEnd(30)} ${String(rs.length).padStart(4)} tests: ${String(c.pass).padStart(4)} pass, ${String(c.fail).padStart(3)} fail, ${String(c.unsupported).padStart(3)} unsupported, ${String(c.known).padStart(3)} known difference`;
  };
  const lines: string[] = [];
  const groups = (key: (r: TestResult) => string) => {
    const m = new Map<string, TestResult[]>();
    for (const r of results) { const k = key(r); m.set(k, [...(m.get(k) ?? []), r]); }
    return [...m.entries()].sort(([a], [b]) => (a < b ? -1 : 1));
  };
  lines.push('By tier:');
  for (const [k, rs] of groups((r) => `${r.tier}${r.expanded ? ' expanded' : ''}`)) lines.push(`  ${fmt(k, rs)}`);
  lines.push('By op (single-node and expanded tests together):');
  for (const [k, rs] of groups((r) => `${r.tier} ${r.op}`)) lines.push(`  ${fmt(k, rs)}`);
  const a = results.filter((r) => r.tier === 'A' && !r.expanded && r.f32);
  const pass = a.filter((r) => r.status === 'pass').length;
  lines.push('');
  lines.push('Tier-A f32 single-node tests (tier A, not *_expanded, every graph input and output f32, int64/int32 or bool, at least one f32):');
  lines.push(`  ${fmt('tier-A f32', a)}`);
  if (a.length) lines.push(`  pass rate ${(100 * pass / a.length).toFixed(1)}% (${pass}/${a.length})`);
  lines.push(fmt('all', results));
  return lines.join('\n');
}

export { OnnxError };
