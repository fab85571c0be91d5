// End-to-end check of a model: compile, load, run on seeded inputs, and compare with the
// reference interpreter on the traced (unoptimised) graph.
import { expect } from 'vitest';
import { compileEntries, compileGraph, type Compiled, type CompileOptions } from '../../compiler/driver/compile.ts';
import { trace, type InputSpecs, type TraceResult } from '../../compiler/dsl/trace.ts';
import type { Tensor } from '../../compiler/dsl/tensor.ts';
import type { Graph } from '../../compiler/ir/node.ts';
import { interpret } from '../../compiler/reference/interpret.ts';
import { exampleFeeds, feedData } from '../../compiler/cli/start.ts';
import { loadModelBytes, type Model, type Outputs } from '../../runtime/model.ts';
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

export interface CheckOptions { tol?: number; seed?: number }

/** Compiles for TEST_ISAS, runs, and asserts agreement with the reference within `tol`. */
export async function checkGraph(g: Graph, opts: CompileOptions & CheckOptions = {}): Promise<E2E> {
  const c = await compileGraph(g, { ...opts, isas: TEST_ISAS });
  return checkEntry(c, 'run', g, opts, (isa) => loadModelBytes(c.bytes, { isa }));
}

async function checkEntry(c: Compiled, entry: string, g: Graph, opts: CheckOptions, load: (isa: Isa) => Promise<Model>): Promise<E2E> {
  const feeds = exampleFeeds(c.manifest.entries[entry]!.inputs, opts.seed ?? 11);
  const reference = interpret(g, feedData(feeds));
  const byIsa: Partial<Record<Isa, Outputs>> = {};
  for (const isa of TEST_ISAS) {
    const outputs = byIsa[isa] = (await load(isa)).call(entry, feeds);
    for (const [k, want] of Object.entries(reference)) {
      const err = maxRelErr(outputs[k]!, want);
      if (!(err <= (opts.tol ?? 2e-5))) throw new Error(`${isa} output ${k}: max rel err ${err} > ${opts.tol ?? 2e-5}\n${c.source}`);
    }
  }
  return { graph: c.graphs[entry]!, outputs: byIsa[TEST_ISAS[0]!]!, byIsa, reference, source: c.source };
}

/**
 * Graphs checked as the entries of one compiled module: one asc run for the whole batch instead
 * of one per graph (an asc run costs ~0.3 s of CPU before any graph; a small graph adds little).
 * Graphs are added while the tests are collected, and the first check compiles them all. A graph
 * that fails in the batch, or a batch that does not compile, is checked again alone, so each test
 * reports its own graph's error.
 */
export class Batch {
  private readonly graphs: Array<{ make: () => Graph; opts: CheckOptions }> = [];
  private built: Promise<{ traced: Array<Graph | Error>; compiled: Compiled | Error; models: Map<Isa, Promise<Model>> }> | undefined;
  constructor(private readonly opts: CompileOptions = {}) {}

  /** Adds a graph (traced when the batch is built); the returned function checks it as checkGraph does. */
  add(make: () => Graph, opts: CheckOptions = {}): () => Promise<E2E> {
    if (this.built) throw new Error('Batch.add: the batch is already compiled; add graphs while collecting tests');
    const i = this.graphs.length;
    this.graphs.push({ make, opts });
    return () => this.check(i);
  }

  private async build() {
    const traced = this.graphs.map(({ make }) => { try { return make(); } catch (e) { return e as Error; } });
    const entries = traced.flatMap((graph, i) => (graph instanceof Error ? [] : [{ name: `g${i}`, graph }]));
    const compiled = await compileEntries(entries, [], { ...this.opts, isas: TEST_ISAS }).catch((e: Error) => e);
    return { traced, compiled, models: new Map<Isa, Promise<Model>>() };
  }

  private async check(i: number): Promise<E2E> {
    const { traced, compiled, models } = await (this.built ??= this.build());
    const g = traced[i]!, opts = { ...this.opts, ...this.graphs[i]!.opts };
    if (g instanceof Error) throw g;
    if (compiled instanceof Error) {
      await checkGraph(g, opts); // fails with this graph's own error
      throw new Error(`the batch of ${traced.length} graphs does not compile, though this one does alone: ${compiled.message}`);
    }
    const load = (isa: Isa) => {
      if (!models.has(isa)) models.set(isa, loadModelBytes(compiled.bytes, { isa }));
      return models.get(isa)!;
    };
    try {
      return await checkEntry(compiled, `g${i}`, g, opts, load);
    } catch (e) {
      await checkGraph(g, opts); // fails with this graph's own error and source
      throw new Error(`fails only when compiled with the other graphs of its batch (passes alone): ${(e as Error).message.split('\n')[0]}`);
    }
  }
}

/**
 * One Batch per compile configuration (e.g. with and without the optional passes): the returned
 * function adds a graph to every batch and gives a check of it under each configuration.
 */
export function batches<K extends string>(configs: Record<K, CompileOptions>): (make: () => Graph, opts?: CheckOptions) => () => Promise<Record<K, E2E>> {
  const all = Object.entries<CompileOptions>(configs).map(([k, o]) => [k as K, new Batch(o)] as const);
  return (make, opts = {}) => {
    let g: Graph | undefined;
    const once = () => (g ??= make());
    const checks = all.map(([k, b]) => [k, b.add(once, opts)] as const);
    return async () => {
      const r = {} as Record<K, E2E>;
      for (const [k, check] of checks) r[k] = await check();
      return r;
    };
  };
}

export const traced = (fn: (x: Record<string, Tensor>) => TraceResult, inputs: InputSpecs): Graph => trace(fn, inputs);
