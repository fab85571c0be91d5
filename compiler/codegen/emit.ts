// Codegen: planned graphs → one AssemblyScript module. Every address is a compile-time
// constant (see layout.ts), so each entry (`run`, `step`, …) is a straight list of calls:
// one function per node, either a hand-written kernel from assembly/ or a generated loop
// (fused elementwise expressions, strided copies, counted loops over a body graph).

import type { Graph, Node } from '../ir/node.ts';
import { byteSize, DTYPE_BYTES, numel } from '../ir/types.ts';
import { kernelImports } from './kernels.ts';
import type { Layout } from './layout.ts';
import { loweringOf } from './ops/index.ts';
import { f32lit } from './ops/lowering.ts';

export { f32lit };

type Ctx = Layout;
type Emitter = (n: Node, c: Ctx) => string[];

const EMIT: Record<string, Emitter> = {
  proj: () => [],
};

function emitterFor(n: Node): Emitter {
  const l = loweringOf(n);
  if (l) return (m, c) => l.emit(m, c);
  const e = EMIT[n.op];
  if (e) return e;
  throw new Error(`codegen: op '${n.op}' (${n.type.dtype}) is not supported${n.label ? ` (at ${n.label})` : ''}`);
}

const HELPERS = `// @ts-ignore: decorator
@inline function log_f32x4(v: v128): v128 {
  let r = f32x4.splat(Mathf.log(f32x4.extract_lane(v, 0)));
  r = f32x4.replace_lane(r, 1, Mathf.log(f32x4.extract_lane(v, 1)));
  r = f32x4.replace_lane(r, 2, Mathf.log(f32x4.extract_lane(v, 2)));
  return f32x4.replace_lane(r, 3, Mathf.log(f32x4.extract_lane(v, 3)));
}
// @ts-ignore: decorator
@inline function pow_f32x4(a: v128, b: v128): v128 {
  let r = f32x4.splat(Mathf.pow(f32x4.extract_lane(a, 0), f32x4.extract_lane(b, 0)));
  r = f32x4.replace_lane(r, 1, Mathf.pow(f32x4.extract_lane(a, 1), f32x4.extract_lane(b, 1)));
  r = f32x4.replace_lane(r, 2, Mathf.pow(f32x4.extract_lane(a, 2), f32x4.extract_lane(b, 2)));
  return f32x4.replace_lane(r, 3, Mathf.pow(f32x4.extract_lane(a, 3), f32x4.extract_lane(b, 3)));
}
`;

export interface EntrySource { export: string; graph: Graph }

/** Emits one function per node of `graph` into `parts`; returns the calls that run them in order. */
function emitGraph(prefix: string, graph: Graph, c: Ctx, parts: string[]): string[] {
  const calls: string[] = [];
  graph.nodes.forEach((n, i) => {
    if (n.op === 'input' || n.op === 'const' || n.op === 'state') return;
    const body = n.op === 'loop' ? emitLoop(`${prefix}_${i}`, n, c, parts) : emitterFor(n)(n, c);
    if (body.length === 0) return;
    const fn = `${prefix}_${i}_${n.op}`;
    parts.push(`// %${i} ${n.op}${n.label ? ` — ${n.label}` : ''}\nfunction ${fn}(): void {\n${body.map((l) => (l.startsWith('  ') ? l : `  ${l}`)).join('\n')}\n}\n`);
    calls.push(`  ${fn}();`);
  });
  return calls;
}

/**
 * A counted loop: copy the initial carried values in, then per step store t, run the body,
 * append each emitted value at position t of its stacked result, and copy the next carried
 * values over the current ones (the body's carried inputs are never reused by its plan).
 */
function emitLoop(prefix: string, n: Node, c: Ctx, parts: string[]): string[] {
  const body = n.attrs.body as Graph, nc = n.attrs.carried as number, steps = n.attrs.steps as number;
  const bc = c.body(n);
  parts.push(`function ${prefix}_body(): void {\n${emitGraph(`${prefix}b`, body, bc, parts).join('\n')}\n}\n`);
  const carriedIn = body.inputs.slice(0, nc);
  const lines: string[] = [];
  carriedIn.forEach((b, k) => lines.push(`memory.copy(${bc.addr(b)}, ${c.addr(n.inputs[k]!)}, ${byteSize(b.type)});`));
  lines.push(`for (let t = 0; t < ${steps}; t++) {`);
  lines.push(`  store<i32>(${bc.addr(body.inputs[nc]!)}, t);`);
  lines.push(`  ${prefix}_body();`);
  body.outputs.slice(nc).forEach((o, j) => {
    const to = j === 0 ? c.addr(n) : c.result(n, j);
    if (!to) return;
    const s = o.node.type.shape, ax = n.attrs.axis as number, bytes = DTYPE_BYTES[o.node.type.dtype];
    const inner = numel(s.slice(ax)) * bytes, outer = numel(s.slice(0, ax));
    lines.push(`  for (let q = 0; q < ${outer}; q++) memory.copy(${to} + (<usize>q * ${steps} + <usize>t) * ${inner}, ${bc.addr(o.node)} + <usize>q * ${inner}, ${inner});`);
  });
  body.outputs.slice(0, nc).forEach((o, k) => {
    const from = bc.addr(o.node), to = bc.addr(carriedIn[k]!);
    if (from === to) return;
    if (carriedIn.some((b, j) => j !== k && bc.addr(b) === from)) throw new Error(`codegen: loop${n.label ? ` at ${n.label}` : ''} permutes its carried values, which is not supported`);
    lines.push(`  memory.copy(${to}, ${from}, ${byteSize(o.node.type)});`);
  });
  lines.push('}');
  return lines;
}

/** The AssemblyScript module for a set of entries that share one memory layout. */
export function emitModule(entries: EntrySource[], layoutFor: (g: Graph) => Ctx): string {
  const parts: string[] = [];
  for (const { export: name, graph } of entries) {
    const c = layoutFor(graph);
    const calls = emitGraph(name, graph, c, parts);
    // New state values are stored once the entry has read everything it needs.
    for (const w of graph.stateWrites ?? []) {
      const from = c.addr(w.node), to = c.state(w.name);
      if (from !== to) calls.push(`  memory.copy(${to}, ${from}, ${byteSize(w.node.type)});`);
    }
    parts.push(`export function ${name}(): void {\n${calls.join('\n')}\n}\n`);
  }
  const body = parts.join('\n');
  return `// Generated by simdflow. Do not edit.\n${kernelImports(body)}\n${HELPERS}\n${body}`;
}

