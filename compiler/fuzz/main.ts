// npm run fuzz -- [--seeds N] [--from S0] [--seed S] [--wasm K] [--threads K] [--sized K] [--indices K] [--isa wasmsimd|wasmrelaxedsimd] [--moves M] [--strict] [--verbose]  (run by bin.js)
// Differential fuzzing of the compiler (see run.ts). Exits 1 when a failure is not one of the
// known, tracked categories (known.ts), or on any failure with --strict.

import { KNOWN_FAILURES } from './known.ts';
import { fuzz, type Failure } from './run.ts';
import { hostIsas } from '../codegen/host-isas.ts';

function parse(argv: string[]) {
  const o = { seeds: 100, from: 1, wasm: 0, threads: 0, sized: 0, indices: 0, moves: 0, isa: 'wasmsimd' as 'wasmsimd' | 'wasmrelaxedsimd', strict: false, verbose: false, single: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!, v = () => {
      const x = Number(argv[++i]);
      if (!Number.isInteger(x) || x < 0) throw new Error(`fuzz: ${a} needs a non-negative integer, got '${argv[i]}'`);
      return x;
    };
    if (a === '--seeds') o.seeds = v();
    else if (a === '--from') o.from = v();
    else if (a === '--seed') { o.from = v(); o.seeds = 1; o.single = true; o.verbose = true; }
    else if (a === '--wasm') o.wasm = v();
    else if (a === '--threads') o.threads = v();
    else if (a === '--sized') o.sized = v();
    else if (a === '--indices') o.indices = v();
    else if (a === '--isa') {
      const isa = argv[++i];
      if (isa !== 'wasmsimd' && isa !== 'wasmrelaxedsimd') throw new Error(`fuzz: --isa must be wasmsimd or wasmrelaxedsimd, got '${isa}'`);
      // Node 20 runs relaxed SIMD behind a V8 flag, which NODE_OPTIONS does not take.
      if (isa === 'wasmrelaxedsimd' && !hostIsas().includes('wasmrelaxedsimd')) throw new Error('fuzz: --isa wasmrelaxedsimd needs Node 20 run as node --experimental-wasm-relaxed-simd compiler/fuzz/bin.js …');
      o.isa = isa;
    }
    else if (a === '--moves') o.moves = v();
    else if (a === '--strict') o.strict = true;
    else if (a === '--verbose') o.verbose = true;
    else throw new Error(`fuzz: unknown option '${a}' (options: --seeds N, --from S0, --seed S, --wasm K, --threads K, --sized K, --indices K, --isa wasmsimd|wasmrelaxedsimd, --moves M, --strict, --verbose)`);
  }
  return o;
}

export async function main(argv: string[]): Promise<number> {
  const o = parse(argv);
  const shown = new Set<string>();
  if (o.isa !== 'wasmsimd') console.log(`wasm runs on ${o.isa}`);
  const s = await fuzz(o, (seed, found) => {
    // One line per category of a seed (naming its pass configurations), the detail of the first.
    const cats = new Map<string, Failure[]>();
    for (const f of found) cats.set(f.category, [...(cats.get(f.category) ?? []), f]);
    for (const [cat, fs] of cats) {
      const known = KNOWN_FAILURES[cat];
      console.log(`seed ${seed} [${cat}${known ? ', known' : ''}] ${fs.map((f) => `${f.target === 'wasm' ? 'wasm ' : ''}${f.config}`).join('; ')}: ${fs[0]!.summary}`);
      if (o.verbose || (!shown.has(cat) && !known)) console.log(`${fs[0]!.detail}\n`);
      shown.add(cat);
    }
  });
  const by = new Map<string, Failure[]>();
  for (const f of s.failures) by.set(f.category, [...(by.get(f.category) ?? []), f]);
  console.log(`\n${s.seeds} seeds, ${s.simulations} simulated pass configurations, ${s.wasmRuns} wasm runs (${(s.wasmMs / 1000).toFixed(1)} s) in ${(s.ms / 1000).toFixed(1)} s`);
  const counts = (r: Record<string, number>) => Object.entries(r).map(([k, n]) => `${k} ${n}`).join(', ') || 'none';
  if (s.threadRuns) console.log(`${s.threadRuns} large cases on 1, 2 and 3 threads (${(s.threadMs / 1000).toFixed(1)} s); split across threads: ${counts(s.splitOps)}; a copy per thread: ${counts(s.copyOps)}`);
  if (s.sizedRuns) console.log(`${s.sizedRuns} seeds with named sizes, each a small case simulated and run as wasm and a large one on 1, 2 and 3 threads (${(s.sizedMs / 1000).toFixed(1)} s)`);
  if (s.indexRuns) console.log(`${s.indexRuns} seeds with their run-time indices past their ranges, small, sized and large (${(s.indexMs / 1000).toFixed(1)} s): the reference refused ${s.refused} of ${s.wildCalls} calls`);
  console.log(`features: ${Object.entries(s.features).map(([k, n]) => `${k} ${n}`).join(', ')}`);
  for (const [cat, fs] of by) {
    const seeds = [...new Set(fs.map((f) => f.seed))];
    console.log(`${KNOWN_FAILURES[cat] ? 'known' : 'NEW'} ${cat}: ${seeds.length} seeds (${seeds.slice(0, 12).join(', ')}${seeds.length > 12 ? ', …' : ''})${KNOWN_FAILURES[cat] ? ` — ${KNOWN_FAILURES[cat]}` : ''}`);
  }
  if (s.unexpected.length) { console.log(`FAIL: ${s.unexpected.length} failures${o.strict ? '' : ' outside the known categories'}`); return 1; }
  console.log(s.failures.length ? 'ok apart from the known failures above' : 'ok');
  return 0;
}
