// PyTorch's semantics at the edges, each value worked out by hand from torch 1.13's definitions
// (found by a differential check of hand-written DSL models against torch): the compiled model,
// on every tested ISA, and the reference interpreter must both give them.
import { beforeAll, describe, expect, test } from 'vitest';
import { compileGraph } from '../compiler/driver/compile.ts';
import { F, nn, trace, zeros, type Tensor } from '../compiler/dsl/index.ts';
import { interpret } from '../compiler/reference/interpret.ts';
import { loadModelBytes } from '../runtime/model.ts';
import { TEST_ISAS } from './helpers/isa.ts';

const X = [0, -0, 0.5, -0.5, NaN, Infinity, -Infinity, 3e9, -2.7, 4];
const I32_MAX = 2147483647, I32_MIN = -2147483648;
const m = (...ds: number[]) => ({ shape: ds, dtype: 'bool' as const });

const graph = () => trace(({ x, a, q, k, v, mask, mask1, maskf, d1, d2, l, pb, pe, ia, ib, big, i, c }) => {
  const one = zeros([X.length]).add(1);
  const sdpa = (attnMask: Tensor) => F.scaledDotProductAttention(q!, k!, v!, { attnMask }).reshape(1);
  return {
    // x.bool() is x != 0, NaN included; .int() truncates (NaN and out of range: saturated here, undefined in torch).
    bool: x!.cast('bool').cast('f32'), int: x!.cast('i32'),
    // int32 products wrap modulo 2^32, (2^31 − 1)² included (exact only with a 64-bit product).
    imul: ia!.mul(ib!),
    // torch.pow(x, 0.5) and (x, -0.5) are sqrt and rsqrt: pow(−inf, 0.5) is NaN, not +inf.
    sqrt: x!.pow(0.5), rsqrt: x!.pow(-0.5),
    // C's pow: 1^y = 1 for every y (NaN too), (−1)^±inf = 1 (vector lanes and the scalar tail).
    powOne: pb!.pow(pe!),
    // The sign of zero: tanh(+0) is +0, and a −0 literal stays −0.
    invTanh: one.div(x!.tanh()), plusNegZero: x!.add(-0), minNegZero: x!.minimum(-0),
    // sum/mean/amax over dim=[]: every dim.
    sum: a!.sum([]), mean: a!.mean([]), max: a!.max([]),
    // The mean of [1e38] × 4: torch sums in f32 (4e38 overflows) before dividing, so inf.
    meanOverflow: big!.mean(),
    // 1-D @ 1-D: a dot product; a slice start before the beginning is clamped (x[-100:], x[:, -100:2]).
    dot: d1!.matmul(d2!), sliced: a!.slice(0, -100).slice(1, -100, 2),
    // SDPA's boolean mask: true = may attend; [L, S], [H, L, S] and [L, 1] (over every key) broadcast.
    sdpaBool: sdpa(mask!), sdpaBool3: sdpa(mask!.reshape(1, 1, 2)), sdpaAll: sdpa(mask1!), sdpaFloat: sdpa(maskf!),
    // LayerNorm whose variance overflows f32: 1/sqrt(inf) = 0 scales every deviation to 0 (torch 1.13: zeros too).
    lnOverflow: new nn.LayerNorm(4).forward(l!),
    // An int tensor with an integer number stays int (torch: int32 + 1 is int32, wrapping); where(c, int, 0) too.
    iAdd: i!.add(1).cast('f32'), iMul: i!.mul(-3).cast('f32'), iMax: i!.maximum(0).cast('f32'), iWhere: F.whereOp(c!, i!, 7).cast('f32'),
    // torch's promotion: / on ints is true division, a float operand computes in f32.
    iDiv: i!.div(2), iAddHalf: i!.add(0.5),
  };
}, { x: [X.length], a: [3, 4], q: [1, 1, 1, 1], k: [1, 1, 2, 1], v: [1, 1, 2, 1], mask: m(1, 2), mask1: m(1, 1), maskf: [1, 2], d1: [3], d2: [3], l: [4], pb: [9], pe: [9], ia: { shape: [4], dtype: 'i32' }, ib: { shape: [4], dtype: 'i32' }, big: [4], i: { shape: [3], dtype: 'i32' }, c: m(3) });

const feeds = {
  x: Float32Array.from(X), a: Float32Array.from({ length: 12 }, (_, i) => i), q: Float32Array.of(1), k: Float32Array.of(0, 0), v: Float32Array.of(10, 20),
  mask: Uint8Array.of(1, 0), mask1: Uint8Array.of(1), maskf: Float32Array.of(0, -Infinity), d1: Float32Array.of(1, 2, 3), d2: Float32Array.of(4, 5, 6),
  l: Float32Array.of(3e19, 3e19, -3e19, 1), i: Int32Array.of(5, -7, I32_MAX), c: Uint8Array.of(1, 0, 1),
  pb: Float32Array.of(1, 1, -1, -1, 1, 1, -1, -1, 1), pe: Float32Array.of(NaN, Infinity, Infinity, -Infinity, NaN, -Infinity, Infinity, -Infinity, NaN),
  ia: Int32Array.of(I32_MAX, 65536, -7, 46341), ib: Int32Array.of(I32_MAX, 65536, 3, 46341),
  big: Float32Array.of(1e38, 1e38, 1e38, 1e38),
};

const want: Record<string, number[]> = {
  bool: [0, 0, 1, 1, 1, 1, 1, 1, 1, 1],
  int: [0, 0, 0, 0, 0, I32_MAX, I32_MIN, I32_MAX, -2, 4],
  imul: [1, 0, -21, -2147479015],
  sqrt: [0, -0, Math.SQRT1_2, NaN, NaN, Infinity, NaN, Math.sqrt(3e9), NaN, 2],
  rsqrt: [Infinity, -Infinity, Math.SQRT2, NaN, NaN, 0, NaN, 1 / Math.sqrt(3e9), NaN, 0.5],
  powOne: [1, 1, 1, 1, 1, 1, 1, 1, 1],
  invTanh: [Infinity, -Infinity, 1 / Math.tanh(0.5), -1 / Math.tanh(0.5), NaN, 1, -1, 1, 1 / Math.tanh(-2.7), 1 / Math.tanh(4)],
  plusNegZero: [0, -0, 0.5, -0.5, NaN, Infinity, -Infinity, 3e9, -2.7, 4],
  minNegZero: [-0, -0, -0, -0.5, NaN, -0, -Infinity, -0, -2.7, -0],
  sum: [66], mean: [5.5], max: [11], dot: [32], meanOverflow: [Infinity],
  sliced: [0, 1, 4, 5, 8, 9],
  sdpaBool: [10], sdpaBool3: [10], sdpaAll: [15], sdpaFloat: [10],
  lnOverflow: [0, 0, 0, 0],
  iAdd: [6, -6, I32_MIN], iMul: [-15, 21, -2147483645], iMax: [5, 0, I32_MAX], iWhere: [5, 7, I32_MAX],
  iDiv: [2.5, -3.5, 1073741824], iAddHalf: [5.5, -6.5, 2147483648],
};

/** Exactly for zeros (their sign), infinities and NaN; within f32 rounding otherwise. */
function expectClose(got: ArrayLike<number>, w: number[], what: string) {
  expect(got.length, what).toBe(w.length);
  w.forEach((x, i) => {
    const y = got[i]!, f = Math.fround(x);
    const ok = Number.isNaN(f) ? Number.isNaN(y) : f === 0 || !Number.isFinite(f) ? Object.is(y, f) : Math.abs(y - f) <= 2e-7 * Math.abs(f);
    expect(ok, `${what}[${i}] = ${Object.is(y, -0) ? '-0' : y}, want ${Object.is(f, -0) ? '-0' : f}`).toBe(true);
  });
}

describe('torch semantics at the edges', () => {
  let compiled: Awaited<ReturnType<typeof compileGraph>>;
  beforeAll(async () => { compiled = await compileGraph(graph(), { isas: TEST_ISAS }); });

  test('the reference interpreter gives torch\'s values', () => {
    const got = interpret(graph(), feeds);
    // minimum(+0, −0) is either zero in torch: not asserted there.
    for (const [k, w] of Object.entries(want)) expectClose(k === 'minNegZero' ? got[k]!.slice(1) : got[k]!, k === 'minNegZero' ? w.slice(1) : w, `reference ${k}`);
  });

  test('the compiled model gives them on every ISA', async () => {
    for (const isa of TEST_ISAS) {
      const out = (await loadModelBytes(compiled.bytes, { isa })).run(feeds);
      for (const [k, w] of Object.entries(want)) expectClose(k === 'minNegZero' ? out[k]!.slice(1) : out[k]!, k === 'minNegZero' ? w.slice(1) : w, `${isa} ${k}`);
    }
  });

  test('what torch would refuse or the DSL cannot do is an error, not a silent guess', () => {
    const t = (f: (x: Record<string, Tensor>) => Tensor, inputs: Record<string, number[]> = { x: [2, 3] }) => () => trace((i) => ({ y: f(i) }), inputs);
    expect(t(({ x }) => x!.cast('f64' as never))).toThrow(`cast: dtype must be 'f32', 'i32' or 'bool', got "f64"`);
    expect(t(({ x }) => x!.argmax([0, 1] as never))).toThrow('argmax: dim must be one integer, got an array of 2');
    expect(t(({ x }) => F.scaledDotProductAttention(x!, x!, x!, { scale: 'x' as never }), { x: [1, 1, 2, 2] })).toThrow('scaled_dot_product_attention: scale must be a number, got "x"');
    expect(t(({ x }) => F.scaledDotProductAttention(x!, x!, x!, { attnMask: x!.reshape(2, 2).cast('i32') }), { x: [1, 1, 2, 2] })).toThrow('scaled_dot_product_attention: attnMask must be a bool mask (true = may attend) or a float mask (added), got i32[2, 2]');
    expect(t(({ x }) => F.scaledDotProductAttention(x!, x!, x!, { attnMask: zeros([3, 2]) }), { x: [1, 1, 2, 2] })).toThrow('scaled_dot_product_attention: attnMask [1, 1, 3, 2] does not broadcast to [1, 1, 2, 2]');
    // A flag given as a string counted as true.
    expect(() => new nn.LSTM(2, 3, { bidirectional: 'false' as never })).toThrow('LSTM: option bidirectional must be true or false, got "false"');
    expect(() => new nn.TransformerEncoderLayer(4, 2, { normFirst: 'false' as never })).toThrow('TransformerEncoderLayer: option normFirst must be true or false, got "false"');
    expect(() => new nn.LayerNorm(4, 1e-5, { elementwiseAffine: 0 as never })).toThrow('LayerNorm: option elementwiseAffine must be true or false, got 0');
  });
});
