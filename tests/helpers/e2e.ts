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
import { TEST_ISAS } from './isa.ts';

export { HOST_ISAS, TEST_ISAS } from './isa.ts';

export function maxRelErr(got: ArrayLike<number>, want: ArrayLike<number>): number {
  expect(got.length).toBe(want.length);
  let e = 0;
  for (let i = 0; i < want.length; i++) {
    const d = Math.abs(got[i]! - want[i]!) / (1 + Math.abs(want[i]!));
    if (!(d <= e)) e = d; // NaN propagates as a failure
  }
  return e;
}

export interface E2E {
  graph: Graph;
  /** The outputs on the first of TEST_ISAS (every tested ISA agreed with the reference). */
  outputs: Outputs;
  byIsa: Partial<Record<Isa, Outputs>>;
  reference: Record<string, ArrayLike<number>>;
  source: string;
}

/** Compiles for TEST_ISAS, runs, and asserts agreement with the reference within `tol`. */
export async function checkGraph(g: Graph, opts: CompileOptions & { tol?: number; seed?: number } = {}): Promise<E2E> {
  const c = await compileGraph(g, { ...opts, isas: TEST_ISAS });
  const feeds = exampleFeeds(c.manifest.entries.run!.inputs, opts.seed ?? 11);
  const reference = interpret(g, feeds as never);
  const byIsa: Partial<Record<Isa, Outputs>> = {};
  for (const isa of TEST_ISAS) {
    const m = await loadModelBytes(c.bytes, { isa });
    const outputs = byIsa[isa] = m.run(feeds);
    for (const [k, want] of Object.entries(reference)) {
      const err = maxRelErr(outputs[k]!, want);
      if (!(err <= (opts.tol ?? 2e-5))) throw new Error(`${isa} output ${k}: max rel err ${err} > ${opts.tol ?? 2e-5}\n${c.source}`);
    }
  }
  return { graph: c.graph, outputs: byIsa[TEST_ISAS[0]!]!, byIsa, reference, source: c.source };
}

export const traced = (fn: (x: Record<string, Tensor>) => TraceResult, inputs: InputSpecs): Graph => trace(fn, inputs);
