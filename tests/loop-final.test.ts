// loop(…, { final: true }): the carried values after the last step come back too, by their own
// names (an encoder's last state), over a fixed count and over one chosen at run time, forward and
// reversed, with and without emitted values; against values computed here by hand, the reference
// interpreter, and 2 threads (the body's GEMV splits) equal to 1. Then misuse.
import { beforeAll, describe, expect, test } from 'vitest';
import { compileModel, defineModel, interpret, loop, manualSeed, Module, nn, trace, traceModel, zeros, type Tensor } from '../compiler/index.ts';
import { simulate } from '../compiler/fuzz/simulate.ts';
import { runPasses } from '../compiler/passes/manager.ts';
import { scratchBytes } from '../compiler/passes/memory-planning.ts';
import { wasmTarget } from '../compiler/codegen/target.ts';
import type { Graph } from '../compiler/ir/node.ts';
import { loadModelBytes, type Model } from '../runtime/model.ts';
import '../runtime/node.ts';
import { TEST_ISAS } from './helpers/isa.ts';

const MAX = { B: 2, T: 5 }, I = 3, H = 256;

class Net extends Module {
  inp = new nn.Linear(I, H);
  rec = new nn.Linear(H, H);
  forward(): never { throw new Error('unused'); }
}
manualSeed(11);
const net = new Net();
const def = defineModel({
  name: 'loopfinal', module: net, inputs: { x: { shape: ['B', 'T', I], max: MAX } },
  forward: (m: Net, { x }: Record<string, Tensor>) => {
    const B = x!.dim(0), row = (t: Tensor) => x!.dynamicSlice(1, t).squeeze(1);
    // Running sums forward (emitting them) and backward (only the last: the sum over every step).
    const fwd = loop('T', { acc: zeros([B, I], MAX), n: zeros([1]) }, ({ acc, n }, t) => {
      const a = acc!.add(row(t));
      return { next: { acc: a, n: n!.add(1) }, emit: { cum: a } };
    }, { axis: 1, final: true });
    const back = loop(x!.dim(1), { first: zeros([B, I], MAX) }, (_c, t) => ({ next: { first: row(t) }, emit: {} }), { reverse: true, final: true });
    // A swap carried over a fixed count of 3: (a, b) ends as (b, a).
    const sw = loop(3, { a: zeros([2]).add(1), b: zeros([2]).add(2) }, ({ a, b }) => ({ next: { a: b!, b: a! }, emit: {} }), { final: true });
    // h_t = tanh(W h_{t−1} + U x_t), its GEMV split across threads; only the last h.
    const { h } = loop('T', { h: zeros([B, H], MAX) }, ({ h }, t) => ({ next: { h: m.rec.call(h!).add(m.inp.call(row(t))).tanh() }, emit: {} }), { final: true });
    return { cum: fwd.cum!, acc: fwd.acc!, n: fwd.n!, first: back.first!, a: sw.a!, b: sw.b!, h: h! };
  },
});

let graph: Graph;
const models: Record<number, Model> = {};
beforeAll(async () => {
  graph = traceModel(def);
  const c = await compileModel(def, { isas: TEST_ISAS });
  models[1] = await loadModelBytes(c.bytes);
  models[2] = await loadModelBytes(c.bytes, { threads: 2, threadPolicy: 'always' });
}, 60_000);

/** h after T steps of h = tanh(W h + b_W + U x_t + b_U), in doubles (x: [B, T, I]). */
function lastH(x: Float32Array, B: number, T: number): Float64Array {
  const sd = Object.fromEntries(net.namedParameters().map(([k, p]) => [k, p.data as Float32Array]));
  const W = sd['rec.weight']!, bW = sd['rec.bias']!, U = sd['inp.weight']!, bU = sd['inp.bias']!;
  const out = new Float64Array(B * H);
  for (let b = 0; b < B; b++) {
    let h = new Float64Array(H);
    for (let t = 0; t < T; t++) {
      const n = new Float64Array(H);
      for (let j = 0; j < H; j++) {
        let s = bW[j]! + bU[j]!;
        for (let k = 0; k < H; k++) s += W[j * H + k]! * h[k]!;
        for (let i = 0; i < I; i++) s += U[j * I + i]! * x[(b * T + t) * I + i]!;
        n[j] = Math.tanh(s);
      }
      h = n;
    }
    out.set(h, b * H);
  }
  return out;
}

describe('loop with final: true', () => {
  test('the result types: emitted values stacked, the last carried values as they were carried', () => {
    const t = Object.fromEntries(graph.outputs.map((o) => [o.name, o.node.type]));
    expect(t.cum).toMatchObject({ shape: [2, 5, I], dims: ['B', 'T', I] });
    expect(t.acc).toMatchObject({ shape: [2, I], dims: ['B', I] });
    expect(t.n!.shape).toEqual([1]);
    expect(t.first).toMatchObject({ shape: [2, I], dims: ['B', I] });
    expect(t.h).toMatchObject({ shape: [2, H], dims: ['B', H] });
  });

  test.each([{ B: 1, T: 1 }, { B: 2, T: 2 }, { B: 2, T: 5 }])('at %o: sums, counts, the first row and a swap by hand; the recurrence in doubles; the reference; 2 threads equal 1', ({ B, T }) => {
    const x = Float32Array.from({ length: B * T * I }, (_, i) => ((i * 5) % 9) - 4 + 0.5 * (i % 2));
    const at = (b: number, t: number, i: number) => x[(b * T + t) * I + i]!;
    const acc = new Float32Array(B * I), first = new Float32Array(B * I);
    for (let b = 0; b < B; b++) for (let i = 0; i < I; i++) {
      for (let t = 0; t < T; t++) acc[b * I + i] += at(b, t, i);
      first[b * I + i] = at(b, 0, i);
    }
    const feeds = { x: { data: x, shape: [B, T, I] } };
    const out = models[1]!.run(feeds);
    // Small integers and halves: the sums are exact.
    expect(Array.from(out.acc!)).toEqual(Array.from(acc));
    expect(Array.from(out.cum!.subarray(0, I))).toEqual(Array.from({ length: I }, (_, i) => at(0, 0, i)));
    expect(Array.from(out.n!)).toEqual([T]);
    expect(Array.from(out.first!)).toEqual(Array.from(first));
    expect(Array.from(out.a!)).toEqual([2, 2]);
    expect(Array.from(out.b!)).toEqual([1, 1]);
    const want = lastH(x, B, T);
    let err = 0;
    for (let i = 0; i < want.length; i++) err = Math.max(err, Math.abs(out.h![i]! - want[i]!));
    expect(err, 'h after the last step against doubles').toBeLessThan(1e-5);
    const ref = interpret(graph, feeds);
    for (const k of ['acc', 'n', 'first', 'a', 'b', 'cum']) expect(Array.from(ref[k]!), `${k} in the reference`).toEqual(Array.from(out[k]!));
    let rerr = 0;
    for (let i = 0; i < want.length; i++) rerr = Math.max(rerr, Math.abs(ref.h![i]! - want[i]!));
    expect(rerr, 'h in the reference').toBeLessThan(1e-5);
    for (let k = 0; k < 2; k++) {
      const two = models[2]!.run(feeds);
      for (const name of Object.keys(out)) expect(Array.from(two[name]!), `${name} on 2 threads, call ${k}`).toEqual(Array.from(out[name]!));
    }
  });
});

test('the fuzzer\'s simulator runs the copies out as the lowering does: its results equal the reference, with no hazard', () => {
  const traced = trace(({ x }) => loop(3, { h: x!, s: x!.sum(0) }, ({ h, s }, t) => {
    const n = h!.tanh().add(t.float());
    return { next: { h: n, s: s!.add(n.sum(0)) }, emit: {} };
  }, { final: true }), { x: [2, 4] });
  const x = Float32Array.from({ length: 8 }, (_, i) => Math.cos(i));
  const want = interpret(traced, { x });
  const g = runPasses(traced, { target: wasmTarget });
  const r = simulate(g, [], {}, [{ x }], (n) => scratchBytes(n, wasmTarget));
  expect(r.hazards).toEqual([]);
  for (const k of ['h', 's']) expect(Array.from(r.calls[0]![k]!)).toEqual(Array.from(want[k]!));
});

describe('loop with final: misuse', () => {
  const tr = (f: (x: Tensor) => Record<string, Tensor>) => () => traceModel(defineModel({
    name: 't', module: net, inputs: { x: [2, 4] }, forward: (_m: Net, { x }: Record<string, Tensor>) => f(x!),
  }));
  const h = () => ({ h: zeros([2]) });
  test('each is a clear error', () => {
    expect(tr(() => loop(2, h(), ({ h }) => ({ next: { h: h! }, emit: { h: h! } }), { final: true }))).toThrow("loop: with { final: true } the last carried values are returned by their names, and 'h' is also emitted; rename one");
    expect(tr(() => loop(2, h(), ({ h }) => ({ next: { h: h! }, emit: {} })))).toThrow('loop: the body emits nothing (with { final: true } a loop returns its last carried values instead)');
    expect(tr(() => loop(2, {}, () => ({ next: {}, emit: {} }), { final: true }))).toThrow('loop: the loop carries and emits nothing, so it has no results');
    expect(tr(() => loop(2, h(), ({ h }) => ({ next: { h: h! }, emit: {} }), { final: 1 as never }))).toThrow('loop: final must be a boolean, got 1');
    expect(tr(() => loop(2, h(), ({ h }) => ({ next: { h: h! }, emit: {} }), { final: true, axis: 1 }))).toThrow("loop: axis places the emitted values' steps dim, and the body emits nothing");
    expect(tr(() => loop(2, h(), ({ h }) => ({ next: { h: h! }, emit: { y: h! } }), { finale: true } as never))).toThrow(/loop: unknown option 'finale'/);
  });
});
