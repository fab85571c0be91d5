// topk_f32 / topk_i32 (assembly/topk.ts: a heap of the k best, heap-sorted)
// against the kernel as it was (insertion for every k, tests/kernels/topk-insertion.ts) bit for bit
// (values as raw bits: −0 and each NaN's payload; indices), and against a stable sort by the
// reference's rank (ir/ops/reduce.ts ranksBefore, what interpret does). Inputs with heavy ties
// (a handful of values: ±0, NaNs of three payloads, ±inf), uniform ones, ascending and descending
// runs (each element enters the top k), k = 1 to n, inner > 1, n up to 50 000, both `largest`,
// with and without indices (then the heap keeps them in scratch).
import { describe, it, expect, beforeAll } from 'vitest';
import { ranksBefore } from '../../compiler/ir/ops/reduce.ts';
import { ISAS, kernels, randomF32, type Kernels } from './harness.ts';

const NAN_BITS = [0x7fc00000, 0x7fc00001, 0xffc00000];
const f32OfBits = (b: number) => new Float32Array(Uint32Array.of(b).buffer)[0]!;
const TIES = [-1, -0, 0, 1, 2, Infinity, -Infinity, ...NAN_BITS.map(f32OfBits)];

type Kind = 'ties' | 'uniform' | 'up' | 'down';
/** n·count values as raw 32-bit words: f32 bits, or i32 values (ties among a few, or spread). */
function draw(kind: Kind, dtype: 'f32' | 'i32', count: number, seed: number): Uint32Array {
  const u = randomF32(count, seed, 0, 1), out = new Uint32Array(count), f = new Float32Array(out.buffer), i = new Int32Array(out.buffer);
  for (let j = 0; j < count; j++) {
    const r = u[j]!;
    if (dtype === 'i32') i[j] = kind === 'ties' ? Math.floor(r * 5) - 2 : kind === 'uniform' ? Math.floor((r - 0.5) * 2 ** 32) : kind === 'up' ? j : -j;
    else f[j] = kind === 'ties' ? TIES[Math.floor(r * TIES.length)]! : kind === 'uniform' ? r * 2 - 1 : kind === 'up' ? j : -j;
  }
  return out;
}

/** The reference: a stable sort of each column by ranksBefore, its first k (ir/ops/reduce.ts topk). */
function oracle(x: Uint32Array, dtype: 'f32' | 'i32', outer: number, n: number, inner: number, k: number, largest: boolean) {
  const num = dtype === 'f32' ? new Float32Array(x.buffer, x.byteOffset, x.length) : new Int32Array(x.buffer, x.byteOffset, x.length);
  const values = new Uint32Array(outer * k * inner), indices = new Int32Array(outer * k * inner);
  for (let o = 0; o < outer; o++) for (let i = 0; i < inner; i++) {
    const at = (j: number) => (o * n + j) * inner + i;
    const order = [...Array(n).keys()].sort((p, q) => {
      const a = num[at(p)]!, b = num[at(q)]!;
      return ranksBefore(a, b, largest) ? -1 : ranksBefore(b, a, largest) ? 1 : 0;
    });
    for (let r = 0; r < k; r++) { values[(o * k + r) * inner + i] = x[at(order[r]!)]!; indices[(o * k + r) * inner + i] = order[r]!; }
  }
  return { values, indices };
}

// [outer, n, inner, k]: the old kernel is O(n·k) on an ascending input, so k = n stays ≤ 1000 here.
const SHAPES: [number, number, number, number][] = [
  [2, 1, 1, 1], [3, 7, 1, 7], [2, 9, 3, 4], [1, 33, 2, 1], [2, 40, 1, 3], [2, 40, 1, 5], [1, 64, 5, 64], [3, 100, 1, 17],
  [1, 1000, 1, 1000], [2, 513, 3, 256], [1, 50000, 1, 1], [1, 50000, 1, 10], [1, 50000, 1, 700], [1, 20000, 2, 50],
];
const KINDS: Kind[] = ['ties', 'uniform', 'up', 'down'];

describe.each(ISAS)('topk %s', (isa) => {
  let K: Kernels;
  beforeAll(async () => { K = await kernels(isa); });
  it.each(['f32', 'i32'] as const)('%s: the heap gives the old kernel\'s values and indices bit for bit, and the reference\'s', (dtype) => {
    const bits = (p: number, count: number) => new Uint32Array(K.getI32(p, count).buffer);
    let seed = 1, checked = 0;
    for (const [outer, n, inner, k] of SHAPES) for (const kind of KINDS) for (const largest of [1, 0]) {
      K.reset();
      const count = outer * n * inner, x = draw(kind, dtype, count, seed++);
      const px = K.alloc(count);
      K.i32.set(new Int32Array(x.buffer), px >> 2);
      const out = outer * k * inner, [pv, pi, ov, oi, pv0, scratch] = [K.alloc(out), K.alloc(out), K.alloc(out), K.alloc(out), K.alloc(out), K.alloc(k)];
      K.fn(`topk_${dtype}`)(px, pv, pi, 0, outer, n, inner, k, largest);
      K.fn(`topk_${dtype}`)(px, pv0, 0, scratch, outer, n, inner, k, largest);
      K.fn(`topk_insertion_${dtype}`)(px, ov, oi, outer, n, inner, k, largest);
      const what = `${dtype} ${kind} [${outer}, ${n}, ${inner}] k=${k} largest=${largest}`;
      expect(bits(pv, out), `${what}: values`).toEqual(bits(ov, out));
      expect(K.getI32(pi, out), `${what}: indices`).toEqual(K.getI32(oi, out));
      expect(bits(pv0, out), `${what}: values without indices`).toEqual(bits(ov, out));
      if (n <= 1000) {   // larger n: against the old kernel above, and the reference in the next test
        const want = oracle(x, dtype, outer, n, inner, k, largest === 1);
        expect(bits(pv, out), `${what}: values against the reference`).toEqual(want.values);
        expect(K.getI32(pi, out), `${what}: indices against the reference`).toEqual(want.indices);
      }
      checked++;
    }
    expect(checked).toBeGreaterThan(90);
  });
  it('k = n = 50 000 (a full sort; too slow for the old kernel) against the reference', () => {
    const n = 50000;
    for (const [kind, largest, dtype] of [['ties', 1, 'f32'], ['up', 0, 'i32']] as const) {
      K.reset();
      const x = draw(kind, dtype, n, 77), px = K.alloc(n), pv = K.alloc(n), pi = K.alloc(n);
      K.i32.set(new Int32Array(x.buffer), px >> 2);
      K.fn(`topk_${dtype}`)(px, pv, pi, 0, 1, n, 1, n, largest);
      const want = oracle(x, dtype, 1, n, 1, n, largest === 1);
      expect(new Uint32Array(K.getI32(pv, n).buffer), `${kind} values`).toEqual(want.values);
      expect(K.getI32(pi, n), `${kind} indices`).toEqual(want.indices);
    }
  });
});
