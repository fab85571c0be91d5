// `npm run bench:cold`: process start to first result for the MLP 784-512-512-10 (batch 1),
// simdflow against ONNX Runtime Web 1.30. Everything a deployment would prepare ahead is done once
// here: the artifact is compiled to a temp file, the runtime bundled to one JS file (as an app
// would ship it; Node 20 cannot import .ts), and the .onnx file written. Then fresh `node`
// processes (bench/cold/*.mjs), alternating simdflow and ORT, each load + run once and print
// performance.now() — ms since the process started. Medians (min–max) of the runs; the
// spawn-to-exit wall time as seen from here is shown too.
//
//   npm run bench:cold [-- --runs 11] [--json out.json]
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { compileModel } from '../compiler/driver/compile.ts';
import { compare } from './harness.ts';
import { onnxModel } from './peers/ort-models.ts';
import { buildWorkload } from './workloads.ts';

const here = dirname(fileURLToPath(import.meta.url));
const argv = process.argv.slice(2);
const opt = (k: string) => { const i = argv.indexOf(k); return i >= 0 ? argv[i + 1] : undefined; };
const runs = Number(opt('--runs') ?? 11);
const jsonOut = opt('--json');
const NODE_FLAGS = ['--experimental-wasm-relaxed-simd'];

const dir = mkdtempSync(join(tmpdir(), 'simdflow-cold-'));
try {
  const wl = buildWorkload('mlp_b1');
  const artifact = join(dir, 'mlp.simdflow'), onnx = join(dir, 'mlp.onnx'), runtime = join(dir, 'simdflow-runtime.mjs');
  const c = await compileModel(wl.def);
  writeFileSync(artifact, c.bytes);
  writeFileSync(onnx, onnxModel(wl));
  await build({ entryPoints: [join(here, '..', 'runtime', 'model.ts')], bundle: true, format: 'esm', platform: 'neutral', minify: true, outfile: runtime, logLevel: 'error' });

  interface Run { ms: number; wallMs: number; y: number[]; isa?: string }
  const child = (script: string, args: string[]): Run => {
    const t0 = performance.now();
    const r = spawnSync(process.execPath, [...NODE_FLAGS, script.startsWith('/') ? script : join(here, 'cold', script), ...args], { encoding: 'utf8' });
    const wallMs = performance.now() - t0;
    if (r.status !== 0) throw new Error(`bench:cold: ${script} exited with ${r.status}: ${r.stderr}`);
    return { ...JSON.parse(r.stdout.trim().split('\n').at(-1)!), wallMs };
  };
  const engines = [
    { name: 'simdflow', run: () => child('simdflow.mjs', [runtime, artifact]), runs: [] as Run[] },
    { name: 'ort-web', run: () => child('ort.mjs', [onnx]), runs: [] as Run[] },
  ];
  child('simdflow.mjs', [runtime, artifact]); child('ort.mjs', [onnx]); // page cache warm for both, untimed
  // Node alone: the same measurement from a script that does nothing, the floor under both.
  const empty = join(dir, 'empty.mjs');
  writeFileSync(empty, "process.stdout.write(JSON.stringify({ ms: performance.now(), y: [] }) + '\\n');\n");
  const floor: Run[] = [];
  for (let i = 0; i < runs; i++) { for (const e of engines) e.runs.push(e.run()); floor.push(child(empty, [])); }

  const check = compare(Float32Array.from(engines[0]!.runs[0]!.y), Float32Array.from(engines[1]!.runs[0]!.y));
  if (!check.ok) throw new Error(`bench:cold: ORT's output differs from simdflow's by ${check.maxAbsErr}`);
  const stat = (xs: number[]) => { const s = [...xs].sort((a, b) => a - b); return { median: s[s.length >> 1]!, min: s[0]!, max: s.at(-1)! }; };
  const f = (x: number) => x.toFixed(1);
  console.log(`cold start, MLP 784-512-512-10 batch 1, ${runs} fresh processes each (Node ${process.version} ${NODE_FLAGS.join(' ')}); outputs agree to ${check.maxAbsErr.toExponential(1)}`);
  console.log(`artifact ${c.bytes.length} bytes (code ${JSON.stringify(c.manifest.stats.codeBytes)}), runtime bundle ${readFileSync(runtime).length} bytes; .onnx ${readFileSync(onnx).length} bytes`);
  const rows = engines.map((e) => ({ name: e.name, start: stat(e.runs.map((r) => r.ms)), wall: stat(e.runs.map((r) => r.wallMs)), isa: e.runs[0]!.isa }));
  for (const r of rows) {
    console.log(`${r.name.padEnd(9)} start→result ${f(r.start.median)} ms (${f(r.start.min)}–${f(r.start.max)})   spawn→exit ${f(r.wall.median)} ms (${f(r.wall.min)}–${f(r.wall.max)})${r.isa ? `   ${r.isa}` : ''}`);
  }
  const fl = { start: stat(floor.map((r) => r.ms)), wall: stat(floor.map((r) => r.wallMs)) };
  console.log(`${'node'.padEnd(9)} start→result ${f(fl.start.median)} ms (${f(fl.start.min)}–${f(fl.start.max)})   spawn→exit ${f(fl.wall.median)} ms (${f(fl.wall.min)}–${f(fl.wall.max)})   (an empty script: the floor)`);
  const [s, o] = rows as [typeof rows[0], typeof rows[0]];
  console.log(`ort-web / simdflow: ${(o.start.median / s.start.median).toFixed(2)}×; target simdflow ≤ 100 ms median: ${s.start.median <= 100 ? 'met' : 'MISSED'} (${f(s.start.median)} ms)`);
  if (jsonOut) writeFileSync(jsonOut, JSON.stringify({ date: new Date().toISOString(), node: process.version, flags: NODE_FLAGS, runs, rows, emptyNode: fl }, null, 1));
} finally {
  rmSync(dir, { recursive: true, force: true });
}
