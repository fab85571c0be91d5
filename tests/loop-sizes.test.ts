// loop() over a count chosen at run time ('T', x.dim(1), 'T+1'): one artifact compiled at the
// bounds, called at several sizes including 1, against hand-computed values (a running sum forward
// and backward, the steps themselves) and the reference interpreter at each size; a recurrence
// whose body's GEMV splits gives on 2 threads exactly what it gives on 1. Then misuse.
import { beforeAll, describe, expect, test } from 'vitest';
import { compileModel, defineModel, interpret, loop, manualSeed, Module, nn, traceModel, zeros, type Tensor } from '../compiler/index.ts';
import { makeGraph, node, type Graph } from '../compiler/ir/node.ts';
import { inferType } from '../compiler/ir/ops.ts';
import { loadModelBytes, type Model } from '../runtime/model.ts';
import '../runtime/node.ts';
import { TEST_ISAS } from './helpers/isa.ts';

const MAX = { B: 2, T: 6 }, I = 3, H = 256;

class Net extends Module {
  inp = new nn.Linear(I, H);
  rec = new nn.Linear(H, H);
  forward(): never { throw new Error('unused'); }
}
manualSeed(5);
const net = new Net();
const def = defineModel({
  name: 'loopsizes', module: net, inputs: { x: { shape: ['B', 'T', I], max: MAX } },
  forward: (m: Net, { x }: Record<string, Tensor>) => {
    const B = x!.dim(0), row = (t: Tensor) => x!.dynamicSlice(1, t).squeeze(1);
    const step = (reverse: boolean) => loop(reverse ? x!.dim(1) : 'T', { acc: zeros([B, I], MAX) }, ({ acc }, t) => {
      const a = acc!.add(row(t));
      return { next: { acc: a }, emit: { y: a } };
    }, { axis: 1, reverse });
    // T+1 steps emitting 2t: [0, 2, …, 2T].
    const { t2 } = loop('T+1', { k: zeros([1]) }, ({ k }, t) => ({ next: { k: k! }, emit: { t2: t.float().mul(2).add(k!.sum()) } }));
    // h_t = tanh(W h_{t−1} + U x_t): a GEMV of 256×256 per step, split across threads.
    const { h } = loop('T', { h: zeros([B, H], MAX) }, ({ h }, t) => {
      const n = m.rec.call(h!).add(m.inp.call(row(t))).tanh();
      return { next: { h: n }, emit: { h: n } };
    }, { axis: 1 });
    return { cum: step(false).y!, rcum: step(true).y!, t2: t2!, h: h! };
  },
});

let graph: Graph, source: string;
const models: Record<number, Model> = {};
beforeAll(async () => {
  graph = traceModel(def);
  const c = await compileModel(def, { isas: TEST_ISAS });
  source = c.source;
  models[1] = await loadModelBytes(c.bytes);
  models[2] = await loadModelBytes(c.bytes, { threads: 2, threadPolicy: 'always' });
}, 60_000);

describe('loop over a run-time count', () => {
  test.each([{ B: 1, T: 1 }, { B: 2, T: 3 }, { B: 2, T: 6 }])('at %o: running sums by hand, T+1 steps, the recurrence as the reference; 2 threads equal 1', ({ B, T }) => {
    const x = Float32Array.from({ length: B * T * I }, (_, i) => ((i * 7) % 11) - 5 + 0.25 * (i % 3));
    const at = (b: number, t: number, i: number) => x[(b * T + t) * I + i]!;
    const cum = new Float32Array(B * T * I), rcum = new Float32Array(B * T * I);
    for (let b = 0; b < B; b++) for (let i = 0; i < I; i++) {
      let s = 0;
      for (let t = 0; t < T; t++) { s += at(b, t, i); cum[(b * T + t) * I + i] = s; }
      s = 0;
      for (let t = T - 1; t >= 0; t--) { s += at(b, t, i); rcum[(b * T + t) * I + i] = s; }
    }
    const out = models[1]!.run({ x: { data: x, shape: [B, T, I] } });
    // Small integers and quarters: the sums are exact.
    expect(Array.from(out.cum!)).toEqual(Array.from(cum));
    expect(Array.from(out.rcum!)).toEqual(Array.from(rcum));
    expect(Array.from(out.t2!)).toEqual(Array.from({ length: T + 1 }, (_, t) => 2 * t));
    const ref = interpret(graph, { x }, undefined, { B, T });
    expect(Array.from(ref.cum!)).toEqual(Array.from(cum));
    expect(Array.from(ref.rcum!)).toEqual(Array.from(rcum));
    expect(ref.h!.length).toBe(B * T * H);
    expect(out.h!.length).toBe(B * T * H);
    let err = 0;
    for (let i = 0; i < ref.h!.length; i++) err = Math.max(err, Math.abs(out.h![i]! - ref.h![i]!));
    expect(err, 'h against the reference').toBeLessThan(1e-5);
    for (let k = 0; k < 3; k++) {
      const two = models[2]!.run({ x: { data: x, shape: [B, T, I] } });
      for (const name of Object.keys(out)) expect(Array.from(two[name]!), `${name} on 2 threads, call ${k}`).toEqual(Array.from(out[name]!));
    }
  });

  test('the recurrence\'s body splits: its loop runs on every thread, to the run-time count', () => {
    expect(source).toMatch(/function \w+_loop\(tid: i32, nt: i32\)/);
    expect(source).toMatch(/for \(let t: i32 = \(size_T\) - 1; t >= 0; t--\)/);
    expect(source).toMatch(/for \(let t: i32 = 0; t < \(size_T\+1\); t\+\+\)/);
  });
});

describe('loop over a run-time count: misuse', () => {
  const tr = (f: (x: Tensor) => unknown) => traceModel(defineModel({
    name: 't', module: net, inputs: { x: { shape: ['B', 'T', 2], max: { B: 2, T: 4 } } },
    forward: (_m: Net, { x }: Record<string, Tensor>) => f(x!) as Record<string, Tensor>,
  }));
  const body = ({ h }: Record<string, Tensor>) => ({ next: { h: h! }, emit: { y: h! } });
  const h = () => ({ h: zeros([2]) });
  test('a count that is not one of the model\'s sizes, or not at least 1', () => {
    expect(() => tr(() => loop('S', h(), body))).toThrow("loop: steps must be an integer in [1, 2^31) or a size of the model's inputs (a name such as 'T', a polynomial such as 'T+1', or x.dim(i)); got 'S': 'S' is not a size of the model's inputs (B, T)");
    expect(() => tr(() => loop('T*S', h(), body))).toThrow("got 'T*S': 'S' is not a size of the model's inputs (B, T)");
    expect(() => tr(() => loop('T-1', h(), body))).toThrow("got 'T-1', which is 0 at its least sizes (every size runs from 1 to its bound)");
    expect(() => tr(() => loop('5-T', h(), body))).toThrow("got '-T+5', which is not largest at the bounds");
    expect(() => tr(() => loop('T(', h(), body))).toThrow("got 'T(', which is not a size name or a polynomial of size names");
    expect(() => tr(() => loop(0, h(), body))).toThrow('loop: steps must be an integer in [1, 2^31) or a size of the model\'s inputs (a name such as \'T\', a polynomial such as \'T+1\', or x.dim(i)); got 0');
    expect(() => tr(() => loop(-2, h(), body))).toThrow('got -2');
    expect(() => tr(() => loop('T-T', h(), body))).toThrow('got "T-T", which names no size');
    expect(() => tr(() => loop(2.5, h(), body))).toThrow('got 2.5');
    expect(() => tr(() => loop('T', h(), body, { reverse: 1 as never }))).toThrow('loop: reverse must be a boolean, got 1');
  });
  test('a run-time count inside another loop\'s body is refused; a fixed one there, and a run-time one around, are not', () => {
    expect(() => tr((x) => loop(2, h(), (c) => { loop(x.dim(1), h(), body); return body(c); }))).toThrow("loop: a count chosen at run time ('T') inside another loop's body is not supported");
    const g = tr((x) => loop(x.dim(1), h(), (c) => ({ next: c, emit: { y: loop(2, h(), body).y! } })));
    expect(g.outputs[0]!.node.type).toMatchObject({ shape: [4, 2, 2], dims: ['T', 2, 2] });
    // A graph built without the DSL: the loop's type rule refuses such a body too.
    const inner = tr((x) => loop(x.dim(1), h(), body)).outputs[0]!.node;
    const carried = node('input', [], { dtype: 'f32', shape: [2] }, { name: 'carried.h' }), t = node('input', [], { dtype: 'i32', shape: [] }, { name: 't' });
    const outer = makeGraph([carried, t], [{ name: 'next.h', node: carried }, { name: 'emit.y', node: inner }], [], { carried: 1 });
    expect(() => inferType('loop', [carried], { body: outer, steps: 2, carried: 1, axis: 0 })).toThrow("loop: a loop over a count chosen at run time (T) inside a loop's body is not supported");
  });
});
