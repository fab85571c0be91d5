// The instruction sets the tests build and run.
//
// HOST_ISAS: every ISA this host runs (relaxed SIMD needs --experimental-wasm-relaxed-simd on
// Node 20, which vitest.config.ts passes to the workers). The kernel tests always cover all of
// them: their builds are shared, so the second ISA costs little.
//
// TEST_ISAS: what the end-to-end tests (compile a model, run it, compare with the reference)
// build. A model's generated source is the same for every ISA; only the kernels it calls differ,
// and those are tested on every ISA. So by default an end-to-end test compiles once, for the
// best ISA (the one the loader picks), and SIMDFLOW_TEST_ISAS chooses otherwise: `all` for every
// host ISA, or a comma list such as `wasmsimd`. .ci/run runs them once more on plain SIMD.
import type { Isa } from '../../runtime/format.ts';
import { hostIsas } from '../../compiler/codegen/host-isas.ts';

const ALL: Isa[] = ['wasmsimd', 'wasmrelaxedsimd'];

export const HOST_ISAS: Isa[] = hostIsas();

export function testIsas(setting = process.env.SIMDFLOW_TEST_ISAS ?? ''): Isa[] {
  if (setting === '' || setting === 'best') return [HOST_ISAS[HOST_ISAS.length - 1]!];
  if (setting === 'all') return HOST_ISAS;
  const isas = setting.split(',').map((s) => s.trim());
  for (const isa of isas) {
    if (!ALL.includes(isa as Isa)) throw new Error(`SIMDFLOW_TEST_ISAS: expected 'best', 'all' or a comma list of ${ALL.join(', ')}, found '${isa}'`);
    if (!HOST_ISAS.includes(isa as Isa)) throw new Error(`SIMDFLOW_TEST_ISAS: this host cannot run ${isa} (it runs ${HOST_ISAS.join(', ')})`);
  }
  return isas as Isa[];
}

export const TEST_ISAS: Isa[] = testIsas();
