// simdflow command line: build, ir, conformance, start. `main(argv, io)` is the whole CLI;
// bin.ts runs it on the process. Commands import the compiler when they run, so `--help` and
// usage errors answer at once; the toolchain (asc, binaryen) loads only to compile.

import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { ISAS, type Isa } from '../../runtime/format.ts';
import { kernelConst } from '../codegen/kernels.ts';

export interface Io {
  stdout: { write(s: string): unknown };
  stderr: { write(s: string): unknown };
}

const HELP = `simdflow — compile neural networks written in a TypeScript DSL to WebAssembly SIMD

Usage:
  simdflow build <model.ts> [-o <dir>] [--weights <file.safetensors>] [--disable-pass NAME]...
      Compile a model file (its default export is a defineModel(...)) to <dir>/<name>.simdflow.
  simdflow build <model.onnx> [-o <dir>] [--dim NAME=SIZE | --dim NAME=max:BOUND]...
      Import an ONNX model and compile it; --dim fixes a symbolic dimension (--dim batch=1) or
      keeps it symbolic up to a bound (--dim batch=max:8), from a least size when given
      (--dim time=min:5,max:40: a kernel of 5 over it).
  simdflow ir <model.ts | model.onnx> [--weights <file>] [--dim NAME=SIZE] [--disable-pass NAME]... [--list-passes]
      Print the IR before and after the passes, and the memory plan.
  simdflow conformance [<dir>] [--max-scale K] [--threads N]
      Run every PyTorch conformance case in <dir> (default tests/fixtures/torch); with
      --max-scale K, compile each with its batch and sequence dims symbolic, bounded at K× the
      case's sizes, and run it at the case's sizes; with --threads N, also run it on N threads
      (every split taken) and require the same bits as on one.
  simdflow conformance-onnx [<dir>] [--verbose]
      Run ONNX backend node tests (default tests/fixtures/onnx-node-tests): per test pass, fail or
      unsupported, then counts by tier and by op (--verbose: every test, not only failures).
  simdflow start [<models dir>] [-o <dir>]
      Compile every model in <models dir> (default models) to <dir>/<name>.simdflow, run it and
      print its sizes, latency and error against the reference interpreter.
  simdflow --help

Options:
  -o, --out <dir>           output directory (default: out)
  --weights <file>          a PyTorch state_dict saved as safetensors, loaded by name
  --disable-pass <name>     skip a pass (repeatable); see --list-passes
  --dim <name>=<size>       the size of a symbolic ONNX dimension, or max:<bound>, or
                            min:<least>,max:<bound> (repeatable)
  --isa <isa>               build only this instruction set (repeatable): wasmsimd,
                            wasmrelaxedsimd (default both; the loader picks at run time)
  -q, --quiet               no progress on stderr
`;

/** Creates the output directory before any compile, so a bad -o fails at once and names the option. */
function outputDir(out: string, given: string | undefined): string {
  try { makeDirs(out); } catch (e) {
    throw new Error(`${given === undefined ? 'the output directory' : `-o ${given}`}: cannot create the directory ${out} (${String((e as Error).message).slice(0, 200)})`);
  }
  return out;
}

/** The artifact written to -o, or an error naming -o and the file (was a raw ENOENT, after the compile). */
function writeArtifact(file: string, bytes: Uint8Array, given: string | undefined): void {
  try { writeFileSync(file, bytes); } catch (e) {
    throw new Error(`${given === undefined ? 'the output directory' : `-o ${given}`}: cannot write ${file} (${String((e as Error).message).slice(0, 200)})`);
  }
}

/** An .onnx model file's bytes, or an error naming the file (was a raw ENOENT or EISDIR). */
function readModelFile(file: string): Uint8Array {
  try { return readFileSync(file); } catch (e) {
    const code = (e as { code?: string }).code;
    throw new Error(`${file}: ${code === 'ENOENT' ? 'no such model file' : code === 'EISDIR' ? 'is a directory, not a model file' : `cannot read the model file (${String((e as Error).message).slice(0, 200)})`}`);
  }
}

/**
 * mkdir -p, one level at a time from the nearest directory that exists: Node 20's recursive
 * mkdirSync loops forever where a level cannot be made but its parent exists (-o /proc/x).
 */
function makeDirs(dir: string): void {
  const missing: string[] = [];
  for (let d = dir; !existsSync(d); d = dirname(d)) {
    missing.push(d);
    if (dirname(d) === d) break;
  }
  for (const d of missing.reverse()) {
    try { mkdirSync(d); } catch (e) { if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e; }
  }
  if (!statSync(dir).isDirectory()) throw new Error(`${dir} is not a directory`);
}

/** A mistake in the command line: reported with the usage, exit code 2. */
class UsageError extends Error {}

interface Args { _: string[]; given: string[]; out?: string; weights?: string; disable: string[]; isas: Isa[]; dims: Record<string, number | { max: number; min?: number }>; maxScale?: number; threads?: number; listPasses?: boolean; help?: boolean; quiet?: boolean; verbose?: boolean }

/** Options that take one value (with their other spellings). */
const SINGLE = [['-o', '--out'], ['--weights'], ['--max-scale'], ['--threads']];

function parseArgs(argv: readonly string[]): Args {
  const a: Args = { _: [], given: [], disable: [], isas: [], dims: {} };
  for (let i = 0; i < argv.length; i++) {
    const s = argv[i]!;
    if (s.startsWith('-')) {
      // An option that takes one value, given twice, would drop the first silently.
      const same = SINGLE.find((names) => names.includes(s));
      if (same && a.given.some((g) => same.includes(g))) throw new UsageError(`${s} is given twice`);
      a.given.push(s);
    }
    // An empty value ('' from an unset shell variable) would be dropped: --weights '' compiled the model's initial weights.
    const val = () => { const v = argv[++i]; if (v === undefined || v === '' || v.startsWith('-')) throw new UsageError(`${s} needs a value${v === '' ? ' (got an empty string)' : ''}`); return v; };
    if (s === '-o' || s === '--out') a.out = val();
    else if (s === '--weights') a.weights = val();
    else if (s === '--disable-pass') a.disable.push(val());
    else if (s === '--isa') {
      const v = val();
      if (!ISAS.includes(v as Isa)) throw new UsageError(`--isa must be one of ${ISAS.join(', ')}, not '${v}'`);
      if (a.isas.includes(v as Isa)) throw new UsageError(`--isa ${v} is given twice`); // (it was compiled twice)
      a.isas.push(v as Isa);
    }
    else if (s === '--dim') {
      const v = val(), m = /^([^=]+)=(?:min:([1-9][0-9]*),(?=max:))?(max:)?([1-9][0-9]*)$/.exec(v);
      if (!m) throw new UsageError(`--dim must be NAME=SIZE or NAME=max:BOUND (NAME=min:LEAST,max:BOUND for a size never below LEAST) with positive sizes, not '${v}'`);
      if (Object.hasOwn(a.dims, m[1]!)) throw new UsageError(`--dim ${m[1]} is given twice`);
      a.dims[m[1]!] = m[3] ? { max: Number(m[4]), ...(m[2] ? { min: Number(m[2]) } : {}) } : Number(m[4]);
    }
    else if (s === '--max-scale') {
      const v = val();
      if (!/^[1-9][0-9]{0,3}$/.test(v)) throw new UsageError(`--max-scale must be a positive integer (the bounds are K× each case's sizes), not '${v}'`);
      a.maxScale = Number(v);
    }
    else if (s === '--threads') {
      const v = val();
      const most = kernelConst('MAX_THREADS');
      if (!/^[0-9]{1,2}$/.test(v) || Number(v) < 2 || Number(v) > most) throw new UsageError(`--threads must be a thread count from 2 (compared with one thread) to ${most}, not '${v}'`);
      a.threads = Number(v);
    }
    else if (s === '--verbose') a.verbose = true;
    else if (s === '--list-passes') a.listPasses = true;
    else if (s === '-h' || s === '--help') a.help = true;
    else if (s === '-q' || s === '--quiet') a.quiet = true;
    else if (s.startsWith('-')) throw new UsageError(`unknown option ${s}`);
    else a._.push(s);
  }
  return a;
}

/** The options each command takes (--help goes with any). */
const COMMANDS: Record<string, string[]> = {
  build: ['-o', '--out', '--weights', '--disable-pass', '--isa', '--dim', '-q', '--quiet'],
  ir: ['--weights', '--disable-pass', '--list-passes', '--dim'],
  conformance: ['--isa', '--max-scale', '--threads'],
  'conformance-onnx': ['--isa', '--verbose'],
  start: ['-o', '--out', '--isa', '-q', '--quiet'],
};

/** Progress on stderr: each stage of each model as it starts, with the time since the model began. */
function progress(io: Io, quiet = false): (model: string) => (stage: string) => void {
  return (model) => {
    const t0 = performance.now();
    return (stage) => { if (!quiet) io.stderr.write(`simdflow: ${model}: ${stage} (${((performance.now() - t0) / 1000).toFixed(1)} s)\n`); };
  };
}

async function run(a: Args, io: Io): Promise<number> {
  const [cmd, ...rest] = a._;
  if (a.help) { io.stdout.write(HELP); return 0; }
  if (!cmd) throw new UsageError('no command given');
  const takes = COMMANDS[cmd];
  if (!takes) throw new UsageError(`unknown command '${cmd}'`);
  const stray = a.given.find((o) => !takes.includes(o));
  if (stray) throw new UsageError(`${cmd} does not take ${stray}`);
  if (rest.length > 1) throw new UsageError(`${cmd}: unexpected argument '${rest[1]}'`);
  if ((cmd === 'build' || (cmd === 'ir' && !a.listPasses)) && !rest[0]) throw new UsageError(`${cmd} needs a model file`);
  if (cmd === 'ir' && a.listPasses && (rest[0] || a.given.length > 1)) throw new UsageError(`ir --list-passes takes no model file or other option (got ${rest[0] ? `'${rest[0]}'` : a.given.find((g) => g !== '--list-passes')})`);
  const stages = progress(io, a.quiet);
  const isas = a.isas.length ? { isas: a.isas } : {};
  switch (cmd) {
    case 'build': {
      if (rest[0]!.toLowerCase().endsWith('.onnx')) {
        if (a.weights) throw new UsageError('build: --weights is for DSL models; an .onnx file carries its weights');
        const [{ importOnnx }, { compileGraph }] = await Promise.all([import('../onnx/import.ts'), import('../driver/compile.ts')]);
        const name = basename(rest[0]!).replace(/\.onnx$/i, '');
        const bytes = readModelFile(rest[0]!);
        const out = resolve(a.out ?? 'out');
        outputDir(out, a.out);
        const onStage = stages(name);
        onStage('import');
        const { graph } = importOnnx(bytes, { dims: a.dims, name });
        const c = await compileGraph(graph, { name, disablePasses: a.disable, onStage, ...isas });
        onStage('done');
        const file = resolve(out, `${name}.simdflow`);
        writeArtifact(file, c.bytes, a.out);
        const s = c.manifest.stats;
        io.stdout.write(`${file}: ${c.bytes.length} bytes (code ${JSON.stringify(s.codeBytes)}, weights ${s.weightBytes}, peak arena ${s.peakArenaBytes}) in ${c.compileMs} ms\n`);
        return 0;
      }
      if (Object.keys(a.dims).length) throw new UsageError('build: --dim is for .onnx models');
      const [{ loadDefinition, artifactFile, inModelFile }, { compileModel }] = await Promise.all([import('./load.ts'), import('../driver/compile.ts')]);
      const def = await loadDefinition(rest[0]!, a.weights);
      const out = resolve(a.out ?? 'out');
      const file = artifactFile(out, def, rest[0]!);
      outputDir(out, a.out);
      const onStage = stages(def.name);
      // forward() runs while tracing: its errors (the user's, or a layer's refusing its input) name the line that called.
      const c = await compileModel(def, { disablePasses: a.disable, onStage, ...isas }).catch((e: unknown) => { throw inModelFile(rest[0]!, e, true); });
      onStage('done');
      writeArtifact(file, c.bytes, a.out);
      const s = c.manifest.stats;
      io.stdout.write(`${file}: ${c.bytes.length} bytes (code ${JSON.stringify(s.codeBytes)}, weights ${s.weightBytes}, peak arena ${s.peakArenaBytes}) in ${c.compileMs} ms\n`);
      return 0;
    }
    case 'ir': {
      const [{ PASSES }, { printGraph, printPlan }, { runPasses }, { wasmTarget }] = await Promise.all([import('../passes/registry.ts'), import('../ir/print.ts'), import('../passes/manager.ts'), import('../codegen/target.ts')]);
      if (a.listPasses) { for (const p of PASSES) io.stdout.write(`${p.name.padEnd(20)} ${p.description}\n`); return 0; }
      let g;
      if (rest[0]!.toLowerCase().endsWith('.onnx')) {
        if (a.weights) throw new UsageError('ir: --weights is for DSL models; an .onnx file carries its weights');
        const { importOnnx } = await import('../onnx/import.ts');
        g = importOnnx(readModelFile(rest[0]!), { dims: a.dims }).graph;
      } else {
        if (Object.keys(a.dims).length) throw new UsageError('ir: --dim is for .onnx models');
        const [{ loadDefinition, inModelFile }, { traceModel }] = await Promise.all([import('./load.ts'), import('../dsl/trace.ts')]);
        const def = await loadDefinition(rest[0]!, a.weights);
        try { g = traceModel(def); } catch (e) { throw inModelFile(rest[0]!, e, true); }
      }
      io.stdout.write(`// ${basename(rest[0]!)}: traced\n${printGraph(g)}\n\n`);
      const planned = runPasses(g, { disable: a.disable, target: wasmTarget });
      io.stdout.write(`// after passes${a.disable.length ? ` (disabled: ${a.disable.join(', ')})` : ''}\n${printGraph(planned)}\n\n${printPlan(planned)}\n`);
      return 0;
    }
    case 'conformance': {
      const { caseDirs, runCase } = await import('../conformance/run.ts');
      const dirs = caseDirs(rest[0] ?? 'tests/fixtures/torch');
      const counts = { passed: 0, failed: 0, skipped: 0 };
      for (const d of dirs) {
        const r = await runCase(d, isas, { maxScale: a.maxScale, threads: a.threads });
        counts[r.status]++;
        io.stdout.write(`${r.name.padEnd(28)} ${r.status.padEnd(8)} ${r.detail}\n`);
      }
      io.stdout.write(`${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped\n`);
      return counts.failed ? 1 : 0;
    }
    case 'conformance-onnx': {
      const { runOnnxTests, summarize, tierARate } = await import('../conformance/onnx.ts');
      const dir = rest[0] ?? 'tests/fixtures/onnx-node-tests';
      const results = await runOnnxTests(dir, {
        ...(a.isas[0] ? { isa: a.isas[0] } : {}),
        onResult: (r) => { if (a.verbose || r.status === 'fail') io.stdout.write(`${r.status.padEnd(12)} ${r.name.padEnd(60)} ${r.detail}\n`); },
      });
      io.stdout.write(`\n${summarize(results)}\n`);
      const rate = tierARate(results);
      if (rate !== undefined && rate < 0.9) { io.stderr.write(`simdflow: tier-A f32 pass rate ${(100 * rate).toFixed(1)}% is under the 90% target\n`); return 1; }
      return results.some((r) => r.status === 'fail') ? 1 : 0;
    }
    default: {
      const { runModels } = await import('./start.ts');
      return runModels(rest[0] ?? 'models', () => outputDir(resolve(a.out ?? 'out'), a.out), io, stages, isas);
    }
  }
}

/** Runs the CLI on `argv` (without node and the script); returns the exit code. */
export async function main(argv: readonly string[], io: Io): Promise<number> {
  try {
    return await run(parseArgs(argv), io);
  } catch (e) {
    if (e instanceof UsageError) { io.stderr.write(`simdflow: ${e.message}\n\n${HELP}`); return 2; }
    io.stderr.write(`simdflow: ${(e as Error).message ?? e}\n`);
    return 1;
  }
}
