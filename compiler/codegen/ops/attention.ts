// Attention on wasm: one call of the fused kernel (assembly/attention.ts) reading q, k and v in
// place in their (possibly packed) buffers, with scratch from the kernel's ABI (attention-abi.ts);
// cache_write copies rows into the cache in place.

import type { Node } from '../../ir/node.ts';
import { attentionDims, cacheErrors, type AttentionAttrs } from '../../ir/ops/attention.ts';
import type { NoAttrs } from '../../ir/ops/def.ts';
import { mulDims, subDims, type Dim } from '../../ir/dims.ts';
import { dimsOf } from '../../ir/types.ts';
import type { Layout } from '../layout.ts';
import { code, dimBroadcastStrides } from '../loops.ts';
import { attentionScratchBytes } from '../attention-abi.ts';
import { kernelCall, kernelConst } from '../kernels.ts';
import { defineLowering, f32lit, trapUnless } from './lowering.ts';

/**
 * Threads split attention by (batch, head, 8-row query block) items, round robin
 * (attention_f32_part), each thread with scratch of its own, when it has at least SPLIT_MACS
 * multiply-adds (B·H·Lq·Lk·(d + dv), causal or not) and two items: the GEMM rule's threshold
 * (ops/linalg.ts). A decode step (Lq = 1) of a 4-head GPT at 128 keys (65k) splits by heads:
 * GPT decode went from 0.152 to 0.145 ms on 2 threads when it and the 256×256 projection after
 * it stopped running on thread 0 alone.
 */
const SPLIT_MACS = 1 << 15;
/** Named sizes are judged at their bound. Sequences at positions of their own (one call each) stay on thread 0. */
const splits = (n: Node & { attrs: AttentionAttrs }): boolean => {
  const a = n.attrs, { B, Lq, Lk, H, d, dv } = attentionDims(n.inputs.map((i) => i.type), a);
  if (a.cached) {
    const posIn = n.inputs[(a.layout === 'qkv' ? 1 : a.layout === 'q_kv' ? 2 : 3) + (a.mask ? 1 : 0)]!;
    if (posIn.type.shape.length !== 0 || a.row) return false;
  }
  const items = B * H * (Lq >= 4 ? Math.ceil(Lq / 8) : Lq);
  return B * H * Lq * Lk * (d + dv) >= SPLIT_MACS && items >= 2;
};
const scratchOf = (n: Node & { attrs: AttentionAttrs }): number => {
  const { Lq, Lk } = attentionDims(n.inputs.map((i) => i.type), n.attrs);
  return attentionScratchBytes(Lq, Lk);
};

const attention = defineLowering<AttentionAttrs>({
  emit: (n, c, _m, t) => {
    const a = n.attrs, lay = a.layout;
    const { Bc, H, d, dv, Lk: capacity } = attentionDims(n.inputs.map((i) => i.type), a);
    // Batch and lengths may be named sizes (the buffers are dense at their actual sizes).
    const B = dimsOf(n.type)[0]!, Lq = dimsOf(n.type)[1]!, Lk = dimsOf(n.inputs[lay === 'qkv' ? 0 : 1]!.type)[1]!;
    const E = H * d, Ev = H * dv;
    const nIn = lay === 'qkv' ? 1 : lay === 'q_kv' ? 2 : 3;
    // Heads and head sizes are read at their shapes: only batch and lengths may be named.
    for (const x of n.inputs.slice(0, nIn)) {
      const e = dimsOf(x.type)[2]!;
      if (typeof e !== 'number') throw new Error(`codegen: attention${n.label ? ` at ${n.label}` : ''} over the named embedding size '${e}' (${dimsOf(x.type).join(', ')}) is not supported: heads and head sizes must be fixed`);
    }
    // [pointer, row stride, batch stride] of q, k, v in their (possibly packed) buffers.
    const rows = (x: Node) => x.type.shape[2]!;
    const op = (x: Node, off: number): [number, number, Dim] => [c.addr(x) + off * 4, rows(x), mulDims(dimsOf(x.type)[1]!, rows(x))];
    const [q, k, v] = lay === 'qkv' ? [op(n.inputs[0]!, 0), op(n.inputs[0]!, E), op(n.inputs[0]!, 2 * E)]
      : lay === 'q_kv' ? [op(n.inputs[0]!, 0), op(n.inputs[1]!, 0), op(n.inputs[1]!, E)]
      : [op(n.inputs[0]!, 0), op(n.inputs[1]!, 0), op(n.inputs[2]!, 0)];
    let mask: Dim[] = [0, 0, 0, 0];
    if (a.mask) {
      const m = n.inputs[nIn]!, st = dimBroadcastStrides(dimsOf(m.type), [B, H, Lq, Lk]);
      // Keys are read contiguously; with a single key there is nothing to broadcast over.
      if (st[3] !== 1 && Lk !== 1) throw new Error(`codegen: attention mask ${dimsOf(m.type)} must not broadcast over keys`);
      mask = [c.addr(m), st[0]!, st[1]!, st[2]!];
    }
    const args = {
      q: q[0], k: k[0], v: v[0], o: c.addr(n), mask: mask[0]!, scratch: c.scratch(n), B: code(B), H, Lq: code(Lq), Lk: code(Lk), d, dv,
      ldq: q[1], ldk: k[1], ldv: v[1], ldo: Ev, bsq: code(q[2]), bsk: code(k[2]), bsv: code(v[2]), bso: code(mulDims(Lq, Ev)), mbs: code(mask[1]!), mhs: code(mask[2]!), mrs: code(mask[3]!),
      scale: f32lit(a.scale), causal: a.causal ? 1 : 0, kvLen: code(Lk), qOffset: '0',
    } as Record<string, string | number>;
    // One call, or this thread's share of it (split: scratch of its own).
    const call = (x: Record<string, string | number>) => `${t
      ? kernelCall('attention_f32_part', { ...x, scratch: `${c.scratch(n)} + <usize>${t.tid} * ${scratchOf(n)}`, tid: t.tid, nt: t.nt })
      : kernelCall('attention_f32', x)};`;
    if (!a.cached) return [call(args)];
    // Positions and the cache row are checked as the reference checks them (ir/ops/attention.ts):
    // a bad one traps, never reads outside the caches.
    const posIn = n.inputs[nIn + (a.mask ? 1 : 0)]!, e = cacheErrors(n.label, Bc, capacity);
    const checkPos = trapUnless(`pos >= 0 && pos <= ${code(subDims(Lk, Lq))}`, e.pos, 'pos', code(Lq));
    if (posIn.type.shape.length === 0 && !a.row) {
      return [`const pos = load<i32>(${c.addr(posIn)});`, checkPos, call({ ...args, kvLen: `pos + ${code(Lq)}`, qOffset: 'pos' })];
    }
    // Sequences at their own positions (or cache rows from `row`): one kernel call per sequence.
    const at = (base: number, stride: Dim, b: string) => `${base} + <usize>(${b}) * ${code(mulDims(stride, 4))}`;
    return [
      ...cacheRow(a.row ? n.inputs[n.inputs.length - 1] : undefined, e.row, Bc, B, c),
      `for (let b = 0; b < ${code(B)}; b++) {`,
      `  const pos = load<i32>(${c.addr(posIn)}${posIn.type.shape.length ? ' + (<usize>b << 2)' : ''});`,
      `  ${checkPos}`,
      `  ${kernelCall('attention_f32', {
        ...args, B: 1, q: at(q[0], q[2], 'b'), k: at(k[0], k[2], 'row + b'), v: at(v[0], v[2], 'row + b'), o: at(c.addr(n), mulDims(Lq, Ev), 'b'),
        mask: a.mask ? `${mask[0]} + <usize>b * ${code(mask[1]!)}` : 0, kvLen: `pos + ${code(Lq)}`, qOffset: 'pos',
      })};`,
      '}',
    ];
  },
  split: splits,
  // Split, each thread has scratch of its own.
  scratchBytes: (n) => scratchOf(n) * (splits(n) ? kernelConst('MAX_THREADS') : 1),
});

/** `const row`: the first cache row of the B sequences, from the `row` input (else 0), checked to fit the Bc rows. */
const cacheRow = (row: Node | undefined, error: string, Bc: number, B: Dim, c: Layout): string[] => row
  ? [`const row = load<i32>(${c.addr(row)});`, trapUnless(`row >= 0 && row <= ${code(subDims(Bc, B))}`, error, 'row', code(B))]
  : ['const row = 0;'];

const cacheWrite = defineLowering<NoAttrs>({
  emit: (n, c) => {
    const [cache, rows, pos, row] = n.inputs as [Node, Node, Node, Node | undefined];
    const [Bc, cap, E] = cache.type.shape as [number, number, number];
    const [Bd, Rd] = dimsOf(rows.type) as [Dim, Dim], B = code(Bd), R = code(Rd), rb = E * 4;
    // The row and positions are checked as the reference checks them: never a write outside the cache.
    const e = cacheErrors(n.label, Bc, cap);
    return [
      ...cacheRow(row, e.row, Bc, Bd, c),
      `for (let b = 0; b < ${B}; b++) {`,
      `  const pos = load<i32>(${c.addr(pos)}${pos.type.shape.length ? ' + (<usize>b << 2)' : ''});`,
      `  ${trapUnless(`pos >= 0 && pos <= ${code(subDims(cap, Rd))}`, e.pos, 'pos', R)}`,
      `  memory.copy(${c.addr(cache)} + (<usize>(row + b) * ${cap} + <usize>pos) * ${rb}, ${c.addr(rows)} + <usize>b * ${R} * ${rb}, <usize>${R} * ${rb});`,
      '}',
    ];
  },
});

export const ATTENTION_LOWERINGS = { attention, cache_write: cacheWrite };
