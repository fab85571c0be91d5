// Buffers PyTorch saved in a state_dict that a port computes itself (Hugging Face GPT-2's
// attn.bias causal mask): this.unusedEntry(name, shape?) accepts and ignores them, and loading a
// file with such entries undeclared names the module and the fix.
import { expect, test } from 'vitest';
import { interpret, nn, traceModel, defineModel, type Tensor } from '../compiler/index.ts';

const f = (shape: number[], values: number[]) => ({ shape, data: Float32Array.from(values) });

class Attn extends nn.Module {
  c_attn = new nn.Linear(2, 2);
  constructor(declare: 'none' | 'any' | 'shaped') {
    super();
    if (declare === 'any') this.unusedEntry('bias');
    if (declare === 'shaped') this.unusedEntry('bias', [1, 1, 2, 2]);
  }
  forward(x: Tensor): Tensor { return this.c_attn.call(x); }
}
class Block extends nn.Module {
  attn: Attn;
  constructor(declare: 'none' | 'any' | 'shaped') { super(); this.attn = new Attn(declare); }
  forward(x: Tensor): Tensor { return this.attn.call(x); }
}

const sd = {
  'attn.c_attn.weight': f([2, 2], [1, 2, 3, 4]),
  'attn.c_attn.bias': f([2], [0.5, -1]),
  'attn.bias': f([1, 1, 2, 2], [1, 0, 1, 1]), // the causal mask HF GPT-2 saves
};

test('an entry declared with unusedEntry loads and is ignored; the model computes what its parameters say', () => {
  for (const declare of ['any', 'shaped'] as const) {
    const m = new Block(declare).loadStateDict(sd);
    const def = defineModel({ name: 'b', module: m, inputs: { x: [1, 2] } });
    const y = interpret(traceModel(def), { x: Float32Array.from([1, -2]) }).y as Float32Array;
    // [1·1 + 2·(−2) + 0.5, 3·1 + 4·(−2) − 1]
    expect(Array.from(y)).toEqual([-2.5, -6]);
    expect(m.stateDict().has('attn.bias')).toBe(false);
  }
  // Optional, as num_batches_tracked: a file without it loads too.
  const { 'attn.bias': _, ...without } = sd;
  expect(() => new Block('any').loadStateDict(without)).not.toThrow();
});

test('an undeclared buffer is refused with the module that could declare it; a declared shape is checked', () => {
  expect(() => new Block('none').loadStateDict(sd)).toThrow(/unexpected: attn\.bias.*Attn 'attn' could declare 'bias' with this\.unusedEntry\('bias'\)/);
  expect(() => new Block('shaped').loadStateDict({ ...sd, 'attn.bias': f([1, 1, 1, 4], [1, 0, 1, 1]) })).toThrow(/attn\.bias: expected \[1, 1, 2, 2\], found \[1, 1, 1, 4\]/);
  // BatchNorm's num_batches_tracked keeps its scalar shape.
  const bn = new nn.BatchNorm1d(2), p = (v: number[]) => f([2], v);
  expect(() => bn.loadStateDict({ weight: p([1, 1]), bias: p([0, 0]), running_mean: p([0, 0]), running_var: p([1, 1]), num_batches_tracked: f([2], [1, 1]) })).toThrow(/num_batches_tracked: expected \[\], found \[2\]/);
});

test('unusedEntry misused is refused by name', () => {
  class Bad extends nn.Module {
    constructor(name: unknown, shape?: unknown, twice = false) {
      super();
      this.unusedEntry(name as string, shape as number[]);
      if (twice) this.unusedEntry(name as string);
    }
    forward(x: Tensor): Tensor { return x; }
  }
  expect(() => new Bad('a.b')).toThrow(/name must be a non-empty string without '\.', got/);
  expect(() => new Bad('bias', [1, -1])).toThrow(/unused entry 'bias' needs a shape of integers ≥ 0 or none/);
  expect(() => new Bad('bias', undefined, true)).toThrow(/'bias' is registered twice/);
});
