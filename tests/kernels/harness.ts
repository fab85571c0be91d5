// Test harness for the hand-written kernels: builds one wasm exporting every kernel in assembly/
// (once per ISA per worker: vitest.config.ts shares modules between the test files of a worker),
// instantiates it, and provides a bump allocator over its memory. Every ISA the host runs is
// tested (see tests/helpers/isa.ts).
import { existsSync } from 'node:fs';
import { assemble, ASSEMBLY_DIR, type Isa } from '../../compiler/codegen/assemble.ts';
import { HOST_ISAS } from '../helpers/isa.ts';
import { TOPK_INSERTION_SRC } from './topk-insertion.ts';

export const ISAS: Isa[] = HOST_ISAS;

/** Tensors live below MEMORY_BASE; AssemblyScript's static data (matmul's panel scratch) above. */
export const MEMORY_BASE = 48 << 20;
const INITIAL_PAGES = (MEMORY_BASE >> 16) + 16;

const MATH_FNS = ['exp', 'tanh', 'sigmoid', 'erf', 'gelu', 'sin', 'cos', 'tan', 'asin', 'acos', 'atan', 'sinh', 'cosh', 'asinh', 'acosh', 'atanh'];
// Exported array wrappers around the @inline math helpers (v128 cannot cross into JS): the vector
// body handles groups of 4, the scalar form the tail, exactly as a kernel would.
const MATH_WRAPPERS = MATH_FNS.map((f) => `
export function t_${f}(x: usize, y: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) v128.store(y + (<usize>i << 2), ${f}_f32x4(v128.load(x + (<usize>i << 2))));
  for (; i < n; i++) store<f32>(y + (<usize>i << 2), ${f}_f32(load<f32>(x + (<usize>i << 2))));
}`).join('\n');

const ENTRY = `
export * from "./act";
export * from "./gemm";
export * from "./matmul";
export * from "./conv";
export * from "./pool";
export * from "./softmax";
export * from "./reduce";
export * from "./layernorm";
export * from "./topk";
import { ${MATH_FNS.map((f) => `${f}_f32x4, ${f}_f32`).join(', ')}, act_f32x4, act_f32 } from "./math";
${MATH_WRAPPERS}
export function t_act(x: usize, y: usize, n: i32, act: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) v128.store(y + (<usize>i << 2), act_f32x4(v128.load(x + (<usize>i << 2)), act));
  for (; i < n; i++) store<f32>(y + (<usize>i << 2), act_f32(load<f32>(x + (<usize>i << 2)), act));
}
`;

// Kernel families not written yet are skipped so the harness works while the library grows.
function entrySource(): string {
  return ENTRY.split('\n').filter((line) => {
    const m = /^export \* from "\.\/(\w+)";$/.exec(line);
    return !m || existsSync(`${ASSEMBLY_DIR}/${m[1]}.ts`);
  }).join('\n') + '\nexport * from "./__topk_insertion";\n';
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type KernelFn = (...args: number[]) => any;

export class Kernels {
  readonly f32: Float32Array;
  readonly i32: Int32Array;
  private top = 64;            // address 0 stays unused: 0 means "no pointer" in the ABI
  constructor(readonly isa: Isa, readonly exports: Record<string, KernelFn>, readonly memory: WebAssembly.Memory) {
    this.f32 = new Float32Array(memory.buffer);
    this.i32 = new Int32Array(memory.buffer);
  }
  fn(name: string): KernelFn {
    const f = this.exports[name];
    if (typeof f !== 'function') throw new Error(`kernel wasm (${this.isa}) has no export ${name}`);
    return f;
  }
  /** Frees everything allocated so far. */
  reset(): void { this.top = 64; }
  /** Allocates n floats at a 16-byte boundary + misalign bytes (a multiple of 4), zero-filled. */
  alloc(n: number, misalign = 0): number {
    const p = ((this.top + 15) & ~15) + misalign;
    this.top = p + Math.max(n, 1) * 4 + 64;      // gap so an overrun lands in a canary, not a neighbour
    if (this.top > MEMORY_BASE) throw new Error(`test allocator: ${this.top} bytes exceeds MEMORY_BASE ${MEMORY_BASE}`);
    this.f32.fill(0, p >> 2, (p >> 2) + n);
    return p;
  }
  /** Allocates and fills with `data`. */
  put(data: Float32Array | number[], misalign = 0): number {
    const p = this.alloc(data.length, misalign);
    this.f32.set(data, p >> 2);
    return p;
  }
  get(p: number, n: number): Float32Array { return this.f32.slice(p >> 2, (p >> 2) + n); }
  getI32(p: number, n: number): Int32Array { return this.i32.slice(p >> 2, (p >> 2) + n); }
}

const cache = new Map<Isa, Promise<Kernels>>();

/** The kernel module for `isa`, built once per worker. */
export function kernels(isa: Isa): Promise<Kernels> {
  let k = cache.get(isa);
  if (!k) {
    k = (async () => {
      const { wasm } = await assemble({ sources: { '__kernels_test.ts': entrySource(), '__topk_insertion.ts': TOPK_INSERTION_SRC }, entry: '__kernels_test.ts',
        isa, memoryBase: MEMORY_BASE, initialPages: INITIAL_PAGES });
      const instance = await WebAssembly.instantiate(await WebAssembly.compile(wasm as Uint8Array<ArrayBuffer>));
      const ex = instance.exports as Record<string, unknown>;
      return new Kernels(isa, ex as Record<string, KernelFn>, ex.memory as WebAssembly.Memory);
    })();
    cache.set(isa, k);
  }
  return k;
}

/** Deterministic uniform floats in [lo, hi) (mulberry32). */
export function randomF32(n: number, seed: number, lo = -1, hi = 1): Float32Array {
  let s = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = lo + (hi - lo) * (((t ^ (t >>> 14)) >>> 0) / 4294967296);
  }
  return out;
}

/**
 * Compares got against the f64 oracle: |got − want| ≤ atol + rtol·scale[i], where scale is the
 * magnitude the rounding error grows with (e.g. Σ|a·b| for a dot product; |want| if omitted).
 * Returns a description of the first few mismatches, or '' when all match.
 */
export function mismatches(got: ArrayLike<number>, want: ArrayLike<number>, rtol: number, atol: number,
                           scale?: ArrayLike<number>, label = ''): string {
  if (got.length !== want.length) return `${label}: length ${got.length}, expected ${want.length}`;
  const bad: string[] = [];
  let count = 0;
  for (let i = 0; i < got.length; i++) {
    const g = got[i]!, w = want[i]!;
    const tol = atol + rtol * Math.abs(scale ? scale[i]! : w);
    const ok = Number.isNaN(w) ? Number.isNaN(g) : (g === w || Math.abs(g - w) <= tol);
    if (!ok) { count++; if (bad.length < 5) bad.push(`[${i}] got ${g}, want ${w} (tol ${tol.toExponential(2)})`); }
  }
  return count ? `${label}: ${count}/${got.length} mismatches: ${bad.join('; ')}` : '';
}
