// Where everything lives in wasm memory. All entries of an artifact share one layout:
//   [0, 64)      reserved: address 0 means "no tensor" to the kernels
//   weights      constants in their plain layout, and weights packed for the GEMM kernels
//                (with their bias in the panel headers); identical bytes are stored once
//   state        tensors that persist across calls (recurrent state, KV caches)
//   arena        activations; each entry has its own plan over the same region (entries
//                never run at the same time)
//   sync         the threads' shared words (assembly/threads.ts)
//   AssemblyScript's own static data, from `end` on

import type { Graph, Node } from '../ir/node.ts';
import { attrsOf } from '../ir/ops.ts';
import type { AnyTensorData, TensorType } from '../ir/types.ts';
import { byteSize } from '../ir/types.ts';
import { rootOf } from '../ir/effects.ts';
import { packGemmWeights, packRecurrentWeights } from './pack.ts';
import { roundUp } from '../ir/target.ts';
import { wasmTarget } from './target.ts';
import { loweringOf } from './ops/index.ts';
import { kernelConst } from './kernels.ts';

const align = (x: number, a = wasmTarget.align): number => roundUp(x, a);
/** The memory plan passes made; codegen never plans on its own. */
function planOf(g: Graph) {
  if (!g.plan) throw new Error('codegen: the graph has no memory plan (run the passes with a target first)');
  return g.plan;
}

const RESERVED = 64;

export interface StateSpec { name: string; type: TensorType }

/** Addresses for one entry's graph. */
export interface Layout {
  addr(n: Node): number;
  /**
   * The address emitted code uses for n: addr(n), or for a value kept per thread (MemoryPlan's
   * copies) an expression for the copy of the function's \`tid\` (codegen/threads.ts).
   */
  ref(n: Node): number | string;
  /** The packed weight blob of a gemm or recurrent node. */
  packed(n: Node): number;
  scratch(n: Node): number;
  /** Address of result `index` (≥ 1) of a multi-result node, or 0 when nothing reads it. */
  result(n: Node, index: number): number;
  state(name: string): number;
  /** The layout of a loop node's body: its arena is the loop's scratch, captured inputs are the loop's operands. */
  body(n: Node): Layout;
  /**
   * Is n (a view of) an input of the entry? The runtime checks those values before each call (an
   * index against its manifest range, driver/compile.ts); a loop body's inputs are computed.
   */
  entryInput(n: Node): boolean;
}

export interface MemoryLayout {
  weights: Uint8Array;
  weightsOffset: number;
  stateOffset: number;
  stateBytes: number;
  stateAt: Map<string, number>;
  arenaOffset: number;
  arenaBytes: number;
  /** The threads' sync region (SYNC_BYTES of assembly/threads.ts). */
  syncOffset: number;
  /** First byte past everything simdflow places. */
  end: number;
  forGraph(g: Graph): Layout;
}

/** FNV-1a over the bytes, for finding identical constants across entries. */
function hash(b: Uint8Array): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < b.length; i++) h = Math.imul(h ^ b[i]!, 0x01000193);
  return `${b.length}:${h >>> 0}`;
}
const bytesOf = (d: AnyTensorData) => new Uint8Array(d.buffer, d.byteOffset, d.byteLength);
const equal = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((v, i) => v === b[i]);

export function layoutMemory(graphs: Graph[], state: StateSpec[] = []): MemoryLayout {
  const chunks: Array<{ off: number; bytes: Uint8Array }> = [];
  const byHash = new Map<string, Array<{ off: number; bytes: Uint8Array }>>();
  let at = RESERVED;
  const place = (bytes: Uint8Array): number => {
    const k = hash(bytes);
    const hit = byHash.get(k)?.find((c) => equal(c.bytes, bytes));
    if (hit) return hit.off;
    const c = { off: at, bytes };
    chunks.push(c);
    byHash.set(k, [...(byHash.get(k) ?? []), c]);
    at = align(at + Math.max(bytes.length, 1));
    return c.off;
  };
  const constAt = new Map<Node, number>();
  const packedAt = new Map<Node, number>();
  const withBodies = (gs: Graph[]): Graph[] => gs.flatMap((g) => [g, ...withBodies(g.nodes.filter((n) => n.op === 'loop').map((n) => attrsOf(n, 'loop').body))]);
  for (const g of withBodies(graphs)) {
    for (const n of g.nodes) {
      const pk = loweringOf(n)?.packed; // operand slots of a weight the kernel reads packed (with its bias)
      n.inputs.forEach((i, slot) => {
        const r = rootOf(i);
        if (r.op === 'const' && !(pk && (slot === pk.w || slot === pk.bias)) && !constAt.has(r)) constAt.set(r, place(bytesOf(r.attrs.data as AnyTensorData)));
      });
      if (pk) {
        const w = n.inputs[pk.w]!, b = n.inputs[pk.bias];
        if (w.op !== 'const' || (b && b.op !== 'const')) throw new Error(`codegen: ${n.op}${n.label ? ` at ${n.label}` : ''} needs constant weights to pack`);
        const [r, cols] = w.type.shape as [number, number];
        const data = w.attrs.data as Float32Array, bias = b?.attrs.data as Float32Array | undefined;
        if (pk.layout === 'gates') packedAt.set(n, place(bytesOf(packRecurrentWeights(data, bias, r / cols, cols))));
        else {
          const [k, nn] = pk.layout === 'kn' ? [r, cols] : [cols, r];
          packedAt.set(n, place(bytesOf(packGemmWeights(data, k, nn, pk.layout, bias))));
        }
      }
    }
    for (const o of [...g.outputs, ...(g.stateWrites ?? [])]) {
      const r = rootOf(o.node);
      if (r.op === 'const' && !constAt.has(r)) constAt.set(r, place(bytesOf(r.attrs.data as AnyTensorData)));
    }
  }
  const weights = new Uint8Array(at - RESERVED);
  for (const c of chunks) weights.set(c.bytes, c.off - RESERVED);

  const stateOffset = align(at, 64);
  const stateAt = new Map<string, number>();
  let s = stateOffset;
  for (const st of state) { stateAt.set(st.name, s); s = align(s + byteSize(st.type), 64); }
  const arenaOffset = align(s, 64);
  const plans = new Map(graphs.map((g) => [g, planOf(g)]));
  const arenaBytes = Math.max(0, ...[...plans.values()].map((p) => p.arenaBytes));
  const syncOffset = align(arenaOffset + arenaBytes, 64);

  const forGraph = (g: Graph, base = arenaOffset, inputAt = new Map<Node, number>(), entry = true): Layout => {
    const plan = plans.get(g) ?? planOf(g);
    const results = new Map<Node, Map<number, Node>>();
    for (const n of g.nodes) if (n.op === 'proj') {
      const m = results.get(n.inputs[0]!) ?? new Map<number, Node>();
      m.set(n.attrs.index as number, n);
      results.set(n.inputs[0]!, m);
    }
    const stateAddr = (name: string) => {
      const a = stateAt.get(name);
      if (a === undefined) throw new Error(`codegen: unknown state '${name}'`);
      return a;
    };
    const addr = (n: Node): number => {
      const r = rootOf(n);
      if (r.op === 'const') return constAt.get(r) ?? (() => { throw new Error(`codegen: constant %${r.id} ${r.label ?? ''} was not placed`); })();
      if (r.op === 'state') return stateAddr(r.label!);
      const given = inputAt.get(r);
      if (given !== undefined) return given;
      const off = plan.offsets.get(r);
      if (off === undefined) throw new Error(`codegen: no memory planned for %${r.id} (${r.op})`);
      return base + off;
    };
    const scratch = (n: Node) => base + plan.scratch.get(n)!;
    const self: Layout = {
      addr,
      ref: (n) => { const s = plan.copies?.stride.get(rootOf(n)); return s ? `(${addr(n)} + <usize>tid * ${s})` : addr(n); },
      packed: (n) => packedAt.get(n)!,
      scratch,
      result: (n, i) => { const p = results.get(n)?.get(i); return p ? addr(p) : 0; },
      state: stateAddr,
      body: (n) => {
        const { body, carried: nc } = attrsOf(n, 'loop');
        // Captured body inputs (after the carried values and t) read the loop's operands in place.
        const at = new Map(body.inputs.slice(nc + 1).map((b, i) => [b, addr(n.inputs[nc + i]!)]));
        return forGraph(body, scratch(n), at, false);
      },
      entryInput: (n) => entry && g.inputs.includes(rootOf(n)),
    };
    return self;
  };
  return {
    weights, weightsOffset: RESERVED, stateOffset, stateBytes: arenaOffset - stateOffset, stateAt,
    arenaOffset, arenaBytes, syncOffset, end: align(syncOffset + kernelConst('SYNC_BYTES'), 64), forGraph: (g) => forGraph(g),
  };
}
