// The IR's i32 bitwise ops (bitand, bitor, bitxor, shl, shr; ir/elementwise.ts BITWISE), which
// torch.bitwise_* lower to: hand-computed values at the extremes and shift counts past 31 (and
// negative: unsigned, all bits out), compiled on every test ISA, in the reference, broadcast.
import { beforeAll, expect, test } from 'vitest';
import { compileModel, defineModel, interpret, Module, nn, traceModel, type Tensor } from '../compiler/index.ts';
import { record } from '../compiler/dsl/tensor.ts';
import type { Graph } from '../compiler/ir/node.ts';
import { loadModelBytes } from '../runtime/model.ts';
import { TEST_ISAS } from './helpers/isa.ts';

const MIN = -2147483648, MAX = 2147483647;
const a = Int32Array.of(12, -1, MIN, MAX, 0x0f0f0f0f, -6, 5, 1, -8, 1);
const b = Int32Array.of(10, 0x12345678, -1, MIN, 0x00ff00ff, 3, 31, 32, 40, -1);
const WANT: Record<string, number[]> = {
  and: [8, 0x12345678, MIN, 0, 0x000f000f, 2, 5, 0, 40, 1], // −8 & 40: bits 3 and 5
  or: [14, -1, -1, -1, 0x0fff0fff, -5, 31, 33, -8, -1],
  xor: [6, ~0x12345678, MAX, -1, 0x0ff00ff0, -7, 26, 33, -48, -2],
  // counts 10, 3 and 31 shift; 0x12345678, −1, MIN, 32 and 40 are 32 or more (unsigned): all bits out
  shl: [12 << 10, 0, 0, 0, 0, -48, MIN, 0, 0, 0],
  shr: [0, -1, -1, 0, 0, -1, 0, 0, -1, 0],
  and7: [4, 7, 0, 7, 7, 2, 5, 1, 0, 1], // broadcast against a scalar
};

const def = defineModel({
  name: 'bits', module: new nn.Identity(), inputs: { a: { shape: [10], dtype: 'i32' }, b: { shape: [10], dtype: 'i32' } },
  forward: (_m: Module, i: Record<string, Tensor>) => ({
    and: record('bitand', [i.a!, i.b!]), or: record('bitor', [i.a!, i.b!]), xor: record('bitxor', [i.a!, i.b!]),
    shl: record('shl', [i.a!, i.b!]), shr: record('shr', [i.a!, i.b!]), and7: record('bitand', [i.a!, i.a!.mul(0).add(7).slice(0, 0, 1)]),
  }),
});
const feeds = { a, b };
let graph: Graph, bytes: Uint8Array;
beforeAll(async () => {
  graph = traceModel(def);
  bytes = (await compileModel(def, { isas: TEST_ISAS })).bytes;
}, 60_000);

test('bitand, bitor, bitxor, shl and shr of i32: hand-computed values, compiled and in the reference', async () => {
  const ref = interpret(graph, feeds);
  for (const [k, w] of Object.entries(WANT)) expect(Array.from(ref[k] as Int32Array), `reference ${k}`).toEqual(w);
  for (const isa of TEST_ISAS) {
    const out = (await loadModelBytes(bytes, { isa })).run(feeds);
    for (const [k, w] of Object.entries(WANT)) expect(Array.from(out[k] as Int32Array), `${isa} ${k}`).toEqual(w);
  }
});

test('bitwise ops take two i32 operands', () => {
  const tr = (f: (x: Tensor) => Tensor) => () => traceModel(defineModel({ name: 't', module: new nn.Identity(), inputs: { x: [2] }, forward: (_m: Module, i: Record<string, Tensor>) => ({ y: f(i.x!) }) }));
  expect(tr((x) => record('bitand', [x, x]))).toThrow(/bitand: first operand must be i32/);
  expect(tr((x) => record('shl', [x.cast('i32'), x]))).toThrow(/shl: second operand must be i32/);
});
