// Speed of this tree against another revision's, per bench workload, on one thread or N:
//
//   npm run bench:against -- REV [workload …] [--threads N]     (default: every workload, 1 thread)
//
// REV is checked out in a temporary git worktree, where its own compiler builds the workloads
// (with its own bench/workloads.ts) in a child process; this process then loads REV's artifacts on
// REV's own runtime (imported from the worktree) and this tree's on ours, and times the two
// interleaved after warm-up (bench/harness.ts). Both run the same input, ours. Outputs are not
// compared: a revision may draw different weights. With --threads N both split every call
// (threadPolicy 'always'); a revision whose runtime has no threads is an error, not a 1-thread run.
//
// The last column is the median of the rounds' ratios, the figure to read: this host has phases
// where everything runs ~2× slower (GEMM 512³ on one thread 5.7 or 9–11 ms), and a ratio taken
// within a round, both builds in the same phase, moves far less than the ratio of two medians.
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
import { pairedRatio, timeInterleaved } from './harness.ts';
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

interface Runnable {
  run(f: Record<string, unknown>): unknown; setState(s: Record<string, unknown>): void; reset(): void; prefill(t: Int32Array): unknown; decode(t: number): unknown;
  readonly threads?: number; dispose?(): void;
}

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

const args = process.argv.slice(2), at = args.indexOf('--threads');
const threads = at < 0 ? 1 : Number(args[at + 1]);
if (!(Number.isInteger(threads) && threads >= 1 && threads <= 16)) throw new Error(`bench:against: --threads takes an integer in [1, 16], got ${args[at + 1] ?? 'nothing'}`);
if (at >= 0) args.splice(at, 2);
const [rev, ...only] = args;
if (!rev || rev.startsWith('-')) throw new Error('bench:against: give a revision, e.g. npm run bench:against -- 8430220 lstm gru [--threads 2]');
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
  const theirs = await import(join(tree, 'runtime/model.ts')) as { loadModelBytes(b: Uint8Array, o?: object): Promise<Runnable> };
  if (existsSync(join(tree, 'runtime/node.ts'))) await import(join(tree, 'runtime/node.ts'));
  const opts = threads > 1 ? { threads, threadPolicy: 'always' as const } : {};
  const on = (m: Runnable, who: string): Runnable => {
    if (threads > 1 && m.threads !== threads) throw new Error(`bench:against: ${who} ran the model on ${m.threads ?? 1} thread(s)${m.threads === undefined ? ' (it has no threads)' : ''}, not ${threads}`);
    return m;
  };
  const r = rev.slice(0, 12);
  console.log(`\n${threads} thread(s)\nworkload       ${r.padStart(12)} ms   this tree ms   this ÷ ${r} (medians)   median of the rounds' ratios`);
  for (const name of names) {
    const wl = buildWorkload(name);
    const old = on(await theirs.loadModelBytes(new Uint8Array(readFileSync(join(dir, `${name}.simdflow`))), opts), `${rev}'s runtime`);
    const now = on(await loadModelBytes((await compileModel(wl.def, { isas: [ISA] })).bytes, opts) as unknown as Runnable, 'this runtime');
    const t = await timeInterleaved([driver(wl, old), driver(wl, now)], { warmupMs: 300, budgetMs: 4000, rounds: 20 });
    const [a, b] = [t[0]!, t[1]!];
    const perRound = pairedRatio(b, a);
    console.log(`${name.padEnd(14)} ${a.medianMs.toFixed(4).padStart(15)} ${b.medianMs.toFixed(4).padStart(14)}   ${(b.medianMs / a.medianMs).toFixed(3).padStart(10)}×${' '.repeat(12)}${perRound.toFixed(3)}×`);
    old.dispose?.();
    now.dispose?.();
  }
} finally {
  execFileSync('git', ['-C', root, 'worktree', 'remove', '--force', tree], { stdio: 'ignore' });
  rmSync(dir, { recursive: true, force: true });
}
process.exit(0);
