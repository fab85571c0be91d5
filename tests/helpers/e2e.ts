// End-to-end check of a model: compile, load, run on seeded inputs, and compare with the
// reference interpreter on the traced (unoptimised) graph.
import { expect } from 'vitest';
import { compileGraph, type CompileOptions } from '../../compiler/codegen/compile.ts';
import { trace, type InputSpecs, type TraceResult } from '../../compiler/dsl/trace.ts';
import type { Tensor } from '../../compiler/dsl/tensor.ts';
import type { Graph } from '../../compiler/ir/node.ts';
import { interpret } from '../../compiler/reference/interpret.ts';
import { exampleFeeds } from '../../compiler/cli/start.ts';
import { loadModelBytes, type Outputs } from '../../runtime/model.ts';
import type { Isa } from '../../runtime/format.ts';

/** The instruction sets this host can run (relaxed SIMD needs a flag on Node 20). */
export const HOST_ISAS: Isa[] = (() => {
  // (func (result v128) (f32x4.relaxed_madd (v128.const 0) (v128.const 0) (v128.const 0)))
  const relaxed = new Uint8Array([0,97,115,109,1,0,0,0,1,5,1,96,0,1,123,3,2,1,0,10,61,1,59,0,253,12,...new Array(16).fill(0),253,12,...new Array(16).fill(0),253,12,...new Array(16).fill(0),253,133,2,11]);
  try { return WebAssembly.validate(relaxed) ? ['wasmsimd', 'wasmrelaxedsimd'] : ['wasmsimd']; } catch { return ['wasmsimd']; }
})();

export function maxRelErr(got: ArrayLike<number>, want: ArrayLike<number>): number {
  expect(got.length).toBe(want.length);
  let e = 0;
  for (let i = 0; i < want.length; i++) {
    const d = Math.abs(got[i]! - want[i]!) / (1 + Math.abs(want[i]!));
    if (!(d <= e)) e = d; // NaN propagates as a failure
  }
  return e;
}

export interface E2E { graph: Graph; outputs: Record<Isa, Outputs>; reference: Record<string, ArrayLike<number>>; source: string; codeBytes: number }

/** Compiles for every host ISA, runs, and asserts agreement with the reference within `tol`. */
export async function checkGraph(g: Graph, opts: CompileOptions & { tol?: number; seed?: number } = {}): Promise<E2E> {
  const c = await compileGraph(g, { ...opts, isas: HOST_ISAS });
  const feeds = exampleFeeds(c.manifest.entries.run!.inputs, opts.seed ?? 11);
  const reference = interpret(g, feeds as never);
  const outputs = {} as Record<Isa, Outputs>;
  for (const isa of HOST_ISAS) {
    const m = await loadModelBytes(c.bytes, { isa });
    outputs[isa] = m.run(feeds);
    for (const [k, want] of Object.entries(reference)) {
      const err = maxRelErr(outputs[isa][k]!, want);
      if (!(err <= (opts.tol ?? 2e-5))) throw new Error(`${isa} output ${k}: max rel err ${err} > ${opts.tol ?? 2e-5}\n${c.source}`);
    }
  }
  return { graph: c.graph, outputs, reference, source: c.source, codeBytes: c.manifest.stats.codeBytes.wasmsimd ?? 0 };
}

export const traced = (fn: (x: Record<string, Tensor>) => TraceResult, inputs: InputSpecs): Graph => trace(fn, inputs);
