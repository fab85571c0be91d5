// The instruction sets this JavaScript engine runs. Relaxed SIMD needs
// --experimental-wasm-relaxed-simd on Node 20; a script that turns the flag on at run time
// (v8.setFlagsFromString) must ask after doing so, hence a function rather than a constant.
import type { Isa } from './assemble.ts';

// (func (param v128 v128 v128) (result v128) (f32x4.relaxed_madd (local.get 0) (local.get 1) (local.get 2)))
const RELAXED_MADD = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 8, 1, 96, 3, 123, 123, 123, 1, 123,
  3, 2, 1, 0, 10, 13, 1, 11, 0, 32, 0, 32, 1, 32, 2, 253, 133, 2, 11]);

/** Every ISA this host runs, plain SIMD first. */
export function hostIsas(): Isa[] {
  return WebAssembly.validate(RELAXED_MADD) ? ['wasmsimd', 'wasmrelaxedsimd'] : ['wasmsimd'];
}
