// The Tensor methods min/amin, argmin, cumsum, var, std, norm, logsumexp, flip, roll, tril, triu,
// maskedFill, sign, square, isnan/isinf/isfinite, narrow and unbind against PyTorch 1.13
// (tests/fixtures/torch-extra/tensor_methods, made by make_tensor_methods.py; NaN, ±inf, −0 and
// INT32_MIN among the inputs), compiled (every test ISA, and 2 threads) and in the reference; misuse.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { compileModel, defineModel, F, interpret, nn, readSafetensors, traceModel, type Module, type Tensor } from '../compiler/index.ts';
import { loadModelBytes } from '../runtime/model.ts';
import '../runtime/node.ts';
import { TEST_ISAS } from './helpers/isa.ts';
import { expectTorchCase } from './helpers/torch.ts';

const FIX = join(import.meta.dirname, 'fixtures', 'torch-extra', 'tensor_methods');
const read = (f: string) => readSafetensors(readFileSync(join(FIX, f)), `tensor_methods/${f}`);

test('Tensor methods match PyTorch (NaN, ±inf, −0, INT32_MIN)', async () => {
  const def = defineModel({
    name: 'methods', module: new nn.Identity(),
    inputs: { x: [2, 3, 4], s: [3, 4], i: { shape: [3, 4], dtype: 'i32' }, m: { shape: [3, 4], dtype: 'bool' } },
    forward: (_m: Module, { x, s, i, m }: Record<string, Tensor>) => ({
      amin: x!.amin(1), amin_all: s!.amin(), amin_keep: x!.amin([0, 2], true), amin_i: i!.amin(0),
      argmin: x!.argmin(1), argmin_all: s!.argmin(), argmin_i: i!.argmin(1, true),
      cumsum: x!.cumsum(2), cumsum_0: s!.cumsum(0), cumsum_i: i!.cumsum(1), cumsum_b: m!.cumsum(-1),
      var: s!.var(1), var_biased: s!.var(0, { unbiased: false, keepdim: true }), var_all: s!.var(), std: s!.std([0, 1], { correction: 2 }),
      var_one: s!.slice(1, 0, 1).var(1),
      norm: s!.norm(), norm_1: s!.norm(1, 1), norm_inf: s!.norm(Infinity, 0, true), norm_ninf: s!.norm(-Infinity, 1),
      norm_0: s!.norm(0, 1), norm_3: s!.abs().norm(3, 1),
      lse: x!.logsumexp(2), lse_keep: s!.logsumexp([0, 1], true),
      flip: x!.flip(0, 2), roll: x!.roll(1, 2), roll_2: x!.roll([-1, 5], [0, 1]), roll_flat: s!.roll(3),
      tril: s!.tril(), triu: x!.triu(1), tril_neg: s!.tril(-1),
      masked: x!.maskedFill(m!.unsqueeze(0).expand(2, 3, 4), -7.5), sign: x!.sign(), square: s!.square(),
      isnan: x!.isnan().float(), isinf: x!.isinf().float(), isfinite: x!.isfinite().float(),
      narrow: x!.narrow(2, 1, 2), unbind_1: x!.unbind(1)[1]!,
    }),
  });
  expect(await expectTorchCase(def, read('io.safetensors'), { threads: 2 })).toHaveLength(39);
});

test('Tensor methods: misuse', () => {
  const tr = (f: (x: Tensor, b: Tensor) => Tensor, shape: (number | string)[] = [3, 4]) => traceModel(defineModel({
    name: 't', module: new nn.Identity(), inputs: { x: { shape, ...(shape.includes('T') ? { max: { T: 6 } } : {}) }, b: { shape: [3, 4], dtype: 'bool' } },
    forward: (_m: Module, i: Record<string, Tensor>) => f(i.x!, i.b!),
  }));
  expect(() => tr((_x, b) => b.min())).toThrow(/min: bool input \(cast it to int or float first\)/);
  expect(() => tr((x) => x.var(0, { unbiased: true, correction: 1 }))).toThrow(/var: give unbiased or correction, not both/);
  expect(() => tr((x) => x.var(0, { correction: -1 }))).toThrow(/var: correction must be a non-negative integer, got -1/);
  expect(() => tr((x) => x.var(0), [3, 'T'])).not.toThrow();
  expect(() => tr((x) => x.var(1, { unbiased: false }), [3, 'T'])).not.toThrow();
  expect(() => tr((x) => x.norm('nuc' as never))).toThrow(/norm: p must be a number, Infinity, -Infinity or 'fro', got "nuc"/);
  // flip(1, 1) was silently the identity (flipped twice); torch refuses a repeated dim.
  expect(() => tr((x) => x.flip(1, -1))).toThrow(/dim 1 appears more than once in the dims \[1, -1\]/);
  expect(() => tr((x) => x.flip([0, 0]))).toThrow(/dim 0 appears more than once in the dims \[0, 0\]/);
  expect(() => tr((x) => x.flip())).not.toThrow();
  expect(() => tr((x) => x.roll([1, 2], 0))).toThrow(/roll: 2 shifts for 1 dims/);
  expect(() => tr((x) => x.roll(1.5, 0))).toThrow(/roll: shifts must be integers, got 1.5/);
  expect(() => tr((x) => x.sum(0).tril())).toThrow(/tril: input must have at least 2 dims, got \[4\]/);
  expect(() => tr((x) => x.triu(0.5))).toThrow(/triu: diagonal must be an integer, got 0.5/);
  expect(() => tr((x) => x.maskedFill(x, 0))).toThrow(/masked_fill: mask must be a bool tensor, got f32/);
  expect(() => tr((x) => x.narrow(1, 0, 0))).toThrow(/narrow: length must be a positive integer, got 0/);
});

test('t(), T, the sign of a bool and a Parameter passed for its tensor', () => {
  const g = traceModel(defineModel({
    name: 't', module: new nn.Identity(), inputs: { x: [2, 3], v: [3], c: [2, 1, 3] },
    forward: (_m: Module, { x, v, c }: Record<string, Tensor>) => ({ t: x!.t(), v: v!.t(), T: c!.T, sign_b: x!.gt(3).sign().float() }),
  }));
  const x = Float32Array.of(1, 2, 3, 4, 5, 6), c = Float32Array.of(1, 2, 3, 4, 5, 6);
  const out = interpret(g, { x, v: Float32Array.of(7, 8, 9), c });
  expect(Array.from(out.t!)).toEqual([1, 4, 2, 5, 3, 6]);
  expect(Array.from(out.v!)).toEqual([7, 8, 9]);
  expect(Array.from(out.T!)).toEqual([1, 4, 2, 5, 3, 6]); // [3, 1, 2]
  expect(Array.from(out.sign_b!)).toEqual([0, 0, 0, 1, 1, 1]); // torch.sign of a bool is itself (was refused as 'gt: … got bool')
  expect(g.outputs.map((o) => o.node.type.shape)).toEqual([[3, 2], [3], [3, 1, 2], [2, 3]]);
  const lin = new nn.Linear(3, 2);
  expect(() => traceModel(defineModel({ name: 'p', module: lin, inputs: { x: [2, 3] }, forward: (m: nn.Linear, i: Record<string, Tensor>) => i.x!.matmul(m.weight as never) })))
    .toThrow(/matmul: expected a tensor, got a Parameter \(its tensor is \.t\)/);
  expect(() => traceModel(defineModel({ name: 'p', module: lin, inputs: { x: [2, 3] }, forward: (m: nn.Linear, i: Record<string, Tensor>) => F.linear(i.x!, m.weight as never) })))
    .toThrow(/linear: weight must be a tensor, got a Parameter \(its tensor is \.t\)/);
  expect(() => traceModel(defineModel({ name: 'p', module: lin, inputs: { x: [2, 1, 3] }, forward: (_m: Module, i: Record<string, Tensor>) => i.x!.t() })))
    .toThrow(/t: expects a tensor of at most 2 dims, got \[2, 1, 3\] \(transpose\(a, b\) or mT for the last two\)/);
});

test('clamp with a NaN number bound, as PyTorch 1.13: alone it leaves x, with the other bound every element is NaN', () => {
  const g = traceModel(defineModel({
    name: 'c', module: new nn.Identity(), inputs: { x: [4] },
    forward: (_m: Module, { x }: Record<string, Tensor>) => ({ lo: x!.clamp(NaN), hi: x!.clamp(undefined, NaN), both: x!.clamp(NaN, 3), both2: x!.clamp(0, NaN) }),
  }));
  const out = interpret(g, { x: Float32Array.of(1, -2, NaN, Infinity) });
  expect(Array.from(out.lo!)).toEqual([1, -2, NaN, Infinity]);
  expect(Array.from(out.hi!)).toEqual([1, -2, NaN, Infinity]);
  expect(Array.from(out.both!)).toEqual([NaN, NaN, NaN, NaN]);
  expect(Array.from(out.both2!)).toEqual([NaN, NaN, NaN, NaN]);
});

test('flip along a size chosen at run time, and sum of i32 and bool (exact, torch: an int64 count), by hand at several sizes', () => {
  const g = traceModel(defineModel({
    name: 't', module: new nn.Identity(),
    inputs: { x: { shape: [2, 'T'], max: { T: 6 } }, i: { shape: [2, 'T'], dtype: 'i32', max: { T: 6 } } },
    forward: (_m: Module, { x, i }: Record<string, Tensor>) => ({
      flip: x!.flip(1), flip_both: x!.flip(0, 1), isum: i!.sum(1), isum_all: i!.sum(), isum_keep: i!.sum(0, true), bsum: i!.gt(0).sum(1),
    }),
  }));
  for (const T of [1, 4, 6]) {
    const x = Float32Array.from({ length: 2 * T }, (_, k) => 10 * Math.floor(k / T) + (k % T));
    const i = Int32Array.from({ length: 2 * T }, (_, k) => (k % 3 === 0 ? -(2 ** 30) : k));
    const out = interpret(g, { x, i }, undefined, { T });
    const row = (a: ArrayLike<number>, r: number) => Array.from(a).slice(r * T, r * T + T);
    expect(Array.from(out.flip!), `T ${T}`).toEqual([...row(x, 0).reverse(), ...row(x, 1).reverse()]);
    expect(Array.from(out.flip_both!), `T ${T}`).toEqual([...row(x, 1).reverse(), ...row(x, 0).reverse()]);
    const sums = [0, 1].map((r) => row(i, r).reduce((a, b) => (a + b) | 0, 0));
    expect(Array.from(out.isum!), `T ${T}`).toEqual(sums);
    expect(Array.from(out.isum_all!), `T ${T}`).toEqual([(sums[0]! + sums[1]!) | 0]);
    expect(Array.from(out.isum_keep!), `T ${T}`).toEqual(Array.from({ length: T }, (_, t) => (i[t]! + i[T + t]!) | 0));
    expect(Array.from(out.bsum!), `T ${T}`).toEqual([0, 1].map((r) => row(i, r).filter((v) => v > 0).length));
  }
  expect(g.outputs.find((o) => o.name === 'isum')!.node.type.dtype).toBe('i32');
});

test('var and std with a correction over a size chosen at run time divide by the call\'s N − correction (NaN or inf where it is 0, as PyTorch), and a slice with a step over it holds a floor of rows, by hand in f64 at T = 1, 2, 5, 7, compiled on 1 and 2 threads and in the reference', async () => {
  const def = defineModel({
    name: 'var_t', module: new nn.Identity(),
    inputs: { x: { shape: [2, 'T', 3], max: { T: 8 } } },
    forward: (_m: Module, { x }: Record<string, Tensor>) => ({
      var: x!.var(1), std_keep: x!.std(1, { keepdim: true }), var_c2: x!.var([1, 2], { correction: 2 }), var_all: x!.var(),
      every2: x!.slice(1, 0, undefined, 2), every3: x!.slice(1, 0, undefined, 3), // x[:, ::2], x[:, ::3]: floor((T+1)/2), floor((T+2)/3) rows
    }),
  });
  const g = traceModel(def);
  expect(g.outputs.filter((o) => o.name.startsWith('every')).map((o) => o.node.type.dims)).toEqual([[2, 'floor((T+1)/2)', 3], [2, 'floor((T+2)/3)', 3]]);
  const { bytes } = await compileModel(def, { isas: TEST_ISAS });
  const one = await loadModelBytes(bytes), two = await loadModelBytes(bytes, { threads: 2, threadPolicy: 'always' });
  // var of values by hand: Σ(v − mean)² / max(N − c, 0), in f64.
  const variance = (v: number[], c: number) => { const m = v.reduce((a, b) => a + b, 0) / v.length; return v.reduce((a, b) => a + (b - m) ** 2, 0) / Math.max(v.length - c, 0); };
  for (const T of [1, 2, 5, 7]) {
    const x = Float32Array.from({ length: 2 * T * 3 }, (_, k) => Math.sin(k * 1.7) * 3 + (k % 5));
    const at = (b: number, t: number, j: number) => x[(b * T + t) * 3 + j]!;
    const col = (b: number, j: number) => Array.from({ length: T }, (_, t) => at(b, t, j));
    const want = {
      var: [0, 1].flatMap((b) => [0, 1, 2].map((j) => variance(col(b, j), 1))),
      std_keep: [0, 1].flatMap((b) => [0, 1, 2].map((j) => Math.sqrt(variance(col(b, j), 1)))),
      var_c2: [0, 1].map((b) => variance([0, 1, 2].flatMap((j) => col(b, j)), 2)),
      var_all: [variance(Array.from(x), 1)],
      every2: [0, 1].flatMap((b) => Array.from({ length: T }, (_, t) => t).filter((t) => t % 2 === 0).flatMap((t) => [0, 1, 2].map((j) => at(b, t, j)))),
      every3: [0, 1].flatMap((b) => Array.from({ length: T }, (_, t) => t).filter((t) => t % 3 === 0).flatMap((t) => [0, 1, 2].map((j) => at(b, t, j)))),
    };
    const ref = interpret(g, { x }, undefined, { T }), out = one.run({ x: { data: x, shape: [2, T, 3] } }), out2 = two.run({ x: { data: x, shape: [2, T, 3] } });
    for (const [name, w] of Object.entries(want)) {
      for (const [who, got] of [['reference', ref[name]], ['compiled', out[name]]] as const) {
        const g32 = Array.from(got as Float32Array);
        expect(g32.length, `${who} ${name} T=${T}`).toBe(w.length);
        g32.forEach((v, k) => {
          if (!Number.isFinite(w[k]!)) expect(v, `${who} ${name}[${k}] T=${T}`).toBe(w[k]);
          else expect(Math.abs(v - w[k]!), `${who} ${name}[${k}] T=${T}: ${v} against ${w[k]}`).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(w[k]!)));
        });
      }
      expect(Array.from(out2[name] as Float32Array), `2 threads ${name} T=${T}`).toEqual(Array.from(out[name] as Float32Array));
    }
  }
  one.dispose(); two.dispose();
});

test('an integer tensor to a float exponent is float pow, as torch (x ** 0.5 of int lengths was refused by sqrt\'s name); an integer exponent stays refused', () => {
  const g = traceModel(defineModel({
    name: 'ipow', module: new nn.Identity(), inputs: { x: { shape: [4], dtype: 'i32' }, e: [4], b: { shape: [2], dtype: 'bool' } },
    forward: (_m: Module, i: Record<string, Tensor>) => ({ h: i.x!.pow(0.5), p: i.x!.pow(1.5), r: i.x!.pow(-0.5), inf: i.x!.pow(Infinity), t: i.x!.pow(i.e!), bh: i.b!.pow(0.5) }),
  }));
  const out = interpret(g, { x: Int32Array.of(1, 2, 3, 0), e: Float32Array.of(2, 0.5, -1, 3), b: Uint8Array.of(1, 0) });
  expect(g.outputs.map((o) => o.node.type.dtype)).toEqual(['f32', 'f32', 'f32', 'f32', 'f32', 'f32']);
  // torch 1.13: torch.tensor([1, 2, 3, 0], dtype=torch.int32) ** 0.5, ** 1.5, ** -0.5, ** inf, ** torch.tensor([2., 0.5, -1., 3.]); torch.tensor([True, False]) ** 0.5
  const want: Record<string, number[]> = {
    h: [1, 1.4142135381698608, 1.7320507764816284, 0], p: [1, 2.8284270763397217, 5.196152210235596, 0], r: [1, 0.7071067690849304, 0.5773502588272095, Infinity],
    inf: [1, Infinity, Infinity, 0], t: [1, 1.4142135381698608, 0.3333333432674408, 0], bh: [1, 0],
  };
  for (const [k, w] of Object.entries(want)) expect(Array.from(out[k] as Float32Array), k).toEqual(w);
  // An integer exponent keeps torch's integer pow (tests/int-promotion.test.ts); a negative number is refused as torch raises.
  expect(() => traceModel(defineModel({ name: 'ipow2', module: new nn.Identity(), inputs: { x: { shape: [2], dtype: 'i32' } }, forward: (_m: Module, i: Record<string, Tensor>) => i.x!.pow(-2) })))
    .toThrow('pow: integers to negative integer powers are not allowed (torch raises), got i32[2] to -2; cast first: x.float().pow(-2)');
});
