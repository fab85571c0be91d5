// A memory-level simulator of planned graphs: it runs a graph on one byte memory (constants,
// state, activation arena) at the addresses the memory plan gave, the way the generated code
// does, and so checks the plan without trusting the planner's own reasoning.
//  - Elementwise loops (fused or single ops) run element by element in the generated loop's
//    order: dimensions merged as codegen merges them, broadcast operands splatted once per
//    row, vectors of 4 lanes read before they are written, then the scalar tail. An in-place
//    output that clobbers a broadcast operand before its last read shows up here.
//  - Any other node is an opaque kernel: its output bytes (every result's, for a multi-result
//    node such as a recurrent layer's y, h_n, c_n) are filled with garbage first, then its inputs
//    are read and the reference semantics computed (so an output overlapping an input it reads
//    is caught whatever order the kernel uses).
//  - Reshapes are views; a cache write updates its cache in place; state tensors live outside
//    the arena; each entry ends by copying new state values one after the other.
//  - A loop runs as its lowering does: its body's arena is the loop's scratch (garbage at the
//    start), the carried values are copied in, and each step stores t, runs the body's nodes,
//    copies the emitted values into their rows of the stacked results and the next carried
//    values over the current ones. The body's values are versioned per step, so a read of a
//    value left over from the step before is a hazard.
// Every byte carries a tag: the version of the value that last wrote it. A read whose bytes
// were last written by anything but the value (or, through in-place updates, one of its
// versions) is a hazard, reported with the reader, the value and the writer, even when the
// numbers happen to agree.

import { collapse } from '../codegen/loops.ts';
import { isBinary, isUnary } from '../ir/elementwise.ts';
import { rootOf } from '../ir/effects.ts';
import { attrsOf, inPlaceInput } from '../ir/ops.ts';
import type { Expr, Graph, MemoryPlan, Node } from '../ir/node.ts';
import { cacheErrors, firstCacheRow } from '../ir/ops/attention.ts';
import { raise } from '../ir/ops/rules.ts';
import { allocData, broadcastStrides, DTYPE_BYTES, numel, strides, type AnyTensorData, type DType } from '../ir/types.ts';
import { evalNode, exprEvaluator, type Feeds, type Value } from '../reference/interpret.ts';
import type { StateSpec } from './generate.ts';

export type HazardKind = 'self' | 'state-write' | 'cache-write' | 'state-update' | 'kernel-output' | 'other';

export interface Hazard {
  step: number;
  /** Who read: a node, or `state write <name>` / `output <name>`. */
  reader: string;
  readerNode?: Node;
  /** The value the reader wanted. */
  value: Node;
  /** Who last wrote the bytes instead. */
  writer: string;
  kind: HazardKind;
  /** Flat element index within the value. */
  element: number;
}

export interface SimResult {
  /** Per call: outputs by name and every state tensor as `state.<name>` after the call. */
  calls: Array<Record<string, AnyTensorData>>;
  hazards: Hazard[];
}

const GARBAGE = -7.0e7;

interface Version { label: string; node?: Node; kind: 'value' | 'state' | 'state-write' | 'garbage' | 'input' | 'const' }

/** A graph being run: the top-level one, or a loop body (its arena inside the loop's scratch). */
interface Frame {
  g: Graph;
  plan: MemoryPlan;
  /** The arena's first byte in the simulated memory. */
  base: number;
  /** A loop body's captured inputs: the loop's operands, read in place. */
  bound: Map<Node, Node>;
  /** Names the frame in reports: '' at the top, `loop %i's body: ` in a body. */
  prefix: string;
}

const isElementwiseLoop = (n: Node) => n.op === 'elementwise'
  || (n.type.dtype === 'f32' && n.inputs.every((i) => i.type.dtype === 'f32') && ((n.inputs.length === 1 && isUnary(n.op)) || (n.inputs.length === 2 && isBinary(n.op))));

/**
 * Runs `calls` (inputs per call) through the planned graph `g`; `scratchBytes` is the target's
 * kernel scratch size for a node (its scratch is garbage while the node runs).
 */
export function simulate(g: Graph, state: readonly StateSpec[], initialState: Record<string, AnyTensorData>, calls: readonly Feeds[],
  scratchBytes: (n: Node) => number = () => 0): SimResult {
  if (!g.plan) throw new Error('simulate: the graph has no memory plan (run memory-planning first)');
  // Every graph's frame (loop bodies: base set when the loop runs), and every node's.
  const frames: Frame[] = [];
  const frameOf = new Map<Node, Frame>();
  const addFrame = (fg: Graph, prefix: string, bound = new Map<Node, Node>()): Frame => {
    if (!fg.plan) throw new Error(`simulate: ${prefix || 'the graph'} has no memory plan`);
    const f: Frame = { g: fg, plan: fg.plan, base: 0, bound, prefix };
    frames.push(f);
    for (const n of [...fg.inputs, ...fg.nodes]) frameOf.set(n, f);
    for (const n of fg.nodes) {
      if (n.op !== 'loop') continue;
      const { body, carried } = attrsOf(n, 'loop');
      addFrame(body, `${prefix}loop %${fg.nodes.indexOf(n)}'s body: `, new Map(body.inputs.slice(carried + 1).map((b, i) => [b, n.inputs[carried + i]!])));
    }
    return f;
  };
  const top = addFrame(g, '');
  const scratchOf = (n: Node) => (n.op === 'loop' ? attrsOf(n, 'loop').body.plan!.arenaBytes : scratchBytes(n));
  for (const f of frames) {
    for (const n of f.g.nodes) {
      const off = f.plan.scratch.get(n);
      if (off !== undefined && off + scratchOf(n) > f.plan.arenaBytes) throw new Error(`simulate: the scratch of ${f.prefix}%${f.g.nodes.indexOf(n)} ${n.op} at arena offset ${off} runs past the arena (${f.plan.arenaBytes} bytes)`);
    }
  }
  // Memory: [constants][state][arena], each region 64-byte aligned.
  const al = (x: number) => Math.ceil(x / 64) * 64;
  const constAt = new Map<Node, number>();
  let at = 64;
  for (const f of frames) for (const n of f.g.nodes) if (n.op === 'const' && !constAt.has(n)) { constAt.set(n, at); at = al(at + Math.max(1, (n.attrs.data as AnyTensorData).byteLength)); }
  const stateAt = new Map<string, number>();
  for (const s of state) { stateAt.set(s.name, at); at = al(at + numel(s.type.shape) * DTYPE_BYTES[s.type.dtype]); }
  const arena = al(at);
  top.base = arena;
  const size = arena + al(top.plan.arenaBytes) + 64;
  const buf = new ArrayBuffer(size);
  const f32 = new Float32Array(buf), i32 = new Int32Array(buf), u8 = new Uint8Array(buf);
  const tag = new Int32Array(size);

  const versions: Version[] = [];
  const newVersion = (v: Version) => versions.push(v) - 1;
  const nodeVersion = new Map<Node, number>();
  /** Steps of the loops running now, innermost last (labels of body values). */
  const loopSteps: number[] = [];
  const label = (n: Node) => {
    const f = frameOf.get(n), i = f ? f.g.nodes.indexOf(n) : -1;
    return `${f?.prefix ?? ''}${i >= 0 ? `%${i} ${n.op}` : `${n.op} ${n.label ?? ''}`.trim()}`;
  };
  const ver = (n: Node) => {
    let v = nodeVersion.get(n);
    if (v === undefined) {
      const when = n.op === 'const' ? '' : ` (call ${step}${frameOf.get(n) !== top ? `, step ${loopSteps.join('.')}` : ''})`;
      v = newVersion({ label: `${label(n)}${when}`, node: n, kind: n.op === 'const' ? 'const' : n.op === 'input' ? 'input' : 'value' });
      nodeVersion.set(n, v);
    }
    return v;
  };
  const stateVersion = new Map<string, number>();

  const addr = (n: Node): number => {
    const f = frameOf.get(n);
    // A captured body input (and a view of it) is read where the loop's operand is: the body's
    // plan gives it no bytes.
    const r = rootOf(n), outer = frameOf.get(r)?.bound.get(r);
    if (outer) return addr(outer);
    const off = f?.plan.offsets.get(n);
    if (f && off !== undefined) {
      if (off < 0 || off + numel(n.type.shape) * DTYPE_BYTES[n.type.dtype] > f.plan.arenaBytes) throw new Error(`simulate: ${label(n)} at arena offset ${off} runs past the arena (${f.plan.arenaBytes} bytes)`);
      return f.base + off;
    }
    if (n.op === 'reshape') return addr(n.inputs[0]!);
    const s = inPlaceInput(n.op);
    if (s !== undefined) return addr(n.inputs[s]!);
    if (n.op === 'state') return stateAt.get(n.label!) ?? (() => { throw new Error(`simulate: unknown state '${n.label}'`); })();
    if (n.op === 'const') return constAt.get(n)!;
    throw new Error(`simulate: no memory planned for ${label(n)}`);
  };
  /** The versions whose bytes a value may consist of: in-place updates extend their input's; a captured body input is the loop's operand. */
  const allowedCache = new Map<Node, Set<number>>();
  const allowed = (n: Node): Set<number> => {
    let s = allowedCache.get(n);
    if (s) return s;
    const outer = frameOf.get(n)?.bound.get(n);
    if (outer) s = allowed(outer);
    else if (n.op === 'reshape') s = allowed(n.inputs[0]!);
    else if (inPlaceInput(n.op) !== undefined) s = new Set([ver(n), ...allowed(n.inputs[inPlaceInput(n.op)!]!)]);
    else if (n.op === 'state') s = new Set([stateVersion.get(n.label!)!]);
    else s = new Set([ver(n)]);
    allowedCache.set(n, s);
    return s;
  };

  const hazards: Hazard[] = [];
  const reported = new Set<string>();
  let step = 0;
  const load = (dt: DType, a: number): number => (dt === 'f32' ? f32[a >> 2]! : dt === 'i32' ? i32[a >> 2]! : u8[a]!);
  const store = (dt: DType, a: number, v: number, version: number): void => {
    if (dt === 'f32') f32[a >> 2] = v; else if (dt === 'i32') i32[a >> 2] = v; else u8[a] = v;
    tag.fill(version, a, a + DTYPE_BYTES[dt]);
  };
  /** Element `e` of value `v`, read by `reader`: checks that the bytes still hold v. */
  const read = (v: Node, e: number, reader: string, readerNode?: Node): number => readAt(v, addr(v), allowed(v), e, reader, readerNode);
  /** read() with v's address and allowed versions looked up once for a run of elements (they are per-node lookups, not per element). */
  const readAt = (v: Node, base: number, ok: Set<number>, e: number, reader: string, readerNode?: Node): number => {
    const dt = v.type.dtype, a = base + e * DTYPE_BYTES[dt];
    const t = tag[a]!;
    if (!ok.has(t)) {
      const key = `${step}:${reader}:${v.id}`;
      if (!reported.has(key)) {
        reported.add(key);
        const w = versions[t]!;
        const kind: HazardKind = w.kind === 'state-write' ? 'state-write'
          : w.node && readerNode && (w.node === readerNode || (w.node.op === 'proj' && w.node.inputs[0] === readerNode)) ? (isElementwiseLoop(readerNode) ? 'self' : 'kernel-output')
          : w.node?.op === 'cache_write' ? 'cache-write' : 'other';
        hazards.push({ step, reader, ...(readerNode ? { readerNode } : {}), value: v, writer: w.label, kind, element: e });
      }
    }
    return load(dt, a);
  };
  const readAll = (v: Node, reader: string, readerNode?: Node): AnyTensorData => {
    const d = allocData(v.type), base = addr(v), ok = allowed(v);
    for (let e = 0; e < d.length; e++) d[e] = readAt(v, base, ok, e, reader, readerNode);
    return d;
  };
  const writeAll = (n: Node, a: number, d: AnyTensorData, version: number) => {
    const dt = n.type.dtype, bytes = DTYPE_BYTES[dt];
    // store() element by element, at once (a value's bytes are aligned to its element).
    if (dt === 'f32') f32.set(d, a >> 2); else if (dt === 'i32') i32.set(d, a >> 2); else u8.set(d, a);
    tag.fill(version, a, a + d.length * bytes);
  };
  const garbage = (a: number, bytes: number, version: number) => {
    f32.fill(GARBAGE, a >> 2, (a + bytes + 3) >> 2);
    tag.fill(version, a, a + bytes);
  };

  /** A generated elementwise loop, in its order of loads and stores. */
  const elementwiseLoop = (n: Node) => {
    const ins = n.inputs, me = label(n), vn = ver(n), out = addr(n);
    const expr: Expr = n.op === 'elementwise' ? attrsOf(n, 'elementwise').expr : { op: n.op, args: ins.map((_, index) => ({ op: 'in' as const, index })) };
    // The simulator runs static graphs (a symbolic one instantiated at some sizes): every dim is a number.
    const { shape, strides: st } = collapse(n.type.shape, [strides(n.type.shape), ...ins.map((i) => broadcastStrides(i.type.shape, n.type.shape))]) as { shape: number[]; strides: number[][] };
    const outer = shape.slice(0, -1), len = shape[shape.length - 1]!;
    const inner = st.map((s) => s[s.length - 1]!);
    const xs = new Array<number>(ins.length), value = exprEvaluator(expr, ins.map((i) => i.type.dtype));
    const idx = new Array<number>(outer.length).fill(0);
    const inAddr = ins.map(addr), inOk = ins.map(allowed);
    for (let row = 0, rows = numel(outer); row < rows; row++) {
      const base = st.map((s) => idx.reduce((acc, k, d) => acc + k * s[d]!, 0));
      const put = (i: number, v: number) => store('f32', out + (base[0]! + i * inner[0]!) * 4, v, vn);
      const get = (j: number, i: number) => readAt(ins[j]!, inAddr[j]!, inOk[j]!, base[j + 1]! + i * inner[j + 1]!, me, n);
      const scalarTail = (from: number) => {
        for (let i = from; i < len; i++) { for (let j = 0; j < ins.length; j++) xs[j] = get(j, i); put(i, value(xs)); }
      };
      if (len < 4 || !inner.slice(1).every((s) => s === 0 || s === 1)) scalarTail(0);
      else {
        const splat = ins.map((_, j) => (inner[j + 1] === 0 ? get(j, 0) : 0));
        const lanes = (o: number) => {
          const v = ins.map((_, j) => [0, 1, 2, 3].map((l) => (inner[j + 1] === 0 ? splat[j]! : get(j, o + l))));
          for (let l = 0; l < 4; l++) { for (let j = 0; j < ins.length; j++) xs[j] = v[j]![l]!; put(o + l, value(xs)); }
        };
        let i = 0;
        for (; i + 8 <= len; i += 8) { lanes(i); lanes(i + 4); }
        for (; i + 4 <= len; i += 4) lanes(i);
        scalarTail(i);
      }
      for (let d = outer.length - 1; d >= 0; d--) { if (++idx[d]! < outer[d]!) break; idx[d] = 0; }
    }
  };

  const cacheWrite = (n: Node) => {
    const [cache, rows, pos, row] = n.inputs as [Node, Node, Node, Node | undefined];
    const [Bc, cap, E] = cache.type.shape as [number, number, number];
    const [B, R] = rows.type.shape as [number, number], base = addr(n), vn = ver(n);
    // A row or position that does not fit traps in codegen, with the reference's error.
    const row0 = row ? firstCacheRow(n.label, read(row, 0, label(n), n), B, Bc, cap) : 0;
    for (let b = 0; b < B; b++) {
      const p = read(pos, pos.type.shape.length ? b : 0, label(n), n);
      if (!(p >= 0 && p + R <= cap)) raise(cacheErrors(n.label, Bc, cap).pos, p, R);
      for (let i = 0; i < R; i++) {
        const vals = Array.from({ length: E }, (_, e) => read(rows, (b * R + i) * E + e, label(n), n));
        vals.forEach((v, e) => store('f32', base + (((row0 + b) * cap + p + i) * E + e) * 4, v, vn));
      }
    }
  };

  /** A multi-result node's results by index: the node itself, then its `proj` nodes (none for a result nobody reads). */
  const resultsOf = new Map<Node, Array<Node | undefined>>();
  for (const f of frames) {
    for (const p of f.g.nodes) {
      if (p.op !== 'proj') continue;
      const of = p.inputs[0]!, rs = resultsOf.get(of) ?? [of];
      rs[p.attrs.index as number] = p;
      resultsOf.set(of, rs);
    }
  }
  const scratchAt = (n: Node): number | undefined => {
    const f = frameOf.get(n)!, off = f.plan.scratch.get(n);
    return off === undefined ? undefined : f.base + off;
  };

  const kernel = (n: Node) => {
    // The outputs are garbage while the kernel runs: an input one overlaps is clobbered (except
    // the one an in-place op updates, which it reads whole before it writes).
    const inPlace = inPlaceInput(n.op);
    const kept = inPlace === undefined ? undefined : readAll(n.inputs[inPlace]!, label(n), n);
    const results = resultsOf.get(n) ?? [n];
    for (const r of results) if (r) garbage(addr(r), numel(r.type.shape) * DTYPE_BYTES[r.type.dtype], ver(r));
    const scratch = scratchAt(n);
    if (scratch !== undefined) garbage(scratch, scratchBytes(n), newVersion({ label: `scratch of ${label(n)}`, node: n, kind: 'value' }));
    const ins: Value[] = n.inputs.map((i, j) => ({ type: i.type, data: j === inPlace ? kept! : readAll(i, label(n), n) }));
    const all = evalNode(n, ins);
    results.forEach((r, i) => { if (r) writeAll(r, addr(r), all[i]!, ver(r)); });
  };

  /** Every value of a body (nested bodies included) gets a new version: a new step. */
  const bodyValues = (body: Graph): Node[] => [...body.inputs, ...body.nodes.filter((x) => x.op !== 'const'),
    ...body.nodes.filter((x) => x.op === 'loop').flatMap((x) => bodyValues(attrsOf(x, 'loop').body))];

  /** A loop as its lowering runs it (codegen/ops/control.ts). */
  const loopNode = (n: Node) => {
    const { body, carried: nc, steps, axis, reverse } = attrsOf(n, 'loop');
    const f = frameOf.get(body.inputs[0]!)!, me = label(n);
    f.base = scratchAt(n)!;
    garbage(f.base, body.plan!.arenaBytes, newVersion({ label: `${me}'s body arena before the loop`, node: n, kind: 'garbage' }));
    const values = bodyValues(body);
    const results = resultsOf.get(n) ?? [n];
    const carriedIn = body.inputs.slice(0, nc);
    loopSteps.push(0);
    carriedIn.forEach((b, k) => writeAll(b, addr(b), readAll(n.inputs[k]!, me, n), ver(b)));
    for (let s = 0; s < steps; s++) {
      const t = reverse ? steps - 1 - s : s;
      loopSteps[loopSteps.length - 1] = t;
      const tIn = body.inputs[nc]!;
      writeAll(tIn, addr(tIn), Int32Array.of(t), ver(tIn));
      run(body);
      body.outputs.slice(nc).forEach((o, j) => {
        const r = results[j];
        if (!r) return;
        const d = readAll(o.node, `${me} (emit ${o.name})`, n), shape = o.node.type.shape;
        const inner = numel(shape.slice(axis)), outer = d.length / inner, bytes = DTYPE_BYTES[r.type.dtype];
        for (let q = 0; q < outer; q++) writeAll(r, addr(r) + (q * steps + t) * inner * bytes, d.subarray(q * inner, (q + 1) * inner), ver(r));
      });
      // The next carried values, copied one after the other as the lowering does (one already in
      // place is only re-versioned). This step's values end here: a read of one in the next step
      // is a hazard.
      const fresh = carriedIn.map((b) => newVersion({ label: `${label(b)} (call ${step}, step ${[...loopSteps.slice(0, -1), t + 1].join('.')})`, node: b, kind: 'value' }));
      body.outputs.slice(0, nc).forEach((o, k) => writeAll(carriedIn[k]!, addr(carriedIn[k]!), readAll(o.node, `${me} (${o.name})`, n), fresh[k]!));
      for (const v of values) nodeVersion.delete(v);
      carriedIn.forEach((b, k) => nodeVersion.set(b, fresh[k]!));
      allowedCache.clear();
    }
    // With `final`, the last carried values are results after the emitted ones.
    if (attrsOf(n, 'loop').final) {
      const ne = body.outputs.length - nc;
      carriedIn.forEach((b, k) => { const r = results[ne + k]; if (r) writeAll(r, addr(r), readAll(b, `${me} (final ${label(b)})`, n), ver(r)); });
    }
    loopSteps.pop();
  };

  const run = (fg: Graph) => {
    for (const n of fg.nodes) {
      if (n.op === 'input' || n.op === 'const' || n.op === 'state' || n.op === 'reshape' || n.op === 'proj') continue;
      if (isElementwiseLoop(n)) elementwiseLoop(n);
      else if (n.op === 'cache_write') cacheWrite(n);
      else if (n.op === 'loop') loopNode(n);
      else kernel(n);
    }
  };

  const results: SimResult['calls'] = [];
  for (const s of state) {
    const a = stateAt.get(s.name)!, d = initialState[s.name]!;
    for (let e = 0; e < d.length; e++) store(s.type.dtype, a + e * DTYPE_BYTES[s.type.dtype], d[e]!, 0);
  }
  // Weights are written once, at load: an in-place write into one would persist into later calls.
  for (const [n, a] of constAt) writeAll(n, a, n.attrs.data as AnyTensorData, ver(n));
  const uninitialised = newVersion({ label: 'uninitialised arena', kind: 'garbage' });
  for (const feeds of calls) {
    // Each call: state as the previous call left it; arena garbage; inputs written by the runtime.
    for (const s of state) {
      const v = newVersion({ label: `state ${s.name} at entry`, kind: 'state' });
      stateVersion.set(s.name, v);
      const a = stateAt.get(s.name)!;
      tag.fill(v, a, a + numel(s.type.shape) * DTYPE_BYTES[s.type.dtype]);
    }
    // Values are versioned per call (a leftover from an earlier call is not the value); weights per load.
    for (const n of [...nodeVersion.keys()]) if (n.op !== 'const') nodeVersion.delete(n);
    allowedCache.clear();
    f32.fill(GARBAGE, arena >> 2);
    tag.fill(uninitialised, arena);
    for (const n of g.inputs) {
      const d = feeds[n.label!];
      if (!d) throw new Error(`simulate: no value for input '${n.label}'`);
      writeAll(n, addr(n), d, ver(n));
    }
    run(g);
    // New state values are copied in one after the other, as the entry's epilogue does.
    for (const w of g.stateWrites ?? []) {
      const to = stateAt.get(w.name)!;
      if (addr(w.node) === to) continue;
      const d = readAll(w.node, `state write ${w.name}`);
      writeAll(w.node, to, d, newVersion({ label: `state write ${w.name}`, kind: 'state-write' }));
    }
    // A state tensor the entry does not write must come out as it went in.
    const written = new Set((g.stateWrites ?? []).map((w) => w.name));
    for (const s of state) {
      if (written.has(s.name)) continue;
      const a = stateAt.get(s.name)!, bytes = numel(s.type.shape) * DTYPE_BYTES[s.type.dtype];
      for (let e = 0; e < bytes; e += DTYPE_BYTES[s.type.dtype]) {
        const w = versions[tag[a + e]!]!;
        if (tag[a + e] === stateVersion.get(s.name)) continue;
        const value = g.nodes.find((n) => n.op === 'state' && n.label === s.name)!;
        hazards.push({ step, reader: `state ${s.name} (not written by the entry)`, value, writer: w.label, kind: 'state-update', element: e / DTYPE_BYTES[s.type.dtype] });
        break;
      }
    }
    const res: Record<string, AnyTensorData> = {};
    for (const o of g.outputs) res[o.name] = readAll(o.node, `output ${o.name}`);
    for (const s of state) {
      const a = stateAt.get(s.name)!, d = allocData(s.type);
      for (let e = 0; e < d.length; e++) d[e] = load(s.type.dtype, a + e * DTYPE_BYTES[s.type.dtype]);
      res[`state.${s.name}`] = d;
    }
    results.push(res);
    step++;
  }
  return { calls: results, hazards };
}
