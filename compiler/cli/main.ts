// simdflow command line: build, ir, conformance, start.

import { setFlagsFromString } from 'node:v8';
// Node 20 validates relaxed-SIMD wasm only behind this flag; the loader then picks that build.
setFlagsFromString('--experimental-wasm-relaxed-simd');

import { mkdirSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { compileModel } from '../codegen/compile.ts';
import { traceModel } from '../dsl/trace.ts';
import { printGraph, printPlan } from '../ir/print.ts';
import { wasmTarget } from '../codegen/target.ts';
import { runPasses } from '../passes/manager.ts';
import { PASSES } from '../passes/registry.ts';
import { caseDirs, runCase } from '../conformance/run.ts';
import { runModels } from './start.ts';
import { loadDefinition } from './load.ts';

const HELP = `simdflow — compile neural networks written in a TypeScript DSL to WebAssembly SIMD

Usage:
  simdflow build <model.ts> [-o <dir>] [--weights <file.safetensors>] [--disable-pass NAME]...
      Compile a model file (its default export is a defineModel(...)) to <dir>/<name>.simdflow.
  simdflow ir <model.ts> [--weights <file>] [--disable-pass NAME]... [--list-passes]
      Print the IR before and after the passes, and the memory plan.
  simdflow conformance [<dir>]
      Run every PyTorch conformance case in <dir> (default tests/fixtures/torch).
  simdflow start [<models dir>]
      Compile and run every model in models/, printing sizes, latency and error.
  simdflow --help

Options:
  -o, --out <dir>           output directory (default: out)
  --weights <file>          a PyTorch state_dict saved as safetensors, loaded by name
  --disable-pass <name>     skip a pass (repeatable); see --list-passes
`;

interface Args { _: string[]; out?: string; weights?: string; disable: string[]; listPasses?: boolean; help?: boolean }

function parseArgs(argv: string[]): Args {
  const a: Args = { _: [], disable: [] };
  for (let i = 0; i < argv.length; i++) {
    const s = argv[i]!;
    const val = () => { const v = argv[++i]; if (v === undefined) throw new Error(`${s} needs a value`); return v; };
    if (s === '-o' || s === '--out') a.out = val();
    else if (s === '--weights') a.weights = val();
    else if (s === '--disable-pass') a.disable.push(val());
    else if (s === '--list-passes') a.listPasses = true;
    else if (s === '-h' || s === '--help') a.help = true;
    else if (s.startsWith('-')) throw new Error(`unknown option ${s}\n\n${HELP}`);
    else a._.push(s);
  }
  return a;
}

async function main(argv: string[]): Promise<number> {
  const a = parseArgs(argv);
  const [cmd, ...rest] = a._;
  if (a.help || !cmd) { process.stdout.write(HELP); return cmd || a.help ? 0 : 1; }
  switch (cmd) {
    case 'build': {
      if (!rest[0]) throw new Error('build needs a model file');
      const def = await loadDefinition(rest[0], a.weights);
      const c = await compileModel(def, { disablePasses: a.disable });
      const out = resolve(a.out ?? 'out');
      mkdirSync(out, { recursive: true });
      const file = join(out, `${def.name}.simdflow`);
      writeFileSync(file, c.bytes);
      const s = c.manifest.stats;
      console.log(`${file}: ${c.bytes.length} bytes (code ${JSON.stringify(s.codeBytes)}, weights ${s.weightBytes}, peak arena ${s.peakArenaBytes}) in ${s.compileMs} ms`);
      return 0;
    }
    case 'ir': {
      if (a.listPasses) { for (const p of PASSES) console.log(`${p.name.padEnd(20)} ${p.description}`); return 0; }
      if (!rest[0]) throw new Error('ir needs a model file');
      const def = await loadDefinition(rest[0], a.weights);
      const g = traceModel(def);
      console.log(`// ${basename(rest[0])}: traced\n${printGraph(g)}\n`);
      const planned = runPasses(g, { disable: a.disable, target: wasmTarget });
      console.log(`// after passes${a.disable.length ? ` (disabled: ${a.disable.join(', ')})` : ''}\n${printGraph(planned)}\n\n${printPlan(planned)}`);
      return 0;
    }
    case 'conformance': {
      const dirs = caseDirs(rest[0] ?? 'tests/fixtures/torch');
      const counts = { passed: 0, failed: 0, skipped: 0 };
      for (const d of dirs) {
        const r = await runCase(d);
        counts[r.status]++;
        console.log(`${r.name.padEnd(28)} ${r.status.padEnd(8)} ${r.detail}`);
      }
      console.log(`${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped`);
      return counts.failed ? 1 : 0;
    }
    case 'start':
      return runModels(rest[0] ?? 'models');
    default:
      throw new Error(`unknown command '${cmd}'\n\n${HELP}`);
  }
}

main(process.argv.slice(2)).then((code) => { process.exitCode = code; }, (e: Error) => {
  console.error(`simdflow: ${e.message}`);
  process.exitCode = 1;
});
