// torch.fmod, torch.remainder (Python's %) and torch.outer as ported code calls them, against
// torch 1.13's values (printed by /usr/bin/python3 with torch 1.13: −0, ±inf, NaN, a divisor of
// zero, a quotient of 3e9), compiled on every test ISA and in the reference interpreter.
import { beforeAll, describe, expect, test } from 'vitest';
import { compileModel, defineModel, interpret, Module, nn, traceModel, type Tensor } from '../compiler/index.ts';
import type { Graph } from '../compiler/ir/node.ts';
import { loadModelBytes } from '../runtime/model.ts';
import { TEST_ISAS } from './helpers/isa.ts';

const a = Float32Array.of(1e10, -7.5, 7.5, -0, 5, 3, Infinity, 2, -3, 1, 0);
const b = Float32Array.of(3, 2, -2, 3, 0, Infinity, 2, -Infinity, Infinity, -0, -2);
const ai = Int32Array.of(7, -7, 7, -7, 0), bi = Int32Array.of(3, 3, -3, -3, 5);
const WANT: Record<string, number[]> = {
  rem: [1, 0.5, -0.5, -0, NaN, 3, NaN, -Infinity, Infinity, NaN, 0],
  fmod: [1, -1.5, 1.5, -0, NaN, 3, NaN, 2, -3, NaN, 0],
  remi: [1, 2, -2, -1, 0],
  fmodi: [1, -1, 1, -1, 0],
  rem3: [1, 2, 1, 2, 2], // (7, −7, 7, −7, 2) % 3
  remf: [1.5],
  outer: [3, -6, 0, -6, 12, -0],
};

const def = defineModel({
  name: 'rem', module: new nn.Identity(), inputs: { a: [11], b: [11], ai: { shape: [5], dtype: 'i32' }, bi: { shape: [5], dtype: 'i32' }, u: [2], v: [3] },
  forward: (_m: Module, i: Record<string, Tensor>) => ({
    rem: i.a!.remainder(i.b!), fmod: i.a!.fmod(i.b!), remi: i.ai!.remainder(i.bi!), fmodi: i.ai!.fmod(i.bi!),
    rem3: i.ai!.add(i.ai!.eq(0).int().mul(2)).remainder(3), remf: i.u!.slice(0, 0, 1).add(4.5).remainder(2), outer: i.u!.outer(i.v!),
  }),
});
const feeds = { a, b, ai, bi, u: Float32Array.of(1, -2), v: Float32Array.of(3, -6, 0) };

let graph: Graph, bytes: Uint8Array;
beforeAll(async () => {
  graph = traceModel(def);
  bytes = (await compileModel(def, { isas: TEST_ISAS })).bytes;
}, 60_000);

const same = (got: ArrayLike<number>, want: number[], at: string) => {
  expect(got.length, at).toBe(want.length);
  want.forEach((w, k) => expect(Object.is(got[k], w), `${at}[${k}]: ${got[k]} vs ${w}`).toBe(true));
};

describe('fmod, remainder and outer', () => {
  test('torch 1.13\'s values, −0, the infinities and NaN included, compiled and in the reference', async () => {
    const ref = interpret(graph, feeds);
    for (const [k, w] of Object.entries(WANT)) same(ref[k] as ArrayLike<number>, w, `reference ${k}`);
    for (const isa of TEST_ISAS) {
      const out = (await loadModelBytes(bytes, { isa })).run(feeds);
      for (const [k, w] of Object.entries(WANT)) same(out[k] as ArrayLike<number>, w, `${isa} ${k}`);
    }
  });

  test('an integer divisor of zero raises, as torch\'s; outer takes two 1-D tensors', () => {
    const m = loadModelBytes(bytes);
    return m.then((mm) => {
      expect(() => mm.run({ ...feeds, bi: Int32Array.of(3, 3, 0, -3, 5) })).toThrow(/integer remainder of 7 by zero/);
      expect(Array.from(mm.run(feeds).remi as Int32Array)).toEqual(WANT.remi);
      const tr = (f: (x: Tensor) => Tensor) => () => traceModel(defineModel({ name: 't', module: new nn.Identity(), inputs: { x: [2, 2] }, forward: (_m: Module, i: Record<string, Tensor>) => ({ y: f(i.x!) }) }));
      expect(tr((x) => x.outer(x))).toThrow('outer: two 1-D tensors, got f32[2, 2] and f32[2, 2]');
      expect(tr((x) => x.flatten().outer(3 as never))).toThrow('outer: two 1-D tensors, got f32[4] and 3');
    });
  });
});
