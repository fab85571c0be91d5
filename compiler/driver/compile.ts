// The compiler's front door: entry graphs → passes → one AssemblyScript module → wasm per
// instruction set → artifact container.

import type { ModelDefinition } from '../dsl/trace.ts';
import { traceEntries } from '../dsl/trace.ts';
import { ModelDefinitionError } from '../dsl/tensor.ts';
import { withEmptyEdges, type EmptyEdge, type Graph, type Node } from '../ir/node.ts';
import { byteSize, type DType } from '../ir/types.ts';
import { runPasses } from '../passes/manager.ts';
import { rootOf } from '../ir/effects.ts';
import { fixedRows, gatherRange, type GatherAttrs } from '../ir/ops/shape.ts';
import { isView } from '../ir/ops.ts';
import { graphLeast, graphSizes } from '../ir/symbolic.ts';
import { validateManifest } from '../../runtime/validate.ts';
import { readContainer, writeContainer, type GenerationInfo, type Isa, type Manifest, type TensorInfo } from '../../runtime/format.ts';
import { assemble } from '../codegen/assemble.ts';
import { emitModule } from '../codegen/emit.ts';
import { wasmTarget } from '../codegen/target.ts';
import { layoutMemory, type Layout, type StateSpec } from '../codegen/layout.ts';
import { kernelConst } from '../codegen/kernels.ts';

export const SIMDFLOW_VERSION = '0.1.0';

/**
 * Reports a stage to onStage, awaited: an async onStage that threw left a rejection no one
 * handled (Node ends the process on one); now it is the compile's.
 */
async function stage(opts: { onStage?: (stage: string) => unknown }, name: string): Promise<void> {
  await opts.onStage?.(name);
}

export interface CompileOptions {
  name?: string;
  /** Pass names to skip (see `simdflow ir --list-passes`). */
  disablePasses?: readonly string[];
  /** Instruction sets to build; both by default, the loader picks at run time. */
  isas?: readonly Isa[];
  /** Attention: the cost model's choice (default), or force fused or decomposed. */
  attention?: 'auto' | 'fused' | 'unfused';
  /** Called as each stage starts (`trace`, `passes`, `emit`, `asc+binaryen <isa>`), e.g. to show progress. */
  onStage?: (stage: string) => void;
}

export interface Compiled {
  bytes: Uint8Array;
  manifest: Manifest;
  /** The graphs after passes, as compiled, by entry. */
  graphs: Record<string, Graph>;
  /** The `run` entry after passes. */
  graph: Graph;
  source: string;
  /** Wall time of this compile (kept out of the artifact, which is reproducible). */
  compileMs: number;
}

export interface Entry { name: string; graph: Graph }

/** Integer inputs that index a table of fixed rows (gather) get a valid range the runtime checks. */
function indexRanges(g: Graph): Map<Node, [number, number]> {
  const r = new Map<Node, [number, number]>();
  for (const n of g.nodes) {
    if (n.op !== 'gather') continue;
    const idx = rootOf(n.inputs[1]!), rows = fixedRows(n.inputs[0]!.type);
    if (idx.op !== 'input' || rows === undefined) continue;
    // An input that indexes several tables: the indices all of them accept.
    const [lo, hi] = gatherRange(rows, n.attrs as GatherAttrs), was = r.get(idx);
    r.set(idx, was ? [Math.max(lo, was[0]), Math.min(hi, was[1])] : [lo, hi]);
  }
  return r;
}

/**
 * The state tensors entry g writes while it runs (a node planned into one: a KV cache's
 * cache_write), rather than copies in when it ends: a trap after such a write leaves it changed.
 */
function stateWrittenInPlace(g: Graph, l: Layout, state: readonly StateSpec[], at: ReadonlyMap<string, number>): string[] {
  const out = new Set<string>();
  for (const n of g.nodes) {
    if (n.op === 'input' || n.op === 'state' || n.op === 'const' || isView(n.op)) continue;
    const a = l.addr(n), e = a + byteSize(n.type);
    for (const s of state) {
      const o = at.get(s.name)!;
      if (a < o + byteSize(s.type) && o < e) out.add(s.name);
    }
  }
  return [...out];
}

/**
 * An entry's inputs and outputs as the manifest lists them; `empty`, the traced graph's zero-size
 * ones (passes need not keep them), go in at their positions with no bytes, at the arena's start.
 */
function entryInfo(g: Graph, name: string, l: Layout, inPlace: string[], empty: Graph['empty'], arena: number, declared: Readonly<Record<string, [number, number]>> = {}): Manifest['entries'][string] {
  const ranges = indexRanges(g);
  // A range the definition implies (the generation's sequence input picks one of `batch` rows, however
  // the entry reads it: a gather, or dynamicSlice/dynamicUpdate of state rows, which clamp), with any
  // a gather gives.
  for (const n of g.inputs) {
    const d = Object.hasOwn(declared, n.label!) ? declared[n.label!] : undefined, was = ranges.get(n);
    if (d) ranges.set(n, was ? [Math.max(d[0], was[0]), Math.min(d[1], was[1])] : d);
  }
  const info = (tname: string, n: Node): TensorInfo => ({
    name: tname, dtype: n.type.dtype, shape: [...n.type.shape], ...(n.type.dims ? { dims: [...n.type.dims] } : {}), offset: l.addr(n), ...(ranges.has(n) ? { range: ranges.get(n)! } : {}),
  });
  const sizes = graphSizes(g), min = graphLeast(g);
  const output = (o: Graph['outputs'][number]): TensorInfo => ({ ...info(o.name, o.node), ...(rootOf(o.node).op === 'const' ? { constant: true as const } : {}) });
  const none = (e: EmptyEdge): TensorInfo => ({ name: e.name, dtype: e.dtype, shape: [...e.shape], offset: arena });
  const inputs = withEmptyEdges(g.inputs.map((n) => info(n.label!, n)), empty?.inputs, none), outputs = withEmptyEdges(g.outputs.map(output), empty?.outputs, none);
  return { export: exportName(name), inputs, outputs, ...(Object.keys(sizes).length ? { sizes } : {}), ...(Object.keys(min).length ? { min } : {}), ...(inPlace.length ? { stateInPlace: inPlace } : {}) };
}

/** The wasm function of an entry: prefixed, so no entry name can collide with `memory`, a builtin or a kernel. */
const exportName = (entry: string) => `entry_${entry}`;

/** wasm32 addresses 4 GiB, less AssemblyScript's static data and a spare page above our layout. */
const WASM32_BYTES = 2 ** 32 - 2 * 65536;

/** Refuses a model that cannot fit wasm32 memory before asc fails on an address, naming the largest tensor. */
function checkWasm32(name: string, graphs: Graph[], needed?: { end: number; weights: number; state: number; arena: number }): void {
  let constants = 0, big: Node | undefined;
  for (const g of graphs) for (const n of g.nodes) {
    if (n.op === 'const') constants += byteSize(n.type);
    if (!big || byteSize(n.type) > byteSize(big.type)) big = n;
  }
  const total = needed?.end ?? Math.max(constants, big ? byteSize(big.type) : 0);
  if (total <= WASM32_BYTES) return;
  const largest = big ? `; the largest tensor is ${big.op}${big.label ? ` '${big.label}'` : ''} ${big.type.dtype}[${big.type.shape.join(', ')}] (${byteSize(big.type)} bytes)` : '';
  const parts = needed ? ` (weights ${needed.weights}, state ${needed.state}, activations ${needed.arena})` : '';
  throw new Error(`model '${name}' needs at least ${total} bytes of memory${parts}; wasm32 allows 4 GiB${largest}`);
}

/** The manifest holds tensors of at most 8 dims (runtime/validate.ts): name the one that has more, before the passes and asc (was a manifest error after the whole compile). */
function checkRanks(name: string, entries: Entry[], state: StateSpec[]): void {
  const over = (what: string, shape: readonly number[]) => {
    if (shape.length > 8) throw new Error(`model '${name}': ${what} has ${shape.length} dims [${shape.join(', ')}]; an artifact's inputs, outputs and state have at most 8`);
  };
  for (const e of entries) {
    for (const n of e.graph.inputs) over(`entry '${e.name}' input '${n.label}'`, n.type.shape);
    for (const o of e.graph.outputs) over(`entry '${e.name}' output '${o.name}'`, o.node.type.shape);
  }
  for (const s of state) over(`state '${s.name}'`, s.type.shape);
}

export async function compileEntries(entries: Entry[], state: StateSpec[], opts: CompileOptions & { generation?: GenerationInfo } = {}): Promise<Compiled> {
  const t0 = performance.now();
  checkRanks(opts.name ?? 'model', entries, state);
  await stage(opts, 'passes');
  const graphs = entries.map((e) => ({ name: e.name, graph: runPasses(e.graph, { disable: opts.disablePasses ?? [], attention: opts.attention, target: wasmTarget }), empty: e.graph.empty }));
  checkWasm32(opts.name ?? 'model', graphs.map((e) => e.graph));
  const mem = layoutMemory(graphs.map((e) => e.graph), state);
  checkWasm32(opts.name ?? 'model', graphs.map((e) => e.graph), { end: mem.end, weights: mem.weights.length, state: mem.stateBytes, arena: mem.arenaBytes });
  const layouts = new Map(graphs.map((e) => [e.graph, mem.forGraph(e.graph)]));
  await stage(opts, 'emit');
  const { source, parallel } = emitModule(graphs.map((e) => ({ export: exportName(e.name), graph: e.graph })), (g) => layouts.get(g)!, mem.syncOffset);
  const pages = Math.ceil((mem.end + 65536) / 65536);
  const manifest: Omit<Manifest, 'code' | 'weights'> = {
    format: 'simdflow',
    version: SIMDFLOW_VERSION,
    name: opts.name ?? 'model',
    entries: Object.fromEntries(graphs.map((e) => {
      const gen = opts.generation, declared = gen?.sequence !== undefined && e.name === gen.prefill && (gen.batch ?? 1) > 1 ? { [gen.sequence]: [0, gen.batch!] as [number, number] } : {};
      const l = layouts.get(e.graph)!, info = entryInfo(e.graph, e.name, l, stateWrittenInPlace(e.graph, l, state, mem.stateAt), e.empty, mem.arenaOffset, declared), par = parallel.get(info.export);
      return [e.name, par === undefined ? info : { ...info, parallel: par.id }];
    })),
    state: state.map((s) => ({ name: s.name, dtype: s.type.dtype, shape: [...s.type.shape], offset: mem.stateAt.get(s.name)! })),
    ...(opts.generation ? { generation: opts.generation } : {}),
    ...(parallel.size ? { threads: { sync: { offset: mem.syncOffset, bytes: kernelConst('SYNC_BYTES') }, max: kernelConst('MAX_THREADS') } } : {}),
    memory: {
      pages,
      weights: { offset: mem.weightsOffset, bytes: mem.weights.length },
      state: { offset: mem.stateOffset, bytes: mem.stateBytes },
      arena: { offset: mem.arenaOffset, bytes: mem.arenaBytes },
    },
    stats: {
      codeBytes: {},
      weightBytes: mem.weights.length,
      peakArenaBytes: mem.arenaBytes,
    },
  };
  // A generation that does not fit the entries (defineModel's own, not defineGPT's) failed only
  // after the whole compile, as the loader's manifest check: it is the definition's error, checked first.
  if (opts.generation) {
    try { validateManifest({ ...manifest, code: { wasmsimd: { offset: 0, length: 0, checksum: '0'.repeat(32) } }, weights: { offset: 0, length: mem.weights.length, checksum: '0'.repeat(32) } }); } catch (e) {
      const msg = String((e as Error).message);
      if (msg.startsWith('invalid simdflow manifest: generation')) throw new ModelDefinitionError(`model '${manifest.name}': its generation does not describe its entries: ${msg.slice('invalid simdflow manifest: '.length)}`);
    }
    // The runtime pads a short chunk for a fixed-size prefill; near the end of the cache the padding
    // passes its capacity (and the positions' table), so a prefill of tokens that fit trapped. With
    // one sequence the runtime feeds those through decode; a batch's decode moves every sequence.
    const g = opts.generation, tokens = manifest.entries[g.prefill]?.inputs.find((t) => t.name === g.tokens);
    if ((g.batch ?? 1) > 1 && g.chunk > 1 && tokens && !tokens.dims) {
      throw new ModelDefinitionError(`model '${manifest.name}': generation with batch ${g.batch} needs a prefill entry '${g.prefill}' whose '${g.tokens}' take any number of tokens up to the chunk, { shape: [1, 'T'], dtype: 'i32', max: { T: ${g.chunk} } }; they are fixed [${tokens.shape.join(', ')}], which the runtime pads, and the padding of a short chunk near the end of the cache passes its capacity`);
    }
    // reset(seq) and the runtime clear and address a sequence's rows along dim 0 of every state
    // tensor: an LSTM's h [layers, B, H] (sequences along dim 1) had reset(0) zero layer 0 of every
    // sequence, silently. Refuse state not batch first, and a prefill that picks the sequence elsewhere.
    if ((g.batch ?? 1) > 1) {
      const B = g.batch!, notFirst = manifest.state.find((t) => t.shape[0] !== B);
      const batchFirst = (name: string, shape: readonly number[], axis: number) => `a batched language model holds its ${B} sequences first in every state tensor (reset(seq) clears, and the runtime addresses, a sequence's rows along dim 0): make '${name}' [${[B, ...shape.filter((_, i) => i !== axis)].join(', ')}] and move the axis in the entries (transpose)`;
      if (notFirst) throw new ModelDefinitionError(`model '${manifest.name}': state '${notFirst.name}' [${notFirst.shape.join(', ')}] does not hold the ${B} sequences in dim 0; ${batchFirst(notFirst.name, notFirst.shape, notFirst.shape.indexOf(B))}`);
      for (const n of entries.find((x) => x.name === g.prefill)?.graph.nodes ?? []) {
        if (n.op !== 'dynamic_update' && n.op !== 'dynamic_slice') continue;
        const data = rootOf(n.inputs[0]!), index = rootOf(n.inputs[n.op === 'dynamic_update' ? 2 : 1]!), axis = (n.attrs as { axis: number }).axis;
        if (data.op === 'state' && index.op === 'input' && index.label === g.sequence && axis !== 0) {
          throw new ModelDefinitionError(`model '${manifest.name}': entry '${g.prefill}' picks sequence '${g.sequence}' along dim ${axis} of state '${data.label}' [${data.type.shape.join(', ')}]; ${batchFirst(data.label!, data.type.shape, axis)}`);
        }
      }
    }
    // A cache shorter than generation.capacity let the runtime accept tokens the cache cannot hold:
    // the call trapped ('position 6 + 1 new keys do not fit its 6 positions') with the cache partly written.
    for (const e of entries.filter((x) => x.name === g.prefill || x.name === g.decode)) {
      const short = e.graph.nodes.find((n) => n.op === 'cache_write' && n.inputs[0]!.type.shape[1]! < g.capacity);
      if (short) throw new ModelDefinitionError(`model '${manifest.name}': generation.capacity ${g.capacity} exceeds the KV cache written in entry '${e.name}'${short.label ? ` by ${short.label}` : ''}, which holds ${short.inputs[0]!.type.shape[1]} positions ([${short.inputs[0]!.type.shape.join(', ')}]): give the cache state ${g.capacity} positions or generation.capacity ${short.inputs[0]!.type.shape[1]}`);
    }
  }
  const code: Partial<Record<Isa, Uint8Array>> = {};
  for (const isa of opts.isas ?? ['wasmsimd', 'wasmrelaxedsimd']) {
    await stage(opts, `asc+binaryen ${isa}`);
    code[isa] = (await assemble({ sources: { '__model.ts': source }, entry: '__model.ts', isa, memoryBase: mem.end, initialPages: pages, sharedMemory: true })).wasm;
  }
  manifest.stats.codeBytes = Object.fromEntries(Object.entries(code).map(([k, v]) => [k, v.length]));
  const bytes = writeContainer(manifest, code, mem.weights);
  const byName = Object.fromEntries(graphs.map((e) => [e.name, e.graph]));
  return { bytes, manifest: readContainer(bytes).manifest, graphs: byName, graph: byName.run ?? graphs[0]!.graph, source, compileMs: Math.round(performance.now() - t0) };
}

export function compileGraph(g: Graph, opts: CompileOptions = {}): Promise<Compiled> {
  return compileEntries([{ name: 'run', graph: g }], [], opts);
}

const stateSpecs = (def: ModelDefinition): StateSpec[] => Object.entries(def.state ?? {}).map(([name, s]) => ({
  name, type: Array.isArray(s) ? { dtype: 'f32' as DType, shape: s } : { dtype: s.dtype ?? 'f32', shape: s.shape as number[] }, // tracing refused named sizes in state
}));

export async function compileModel(def: ModelDefinition, opts: CompileOptions = {}): Promise<Compiled & { traced: Graph; tracedEntries: Record<string, Graph> }> {
  if (def.weights !== undefined) {
    // The path is relative to the model file, which only the CLI and the Vite plugin know: never compile random weights instead.
    // (loadDefinition, which reads it, is the CLI's and not exported: the message names what a user can call.)
    throw new ModelDefinitionError(`model '${def.name}' names weights '${def.weights}', which compileModel does not read: compile the model file ` +
      'with `simdflow build` or the Vite plugin (they read it), or call module.loadStateDict(stateDictFrom(readSafetensors(bytes))) and leave `weights` out');
  }
  await stage(opts, 'trace');
  const entries = traceEntries(def);
  const c = await compileEntries(entries, stateSpecs(def), { name: def.name, ...opts, ...(def.generation ? { generation: def.generation as unknown as GenerationInfo } : {}) });
  return { ...c, traced: entries[0]!.graph, tracedEntries: Object.fromEntries(entries.map((e) => [e.name, e.graph])) };
}
