// AssemblyScript → wasm, in process. The generated model source lives at a virtual path inside
// assembly/, so its `import ... from "./gemm"` resolve to the hand-written kernels on disk.
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { ASSEMBLY_DIR } from './kernels.ts';

export { ASSEMBLY_DIR };

export type Isa = 'wasmsimd' | 'wasmrelaxedsimd';

export interface AssembleOptions {
  /** Virtual files, by name relative to assembly/ (e.g. `__model.ts`). */
  sources: Record<string, string>;
  /** Entry file name among `sources` or in assembly/. */
  entry: string;
  isa: Isa;
  /** First byte AssemblyScript may use for its own static data; below it the memory is ours. */
  memoryBase: number;
  /** Initial memory in 64 KiB pages. */
  initialPages: number;
  /**
   * Import a shared memory of exactly `initialPages` (env.memory) instead of defining one, so
   * worker threads can run the same module on it (runtime/threads.ts). The runtime clears the
   * import's shared flag where shared memory is unavailable: the code runs unchanged on one thread.
   */
  sharedMemory?: boolean;
}

export interface Assembled { wasm: Uint8Array; ms: number }

/** The toolchain (≈15 MB of JS) loads on first use, so commands that do not compile start fast. */
const toolchain = async () => {
  const [asc, binaryen] = await Promise.all([import('assemblyscript/dist/asc.js'), import('binaryen')]);
  return { asc: asc.default, binaryen: binaryen.default };
};

export async function assemble(o: AssembleOptions): Promise<Assembled> {
  const t0 = performance.now();
  const { asc, binaryen } = await toolchain();
  let wasm: Uint8Array | undefined;
  const errors: string[] = [];
  const args = [
    o.entry, '--outFile', 'out.wasm', '--runtime', 'stub', '--enable', 'simd',
    ...(o.isa === 'wasmrelaxedsimd' ? ['--enable', 'relaxed-simd'] : []),
    '-O3', '--noAssert',
    '--memoryBase', String(o.memoryBase), '--initialMemory', String(o.initialPages),
    ...(o.sharedMemory ? ['--enable', 'threads', '--importMemory', '--sharedMemory', '--maximumMemory', String(o.initialPages)] : []),
  ];
  // asc reports an internal crash with console.error and process.exit(1): make it an exception
  // of this compile (with the crash report) rather than the end of the caller's process.
  const { exit } = process, { error } = console;
  process.exit = ((code?: number) => { throw new Error(`the AssemblyScript compiler crashed (exit ${code ?? 0})`); }) as typeof process.exit;
  console.error = (...a: unknown[]) => { errors.push(a.join(' ')); };
  let result: Awaited<ReturnType<typeof asc.main>>;
  try {
    result = await asc.main(args, {
      readFile: (name: string) => {
        const rel = name.replace(/^\.\//, '');
        if (rel in o.sources) return o.sources[rel]!;
        const p = join(ASSEMBLY_DIR, rel);
        return existsSync(p) ? readFileSync(p, 'utf8') : null;
      },
      writeFile: (name: string, contents: Uint8Array | string) => {
        if (name.endsWith('.wasm') && typeof contents !== 'string') wasm = contents;
      },
      listFiles: () => [],
      stdout: { write: () => true } as never,
      stderr: { write: (s: string | Uint8Array) => { errors.push(String(s)); return true; } } as never,
    });
  } catch (e) {
    throw new Error(`AssemblyScript compilation of ${o.entry} failed: ${(e as Error).message}\n${errors.join('').slice(0, 4000)}`);
  } finally {
    process.exit = exit;
    console.error = error;
  }
  if (result.error || !wasm) {
    throw new Error(`AssemblyScript compilation of ${o.entry} failed:\n${errors.join('')}\n${result.error ?? ''}`);
  }
  return { wasm: finish(binaryen, wasm, o.isa, o.sharedMemory ?? false), ms: performance.now() - t0 };
}

/** A last binaryen round: validate, optimize for speed, drop names. */
function finish(binaryen: typeof import('binaryen').default, bytes: Uint8Array, isa: Isa, threads: boolean): Uint8Array {
  const F = binaryen.Features;
  const m = binaryen.readBinary(bytes);
  m.setFeatures(F.MVP | F.SIMD128 | F.BulkMemory | F.BulkMemoryOpt | F.SignExt | F.MutableGlobals | F.NontrappingFPToInt |
    (isa === 'wasmrelaxedsimd' ? F.RelaxedSIMD : 0) | (threads ? F.Atomics : 0));
  try {
    if (!m.validate()) throw new Error('binaryen rejected the module emitted by asc');
    binaryen.setOptimizeLevel(3);
    binaryen.setShrinkLevel(1);
    m.optimize();
    return m.emitBinary();
  } finally {
    m.dispose();
  }
}
