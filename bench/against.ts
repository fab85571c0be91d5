// One-thread speed of this tree against another revision's, per bench workload:
//
//   npm run bench:against -- REV [workload …]        (default: every workload)
//
// REV is checked out in a temporary git worktree, where its own compiler builds the workloads
// (with its own bench/workloads.ts) in a child process; this process then loads REV's artifacts on
// REV's own runtime (imported from the worktree) and this tree's on ours, and times the two
// interleaved, median of rounds after warm-up (bench/harness.ts). Both run the same input, ours.
// Outputs are not compared: a revision may draw different weights.
//
// Why: a one-thread slowdown shows in `npm run bench` only as a ratio against the peers, which a
// noisy host moves as much. The threads work made LSTM and GRU 16% and 24% slower on one thread
// (249251a, fixed in d647f1d) while the missed one-thread targets were put down to the host;
// timing against 8430220 found it at once.
import v8 from 'node:v8';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { compileModel } from '../compiler/driver/compile.ts';
import { loadModelBytes } from '../runtime/model.ts';
import '../runtime/node.ts';
import { timeInterleaved } from './harness.ts';
import { buildWorkload, WORKLOAD_NAMES, type Workload } from './workloads.ts';

v8.setFlagsFromString('--experimental-wasm-relaxed-simd');
const ISA = 'wasmrelaxedsimd';

// Run in the worktree by its own tsx: builds each named workload with REV's compiler.
const BUILD = `import { writeFileSync, existsSync } from 'node:fs';
const { buildWorkload } = await import('./bench/workloads.ts');
const compile = existsSync('./compiler/driver/compile.ts') ? './compiler/driver/compile.ts' : './compiler/codegen/compile.ts';
const { compileModel } = await import(compile);
const [out, ...names] = process.argv.slice(2);
for (const name of names) writeFileSync(out + '/' + name + '.simdflow', (await compileModel(buildWorkload(name).def, { isas: ['${ISA}'] })).bytes);
process.exit(0);
`;

interface Runnable { run(f: Record<string, unknown>): unknown; setState(s: Record<string, unknown>): void; reset(): void; prefill(t: Int32Array): unknown; decode(t: number): unknown }

/** One call of the workload on model m (a GPT decode step from a filled cache, as in bench/main.ts). */
function driver(wl: Workload, m: Runnable): () => unknown {
  const sp = wl.spec;
  if (sp.kind !== 'gpt') return () => m.run({ x: wl.x });
  const tokens = wl.tokens!, pos = (p: number) => ({ pos: Int32Array.of(p) });
  if (sp.mode === 'prefill') return () => { m.setState(pos(0)); return m.prefill(tokens); };
  m.reset();
  m.prefill(tokens.subarray(0, sp.T - 1));
  return () => { m.setState(pos(sp.T - 1)); return m.decode(tokens[sp.T - 1]!); };
}

const [rev, ...only] = process.argv.slice(2);
if (!rev || rev.startsWith('-')) throw new Error('bench:against: give a revision, e.g. npm run bench:against -- 8430220 lstm gru');
for (const n of only) if (!(WORKLOAD_NAMES as readonly string[]).includes(n)) throw new Error(`bench:against: unknown workload '${n}' (known: ${WORKLOAD_NAMES.join(', ')})`);
const names = only.length ? only : [...WORKLOAD_NAMES];
const root = resolve(import.meta.dirname, '..');
const dir = mkdtempSync(join(tmpdir(), 'simdflow-against-'));
const tree = join(dir, 'tree');
try {
  execFileSync('git', ['-C', root, 'worktree', 'add', '--detach', '--quiet', tree, rev], { stdio: 'inherit' });
  symlinkSync(join(root, 'node_modules'), join(tree, 'node_modules'));
  writeFileSync(join(tree, '.against-build.ts'), BUILD);
  console.log(`building ${names.length} workload(s) at ${rev} …`);
  execFileSync(process.execPath, ['--experimental-wasm-relaxed-simd', '--import', 'tsx', '.against-build.ts', dir, ...names], { cwd: tree, stdio: 'inherit' });
  const theirs = await import(join(tree, 'runtime/model.ts')) as { loadModelBytes(b: Uint8Array): Promise<Runnable> };
  if (existsSync(join(tree, 'runtime/node.ts'))) await import(join(tree, 'runtime/node.ts'));
  console.log(`\nworkload       ${rev.slice(0, 12).padStart(12)} ms   this tree ms   this ÷ ${rev.slice(0, 12)}`);
  for (const name of names) {
    const wl = buildWorkload(name);
    const old = await theirs.loadModelBytes(new Uint8Array(readFileSync(join(dir, `${name}.simdflow`))));
    const now = await loadModelBytes((await compileModel(wl.def, { isas: [ISA] })).bytes) as unknown as Runnable;
    const t = await timeInterleaved([driver(wl, old), driver(wl, now)], { warmupMs: 300, budgetMs: 4000, rounds: 10 });
    const [a, b] = [t[0]!.medianMs, t[1]!.medianMs];
    console.log(`${name.padEnd(14)} ${a.toFixed(4).padStart(15)} ${b.toFixed(4).padStart(14)}   ${(b / a).toFixed(3)}×`);
  }
} finally {
  execFileSync('git', ['-C', root, 'worktree', 'remove', '--force', tree], { stdio: 'ignore' });
  rmSync(dir, { recursive: true, force: true });
}
process.exit(0);
