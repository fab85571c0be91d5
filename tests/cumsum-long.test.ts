// A long f32 cumsum against PyTorch 1.13 (tests/fixtures/torch-extra/cumsum_long, made by
// make_cumsum_long.py): PyTorch accumulates in double, so each output is the exact running sum
// rounded once; the compensated doubling scan gives the same within an ulp or two (the plain f32
// scan was 1.3e-5 off over 4,000 values), compiled and in the reference.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { compare } from '../compiler/conformance/run.ts';
import { compileModel, defineModel, interpret, nn, readSafetensors, traceModel, type Module, type Tensor } from '../compiler/index.ts';
import { loadModelBytes } from '../runtime/model.ts';
import '../runtime/node.ts';
import { TEST_ISAS } from './helpers/isa.ts';

const FIX = join(import.meta.dirname, 'fixtures', 'torch-extra', 'cumsum_long');
const io = readSafetensors(readFileSync(join(FIX, 'io.safetensors')), 'cumsum_long/io.safetensors');

test('a long f32 cumsum is the running sum PyTorch gives, rounded once (compensated scan)', async () => {
  const def = defineModel({
    name: 'cs', module: new nn.Identity(), inputs: { x: [3000], big: [1000] },
    forward: (_m: Module, { x, big }: Record<string, Tensor>) => ({ cumsum: x!.cumsum(0), cumsum_big: big!.cumsum(0) }),
  });
  const feeds = { x: io.get('input.x')!.data as Float32Array, big: io.get('input.big')!.data as Float32Array };
  const m = await loadModelBytes((await compileModel(def, { isas: TEST_ISAS })).bytes);
  for (const [where, out] of [['reference', interpret(traceModel(def), feeds)], ['compiled', m.run(feeds)]] as const) {
    for (const name of ['cumsum', 'cumsum_big']) {
      const want = io.get(`output.${name}`)!.data as Float32Array, got = out[name] as Float32Array;
      // Within two ulps of PyTorch's (relative 2.4e-7), or 1e-6 absolute near a zero crossing.
      const { bad, maxErr } = compare(got, want, 2.4e-7, name === 'cumsum' ? 1e-6 : 1e-3);
      expect(bad, `${where} ${name}: max err ${maxErr}`).toBe(-1);
    }
  }
  m.dispose();
});

// PyTorch's double running sum never overflows on the way, so a prefix past f32's range is ±inf
// and a later one back in range is finite again; inf and NaN in the run stay. Oracle: the exact
// running sum in JS doubles, rounded to f32 (values k·2^120, |k| ≤ 200: every sum is exact, and
// runs of a few of them pass 2^128, f32's limit, where no prefix need; 2^100 beside 3e38, a
// multiple of 2^104, is exact in a double too).
test('cumsum where runs overflow f32 but prefixes do not: PyTorch\'s double running sum', async () => {
  const big = 2 ** 120, n = 61;
  let seed = 7;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const walk = Array.from({ length: n }, () => Math.round(rnd() * 400 - 200) * big);
  const cases: number[][] = [
    [3e38, 3e38, -3e38, -3e38, 2 ** 100, ...Array(n - 5).fill(0)],
    [Infinity, -3e38, -3e38, -3e38, 1, ...Array(n - 5).fill(-3e38)],
    [-Infinity, 3e38, 3e38, Infinity, ...Array(n - 4).fill(1)],
    [3e38, 3e38, NaN, ...Array(n - 3).fill(-3e38)],
    walk,
  ];
  const def = defineModel({
    name: 'cs_overflow', module: new nn.Identity(), inputs: { x: [cases.length, n] },
    forward: (_m: Module, { x }: Record<string, Tensor>) => ({ y: x!.cumsum(1), r: x!.flip(1).cumsum(1).flip(1) }),
  });
  const x = Float32Array.from(cases.flat());
  expect(Array.from(x), 'the cases are f32 values').toEqual(cases.flat().map(Math.fround));
  const running = (row: number[]) => { let s = 0; return row.map((v) => Math.fround((s += v))); };
  const want = { y: cases.flatMap(running), r: cases.flatMap((row) => running([...row].reverse()).reverse()) };
  expect(want.y.some((v, i) => !Number.isFinite(v) && Number.isFinite(want.y[i + 1]!) && (i + 1) % n !== 0), 'some prefix leaves the range and comes back').toBe(true);
  const m = await loadModelBytes((await compileModel(def, { isas: TEST_ISAS })).bytes);
  for (const [where, out] of [['reference', interpret(traceModel(def), { x })], ['compiled', m.run({ x })]] as const) {
    for (const name of ['y', 'r'] as const) expect(Array.from(out[name] as Float32Array), `${where} ${name}`).toEqual(want[name]);
  }
  m.dispose();
});
