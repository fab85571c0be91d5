// x.size(i) and x.shape of a dim chosen at run time give a SymSize (torch's SymInt): ops take it as
// the run-time size, and JavaScript arithmetic on it throws. It used to be the bound, so PyTorch's
// x.sum(1) / x.size(1) divided by 512 whatever T was, silently. Checked against hand-computed
// values (compiled and in the reference) and against the same module traced at a fixed size, where
// size(i) is a plain number; then misuse.
import { beforeAll, describe, expect, test } from 'vitest';
import { arange, cat, compileModel, defineModel, eye, F, full, fullLike, interpret, loop, Module, nn, ones, SymSize, traceModel, zeros, type InputSpec, type Tensor } from '../compiler/index.ts';
import { loadModelBytes, type Model } from '../runtime/model.ts';
import '../runtime/node.ts';

const MAX = { B: 3, T: 8 };
const seq = (B: number | string, C = 2): InputSpec => ({ shape: [B, 'T', C], max: MAX });
const data = (n: number) => Float32Array.from({ length: n }, (_, i) => ((i * 5) % 7) - 3 + 0.5 * (i % 2));

/** A mean over T written as torch ports write it, the lengths and positions from sizes, a mask. */
class Ported extends Module {
  forward(x: Tensor): Record<string, Tensor> {
    const [B, T] = x.size();
    return {
      mean: x.sum(1).div(x.size(1)), // torch's x.sum(1) / x.size(1)
      scaled: x.mul(T).sub(x.shape[1]!), // x * T - T
      lengths: full([B], T), // torch.full((B,), T): i32
      positions: arange(T).unsqueeze(0).expand(B, -1), // arange(T)[None].expand(B, -1)
      before: arange(T).lt(x.size(1)), // all true
      flat: x.view(x.size(0), -1), // [B, T·C]
      mask: F.causalMask(T),
      rolled: x.roll(1, 1), // torch.roll(x, 1, 1)
      table: arange(10).float().narrow(0, 2, T), // a positional table cut to the length
      onehot: F.oneHot(arange(T).neg().add(T).sub(1), T), // one_hot(T − 1 − arange(T), T)
    };
  }
}
const ported = new Ported();
const def = defineModel({ name: 'symsize', module: ported, inputs: { x: seq('B') }, forward: (m, i) => (m as Ported).forward(i.x!) });

/** What each output must be at B, T, by hand. */
function byHand(x: Float32Array, B: number, T: number, C = 2): Record<string, number[]> {
  const mean: number[] = [], scaled = Array.from(x, (v) => Math.fround(v * T) - T);
  for (let b = 0; b < B; b++) for (let c = 0; c < C; c++) {
    let s = 0;
    for (let t = 0; t < T; t++) s = Math.fround(s + x[(b * T + t) * C + c]!);
    mean.push(Math.fround(s / T));
  }
  const mask: number[] = [];
  for (let i = 0; i < T; i++) for (let j = 0; j < T; j++) mask.push(j > i ? 1 : 0);
  return {
    mean, scaled, lengths: Array<number>(B).fill(T), positions: Array.from({ length: B * T }, (_, i) => i % T),
    before: Array<number>(T).fill(1), flat: Array.from(x), mask,
    rolled: Array.from(x, (_, k) => x[Math.floor(k / (T * C)) * T * C + ((Math.floor(k / C) % T + T - 1) % T) * C + (k % C)]!),
    table: Array.from({ length: T }, (_, t) => t + 2),
    onehot: Array.from({ length: T * T }, (_, k) => (k % T === T - 1 - Math.floor(k / T) ? 1 : 0)),
  };
}

let model: Model;
beforeAll(async () => { model = await loadModelBytes((await compileModel(def)).bytes); }, 120_000);

describe('a SymSize goes to ops as the run-time size', () => {
  const g = traceModel(def);
  test('the outputs keep the sizes by name', () => {
    const dims = Object.fromEntries(g.outputs.map((o) => [o.name, o.node.type.dims ?? o.node.type.shape]));
    expect(dims).toEqual({ mean: ['B', 2], scaled: ['B', 'T', 2], lengths: ['B'], positions: ['B', 'T'], before: ['T'], flat: ['B', '2*T'], mask: ['T', 'T'], rolled: ['B', 'T', 2], table: ['T'], onehot: ['T', 'T'] });
    expect(g.outputs.find((o) => o.name === 'lengths')!.node.type.dtype).toBe('i32');
  });
  test.each([[1, 1], [2, 3], [3, 8]])('at B=%i, T=%i: compiled and the reference equal the values by hand', (B, T) => {
    const x = data(B * T * 2), want = byHand(x, B, T);
    const out = model.run({ x: { data: x, shape: [B, T, 2] } });
    const ref = interpret(g, { x: { data: x, shape: [B, T, 2] } });
    for (const [k, v] of Object.entries(want)) {
      expect(Array.from(out[k]!, Number), `${k} compiled`).toEqual(v);
      expect(Array.from(ref[k]!, Number), `${k} reference`).toEqual(v);
    }
  });
  test('at a fixed size, size() is a number and the module traces to the same values', () => {
    const fixed = traceModel(defineModel({ name: 'fixed', module: ported, inputs: { x: [2, 5, 2] }, forward: (m, i) => (m as Ported).forward(i.x!) }));
    const x = data(20), a = interpret(fixed, { x }), b = interpret(g, { x: { data: x, shape: [2, 5, 2] } });
    for (const k of Object.keys(a)) expect(Array.from(b[k]!), k).toEqual(Array.from(a[k]!));
  });
  test("nanoGPT's arange(0, t), arange(s, T), cls_token.repeat(B, 1, 1), an LSTM's h0 = zeros(L, x.size(0), H)", () => {
    const lstm = new nn.LSTM(2, 3, { batchFirst: true });
    const spec = { shape: ['B', 'T', 2], max: MAX, min: { T: 3 } } satisfies InputSpec;
    const run = (T: number, fixed: boolean) => {
      const gg = traceModel(defineModel({
        name: 'nano', module: lstm, inputs: { x: fixed ? { shape: [2, T, 2] } : spec },
        forward: (m, { x }) => {
          const [B, t] = x!.size(), h0 = zeros([1, B, 3]);
          return {
            pos: arange(0, t), tail: arange(2, t), cls: ones([1, 1, 2]).repeat(B, 1, 1).sum(1),
            y: (m as nn.LSTM).call(x!, [h0, h0.add(0.5)])[0],
          };
        },
      }));
      return interpret(gg, fixed ? { x: data(2 * T * 2) } : { x: { data: data(2 * T * 2), shape: [2, T, 2] } });
    };
    for (const T of [3, 6]) {
      const a = run(T, false), b = run(T, true);
      expect(Array.from(a.pos!)).toEqual(Array.from({ length: T }, (_, i) => i));
      expect(Array.from(a.tail!)).toEqual(Array.from({ length: T - 2 }, (_, i) => i + 2));
      expect(Array.from(a.cls!)).toEqual([1, 1, 1, 1]);
      for (const k of Object.keys(b)) expect(Array.from(a[k]!), k).toEqual(Array.from(b[k]!));
    }
    expect(() => traceModel(defineModel({ name: 'a', module: lstm, inputs: { x: seq('B') }, forward: (_m, { x }) => arange(2, x!.size(1)) })))
      .toThrow("arange: start 2 before the run-time end 'T' must be an integer in [0, 1), below the least 'T' (every size runs from 1 to its bound)");
  });
  test('as an operand of where, clamp, floor and trunc division, fmod, maximum and maskedFill: torch with the int T', () => {
    const v = [1, -2, 3.5, 4, 5, -6], gg = traceModel(defineModel({
      name: 'ops', module: new nn.Identity(), inputs: { x: seq('B') },
      forward: (_m, { x }) => {
        const T = x!.size(1);
        return {
          where: F.whereOp(x!.gt(0), T, x!), clamp: x!.clamp(undefined, T), floor: x!.floorDivide(T), trunc: x!.div(T, { roundingMode: 'trunc' }),
          fmod: x!.fmod(T), maximum: x!.maximum(T), filled: x!.maskedFill(x!.lt(0), T),
        };
      },
    }));
    const r = interpret(gg, { x: { data: Float32Array.from(v), shape: [1, 3, 2] } });
    expect(Object.fromEntries(Object.entries(r).map(([k, a]) => [k, Array.from(a)]))).toEqual({
      where: [3, -2, 3, 3, 3, -6], clamp: [1, -2, 3, 3, 3, -6], floor: [0, -1, 1, 1, 1, -2], trunc: [0, -0, 1, 1, 1, -2],
      fmod: [1, -2, 0.5, 1, 2, -0], maximum: [3, 3, 3.5, 4, 5, 3], filled: [1, 3, 3.5, 4, 5, 3],
    });
  });
  test('ViT cls token (expand(x.shape[0], -1, -1)), ones/eye/newZeros/slice/loop of a size, and dtypes as torch promotes a SymInt', () => {
    const ids = { shape: ['B', 'T'], dtype: 'i32', max: MAX } satisfies InputSpec;
    const gg = traceModel(defineModel({
      name: 'more', module: new nn.Identity(), inputs: { x: seq('B'), ids },
      forward: (_m, { x, ids }) => {
        const B = x!.size(0), T = x!.size(1);
        const { n } = loop(T, { n: zeros([1]) }, ({ n }) => ({ next: { n: n!.add(1) }, emit: {} }), { final: true });
        return {
          withCls: cat([ones([1, 1, 2]).expand(x!.shape[0]!, -1, -1), x!], 1),
          counts: ones([B, T]).sum(1), eye: eye(T).sum(), cells: x!.newZeros(B, T).add(1).sum(),
          head: x!.slice(1, 0, T), steps: n!,
          idsPlus: ids!.add(T), boolPlus: ids!.gt(0).add(T), floatDiv: ids!.div(T),
        };
      },
    }));
    const x = data(2 * 3 * 2), idsv = Int32Array.of(0, 1, 2, 3, 0, 5), r = interpret(gg, { x: { data: x, shape: [2, 3, 2] }, ids: { data: idsv, shape: [2, 3] } });
    expect(Object.fromEntries(gg.outputs.map((o) => [o.name, o.node.type.dtype]))).toMatchObject({ idsPlus: 'i32', boolPlus: 'i32', floatDiv: 'f32' });
    expect(Array.from(r.withCls!)).toEqual([1, 1, ...x.slice(0, 6), 1, 1, ...x.slice(6)]);
    expect(Array.from(r.counts!)).toEqual([3, 3]);
    expect(Array.from(r.eye!)).toEqual([3]);
    expect(Array.from(r.cells!)).toEqual([6]);
    expect(Array.from(r.head!)).toEqual(Array.from(x));
    expect(Array.from(r.steps!)).toEqual([3]);
    expect(Array.from(r.idsPlus!)).toEqual([3, 4, 5, 6, 3, 8]);
    expect(Array.from(r.boolPlus!)).toEqual([3, 4, 4, 4, 3, 4]);
    expect(Array.from(r.floatDiv!)).toEqual(Array.from(idsv, (v) => Math.fround(v / 3)));
  });
  test('a run-time size as the value of newFull and fullLike (of the tensor\'s dtype), as unflatten\'s sizes, tile\'s counts and arange\'s end with a step', () => {
    // Each was refused ('fill value must be a number', 'sizes must be … positive integers', 'reps must
    // be positive integers', 'end must be a 32-bit integer'), got the size 'T' chosen at run time.
    const ids = { shape: ['B', 'T'], dtype: 'i32', max: MAX } satisfies InputSpec;
    const gg = traceModel(defineModel({
      name: 'values', module: new nn.Identity(), inputs: { x: seq('B'), ids },
      forward: (_m, { x, ids }) => {
        const B = x!.size(0), T = x!.size(1);
        return {
          lengths: x!.newFull([B], T), idsFull: ids!.newFull([1], T), like: fullLike(x!.select(2, 0), T), boolLike: fullLike(ids!.gt(2), T),
          unflat: x!.flatten(0, 1).mul(2).unflatten(0, [B, T]), tiled: x!.select(1, 0).unsqueeze(1).tile(1, T, 1), evens: arange(0, T, 2), odds: arange(0, T, 2).add(1),
        };
      },
    }));
    const x = data(2 * 3 * 2), r = interpret(gg, { x: { data: x, shape: [2, 3, 2] }, ids: { data: Int32Array.of(0, 1, 2, 3, 0, 5), shape: [2, 3] } });
    expect(Object.fromEntries(gg.outputs.map((o) => [o.name, [o.node.type.dtype, o.node.type.dims ?? o.node.type.shape]]))).toEqual({
      lengths: ['f32', ['B']], idsFull: ['i32', [1]], like: ['f32', ['B', 'T']], boolLike: ['bool', ['B', 'T']],
      unflat: ['f32', ['B', 'T', 2]], tiled: ['f32', ['B', 'T', 2]], evens: ['i32', ['floor((T+1)/2)']], odds: ['i32', ['floor((T+1)/2)']],
    });
    expect(Object.fromEntries(Object.entries(r).map(([k, a]) => [k, Array.from(a, Number)]))).toEqual({
      lengths: [3, 3], idsFull: [3], like: [3, 3, 3, 3, 3, 3], boolLike: [1, 1, 1, 1, 1, 1],
      unflat: Array.from(x, (v) => v * 2), tiled: Array.from({ length: 12 }, (_, i) => x[Math.floor(i / 6) * 6 + (i % 2)]!), evens: [0, 2], odds: [1, 3],
    });
  });
});

describe('misuse', () => {
  const tr = (f: (x: Tensor) => Tensor | number) => traceModel(defineModel({ name: 'm', module: new nn.Identity(), inputs: { x: seq('B') }, forward: (_m, i) => f(i.x!) as Tensor }));
  const said = "size(1) of f32[B, T, 2] is 'T', a size chosen at run time (at most 8): JavaScript arithmetic or comparison on it would use its bound, not the size";
  test('JavaScript arithmetic, comparison and loops on a run-time size throw, naming it and the way out', () => {
    expect(() => tr((x) => x.sum(1).div(x.size(1) * 1))).toThrow(said);
    expect(() => tr((x) => x.view(x.size(0) * x.size(1), 2))).toThrow("size(0) of f32[B, T, 2] is 'B', a size chosen at run time (at most 3)");
    expect(() => tr((x) => x.view(-1, x.size(1) + 0))).toThrow(said);
    expect(() => tr((x) => { for (let t = 0; t < x.size(1); t++) x = x.add(1); return x; })).toThrow(said);
    expect(() => tr((x) => x.mul(Math.sqrt(x.size(1))))).toThrow(`${said}. Give it to an op as it is (x.div(n), x.view(n, -1), zeros([n]), arange(n)); for a shape use -1, flatten, or sizes by name (x.dims; x.reshape(`);
    expect(() => tr((x) => x.size(1) > 4 ? x : x.neg())).toThrow(said);
    // eslint-disable-next-line eqeqeq
    expect(() => tr((x) => ((x.size(1) as unknown) == 1 ? x : x.neg()))).toThrow(said);
  });
  test('where an op cannot take a run-time size it says so by name', () => {
    expect(() => tr((x) => x.topk(x.size(1), 1)[0]!)).toThrow("got the size 'T' chosen at run time");
    expect(() => tr((x) => x.narrow(1, 1, x.size(1)))).toThrow("narrow: start 1 + length 'T' (at most 8) may leave dim 1 of [B, T, 2], where torch raises; the window must fit at every size the length may take");
    expect(() => tr((x) => x.select(0, 0).narrow(0, 3, x.size(1)))).toThrow("narrow: start 3 + length 'T' (at most 8) may leave dim 0 of [T, 2]");
    expect(() => tr((x) => cat([x, x], 1).split([x.size(1), 1], 1)[0]!)).toThrow('split: sizes [T, 1] add up to T+1, but dim 1 of [B, 2*T, 2] is 2*T');
    expect(() => tr((x) => F.interpolate(x.transpose(1, 2), { size: x.size(0) }))).toThrow(`interpolate: size "B" for dim 2 of input [B, 2, T] is no fixed whole multiple s of it, so PyTorch's scale in/out would depend on the size; a size chosen at run time is taken where it is one (such as '2*H' of 'H'), as scaleFactor s`);
    // DeepLab's ASPP pooling upsamples a 1×1 to x.shape[-2:]: H times 1, but no fixed multiple.
    expect(() => tr((x) => F.interpolate(x.transpose(1, 2).mean(2, true), { size: x.size(1) }))).toThrow(`interpolate: size "T" for dim 2 of input [B, 2, 1] is no fixed whole multiple s of it`);
  });
  test('a one_hot over a run-time class count checks its indices against the count at run time, compiled and in the reference', async () => {
    const oh = defineModel({ name: 'oh', module: new nn.Identity(), inputs: { x: seq('B'), t: { shape: ['B'], dtype: 'i32', max: { B: 3 } } }, forward: (_m, i) => F.oneHot(i.t!, i.x!.size(1)) });
    const m = await loadModelBytes((await compileModel(oh)).bytes), g = traceModel(oh);
    const feeds = (t: number[], T: number) => ({ x: { data: data(t.length * T * 2), shape: [t.length, T, 2] }, t: { data: Int32Array.from(t), shape: [t.length] } });
    expect(Array.from(m.run(feeds([2, 0], 3)).y!)).toEqual([0, 0, 1, 1, 0, 0]);
    expect(Array.from(interpret(g, feeds([2, 0], 3)).y!)).toEqual([0, 0, 1, 1, 0, 0]);
    expect(() => m.run(feeds([0, 3], 3))).toThrow('gather: index 3 is outside [0, 3)');
    expect(() => interpret(g, feeds([-1], 3))).toThrow('gather: index -1 is outside [0, 3)');
    expect(Array.from(m.run(feeds([3], 4)).y!)).toEqual([0, 0, 0, 1]);   // usable after the trap
  });
  test('a fixed dim is a plain number; text shows a run-time size by name; the bounds stay in maxShape', () => {
    tr((x) => {
      expect(x.size(2)).toBe(2);
      expect(typeof x.shape[2]).toBe('number');
      expect(x.size(1)).toBeInstanceOf(SymSize);
      expect(`${x.size(1)}`).toBe('T');
      expect(x.shape.map(String)).toEqual(['B', 'T', '2']);
      expect(x.maxShape).toEqual([3, 8, 2]);
      expect(x.maxSize(-2)).toBe(8);
      // x.shape[-1], as in Python (a plain array gives undefined); the array itself is unchanged.
      expect(x.shape[-1]).toBe(2);
      expect(`${x.shape[-2]}`).toBe('T');
      const size = x.size();
      expect(size[-3]).toBe(size[0]);
      expect(x.shape[-4]).toBeUndefined();
      expect(Object.keys(x.shape)).toEqual(['0', '1', '2']);
      expect([...x.shape].map(String)).toEqual(['B', 'T', '2']);
      return x;
    });
  });
});
