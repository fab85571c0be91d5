import { trace, type InputSpecs, type TraceResult } from '../../compiler/dsl/trace.ts';
import type { Tensor } from '../../compiler/dsl/tensor.ts';
import type { Graph } from '../../compiler/ir/node.ts';
import { printGraph } from '../../compiler/ir/print.ts';
import { verify } from '../../compiler/ir/verify.ts';
import type { Pass } from '../../compiler/passes/pass.ts';
import { interpret } from '../../compiler/reference/interpret.ts';
import { cloneGraph } from '../../compiler/ir/node.ts';
import { rng } from '../../compiler/dsl/module.ts';
import { allocData } from '../../compiler/ir/types.ts';

export const tiny = (fn: (x: Record<string, Tensor>) => TraceResult, inputs: InputSpecs): Graph => trace(fn, inputs);

/** Runs one pass on a copy; returns the IR text before and after and checks semantics are kept. */
export function applyPass(pass: Pass, g: Graph): { before: string; after: string; graph: Graph } {
  const before = printGraph(g);
  const out = pass.run(cloneGraph(g));
  verify(out);
  // The pass must not change what the graph computes (checked with the reference interpreter).
  const r = rng(3);
  // f32 in [−1, 1); i32 over the whole range (sums and products wrap); bool 0 or 1.
  const draw = { f32: () => r() * 2 - 1, i32: () => Math.floor(r() * 2 ** 32) - 2 ** 31, bool: () => (r() < 0.5 ? 1 : 0) };
  const feeds = Object.fromEntries(g.inputs.map((i) => [i.label!, allocData(i.type).map(draw[i.type.dtype])]));
  const a = interpret(g, feeds), b = interpret(out, feeds);
  for (const k of Object.keys(a)) {
    a[k]!.forEach((v, i) => { if (Math.abs(v - b[k]![i]!) > 1e-6 * (1 + Math.abs(v))) throw new Error(`${pass.name} changed output ${k}[${i}]: ${v} → ${b[k]![i]}`); });
  }
  return { before, after: printGraph(out), graph: out };
}

export const f32 = (...v: number[]) => Float32Array.from(v);
