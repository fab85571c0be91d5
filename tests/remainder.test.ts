// torch.fmod, torch.remainder (Python's %), torch.outer and torch.div's rounding_mode as ported code calls them, against
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
  // torch.div(a, b, rounding_mode=…): 'trunc', 'floor', None; of the i32 pair (integers stay integers); an i32 by 2.5 and by 2
  trunc: [3333333248, -3, -3, -0, Infinity, 0, Infinity, -0, -0, -Infinity, -0],
  floor: [3333333248, -4, -4, -0, Infinity, 0, NaN, -1, -1, -Infinity, -0],
  none: [3333333248, -3.75, -3.75, -0, Infinity, 0, Infinity, -0, -0, -Infinity, -0],
  trunci: [2, -2, -2, 2, 0],
  floori: [2, -3, -3, 2, 0],
  floorf: [2, -3, 2, -3, 0],
  trunc2: [3, -3, 3, -3, 0],
};

const def = defineModel({
  name: 'rem', module: new nn.Identity(), inputs: { a: [11], b: [11], ai: { shape: [5], dtype: 'i32' }, bi: { shape: [5], dtype: 'i32' }, u: [2], v: [3] },
  forward: (_m: Module, i: Record<string, Tensor>) => ({
    rem: i.a!.remainder(i.b!), fmod: i.a!.fmod(i.b!), remi: i.ai!.remainder(i.bi!), fmodi: i.ai!.fmod(i.bi!),
    rem3: i.ai!.add(i.ai!.eq(0).int().mul(2)).remainder(3), remf: i.u!.slice(0, 0, 1).add(4.5).remainder(2), outer: i.u!.outer(i.v!),
    trunc: i.a!.div(i.b!, { roundingMode: 'trunc' }), floor: i.a!.div(i.b!, { roundingMode: 'floor' }), none: i.a!.div(i.b!, { roundingMode: null }),
    trunci: i.ai!.div(i.bi!, { roundingMode: 'trunc' }), floori: i.ai!.div(i.bi!, { roundingMode: 'floor' }),
    floorf: i.ai!.div(2.5, { roundingMode: 'floor' }), trunc2: i.ai!.div(2, { roundingMode: 'trunc' }),
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

describe('fmod, remainder, outer and div\'s rounding_mode', () => {
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
      // torch.div's rounding_mode: integers stay integers (a zero divisor raises), and torch's own refusals
      expect(graph.outputs.filter((o) => ['trunci', 'floori', 'trunc2'].includes(o.name)).map((o) => o.node.type.dtype)).toEqual(['i32', 'i32', 'i32']);
      expect(() => interpret(tr((x) => x.int().div(x.int().sub(1), { roundingMode: 'trunc' }))(), { x: Float32Array.of(3, 1, 2, 0) })).toThrow('div: integer division of 1 by zero');
      expect(tr((x) => x.int().div(0, { roundingMode: 'trunc' }))).toThrow('div: integer division by zero (torch raises ZeroDivisionError), dividing i32[2, 2] with rounding_mode \'trunc\'');
      expect(tr((x) => x.div(2, { roundingMode: 'round' as never }))).toThrow("div expected rounding_mode to be one of None, 'trunc', or 'floor' but found \"round\"");
      expect(tr((x) => x.div(2, { rounding_mode: 'floor' } as never))).toThrow(/div: unknown option 'rounding_mode'/);
      expect(tr((x) => x.div(2, 'floor' as never))).toThrow('div: the second argument is the options { roundingMode: \'trunc\' | \'floor\' | null }, got "floor"');
    });
  });
});
