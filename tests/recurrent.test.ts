// Recurrent layers against the reference interpreter (odd sizes, layers, directions, batch
// layouts), and the stateful step API against whole-sequence runs.
import { describe, expect, test } from 'vitest';
import { compileModel } from '../compiler/driver/compile.ts';
import { loop, nn, traceModel, type Tensor } from '../compiler/dsl/index.ts';
import { constant } from '../compiler/dsl/tensor.ts';
import { interpret } from '../compiler/reference/interpret.ts';
import { loadModelBytes } from '../runtime/model.ts';
import { batches, checkGraph, maxRelErr, TEST_ISAS } from './helpers/e2e.ts';
import { rng } from '../compiler/dsl/module.ts';

const UNFUSED = ['constant-folding', 'dce', 'cse', 'epilogue-fusion', 'elementwise-fusion', 'memory-planning'];

describe('recurrent layers vs reference', () => {
  const cases: Array<[string, () => nn.Module, number[], boolean]> = [
    ['RNN tanh, H=1', () => new nn.RNN(3, 1, { batchFirst: true }), [2, 4, 3], true],
    ['RNN relu, 2 layers, seq-first', () => new nn.RNN(5, 17, { numLayers: 2, nonlinearity: 'relu' }), [6, 3, 5], false],
    ['LSTM H=5, 3 layers, bidirectional', () => new nn.LSTM(7, 5, { numLayers: 3, bidirectional: true, batchFirst: true }), [3, 9, 7], true],
    ['LSTM H=33, batch 1', () => new nn.LSTM(16, 33), [11, 1, 16], false],
    ['GRU H=17, bidirectional, seq-first', () => new nn.GRU(4, 17, { bidirectional: true }), [5, 2, 4], false],
    ['GRU unbatched input [T, I]', () => new nn.GRU(6, 9, { numLayers: 2 }), [4, 6], false],
    ['LSTM without bias', () => new nn.LSTM(4, 6, { bias: false, batchFirst: true }), [2, 3, 4], true],
  ];
  const both = batches({ fused: {}, unfused: { disablePasses: UNFUSED } });
  for (const [name, make, shape] of cases) {
    const check = both(() => traceModel({ name: 'r', module: make(), inputs: { x: shape }, forward: (m: nn.Module, i: Record<string, Tensor>): Record<string, Tensor> => {
      if (m instanceof nn.LSTM) { const [y, [h, c]] = m.call(i.x!); return { y, h_n: h, c_n: c }; }
      const [y, h] = (m as nn.GRU).call(i.x!);
      return { y, h_n: h };
    } }));
    test(name, async () => { await check(); });
  }

  test('wrong state shapes are definition errors naming the module and shapes', () => {
    const lstm = new nn.LSTM(4, 8, { numLayers: 2, batchFirst: true });
    const def = { name: 'bad', module: lstm, inputs: { x: [3, 5, 4], h: [1, 3, 8], c: [2, 3, 8] },
      forward: (m: nn.Module, i: Record<string, Tensor>) => (m as nn.LSTM).call(i.x!, [i.h!, i.c!])[0] };
    expect(() => traceModel(def)).toThrow("LSTM: h0 must be [2, 3, 8] (num_layers·directions, batch, hidden), got [1, 3, 8] in module '<root>' (LSTM)");
    const def2 = { name: 'bad2', module: lstm, inputs: { x: [3, 5, 6] } };
    expect(() => traceModel(def2)).toThrow('LSTM: input has 6 features, expected input_size 4 (input [3, 5, 6])');
  });
});

describe('stateful step API', () => {
  for (const kind of ['LSTM', 'GRU'] as const) {
    test(`${kind}: run() over a sequence equals step() repeated, state() and setState()`, async () => {
      const L = 2, B = 2, T = 6, I = 5, H = 7;
      const rnn = kind === 'LSTM' ? new nn.LSTM(I, H, { numLayers: L, batchFirst: true }) : new nn.GRU(I, H, { numLayers: L, batchFirst: true });
      const state: Record<string, number[]> = kind === 'LSTM' ? { h: [L, B, H], c: [L, B, H] } : { h: [L, B, H] };
      const def = {
        name: kind, module: rnn, inputs: { x: [B, T, I] }, state,
        forward: (m: nn.Module, i: Record<string, Tensor>) => ({ y: (m as nn.GRU).call(i.x!)[0] }),
        entries: {
          step: {
            inputs: { x: [B, I] },
            forward: (m: nn.Module, i: Record<string, Tensor>, s: Record<string, Tensor>): { outputs: Record<string, Tensor>; state: Record<string, Tensor> } => {
              if (m instanceof nn.LSTM) {
                const [y, [h, c]] = m.call(i.x!.unsqueeze(1), [s.h!, s.c!]);
                return { outputs: { y: y.squeeze(1) }, state: { h, c } };
              }
              const [y, h] = (m as nn.GRU).call(i.x!.unsqueeze(1), s.h!);
              return { outputs: { y: y.squeeze(1) }, state: { h } };
            },
          },
        },
      };
      const compiled = await compileModel(def, { isas: TEST_ISAS });
      const model = await loadModelBytes(compiled.bytes);
      const r = rng(5);
      const x = Float32Array.from({ length: B * T * I }, () => r() * 2 - 1);
      const whole = model.run({ x }).y as Float32Array;
      expect(maxRelErr(whole, interpret(compiled.traced, { x }).y!)).toBeLessThan(2e-5);
      // One step at a time from zero state: the same numbers as the whole-sequence run.
      model.reset();
      for (let t = 0; t < T; t++) {
        const xt = new Float32Array(B * I);
        for (let b = 0; b < B; b++) xt.set(x.subarray((b * T + t) * I, (b * T + t + 1) * I), b * I);
        const yt = model.step({ x: xt }).y as Float32Array;
        for (let b = 0; b < B; b++) {
          for (let j = 0; j < H; j++) expect(Math.abs(yt[b * H + j]! - whole[(b * T + t) * H + j]!)).toBeLessThan(1e-6);
        }
      }
      // The state after T steps is the reference's final state; setState/reset move it.
      const st = model.state();
      expect(Object.keys(st)).toEqual(Object.keys(state));
      const ref = interpret(compiled.tracedEntries.step!, { x: new Float32Array(B * I) }, Object.fromEntries(Object.entries(st)));
      model.setState(st);
      const again = model.step({ x: new Float32Array(B * I) }).y!;
      expect(maxRelErr(again, ref.y!)).toBeLessThan(2e-5);
      expect(maxRelErr(model.state().h!, ref['state.h']!)).toBeLessThan(2e-5);
      model.reset();
      expect(Array.from(model.state().h!).every((v) => v === 0)).toBe(true);
      expect(() => model.setState({ q: new Float32Array(1) })).toThrow("setState(): unknown state 'q'");
    });
  }
});

describe('loops inside wasm', () => {
  test('loop checks its steps, carried values, body and axis where it is called', () => {
    const trace = (steps: unknown, carried: (x: Tensor) => unknown, body: unknown, opts?: unknown) => traceModel({
      name: 'l', module: new nn.Identity(), inputs: { x: [2] },
      forward: (_m, i) => ({ y: Object.values(loop(steps as number, carried(i.x!) as never, body as never, opts as never))[0]! }),
    });
    const count = ({ h }: Record<string, Tensor>) => ({ next: { h: h!.add(1) }, emit: { o: h! } });
    const rows = (steps: unknown) => Array.from(interpret(trace(steps, (x) => ({ h: x }), count), { x: Float32Array.of(1, 2) }).y!);
    expect(rows(3)).toEqual([1, 2, 2, 3, 3, 4]);
    // 1.5 steps traced a loop of 1.5 ([1, 2, 2]: three values of [steps, 2]); "3" was taken as 3, 2^40 a RangeError.
    for (const [s, shown] of [[1.5, '1.5'], ['3', '"3"'], [2 ** 40, String(2 ** 40)], [3n, '3n'], [0, '0']] as const) {
      expect(() => rows(s)).toThrow(`loop: steps must be an integer in [1, 2^31) or a size of the model's inputs (a name such as 'T', a polynomial such as 'T+1', or x.dim(i)); got ${shown}`);
    }
    // Were raw TypeErrors from inside loop().
    expect(() => trace(3, () => null, count)).toThrow('loop: carried must be an object of tensors by name, got null');
    expect(() => trace(3, () => ({ h: 5 }), count)).toThrow("loop: carried 'h' must be a tensor, got 5");
    expect(() => trace(3, (x) => ({ h: x }), 5)).toThrow('loop: body must be a function (carried, t) => ({ next, emit }), got 5');
    expect(() => trace(3, (x) => ({ h: x }), () => undefined)).toThrow('loop: the body must return { next, emit }, got undefined');
    expect(() => trace(3, (x) => ({ h: x }), ({ h }: Record<string, Tensor>) => ({ next: { h }, emit: { o: 5 } }))).toThrow("loop: the body's emit 'o' must be a tensor, got 5");
    expect(() => trace(3, (x) => ({ h: x }), count, { axis: 5 })).toThrow('loop: axis must be an integer in [-2, 1] (the emitted [2] stacked over the steps), got 5');
    expect(() => trace(3, (x) => ({ h: x }), count, { axis: 1.5 })).toThrow('got 1.5');
  });

  test('a loop carries values, captures outer tensors and stacks emits along an axis', async () => {
    const g = traceModel({
      name: 'loop', module: new nn.Linear(4, 4), inputs: { x: [2, 4], y: [2, 4] },
      forward: (m, i) => {
        const lin = m as nn.Linear;
        const start = constant(Int32Array.of(0, 0), [2], 'i32', 'start');
        const out = loop(5, { h: i.x!, k: start }, ({ h, k }, t) => {
          const h2 = lin.call(h!).tanh().add(i.y!.mul(0.5));
          const idx = h2.argmax(-1);
          return { next: { h: h2, k: idx }, emit: { h: h2, k: idx, t: t.float().reshape(1) } };
        }, { axis: 1 });
        return { h: out.h!, k: out.k!, t: out.t! };
      },
    });
    const r = await checkGraph(g);
    expect(Array.from(r.outputs.t!)).toEqual([0, 1, 2, 3, 4]);
    expect(r.outputs.k).toBeInstanceOf(Int32Array);
    expect(r.graph.nodes.find((n) => n.op === 'loop')!.type.shape).toEqual([2, 5, 4]);
  });
});
