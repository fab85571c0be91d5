// torch's float functions of an integer or bool tensor promote it to float32 (torch.sqrt(int64
// tensor) is float32); they were refused ('input must be f32, got i32'). Values printed by torch
// 1.13 for [0, 1, 4, −2] (int64) and [True, False, True, False]; compiled on the test ISAs and in
// the reference, within 2 ulps (the kernels' exp, tanh, erf and sin are not correctly rounded).
import { expect, test } from 'vitest';
import { compileModel, defineModel, interpret, Module, nn, traceModel, type Tensor } from '../compiler/index.ts';
import { loadModelBytes } from '../runtime/model.ts';
import { TEST_ISAS } from './helpers/isa.ts';

const WANT: Record<string, number[]> = {
  sqrt: [0, 1, 2, NaN], rsqrt: [Infinity, 1, 0.5, NaN], exp: [1, 2.7182817459106445, 54.59815216064453, 0.1353352814912796],
  log: [-Infinity, 0, 1.3862943649291992, NaN], log1p: [0, 0.6931471824645996, 1.6094379425048828, NaN],
  expm1: [0, 1.718281865119934, 53.598148345947266, -0.8646647334098816], sigmoid: [0.5, 0.7310585975646973, 0.9820137619972229, 0.11920291930437088],
  tanh: [0, 0.7615941762924194, 0.9993293285369873, -0.9640275835990906], erf: [0, 0.8427007794380188, 1, -0.9953222870826721],
  sin: [0, 0.8414709568023682, -0.756802499294281, -0.9092974066734314], atan: [0, 0.7853981256484985, 1.3258177042007446, -1.1071487665176392],
  reciprocal: [Infinity, 1, 0.25, -0.5], log2: [-Infinity, 0, 2, NaN], boolExp: [2.7182817459106445, 1, 2.7182817459106445, 1],
};
const FNS = ['sqrt', 'rsqrt', 'exp', 'log', 'log1p', 'expm1', 'sigmoid', 'tanh', 'erf', 'sin', 'atan', 'reciprocal', 'log2'] as const;

const near = (got: ArrayLike<number>, want: number[], at: string) => want.forEach((w, k) => {
  const g = got[k]!;
  if (!Number.isFinite(w)) expect(Object.is(g, w), `${at}[${k}]: ${g} vs ${w}`).toBe(true);
  else expect(Math.abs(g - w), `${at}[${k}]: ${g} vs ${w}`).toBeLessThanOrEqual(2 * 2 ** -23 * Math.max(Math.abs(w), 2 ** -126));
});

test('float functions of i32 and bool tensors promote them to f32, as torch does', async () => {
  const def = defineModel({
    name: 'promote', module: new nn.Identity(), inputs: { i: { shape: [4], dtype: 'i32' }, b: { shape: [4], dtype: 'bool' } },
    forward: (_m: Module, x: Record<string, Tensor>) => ({ ...Object.fromEntries(FNS.map((f) => [f, x.i![f]()])), boolExp: x.b!.exp() }),
  });
  const feeds = { i: Int32Array.of(0, 1, 4, -2), b: Uint8Array.of(1, 0, 1, 0) };
  const ref = interpret(traceModel(def), feeds);
  for (const [k, w] of Object.entries(WANT)) { expect((ref[k] as Float32Array).constructor).toBe(Float32Array); near(ref[k] as Float32Array, w, `reference ${k}`); }
  const bytes = (await compileModel(def, { isas: TEST_ISAS })).bytes;
  for (const isa of TEST_ISAS) {
    const out = (await loadModelBytes(bytes, { isa })).run(feeds);
    for (const [k, w] of Object.entries(WANT)) near(out[k] as Float32Array, w, `${isa} ${k}`);
  }
});

test("an i32 or bool base to an integer power stays an integer, as torch's int64 (its low 32 bits); a negative exponent in a tensor gives 1, ±1 or 0 as torch", async () => {
  // torch 1.13: [2, −3, 0, 7] ** 2 = [4, 9, 0, 49], ** 0 = 1, ** 31 = [2147483648, …] (low 32 bits below);
  // [2, −3, 0, 7] ** [1, 2, −1, 0] = [2, 9, 0, 1]; [0, 2, −1, 1, −2, −1] ** [−1, −1, −3, −5, −2, −2] = [0, 0, −1, 1, 0, 1];
  // [True, False, True, True] ** 2 = [1, 0, 1, 1] (int64).
  const low32 = (v: bigint) => Number(BigInt.asIntN(32, v));
  const def = defineModel({
    name: 'ipow', module: new nn.Identity(), inputs: { a: { shape: [4], dtype: 'i32' }, e: { shape: [4], dtype: 'i32' }, c: { shape: [6], dtype: 'i32' }, d: { shape: [6], dtype: 'i32' }, b: { shape: [4], dtype: 'bool' } },
    forward: (_m: Module, x: Record<string, Tensor>) => ({ sq: x.a!.pow(2), zero: x.a!.pow(0), p31: x.a!.pow(31), te: x.a!.pow(x.e!), neg: x.c!.pow(x.d!), bsq: x.b!.pow(2) }),
  });
  const feeds = { a: Int32Array.of(2, -3, 0, 7), e: Int32Array.of(1, 2, -1, 0), c: Int32Array.of(0, 2, -1, 1, -2, -1), d: Int32Array.of(-1, -1, -3, -5, -2, -2), b: Uint8Array.of(1, 0, 1, 1) };
  const want: Record<string, number[]> = {
    sq: [4, 9, 0, 49], zero: [1, 1, 1, 1], p31: [2n ** 31n, (-3n) ** 31n, 0n, 7n ** 31n].map(low32), te: [2, 9, 0, 1], neg: [0, 0, -1, 1, 0, 1], bsq: [1, 0, 1, 1],
  };
  const ref = interpret(traceModel(def), feeds);
  for (const [k, w] of Object.entries(want)) { expect((ref[k] as Int32Array).constructor, k).toBe(Int32Array); expect(Array.from(ref[k] as Int32Array), `reference ${k}`).toEqual(w); }
  const bytes = (await compileModel(def, { isas: TEST_ISAS })).bytes;
  for (const isa of TEST_ISAS) {
    const out = (await loadModelBytes(bytes, { isa })).run(feeds);
    for (const [k, w] of Object.entries(want)) expect(Array.from(out[k] as Int32Array), `${isa} ${k}`).toEqual(w);
  }
});
