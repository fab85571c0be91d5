import { describe, expect, test } from 'vitest';
import { nn, traceModel, ModelDefinitionError, type Tensor } from '../compiler/dsl/index.ts';
import { printGraph } from '../compiler/ir/print.ts';

describe('DSL', () => {
  test("state_dict names follow PyTorch's: Sequential indices and nested modules", () => {
    class Net extends nn.Module {
      features = new nn.Sequential(new nn.Conv2d(3, 8, 3), new nn.ReLU(), new nn.Conv2d(8, 8, 3));
      head = new nn.Linear(8, 4, { bias: false });
      blocks = [new nn.Linear(4, 4), new nn.Linear(4, 4)];
      forward(x: Tensor): Tensor { return x; }
    }
    const names = new Net().namedParameters().map(([k, p]) => `${k}:${p.shape}`);
    expect(names).toEqual([
      'features.0.weight:8,3,3,3', 'features.0.bias:8', 'features.2.weight:8,8,3,3', 'features.2.bias:8',
      'head.weight:4,8', 'blocks.0.weight:4,4', 'blocks.0.bias:4', 'blocks.1.weight:4,4', 'blocks.1.bias:4',
    ]);
  });

  test('a shape mismatch throws at definition time naming the op, the module path and both shapes', () => {
    class Net extends nn.Module {
      body = new nn.Sequential(new nn.Linear(10, 20), new nn.ReLU(), new nn.Linear(30, 5));
      forward(x: Tensor): Tensor { return this.body.call(x); }
    }
    const def = { name: 'bad', module: new Net(), inputs: { x: [2, 10] } };
    expect(() => traceModel(def)).toThrow(ModelDefinitionError);
    expect(() => traceModel(def)).toThrow("linear: input [2, 20] has 20 features but weight [5, 30] expects 30 in module 'body.2' (Linear)");
  });

  test('broadcast and matmul errors name both shapes', () => {
    const add = { name: 'a', module: new nn.Identity(), inputs: { x: [2, 3], y: [4] }, forward: (_m: nn.Module, i: Record<string, Tensor>) => i.x!.add(i.y!) };
    expect(() => traceModel(add)).toThrow('add: shapes do not broadcast: [2, 3] vs [4]');
    const mm = { name: 'm', module: new nn.Identity(), inputs: { x: [2, 3], y: [4, 5] }, forward: (_m: nn.Module, i: Record<string, Tensor>) => i.x!.matmul(i.y!) };
    expect(() => traceModel(mm)).toThrow('matmul: inner dimensions differ: [2, 3] (k=3) · [4, 5] (k=4)');
    const conv = { name: 'c', module: new nn.Conv2d(3, 4, 3), inputs: { x: [1, 2, 8, 8] } };
    expect(() => traceModel(conv)).toThrow("conv2d: input has 2 channels but weight [4, 3, 3, 3] expects 3 in module '<root>' (Conv2d)");
  });

  test('loadStateDict lists every missing, unexpected and mis-shaped tensor in one error', () => {
    const m = new nn.Sequential(new nn.Linear(3, 4), new nn.ReLU(), new nn.Linear(4, 2));
    const sd = new Map([
      ['0.weight', { shape: [4, 3], data: new Float32Array(12) }],
      ['0.bias', { shape: [5], data: new Float32Array(5) }],
      ['2.weight', { shape: [2, 4], data: new Float32Array(8) }],
      ['3.weight', { shape: [1], data: new Float32Array(1) }],
    ]);
    expect(() => m.loadStateDict(sd)).toThrow('loadStateDict into Sequential: mis-shaped: 0.bias: expected [4], found [5] | missing: 2.bias | unexpected: 3.weight');
  });

  test('loadStateDict takes a plain object too, and refuses what is not a state_dict naming the tensor', () => {
    const m = new nn.Linear(2, 1);
    m.loadStateDict({ weight: { shape: [1, 2], data: Float32Array.of(3, 4) }, bias: { shape: [1], data: [5] } });
    expect(Array.from(m.weight.data)).toEqual([3, 4]);
    expect(Array.from(m.bias!.data)).toEqual([5]);
    for (const bad of [undefined, null, 5, [1], new Float32Array(2)]) {
      expect(() => m.loadStateDict(bad as never)).toThrow(/^loadStateDict into Linear: expected a state_dict, a Map or an object of \{ shape, data \} by parameter name .*; got /);
    }
    expect(() => m.loadStateDict({ weight: Float32Array.of(1, 2), bias: { shape: [1], data: [5] } } as never)).toThrow('loadStateDict into Linear: weight: expected { shape, data: Float32Array }, got Float32Array(2) without a shape');
    expect(() => m.loadStateDict({ weight: { shape: [1, 2], data: Float32Array.of(1) }, bias: { shape: [1], data: new Float64Array(1) } } as never))
      .toThrow('loadStateDict into Linear: weight: shape [1, 2] needs 2 values, data has 1; bias: expected { shape, data: Float32Array }, got data Float64Array(1)');
    expect(() => m.loadStateDict({ weight: { shape: [1, -2], data: [] } } as never)).toThrow('weight: expected { shape, data: Float32Array }, got shape [1, -2] (not non-negative integers)');
    expect(() => m.loadStateDict(new Map(), null as never)).toThrow('loadStateDict: options must be an object');
    expect(() => m.loadStateDict(new Map(), { strict: 'no' } as never)).toThrow('loadStateDict: option strict must be true or false, got "no"');
    expect(Array.from(m.weight.data)).toEqual([3, 4]); // refused loads wrote nothing
  });

  test('loadStateDict copies values by name', () => {
    const m = new nn.Linear(2, 1);
    m.loadStateDict(new Map([['weight', { shape: [1, 2], data: Float32Array.of(3, 4) }], ['bias', { shape: [1], data: Float32Array.of(5) }]]));
    expect(Array.from(m.weight.data)).toEqual([3, 4]);
    expect(Array.from(m.bias!.data)).toEqual([5]);
  });

  test('tracing records PyTorch-like ops; reductions over non-adjacent axes are legal', () => {
    const def = { name: 't', module: new nn.Identity(), inputs: { x: [2, 3, 4] }, forward: (_m: nn.Module, i: Record<string, Tensor>) => i.x!.sum([0, 2]) };
    expect(printGraph(traceModel(def))).toContain(': f32[3]');
  });

  test('operations outside trace() are rejected clearly', () => {
    const m = new nn.Linear(2, 2);
    expect(() => m.weight.t).toThrow(/only inside trace\(\)/);
  });
});
