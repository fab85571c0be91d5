// Codegen: planned graphs → one AssemblyScript module. Every address is a compile-time
// constant (see layout.ts), so each entry (`run`, `step`, …) is a straight list of calls:
// one function per node, either a hand-written kernel from assembly/ or a generated loop
// (fused elementwise expressions, strided copies, counted loops over a body graph).

import type { Expr, Graph, Node } from '../ir/node.ts';
import { broadcastStrides, byteSize, DTYPE_BYTES, numel } from '../ir/types.ts';
import { contiguous, LOAD, loopNest, type Operand } from './loops.ts';
import { kernelImports } from './kernels.ts';
import type { Layout } from './layout.ts';
import { loweringOf } from './ops/index.ts';
import { f32lit } from './ops/lowering.ts';

export { f32lit };

const VEC: Record<string, (a: string[]) => string> = {
  add: ([a, b]) => `f32x4.add(${a}, ${b})`,
  sub: ([a, b]) => `f32x4.sub(${a}, ${b})`,
  mul: ([a, b]) => `f32x4.mul(${a}, ${b})`,
  div: ([a, b]) => `f32x4.div(${a}, ${b})`,
  maximum: ([a, b]) => `f32x4.max(${a}, ${b})`,
  minimum: ([a, b]) => `f32x4.min(${a}, ${b})`,
  pow: ([a, b]) => `pow_f32x4(${a}, ${b})`,
  neg: ([a]) => `f32x4.neg(${a})`,
  abs: ([a]) => `f32x4.abs(${a})`,
  sqrt: ([a]) => `f32x4.sqrt(${a})`,
  rsqrt: ([a]) => `f32x4.div(f32x4.splat(1.0), f32x4.sqrt(${a}))`,
  recip: ([a]) => `f32x4.div(f32x4.splat(1.0), ${a})`,
  log: ([a]) => `log_f32x4(${a})`,
};
const SCA: Record<string, (a: string[]) => string> = {
  add: ([a, b]) => `(${a} + ${b})`,
  sub: ([a, b]) => `(${a} - ${b})`,
  mul: ([a, b]) => `(${a} * ${b})`,
  div: ([a, b]) => `(${a} / ${b})`,
  maximum: ([a, b]) => `max<f32>(${a}, ${b})`,
  minimum: ([a, b]) => `min<f32>(${a}, ${b})`,
  pow: ([a, b]) => `Mathf.pow(${a}, ${b})`,
  neg: ([a]) => `(-${a})`,
  abs: ([a]) => `abs<f32>(${a})`,
  sqrt: ([a]) => `sqrt<f32>(${a})`,
  rsqrt: ([a]) => `(<f32>1.0 / sqrt<f32>(${a}))`,
  recip: ([a]) => `(<f32>1.0 / ${a})`,
  log: ([a]) => `Mathf.log(${a})`,
};
for (const f of ['exp', 'tanh', 'sigmoid', 'erf', 'gelu', 'relu']) {
  VEC[f] = ([a]) => `${f}_f32x4(${a})`;
  SCA[f] = ([a]) => `${f}_f32(${a})`;
}

function exprCode(e: Expr, leaf: (i: number) => string, vec: boolean): string {
  if (e.op === 'in') return leaf((e as { index: number }).index);
  if (e.op === 'lit') { const l = f32lit((e as { value: number }).value); return vec ? `f32x4.splat(${l})` : l; }
  const args = (e as { args: readonly Expr[] }).args.map((a) => exprCode(a, leaf, vec));
  const f = (vec ? VEC : SCA)[e.op];
  if (!f) throw new Error(`codegen: no ${vec ? 'vector' : 'scalar'} form for elementwise op '${e.op}'`);
  return f(args);
}

type Ctx = Layout;
type Emitter = (n: Node, c: Ctx) => string[];

function elementwise(n: Node, c: Ctx, expr: Expr): string[] {
  const ins = n.inputs;
  const ops: Operand[] = [contiguous(n, c.addr(n)), ...ins.map((i) => ({ base: c.addr(i), strides: broadcastStrides(i.type.shape, n.type.shape), bytes: 4 }))];
  return loopNest(n.type.shape, ops, (p, len, st) => {
    // Each input is loaded once per element (or vector) into a local, however often the expression reads it.
    const scalarLoads = ins.map((_, j) => `const s${j} = load<f32>(${p[j + 1]}${st[j + 1] ? ` + (<usize>i * ${st[j + 1]! * 4})` : ''});`);
    const scalarLoop = [
      `for (; i < ${len}; i++) {`,
      ...scalarLoads.map((l) => `  ${l}`),
      `  store<f32>(${p[0]} + (<usize>i << 2), ${exprCode(expr, (j) => `s${j}`, false)});`,
      `}`,
    ];
    if (len < 4 || !st.slice(1).every((s) => s === 0 || s === 1)) return ['let i = 0;', ...scalarLoop];
    const splats = ins.map((_, j) => (st[j + 1] === 0 ? `const b${j} = v128.load32_splat(${p[j + 1]});` : '')).filter(Boolean);
    const vecBody = (o: string, suffix: string) => [
      ...ins.map((_, j) => (st[j + 1] === 0 ? '' : `  const v${j}${suffix} = v128.load(${p[j + 1]} + ${o});`)).filter(Boolean),
      `  v128.store(${p[0]} + ${o}, ${exprCode(expr, (j) => (st[j + 1] === 0 ? `b${j}` : `v${j}${suffix}`), true)});`,
    ];
    // Two vectors per iteration: independent chains hide the latency of exp/tanh polynomials.
    return [
      ...splats,
      'let i = 0;',
      `for (; i + 8 <= ${len}; i += 8) {`,
      '  const o = <usize>i << 2;',
      ...vecBody('o', 'a'),
      ...vecBody('o + 16', 'b'),
      '}',
      `for (; i + 4 <= ${len}; i += 4) {`,
      '  const o = <usize>i << 2;',
      ...vecBody('o', ''),
      '}',
      ...scalarLoop,
    ];
  });
}

const EMIT: Record<string, Emitter> = {
  elementwise: (n, c) => elementwise(n, c, n.attrs.expr as Expr),
  proj: () => [],
  cast: (n, c) => {
    const x = n.inputs[0]!, from = LOAD[x.type.dtype]!, to = LOAD[n.type.dtype]!;
    return [
      `for (let i = 0; i < ${numel(n.type.shape)}; i++) {`,
      `  store<${to}>(${c.addr(n)} + <usize>i * ${DTYPE_BYTES[n.type.dtype]}, <${to}>load<${from}>(${c.addr(x)} + <usize>i * ${DTYPE_BYTES[x.type.dtype]}));`,
      '}',
    ];
  },
  where: (n, c) => {
    const ops: Operand[] = [contiguous(n, c.addr(n)), ...n.inputs.map((i) => ({ base: c.addr(i), strides: broadcastStrides(i.type.shape, n.type.shape), bytes: DTYPE_BYTES[i.type.dtype] }))];
    const t = LOAD[n.type.dtype]!, b = DTYPE_BYTES[n.type.dtype];
    return loopNest(n.type.shape, ops, (p, len, st) => [
      `for (let i = 0; i < ${len}; i++) {`,
      `  store<${t}>(${p[0]} + <usize>i * ${b}, load<u8>(${p[1]} + <usize>i * ${st[1]}) ? load<${t}>(${p[2]} + <usize>i * ${st[2]! * b}) : load<${t}>(${p[3]} + <usize>i * ${st[3]! * b}));`,
      '}',
    ]);
  },
};

const I32_OPS: Record<string, (a: string, b: string) => string> = {
  add: (a, b) => `${a} + ${b}`, sub: (a, b) => `${a} - ${b}`, mul: (a, b) => `${a} * ${b}`,
  maximum: (a, b) => `max<i32>(${a}, ${b})`, minimum: (a, b) => `min<i32>(${a}, ${b})`,
};

/** Integer arithmetic (positions, indices): scalar loops. */
function i32Binary(n: Node, c: Ctx): string[] {
  const f = I32_OPS[n.op]!;
  const ops: Operand[] = [contiguous(n, c.addr(n)), ...n.inputs.map((i) => ({ base: c.addr(i), strides: broadcastStrides(i.type.shape, n.type.shape), bytes: 4 }))];
  return loopNest(n.type.shape, ops, (p, len, st) => [
    `for (let i = 0; i < ${len}; i++) {`,
    `  store<i32>(${p[0]} + (<usize>i << 2), ${f(`load<i32>(${p[1]} + <usize>i * ${st[1]! * 4})`, `load<i32>(${p[2]} + <usize>i * ${st[2]! * 4})`)});`,
    '}',
  ]);
}

/** Unfused elementwise ops (e.g. with elementwise-fusion disabled) are one-op expressions. */
function emitterFor(n: Node): Emitter {
  const l = loweringOf(n);
  if (l) return (m, c) => l.emit(m, c);
  const e = EMIT[n.op];
  if (e) return e;
  if (n.type.dtype === 'i32' && n.op in I32_OPS) return i32Binary;
  if (n.type.dtype === 'f32' && n.inputs.every((i) => i.type.dtype === 'f32') && (n.inputs.length === 1 || n.inputs.length === 2)) {
    const expr: Expr = { op: n.op, args: n.inputs.map((_, index) => ({ op: 'in' as const, index })) };
    if (n.op in VEC) return (m, c) => elementwise(m, c, expr);
  }
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

