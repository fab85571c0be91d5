// The kernels' ABIs, described once: in their AssemblyScript source. This reads every
// `export function` signature and `export const NAME: i32 = value` of assembly/*.ts, and
// codegen emits each kernel call by parameter name through `kernelCall`, so a call that
// misses, misspells or adds an argument fails at compile time with the signature in the
// message, never as a wrong pointer inside wasm. Constants (activation codes, RNN modes)
// are read the same way, so they exist only in the kernels.

import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ASSEMBLY_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'assembly');

export interface KernelAbi { fn: string; module: string; params: Array<{ name: string; type: string }> }

let abis: { fns: Map<string, KernelAbi>; consts: Map<string, number> } | undefined;
function read(): NonNullable<typeof abis> {
  if (abis) return abis;
  const fns = new Map<string, KernelAbi>(), consts = new Map<string, number>();
  for (const file of readdirSync(ASSEMBLY_DIR).filter((f) => f.endsWith('.ts')).sort()) {
    const src = readFileSync(join(ASSEMBLY_DIR, file), 'utf8'), module = file.slice(0, -3);
    for (const m of src.matchAll(/export function (\w+)\(([^)]*)\)/g)) {
      const params = m[2]!.split(',').map((p) => p.trim()).filter(Boolean).map((p) => {
        const [name, type] = p.split(':').map((s) => s.trim());
        return { name: name!, type: type ?? '' };
      });
      fns.set(m[1]!, { fn: m[1]!, module, params });
    }
    for (const m of src.matchAll(/export const (\w+): i32 = (-?\d+);/g)) consts.set(m[1]!, Number(m[2]));
  }
  return (abis = { fns, consts });
}

export const kernelAbi = (fn: string): KernelAbi | undefined => read().fns.get(fn);

/** `fn(a, b, …)` with the arguments in the kernel's parameter order; throws on a missing or unknown name. */
export function kernelCall(fn: string, args: Record<string, string | number>): string {
  const abi = kernelAbi(fn);
  if (!abi) throw new Error(`codegen: no kernel '${fn}' is exported by assembly/*.ts`);
  const names = abi.params.map((p) => p.name);
  const missing = names.filter((n) => !(n in args)), unknown = Object.keys(args).filter((k) => !names.includes(k));
  if (missing.length || unknown.length) {
    throw new Error(`codegen: call of ${fn}(${names.join(', ')}) in assembly/${abi.module}.ts: ` +
      [missing.length ? `missing ${missing.join(', ')}` : '', unknown.length ? `unknown ${unknown.join(', ')}` : ''].filter(Boolean).join('; '));
  }
  return `${fn}(${names.map((n) => args[n]).join(', ')})`;
}

/** An `export const NAME: i32` of the kernels (ACT_RELU, RNN_TANH, …). */
export function kernelConst(name: string): number {
  const v = read().consts.get(name);
  if (v === undefined) throw new Error(`codegen: no constant '${name}' is exported by assembly/*.ts`);
  return v;
}

/** `import { … } from "./module"` lines for every kernel function `code` calls. */
export function kernelImports(code: string): string {
  const byModule = new Map<string, string[]>();
  for (const { fn, module } of read().fns.values()) {
    if (new RegExp(`\\b${fn}\\(`).test(code)) byModule.set(module, [...(byModule.get(module) ?? []), fn]);
  }
  return [...byModule].map(([m, fns]) => `import { ${fns.join(', ')} } from "./${m}";`).join('\n');
}
