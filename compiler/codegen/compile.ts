// The compiler's front door: graph → passes → AssemblyScript → wasm → artifact container.

import type { ModelDefinition } from '../dsl/trace.ts';
import { traceModel } from '../dsl/trace.ts';
import type { Graph, Node } from '../ir/node.ts';
import { runPasses } from '../passes/manager.ts';
import { rootOf } from '../passes/memory-planning.ts';
import { readContainer, writeContainer, type Isa, type Manifest, type TensorInfo } from '../../runtime/format.ts';
import { assemble } from './assemble.ts';
import { emitModule, layoutMemory } from './emit.ts';

export const SIMDFLOW_VERSION = '0.1.0';

export interface CompileOptions {
  name?: string;
  /** Pass names to skip (see `simdflow ir --list-passes`). */
  disablePasses?: readonly string[];
  /** Instruction sets to build; both by default, the loader picks at run time. */
  isas?: readonly Isa[];
}

export interface Compiled {
  bytes: Uint8Array;
  manifest: Manifest;
  /** The graph after passes, as compiled. */
  graph: Graph;
  source: string;
}

/** Integer inputs that index a table (gather) get a valid range the runtime checks. */
function indexRanges(g: Graph): Map<Node, [number, number]> {
  const r = new Map<Node, [number, number]>();
  for (const n of g.nodes) {
    if (n.op !== 'gather') continue;
    const idx = rootOf(n.inputs[1]!), rows = n.inputs[0]!.type.shape[0]!;
    if (idx.op === 'input') r.set(idx, [0, Math.min(rows, r.get(idx)?.[1] ?? rows)]);
  }
  return r;
}

export async function compileGraph(input: Graph, opts: CompileOptions = {}): Promise<Compiled> {
  const t0 = performance.now();
  const g = runPasses(input, { disable: opts.disablePasses ?? [] });
  const layout = layoutMemory(g);
  const source = emitModule([{ export: 'run', graph: g }], () => layout as never);
  const memoryBase = layout.end;
  const pages = Math.ceil((memoryBase + 65536) / 65536);
  const code: Partial<Record<Isa, Uint8Array>> = {};
  for (const isa of opts.isas ?? ['wasmsimd', 'wasmrelaxedsimd']) {
    code[isa] = (await assemble({ sources: { '__model.ts': source }, entry: '__model.ts', isa, memoryBase, initialPages: pages })).wasm;
  }
  const ranges = indexRanges(g);
  const info = (name: string, n: Node): TensorInfo => ({
    name, dtype: n.type.dtype, shape: [...n.type.shape], offset: layout.addr(n), ...(ranges.has(n) ? { range: ranges.get(n)! } : {}),
  });
  const manifest: Omit<Manifest, 'code' | 'weights'> = {
    format: 'simdflow',
    version: SIMDFLOW_VERSION,
    name: opts.name ?? 'model',
    entries: { run: { export: 'run', inputs: g.inputs.map((n) => info(n.label!, n)), outputs: g.outputs.map((o) => info(o.name, o.node)) } },
    state: [],
    memory: {
      pages,
      weights: { offset: layout.weightsOffset, bytes: layout.weights.length },
      state: { offset: layout.stateOffset, bytes: layout.stateBytes },
      arena: { offset: layout.arenaOffset, bytes: layout.arenaBytes },
    },
    stats: {
      compileMs: Math.round(performance.now() - t0),
      codeBytes: Object.fromEntries(Object.entries(code).map(([k, v]) => [k, v.length])),
      weightBytes: layout.weights.length,
      peakArenaBytes: layout.arenaBytes,
    },
  };
  const bytes = writeContainer(manifest, code, layout.weights);
  return { bytes, manifest: readContainer(bytes).manifest, graph: g, source };
}

export async function compileModel(def: ModelDefinition, opts: CompileOptions = {}): Promise<Compiled & { traced: Graph }> {
  const traced = traceModel(def);
  return { ...(await compileGraph(traced, { name: def.name, ...opts })), traced };
}
