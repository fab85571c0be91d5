// ReLU6, Hardtanh, ELU, Softplus (also with a threshold below 17), Hardsigmoid, Hardswish, Mish, Softsign, PReLU and GLU against
// PyTorch 1.13 (tests/fixtures/torch-extra/activations, made by make_activations.py), compiled
// (every test ISA) and in the reference interpreter; then hand values and misuse.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { compileModel, defineModel, F, interpret, Module, nn, readSafetensors, stateDictFrom, traceModel, type Tensor } from '../compiler/index.ts';
import { loadModelBytes } from '../runtime/model.ts';
import { TEST_ISAS } from './helpers/isa.ts';
import { expectTorch } from './helpers/torch.ts';

const FIX = join(import.meta.dirname, 'fixtures', 'torch-extra', 'activations');
const read = (f: string) => readSafetensors(readFileSync(join(FIX, f)), `activations/${f}`);

class Net extends Module {
  prelu1 = new nn.PReLU();
  prelu3 = new nn.PReLU(3, 0.1);
  elu = new nn.ELU(0.5);
  hardtanh = new nn.Hardtanh(-2, 1.5);
  softplus = new nn.Softplus(2);
  glu = new nn.GLU(1);
  forward(): never { throw new Error('unused'); }
}

test('the activations match PyTorch, NaN, ±Inf, ±100 and tiny values included', async () => {
  const net = new Net();
  net.loadStateDict(stateDictFrom(read('weights.safetensors')));
  const io = read('io.safetensors');
  const def = defineModel({
    name: 'activations', module: net, inputs: { a: [6, 8], c: [2, 3, 5], g: [3, 8, 2] },
    forward: (m: Net, i: Record<string, Tensor>) => ({
      relu6: new nn.ReLU6().call(i.a!), hardtanh: m.hardtanh.call(i.a!), elu: m.elu.call(i.a!), elu1: F.elu(i.a!),
      softplus: F.softplus(i.a!), softplus_beta: m.softplus.call(i.a!), hardsigmoid: new nn.Hardsigmoid().call(i.a!),
      hardswish: new nn.Hardswish().call(i.a!), mish: new nn.Mish().call(i.a!), softsign: new nn.Softsign().call(i.a!),
      prelu1: m.prelu1.call(i.a!), prelu3: m.prelu3.call(i.c!), glu: m.glu.call(i.g!),
      softplus_thr: new nn.Softplus(0.5, 1).call(i.a!), softplus_thr_neg: F.softplus(i.a!, 3, -2),
    }),
  });
  const feeds = Object.fromEntries(['a', 'c', 'g'].map((n) => [n, io.get(`input.${n}`)!.data as Float32Array]));
  const ref = interpret(traceModel(def), feeds);
  const model = await loadModelBytes((await compileModel(def, { isas: TEST_ISAS })).bytes);
  const out = model.run(feeds);
  const names = [...io.keys()].filter((k) => k.startsWith('output.')).map((k) => k.slice(7));
  expect(names.length).toBe(15);
  for (const name of names) {
    const want = io.get(`output.${name}`)!.data as Float32Array;
    // −0 exactly where PyTorch has it, except PReLU's: its w·0 is −0 for a negative w there, +0 here.
    expectTorch(out[name] as Float32Array, want, `compiled ${name}`, { zeroSign: !name.startsWith('prelu') });
    expectTorch(ref[name] as Float32Array, want, `reference ${name}`, { zeroSign: !name.startsWith('prelu') });
  }
  model.dispose();
});

test('activations by hand, and their misuse refused clearly', () => {
  const run = (shape: number[], fwd: (x: Tensor) => Tensor, x: number[]) => {
    const g = traceModel(defineModel({ name: 'h', module: new nn.Identity(), inputs: { x: shape }, forward: (_m: Module, i: Record<string, Tensor>) => fwd(i.x!) }));
    return Array.from(interpret(g, { x: new Float32Array(x) }).y as Float32Array);
  };
  expect(run([4], (x) => F.hardtanh(x, -1, 2), [-5, 0.5, 7, Number.NaN])).toEqual([-1, 0.5, 2, Number.NaN]);
  expect(run([3], (x) => F.hardswish(x), [-4, 3, 1])).toEqual([-0, 3, Math.fround(4 / 6)]);
  expect(run([2], (x) => F.softsign(x), [1, -3])).toEqual([0.5, -0.75]);
  expect(run([3], (x) => F.softplus(x), [1000, -1000, 0])).toEqual([1000, 0, Math.fround(Math.log(2))]);
  // PReLU per channel: dim 1 of [N, C, …], dim 0 of a 1-D input.
  expect(run([2], (x) => F.prelu(x, x.mul(0).add(0.5)), [-2, 2])).toEqual([-1, 2]);
  expect(run([1, 2, 2], (x) => new nn.PReLU(2, 0.5).call(x), [-2, -4, 1, -8])).toEqual([-1, -2, 1, -4]);
  expect(new nn.PReLU(3).namedParameters().map(([k, p]) => [k, Array.from(p.data)])).toEqual([['weight', [0.25, 0.25, 0.25]]]);

  const tr = (shape: number[], fwd: (x: Tensor) => Tensor) => traceModel(defineModel({ name: 't', module: new nn.Identity(), inputs: { x: shape }, forward: (_m: Module, i: Record<string, Tensor>) => fwd(i.x!) }));
  expect(() => new nn.Hardtanh(2, 1)).toThrow(/Hardtanh: max_val 1 must not be below min_val 2/);
  expect(() => new nn.ELU(Number.NaN)).toThrow(/ELU: alpha must be a finite number, got NaN/);
  // A threshold below 17 switches to x where β·x > threshold (refused before): 2·0.6 > 1, 2·0.4 is not.
  expect(run([2], (x) => F.softplus(x, 2, 1), [0.6, 0.4])).toEqual([Math.fround(0.6), Math.fround(Math.log1p(Math.exp(Math.fround(0.8))) / 2)]);
  expect(() => new nn.Softplus(1, Number.NaN)).toThrow(/Softplus: threshold must be a number, got NaN/);
  expect(() => new nn.Softplus(-1)).toThrow(/Softplus: beta must be positive, got -1/);
  expect(() => new nn.PReLU(0)).toThrow(/PReLU: num_parameters must be a positive integer, got 0/);
  expect(() => new nn.PReLU(2, '0.3' as never)).toThrow(/PReLU: init must be a finite number, got "0.3"/);
  expect(() => new nn.GLU(0.5)).toThrow(/GLU: dim must be an integer, got 0.5/);
  expect(() => tr([2, 3], (x) => new nn.PReLU(2).call(x))).toThrow(/prelu: weight must be \[1\] or \[channels\] \(dim 1 of input \[2, 3\]\), got \[2\]/);
  expect(() => tr([2, 3], (x) => new nn.GLU().call(x))).toThrow(/glu: dim -1 of \[2, 3\] must be a fixed, even size/);
  expect(() => tr([2, 4], (x) => F.hardswish(x.cast('i32')))).toThrow(/hardswish: input must be f32, got i32/);
  expect(() => tr([2, 4], (x) => F.elu(x, 'a' as never))).toThrow(/elu: alpha must be a finite number, got "a"/);
});
